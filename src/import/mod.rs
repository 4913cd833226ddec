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
//! - `summary.rs`: [`summary`], a few lines describing what was read.

mod collect;
mod fields;
mod jaeger;
mod names;
pub mod observe;
mod otlp;
mod read;
mod repair;
pub mod span;
mod summary;
mod utf8;
mod zipkin;

pub use names::scenario_name;
pub use read::{Budget, Format, ImportError, Reader};
pub use span::{Kind, NO_NAME, Name, Names, Note, Span, Spans, Status};
pub use summary::summary;
