//! The simulator's spans as an instrumented system would emit them: the
//! mapping behind `traces.otlp.json` ([`super::otlp`]), in OpenTelemetry's terms.
//!
//! - a job answering a call is a SERVER span of its service, from when a worker
//!   takes it (its wait in the queue is not in it: real server spans start in
//!   the handler) to its answer; a job handling a message is a CONSUMER span,
//!   timed the same way, child of the message's PRODUCER span;
//! - an attempt of a call made by a job is a CLIENT span of the caller's
//!   service (parent: the caller's SERVER or CONSUMER span; child: the
//!   callee's SERVER span), send to answer; attempts refused by the caller's
//!   own circuit breaker were never sent and have none;
//! - the clients are not instrumented (as in most systems): a request's own
//!   span and its attempts are not written, so the entry endpoint's SERVER span
//!   (the gateway's, when there is one) is a root;
//! - a publish is a PRODUCER span of the publishing job, send to ack (with
//!   `acks: 0`, nobody waits: an instant at the send);
//! - logical calls, network hops, work and queue waits are not written (an
//!   importer sees work as the SERVER span's time outside its children).
//!
//! Only whole traces are written: a trace whose request had not ended when the
//! run did, or that hit the span cap, is left out, and so is any span whose
//! ancestors were not recorded (work still running at the end, an answer that
//! arrived after the run ended), so every parent named is in the file.

use std::collections::{BTreeMap, HashMap};

use crate::engine::Time;
use crate::model::calls::Outcome;
use crate::model::trace::{Span, SpanKind, SpanRef, Traces};
use crate::scenario::Scenario;

/// OpenTelemetry's span kinds, as OTLP numbers them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Server = 2,
    Client = 3,
    Producer = 4,
    Consumer = 5,
}

/// What an exported span is of (indices into the resolved scenario).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// A job: SERVER (answering a call) or CONSUMER (handling a message of `group`).
    Job {
        endpoint: u32,
        group: Option<u32>,
    },
    /// An attempt of a call to `endpoint` (`n` from 1), and how it ended.
    Attempt {
        endpoint: u32,
        n: u16,
        hedge: bool,
        outcome: Outcome,
    },
    Publish {
        topic: u32,
    },
}

/// One span as written: ids are the trace's number and the span's.
#[derive(Clone, Copy, Debug)]
pub struct OtelSpan {
    pub trace: u32,
    pub id: u64,
    pub parent: Option<u64>,
    /// The service that emits it (an index into `Scenario::services`).
    pub service: u32,
    pub kind: Kind,
    pub start: Time,
    pub end: Time,
    pub error: bool,
    pub what: What,
}

/// The spans to write, and what was left out.
#[derive(Debug, Default)]
pub struct Mapped {
    pub spans: Vec<OtelSpan>,
    /// Traces written, and traces left out (unfinished or cut short).
    pub traces: u32,
    pub traces_left_out: u32,
    /// Spans of written traces left out because an ancestor was not recorded.
    pub spans_left_out: u64,
}

/// A span id: unique within a trace (a bijection of the trace's number and
/// the span's place), never zero.
pub fn span_id(trace: u32, node: usize) -> u64 {
    mix((u64::from(trace) << 32) | (node as u64 + 1)).max(1)
}

/// The 128-bit trace id of trace number `trace` in a run of `seed`.
pub fn trace_id(seed: u64, trace: u32) -> u128 {
    let hi = mix(seed ^ 0x6d65_7368_7369_6d00);
    let lo = mix(u64::from(trace) ^ mix(seed));
    (u128::from(hi) << 64) | u128::from(lo)
}

/// splitmix64's finaliser: a bijection of u64 that looks random.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Every whole trace of the run, mapped.
pub fn map(s: &Scenario, traces: &Traces) -> Mapped {
    let mut by_trace: BTreeMap<u32, Vec<&Span>> = BTreeMap::new();
    for sp in &traces.spans {
        by_trace.entry(sp.trace).or_default().push(sp);
    }
    let mut m = Mapped::default();
    for (&trace, spans) in &by_trace {
        let whole = !traces.cut.contains(&trace)
            && spans
                .iter()
                .any(|sp| matches!(sp.kind, SpanKind::Request { .. }));
        if whole {
            m.traces += 1;
            TraceMap::new(s, trace, spans).write(&mut m);
        } else {
            m.traces_left_out += 1;
        }
    }
    m
}

/// Where an exported span's parent comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    /// Not a span that is written.
    Skip,
    /// Written, a root.
    Root,
    /// Written if node `n` is, as its child.
    Under(usize),
    /// An ancestor was not recorded: not written.
    Missing,
}

/// One trace's spans (nodes `0..spans.len()`), then one synthesized PRODUCER
/// node per publish with `acks: 0` (nodes past them: the message that names it).
struct TraceMap<'a> {
    s: &'a Scenario,
    trace: u32,
    spans: &'a [&'a Span],
    by_of: HashMap<SpanRef, usize>,
    /// Per span: the node of its producer (message spans only).
    producer: Vec<Option<usize>>,
    /// Synthesized producers: the message span each one was made from.
    synth: Vec<usize>,
    /// Per span: when a worker took it (job spans only: the end of its first wait).
    taken: Vec<Option<Time>>,
}

impl<'a> TraceMap<'a> {
    fn new(s: &'a Scenario, trace: u32, spans: &'a [&'a Span]) -> TraceMap<'a> {
        let by_of: HashMap<SpanRef, usize> = spans
            .iter()
            .enumerate()
            .filter(|(_, sp)| !sp.of.is_none())
            .map(|(i, sp)| (sp.of, i))
            .collect();
        let mut t = TraceMap {
            s,
            trace,
            spans,
            by_of,
            producer: vec![None; spans.len()],
            synth: Vec::new(),
            taken: vec![None; spans.len()],
        };
        t.link_messages();
        for sp in spans {
            if let Some(&j) = t.by_of.get(&sp.parent)
                && sp.kind == SpanKind::Queue
                && matches!(spans[j].kind, SpanKind::Job { .. })
                && spans[j].start == sp.start
            {
                t.taken[j] = Some(sp.end);
            }
        }
        t
    }

    /// Finds each message's PRODUCER: the publish of its topic by its
    /// publisher that started last at or before it, else one made up (acks: 0).
    fn link_messages(&mut self) {
        let mut publishes: BTreeMap<(SpanRef, u32), Vec<usize>> = BTreeMap::new();
        for (i, p) in self.spans.iter().enumerate() {
            if let SpanKind::Publish { topic } = p.kind {
                publishes.entry((p.parent, topic)).or_default().push(i);
            }
        }
        let mut made: BTreeMap<(SpanRef, u32, Time), usize> = BTreeMap::new();
        for (m, sp) in self.spans.iter().enumerate() {
            let SpanKind::Message { topic, .. } = sp.kind else {
                continue;
            };
            let publish = publishes.get(&(sp.parent, topic)).and_then(|ps| {
                ps.iter()
                    .copied()
                    .filter(|&p| self.spans[p].start <= sp.start)
                    .max_by_key(|&p| (self.spans[p].start, p))
            });
            let node = publish.unwrap_or_else(|| {
                *made.entry((sp.parent, topic, sp.start)).or_insert_with(|| {
                    self.synth.push(m);
                    self.spans.len() + self.synth.len() - 1
                })
            });
            self.producer[m] = Some(node);
        }
    }

    /// The node of the span a span names as its parent.
    fn node(&self, r: SpanRef) -> Option<usize> {
        self.by_of.get(&r).copied()
    }

    /// Where node `i`'s parent comes from.
    fn anchor(&self, i: usize) -> Anchor {
        if i >= self.spans.len() {
            // A made-up producer: under the publishing job.
            let m = self.synth[i - self.spans.len()];
            return self
                .node(self.spans[m].parent)
                .map_or(Anchor::Missing, Anchor::Under);
        }
        let sp = self.spans[i];
        let Some(p) = self.node(sp.parent) else {
            return match sp.kind {
                SpanKind::Job { .. } | SpanKind::Attempt { .. } | SpanKind::Publish { .. } => {
                    Anchor::Missing
                }
                _ => Anchor::Skip,
            };
        };
        let parent = self.spans[p];
        match sp.kind {
            SpanKind::Job { .. } => match parent.kind {
                SpanKind::Attempt { .. } if self.is_clients(p) => Anchor::Root,
                SpanKind::Attempt { .. } => Anchor::Under(p),
                SpanKind::Message { .. } => self.producer[p].map_or(Anchor::Missing, Anchor::Under),
                _ => Anchor::Missing,
            },
            SpanKind::Attempt { .. } if sp.outcome == Some(Outcome::ShortCircuited) => Anchor::Skip,
            SpanKind::Attempt { .. } => match parent.kind {
                SpanKind::Request { .. } => Anchor::Skip,
                _ => self
                    .node(parent.parent)
                    .map_or(Anchor::Missing, Anchor::Under),
            },
            SpanKind::Publish { .. } => Anchor::Under(p),
            _ => Anchor::Skip,
        }
    }

    /// True when attempt node `a` is one of a client's (its logical call is a request).
    fn is_clients(&self, a: usize) -> bool {
        self.node(self.spans[a].parent)
            .is_some_and(|l| matches!(self.spans[l].kind, SpanKind::Request { .. }))
    }

    /// Every node's anchor, in node order.
    fn anchors(&self) -> Vec<Anchor> {
        (0..self.spans.len() + self.synth.len())
            .map(|i| self.anchor(i))
            .collect()
    }

    /// Whether each node is written: a root, or under a node that is.
    fn written(anchors: &[Anchor]) -> Vec<Option<bool>> {
        let n = anchors.len();
        let mut done: Vec<Option<bool>> = vec![None; n];
        let mut chain = Vec::new();
        for start in 0..n {
            let mut i = start;
            // Up the chain to a decided node (a cycle, impossible, ends as not written).
            let verdict = loop {
                if let Some(v) = done[i] {
                    break v;
                }
                if chain.len() > n {
                    break false;
                }
                chain.push(i);
                match anchors[i] {
                    Anchor::Skip | Anchor::Missing => break false,
                    Anchor::Root => break true,
                    Anchor::Under(p) => i = p,
                }
            };
            // Down again: a node is written if its anchor is (a skipped one never).
            let mut v = verdict;
            while let Some(j) = chain.pop() {
                v = v && !matches!(anchors[j], Anchor::Skip | Anchor::Missing);
                done[j] = Some(v);
            }
        }
        done
    }

    /// Appends the trace's written spans to `m`.
    fn write(&self, m: &mut Mapped) {
        let anchors = self.anchors();
        let written = Self::written(&anchors);
        for (i, (w, &anchor)) in written.iter().zip(&anchors).enumerate() {
            if anchor == Anchor::Skip {
                continue;
            }
            if *w != Some(true) {
                m.spans_left_out += 1;
                continue;
            }
            let parent = match anchor {
                Anchor::Under(p) => Some(span_id(self.trace, p)),
                _ => None,
            };
            m.spans.push(self.span(i, parent));
        }
    }

    /// The service of job node `j`.
    fn service_of_job(&self, j: usize) -> usize {
        match self.spans[j].kind {
            SpanKind::Job { endpoint, .. } => self.s.endpoints[endpoint as usize].service,
            _ => unreachable!("a job's span"),
        }
    }

    /// The written form of node `i`.
    fn span(&self, i: usize, parent: Option<u64>) -> OtelSpan {
        let (job, kind, start, end, error, what) = self.form(i);
        OtelSpan {
            trace: self.trace,
            id: span_id(self.trace, i),
            parent,
            service: self.service_of_job(job) as u32,
            kind,
            start,
            end,
            error,
            what,
        }
    }

    /// Node `i`'s emitting job node, kind, times, error and what it is of.
    fn form(&self, i: usize) -> (usize, Kind, Time, Time, bool, What) {
        if i >= self.spans.len() {
            let m = self.spans[self.synth[i - self.spans.len()]];
            let SpanKind::Message { topic, .. } = m.kind else {
                unreachable!("made from a message")
            };
            let j = self.node(m.parent).expect("written under its job");
            return (
                j,
                Kind::Producer,
                m.start,
                m.start,
                false,
                What::Publish { topic },
            );
        }
        let sp = self.spans[i];
        let parent = self.node(sp.parent).expect("written under its parent");
        match sp.kind {
            SpanKind::Job { endpoint, .. } => {
                let (kind, group) = match self.spans[parent].kind {
                    SpanKind::Message { group, .. } => (Kind::Consumer, Some(group)),
                    _ => (Kind::Server, None),
                };
                let start = self.taken[i].unwrap_or(sp.start);
                (
                    i,
                    kind,
                    start,
                    sp.end,
                    !sp.ok,
                    What::Job { endpoint, group },
                )
            }
            SpanKind::Attempt { endpoint, n, hedge } => {
                let j = self.node(self.spans[parent].parent).expect("a job's call");
                let outcome = sp.outcome.unwrap_or(Outcome::Ok);
                let what = What::Attempt {
                    endpoint,
                    n,
                    hedge,
                    outcome,
                };
                (
                    j,
                    Kind::Client,
                    sp.start,
                    sp.end,
                    outcome != Outcome::Ok,
                    what,
                )
            }
            SpanKind::Publish { topic } => {
                let what = What::Publish { topic };
                (parent, Kind::Producer, sp.start, sp.end, false, what)
            }
            _ => unreachable!("only jobs, attempts and publishes are written"),
        }
    }
}
