//! `meshsim fit` on bad input: exit 2 with a message saying what was
//! expected, never a panic and never an output folder.

use super::common::meshsim;
use super::fit::data;

/// Runs fit in a fresh folder; returns (exit code, stderr), and checks that
/// no output folder was left.
fn fails(args: &[&str], files: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let mut all = vec!["fit"];
    all.extend(args);
    all.extend(["--out", "out"]);
    let out = meshsim(dir.path(), &all);
    assert!(!dir.path().join("out").exists(), "an output was written");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    (out.status.code(), err)
}

#[test]
fn an_unknown_scenario_or_trace_file_exits_2_naming_it() {
    let otlp = data("otlp.jsonl.gz");
    let (code, err) = fails(&["nope.yaml", &otlp], &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("nope.yaml"), "{err}");
    let app = data("app.yaml");
    let (code, err) = fails(&[&app, "missing.json"], &[]);
    assert_eq!(code, Some(2));
    assert!(err.contains("missing.json: cannot open"), "{err}");
    let (code, err) = fails(
        &[&app, "bad.json"],
        &[("bad.json", "{\"resourceSpans\":[}")],
    );
    assert_eq!(code, Some(2));
    assert!(err.contains("bad.json:1:19: expected value"), "{err}");
}

#[test]
fn traces_that_match_no_workload_say_what_was_seen_and_the_closest_name() {
    // The endpoints named after the span names, not the routes.
    let yaml = std::fs::read_to_string(data("app.yaml"))
        .unwrap()
        .replace("/api/checkout", "GET /api/checkout");
    let otlp = data("otlp.jsonl.gz");
    let (code, err) = fails(&["app.yaml", &otlp], &[("app.yaml", &yaml)]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("no workload sends to an entry endpoint of the traces"),
        "{err}"
    );
    assert!(
        err.contains("entry endpoints in the traces: gateway./api/checkout (3113 spans)"),
        "{err}"
    );
    assert!(
        err.contains("workload targets in the scenario: loadgen → gateway.GET /api/checkout"),
        "{err}"
    );
    assert!(
        err.contains("did you mean 'gateway./api/checkout' for workload loadgen?"),
        "{err}"
    );
    assert!(err.contains("http.route"), "{err}");
}

#[test]
fn traces_without_a_server_span_exit_2() {
    let client = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"a"}}]},"scopeSpans":[{"spans":[{"traceId":"0123456789abcdef0123456789abcdef","spanId":"00000000000000a1","name":"GET","kind":3,"startTimeUnixNano":"1000","endTimeUnixNano":"2000"}]}]}]}"#;
    let app = data("app.yaml");
    let (code, err) = fails(&[&app, "c.json"], &[("c.json", client)]);
    assert_eq!(code, Some(2));
    assert!(err.contains("no SERVER span"), "{err}");
}

#[test]
fn a_bad_fail_above_exits_2_before_anything_runs() {
    let (app, otlp) = (data("app.yaml"), data("otlp.jsonl.gz"));
    for bad in ["twenty", "p95=1%", "ks=3", "-1%"] {
        let flag = format!("--fail-above={bad}");
        let (code, err) = fails(&[&app, &otlp, &flag], &[]);
        assert_eq!(code, Some(2), "{bad}");
        assert!(
            err.contains("--fail-above") && err.contains("expected"),
            "{bad}: {err}"
        );
    }
}
