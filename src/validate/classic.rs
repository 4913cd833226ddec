//! The classic single-queue models: M/M/1, M/M/c, M/D/1, M/M/c/K, a Jackson
//! tandem, and the tail of a fan-out.

use super::formulas::{md1_mean, mmc_mean, mmck_blocking};
use super::{EXP_1MS, Model, mean_ms, p99_ms, rejected_share, run_secs, single, slow_share};

pub(super) fn models(scale: f64) -> Vec<Model> {
    // Service rate 1000/s (mean 1 ms); lengths give a few million requests.
    let mu = 1000.0;
    let len = |customers: f64, lambda: f64| run_secs(customers, scale, lambda);
    let mut v = Vec::new();
    for (name, rho, n) in [
        ("M/M/1 ρ=0.5", 0.5, 1.0e6),
        ("M/M/1 ρ=0.8", 0.8, 3.0e6),
        ("M/M/1 ρ=0.9", 0.9, 8.0e6),
    ] {
        let lambda = rho * mu;
        let yaml = single("mm1", len(n, lambda), lambda, 1, 1_000_000, EXP_1MS);
        v.push(Model {
            name,
            what: "mean ms",
            yaml: yaml.clone(),
            theory: 1e3 / (mu - lambda),
            measure: mean_ms,
            tolerance: 0.02,
        });
        v.push(Model {
            name,
            what: "p99 ms",
            yaml,
            theory: 1e3 * 100f64.ln() / (mu - lambda),
            measure: p99_ms,
            tolerance: 0.05,
        });
    }
    for (name, rho, n) in [("M/M/4 ρ=0.5", 0.5, 2.0e6), ("M/M/4 ρ=0.9", 0.9, 8.0e6)] {
        let lambda = rho * 4.0 * mu;
        let yaml = single("mmc", len(n, lambda), lambda, 4, 1_000_000, EXP_1MS);
        v.push(Model {
            name,
            what: "mean ms (Erlang C)",
            yaml,
            theory: 1e3 * mmc_mean(4, lambda, mu),
            measure: mean_ms,
            tolerance: 0.02,
        });
    }
    for (name, rho, n) in [("M/D/1 ρ=0.5", 0.5, 1.0e6), ("M/D/1 ρ=0.9", 0.9, 6.0e6)] {
        let lambda = rho * mu;
        let yaml = single("md1", len(n, lambda), lambda, 1, 1_000_000, "1ms");
        v.push(Model {
            name,
            what: "mean ms (P-K)",
            yaml,
            theory: 1e3 * md1_mean(lambda, mu),
            measure: mean_ms,
            tolerance: 0.02,
        });
    }
    for (name, rho) in [("M/M/2/5 ρ=0.9", 0.9), ("M/M/2/5 ρ=1.5", 1.5)] {
        let lambda = rho * 2.0 * mu;
        let yaml = single("mmck", len(2.0e6, lambda), lambda, 2, 3, EXP_1MS);
        v.push(Model {
            name,
            what: "blocking probability",
            yaml,
            theory: mmck_blocking(2, 5, lambda, mu),
            measure: rejected_share,
            tolerance: 0.05,
        });
    }
    let tandem = |lambda: f64| {
        format!(
            "name: jackson\nseed: 7\nduration: {:.0}s\nwarmup: 20s\nservices:\n  a:\n    threading: async\n    queue: 1000000\n    endpoints:\n      x:\n        steps:\n          - work: {{exponential: {{mean: 1ms}}}}\n          - call: b.y\n  b:\n    threading: async\n    queue: 1000000\n    endpoints:\n      y:\n        steps: [{{work: {{exponential: {{mean: 0.8ms}}}}}}]\nworkload:\n  - {{name: w, target: a.x, rate: {lambda}/s}}\n",
            len(3.0e6, lambda)
        )
    };
    for (name, lambda) in [
        ("Jackson tandem ρ=0.5/0.4", 500.0),
        ("Jackson tandem ρ=0.9/0.72", 900.0),
    ] {
        let theory = 1e3 / (mu - lambda) + 1e3 / (1250.0 - lambda);
        v.push(Model {
            name,
            what: "mean ms",
            yaml: tandem(lambda),
            theory,
            measure: mean_ms,
            tolerance: 0.02,
        });
    }
    let fanout = format!(
        "name: fanout\nseed: 7\nduration: {:.0}s\nwarmup: 1s\nservices:\n  root:\n    threading: async\n    concurrency: 1000\n    endpoints:\n      x:\n        steps: [{{call: leaf.y, fanout: 100}}]\n  leaf:\n    concurrency: 100000\n    endpoints:\n      y:\n        steps: [{{work: {{mixture: [{{weight: 0.99, dist: 1ms}}, {{weight: 0.01, dist: 100ms}}]}}}}]\nworkload:\n  - {{name: w, target: root.x, rate: 100/s}}\n",
        len(4.0e5, 100.0)
    );
    v.push(Model {
        name: "fan-out 100, 1% slow",
        what: "share of slow requests",
        yaml: fanout,
        theory: 1.0 - 0.99f64.powi(100),
        measure: slow_share,
        tolerance: 0.05,
    });
    v
}
