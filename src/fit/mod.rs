//! `meshsim fit`: a scenario against the traces of the system it models.
//!
//! The observed side comes from the traces ([`crate::import::observe`]); the
//! simulated side from a run of the scenario at the observed load
//! ([`load`]). Both are put side by side per entry endpoint, per service
//! endpoint and per consumer: count, rate, p50, p90, p99, mean, their
//! relative errors, and the Kolmogorov–Smirnov distance ([`ks`]).
//!
//! Like with like: a SERVER span covers the job at its service, from the
//! request's arrival to the answer, not the caller's network hops; so the
//! simulated figure of an endpoint (the entry's included) is its job latency
//! (`services.S.endpoints.E.latency_ms` in summary.json), not the workload's
//! client-side latency. A CONSUMER span covers a message's handling, compared
//! with the consumer handler's job latency.
//!
//! - `load.rs`: the rates set and the run's length.
//! - `ks.rs`: quantiles of samples and the KS distance of step CDFs.
//! - `bounds.rs`: `--fail-above`.
//! - `rows.rs`: the comparison rows and what matched nothing.

pub mod bounds;
pub mod ks;
pub mod load;
mod rows;

use serde::Serialize;

pub use bounds::{Bounds, Check};
pub use load::{LoadRow, Plan, apply};
pub use rows::{Errors, Row, Side, compare};

/// Everything a fit found: the figures of fit.json, fit.html and the table.
#[derive(Clone, Debug, Serialize)]
pub struct Fit {
    pub scenario: String,
    pub seed: u64,
    /// The trace files read.
    pub traces: Vec<String>,
    /// The observed window: first to last entry span's start, s.
    pub window_s: f64,
    /// The simulated run's measured time (after its warmup), s.
    pub simulated_s: f64,
    pub warmup_s: f64,
    /// How `simulated_s` was chosen.
    pub duration_rule: String,
    /// What each workload was run at.
    pub load: Vec<LoadRow>,
    pub entries: Vec<Row>,
    pub endpoints: Vec<Row>,
    pub consumers: Vec<Row>,
    /// Endpoints and consumers of the scenario that no span shows.
    pub scenario_not_in_traces: Vec<String>,
    /// Endpoints and consumers of the traces that the scenario does not have.
    pub traces_not_in_scenario: Vec<String>,
    /// `--fail-above`'s checks (empty without it).
    pub checks: Vec<Check>,
    /// What the readers repaired, and a run stopped early.
    pub notes: Vec<String>,
}

impl Fit {
    /// Whether some `--fail-above` check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| !c.pass)
    }
}

/// `x` rounded to `n` decimals (for fit.json).
pub(crate) fn round(x: f64, n: i32) -> f64 {
    let f = 10f64.powi(n);
    (x * f).round() / f
}
