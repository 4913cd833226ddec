//! Regressions: silent wrong answers, memory and time, messages.

use meshsim::metrics::summary::Outcome;

use crate::common::{load, run};

fn meshsim(args: &[&str]) -> std::process::Output {
    crate::common::meshsim(std::path::Path::new(env!("CARGO_MANIFEST_DIR")), args)
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

/// Loads `text` as bad.yaml (with `--set`s); returns the rendered problems.
fn problems(text: &str, set: &[&str]) -> String {
    let sets: Vec<meshsim::scenario::Override> = set
        .iter()
        .map(|s| meshsim::scenario::Override::parse(s).unwrap())
        .collect();
    match meshsim::scenario::load_str(text, "bad.yaml", &sets) {
        Ok(_) => panic!("loaded: {text}"),
        Err(e) => e.render(),
    }
}

const ONE: &str = "services:\n  a:\n    endpoints:\n      e: {steps: [{work: 1ms}]}\nworkload:\n  - {name: w, target: a.e, rate: 10/s}\n";

/// `check` of 10,000 data-center names built a 10⁸-entry matrix (5.6 GB)
/// before it looked for duplicates; 10,000 services, which the docs allow,
/// were refused as "an alias bomb?".
#[test]
fn counts_are_bounded_before_anything_is_built() {
    let names: Vec<String> = (0..10_000).map(|i| format!("d{i}")).collect();
    let dcs = format!(
        "name: t\nduration: 1s\ndatacenters: [{}]\n{ONE}",
        names.join(", ")
    );
    let e = problems(&dcs, &[]);
    assert!(
        e.contains("10000 data centers are too many") && e.contains("at most 100"),
        "{e}"
    );
    let mut many = String::from("name: t\nduration: 1s\nservices:\n");
    for i in 0..10_000 {
        many += &format!("  s{i}:\n    endpoints:\n      e: {{steps: [{{work: 1ms}}]}}\n");
    }
    many += "workload:\n  - {name: w, target: s0.e, rate: 10/s}\n";
    let s = load(&many);
    assert_eq!(s.services.len(), 10_000);
}

/// 100,001 empirical samples said "a list is not a list of samples"; 10,000
/// duplicate names printed 9,999 problems.
#[test]
fn limits_say_what_they_are_and_floods_are_cut() {
    let samples = vec!["1ms"; 100_001].join(", ");
    let text = ONE.replace(
        "{work: 1ms}",
        &format!("{{work: {{empirical: [{samples}]}}}}"),
    );
    let e = problems(&format!("name: t\nduration: 1s\n{text}"), &[]);
    assert!(e.contains("100001 samples are too many"), "{e}");
    let mut dup = format!("name: t\nduration: 1s\n{ONE}");
    for _ in 0..9_999 {
        dup += "  - {name: w, target: a.e, rate: 10/s}\n";
    }
    let e = problems(&dup, &[]);
    assert_eq!(e.matches("\nerror: ").count() + 1, 30, "30 shown");
    assert!(e.contains("… and 9969 more."), "{e}");
    assert!(
        e.ends_with("9999 problems found; nothing was simulated.\n"),
        "{e}"
    );
}

/// Messages that leaked library internals, lost the file name, echoed a
/// 1.3 MB line, or added a second error to a first.
#[test]
fn messages_name_the_file_and_speak_plainly() {
    let big = "x".repeat(5_000_000);
    let e = problems(&big, &[]);
    assert!(
        e.starts_with("error: bad.yaml: the file is 5000000 bytes"),
        "{e}"
    );
    let e = problems("name: a\n---\nname: b\n", &[]);
    assert!(
        e.contains("more than one YAML document") && !e.contains("from_str"),
        "{e}"
    );
    let e = problems("a: &x [*x]\n", &[]);
    assert!(
        e.contains("recursive reference") && !e.contains("weak"),
        "{e}"
    );
    let queue =
        format!("name: t\nduration: 1s\n{ONE}").replace("  a:\n", "  a:\n    queue: 20000000000\n");
    let e = problems(&queue, &[]);
    assert!(
        e.contains("a whole number from 0 to 10000000") && !e.contains("u32"),
        "{e}"
    );
    let e = problems(
        &format!("name: t\nduration: 1s\nwarmup: 2s\n{ONE}"),
        &["duration=abc"],
    );
    assert!(
        e.ends_with("1 problem found; nothing was simulated.\n"),
        "{e}"
    );
    let long = format!(
        "name: t\nduration: 1s\ndescription: {}\nbogus: 1\n{ONE}",
        "y".repeat(1_300_000)
    )
    .replace("bogus: 1\n", "");
    let long = long.replace(
        "duration: 1s\n",
        &format!(
            "duration: 1s\nslo: {{sync_p99: 1ms, bad: {}}}\n",
            "z".repeat(1_300_000)
        ),
    );
    let e = problems(&long, &[]);
    assert!(e.len() < 2_000, "the line is cut: {} bytes", e.len());
    let e = problems(&format!("name: \"\\e[31mred\"\nduration: 1s\n{ONE}"), &[]);
    assert!(
        e.contains(r"'\u{1b}[31mred' is not a valid scenario name"),
        "{e}"
    );
    assert!(!e.contains('\u{1b}'), "no escape code reaches the terminal");
    let o = meshsim(&["check", "tests/it/data/overload-queue.yaml"]);
    assert!(
        String::from_utf8_lossy(&o.stdout)
            .contains("(1 service, 1 endpoint, 1 workload, 1 replica)")
    );
}

/// With no events the terminal and summary.json said event p99 PASS and the
/// HTML NO DATA; the HTML said `< 200 ms`, the terminal `<= 200 ms`; the
/// gateway counted as replicas in `check` but not in `sweep`.
#[test]
fn every_output_shows_the_same_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let o = meshsim(&["run", "scenarios/mm1.yaml", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let table = String::from_utf8_lossy(&o.stdout).into_owned();
    let event_row = table.lines().find(|l| l.contains("event p99")).unwrap();
    assert!(
        event_row.contains("NO DATA") && event_row.contains("≤ 1000 ms"),
        "{event_row}"
    );
    let sum: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(sum["slo"]["event_p99"]["verdict"], "no_data");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("NO DATA") && html.contains("≤ 200 ms"),
        "html verdicts"
    );
    assert!(!html.contains("&lt; 200 ms") && !html.contains("< 200 ms"));
    // One replica count: check's, and the sweep's for the same point.
    let sync = "scenarios/reference-sync.yaml";
    let c = meshsim(&["check", sync]);
    let said = String::from_utf8_lossy(&c.stdout).into_owned();
    let n: u32 = said
        .rsplit(", ")
        .next()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let s = load_file_text(sync);
    assert_eq!(s.replicas(), n);
    assert!(
        s.gateway.is_some()
            && s.replicas()
                > s.services[..s.services.len() - 1]
                    .iter()
                    .map(|x| x.replicas())
                    .sum::<u32>()
    );
}

fn load_file_text(path: &str) -> meshsim::scenario::Scenario {
    let full = format!("{}/{path}", env!("CARGO_MANIFEST_DIR"));
    load(&std::fs::read_to_string(full).unwrap())
}

/// `refresh_interval: 1ns` (or `sync_period`, `mtbf`) ran for hours with no
/// word; now a warning gives an estimate of the cost before the run.
#[test]
fn degenerate_periods_warn_with_an_estimate() {
    let text = "name: t\nduration: 10s\ndiscovery: {refresh_interval: 1ns}\nservices:\n  a:\n    replicas: 2\n    endpoints:\n      e: {steps: [{work: 1ms}]}\nworkload:\n  - {name: w, target: a.e, rate: 10/s}\nfailures:\n  - {random: a, mtbf: 1ns, mttr: 1ns}\n";
    let s = load(text);
    let shown = meshsim::scenario::render_warnings(&s, text);
    // 10 s / 1 ns refreshes of 2 replicas: 2e10 steps, about 33 minutes at 10⁷ a second.
    assert!(shown.contains("discovery.refresh_interval: a refresh every 1ns makes this run about 2.0e10 steps: roughly 33 minutes"), "{shown}");
    // 2 replicas × 2 events per 2 ns cycle over 10 s: 2e10.
    assert!(
        shown.contains(
            "failures[0].mtbf: a crash and a restart every 2ns makes this run about 2.0e10 steps"
        ),
        "{shown}"
    );
    // A millisecond period is no cost worth a word.
    let fine = load(
        &text
            .replace("1ns}", "1ms}")
            .replace("mtbf: 1ns, mttr: 1ns", "mtbf: 1s, mttr: 1s"),
    );
    assert!(fine.warnings.is_empty());
}

/// README and docs referred to "SPEC §3/§4", which is not in the repository.
#[test]
fn the_docs_need_nothing_outside_the_repository() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut files = vec![format!("{root}/README.md")];
    for dir in [
        "docs",
        "src",
        "src/cli",
        "src/engine",
        "src/metrics",
        "src/model",
        "src/report",
        "src/scenario",
    ] {
        for e in std::fs::read_dir(format!("{root}/{dir}")).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                files.push(p.display().to_string());
            }
        }
    }
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        assert!(
            !text.contains("SPEC §") && !text.contains("SPEC.md"),
            "{f} refers to the SPEC"
        );
    }
    assert!(files.len() > 60);
}

/// `max_call_depth: 1` with a gateway passed `check` with no word, and every
/// request failed: the gateway's call to its target is depth 2.
#[test]
fn a_depth_below_the_gateways_call_warns_and_every_request_fails() {
    let text = "name: t\nduration: 5s\nmax_call_depth: 1\ngateway: {replicas: 1}\nservices:\n  api:\n    endpoints:\n      get: {steps: [{work: 1ms}]}\nworkload:\n  - {name: w, target: api.get, rate: 100/s}\n";
    let s = load(text);
    assert_eq!(s.warnings.len(), 1);
    let shown = meshsim::scenario::render_warnings(&s, text);
    assert!(
        shown.starts_with("warning: test.yaml:3:17: max_call_depth: max_call_depth 1 is below the gateway's own call"),
        "{shown}"
    );
    let (sum, _) = run(&s);
    let w = &sum.workload["w"];
    assert!(w.sent > 400, "{w:?}");
    assert_eq!(w.ok, 0, "{w:?}");
    // Depth 2 passes: no warning, and the requests are answered.
    let s = load(&text.replace("max_call_depth: 1", "max_call_depth: 2"));
    assert!(s.warnings.is_empty());
    let (sum, _) = run(&s);
    assert_eq!(
        sum.workload["w"].ok + sum.workload["w"].in_flight,
        sum.workload["w"].sent
    );
}
