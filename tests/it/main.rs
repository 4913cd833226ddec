//! meshsim's integration tests: one binary, a module per concern.

mod common;
mod conservation;
mod determinism;
mod errors;
mod events;
mod failures;
mod hints;
mod import_bad_input;
mod import_readers;
mod import_real;
mod openmetrics;
mod regressions;
mod reports;
mod resilience;
mod scenarios;
mod sweeps;
mod theory;
mod theory_cores;
mod theory_faults;
