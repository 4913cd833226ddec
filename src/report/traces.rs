//! `traces.json`: the sampled traces in the Chrome trace event format, which
//! Perfetto and chrome://tracing open.
//!
//! Each traced request is a process (sorted slowest first) whose spans are
//! complete events (`"ph": "X"`) in simulated microseconds. Spans on one
//! track must nest, so each is laid on the first track (thread) where it fits
//! inside the span it belongs to: a sequential request stays on one track,
//! while parallel calls, hedges, work left running after a timeout, and the
//! message handlings that outlive the request go to tracks of their own.

use std::fmt::Write as _;

use crate::engine::Time;
use crate::model::calls::Outcome;
use crate::model::trace::{Span, SpanKind, SpanRef, Traces};
use crate::scenario::Scenario;

/// An outcome's name in the trace files (traces.json, traces.otlp.json).
pub(crate) fn outcome_name(o: Outcome) -> &'static str {
    match o {
        Outcome::Ok => "ok",
        Outcome::ServerError => "failed",
        Outcome::ConnectFailure => "connect_failure",
        Outcome::Rejected => "rejected",
        Outcome::TimedOut => "timed_out",
        Outcome::ShortCircuited => "short_circuited",
    }
}

fn us(t: Time) -> f64 {
    t as f64 / 1e3
}

fn endpoint_name(s: &Scenario, e: u32) -> String {
    let e = &s.endpoints[e as usize];
    format!("{}.{}", s.services[e.service].name, e.name)
}

/// The name, category and arguments (as a JSON object) of a span: `span` is
/// its number within its trace, `parent` its parent's (absent for a root).
fn describe(
    s: &Scenario,
    span: &Span,
    number: usize,
    parent: Option<usize>,
) -> (String, &'static str, String) {
    let mut args: Vec<String> = vec![format!("\"span\":{number}")];
    if let Some(p) = parent {
        args.push(format!("\"parent\":{p}"));
    }
    if let Some(o) = span.outcome {
        args.push(format!("\"outcome\":\"{}\"", outcome_name(o)));
    }
    let (name, cat) = match span.kind {
        SpanKind::Request { workload } => (s.workloads[workload as usize].name.clone(), "request"),
        SpanKind::Call { site } => (s.call_sites[site as usize].key.clone(), "call"),
        SpanKind::Attempt { endpoint, n, hedge } => {
            let what = if hedge { "hedge" } else { "attempt" };
            args.push(format!("\"attempt\":{n}"));
            (
                format!("{what} {n} → {}", endpoint_name(s, endpoint)),
                "attempt",
            )
        }
        SpanKind::Network { from, to } => (
            format!(
                "network {} → {}",
                s.datacenters[from as usize], s.datacenters[to as usize]
            ),
            "network",
        ),
        SpanKind::Job { endpoint, replica } => {
            args.push(format!("\"replica\":{replica},\"ok\":{}", span.ok));
            (endpoint_name(s, endpoint), "service")
        }
        SpanKind::Queue => ("queue".to_string(), "queue"),
        SpanKind::Work => ("work".to_string(), "work"),
        SpanKind::Publish { topic } => {
            let b = s.broker.as_ref().expect("publish needs a broker");
            (
                format!("publish {}", b.topics[topic as usize].name),
                "event",
            )
        }
        SpanKind::Message { topic, group } => {
            let b = s.broker.as_ref().expect("messages need a broker");
            args.push(format!("\"handled\":{}", span.ok));
            (
                format!(
                    "{} → {}",
                    b.topics[topic as usize].name, s.consumers[group as usize].group
                ),
                "event",
            )
        }
    };
    (name, cat, format!("{{{}}}", args.join(",")))
}

/// A JSON string literal.
fn q(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

/// One trace's spans in the order to write them (each parent before its
/// children, siblings by start), with each one's track and parent (an index
/// into the returned order).
///
/// A span goes on its parent's track when it fits there: inside the parent and
/// clear of everything else on the track but its ancestors. Otherwise (a
/// parallel sibling, work that outlives a timed-out caller) it goes on the first
/// later track where it fits that way, and its own children follow it there.
/// Spans whose parent was not recorded (a message's handlings, a request still
/// in flight) are roots.
fn layout(spans: &[(usize, &Span)]) -> Vec<(usize, usize, Option<usize>)> {
    let n = spans.len();
    let by_ref: std::collections::HashMap<SpanRef, usize> = spans
        .iter()
        .enumerate()
        .filter(|(_, (_, sp))| !sp.of.is_none())
        .map(|(i, (_, sp))| (sp.of, i))
        .collect();
    let parent: Vec<Option<usize>> = spans
        .iter()
        .map(|(_, sp)| by_ref.get(&sp.parent).copied())
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, p) in parent.iter().enumerate() {
        match p {
            Some(p) if *p != i => children[*p].push(i),
            _ => roots.push(i),
        }
    }
    // Earlier start first, then the longer; then the one recorded later (of two
    // spans with the same bounds, the outer one ends its work last).
    let key = |&i: &usize| {
        let (rec, sp) = spans[i];
        (sp.start, std::cmp::Reverse(sp.end), std::cmp::Reverse(rec))
    };
    roots.sort_by_key(key);
    for c in &mut children {
        c.sort_by_key(key);
    }
    // Each track's spans, and the latest end among them (a span that starts
    // after it fits at once: the common case of parallel siblings).
    let mut tracks: Vec<(Vec<usize>, Time)> = Vec::new();
    let mut track_of = vec![0usize; n];
    let mut is_ancestor = vec![false; n];
    let mut out = Vec::with_capacity(n);
    let mut position = vec![0usize; n];
    // Depth-first, iteratively: (span, entering) pairs.
    let mut stack: Vec<(usize, bool)> = roots.iter().rev().map(|&r| (r, true)).collect();
    while let Some((i, entering)) = stack.pop() {
        if !entering {
            is_ancestor[i] = false;
            continue;
        }
        let sp = spans[i].1;
        // Two spans that only touch are apart, unless one has no length (a
        // viewer could not tell which one it belongs to).
        let long = sp.end > sp.start;
        let fits = |(track, last_end): &(Vec<usize>, Time)| {
            *last_end < sp.start
                || (*last_end == sp.start && long)
                || track.iter().all(|&j| {
                    let o = spans[j].1;
                    let both_long = long && o.end > o.start;
                    o.end < sp.start
                        || o.end == sp.start && both_long
                        || o.start > sp.end
                        || o.start == sp.end && both_long
                        || is_ancestor[j] && o.start <= sp.start && o.end >= sp.end
                })
        };
        // A span outside its parent's time (an answer arriving after its
        // attempt timed out) starts looking one track further down.
        let first = parent[i].map_or(0, |p| {
            let o = spans[p].1;
            track_of[p] + usize::from(!(o.start <= sp.start && o.end >= sp.end))
        });
        let t = (first..tracks.len())
            .find(|&t| fits(&tracks[t]))
            .unwrap_or_else(|| {
                tracks.push((Vec::new(), 0));
                tracks.len() - 1
            });
        tracks[t].0.push(i);
        tracks[t].1 = tracks[t].1.max(sp.end);
        track_of[i] = t;
        position[i] = out.len();
        out.push((i, t, parent[i].map(|p| position[p])));
        is_ancestor[i] = true;
        stack.push((i, false));
        for &c in children[i].iter().rev() {
            stack.push((c, true));
        }
    }
    out
}

/// The traces as Chrome trace event JSON.
pub fn traces_json(s: &Scenario, traces: &Traces) -> Vec<u8> {
    let mut ids: Vec<u32> = traces.spans.iter().map(|s| s.trace).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut by_trace: Vec<Vec<(usize, &Span)>> = vec![Vec::new(); ids.len()];
    for (i, span) in traces.spans.iter().enumerate() {
        let t = ids.binary_search(&span.trace).expect("a listed trace");
        by_trace[t].push((i, span));
    }
    // Slowest request first; unanswered ones last.
    let root = |spans: &Vec<(usize, &Span)>| {
        spans
            .iter()
            .find(|(_, sp)| matches!(sp.kind, SpanKind::Request { .. }))
            .map(|&(_, sp)| *sp)
    };
    let mut order: Vec<usize> = (0..by_trace.len()).collect();
    order
        .sort_by_key(|&t| std::cmp::Reverse(root(&by_trace[t]).map_or(0, |r| r.end - r.start + 1)));
    let mut out = String::with_capacity(traces.spans.len() * 200 + 1024);
    let _ = write!(
        out,
        "{{\"displayTimeUnit\":\"ms\",\"otherData\":{{\"scenario\":{},\"clock\":{},\"sample\":{},\"effective_sample\":{},\"traces\":{},\"spans_dropped\":{},\"sampling_stopped_s\":{}}},\"traceEvents\":[",
        q(&s.name),
        q("simulated time, microseconds from the start of the run"),
        traces.sample,
        traces.effective_sample,
        ids.len(),
        traces.dropped,
        traces
            .stopped
            .map_or("null".to_string(), |t| (t as f64 / 1e9).to_string())
    );
    let mut first = true;
    let mut event = |out: &mut String, text: std::fmt::Arguments| {
        if !first {
            out.push(',');
        }
        first = false;
        out.push('\n');
        let _ = out.write_fmt(text);
    };
    for (rank, &t) in order.iter().enumerate() {
        let spans = std::mem::take(&mut by_trace[t]);
        let pid = t + 1;
        let title = match spans
            .iter()
            .find(|(_, sp)| matches!(sp.kind, SpanKind::Request { .. }))
        {
            Some((_, r)) => {
                let (name, _, _) = describe(s, r, 0, None);
                format!(
                    "{name} #{pid}: {:.3} ms, {}",
                    (r.end - r.start) as f64 / 1e6,
                    r.outcome.map_or("?", outcome_name)
                )
            }
            None if traces.cut.contains(&ids[t]) => {
                format!("request #{pid}: cut short (the span limit was reached)")
            }
            None => format!("request #{pid}: unanswered at the end of the run"),
        };
        let title = if traces.cut.contains(&ids[t]) && !title.contains("cut short") {
            format!("{title} (cut short: the span limit was reached)")
        } else {
            title
        };
        event(
            &mut out,
            format_args!(
                "{{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":{pid},\"tid\":0,\"args\":{{\"name\":{}}}}}",
                q(&title)
            ),
        );
        event(
            &mut out,
            format_args!(
                "{{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":{pid},\"tid\":0,\"args\":{{\"sort_index\":{rank}}}}}"
            ),
        );
        let placed = layout(&spans);
        let lane_count = placed.iter().map(|p| p.1 + 1).max().unwrap_or(0);
        for lane in 0..lane_count {
            event(
                &mut out,
                format_args!(
                    "{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":{pid},\"tid\":{lane},\"args\":{{\"name\":\"track {lane}\"}}}}"
                ),
            );
        }
        for (k, &(i, lane, parent)) in placed.iter().enumerate() {
            let span = spans[i].1;
            let (name, cat, args) = describe(s, span, k, parent);
            event(
                &mut out,
                format_args!(
                    "{{\"ph\":\"X\",\"name\":{},\"cat\":\"{cat}\",\"pid\":{pid},\"tid\":{lane},\"ts\":{},\"dur\":{},\"args\":{args}}}",
                    q(&name),
                    us(span.start),
                    us(span.end - span.start)
                ),
            );
        }
    }
    out.push_str("\n]}\n");
    out.into_bytes()
}
