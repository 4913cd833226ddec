//! Built-in models checked against queueing theory (`meshsim validate`).
//!
//! Each model is an ordinary scenario (YAML text through the same pipeline a
//! user's file takes), a figure read from its summary, the analytic value and a
//! tolerance. The integration tests hold the simulator to the same table.

use std::fmt::Write as _;

use crate::engine::time::MILLISECOND;
use crate::metrics::{Collector, Summary, summarize};
use crate::scenario;

/// One comparison of simulation with theory.
pub struct Model {
    pub name: &'static str,
    pub what: &'static str,
    pub yaml: String,
    pub theory: f64,
    pub measure: fn(&Summary, &Collector) -> f64,
    /// Largest accepted relative error.
    pub tolerance: f64,
}

/// The outcome of one model.
pub struct Outcome {
    pub name: &'static str,
    pub what: &'static str,
    pub sim: f64,
    pub theory: f64,
    pub tolerance: f64,
}

impl Outcome {
    pub fn rel_error(&self) -> f64 {
        (self.sim - self.theory).abs() / self.theory.abs()
    }
    pub fn pass(&self) -> bool {
        self.rel_error() <= self.tolerance
    }
}

/// Erlang C: probability that an arrival waits in M/M/c with offered load a = λ/μ.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    // Erlang B by the stable recursion, then C from B.
    let b = erlang_b(c, a);
    b / (1.0 - rho * (1.0 - b))
}

/// Erlang B: blocking probability of M/M/c/c with offered load a.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (f64::from(k) + a * b))
}

/// Mean response time of M/M/c (seconds).
pub fn mmc_mean(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda) + 1.0 / mu
}

/// Blocking probability of M/M/c/K (K = c + queue places in all).
pub fn mmck_blocking(c: u32, k: u32, lambda: f64, mu: f64) -> f64 {
    let a = lambda / mu;
    let mut p = vec![1.0f64; k as usize + 1];
    for n in 1..=k as usize {
        p[n] = p[n - 1] * a / (n.min(c as usize) as f64);
    }
    p[k as usize] / p.iter().sum::<f64>()
}

/// The analytic mean response time (ms) of a scenario that is exactly a textbook
/// queue: one workload with Poisson arrivals at a fixed rate straight into one
/// service of one replica, with one exponential (M/M/c) or constant (M/D/1, c = 1)
/// work step, no network, no failures, a queue too long to matter, and ρ < 1.
pub fn theory_mean_ms(s: &crate::scenario::Scenario) -> Option<f64> {
    use crate::engine::Dist;
    use crate::scenario::spec::{RateProfile, Step};
    let [w] = s.workloads.as_slice() else {
        return None;
    };
    let RateProfile::Fixed(lambda) = w.arrival.profile else {
        return None;
    };
    let endpoint = &s.endpoints[w.entry];
    let svc = &s.services[endpoint.service];
    let plain = w.arrival.poisson
        && s.gateway.is_none()
        && s.within_dc.is_none()
        && s.failures.is_empty()
        && w.timeout.is_none();
    if !plain
        || svc.replicas() != 1
        || svc.autoscale.is_some()
        || svc.max_queue_time.is_some()
        || svc.queue < 10_000
    {
        return None;
    }
    let [Step::Work(work)] = endpoint.steps.as_slice() else {
        return None;
    };
    let c = svc.concurrency;
    let mean_s = work.mean() / 1e9;
    let mu = 1.0 / mean_s;
    if lambda >= f64::from(c) * mu {
        return None;
    }
    match work {
        Dist::Exponential { .. } => Some(1e3 * mmc_mean(c, lambda, mu)),
        Dist::Constant(_) if c == 1 => Some(1e3 * md1_mean(lambda, mu)),
        _ => None,
    }
}

/// Mean response time of M/D/1 (Pollaczek–Khinchine), seconds.
pub fn md1_mean(lambda: f64, mu: f64) -> f64 {
    let rho = lambda / mu;
    1.0 / mu + rho / (2.0 * mu * (1.0 - rho))
}

fn single(name: &str, secs: f64, rate: f64, concurrency: u32, queue: u32, work: &str) -> String {
    format!(
        "name: {name}\nseed: 7\nduration: {secs:.0}s\nwarmup: 20s\nservices:\n  s:\n    concurrency: {concurrency}\n    queue: {queue}\n    endpoints:\n      x:\n        steps: [{{work: {work}}}]\nworkload:\n  - {{name: w, target: s.x, rate: {rate}/s}}\n"
    )
}

fn mean_ms(s: &Summary, _: &Collector) -> f64 {
    s.workload["w"].latency_ms.mean
}
fn p99_ms(s: &Summary, _: &Collector) -> f64 {
    s.workload["w"].latency_ms.p99
}
fn slow_share(_: &Summary, c: &Collector) -> f64 {
    c.workloads[0].latency.fraction_above(50 * MILLISECOND)
}
fn rejected_share(s: &Summary, _: &Collector) -> f64 {
    let w = &s.workload["w"];
    w.rejected as f64 / w.sent as f64
}

/// The models, with run lengths scaled by `scale` (1.0 = the full table).
/// Shorter runs are noisier: tolerances widen by 1/√scale.
pub fn models(scale: f64) -> Vec<Model> {
    let mut v = full_models(scale);
    let widen = 1.0 / scale.clamp(0.01, 1.0).sqrt();
    v.iter_mut().for_each(|m| m.tolerance *= widen);
    v
}

/// Exponential service with mean 1 ms (μ = 1000/s), the built-in models' server.
const EXP_1MS: &str = "{exponential: {mean: 1ms}}";

fn full_models(scale: f64) -> Vec<Model> {
    // Service rate 1000/s (mean 1 ms); lengths give a few million requests.
    let mu = 1000.0;
    let len = |customers: f64, lambda: f64| (customers * scale / lambda).max(30.0);
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

/// Runs one model.
pub fn run_model(m: &Model) -> Outcome {
    let s = scenario::load_str(&m.yaml, m.name, &[])
        .unwrap_or_else(|e| panic!("built-in model {} is invalid:\n{}", m.name, e.render()));
    let out = crate::model::run(&s, s.seed, &mut |_, _| {});
    let summary = summarize(&s, s.seed, &out.collector);
    Outcome {
        name: m.name,
        what: m.what,
        sim: (m.measure)(&summary, &out.collector),
        theory: m.theory,
        tolerance: m.tolerance,
    }
}

/// Runs every model, in parallel threads, results in table order.
pub fn run_all(scale: f64) -> Vec<Outcome> {
    let models = models(scale);
    std::thread::scope(|scope| {
        let handles: Vec<_> = models
            .iter()
            .map(|m| scope.spawn(move || run_model(m)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("model run"))
            .collect()
    })
}

/// The table printed by `meshsim validate`.
pub fn render(results: &[Outcome]) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "{:<28} {:<24} {:>12} {:>12} {:>9} {:>9}  verdict",
        "model", "figure", "simulated", "theory", "error", "tolerance"
    );
    for r in results {
        let _ = writeln!(
            o,
            "{:<28} {:<24} {:>12.4} {:>12.4} {:>8.2}% {:>8.1}%  {}",
            r.name,
            r.what,
            r.sim,
            r.theory,
            r.rel_error() * 100.0,
            r.tolerance * 100.0,
            if r.pass() { "ok" } else { "OFF" }
        );
    }
    o
}
