//! Built-in models checked against queueing theory (`meshsim validate`).
//!
//! Each model is an ordinary scenario (YAML text through the same pipeline a
//! user's file takes), a figure read from its summary, the analytic value and a
//! tolerance. The integration tests hold the simulator to the same table.

use std::fmt::Write as _;

use crate::engine::time::MILLISECOND;
use crate::metrics::{Collector, Summary, summarize};
use crate::scenario;

mod bandwidth;
mod branches;
mod classic;
mod closed;
mod cores;
mod faults;
mod formulas;

pub use faults::healthy_share;
pub use formulas::{erlang_b, erlang_c, md1_mean, mmc_mean, mmck_blocking, mva, theory_mean_ms};

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

/// Every family of models, in table order.
fn full_models(scale: f64) -> Vec<Model> {
    let families: [fn(f64) -> Vec<Model>; 6] = [
        classic::models,
        faults::models,
        cores::models,
        closed::models,
        bandwidth::models,
        branches::models,
    ];
    families.iter().flat_map(|family| family(scale)).collect()
}

/// Seconds of simulated time that bring `customers` (scaled) at `lambda` per
/// second, at least 30.
fn run_secs(customers: f64, scale: f64, lambda: f64) -> f64 {
    (customers * scale / lambda).max(30.0)
}

/// Runs models in parallel threads, each distinct scenario once (several
/// figures of one run, such as a mean and a p99, share it); results in the
/// models' order.
pub fn run_models(models: &[Model]) -> Vec<Outcome> {
    let mut runs: Vec<&Model> = Vec::new();
    let run_of: Vec<usize> = models
        .iter()
        .map(|m| match runs.iter().position(|r| r.yaml == m.yaml) {
            Some(i) => i,
            None => {
                runs.push(m);
                runs.len() - 1
            }
        })
        .collect();
    let done: Vec<(Summary, Collector)> = std::thread::scope(|scope| {
        let handles: Vec<_> = runs
            .iter()
            .map(|m| scope.spawn(move || simulate(m)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("model run"))
            .collect()
    });
    models
        .iter()
        .zip(run_of)
        .map(|(m, i)| Outcome {
            name: m.name,
            what: m.what,
            sim: (m.measure)(&done[i].0, &done[i].1),
            theory: m.theory,
            tolerance: m.tolerance,
        })
        .collect()
}

/// A model's scenario, run with its own seed.
fn simulate(m: &Model) -> (Summary, Collector) {
    let s = scenario::load_str(&m.yaml, m.name, &[])
        .unwrap_or_else(|e| panic!("built-in model {} is invalid:\n{}", m.name, e.render()));
    let out = crate::model::run(&s, s.seed, &mut |_, _| {});
    (summarize(&s, s.seed, &out.collector), out.collector)
}

/// Runs every model, results in table order.
pub fn run_all(scale: f64) -> Vec<Outcome> {
    run_models(&models(scale))
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
