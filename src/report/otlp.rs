//! `traces.otlp.json`: the sampled traces as one OTLP/JSON
//! `ExportTraceServiceRequest` (`run --export-traces otlp`), for tracing
//! back ends and for `meshsim import`.
//!
//! One `resourceSpans` entry per service that emitted a span (scenario order,
//! the gateway as `gateway`), its `service.name` the service's, one
//! `scopeSpans` with scope `meshsim`. The JSON encoding is OTLP's: lowerCamelCase
//! keys, ids in lowercase hex (32 and 16 characters), times as decimal strings
//! of Unix nanoseconds (simulated time 0 is [`EPOCH_NS`], so the bytes depend
//! only on the scenario and seed), kinds and status codes as integers, 64-bit
//! integers as strings. Which simulator spans become which OpenTelemetry spans
//! is [`super::otlp_map`]'s. Written to any `io::Write`, span by span: the
//! text is never held whole.

use std::io::{self, Write};

use super::otlp_map::{Mapped, OtelSpan, What, trace_id};
use crate::engine::Time;
use crate::model::calls::Outcome;
use crate::model::trace::Traces;
use crate::scenario::Scenario;
use crate::scenario::spec::BrokerKind;

/// Simulated time 0: 2026-01-01T00:00:00Z, in Unix nanoseconds.
pub const EPOCH_NS: u64 = 1_767_225_600_000_000_000;

/// Writes the run's whole traces as OTLP/JSON to `out`; returns what was mapped
/// (the spans written and what was left out).
pub fn write_otlp(
    s: &Scenario,
    seed: u64,
    traces: &Traces,
    out: &mut dyn Write,
) -> io::Result<Mapped> {
    let m = super::otlp_map::map(s, traces);
    // Spans by service, each service's in trace order (a counting sort).
    let mut per_service: Vec<Vec<u32>> = vec![Vec::new(); s.services.len()];
    for (i, sp) in m.spans.iter().enumerate() {
        per_service[sp.service as usize].push(i as u32);
    }
    let share = traces.effective_sample;
    out.write_all(b"{\"resourceSpans\":[")?;
    let mut first_resource = true;
    for (svc, spans) in per_service.iter().enumerate() {
        if spans.is_empty() {
            continue;
        }
        if !first_resource {
            out.write_all(b",")?;
        }
        first_resource = false;
        write!(
            out,
            "\n{{\"resource\":{{\"attributes\":[{}]}},\"scopeSpans\":[{{\"scope\":{{\"name\":\"meshsim\",\"version\":\"{}\"}},\"spans\":[",
            attr_str("service.name", &s.services[svc].name),
            env!("CARGO_PKG_VERSION")
        )?;
        for (k, &i) in spans.iter().enumerate() {
            if k > 0 {
                out.write_all(b",")?;
            }
            out.write_all(b"\n")?;
            write_span(out, s, seed, &m.spans[i as usize], share)?;
        }
        out.write_all(b"]}]}")?;
    }
    out.write_all(b"\n]}\n")?;
    Ok(m)
}

/// A JSON string literal.
fn q(s: &str) -> String {
    serde_json::to_string(s).expect("strings serialise")
}

fn attr_str(key: &str, v: &str) -> String {
    format!(
        "{{\"key\":{},\"value\":{{\"stringValue\":{}}}}}",
        q(key),
        q(v)
    )
}

/// An int64 attribute (a decimal string, as proto3's JSON mapping has it).
fn attr_int(key: &str, v: i64) -> String {
    format!("{{\"key\":{},\"value\":{{\"intValue\":\"{v}\"}}}}", q(key))
}

fn attr_f64(key: &str, v: f64) -> String {
    format!("{{\"key\":{},\"value\":{{\"doubleValue\":{v}}}}}", q(key))
}

/// The span's name and attributes, and its error message when it failed.
fn describe(s: &Scenario, sp: &OtelSpan) -> (String, Vec<String>, &'static str) {
    let endpoint = |e: u32| &s.endpoints[e as usize];
    let broker = || s.broker.as_ref().expect("messages need a broker");
    let system = || match broker().kind {
        BrokerKind::Kafka => "kafka",
        BrokerKind::Rabbitmq => "rabbitmq",
    };
    match sp.what {
        What::Job {
            endpoint: e,
            group: None,
        } => {
            let name = endpoint(e).name.clone();
            let code = if sp.error { 500 } else { 200 };
            let attrs = vec![
                attr_str("http.route", &name),
                attr_int("http.status_code", code),
            ];
            (name, attrs, "failed")
        }
        What::Job { group: Some(g), .. } => {
            let c = &s.consumers[g as usize];
            let topic = &broker().topics[c.topic].name;
            let attrs = vec![
                attr_str("messaging.system", system()),
                attr_str("messaging.destination.name", topic),
                attr_str("messaging.operation", "process"),
                attr_str("messaging.consumer.group.name", &c.group),
            ];
            (format!("{topic} process"), attrs, "failed")
        }
        What::Attempt {
            endpoint: e,
            n,
            hedge,
            outcome,
        } => describe_attempt(s, e, n, hedge, outcome),
        What::Publish { topic } => {
            let topic = &broker().topics[topic as usize].name;
            let attrs = vec![
                attr_str("messaging.system", system()),
                attr_str("messaging.destination.name", topic),
                attr_str("messaging.operation", "publish"),
            ];
            (format!("{topic} publish"), attrs, "failed")
        }
    }
}

/// A CLIENT span's name, attributes and error message.
fn describe_attempt(
    s: &Scenario,
    e: u32,
    n: u16,
    hedge: bool,
    outcome: Outcome,
) -> (String, Vec<String>, &'static str) {
    let callee = &s.endpoints[e as usize];
    let service = &s.services[callee.service].name;
    let mut attrs = vec![
        attr_str("peer.service", service),
        attr_str("http.url", &format!("http://{service}/{}", callee.name)),
        attr_int("meshsim.attempt", i64::from(n)),
    ];
    if hedge {
        attrs.push(attr_str("meshsim.hedge", "true"));
    }
    let code = match outcome {
        Outcome::Ok => Some(200),
        Outcome::ServerError => Some(500),
        Outcome::Rejected => Some(503),
        _ => None,
    };
    if let Some(c) = code {
        attrs.push(attr_int("http.status_code", c));
    }
    let name = format!("{service} {}", callee.name);
    (name, attrs, super::traces::outcome_name(outcome))
}

fn ns(t: Time) -> u64 {
    EPOCH_NS.saturating_add(t)
}

/// One span object; roots carry the sampling share.
fn write_span(
    out: &mut dyn Write,
    s: &Scenario,
    seed: u64,
    sp: &OtelSpan,
    share: f64,
) -> io::Result<()> {
    let (name, mut attrs, message) = describe(s, sp);
    if sp.parent.is_none() {
        attrs.push(attr_str("sampler.type", "probabilistic"));
        attrs.push(attr_f64("sampler.param", share));
    }
    write!(
        out,
        "{{\"traceId\":\"{:032x}\",\"spanId\":\"{:016x}\",",
        trace_id(seed, sp.trace),
        sp.id
    )?;
    if let Some(p) = sp.parent {
        write!(out, "\"parentSpanId\":\"{p:016x}\",")?;
    }
    write!(
        out,
        "\"name\":{},\"kind\":{},\"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",\"attributes\":[{}]",
        q(&name),
        sp.kind as u8,
        ns(sp.start),
        ns(sp.end),
        attrs.join(",")
    )?;
    if sp.error {
        write!(out, ",\"status\":{{\"code\":2,\"message\":{}}}", q(message))?;
    }
    out.write_all(b"}")
}
