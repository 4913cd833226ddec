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
use crate::model::trace::{Span, SpanKind, Traces};
use crate::scenario::Scenario;

fn outcome_name(o: Outcome) -> &'static str {
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

/// The name, category and arguments (as a JSON object) of a span.
fn describe(s: &Scenario, span: &Span) -> (String, &'static str, String) {
    let mut args: Vec<String> = Vec::new();
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

/// Lays spans (sorted parent-first) on tracks where they nest; returns each one's track.
fn tracks(spans: &[&Span]) -> Vec<usize> {
    let mut stacks: Vec<Vec<Time>> = Vec::new();
    let mut out = Vec::with_capacity(spans.len());
    for span in spans {
        let mut placed = None;
        for (i, stack) in stacks.iter_mut().enumerate() {
            while stack.last().is_some_and(|&end| end <= span.start) {
                stack.pop();
            }
            if stack.last().is_none_or(|&end| end >= span.end) {
                stack.push(span.end);
                placed = Some(i);
                break;
            }
        }
        let i = placed.unwrap_or_else(|| {
            stacks.push(vec![span.end]);
            stacks.len() - 1
        });
        out.push(i);
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
        "{{\"displayTimeUnit\":\"ms\",\"otherData\":{{\"scenario\":{},\"clock\":{},\"sample\":{},\"effective_sample\":{},\"traces\":{},\"spans_dropped\":{}}},\"traceEvents\":[",
        q(&s.name),
        q("simulated time, microseconds from the start of the run"),
        traces.sample,
        traces.effective_sample,
        ids.len(),
        traces.dropped
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
        let mut spans = std::mem::take(&mut by_trace[t]);
        // Parents first: earlier start, then later end, then recorded later
        // (a span is recorded when it ends, after the spans inside it).
        spans.sort_by(|a, b| {
            a.1.start
                .cmp(&b.1.start)
                .then(b.1.end.cmp(&a.1.end))
                .then(b.0.cmp(&a.0))
        });
        let pid = t + 1;
        let title = match spans
            .iter()
            .find(|(_, sp)| matches!(sp.kind, SpanKind::Request { .. }))
        {
            Some((_, r)) => {
                let (name, _, _) = describe(s, r);
                format!(
                    "{name} #{pid}: {:.3} ms, {}",
                    (r.end - r.start) as f64 / 1e6,
                    r.outcome.map_or("?", outcome_name)
                )
            }
            None => format!("request #{pid}: unanswered at the end of the run"),
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
        let refs: Vec<&Span> = spans.iter().map(|&(_, sp)| sp).collect();
        let lanes = tracks(&refs);
        let lane_count = lanes.iter().max().map_or(0, |m| m + 1);
        for lane in 0..lane_count {
            event(
                &mut out,
                format_args!(
                    "{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":{pid},\"tid\":{lane},\"args\":{{\"name\":\"track {lane}\"}}}}"
                ),
            );
        }
        for (span, lane) in refs.iter().zip(lanes) {
            let (name, cat, args) = describe(s, span);
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
