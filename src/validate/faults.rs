//! Random faults: a service that fails (or slows past its callers' timeout)
//! at random is available for the long-run share of time it is healthy,
//! E\[mtbf\] / (E\[mtbf\] + E\[mttr\]), whatever the distributions (an alternating
//! renewal process; Poisson arrivals see time averages).

use super::{Model, run_secs};
use crate::metrics::{Collector, Summary};

/// A service of 1 ms work behind a client with a 100 ms timeout, with one
/// random failure (`fault`, a YAML flow map without its braces).
fn flaky(secs: f64, fault: &str) -> String {
    format!(
        "name: faults\nseed: 11\nduration: {secs:.0}s\nservices:\n  s:\n    concurrency: 200\n    endpoints:\n      x:\n        steps: [{{work: 1ms}}]\nworkload:\n  - {{name: w, target: s.x, rate: 20/s, timeout: 100ms}}\nfailures:\n  - {{{fault}}}\n"
    )
}

/// Requests that succeeded, of those sent.
fn availability(s: &Summary, _: &Collector) -> f64 {
    let w = &s.workload["w"];
    w.ok as f64 / w.sent as f64
}

/// The share of the measured time (after the warmup) outside the recorded
/// windows of the failures labelled `label` (of every failure with `None`;
/// windows of different failures that overlap count twice).
pub fn healthy_share(s: &Summary, label: Option<&str>) -> f64 {
    let (start, end) = (s.warmup_s, s.warmup_s + s.duration_s);
    let down: f64 = s
        .failures
        .iter()
        .filter(|f| label.is_none_or(|l| f.failure == l))
        .map(|f| (f.end_s.unwrap_or(end).min(end) - f.start_s.max(start)).max(0.0))
        .sum();
    1.0 - down / s.duration_s
}

fn healthy(s: &Summary, _: &Collector) -> f64 {
    healthy_share(s, None)
}

pub(super) fn models(scale: f64) -> Vec<Model> {
    // 20 requests/s: a million requests over 50,000 s, about 4,500 cycles of 11 s.
    let secs = run_secs(1.0e6, scale, 20.0);
    let exp = "mtbf: 10s, mttr: 1s";
    // E[mttr] of a lognormal with median 1 s and p99 5 s: e^{σ²/2}, σ = ln 5 / z99.
    let sigma = 5f64.ln() / crate::engine::dist::Z99;
    let mttr = (sigma * sigma / 2.0).exp();
    let general = "mtbf: {gamma: {shape: 2, mean: 10s}}, mttr: {lognormal: {median: 1s, p99: 5s}}";
    let model = |name, what, fault: String, theory, measure| Model {
        name,
        what,
        yaml: flaky(secs, &fault),
        theory,
        measure,
        tolerance: 0.01,
    };
    vec![
        model(
            "random errors Exp/Exp",
            "availability",
            format!("errors: s, rate: 100%, {exp}"),
            10.0 / 11.0,
            availability,
        ),
        model(
            "random errors Exp/Exp",
            "healthy share of time",
            format!("errors: s, rate: 100%, {exp}"),
            10.0 / 11.0,
            healthy,
        ),
        model(
            "random errors Γ/lognormal",
            "availability",
            format!("errors: s, rate: 100%, {general}"),
            10.0 / (10.0 + mttr),
            availability,
        ),
        model(
            "random slowdown Exp/Exp",
            "availability (timeouts)",
            format!("slow: s, factor: 1000, {exp}"),
            10.0 / 11.0,
            availability,
        ),
    ]
}
