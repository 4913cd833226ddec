//! Closed-loop workloads against exact Mean Value Analysis: one station, and
//! two async services in tandem, at 1, 10 and 50 users with exponential work
//! and think times (product form: MVA is exact for both).

use super::formulas::mva;
use super::{Model, run_secs};
use crate::metrics::summary::ClosedSummary;
use crate::metrics::{Collector, Summary};

/// Mean think time (s): the knee of one station of 1 ms is at (Z + S)/S = 21 users.
const THINK_S: f64 = 0.020;
const USERS: [u32; 3] = [1, 10, 50];
/// The models' warmup (s), added to the measured time.
const WARMUP_S: f64 = 20.0;

/// A model's scenario, from its run length (s) and its users.
type Yaml = fn(f64, u32) -> String;

/// One exponential station of mean 1 ms, `users` users thinking 20 ms.
pub fn one_station(secs: f64, users: u32) -> String {
    format!(
        "name: mva-one\nseed: 7\nduration: {secs:.0}s\nwarmup: 20s\nservices:\n  s:\n    endpoints:\n      x:\n        steps: [{{work: {{exponential: {{mean: 1ms}}}}}}]\nworkload:\n  - {{name: w, target: s.x, users: {users}, think: {{exponential: {{mean: 20ms}}}}}}\n"
    )
}

/// Two async services in tandem (1 ms then 0.8 ms), `users` users thinking 20 ms.
pub fn tandem(secs: f64, users: u32) -> String {
    format!(
        "name: mva-tandem\nseed: 7\nduration: {secs:.0}s\nwarmup: 20s\nservices:\n  a:\n    threading: async\n    endpoints:\n      x:\n        steps:\n          - work: {{exponential: {{mean: 1ms}}}}\n          - call: b.y\n  b:\n    threading: async\n    endpoints:\n      y:\n        steps: [{{work: {{exponential: {{mean: 0.8ms}}}}}}]\nworkload:\n  - {{name: w, target: a.x, users: {users}, think: {{exponential: {{mean: 20ms}}}}}}\n"
    )
}

fn closed(s: &Summary) -> &ClosedSummary {
    s.workload["w"].closed.as_ref().expect("a closed workload")
}
fn throughput(s: &Summary, _: &Collector) -> f64 {
    closed(s).throughput_per_s
}
fn response_ms(s: &Summary, _: &Collector) -> f64 {
    closed(s).response_ms_mean.unwrap_or(f64::NAN)
}

pub(super) fn models(scale: f64) -> Vec<Model> {
    let names: [[&'static str; 3]; 2] = [
        [
            "MVA one station N=1",
            "MVA one station N=10",
            "MVA one station N=50",
        ],
        ["MVA tandem N=1", "MVA tandem N=10", "MVA tandem N=50"],
    ];
    let networks: [(&[f64], Yaml); 2] = [(&[0.001], one_station), (&[0.001, 0.0008], tandem)];
    let mut v = Vec::new();
    for ((demands, yaml), names) in networks.into_iter().zip(names) {
        for (users, name) in USERS.into_iter().zip(names) {
            let (x, r) = mva(demands, THINK_S, users);
            // A little over a million requests after the 20 s of warmup.
            let yaml = yaml(WARMUP_S + run_secs(1.02e6, scale, x), users);
            v.push(Model {
                name,
                what: "throughput /s",
                yaml: yaml.clone(),
                theory: x,
                measure: throughput,
                tolerance: 0.02,
            });
            v.push(Model {
                name,
                what: "response ms",
                yaml,
                theory: 1e3 * r,
                measure: response_ms,
                tolerance: 0.02,
            });
        }
    }
    v
}
