//! `meshsim import` on bad input (issue 14, item 5), through the command line:
//! exit 2 with the file and the trace and span, and no scenario written (an
//! older `--out` is left as it was); a repaired input (a missing parent) is a
//! warning on standard error and the scenario is still written. Values supplied
//! with `--set` and `--map` land in the scenario; an unknown service is exit 2
//! with the closest name.

use std::path::Path;

use assert_cmd::Command;
use serde_json::json;

use super::import_readers::{A, data, doc, resource, span};

/// Runs `meshsim import FILE --out out.yaml EXTRA` in `dir`: (exit code, stderr, out.yaml if any).
fn import_in(dir: &Path, file: &str, extra: &[&str]) -> (i32, String, Option<String>) {
    let out = Command::cargo_bin("meshsim")
        .unwrap()
        .current_dir(dir)
        .args(["import", file, "--out", "out.yaml"])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let written = std::fs::read_to_string(dir.join("out.yaml")).ok();
    (out.status.code().unwrap(), stderr, written)
}

/// Writes `text` as `bad.json`, imports it over an existing out.yaml: exit 2, out.yaml unchanged.
fn refused(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), text).unwrap();
    std::fs::write(dir.path().join("out.yaml"), "old").unwrap();
    let (code, stderr, written) = import_in(dir.path(), "bad.json", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        written.as_deref(),
        Some("old"),
        "the old scenario is left as it was"
    );
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(leftovers, 2, "no temporary file left");
    assert!(stderr.contains("bad.json"), "{stderr}");
    stderr
}

#[test]
fn malformed_json_is_exit_2_with_the_place() {
    let e = refused("{\"resourceSpans\":[}");
    assert!(e.contains("bad.json:1:19: expected value"), "{e}");
}

#[test]
fn ids_that_are_not_hex_are_exit_2_naming_trace_and_span() {
    let e = refused(&doc(vec![resource("svc", vec![span("zz12", "", 0, 10)])]));
    assert!(
        e.contains(&format!(
            "span \"zz12\" of trace \"{A}\": spanId \"zz12\" is not an id"
        )),
        "{e}"
    );
}

#[test]
fn no_spans_at_all_is_exit_2() {
    let e = refused(r#"{"resourceSpans": []}"#);
    assert!(
        e.contains("bad.json: no spans in this OTLP JSON file"),
        "{e}"
    );
    // Spans of no kind the readers know are dropped: none left is the import's own refusal.
    let e = refused("[]");
    assert!(e.contains("bad.json") && e.contains("no spans"), "{e}");
}

#[test]
fn a_span_without_times_is_exit_2_naming_it() {
    let mut s = span("00000000000000a1", "", 0, 10);
    s.as_object_mut().unwrap().remove("endTimeUnixNano");
    let e = refused(&doc(vec![resource("svc", vec![s])]));
    assert!(
        e.contains(&format!(
            "span \"00000000000000a1\" of trace \"{A}\": endTimeUnixNano is missing"
        )),
        "{e}"
    );
}

#[test]
fn only_internal_spans_are_exit_2_nothing_to_model() {
    let mut s = span("00000000000000a1", "", 0, 10);
    s["kind"] = json!(1);
    let e = refused(&doc(vec![resource("svc", vec![s])]));
    assert!(
        e.contains("no SERVER or CONSUMER span among 1 spans"),
        "{e}"
    );
}

#[test]
fn a_missing_parent_is_a_warning_and_the_scenario_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let text = doc(vec![
        resource(
            "api",
            vec![span("00000000000000a1", "00000000000000ff", 0, 10_000)],
        ),
        resource(
            "db",
            vec![span("00000000000000a2", "00000000000000a1", 2_000, 6_000)],
        ),
    ]);
    std::fs::write(dir.path().join("orphan.json"), text).unwrap();
    let (code, stderr, written) = import_in(dir.path(), "orphan.json", &["--sample-rate", "0.25"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "note: parent not among the spans read (made a root): 1 (e.g. orphan.json: span 00000000000000a1 of trace {A} (parent 00000000000000ff))"
        )),
        "{stderr}"
    );
    let text = written.expect("written");
    meshsim::scenario::load_str(&text, "out.yaml", &[])
        .unwrap_or_else(|e| panic!("{}", e.render()));
    // The orphan is the entry point; its SERVER child is a call taking the child's 4 ms.
    assert!(text.contains("target: \"api.op\""), "{text}");
    assert!(
        text.contains("- work: 6ms") && text.contains("- work: 4ms"),
        "{text}"
    );
    assert!(text.contains("- call: \"db.op\""), "{text}");
    // One request in the 10 ms window, kept at a sampling ratio of 1/4: 400/s.
    assert!(text.contains("rate: 400/s"), "{text}");
}

#[test]
fn set_and_map_supply_what_the_traces_cannot() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("map.yaml"),
        "services: {orders: {replicas: 3, cores: 500m}, emails: {concurrency: 16}}\n",
    )
    .unwrap();
    let file = data("otlp.json");
    let set = ["--set", "services.gateway.replicas=2", "--map", "map.yaml"];
    let (code, stderr, written) = import_in(dir.path(), &file, &set);
    assert_eq!(code, 0, "{stderr}");
    let text = written.unwrap();
    let s = meshsim::scenario::load_str(&text, "out.yaml", &[])
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let replicas: Vec<(String, u32)> = s
        .services
        .iter()
        .map(|x| (x.name.clone(), x.replicas()))
        .collect();
    assert!(replicas.contains(&("gateway".into(), 2)), "{replicas:?}");
    assert!(replicas.contains(&("orders".into(), 3)), "{replicas:?}");
    assert!(
        text.contains("replicas: 2  # supplied at import (--set services.gateway.replicas=2)"),
        "{text}"
    );
    assert!(
        text.contains("cores: \"500m\"  # supplied at import (map.yaml: services.orders.cores)"),
        "{text}"
    );
    assert!(
        text.contains("concurrency: 16  # supplied at import"),
        "{text}"
    );
}

#[test]
fn an_unknown_service_in_set_or_map_is_exit_2_with_the_closest_name() {
    let dir = tempfile::tempdir().unwrap();
    let file = data("otlp.json");
    let (code, e, written) = import_in(dir.path(), &file, &["--set", "services.ordres.replicas=2"]);
    assert_eq!((code, written), (2, None), "{e}");
    assert!(
        e.contains("--set services.ordres.replicas=2: no service 'ordres' in the traces")
            && e.contains("did you mean 'orders'?"),
        "{e}"
    );
    std::fs::write(
        dir.path().join("map.yaml"),
        "services: {emials: {replicas: 2}}\n",
    )
    .unwrap();
    let (code, e, written) = import_in(dir.path(), &file, &["--map", "map.yaml"]);
    assert_eq!((code, written), (2, None), "{e}");
    assert!(
        e.contains("map.yaml: services.emials.replicas: no service 'emials'")
            && e.contains("did you mean 'emails'?"),
        "{e}"
    );
    let (code, e, _) = import_in(dir.path(), &file, &["--set", "workload.x.rate=5/s"]);
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("expected: services.SERVICE.KEY=VALUE"), "{e}");
    let (code, e, _) = import_in(
        dir.path(),
        &file,
        &["--set", "services.orders.replicas=many"],
    );
    assert_eq!(code, 2, "{e}");
    assert!(
        e.contains("services.orders.replicas") && e.contains("nothing was written"),
        "{e}"
    );
}

#[test]
fn without_out_the_scenario_goes_to_standard_output() {
    let out = Command::cargo_bin("meshsim")
        .unwrap()
        .args(["import", &data("jaeger.json"), "--sample-rate", "0.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("name: \"imported\""), "{text}");
    meshsim::scenario::load_str(&text, "stdout", &[]).unwrap_or_else(|e| panic!("{}", e.render()));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.starts_with("7 spans in 2 traces"), "{stderr}");
    // The trace's own sampler.param (0.5) wins over --sample-rate: 1 request in 45 ms, times 2.
    assert!(text.contains("rate: 44.44/s"), "{text}");
    // One consumer is the producer's child, the other linked to it (FOLLOWS_FROM): each its own group.
    for group in ["billing", "emails"] {
        assert!(text.contains(&format!("group: \"{group}\"")), "{text}");
    }
    // The orders endpoint failed in its one job while it called nobody that failed.
    assert!(text.contains("errors: \"orders\", rate: 100%"), "{text}");
}

/// A consumer's keys: `services.X.consumes.TOPIC.KEY` with --set, `consumes: {TOPIC: {KEY: V}}`
/// in a map; the keys the traces give, and a topic the service does not consume, are exit 2.
#[test]
fn a_consumers_keys_are_supplied_by_topic() {
    let dir = tempfile::tempdir().unwrap();
    let file = data("otlp.json");
    std::fs::write(
        dir.path().join("map.yaml"),
        "services: {emails: {concurrency: 4, consumes: {orders: {max_poll_records: 50}}}}\n",
    )
    .unwrap();
    let set = [
        "--map",
        "map.yaml",
        "--set",
        "services.billing.consumes.orders.max_poll_records=7",
    ];
    let (code, stderr, written) = import_in(dir.path(), &file, &set);
    assert_eq!(code, 0, "{stderr}");
    let text = written.unwrap();
    let s = meshsim::scenario::load_str(&text, "out.yaml", &[])
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let mut polls: Vec<(String, u32)> = s
        .consumers
        .iter()
        .map(|c| (s.services[c.service].name.clone(), c.max_poll_records))
        .collect();
    polls.sort();
    assert_eq!(polls, [("billing".into(), 7), ("emails".into(), 50)]);
    assert!(
        text.contains("max_poll_records: 50  # supplied at import (map.yaml: services.emails.consumes.orders.max_poll_records)"),
        "{text}"
    );
    for (args, expected) in [
        (
            vec!["--set", "services.emails.consumes.ordres.prefetch=3"],
            "no topic 'ordres' consumed by 'emails' in the traces",
        ),
        (
            vec!["--set", "services.emails.consumes.orders.steps=[]"],
            "a consumer's 'steps' is what the traces give",
        ),
        (
            vec!["--set", "services.emails.consumes=[]"],
            "'consumes' is what the traces give",
        ),
        (
            vec!["--set", "services.emails.consumes.prefetch=3"],
            "expected consumes.TOPIC.KEY",
        ),
        (
            vec!["--set", "services.gateway.consumes.orders.prefetch=3"],
            "expected: none: it consumes no topic",
        ),
    ] {
        let (code, e, _) = import_in(dir.path(), &file, &args);
        assert_eq!(code, 2, "{args:?}: {e}");
        assert!(e.contains(expected), "{args:?}: {e}");
    }
    std::fs::write(
        dir.path().join("bad.yaml"),
        "services: {emails: {consumes: [prefetch]}}\n",
    )
    .unwrap();
    let (code, e, _) = import_in(dir.path(), &file, &["--map", "bad.yaml"]);
    assert_eq!(code, 2, "{e}");
    assert!(
        e.contains("services.emails.consumes: expected {TOPIC: {prefetch: 8}}"),
        "{e}"
    );
    let (_, e, _) = import_in(
        dir.path(),
        &file,
        &["--set", "services.emails.consumes.ordrs.prefetch=3"],
    );
    assert!(e.contains("did you mean 'orders'?"), "{e}");
}
