//! Traces in, a calibrated scenario out (`meshsim import`, `meshsim fit`).
//!
//! A layer of its own: it depends on `scenario` for what it writes and on
//! nothing in `model`. Readers (one per format) turn OTLP, Jaeger and Zipkin
//! JSON into [`span::Span`]s; the rest works on those alone.

pub mod span;
