//! Regressions: silent wrong answers, memory and time, messages.

use assert_cmd::Command;
use meshsim::metrics::summary::Outcome;

use crate::common::{load, run};

fn meshsim(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("meshsim")
        .expect("the binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("meshsim runs")
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `--set services.serviceb.replicas=6` added a phantom service with no
/// endpoints and left `service-b` as it was, in every command.
#[test]
fn set_with_a_misspelt_map_key_creates_no_phantom() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let out = out.to_str().unwrap();
    let sync = "scenarios/reference-sync.yaml";
    let runs: [Vec<&str>; 5] = [
        vec!["check", sync, "--set", "services.serviceb.replicas=6"],
        vec![
            "run",
            sync,
            "--set",
            "services.serviceb.replicas=6",
            "--out",
            out,
        ],
        vec![
            "sweep",
            sync,
            "--set",
            "services.serviceb.replicas=6,7",
            "--out",
            out,
        ],
        vec![
            "plan",
            sync,
            "--vary",
            "services.serviceb.replicas",
            "--out",
            out,
        ],
        vec![
            "compare",
            sync,
            sync,
            "--set",
            "services.serviceb.replicas=6",
            "--out",
            out,
        ],
    ];
    for args in &runs {
        let o = meshsim(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("no service named 'serviceb'"),
            "{args:?}: {err}"
        );
        assert!(err.contains("did you mean 'service-b'?"), "{args:?}: {err}");
    }
    assert!(!dir.path().join("o").exists(), "nothing written");
}

/// 1000/s into constant 900 ms work, healthy: the ~900 requests in flight
/// when the run ended were counted as failures (availability 98.48%, FAIL).
#[test]
fn requests_the_run_ended_on_do_not_fail_availability() {
    let s = load(
        "name: t\nduration: 60s\nwarmup: 5s\nservices:\n  api:\n    replicas: 1\n    concurrency: 2000\n    endpoints:\n      get: {steps: [{work: 900ms}]}\nworkload:\n  - {name: w, target: api.get, rate: 1000/s}\n",
    );
    let (sum, _) = run(&s);
    let w = &sum.workload["w"];
    assert!(w.in_flight > 800 && w.in_flight < 1000, "{w:?}");
    assert_eq!((w.failed, w.timed_out, w.rejected, w.hung), (0, 0, 0, 0));
    assert_eq!(w.availability, Some(1.0));
    assert_eq!(sum.slo.availability.verdict, Outcome::Pass);
}

/// The other side: a call that never answers (a link losing everything, no
/// timeout) hangs its requests, and availability must fail.
#[test]
fn hung_requests_still_fail_availability() {
    let s = load(
        "name: t\nduration: 30s\ndatacenters: [a, b]\nnetwork:\n  links:\n    - {between: [a, b], latency: 1ms, loss: 100%}\nservices:\n  api:\n    replicas: {a: 1}\n    endpoints:\n      get: {steps: [{work: 1ms}, {call: db.q}]}\n  db:\n    replicas: {b: 1}\n    endpoints:\n      q: {steps: [{work: 1ms}]}\nworkload:\n  - {name: w, target: api.get, rate: 10/s, from: a}\n",
    );
    let (sum, _) = run(&s);
    let w = &sum.workload["w"];
    // Unanswered: all of them; hung: those older than 10 × 200 ms = 2 s.
    assert_eq!(w.in_flight, w.sent, "{w:?}");
    let young = (w.in_flight - w.hung) as f64;
    assert!(
        (young - 20.0).abs() <= 10.0,
        "about 2 s × 10/s are young: {w:?}"
    );
    assert_eq!(w.availability, Some(0.0));
    assert_eq!(sum.slo.availability.verdict, Outcome::Fail);
}

/// A topic consumed but never published passed `check` with no word, and
/// its event p99 read 0.0 with a PASS.
#[test]
fn a_topic_never_published_warns_and_has_no_latency() {
    let text = "name: t\nduration: 5s\nbroker:\n  kind: kafka\n  topics:\n    orders: {partitions: 2}\nservices:\n  api:\n    endpoints:\n      get: {steps: [{work: 1ms}]}\n  c:\n    consumes:\n      - {topic: orders, group: g, steps: [{work: 1ms}]}\nworkload:\n  - {name: w, target: api.get, rate: 10/s}\n";
    let s = load(text);
    assert_eq!(s.warnings.len(), 1);
    let shown = meshsim::scenario::render_warnings(&s, text);
    assert!(
        shown.starts_with(
            "warning: test.yaml:6:13: broker.topics.orders: topic 'orders' is consumed"
        ),
        "{shown}"
    );
    let (sum, _) = run(&s);
    let json = serde_json::to_value(&sum).unwrap();
    assert!(json["topics"]["orders"]["groups"]["g"]["latency_ms"].is_null());
    assert!(json["slo"]["event_p99"]["actual_ms"].is_null());
    assert_eq!(json["slo"]["event_p99"]["verdict"], "no_data");
    assert_eq!(json["slo"]["event_p99"]["pass"], false);
    // No data misses nothing: the run as a whole met its targets.
    assert!(!sum.slo.missed());
}
