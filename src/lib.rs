//! meshsim: a deterministic discrete-event simulator of microservice communication.
//!
//! The crate is layered so that each layer knows only the one below it:
//!
//! - [`engine`]: clock, event queue, arenas, named random streams, distributions.
//!   No serde, no YAML, no microservice words.
//! - [`scenario`]: the YAML format. `raw` mirrors the file, `resolve` turns names
//!   into ids and reports every problem with its YAML path and line, `overrides`
//!   applies `--set`.
//! - [`model`]: the simulated world built from a resolved scenario; runs on the engine.
//! - [`metrics`]: histograms and counters collected by the model, turned into a
//!   [`metrics::Summary`] with SLO verdicts.
//! - [`report`]: a summary to bytes (JSON, terminal table).
//! - [`sweep`]: grids of overrides run in parallel, with replications.
//! - [`plan`]: the cheapest replica counts that meet every SLO with confidence.
//! - [`import`]: traces (OTLP, Jaeger, Zipkin) into a scenario, and the fit report.
//! - [`fit`]: a scenario run at the load seen in traces, compared with them
//!   per endpoint (`meshsim fit`).
//! - [`validate`]: built-in models checked against queueing theory.
//! - [`cli`]: flags, files, progress bars; the only module that touches the disk.
//!
//! These docs are for the crate's developers: build them with
//! `cargo doc --no-deps --document-private-items`, which CI runs with warnings
//! as errors (`.ci/run`).

// Module docs link to the private items they describe (read with
// --document-private-items, above).
#![allow(rustdoc::private_intra_doc_links)]

pub mod cli;
pub mod engine;
pub mod fit;
pub mod import;
pub mod metrics;
pub mod model;
pub mod plan;
pub mod report;
pub mod scenario;
pub mod sweep;
pub mod validate;
