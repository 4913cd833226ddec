//! Bad trace files (issue 14, item 5): each is an error naming the file, the
//! line and column where there is one, and the trace and span; or a repair
//! counted in a note whose example names them. Never a panic.

use meshsim::cli::traces::{read_files, read_files_with};
use meshsim::import::{Budget, Format};
use serde_json::json;

use super::import_readers::{A, bad, data, doc, flat, read_text, resource, span};

#[test]
fn malformed_json_names_the_line_and_column() {
    let lines = std::fs::read_to_string(data("otlp.jsonl")).unwrap();
    let cut = &lines[..lines.len() - 40];
    let e = read_text("cut.jsonl", cut.as_bytes(), Budget::default()).unwrap_err();
    assert!(
        e.starts_with("cut.jsonl:3:") && e.contains("EOF while parsing"),
        "{e}"
    );
    let e = bad("{\"resourceSpans\":[}");
    assert_eq!(e, "bad.json:1:19: expected value");
    let e = bad(&format!(
        "{}\noops\n",
        doc(vec![resource(
            "svc",
            vec![span("00000000000000a1", "", 0, 10)]
        )])
    ));
    assert_eq!(e, "bad.json:2:1: expected value");
}

#[test]
fn a_span_without_times_is_an_error_naming_it() {
    let mut s = span("00000000000000a1", "", 0, 10);
    s.as_object_mut().unwrap().remove("startTimeUnixNano");
    let e = bad(&doc(vec![resource("svc", vec![s])]));
    assert!(e.starts_with("bad.json:1:"), "{e}");
    assert!(
        e.contains(&format!(
            "span \"00000000000000a1\" of trace \"{A}\": startTimeUnixNano is missing"
        )),
        "{e}"
    );
    let e = bad(
        r#"[{"traceId":"463ac35c9f6413ad","id":"a2fb4a1d1a96d312","name":"get","timestamp":1700000000000000}]"#,
    );
    assert!(
        e.contains("span \"a2fb4a1d1a96d312\" of trace \"463ac35c9f6413ad\": duration is missing"),
        "{e}"
    );
    let e = bad(&doc(vec![resource(
        "svc",
        vec![span("00000000000000a1", "", 10, 5)],
    )]));
    assert!(
        e.contains("00000000000000a1") && e.contains("is before startTimeUnixNano"),
        "{e}"
    );
}

#[test]
fn a_missing_parent_makes_a_root_and_is_counted() {
    let text = doc(vec![resource(
        "svc",
        vec![span("00000000000000a1", "00000000000000ff", 0, 10)],
    )]);
    let s = read_text("orphan.json", text.as_bytes(), Budget::default()).unwrap();
    assert_eq!(s.spans[0].parent, None);
    let n = &s.notes[0];
    assert_eq!(
        (n.what.as_str(), n.count),
        ("parent not among the spans read (made a root)", 1)
    );
    assert_eq!(
        n.example,
        format!("orphan.json: span 00000000000000a1 of trace {A} (parent 00000000000000ff)")
    );
}

#[test]
fn the_same_span_twice_is_kept_once_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let text = doc(vec![resource(
        "svc",
        vec![span("00000000000000a1", "", 0, 10)],
    )]);
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&a, &text).unwrap();
    std::fs::write(&b, format!("{text}\n{text}\n")).unwrap();
    let s = read_files(&[&a, &b], Format::Auto).unwrap();
    assert_eq!(s.spans.len(), 1);
    assert_eq!(s.spans[0].file, 0, "the first in file order is kept");
    let n = &s.notes[0];
    assert_eq!(
        (n.what.as_str(), n.count),
        ("span seen more than once (kept once)", 2)
    );
    assert_eq!(
        n.example,
        format!("{}: span 00000000000000a1 of trace {A}", b.display())
    );
}

#[test]
fn clock_skew_moves_a_child_and_its_subtree_into_its_parent() {
    // The client in `front` starts at 1000 µs; its server in `back` claims 900 µs
    // (back's clock is 300 µs slow), and back's own client call follows it.
    let text = doc(vec![
        resource(
            "front",
            vec![
                span("00000000000000a1", "", 0, 5000),
                span("00000000000000a2", "00000000000000a1", 1000, 4000),
            ],
        ),
        resource(
            "back",
            vec![
                span("00000000000000b1", "00000000000000a2", 700, 3500),
                span("00000000000000b2", "00000000000000b1", 800, 1800),
            ],
        ),
    ]);
    let s = read_text("skew.json", text.as_bytes(), Budget::default()).unwrap();
    let f = flat(&s);
    let t0 = f[0].start_us;
    assert_eq!(
        (f[2].start_us - t0, f[2].end_us - t0),
        (1000, 3800),
        "clamped, duration kept"
    );
    assert_eq!(
        (f[3].start_us - t0, f[3].end_us - t0),
        (1100, 2100),
        "moved with its parent"
    );
    let n = &s.notes[0];
    assert_eq!(
        (n.what.as_str(), n.count),
        (
            "span starting before its parent (clock skew: moved to start with it)",
            1
        )
    );
    assert_eq!(
        n.example,
        format!("skew.json: span 00000000000000b1 of trace {A} (by 300 µs)")
    );
}

#[test]
fn a_cycle_of_parents_is_broken() {
    let text = doc(vec![resource(
        "svc",
        vec![
            span("00000000000000a1", "00000000000000a2", 0, 10),
            span("00000000000000a2", "00000000000000a1", 0, 10),
        ],
    )]);
    let s = read_text("cycle.json", text.as_bytes(), Budget::default()).unwrap();
    assert_eq!((s.spans[0].parent, s.spans[1].parent), (None, Some(0xa1)));
    assert_eq!(s.notes[0].count, 1);
    assert_eq!(
        s.notes[0].example,
        format!("cycle.json: span 00000000000000a1 of trace {A}")
    );
}

#[test]
fn ids_that_are_not_hex_are_named() {
    let e = bad(&doc(vec![resource("svc", vec![span("zz12", "", 0, 10)])]));
    assert!(
        e.contains(&format!(
            "span \"zz12\" of trace \"{A}\": spanId \"zz12\" is not an id: expected at most 16 hex digits"
        )),
        "{e}"
    );
    // Padded base64, as protobuf's JSON mapping writes ids, is read as the same id.
    let mut s = span("AAAAAAAAAKE=", "", 0, 10);
    s["traceId"] = json!("CvdlGRbNQ92ESOshHIAxnA==");
    let spans = read_text(
        "b64.json",
        doc(vec![resource("svc", vec![s])]).as_bytes(),
        Budget::default(),
    )
    .unwrap();
    assert_eq!(
        (format!("{:032x}", spans.spans[0].trace), spans.spans[0].id),
        (A.to_string(), 0xa1)
    );
    // Unpadded, or of the wrong length, it is named.
    let mut s = span("00000000000000a1", "", 0, 10);
    s["traceId"] = json!("CvdlGRbNQ92ESOshHIAxnA");
    let e = bad(&doc(vec![resource("svc", vec![s])]));
    assert!(
        e.contains(
            "span \"00000000000000a1\" of trace \"CvdlGRbNQ92ESOshHIAxnA\": traceId \
             \"CvdlGRbNQ92ESOshHIAxnA\" is not an id: expected at most 32 hex digits \
             (or the padded base64 of 16 bytes)"
        ),
        "{e}"
    );
    let e = bad(&doc(vec![resource(
        "svc",
        vec![span("00000000000000a1", "xyz", 0, 10)],
    )]));
    assert!(e.contains("parentSpanId \"xyz\" is not"), "{e}");
}

#[test]
fn bytes_that_are_not_utf8_are_named_by_offset() {
    let text = doc(vec![resource(
        "svc",
        vec![span("00000000000000a1", "", 0, 10)],
    )]);
    let mut bytes = text.clone().into_bytes();
    let at = text.find("\"op\"").unwrap() + 2;
    bytes[at] = 0xff;
    let e = read_text("latin.json", &bytes, Budget::default()).unwrap_err();
    assert_eq!(
        e,
        format!(
            "latin.json: not UTF-8: byte 0xff at byte offset {at} (JSON traces are UTF-8 text)"
        )
    );
    // In a field no reader looks at, too; and a character cut at the end.
    let at = text.find("svc").unwrap();
    bytes = text.into_bytes();
    bytes[at] = 0xc3;
    bytes[at + 1] = 0x28;
    assert!(
        read_text("x.json", &bytes, Budget::default())
            .unwrap_err()
            .contains(&format!("offset {at}"))
    );
    let e = read_text("y.json", b"[\xe2\x82", Budget::default()).unwrap_err();
    assert!(e.contains("byte 0xe2 at byte offset 1"), "{e}");
}

#[test]
fn empty_and_spanless_files_and_unknown_formats() {
    assert_eq!(bad(""), "bad.json: the file is empty");
    assert_eq!(bad(" \n\n "), "bad.json: the file is empty");
    assert_eq!(
        bad("{\"resourceSpans\":[]}"),
        "bad.json: no spans in this OTLP JSON file"
    );
    assert_eq!(bad("[]"), "bad.json: no spans in this Zipkin JSON file");
    assert!(
        bad("{\"foo\": 1}")
            .starts_with("bad.json: cannot tell the trace format from \"{\\\"foo\\\": 1}\"")
    );
    let mut s = span("00000000000000a1", "", 0, 10);
    s["kind"] = json!(9);
    let e = bad(&doc(vec![resource("svc", vec![s])]));
    assert!(
        e.contains("span \"00000000000000a1\"") && e.contains("kind \"9\""),
        "{e}"
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let budget = Budget {
        max_file_bytes: 1000,
        ..Budget::default()
    };
    let e = read_files_with(&[data("otlp.json")], Format::Auto, budget)
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("otlp.json: 0.00 GiB is over the 0.00 GiB limit for one file; split it (JSON Lines split at any line)"), "{e}");
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut z = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(bytes).unwrap();
    z.finish().unwrap()
}

#[test]
fn gzip_is_read_as_it_streams_and_a_broken_one_is_named() {
    let one = doc(vec![resource(
        "svc",
        vec![span("00000000000000a1", "", 0, 10)],
    )]);
    let two = doc(vec![resource(
        "svc",
        vec![span("00000000000000a2", "00000000000000a1", 1, 9)],
    )]);
    // Two gzip members, as `cat a.gz b.gz` makes: both are read.
    let mut z = gzip(format!("{one}\n").as_bytes());
    z.extend(gzip(two.as_bytes()));
    let s = read_text("two.jsonl.gz", &z, Budget::default()).unwrap();
    assert_eq!(s.spans.len(), 2);
    // Errors inside name the line and column of the decompressed text.
    let e = read_text(
        "bad.json.gz",
        &gzip(format!("{one}\n{{\"resourceSpans\":[}}").as_bytes()),
        Budget::default(),
    )
    .unwrap_err();
    assert_eq!(e, "bad.json.gz:2:19: expected value");
    let mut cut = gzip(one.as_bytes());
    cut.truncate(cut.len() / 2);
    let e = read_text("cut.json.gz", &cut, Budget::default()).unwrap_err();
    assert!(e.starts_with("cut.json.gz:"), "{e}");
    let mut corrupt = gzip(one.as_bytes());
    corrupt[12..20].fill(0xff);
    let e = read_text("corrupt.json.gz", &corrupt, Budget::default()).unwrap_err();
    assert!(e.starts_with("corrupt.json.gz: cannot read: "), "{e}");
}

#[test]
fn spans_waiting_for_their_service_are_within_the_budget() {
    // A resource whose `resource` (with service.name) comes after its spans.
    let late = |n: u64| {
        let spans: Vec<_> = (1..=n)
            .map(|i| span(&format!("{i:016x}"), "", 0, 10))
            .collect();
        json!({"resourceSpans": [{"scopeSpans": [{"spans": spans}],
            "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]}}]})
        .to_string()
    };
    let budget = Budget {
        max_waiting: 2,
        ..Budget::default()
    };
    let s = read_text("late.json", late(2).as_bytes(), budget.clone()).unwrap();
    assert_eq!(s.names.get(s.spans[1].service), "svc");
    let e = read_text("late.json", late(3).as_bytes(), budget.clone()).unwrap_err();
    assert!(
        e.starts_with("late.json:1:")
            && e.contains(&format!(
                "span \"0000000000000003\" of trace \"{A}\": more than 2 spans read before their \
                 resource's `resource` (its service.name), the budget"
            )),
        "{e}"
    );
    // A Jaeger trace whose `processes` come after its spans.
    let spans: Vec<_> = (1..=3)
        .map(|i| {
            json!({"spanID": format!("{i:016x}"), "operationName": "op", "startTime": 1,
                        "duration": 2, "processID": "p1"})
        })
        .collect();
    let text = json!({"data": [{"traceID": A, "spans": spans,
        "processes": {"p1": {"serviceName": "svc"}}}]})
    .to_string();
    let e = read_text("late.json", text.as_bytes(), budget).unwrap_err();
    assert!(
        e.contains(&format!(
            "trace \"{A}\": more than 2 spans read before their trace's `processes`"
        )),
        "{e}"
    );
}
