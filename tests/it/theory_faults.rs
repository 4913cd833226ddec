//! Random faults of every kind: availability is the long-run share of time
//! healthy, E[mtbf] / (E[mtbf] + E[mttr]) (the `meshsim validate` family), and
//! the windows the reports shade are the time the faults were active.

use meshsim::metrics::Summary;
use meshsim::report::json::summary_json;
use meshsim::validate::healthy_share;

use crate::common::{assert_close, load, run};
use crate::theory::check;

const LEAF: &str = "endpoints:\n      x: {steps: [{work: 1ms}]}";

/// The `random …` models of `meshsim validate`: errors and slowdowns (past the
/// client's timeout), exponential and general up and down times, within 1%.
#[test]
fn random_errors_and_slowdowns_give_the_healthy_share() {
    check("random ");
}

fn availability(s: &Summary) -> f64 {
    let w = &s.workload["w"];
    w.ok as f64 / w.sent as f64
}

/// Every kind can be random; a request fails exactly while its fault is
/// active, so availability matches the windows recorded for the reports (up
/// to the sampling of ~200,000 requests), and both match the theory.
#[test]
fn availability_matches_the_recorded_windows_for_every_kind() {
    let two_dcs =
        "datacenters: [a, b]\nnetwork:\n  links:\n    - {between: [a, b], latency: 1ms}\n";
    let cases = [
        ("", "errors: s, rate: 100%", "errors s 100.0%"),
        ("", "slow: s, factor: 1000", "slow s ×1000"),
        (two_dcs, "partition: [a, b]", "partition a/b"),
        (two_dcs, "datacenter_down: b", "datacenter_down b"),
        (two_dcs, "latency: [a, b], extra: 1s", "latency a/b +1000ms"),
    ];
    for (dcs, fault, label) in cases {
        let placement = if dcs.is_empty() {
            ""
        } else {
            "replicas: {b: 1}\n    "
        };
        let s = load(&format!(
            "name: t\nseed: 5\nduration: 10000s\n{dcs}services:\n  s:\n    concurrency: 200\n    {placement}{LEAF}\nworkload:\n  - {{name: w, target: s.x, rate: 20/s, timeout: 100ms}}\nfailures:\n  - {{{fault}, mtbf: 10s, mttr: 1s}}\n"
        ));
        let (summary, _) = run(&s);
        let healthy = healthy_share(&summary, Some(label));
        let a = availability(&summary);
        assert!(
            (a - healthy).abs() < 0.003,
            "{fault}: availability {a:.5}, healthy share of time {healthy:.5}"
        );
        assert!(
            (healthy - 10.0 / 11.0).abs() < 0.01,
            "{fault}: healthy share {healthy:.5}, theory {:.5}",
            10.0 / 11.0
        );
    }
}

/// `{crash: s, mtbf, mttr}` is `{random: s, mtbf, mttr}`: the same draws and bytes.
#[test]
fn a_random_crash_written_either_way_is_the_same_run() {
    let yaml = |failure: &str| {
        format!(
            "name: t\nseed: 3\nduration: 2000s\nservices:\n  s:\n    replicas: 3\n    {LEAF}\nworkload:\n  - {{name: w, target: s.x, rate: 50/s}}\nfailures:\n  - {failure}\n"
        )
    };
    let a = run(&load(&yaml("{random: s, mtbf: 30s, mttr: 5s}"))).0;
    let b = run(&load(&yaml("{crash: s, mtbf: 30s, mttr: 5s}"))).0;
    assert_eq!(summary_json(&a), summary_json(&b));
    assert!(a.failures.iter().any(|f| f.replica == Some(2)));
    // `replicas: 1`: only the first replica fails.
    let one = run(&load(&yaml("{crash: s, replicas: 1, mtbf: 30s, mttr: 5s}"))).0;
    assert!(!one.failures.is_empty());
    assert!(one.failures.iter().all(|f| f.replica == Some(0)));
}

/// Constant up and down times make a clock: up 9 s, down 1 s, exactly.
#[test]
fn constant_mtbf_and_mttr_give_regular_windows() {
    let s = load(&format!(
        "name: t\nduration: 100s\nservices:\n  s:\n    {LEAF}\nworkload:\n  - {{name: w, target: s.x, rate: 10/s}}\nfailures:\n  - {{errors: s, rate: 50%, mtbf: {{constant: 9s}}, mttr: {{constant: 1s}}}}\n"
    ));
    let (summary, _) = run(&s);
    let starts: Vec<(f64, Option<f64>)> = summary
        .failures
        .iter()
        .map(|f| (f.start_s, f.end_s))
        .collect();
    let expected: Vec<(f64, Option<f64>)> = (0..10)
        .map(|k| {
            let start = 9.0 + 10.0 * f64::from(k);
            (start, Some((start + 1.0).min(100.0)))
        })
        .collect();
    assert_eq!(starts, expected);
    assert_eq!(summary.failures[0].failure, "errors s 50.0%");
    assert_close(
        "healthy share",
        healthy_share(&summary, Some("errors s 50.0%")),
        0.9,
        1e-9,
    );
}

/// A random broker node failure: its windows are recorded and every message is
/// still accounted for (handled, dead-lettered, lost or in flight).
#[test]
fn a_random_broker_node_failure_conserves_messages() {
    let s = load(
        "name: t\nseed: 2\nduration: 300s\nbroker:\n  nodes: 3\n  topics:\n    t: {partitions: 3, replication_factor: 3, min_insync_replicas: 2}\nservices:\n  p:\n    concurrency: 100\n    endpoints:\n      x: {steps: [{publish: t}]}\n  c:\n    consumes: [{topic: t, group: g, steps: [{work: 1ms}]}]\nworkload:\n  - {name: w, target: p.x, rate: 50/s}\nfailures:\n  - {broker_node: 0, mtbf: 20s, mttr: 5s}\n",
    );
    let (summary, _) = run(&s);
    let windows = summary.failures.len();
    assert!(windows > 3, "{windows} windows");
    assert!(
        summary
            .failures
            .iter()
            .all(|f| f.failure == "broker_node 0")
    );
}
