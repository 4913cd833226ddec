//! summary.json (deterministic) and run.json (wall-clock figures).

use serde::Serialize;

use crate::metrics::Summary;

/// summary.json: pretty, with a trailing newline; byte-identical for the same run.
pub fn summary_json(s: &Summary) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(s).expect("a summary always serialises");
    out.push(b'\n');
    out
}

/// Wall-clock facts of a run; never part of summary.json.
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo {
    pub scenario: String,
    pub seed: u64,
    pub meshsim_version: &'static str,
    pub wall_time_s: f64,
    pub events_processed: u64,
    pub events_per_second: f64,
    pub simulated_s: f64,
    /// Simulated seconds per wall-clock second.
    pub speedup: f64,
}

impl RunInfo {
    /// The figures of a run (or of `simulated_s` seconds over replications).
    pub fn new(
        scenario: &str,
        seed: u64,
        wall_time_s: f64,
        events_processed: u64,
        simulated_s: f64,
    ) -> RunInfo {
        let wall = wall_time_s.max(1e-9);
        RunInfo {
            scenario: scenario.to_string(),
            seed,
            meshsim_version: env!("CARGO_PKG_VERSION"),
            wall_time_s,
            events_processed,
            events_per_second: events_processed as f64 / wall,
            simulated_s,
            speedup: simulated_s / wall,
        }
    }
}

pub fn run_json(r: &RunInfo) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(r).expect("run info always serialises");
    out.push(b'\n');
    out
}
