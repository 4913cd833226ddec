//! The fast path of a call no policy acts on (issue 13): an untraced call with
//! no retry, timeout, breaker, hedge or deadline keeps no logical record, a
//! traced one takes the full path. Tracing every request therefore sends the
//! same calls down the other path: every figure of the summary must be the same.
//! Likewise a run that records no latencies over time (`run --json`).

use meshsim::metrics::{Collector, Summary, summarize};
use meshsim::model::{RunOptions, run_with};
use meshsim::report::json::summary_json;
use meshsim::scenario::Scenario;

use crate::common::{assert_conserved, load, load_file};

/// summary.json's bytes, with `trace_sample` of the requests traced.
fn summary_bytes(s: &Scenario, trace_sample: f64) -> (Vec<u8>, meshsim::metrics::Summary) {
    let options = RunOptions {
        trace_sample,
        ..Default::default()
    };
    let (bytes, summary, _) = run_summary(s, &options);
    (bytes, summary)
}

/// summary.json's bytes, the summary and the collector of a run under `options`.
fn run_summary(s: &Scenario, options: &RunOptions) -> (Vec<u8>, Summary, Collector) {
    let out = run_with(s, s.seed, options, &mut |_, _| {});
    let summary = summarize(s, s.seed, &out.collector);
    assert_conserved(&summary);
    (summary_json(&summary), summary, out.collector)
}

/// The sum of the p99s over time of every workload, call site and group,
/// and of the endpoints' latencies per step.
fn p99s_over_time(c: &Collector) -> u64 {
    let workloads = c.series.workloads.iter().flat_map(|w| &w.points);
    let calls = c.series.calls.iter().flatten();
    let groups = c.topics.iter().flat_map(|t| &t.groups);
    let endpoints = c.series.endpoints.iter().flat_map(|e| &e.points);
    workloads.map(|p| p.p99_ns).sum::<u64>()
        + calls.map(|p| p.p99_ns).sum::<u64>()
        + endpoints.map(|p| p.1).sum::<u64>()
        + groups
            .flat_map(|g| &g.latency_series)
            .map(|p| p.1)
            .sum::<u64>()
}

#[test]
fn no_latencies_over_time_change_no_figure() {
    let scenarios = [
        ("mmc", load_file("mmc.yaml", &["duration=30s"])),
        ("retry-storm", load_file("retry-storm.yaml", &[])),
        ("ecommerce", load_file("ecommerce.yaml", &["duration=20s"])),
        (
            "reference-async",
            load_file("reference-async.yaml", &["duration=8s"]),
        ),
    ];
    for (name, s) in &scenarios {
        let (all, _, full) = run_summary(s, &RunOptions::default());
        let skip = RunOptions {
            skip_latency_series: true,
            ..Default::default()
        };
        let (without, _, bare) = run_summary(s, &skip);
        assert!(
            all == without,
            "{name}: the series' latencies changed the summary"
        );
        assert_eq!(full.events_processed, bare.events_processed, "{name}");
        assert_eq!(full.series.times, bare.series.times, "{name}");
        // The option did skip them: the p99s over time are all 0 without them.
        assert!(p99s_over_time(&full) > 0, "{name}");
        assert_eq!(p99s_over_time(&bare), 0, "{name}");
    }
}

/// Clients with a timeout, answers lost on a link (in flight at the end,
/// hung), a call that times out and whose work is wasted, a queue that rejects.
const EDGES: &str = "name: edges
duration: 20s
warmup: 2s
datacenters: [a, b]
network:
  links:
    - {between: [a, b], latency: 1ms, loss: 2%}
services:
  api:
    replicas: {a: 2}
    threading: async
    endpoints:
      get: {steps: [{work: 1ms}, {call: db.q}, {call: slow.x, timeout: 3ms, propagate_deadline: true}]}
  db:
    replicas: {b: 1}
    concurrency: 2
    queue: 5
    endpoints:
      q: {steps: [{work: {exponential: {mean: 1ms}}}]}
  slow:
    replicas: {a: 1}
    concurrency: 50
    endpoints:
      x: {steps: [{work: {exponential: {mean: 2ms}}}, {work: 1ms}]}
workload:
  - {name: w, target: api.get, rate: 1500/s, from: a, timeout: 50ms}
  - {name: patient, target: db.q, rate: 100/s, from: a}
";

#[test]
fn tracing_every_request_changes_no_figure() {
    let scenarios = [
        ("edges", load(EDGES)),
        ("mmc", load_file("mmc.yaml", &["duration=30s"])),
        ("closed-loop", load_file("closed-loop.yaml", &[])),
        ("retry-storm", load_file("retry-storm.yaml", &[])),
        ("ecommerce", load_file("ecommerce.yaml", &["duration=20s"])),
        (
            "reference-sync",
            load_file("reference-sync.yaml", &["duration=8s"]),
        ),
        (
            "reference-async",
            load_file("reference-async.yaml", &["duration=8s"]),
        ),
    ];
    for (name, s) in &scenarios {
        let (direct, summary) = summary_bytes(s, 0.0);
        let (traced, _) = summary_bytes(s, 1.0);
        assert!(direct == traced, "{name}: tracing changed the summary");
        if *name == "edges" {
            // The paths the direct calls take are all exercised.
            let w = &summary.workload["w"];
            assert!(w.timed_out > 100 && w.ok > 15_000, "{w:?}");
            let p = &summary.workload["patient"];
            assert!(p.in_flight > 0 && p.rejected > 0, "{p:?}");
            let slow = &summary.calls["api->slow.x"];
            assert!(slow.timeouts > 1_000 && slow.wasted > 100, "{slow:?}");
            // The propagated deadline: work past it is abandoned.
            let x = &summary.services["slow"].endpoints["x"];
            assert!(x.abandoned > 1_000, "{x:?}");
        }
    }
}
