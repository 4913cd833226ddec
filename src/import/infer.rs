//! The graph inferred from spans: handlers (endpoints and consumers), what each
//! one's jobs did (calls, publishes, exclusive work), network hops, topics,
//! entry points and concurrency.
//!
//! A *job* is a SERVER span (an endpoint's request) or a CONSUMER span (a
//! message handled). Its *actions* are found among its children, looking through
//! INTERNAL spans (the server's own work): a CLIENT span is a call to the service
//! of its child SERVER span (instrumentations name CLIENT spans just `GET`); a
//! CLIENT span with no SERVER child (an uninstrumented callee) is counted and left
//! as the caller's work; a SERVER child without a CLIENT between is a call taking
//! the child's interval; a PRODUCER span publishes to `messaging.destination`
//! (else its name). Exclusive work is the job's duration minus the union of its
//! actions' intervals.
//!
//! Times are rounded to whole microseconds first, as Jaeger and Zipkin exporters
//! store them, and spans are taken in (trace, span id) order, names as strings:
//! the same traces in OTLP, Jaeger or Zipkin give the same graph, bit for bit.

use std::collections::BTreeMap;

use indexmap::IndexMap;

use super::names::scenario_name;
use super::span::{Kind, Span, Spans, Status};

/// What a job's action reaches.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    Call { service: String, endpoint: String },
    Publish { topic: String },
}

/// One target as a handler's jobs used it.
#[derive(Clone, Debug)]
pub struct TargetObs {
    pub target: Target,
    /// Jobs in which it happened at least once.
    pub jobs_with: u64,
    /// Copies per job where it happened.
    pub copies: Vec<u32>,
    /// Jobs in which two of its copies overlapped in time (a fan-out).
    pub overlapping_copies: u64,
    /// Copies per job where it happened that were sent together
    /// ([`sent_together`]): the fan-out proper.
    pub together: Vec<u32>,
    /// Copies started later while an earlier one was still in flight (hedges, or
    /// retries after a timeout): their delay after the first copy (ns).
    pub late: Vec<u64>,
    /// The first copy's start, from the job's start (ns), per job where it happened.
    pub offsets: Vec<u64>,
}

/// An endpoint (SERVER spans) or a consumer of a topic (CONSUMER spans).
#[derive(Clone, Debug)]
pub struct Handler {
    pub service: String,
    /// The endpoint, or the topic consumed.
    pub name: String,
    pub consumer: bool,
    /// The earliest job's start (ns), for ordering.
    pub first: u64,
    pub jobs: u64,
    /// Jobs that failed (error status or HTTP ≥ 500) while none of their callees did.
    pub errors: u64,
    /// Exclusive work per job (ns).
    pub work: Vec<f64>,
    pub targets: Vec<TargetObs>,
    /// (target a, target b) with a < b: (jobs with both, jobs where they overlapped).
    pub pairs: BTreeMap<(usize, usize), (u64, u64)>,
    /// Start times of the jobs that had no SERVER ancestor (entry jobs).
    pub entry_starts: Vec<u64>,
    /// Σ 1 / sampling ratio over the entry jobs whose trace gives one.
    pub entry_weight: f64,
    /// Entry jobs whose trace gives no sampling ratio.
    pub entry_unweighted: u64,
    /// The most of its jobs seen at once.
    pub max_concurrent: u32,
}

/// A topic as the PRODUCER spans show it.
#[derive(Clone, Debug, Default)]
pub struct TopicObs {
    /// `messaging.system` of its first PRODUCER span, or "".
    pub system: String,
    pub publishes: u64,
    /// PRODUCER span durations (ns): publish to acknowledgement.
    pub durations: Vec<f64>,
}

/// Everything inferred, in a deterministic order.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// By first start, then service and name.
    pub handlers: Vec<Handler>,
    /// Services by first start: (name, the most of its jobs seen at once).
    pub services: Vec<(String, u32)>,
    /// The network hop per call, both estimates (ns); `Hops::chosen` picks one.
    pub hops: super::hops::Hops,
    /// Every job's times, for the handoff of one-worker services.
    pub handoffs: super::handoff::Handoffs,
    pub topics: IndexMap<String, TopicObs>,
    /// CLIENT spans with no SERVER child: count and the first (trace, span).
    pub uninstrumented: (u64, Option<(u128, u64)>),
    /// The earliest start and latest end (ns).
    pub window: (u64, u64),
}

/// A span as the inference sees it: times in whole µs (as ns), names as strings.
struct S<'a> {
    span: &'a Span,
    start: u64,
    end: u64,
    service: &'a str,
    name: &'a str,
}

impl S<'_> {
    fn dur(&self) -> u64 {
        self.end - self.start
    }
    /// The readers already made an HTTP status ≥ 500 an error (`collect::status`).
    fn error(&self) -> bool {
        self.span.status == Status::Error
    }
}

/// A handler: (service, endpoint or topic, consumer).
type Key = (String, String, bool);
/// (start, end) intervals.
type Intervals = Vec<(u64, u64)>;

/// Rounds to the nearest microsecond, as the Jaeger and Zipkin exporters do.
fn micros(ns: u64) -> u64 {
    ns.saturating_add(500) / 1000 * 1000
}

/// The longest chain of parents followed (repair has removed cycles; this bounds it anyway).
const MAX_DEPTH: usize = 10_000;

/// Infers the graph of `spans`.
pub fn infer(spans: &Spans) -> Graph {
    // Each interned name made a scenario name once, not once per span.
    let mapped: Vec<String> = (0..spans.names.len())
        .map(|n| scenario_name(spans.names.get(n as u32)))
        .collect();
    let (sp, parent) = prepare(spans, &mapped);
    let children = Children::new(&parent);
    let mut g = Graph {
        window: (
            sp.iter().map(|s| s.start).min().unwrap_or(0),
            sp.iter().map(|s| s.end).max().unwrap_or(0),
        ),
        ..Graph::default()
    };
    let mut handlers: IndexMap<Key, Handler> = IndexMap::new();
    let mut busy: IndexMap<Key, Intervals> = IndexMap::new();
    for (j, s) in sp.iter().enumerate() {
        let consumer = match s.span.kind {
            Kind::Server => false,
            Kind::Consumer => true,
            _ => continue,
        };
        let name = if consumer {
            let topic = topic_of(s.span, spans);
            // A topic consumed is a topic, even where no PRODUCER span shows its publishes.
            let t = g.topics.entry(topic.clone()).or_default();
            if t.system.is_empty() {
                t.system = spans.names.get(s.span.system).to_lowercase();
            }
            topic
        } else {
            s.name.to_string()
        };
        let key = (s.service.to_string(), name, consumer);
        let h = handlers
            .entry(key.clone())
            .or_insert_with(|| Handler::new(&key, s.start));
        busy.entry(key).or_default().push((s.start, s.end));
        let sent = parent[j]
            .filter(|&p| sp[p].span.kind == Kind::Client)
            .map(|p| sp[p].start);
        let sampled = s.span.sample_ratio.is_some_and(|r| r < 1.0);
        g.handoffs.add(s.service, (s.start, s.end), sent, sampled);
        let job = Job::observe(j, &sp, &children, &mut g, spans);
        h.add(s, &job);
        if !consumer && is_entry(j, |p| sp[p].span.kind, &parent) {
            h.entry_starts.push(s.start);
            match s.span.sample_ratio {
                Some(r) => h.entry_weight += 1.0 / r,
                None => h.entry_unweighted += 1,
            }
        }
    }
    g.services = service_concurrency(&busy);
    for (key, h) in handlers.iter_mut() {
        h.max_concurrent = max_concurrent(busy[key].iter().copied());
    }
    g.handlers = handlers.into_values().collect();
    g.handlers
        .sort_by(|a, b| (a.first, &a.service, &a.name).cmp(&(b.first, &b.service, &b.name)));
    g
}

/// The spans in (trace, id) order, and each one's parent (else the span it
/// links to) among them: how `import` and `fit` both walk a trace.
pub(super) fn parents(spans: &Spans) -> (Vec<&Span>, Vec<Option<usize>>) {
    let mut all: Vec<&Span> = spans.spans.iter().collect();
    all.sort_by_key(|s| (s.trace, s.id));
    let find = |trace: u128, id: u64| {
        all.binary_search_by_key(&(trace, id), |s| (s.trace, s.id))
            .ok()
    };
    let parent: Vec<Option<usize>> = all
        .iter()
        .map(|s| {
            let p = s.parent.and_then(|p| find(s.trace, p));
            p.or_else(|| s.link.and_then(|l| find(s.trace, l)))
        })
        .collect();
    (all, parent)
}

/// [`parents`], with each span's µs times and scenario names.
fn prepare<'a>(spans: &'a Spans, mapped: &'a [String]) -> (Vec<S<'a>>, Vec<Option<usize>>) {
    let (all, parent) = parents(spans);
    let sp: Vec<S> = all
        .iter()
        .map(|s| {
            let start = micros(s.start_ns);
            S {
                span: s,
                start,
                end: start + micros(s.duration_ns()),
                service: &mapped[s.service as usize],
                name: &mapped[s.name as usize],
            }
        })
        .collect();
    (sp, parent)
}

/// A consumer's or producer's topic: `messaging.destination`, else its span name.
pub(super) fn topic_of(span: &Span, spans: &Spans) -> String {
    let dest = spans.names.get(span.destination);
    scenario_name(if dest.is_empty() {
        spans.names.get(span.name)
    } else {
        dest
    })
}

/// No SERVER span above it.
pub(super) fn is_entry(j: usize, kind: impl Fn(usize) -> Kind, parent: &[Option<usize>]) -> bool {
    let mut at = parent[j];
    for _ in 0..MAX_DEPTH {
        match at {
            None => return true,
            Some(p) if kind(p) == Kind::Server => return false,
            Some(p) => at = parent[p],
        }
    }
    true
}

/// Children lists in one vector (compressed rows), in span order.
struct Children {
    start: Vec<usize>,
    list: Vec<usize>,
}

impl Children {
    fn new(parent: &[Option<usize>]) -> Children {
        let mut count = vec![0usize; parent.len() + 1];
        for p in parent.iter().flatten() {
            count[p + 1] += 1;
        }
        for i in 1..count.len() {
            count[i] += count[i - 1];
        }
        let mut fill = count.clone();
        let mut list = vec![0; count[parent.len()]];
        for (c, p) in parent.iter().enumerate() {
            if let Some(p) = p {
                list[fill[*p]] = c;
                fill[*p] += 1;
            }
        }
        Children { start: count, list }
    }
    fn of(&self, i: usize) -> &[usize] {
        &self.list[self.start[i]..self.start[i + 1]]
    }
}

/// One job's actions.
struct Job {
    /// (target, start, end) per action.
    actions: Vec<(Target, u64, u64)>,
    callee_failed: bool,
}

impl Job {
    /// Finds job `j`'s actions, recording hops, topics and uninstrumented calls in `g`.
    fn observe(j: usize, sp: &[S], ch: &Children, g: &mut Graph, spans: &Spans) -> Job {
        let mut job = Job {
            actions: Vec::new(),
            callee_failed: false,
        };
        let mut stack: Vec<usize> = ch.of(j).iter().rev().copied().collect();
        let mut seen = 0usize;
        while let Some(c) = stack.pop() {
            seen += 1;
            if seen > MAX_DEPTH * 10 {
                break;
            }
            let s = &sp[c];
            match s.span.kind {
                Kind::Internal => stack.extend(ch.of(c).iter().rev()),
                Kind::Client => job.client(c, sp, ch, g),
                Kind::Server => job.call(s, s.start, s.end),
                Kind::Producer => {
                    let topic = topic_of(s.span, spans);
                    let t = g.topics.entry(topic.clone()).or_default();
                    if t.system.is_empty() {
                        t.system = spans.names.get(s.span.system).to_lowercase();
                    }
                    t.publishes += 1;
                    t.durations.push(s.dur() as f64);
                    job.actions
                        .push((Target::Publish { topic }, s.start, s.end));
                }
                Kind::Consumer => {}
            }
        }
        job
    }

    fn client(&mut self, c: usize, sp: &[S], ch: &Children, g: &mut Graph) {
        let s = &sp[c];
        match ch.of(c).iter().find(|&&x| sp[x].span.kind == Kind::Server) {
            Some(&callee) => {
                let callee = &sp[callee];
                g.hops.add((s.start, s.end), (callee.start, callee.end));
                self.call(callee, s.start, s.end);
            }
            None => {
                g.uninstrumented.0 += 1;
                g.uninstrumented.1.get_or_insert((s.span.trace, s.span.id));
            }
        }
    }

    fn call(&mut self, callee: &S, start: u64, end: u64) {
        self.callee_failed |= callee.error();
        let target = Target::Call {
            service: callee.service.to_string(),
            endpoint: callee.name.to_string(),
        };
        self.actions.push((target, start, end));
    }
}

impl Handler {
    fn new(key: &Key, first: u64) -> Handler {
        Handler {
            service: key.0.clone(),
            name: key.1.clone(),
            consumer: key.2,
            first,
            jobs: 0,
            errors: 0,
            work: Vec::new(),
            targets: Vec::new(),
            pairs: BTreeMap::new(),
            entry_starts: Vec::new(),
            entry_weight: 0.0,
            entry_unweighted: 0,
            max_concurrent: 0,
        }
    }

    /// Adds one job: its work, its targets, which of them overlapped.
    fn add(&mut self, s: &S, job: &Job) {
        self.jobs += 1;
        self.first = self.first.min(s.start);
        if s.error() && !job.callee_failed {
            self.errors += 1;
        }
        let mut spans: Vec<(u64, u64)> = job
            .actions
            .iter()
            .map(|a| (a.1.clamp(s.start, s.end), a.2.clamp(s.start, s.end)))
            .collect();
        self.work
            .push(s.dur().saturating_sub(union(&mut spans)) as f64);
        let mut here: BTreeMap<usize, Vec<(u64, u64)>> = BTreeMap::new();
        for (t, a, b) in &job.actions {
            let i = match self.targets.iter().position(|x| &x.target == t) {
                Some(i) => i,
                None => {
                    self.targets.push(TargetObs::new(t.clone()));
                    self.targets.len() - 1
                }
            };
            here.entry(i).or_default().push((*a, *b));
        }
        for (&i, copies) in here.iter_mut() {
            copies.sort_unstable();
            let o = &mut self.targets[i];
            o.jobs_with += 1;
            o.copies.push(copies.len() as u32);
            o.offsets.push(copies[0].0.saturating_sub(s.start));
            if copies.windows(2).any(|w| w[1].0 < w[0].1) {
                o.overlapping_copies += 1;
            }
            let first = copies[0].0;
            let together = sent_together(copies);
            o.together.push(together as u32);
            let mut busy_until = copies[..together].iter().map(|c| c.1).max().unwrap_or(0);
            for c in &copies[together..] {
                if c.0 < busy_until {
                    o.late.push(c.0 - first);
                }
                busy_until = busy_until.max(c.1);
            }
        }
        let present: Vec<(&usize, &Vec<(u64, u64)>)> = here.iter().collect();
        for (x, (a, ia)) in present.iter().enumerate() {
            for (b, ib) in &present[x + 1..] {
                let overlap = ia.iter().any(|p| ib.iter().any(|q| p.0 < q.1 && q.0 < p.1));
                let e = self.pairs.entry((**a, **b)).or_default();
                e.0 += 1;
                e.1 += u64::from(overlap);
            }
        }
    }
}

impl TargetObs {
    fn new(target: Target) -> TargetObs {
        TargetObs {
            target,
            jobs_with: 0,
            copies: Vec::new(),
            overlapping_copies: 0,
            together: Vec::new(),
            late: Vec::new(),
            offsets: Vec::new(),
        }
    }
}

/// How many of a job's copies of one call (sorted by start) were sent together,
/// as a fan-out sends them: each within half the copies' median duration (at
/// least 1 ms) of the one before. A loop or `gather` sends a fan-out's copies
/// microseconds to a few milliseconds apart; a hedge goes out when a copy is
/// slow, later than that.
fn sent_together(copies: &[(u64, u64)]) -> usize {
    let mut lengths: Vec<u64> = copies.iter().map(|c| c.1.saturating_sub(c.0)).collect();
    lengths.sort_unstable();
    let gap = (lengths[lengths.len() / 2] / 2).max(1_000_000);
    1 + copies
        .windows(2)
        .take_while(|w| w[1].0.saturating_sub(w[0].0) <= gap)
        .count()
}

/// The total length of the union of intervals.
fn union(spans: &mut [(u64, u64)]) -> u64 {
    spans.sort_unstable();
    let (mut total, mut cur) = (0u64, None::<(u64, u64)>);
    for &(a, b) in spans.iter() {
        cur = match cur {
            Some((s, e)) if a <= e => Some((s, e.max(b))),
            Some((s, e)) => {
                total += e - s;
                Some((a, b))
            }
            None => Some((a, b)),
        };
    }
    total + cur.map_or(0, |(s, e)| e - s)
}

/// The most intervals open at once (an end and a start at one instant do not overlap).
fn max_concurrent(intervals: impl Iterator<Item = (u64, u64)>) -> u32 {
    let mut events: Vec<(u64, i32)> = intervals.flat_map(|(a, b)| [(a, 1), (b, -1)]).collect();
    events.sort_unstable();
    let (mut now, mut most) = (0i64, 0i64);
    for (_, d) in events {
        now += i64::from(d);
        most = most.max(now);
    }
    most as u32
}

/// Each service's most concurrent jobs (all its handlers together), services by first start.
fn service_concurrency(busy: &IndexMap<Key, Intervals>) -> Vec<(String, u32)> {
    let mut per: BTreeMap<&str, (u64, Intervals)> = BTreeMap::new();
    for ((service, _, _), iv) in busy {
        let e = per.entry(service).or_insert((u64::MAX, Vec::new()));
        e.0 = e.0.min(iv.iter().map(|x| x.0).min().unwrap_or(u64::MAX));
        e.1.extend(iv);
    }
    let mut out: Vec<(u64, String, u32)> = per
        .into_iter()
        .map(|(s, (first, iv))| (first, s.to_string(), max_concurrent(iv.into_iter())))
        .collect();
    out.sort();
    out.into_iter().map(|(_, s, m)| (s, m)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_union_counts_overlaps_once() {
        assert_eq!(union(&mut [(0, 10), (5, 20), (30, 40)]), 30);
        assert_eq!(union(&mut []), 0);
        assert_eq!(max_concurrent([(0, 10), (5, 20), (10, 12)].into_iter()), 2);
    }
}
