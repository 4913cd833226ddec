//! meshsim's integration tests: one binary, a module per concern.

mod branches;
mod common;
mod conservation;
mod determinism;
mod errors;
mod errors_bandwidth;
mod errors_branches;
mod errors_closed;
mod events;
mod failures;
mod hints;
mod openmetrics;
mod regressions;
mod reports;
mod resilience;
mod scenarios;
mod sweeps;
mod theory;
mod theory_bandwidth;
mod theory_branches;
mod theory_closed;
mod theory_cores;
mod theory_faults;
mod together;
