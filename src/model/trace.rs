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
use crate::engine::{Id, Stream, Time, stream};

/// Not traced.
pub const NO_TRACE: u32 = u32::MAX;
/// By default at most this many traces are kept: when the sample grows past
/// it, it is thinned evenly (every other trace dropped, and from then on every
/// other sampled request skipped), so the traces still cover the whole run.
pub const MAX_TRACES: u32 = 2_000;
/// The most traces `run --max-traces` may keep: with [`SPANS_PER_TRACE`], at
/// most 1.5 million spans of [`SPAN_BYTES`] (108 MB) held during the run.
pub const MAX_TRACES_LIMIT: u32 = 20_000;
/// Spans allowed per trace kept, on average: the span cap is this times the
/// trace cap (150,000 by default); a trace that would pass it is cut short.
pub const SPANS_PER_TRACE: usize = 75;
/// The size of one recorded span (a test checks it): the memory bound's unit.
pub const SPAN_BYTES: usize = 72;
/// Thinning stops at keeping one sampled request in 2^24.
const MAX_THINNING: u32 = 24;

/// What a span is the span of (a logical call, an attempt, a job, a message's
/// delivery to a group), so that spans can name their parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpanRef {
    space: u8,
    bits: u64,
}

impl SpanRef {
    pub const NONE: SpanRef = SpanRef { space: 0, bits: 0 };
    pub fn logical(id: Id) -> SpanRef {
        SpanRef {
            space: 1,
            bits: id.to_bits(),
        }
    }
    pub fn attempt(id: Id) -> SpanRef {
        SpanRef {
            space: 2,
            bits: id.to_bits(),
        }
    }
    pub fn job(id: Id) -> SpanRef {
        SpanRef {
            space: 3,
            bits: id.to_bits(),
        }
    }
    pub fn delivery(id: Id) -> SpanRef {
        SpanRef {
            space: 4,
            bits: id.to_bits(),
        }
    }
    pub fn is_none(self) -> bool {
        self.space == 0
    }
}

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
    /// What this span is of (NONE for a leaf), and what its parent span is of.
    pub of: SpanRef,
    pub parent: SpanRef,
}

/// The traces of a run. Trace numbers in `spans` are sparse (thinning).
#[derive(Clone, Debug, Default)]
pub struct Traces {
    /// The share asked for, and the share kept after thinning.
    pub sample: f64,
    pub effective_sample: f64,
    /// Traces kept.
    pub traced: u32,
    pub spans: Vec<Span>,
    /// Spans not recorded (the cap was reached), and the traces they belonged to.
    pub dropped: u64,
    pub cut: Vec<u32>,
    /// When tracing of new requests stopped: a few traces held 4/5 of the
    /// span cap, so thinning could not make room.
    pub stopped: Option<Time>,
}

impl Tracer {
    /// When traced job `job` began to wait or work (kept here, not in every
    /// job: only traced jobs have one, and there are few in flight).
    pub fn set_mark(&mut self, job: Id, at: Time) {
        match self.marks.iter_mut().find(|m| m.0 == job) {
            Some(m) => m.1 = at,
            None => self.marks.push((job, at)),
        }
    }

    pub fn mark(&self, job: Id) -> Time {
        self.marks.iter().find(|m| m.0 == job).map_or(0, |m| m.1)
    }

    pub fn forget_mark(&mut self, job: Id) {
        if let Some(i) = self.marks.iter().position(|m| m.0 == job) {
            self.marks.swap_remove(i);
        }
    }
}

pub struct Tracer {
    rate: f64,
    rng: Stream,
    /// Requests sampled so far (each one's number), and traces kept.
    sampled: u32,
    kept: u32,
    /// Only sampled numbers that are multiples of 2^thinning are kept.
    thinning: u32,
    spans: Vec<Span>,
    dropped: u64,
    cut: Vec<u32>,
    /// When sampling stopped because the span cap was near.
    stopped: Option<Time>,
    marks: Vec<(Id, Time)>,
    /// The trace cap; the span cap (past [`Tracer::soft_spans`] the sample is
    /// thinned like past the trace cap, leaving room for the traces in progress
    /// to finish).
    max_traces: u32,
    max_spans: usize,
}

impl Tracer {
    pub fn new(rate: f64, seed: u64) -> Tracer {
        Tracer::with_cap(rate, seed, MAX_TRACES)
    }

    /// 4/5 of the span cap.
    fn soft_spans(&self) -> usize {
        self.max_spans / 5 * 4
    }

    /// A tracer keeping at most `max_traces` traces (1 to [`MAX_TRACES_LIMIT`])
    /// and `max_traces` × [`SPANS_PER_TRACE`] spans.
    pub fn with_cap(rate: f64, seed: u64, max_traces: u32) -> Tracer {
        let max_traces = max_traces.clamp(1, MAX_TRACES_LIMIT);
        let max_spans = max_traces as usize * SPANS_PER_TRACE;
        Tracer {
            max_traces,
            max_spans,
            rate: rate.clamp(0.0, 1.0),
            rng: stream(seed, "tracing"),
            sampled: 0,
            kept: 0,
            thinning: 0,
            spans: Vec::new(),
            dropped: 0,
            cut: Vec::new(),
            stopped: None,
            marks: Vec::new(),
        }
    }

    /// Decides whether a new request is traced; returns its trace number or NO_TRACE.
    #[inline]
    pub fn sample(&mut self, measured: bool, now: Time) -> u32 {
        if self.rate <= 0.0 || !measured || self.sampled == NO_TRACE - 1 || self.stopped.is_some() {
            return NO_TRACE;
        }
        let u: f64 = self.rng.random();
        if u >= self.rate {
            return NO_TRACE;
        }
        let n = self.sampled;
        self.sampled += 1;
        if !self.keeps(n) {
            return NO_TRACE;
        }
        // Too many traces, or spans near the cap: thin the sample evenly.
        let full = |t: &Tracer| t.kept >= t.max_traces || t.spans.len() >= t.soft_spans();
        while full(self) && self.thinning < MAX_THINNING {
            self.thinning += 1;
            let mask = (1u32 << self.thinning) - 1;
            self.spans.retain(|s| s.trace & mask == 0);
            // The kept traces are the multiples of 2^thinning below n.
            self.kept = n.div_ceil(1 << self.thinning);
        }
        if self.spans.len() >= self.soft_spans() {
            // What is left is a few huge traces: stop tracing new requests.
            self.stopped = Some(now);
            return NO_TRACE;
        }
        if !self.keeps(n) {
            return NO_TRACE;
        }
        self.kept += 1;
        n
    }

    #[inline]
    fn keeps(&self, n: u32) -> bool {
        n & ((1u32 << self.thinning) - 1) == 0
    }

    /// Records a leaf span of trace `trace` under `parent` (nothing if the
    /// trace is NO_TRACE).
    #[inline]
    pub fn span(&mut self, trace: u32, start: Time, end: Time, kind: SpanKind, parent: SpanRef) {
        self.push(trace, |trace| Span {
            trace,
            start,
            end,
            kind,
            outcome: None,
            ok: true,
            of: SpanRef::NONE,
            parent,
        });
    }

    /// Records a span; `make` builds it, only if the trace is kept.
    #[inline]
    pub fn push(&mut self, trace: u32, make: impl FnOnce(u32) -> Span) {
        if trace == NO_TRACE || !self.keeps(trace) {
            return;
        }
        if self.spans.len() >= self.max_spans {
            self.dropped += 1;
            if self.cut.last() != Some(&trace) && !self.cut.contains(&trace) {
                self.cut.push(trace);
            }
            return;
        }
        self.spans.push(make(trace));
    }

    pub fn finish(self) -> Traces {
        Traces {
            sample: self.rate,
            effective_sample: self.rate / f64::from(1u32 << self.thinning),
            traced: self.kept,
            spans: self.spans,
            dropped: self.dropped,
            cut: self.cut,
            stopped: self.stopped,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The memory bound of `--max-traces` counts on this size.
    #[test]
    fn a_span_is_72_bytes() {
        assert_eq!(std::mem::size_of::<Span>(), SPAN_BYTES);
    }

    #[test]
    fn a_larger_cap_keeps_more_traces_and_thins_the_same_way() {
        let mut t = Tracer::with_cap(1.0, 7, 20_000);
        for i in 0..50_000u64 {
            let n = t.sample(true, i);
            t.span(n, i, i + 1, SpanKind::Work, SpanRef::NONE);
        }
        let traces = t.finish();
        // 50,000 sampled, thinned twice (past 20,000, then past 2 × 10,000): every 4th kept.
        assert_eq!(traces.traced, 12_500);
        assert_eq!(traces.effective_sample, 0.25);
        assert_eq!(traces.spans.len(), 12_500);
    }

    #[test]
    fn a_large_sample_is_thinned_evenly_over_the_run() {
        let mut t = Tracer::new(1.0, 7);
        let mut kept = Vec::new();
        for i in 0..10_000u64 {
            let n = t.sample(true, i);
            t.span(n, i, i + 1, SpanKind::Work, SpanRef::NONE);
            if n != NO_TRACE {
                kept.push(n);
            }
        }
        let traces = t.finish();
        // 10,000 sampled, thinned three times: every 8th kept, 1,250 traces.
        assert_eq!(traces.traced, 1_250);
        assert_eq!(traces.effective_sample, 1.0 / 8.0);
        assert_eq!(traces.spans.len(), 1_250);
        assert!(traces.spans.iter().all(|s| s.trace % 8 == 0));
        assert_eq!(traces.spans.last().map(|s| s.trace), Some(9_992));
        assert!(kept.len() > 1_250, "early traces were dropped later");
    }
}
