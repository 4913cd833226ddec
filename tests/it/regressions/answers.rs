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

fn data(name: &str) -> meshsim::scenario::Scenario {
    let path = format!("{}/tests/it/data/{name}", env!("CARGO_MANIFEST_DIR"));
    load(&std::fs::read_to_string(path).unwrap())
}

/// A legal overloaded scenario grew memory without bound and died with
/// "memory allocation failed" (exit 134): a queue of ten million at
/// 100,000/s into 10 ms work. It now stops at the budget, exit 3, with a
/// report of what happened up to then and every verdict FAIL.
#[test]
fn an_overloaded_queue_stops_at_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = meshsim(&[
        "run",
        "tests/it/data/overload-queue.yaml",
        "--json",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("overloaded: 4,19"), "{err}");
    assert!(
        err.contains("requests waiting at api at 42.0 s simulated"),
        "{err}"
    );
    let sum: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let at = sum["overload"]["stopped_at_s"].as_f64().unwrap();
    assert!((41.9..42.1).contains(&at), "{at}");
    for k in ["sync_p99", "availability"] {
        assert_eq!(sum["slo"][k]["verdict"], "fail", "{k}");
    }
    // One worker at 10 ms: 100 a second were served until the stop.
    let ok = sum["workload"]["w"]["ok"].as_u64().unwrap();
    assert!((4150..=4200).contains(&ok), "{ok}");
}

/// The same for a Kafka backlog (one 1 s consumer at 100,000/s) and for
/// calls lost on a link with no timeout: each names its own backlog.
#[test]
fn overloaded_backlogs_and_lost_calls_stop_at_the_budget() {
    for (file, says) in [
        (
            "overload-kafka.yaml",
            "messages of topic orders waiting for group g",
        ),
        ("overload-loss.yaml", "calls to db.q unanswered"),
    ] {
        let (sum, _) = run(&data(file));
        let o = sum.overload.as_ref().expect("stopped early");
        assert!(o.message.contains(says), "{file}: {}", o.message);
        assert!(o.stopped_at_s > 10.0 && o.stopped_at_s < 60.0, "{o:?}");
        assert!(sum.slo.missed());
        assert_eq!(sum.slo.availability.verdict, Outcome::Fail);
    }
}

/// `wasted` counted only hedges that lost, while the docs said abandoned
/// callee work "is wasted": work finished for a caller that had timed out
/// was not counted.
#[test]
fn work_done_after_a_timeout_is_wasted() {
    let s = load(
        "name: t\nduration: 20s\nservices:\n  a:\n    endpoints:\n      x: {steps: [{call: b.y, timeout: 5ms}]}\n  b:\n    concurrency: 100\n    endpoints:\n      y: {steps: [{work: 10ms}]}\nworkload:\n  - {name: w, target: a.x, rate: 100/s}\n",
    );
    let (sum, _) = run(&s);
    let c = &sum.calls["a->b.y"];
    // Every attempt times out at 5 ms; b answers each one at 10 ms, ok.
    assert_eq!(c.ok, 0);
    assert_eq!(c.timeouts + c.in_flight, c.attempts);
    assert!(c.attempts > 1900, "{c:?}");
    assert!(
        c.wasted + 2 >= c.timeouts && c.wasted <= c.timeouts,
        "{c:?}"
    );
}
