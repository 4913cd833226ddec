//! Bad input is a product feature: exit 2, one clear message with file, line
//! and YAML path, no panic, no output folder. Messages are snapshot-tested.

use assert_cmd::Command;

/// A service's `cores`.
mod cores;

pub(crate) const GOOD: &str = "name: t
duration: 10s
services:
  inventory:
    endpoints:
      reserve:
        steps:
          - work: 1ms
  orders:
    endpoints:
      place:
        steps:
          - work: 2ms
          - call: inventory.reserve
workload:
  - name: checkout
    target: orders.place
    rate: 100/s
";

/// Runs `meshsim run bad.yaml` on `content` in a fresh folder; returns stderr.
pub(crate) fn run_bad(content: &[u8], extra: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.yaml"), content).unwrap();
    let out = Command::cargo_bin("meshsim")
        .unwrap()
        .current_dir(dir.path())
        .args(["run", "bad.yaml"])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "exit code for:\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing on stdout");
    assert!(
        !dir.path().join("reports").exists(),
        "an output folder was written"
    );
    stderr
}

/// Same, for a variation of the good scenario.
pub(crate) fn bad(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from}");
    run_bad(GOOD.replacen(from, to, 1).as_bytes(), &[])
}

pub(crate) fn names_line_and_path(stderr: &str, line: usize, path: &str) {
    assert!(
        stderr.contains(&format!("bad.yaml:{line}:")),
        "line {line} in:\n{stderr}"
    );
    assert!(stderr.contains(path), "path {path} in:\n{stderr}");
}

#[test]
fn the_good_scenario_is_good() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yaml"), GOOD).unwrap();
    Command::cargo_bin("meshsim")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "good.yaml"])
        .assert()
        .success();
}

#[test]
fn syntax_error() {
    let e = bad("          - work: 2ms", "          - work: [2ms");
    names_line_and_path(&e, 14, "services.orders.endpoints.place.steps[1].call");
    insta::assert_snapshot!(e);
}

#[test]
fn unknown_key_with_suggestion() {
    let e = bad("          - work: 2ms", "          - wrok: 2ms");
    names_line_and_path(&e, 13, "services.orders.endpoints.place.steps[0].wrok");
    assert!(e.contains("did you mean 'work'?"));
    insta::assert_snapshot!(e);
}

#[test]
fn misspelt_service() {
    let e = bad("call: inventory.reserve", "call: inventry.reserve");
    names_line_and_path(&e, 14, "services.orders.endpoints.place.steps[1].call");
    assert!(
        e.contains("unknown service 'inventry', did you mean")
            || e.contains("did you mean 'inventory'?")
    );
    insta::assert_snapshot!(e);
}

#[test]
fn misspelt_endpoint() {
    let e = bad("call: inventory.reserve", "call: inventory.reserv");
    names_line_and_path(&e, 14, "services.orders.endpoints.place.steps[1].call");
    assert!(e.contains("did you mean 'reserve'?"));
    insta::assert_snapshot!(e);
}

#[test]
fn negative_rate() {
    let e = bad("rate: 100/s", "rate: -100/s");
    names_line_and_path(&e, 18, "workload[0].rate");
    insta::assert_snapshot!(e);
}

#[test]
fn bare_number_duration() {
    let e = bad("duration: 10s", "duration: 10");
    names_line_and_path(&e, 2, "duration");
    assert!(e.contains("bare number"));
    insta::assert_snapshot!(e);
}

#[test]
fn empty_file() {
    let e = run_bad(b"", &[]);
    assert!(e.contains("bad.yaml") && e.contains("empty"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn binary_garbage() {
    let e = run_bad(&[0xff, 0xfe, 0x00, 0x12, 0x80, 0x81, 0x00, 0x9f], &[]);
    assert!(e.contains("bad.yaml") && e.contains("UTF-8"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn alias_bomb() {
    let mut y = String::from("name: t\nduration: 1s\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        let prev = format!("*a{}", i - 1);
        y += &format!("a{i}: &a{i} [{}]\n", [prev.as_str(); 10].join(", "));
    }
    let e = run_bad(y.as_bytes(), &[]);
    assert!(
        e.contains("bad.yaml:") && e.contains("too many values"),
        "{e}"
    );
    insta::assert_snapshot!(e);
}

#[test]
fn duplicate_keys() {
    let e = bad("duration: 10s\n", "duration: 10s\nduration: 20s\n");
    names_line_and_path(&e, 3, "duration");
    insta::assert_snapshot!(e);
}

#[test]
fn call_cycle() {
    let e = bad(
        "          - work: 1ms\n  orders",
        "          - call: orders.place\n  orders",
    );
    names_line_and_path(&e, 14, "services.orders.endpoints.place.steps[1].call");
    assert!(
        e.contains("orders.place -> inventory.reserve -> orders.place")
            || e.contains("inventory.reserve -> orders.place -> inventory.reserve"),
        "{e}"
    );
    insta::assert_snapshot!(e);
}

#[test]
fn warmup_not_shorter_than_duration() {
    let e = bad("duration: 10s\n", "duration: 10s\nwarmup: 10s\n");
    names_line_and_path(&e, 3, "warmup");
    insta::assert_snapshot!(e);
}

#[test]
fn fraction_out_of_range() {
    let e = bad(
        "duration: 10s\n",
        "duration: 10s\nslo: {availability: 120%}\n",
    );
    names_line_and_path(&e, 3, "slo.availability");
    insta::assert_snapshot!(e);
}

#[test]
fn absurd_size() {
    let e = bad(
        "  orders:\n",
        "  orders:\n    replicas: 90000\n    concurrency: 90000\n",
    );
    names_line_and_path(&e, 4, "services");
    assert!(e.contains("exhaust memory"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn negative_replicas() {
    let e = bad("  orders:\n", "  orders:\n    replicas: -2\n");
    names_line_and_path(&e, 10, "services.orders.replicas");
    insta::assert_snapshot!(e);
}

#[test]
fn unknown_distribution_with_suggestion() {
    let e = bad("work: 2ms", "work: {exponental: {mean: 2ms}}");
    names_line_and_path(
        &e,
        13,
        "services.orders.endpoints.place.steps[0].work.exponental",
    );
    assert!(e.contains("did you mean 'exponential'?"));
    insta::assert_snapshot!(e);
}

#[test]
fn unknown_load_balancer_variant() {
    let e = bad(
        "  orders:\n",
        "  orders:\n    load_balancer: least_requests\n",
    );
    names_line_and_path(&e, 10, "services.orders.load_balancer");
    assert!(e.contains("did you mean 'least_request'?"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn missing_required_key() {
    let e = run_bad(GOOD.replace("duration: 10s\n", "").as_bytes(), &[]);
    assert!(e.contains("missing key 'duration'"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn several_problems_reported_at_once() {
    let y = GOOD
        .replace("rate: 100/s", "rate: 0/s")
        .replace("call: inventory.reserve", "call: nowhere.reserve")
        .replace("work: 1ms", "work: 5");
    let e = run_bad(y.as_bytes(), &[]);
    assert!(e.contains("3 problems found"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn set_path_that_does_not_exist() {
    let e = run_bad(GOOD.as_bytes(), &["--set", "services.orders.replicaz=3"]);
    assert!(
        e.contains("--set services.orders.replicaz=3") && e.contains("did you mean 'replicas'?"),
        "{e}"
    );
    insta::assert_snapshot!(e);
}

#[test]
fn set_unknown_workload_name() {
    let e = run_bad(GOOD.as_bytes(), &["--set", "workload.checkot.rate=5/s"]);
    assert!(e.contains("did you mean 'checkout'?"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn unreadable_file_and_bad_flag() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        vec!["run", "missing.yaml"],
        vec!["run", "x.yaml", "--seed", "minus-one"],
        vec!["frobnicate"],
    ] {
        let out = Command::cargo_bin("meshsim")
            .unwrap()
            .current_dir(dir.path())
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
    assert!(!dir.path().join("reports").exists());
}

#[test]
fn publishing_needs_a_broker_with_the_topic() {
    let e = bad(
        "          - call: inventory.reserve",
        "          - call: inventory.reserve\n          - publish: order-placed",
    );
    names_line_and_path(&e, 15, "services.orders.endpoints.place.steps[2].publish");
    assert!(e.contains("topic 'order-placed' needs a broker"), "{e}");
}

/// Regression: fan-outs that multiply down a chain were accepted and exhausted memory.
#[test]
fn fanout_volume_over_the_whole_tree_is_refused() {
    let y = GOOD.replace("          - call: inventory.reserve", "          - call: inventory.reserve\n            fanout: 10000").replace(
        "          - work: 1ms\n  orders",
        "          - call: leaf.x\n            fanout: 10000\n  leaf:\n    endpoints:\n      x: {steps: [{work: 1ms}]}\n  orders",
    );
    let e = run_bad(y.as_bytes(), &[]);
    assert!(e.contains("calls in all"), "{e}");
}

/// Regression: replica counts per data center summed in u32 and wrapped around.
#[test]
fn total_replicas_cannot_wrap() {
    let y = GOOD
        .replace("name: t\n", "name: t\ndatacenters: [a, b]\n")
        .replace(
            "  orders:\n",
            "  orders:\n    replicas: {a: 100000, b: 100000}\n",
        );
    let e = run_bad(y.as_bytes(), &[]);
    assert!(e.contains("more than this tool simulates"), "{e}");
}

/// Failures: unknown targets, nonsense values, each with line and path.
#[test]
fn bad_failures() {
    let cases = [
        (
            "{at: 1s, for: 2s, crash: inventry}",
            "failures[0].crash",
            "did you mean 'inventory'?",
        ),
        (
            "{at: 1s, for: 2s, datacenter_down: dc2}",
            "failures[0].datacenter_down",
            "unknown data center 'dc2'",
        ),
        (
            "{at: -1s, for: 2s, crash: orders}",
            "failures[0].at",
            "negative",
        ),
        (
            "{at: 1s, for: 2s, slow: orders, factor: 0}",
            "failures[0].factor",
            "greater than zero",
        ),
        (
            "{at: 1s, for: 2s, slow: orders, factor: -3}",
            "failures[0].factor",
            "greater than zero",
        ),
        (
            "{random: orders, mtbf: 1h, mttr: 0s}",
            "failures[0].mttr",
            "greater than zero",
        ),
        (
            "{at: 1s, for: 2s, partition: [dc1, dc1]}",
            "failures[0].partition",
            "two different data centers",
        ),
        (
            "{at: 1s, for: 2s, crash: orders, factor: 2}",
            "failures[0].factor",
            "does not apply",
        ),
        ("{at: 1s, crash: orders}", "failures[0]", "'at' and 'for'"),
        (
            "{at: 1s, for: 2s, crash: orders, replicas: 5}",
            "failures[0].replicas",
            "not between 1",
        ),
        (
            "{at: 1s, for: 2s, errors: orders, rate: 150%}",
            "failures[0].rate",
            "out of range",
        ),
    ];
    for (failure, path, says) in cases {
        let e = run_bad(format!("{GOOD}failures:\n  - {failure}\n").as_bytes(), &[]);
        names_line_and_path(&e, 20, path);
        assert!(e.contains(says), "{failure}: {e}");
    }
}

/// Random failures of every kind: timing keys mixed, missing or zero, and
/// `random:` (a crash) given another kind's keys.
#[test]
fn bad_random_failures() {
    let cases = [
        (
            "{slow: orders, factor: 5, at: 1s, mtbf: 1m, mttr: 10s}",
            "failures[0].mtbf",
            "'mtbf' and 'at' do not go together",
        ),
        (
            "{errors: orders, rate: 100%, mtbf: 0s, mttr: 10s}",
            "failures[0].mtbf",
            "mtbf must be greater than zero",
        ),
        (
            "{errors: orders, rate: 100%, mtbf: 1m}",
            "failures[0].mttr",
            "a random failure needs 'mttr'",
        ),
        (
            "{random: orders, factor: 5, mtbf: 1m, mttr: 10s}",
            "failures[0].factor",
            "for a random slow write {slow: orders, factor: …, mtbf: …, mttr: …}",
        ),
        (
            "{slow: orders, factor: 5, mtbf: 1m, mttr: {constant: 0s}}",
            "failures[0].mttr",
            "the distribution of mttr has a mean of zero",
        ),
        (
            "{partition: [dc1, dc1], mtbf: 1m, mttr: 10s}",
            "failures[0].partition",
            "two different data centers",
        ),
        (
            "{errors: orders, rate: 100%, mtbf: {pareto: {scale: 1s, shape: 0.5}}, mttr: 1s}",
            "failures[0].mtbf",
            "has an infinite mean",
        ),
    ];
    for (failure, path, says) in cases {
        let e = run_bad(format!("{GOOD}failures:\n  - {failure}\n").as_bytes(), &[]);
        names_line_and_path(&e, 20, path);
        assert!(e.contains(says), "{failure}: {e}");
    }
    let e = run_bad(
        format!("{GOOD}failures:\n  - {{random: orders, factor: 5, mtbf: 1m, mttr: 10s}}\n")
            .as_bytes(),
        &[],
    );
    insta::assert_snapshot!("random_failure_with_another_kinds_key", e);
    let e = run_bad(
        format!("{GOOD}failures:\n  - {{slow: orders, factor: 5, at: 1s, for: 5s, mtbf: 1m, mttr: 10s}}\n")
            .as_bytes(),
        &[],
    );
    insta::assert_snapshot!("failure_both_window_and_random", e);
}

#[test]
fn unknown_failure_target_snapshot() {
    let e = run_bad(
        format!("{GOOD}failures:\n  - {{at: 1s, for: 2s, crash: inventry}}\n").as_bytes(),
        &[],
    );
    insta::assert_snapshot!(e);
}

#[test]
fn missing_link_between_used_data_centers() {
    let y = GOOD
        .replace("name: t\n", "name: t\ndatacenters: [a, b]\n")
        .replace("  orders:\n", "  orders:\n    replicas: {b: 1}\n");
    let e = run_bad(y.as_bytes(), &[]);
    assert!(
        e.contains("no network link between data centers 'a' and 'b'"),
        "{e}"
    );
    names_line_and_path(&e, 2, "datacenters");
    insta::assert_snapshot!(e);
}

#[test]
fn bad_autoscale_and_discovery() {
    let y = GOOD.replace(
        "  orders:\n",
        "  orders:\n    autoscale: {min_replicas: 4, max_replicas: 2, target_utilization: 0%}\n",
    );
    let e = run_bad(y.as_bytes(), &[]);
    assert!(
        e.contains("services.orders.autoscale.max_replicas") && e.contains("target_utilization"),
        "{e}"
    );
    let y = format!("{GOOD}discovery: {{refresh_interval: 0s, failures_before_critical: 0}}\n");
    let e = run_bad(y.as_bytes(), &[]);
    assert!(
        e.contains("discovery.refresh_interval")
            && e.contains("discovery.failures_before_critical"),
        "{e}"
    );
}

/// Resilience policies: nonsense values exit 2 with line and path.
#[test]
fn bad_resilience_policies() {
    let cases = [
        (
            "retry: {max_attempts: 0}",
            "steps[1].retry.max_attempts",
            "out of range",
        ),
        (
            "retry: {wait_duration: -5ms}",
            "steps[1].retry.wait_duration",
            "negative",
        ),
        (
            "retry: {backoff_multiplier: 0.5}",
            "steps[1].retry.backoff_multiplier",
            "out of range",
        ),
        (
            "retry: {retry_on: [timeout, 4xx]}",
            "steps[1].retry.retry_on",
            "unknown variant",
        ),
        (
            "circuit_breaker: {failure_rate_threshold: 150%}",
            "steps[1].circuit_breaker.failure_rate_threshold",
            "out of range",
        ),
        (
            "circuit_breaker: {permitted_number_of_calls_in_half_open_state: 0}",
            "steps[1].circuit_breaker.permitted_number_of_calls_in_half_open_state",
            "out of range",
        ),
        (
            "hedge: {after: 10ms, max: 0}",
            "steps[1].hedge.max",
            "out of range",
        ),
        ("hedge: {max: 1}", "steps[1].hedge", "missing key 'after'"),
    ];
    for (policy, path, says) in cases {
        let e = bad(
            "          - call: inventory.reserve",
            &format!("          - call: inventory.reserve\n            {policy}"),
        );
        names_line_and_path(&e, 15, &format!("services.orders.endpoints.place.{path}"));
        assert!(e.contains(says), "{policy}: {e}");
    }
    let e = bad(
        "          - work: 2ms",
        "          - work: 2ms\n            retry: {max_attempts: 2}",
    );
    assert!(e.contains("'retry' belongs to a call step"), "{e}");
    let e = bad("  orders:\n", "  orders:\n    max_queue_time: 5\n");
    names_line_and_path(&e, 10, "services.orders.max_queue_time");
}
