//! Sampled traces: a share of the requests sent after warmup is traced from
//! the client's send down every hop, and the messages they publish through
//! every consumer group. A traced request carries its trace number down the
//! call tree (calls, attempts, jobs, messages); each piece of work records a
//! span with small ids only. Names are looked up when the traces are written.
//!
//! The sampling draws from a stream of its own, so tracing never changes what
//! the run does: summary.json is the same with any sample rate.

use rand::RngExt;

use super::calls::Outcome;
use crate::engine::{Stream, Time, stream};

/// Not traced.
pub const NO_TRACE: u32 = u32::MAX;
/// At most this many traces per run; later requests are not sampled.
pub const MAX_TRACES: u32 = 2_000;
/// At most this many spans in all; a trace that would pass it is cut short.
pub const MAX_SPANS: usize = 200_000;

/// What a span covers. Every id is an index into the resolved scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpanKind {
    /// A client's request, send to answer (`workload`).
    Request { workload: u32 },
    /// A call made by a job, first send to its end (`site`).
    Call { site: u32 },
    /// One attempt of a request or call: `n` counts from 1 (hedges too).
    Attempt { endpoint: u32, n: u16, hedge: bool },
    /// A network hop between data centers.
    Network { from: u16, to: u16 },
    /// A job on a replica: admitted to answered (`replica` counts within the service).
    Job { endpoint: u32, replica: u32 },
    /// Waiting for a worker.
    Queue,
    /// A `work` step.
    Work,
    /// A publish, sent to acknowledged.
    Publish { topic: u32 },
    /// A message, published to handled by one consumer group (global group index).
    Message { topic: u32, group: u32 },
}

#[derive(Clone, Copy, Debug)]
pub struct Span {
    pub trace: u32,
    pub start: Time,
    pub end: Time,
    pub kind: SpanKind,
    /// How a request, call or attempt ended (None for the rest, and for a message handled).
    pub outcome: Option<Outcome>,
    /// False for a job that failed, a message not handled.
    pub ok: bool,
}

/// The traces of a run.
#[derive(Clone, Debug, Default)]
pub struct Traces {
    pub sample: f64,
    pub traced: u32,
    pub spans: Vec<Span>,
    /// Spans not recorded (the cap was reached).
    pub dropped: u64,
}

pub struct Tracer {
    rate: f64,
    rng: Stream,
    traced: u32,
    spans: Vec<Span>,
    dropped: u64,
}

impl Tracer {
    pub fn new(rate: f64, seed: u64) -> Tracer {
        Tracer {
            rate: rate.clamp(0.0, 1.0),
            rng: stream(seed, "tracing"),
            traced: 0,
            spans: Vec::new(),
            dropped: 0,
        }
    }

    /// Decides whether a new request is traced; returns its trace number or NO_TRACE.
    #[inline]
    pub fn sample(&mut self, measured: bool) -> u32 {
        if self.rate <= 0.0 || !measured || self.traced >= MAX_TRACES {
            return NO_TRACE;
        }
        let u: f64 = self.rng.random();
        if u < self.rate {
            self.traced += 1;
            self.traced - 1
        } else {
            NO_TRACE
        }
    }

    /// Records a span of trace `trace` (nothing if it is NO_TRACE).
    #[inline]
    pub fn span(&mut self, trace: u32, start: Time, end: Time, kind: SpanKind) {
        self.span_with(trace, start, end, kind, None, true);
    }

    #[inline]
    pub fn span_with(
        &mut self,
        trace: u32,
        start: Time,
        end: Time,
        kind: SpanKind,
        outcome: Option<Outcome>,
        ok: bool,
    ) {
        if trace == NO_TRACE {
            return;
        }
        if self.spans.len() >= MAX_SPANS {
            self.dropped += 1;
            return;
        }
        self.spans.push(Span {
            trace,
            start,
            end,
            kind,
            outcome,
            ok,
        });
    }

    pub fn finish(self) -> Traces {
        Traces {
            sample: self.rate,
            traced: self.traced,
            spans: self.spans,
            dropped: self.dropped,
        }
    }
}
