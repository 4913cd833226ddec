//! Probabilistic routing (`branch`, a call's `probability`): Jackson networks
//! whose routing is a draw, with the traffic equations' answers.

use super::{Model, mean_ms, run_secs};
use crate::metrics::{Collector, Summary};

/// Exponential work of mean 1 ms on an async service with an unbounded queue.
fn server(name: &str, steps: &str) -> String {
    format!(
        "  {name}:\n    threading: async\n    queue: 10000000\n    endpoints:\n      x:\n        steps:\n          - work: {{exponential: {{mean: 1ms}}}}\n{steps}"
    )
}

fn scenario(name: &str, secs: f64, lambda: f64, services: &str) -> String {
    format!(
        "name: {name}\nseed: 7\nduration: {secs:.0}s\nwarmup: 20s\nservices:\n{services}workload:\n  - {{name: w, target: a.x, rate: {lambda}/s}}\n"
    )
}

/// The share of a's calls that went to b (the 30% entry of the branch).
fn share_to_b(s: &Summary, _: &Collector) -> f64 {
    let (b, c) = (&s.calls["a->b.x"], &s.calls["a->c.x"]);
    b.attempts as f64 / (b.attempts + c.attempts) as f64
}

/// a → (30% b, 70% c), and a feedback loop a → a with probability p.
pub(super) fn models(scale: f64) -> Vec<Model> {
    let mu = 1000.0;
    let mut v = Vec::new();
    let routing = |lambda: f64| {
        let a = server(
            "a",
            "          - branch:\n              - {probability: 30%, steps: [{call: b.x}]}\n              - {probability: 70%, steps: [{call: c.x}]}\n",
        );
        let services = a + &server("b", "") + &server("c", "");
        scenario("routing", run_secs(2.0e6, scale, lambda), lambda, &services)
    };
    for (name, lambda) in [
        ("Jackson routing 30/70 ρ=0.5", 500.0),
        ("Jackson routing 30/70 ρ=0.8", 800.0),
    ] {
        let theory =
            1e3 / (mu - lambda) + 0.3 * 1e3 / (mu - 0.3 * lambda) + 0.7 * 1e3 / (mu - 0.7 * lambda);
        v.push(Model {
            name,
            what: "mean ms",
            yaml: routing(lambda),
            theory,
            measure: mean_ms,
            tolerance: 0.02,
        });
    }
    v.push(Model {
        name: "Jackson routing 30/70 share",
        what: "share of calls to b",
        yaml: routing(500.0),
        theory: 0.3,
        measure: share_to_b,
        tolerance: 0.01,
    });
    for (name, p, lambda) in [
        ("Jackson feedback p=0.3", 0.3, 500.0),
        ("Jackson feedback p=0.5", 0.5, 400.0),
    ] {
        let steps = format!("          - {{call: a.x, probability: {p}}}\n");
        let secs = run_secs(1.5e6, scale, lambda);
        let yaml = scenario("feedback", secs, lambda, &server("a", &steps));
        // Visits are geometric: λ_eff = λ/(1 − p), each an M/M/1 sojourn.
        let effective = lambda / (1.0 - p);
        v.push(Model {
            name,
            what: "mean ms",
            yaml,
            theory: 1e3 / (1.0 - p) / (mu - effective),
            measure: mean_ms,
            tolerance: 0.02,
        });
    }
    v
}
