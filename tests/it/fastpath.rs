//! The fast path of a call no policy acts on (issue 13): an untraced call with
//! no retry, timeout, breaker, hedge or deadline keeps no logical record, a
//! traced one takes the full path. Tracing every request therefore sends the
//! same calls down the other path: every figure of the summary must be the same.
//! Likewise a run that records no latencies over time (`run --json`). And a
//! run with many latency records, which buffers them, held to theory.

use meshsim::metrics::{Collector, Summary, summarize};
use meshsim::model::{RunOptions, run_with};
use meshsim::report::json::summary_json;
use meshsim::scenario::Scenario;
use statrs::distribution::{ContinuousCDF, Erlang};
use statrs::statistics::Distribution;

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

/// A chain of nine M/M/1 stations: 18 latency records (nine endpoints,
/// eight call sites, the workload), so each buffers its records before
/// counting them. Sojourns in a tandem of M/M/1 queues are independent
/// exponentials of rate μ − λ (Reich), so the response time is Erlang(9,
/// μ − λ): mean, median and p99 from theory, through the buffered counts.
#[test]
fn buffered_latency_records_agree_with_theory() {
    const STATIONS: usize = 9;
    let (mu, lambda) = (1000.0, 500.0);
    let mut yaml = String::from("name: chain\nseed: 11\nduration: 402s\nwarmup: 2s\nservices:\n");
    for i in 0..STATIONS {
        let call = if i + 1 < STATIONS {
            format!("\n          - call: s{}.x", i + 1)
        } else {
            String::new()
        };
        yaml += &format!(
            "  s{i}:\n    threading: async\n    concurrency: 1\n    queue: 1000000\n    endpoints:\n      x:\n        steps:\n          - work: {{exponential: {{mean: 1ms}}}}{call}\n"
        );
    }
    yaml += &format!("workload:\n  - {{name: w, target: s0.x, rate: {lambda}/s}}\n");
    let s = load(&yaml);
    let (_, summary, collector) = run_summary(&s, &RunOptions::default());
    assert!(collector.workloads[0].latency.is_buffered());
    let rate = mu - lambda;
    let erlang = Erlang::new(STATIONS as u64, rate).expect("valid Erlang");
    let w = &summary.workload["w"].latency_ms;
    let within = |got: f64, want: f64, tol: f64, what: &str| {
        assert!(
            (got / want - 1.0).abs() < tol,
            "{what}: {got:.3} ms, theory {want:.3} ms"
        );
    };
    within(w.mean, erlang.mean().expect("a mean") * 1e3, 0.02, "mean");
    within(w.p50, erlang.inverse_cdf(0.5) * 1e3, 0.03, "p50");
    within(w.p99, erlang.inverse_cdf(0.99) * 1e3, 0.03, "p99");
    // Each station is an M/M/1 at ρ = 0.5, a mean sojourn of 2 ms; an
    // endpoint's latency runs to its last step, so it holds the stations after it.
    for i in 0..STATIONS {
        let x = &summary.services[&format!("s{i}")].endpoints["x"];
        let want = (STATIONS - i) as f64 * 1e3 / rate;
        within(x.latency_ms.mean, want, 0.03, &format!("s{i}"));
        assert_eq!(x.latency_ms.count, x.ok, "s{i}");
    }
}

/// Held calls (no timeout, no sizes, a hop that takes no time) on every
/// path: answers within a data center and across a link, a crash (callers
/// told), a data center down (answers lost, in flight at the end), a
/// partition, injected errors, a full queue, requests shed past
/// `max_queue_time`, and an async caller whose calls fan out.
const HELD: &str = "name: held
duration: 20s
warmup: 2s
datacenters: [a, b]
network:
  links:
    - {between: [a, b], latency: 1ms}
services:
  api:
    replicas: {a: 2, b: 1}
    concurrency: 1
    queue: 20
    max_queue_time: 4ms
    threading: async
    endpoints:
      get: {steps: [{work: {exponential: {mean: 1.2ms}}}, {call: db.q, fanout: 2}, {work: 0.2ms}]}
  db:
    replicas: {a: 2, b: 1}
    concurrency: 2
    queue: 4
    endpoints:
      q: {steps: [{work: {exponential: {mean: 1ms}}}]}
workload:
  - {name: w, target: api.get, rate: 1200/s, from: a}
  - {name: direct, target: db.q, rate: 300/s, from: b}
failures:
  - {at: 5s, for: 1s, crash: db, replicas: 1}
  - {at: 8s, for: 2s, errors: api, rate: 5%}
  - {at: 12s, for: 1s, datacenter_down: b}
  - {at: 14s, for: 1s, partition: [a, b]}
  - {at: 16s, for: 500ms, crash: api}
  - {at: 19.5s, for: 1s, datacenter_down: a}
";

/// A call held in its callee's job keeps no attempt record, yet every figure
/// is the same as with its record, down to where an overloaded run stops
/// (the memory budget counts the records held calls would have had).
#[test]
fn held_calls_change_no_figure() {
    let scenarios = [
        ("held", load(HELD)),
        ("mmc", load_file("mmc.yaml", &["duration=30s"])),
        ("closed-loop", load_file("closed-loop.yaml", &[])),
        ("overload-queue", load_data("overload-queue.yaml")),
        ("overload-chain", load_data("overload-chain.yaml")),
    ];
    let keep = RunOptions {
        keep_attempt_records: true,
        ..Default::default()
    };
    for (name, s) in &scenarios {
        let (held, summary, c) = run_summary(s, &RunOptions::default());
        let (kept, _, k) = run_summary(s, &keep);
        assert!(held == kept, "{name}: holding calls changed the summary");
        assert_eq!(c.events_processed, k.events_processed, "{name}");
        if *name == "held" {
            // The paths a held call may take are all exercised.
            let w = &summary.workload["w"];
            assert!(w.ok > 15_000 && w.failed > 100 && w.in_flight > 0, "{w:?}");
            assert!(
                w.hung > 0 && summary.workload["direct"].rejected > 10,
                "{w:?}"
            );
            assert!(summary.services["db"].rejected > 10);
            let api = &summary.services["api"];
            assert!(api.shed > 10 && api.injected_errors > 100, "{api:?}");
            let q = &summary.calls["api->db.q"];
            assert!(q.ok > 30_000 && q.failed > 0 && q.in_flight > 0, "{q:?}");
        }
        if *name == "overload-queue" {
            let o = summary.overload.as_ref().expect("stopped at the budget");
            assert!(o.message.contains("requests waiting at api"), "{o:?}");
        }
        if *name == "overload-chain" {
            held_backlog_stops_at_the_budget(&summary);
        }
    }
}

/// `overload-chain`: every request waits at db in a job, its api job waiting
/// on the held call: two jobs and two call slots (counted as attempt records)
/// per request, twice what `overload-queue` holds (one job, one call slot),
/// which stops just past 2^22 waiting; this one stops just past 2^21, when
/// the arenas' doubling passes the 1 GiB budget. db answers one request per
/// 10 ms meanwhile.
fn held_backlog_stops_at_the_budget(summary: &meshsim::metrics::Summary) {
    let o = summary.overload.as_ref().expect("stopped at the budget");
    assert!(o.message.contains("requests waiting at db"), "{o:?}");
    let w = &summary.workload["w"];
    let stop = o.stopped_at_s;
    // Conservation: every request sent is answered or still in flight.
    assert_eq!(w.sent, w.ok + w.in_flight, "{w:?}");
    assert_eq!(summary.calls["api->db.q"].in_flight, w.in_flight);
    // db's deterministic 10 ms: one answer per 10 ms since the first arrival.
    assert!(
        (w.ok as f64 - stop / 0.010).abs() <= 1.0,
        "{} in {stop} s",
        w.ok
    );
    // Poisson arrivals at 100,000/s: within four standard deviations.
    let expected = 100_000.0 * stop;
    assert!(
        (w.sent as f64 - expected).abs() < 4.0 * expected.sqrt(),
        "{w:?}"
    );
    // Just past 2^21 waiting requests (2^22 jobs), within 1%.
    let waiting = w.in_flight as f64;
    let first = f64::from(1u32 << 21);
    assert!(waiting > first && waiting < 1.01 * first, "{waiting}");
}

/// Loads a scenario from tests/it/data.
fn load_data(name: &str) -> Scenario {
    let path = format!("{}/tests/it/data/{name}", env!("CARGO_MANIFEST_DIR"));
    load(&std::fs::read_to_string(path).expect("test data"))
}
