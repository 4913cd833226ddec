//! The trace readers (`src/import/`): the same spans from every format, and
//! the memory budget (bad inputs are in `import_bad_input.rs`).
//!
//! The fixtures in `data/traces/` are written by `data/traces/make.py`.

use std::io::Write;

use meshsim::cli::traces::read_files;
use meshsim::import::{Budget, Format, Kind, Reader, Spans, Status, summary};
use serde_json::{Value, json};

pub(crate) fn data(name: &str) -> String {
    format!("{}/tests/it/data/traces/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// A span with its names resolved, times in microseconds.
#[derive(Debug, PartialEq)]
pub(crate) struct Flat {
    pub trace: u128,
    pub id: u64,
    pub parent: Option<u64>,
    pub link: Option<u64>,
    pub service: String,
    pub name: String,
    pub kind: Kind,
    pub start_us: u64,
    pub end_us: u64,
    pub status: Status,
    pub http_status: u16,
    pub destination: String,
    pub system: String,
    pub sample_ratio: Option<f64>,
}

pub(crate) fn flat(s: &Spans) -> Vec<Flat> {
    let name = |n| s.names.get(n).to_string();
    s.spans
        .iter()
        .map(|x| Flat {
            trace: x.trace,
            id: x.id,
            parent: x.parent,
            link: x.link,
            service: name(x.service),
            name: name(x.name),
            kind: x.kind,
            start_us: x.start_ns / 1000,
            end_us: x.end_ns / 1000,
            status: x.status,
            http_status: x.http_status,
            destination: name(x.destination),
            system: name(x.system),
            sample_ratio: x.sample_ratio,
        })
        .collect()
}

pub(crate) fn read(name: &str) -> Spans {
    read_files(&[data(name)], Format::Auto).unwrap_or_else(|e| panic!("{e}"))
}

/// Reads `text` as a file named `name`.
pub(crate) fn read_text(name: &str, text: &[u8], budget: Budget) -> Result<Spans, String> {
    let mut r = Reader::new(budget);
    r.read(name, text, Format::Auto)
        .map_err(|e| e.to_string())?;
    Ok(r.finish())
}

pub(crate) fn bad(text: &str) -> String {
    read_text("bad.json", text.as_bytes(), Budget::default()).expect_err("an error")
}

pub(crate) const A: &str = "0af7651916cd43dd8448eb211c80319c";

/// An OTLP span in trace A, times in microseconds.
pub(crate) fn span(id: &str, parent: &str, start_us: u64, end_us: u64) -> Value {
    json!({"traceId": A, "spanId": id, "parentSpanId": parent, "name": "op", "kind": 2,
           "startTimeUnixNano": (1_700_000_000_000_000 + start_us) * 1000,
           "endTimeUnixNano": (1_700_000_000_000_000 + end_us) * 1000})
}

pub(crate) fn resource(service: &str, spans: Vec<Value>) -> Value {
    json!({"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]},
           "scopeSpans": [{"spans": spans}]})
}

pub(crate) fn doc(resources: Vec<Value>) -> String {
    json!({ "resourceSpans": resources }).to_string()
}

#[test]
fn every_format_gives_the_same_spans() {
    let otlp = flat(&read("otlp.json"));
    assert_eq!(otlp.len(), 7);
    for (file, links) in [
        ("otlp.jsonl", true),
        ("jaeger.json", true),
        ("jaeger-ui.json", true),
        ("zipkin.json", false),
    ] {
        let spans = read(file);
        assert!(spans.notes.is_empty(), "{file}: {:?}", spans.notes);
        let mut got = flat(&spans);
        if !links {
            // Zipkin has no links: the consumer in its own trace has none.
            got[6].link = otlp[6].link;
        }
        assert_eq!(got, otlp, "{file}");
    }
}

#[test]
fn the_fixture_spans_are_read_as_written() {
    let s = read("otlp.json");
    let f = flat(&s);
    let services: Vec<&str> = (0..4).map(|n| s.names.get(n)).collect();
    assert_eq!(s.names.get(0), "gateway", "names in first-seen order");
    assert_eq!(
        s.names.get(1),
        "/checkout",
        "http.route names the operation"
    );
    assert!(
        ["gateway", "orders", "billing", "emails"]
            .iter()
            .all(|x| s.names.find(x).is_some()),
        "{services:?}"
    );
    assert_eq!(
        (f[0].kind, f[0].status, f[0].http_status, f[0].sample_ratio),
        (Kind::Server, Status::Ok, 200, Some(0.5))
    );
    assert_eq!(
        (f[1].kind, f[1].status, f[1].name.as_str()),
        (Kind::Client, Status::Error, "POST"),
        "HTTP 500 is an error"
    );
    assert_eq!(
        (f[2].kind, f[2].parent),
        (Kind::Internal, Some(0xb7ad6b7169203331))
    );
    assert_eq!(
        (f[3].service.as_str(), f[3].status, f[3].parent),
        ("orders", Status::Error, Some(0x00f067aa0ba902b7))
    );
    assert_eq!(
        (f[4].kind, f[4].destination.as_str(), f[4].system.as_str()),
        (Kind::Producer, "orders", "kafka")
    );
    assert_eq!(
        (f[5].kind, f[5].parent, f[5].start_us - f[0].start_us),
        (Kind::Consumer, Some(0x4c3e0b7a1fa8e2d1), 25_000)
    );
    assert_eq!(
        (f[6].parent, f[6].link, f[6].trace),
        (
            None,
            Some(0x4c3e0b7a1fa8e2d1),
            0x5b8efff798038103d269b633813fc60c
        )
    );
    assert_eq!(f[0].end_us - f[0].start_us, 45_000);
    let text = summary(&s);
    assert!(
        text.starts_with("7 spans in 2 traces over 0.0450 s from 1 file\n"),
        "{text}"
    );
    assert!(
        text.contains("services: gateway 3, orders 2, billing 1, emails 1"),
        "{text}"
    );
}

#[test]
fn a_named_format_is_used_as_named() {
    let s = read_files(&[data("otlp.jsonl")], Format::Otlp).unwrap();
    assert_eq!(s.spans.len(), 7);
    let e = read_files(&[data("otlp.jsonl")], Format::Zipkin)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("otlp.jsonl:1:1: invalid type: map, expected a list of Zipkin spans"),
        "{e}"
    );
    assert_eq!("jaeger".parse::<Format>(), Ok(Format::Jaeger));
    assert!(
        "xml"
            .parse::<Format>()
            .unwrap_err()
            .contains("auto, otlp, jaeger or zipkin")
    );
}

#[test]
fn zipkin_lists_of_traces_and_short_trace_ids() {
    let text = r#"[[{"traceId":"463ac35c9f6413ad","id":"a2fb4a1d1a96d312","kind":"SERVER","name":"get",
        "timestamp":1700000000000000,"duration":150,"localEndpoint":{"serviceName":"frontend"}}]]"#;
    let s = read_text("z.json", text.as_bytes(), Budget::default()).unwrap();
    assert_eq!(
        s.spans[0].trace, 0x463ac35c9f6413ad,
        "64-bit trace ids are zero-extended"
    );
    assert_eq!(s.spans[0].duration_ns(), 150_000);
}

#[test]
fn a_bare_jaeger_trace_and_an_unknown_process() {
    let text = r#"{"traceID":"463ac35c9f6413ad","spans":[{"spanID":"a2fb4a1d1a96d312","operationName":"get",
        "references":[],"startTime":1700000000000000,"duration":150,"tags":[],"processID":"p9"}],
        "processes":{"p1":{"serviceName":"frontend"}}}"#;
    let s = read_text("j.json", text.as_bytes(), Budget::default()).unwrap();
    assert_eq!(
        s.spans[0].trace, 0x463ac35c9f6413ad,
        "the trace's id when the span has none"
    );
    assert_eq!(s.names.get(s.spans[0].service), "unknown_service");
    assert_eq!(
        s.notes[0].example,
        "j.json: span \"a2fb4a1d1a96d312\" of trace \"463ac35c9f6413ad\""
    );
}

/// JSON Lines of `traces` traces of `per` spans each, one document a line.
fn lines(traces: u64, per: u64, out: &mut impl Write) {
    for t in 0..traces {
        let spans: Vec<Value> = (0..per)
            .map(|i| {
                let parent = if i == 0 {
                    String::new()
                } else {
                    format!("{:016x}", t * 1000 + 1)
                };
                let mut s = span(&format!("{:016x}", t * 1000 + i + 1), &parent, i, i + 5);
                s["traceId"] = json!(format!("{:032x}", t + 1));
                s
            })
            .collect();
        writeln!(out, "{}", doc(vec![resource("svc", spans)])).unwrap();
    }
}

#[test]
fn over_the_budget_whole_traces_are_sampled_deterministically() {
    let mut text = Vec::new();
    lines(400, 10, &mut text);
    let budget = Budget {
        max_spans: 1000,
        ..Budget::default()
    };
    let s = read_text("big.jsonl", &text, budget.clone()).unwrap();
    assert!(
        s.spans.len() < 1000 && s.spans.len() >= 100,
        "{}",
        s.spans.len()
    );
    let mut per_trace = std::collections::BTreeMap::new();
    for x in &s.spans {
        *per_trace.entry(x.trace).or_insert(0) += 1;
    }
    assert!(
        per_trace.values().all(|&n| n == 10),
        "whole traces are kept"
    );
    let note = s.notes.last().unwrap();
    let expected = format!(
        "over the budget of 1000 spans: kept the traces whose id hash falls in 1/8 of the range ({} traces, about {} read)",
        per_trace.len(),
        per_trace.len() * 8
    );
    assert_eq!(
        note.what, expected,
        "this input halves the sample three times"
    );
    assert_eq!(note.count, 4000 - s.spans.len() as u64);
    assert_eq!(
        note.example,
        format!("{} of 4000 spans kept", s.spans.len())
    );
    let again = read_text("big.jsonl", &text, budget).unwrap();
    assert_eq!(flat(&again), flat(&s), "the same sample every time");
}
