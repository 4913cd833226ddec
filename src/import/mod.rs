//! Traces in, a calibrated scenario out (`meshsim import`, `meshsim fit`).
//!
//! A layer of its own: it depends on `scenario` for what it writes and on
//! nothing in `model`. Readers (one per format) turn OTLP, Jaeger and Zipkin
//! JSON into [`span::Span`]s; the rest works on those alone.
//!
//! - `read.rs`: the [`Reader`] (any `io::Read`, gzip or not), the format's detection,
//!   the [`Budget`], [`ImportError`]. Files are opened by `cli::traces`.
//! - `otlp.rs`, `jaeger.rs`, `zipkin.rs`: one streaming reader per format.
//! - `collect.rs`: a reader's raw span checked, interned and kept (or sampled out).
//! - `repair.rs`: duplicates, missing parents, cycles and clock skew, after the last file.
//! - `fields.rs`, `utf8.rs`: serde leaves shared by the readers; the UTF-8 check.
//! - `names.rs`: [`scenario_name`], how a trace's names become a scenario's (import and fit).
//! - `observe.rs`: what `fit` compares: entry endpoints, endpoints and consumers
//!   with their span durations, in scenario names.
//! - `summary.rs`: [`summary()`], a few lines describing what was read.
//! - `infer.rs`: the [`Graph`]: handlers, their jobs' calls and publishes, exclusive
//!   work, hops, topics, entry points, concurrency.
//! - `hops.rs`: the network hop per call: the answer's leg, or both legs' average
//!   where clocks disagree.
//! - `steps.rs`: a handler's steps: order, `parallel`, `fanout`, `probability`.
//! - `distfit.rs`: distributions fitted by maximum likelihood, chosen by KS distance,
//!   else empirical percentile points.
//! - `write.rs`, `write_services.rs`, `write_steps.rs`: the scenario text, each value
//!   with its evidence.

mod collect;
pub mod distfit;
mod fields;
pub mod handoff;
pub mod hops;
pub mod infer;
mod jaeger;
mod names;
pub mod observe;
mod otlp;
mod read;
mod repair;
pub mod span;
mod steps;
mod summary;
mod utf8;
pub mod write;
mod write_services;
mod write_steps;
mod zipkin;

pub use infer::{Graph, infer};
pub use names::scenario_name;
pub use read::{Budget, Format, ImportError, Reader};
pub use span::{Kind, NO_NAME, Name, Names, Note, Span, Spans, Status};
pub use summary::summary;
pub use write::{Options, scenario};
pub use write_services::{INFERRED_CONSUMER_KEYS, INFERRED_KEYS, consumer_key};
