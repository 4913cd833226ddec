//! A link as a queue: clients in one data center call an instant service in
//! another over a link with a bandwidth, so the link's direction toward the
//! service is the only server. Requests of one size make it M/D/1, of
//! exponential sizes M/M/1; the answers carry no size. The figure is the
//! mean response time less the two fixed propagation latencies.

use super::formulas::md1_mean;
use super::{Model, Summary, run_secs};
use crate::metrics::Collector;

/// Propagation latency of the link, each way (ms).
const LATENCY_MS: f64 = 5.0;

/// 100 Mbit/s carries 12,500 bytes in 1 ms: μ = 1000/s.
fn link_model(secs: f64, lambda: f64, size: &str) -> String {
    format!(
        "name: link\nseed: 7\nduration: {secs:.0}s\nwarmup: 20s\ndatacenters: [a, b]\nnetwork:\n  links:\n    - {{between: [a, b], latency: {LATENCY_MS}ms, bandwidth: 100Mbit/s}}\nservices:\n  s:\n    replicas: {{b: 1}}\n    concurrency: 100000\n    endpoints:\n      x:\n        steps: [{{work: 0s}}]\nworkload:\n  - {{name: w, target: s.x, rate: {lambda}/s, from: a, size: {size}}}\n"
    )
}

/// Mean response less the two propagation latencies: time at the link.
fn at_link_ms(s: &Summary, _: &Collector) -> f64 {
    s.workload["w"].latency_ms.mean - 2.0 * LATENCY_MS
}

pub(super) fn models(scale: f64) -> Vec<Model> {
    let (mu, lambda) = (1000.0, 800.0);
    vec![
        Model {
            name: "link M/D/1 ρ=0.8",
            what: "mean ms at link (P-K)",
            yaml: link_model(run_secs(2.0e6, scale, lambda), lambda, "12500B"),
            theory: 1e3 * md1_mean(lambda, mu),
            measure: at_link_ms,
            tolerance: 0.02,
        },
        Model {
            name: "link M/M/1 ρ=0.8",
            what: "mean ms at link",
            yaml: link_model(
                run_secs(3.0e6, scale, lambda),
                lambda,
                "{exponential: {mean: 12500B}}",
            ),
            theory: 1e3 / (mu - lambda),
            measure: at_link_ms,
            tolerance: 0.02,
        },
    ]
}
