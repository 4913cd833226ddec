//! Data centers, links, failures, discovery and autoscaling, checked against
//! what theory or the configuration says they must do.

use crate::common::{assert_close, load, run};

const LEAF: &str = "endpoints:\n      x: {steps: [{work: 1ms}]}";

/// One replica up ~ Exp(mtbf), down ~ Exp(mttr): available mtbf / (mtbf + mttr)
/// of the time; k independent replicas: 1 − (1 − A)^k.
#[test]
fn random_failures_give_renewal_availability() {
    for (k, mtbf, mttr) in [(1, "3s", "1s"), (3, "1s", "1s")] {
        let s = load(&format!(
            "name: t\nseed: 21\nduration: 100000s\nservices:\n  s:\n    replicas: {k}\n    {LEAF}\nworkload:\n  - {{name: w, target: s.x, rate: 1/s}}\nfailures:\n  - {{random: s, mtbf: {mtbf}, mttr: {mttr}}}\n"
        ));
        let (summary, _) = run(&s);
        let a: f64 = if k == 1 { 0.75 } else { 0.5 };
        let theory = 1.0 - (1.0 - a).powi(k);
        assert_close(
            &format!("time-based availability, {k} replicas"),
            summary.services["s"].uptime,
            theory,
            0.02,
        );
        // Request-based: a request fails exactly when no replica is up.
        let w = &summary.workload["w"];
        assert_close(
            "request availability",
            w.ok as f64 / w.sent as f64,
            theory,
            0.03,
        );
    }
}

/// A call pinned to a remote data center pays the link both ways.
#[test]
fn cross_dc_call_adds_the_link_latency() {
    let s = load(&format!(
        "name: t\nseed: 2\nduration: 2000s\ndatacenters: [near, far]\nnetwork:\n  links:\n    - {{between: [near, far], latency: {{exponential: {{mean: 20ms}}}}}}\nservices:\n  s:\n    replicas: {{far: 1}}\n    concurrency: 1000\n    {LEAF}\nworkload:\n  - {{name: w, target: s.x, rate: 100/s, from: near}}\n"
    ));
    let (summary, _) = run(&s);
    assert_close(
        "mean latency",
        summary.workload["w"].latency_ms.mean,
        1.0 + 2.0 * 20.0,
        0.02,
    );
}

/// prefer_local keeps traffic in the caller's data center; any spreads it.
#[test]
fn locality_prefers_the_callers_data_center() {
    let yaml = |locality: &str| {
        format!(
            "name: t\nseed: 2\nduration: 200s\ndatacenters: [a, b]\nnetwork:\n  links:\n    - {{between: [a, b], latency: 30ms}}\nservices:\n  s:\n    replicas: {{a: 1, b: 1}}\n    concurrency: 1000\n    locality: {locality}\n    {LEAF}\nworkload:\n  - {{name: w, target: s.x, rate: 100/s, from: a}}\n"
        )
    };
    let (local, _) = run(&load(&yaml("prefer_local")));
    let (any, _) = run(&load(&yaml("any")));
    assert_close(
        "local mean",
        local.workload["w"].latency_ms.mean,
        1.0,
        0.001,
    );
    // Round robin over both: half the calls pay 60 ms.
    assert_close(
        "spread mean",
        any.workload["w"].latency_ms.mean,
        1.0 + 30.0,
        0.01,
    );
}

/// Loss p on a link, with a client timeout: a share p of requests time out.
#[test]
fn link_loss_is_the_timed_out_share() {
    let s = load(&format!(
        "name: t\nseed: 8\nduration: 5000s\ndatacenters: [a, b]\nnetwork:\n  links:\n    - {{between: [a, b], latency: 5ms, loss: 2%}}\nservices:\n  s:\n    replicas: {{b: 1}}\n    concurrency: 1000\n    {LEAF}\nworkload:\n  - {{name: w, target: s.x, rate: 100/s, from: a, timeout: 1s}}\n"
    ));
    let (summary, _) = run(&s);
    let w = &summary.workload["w"];
    assert_close(
        "timed-out share",
        w.timed_out as f64 / w.sent as f64,
        0.02,
        0.05,
    );
    assert_eq!(w.failed + w.rejected, 0);
}

/// After a crash, callers keep sending to the dead replica until the registry
/// notices (failures_before_critical checks) and they refresh: the last
/// connection failure comes no later than crash + refresh + fbc × interval.
#[test]
fn discovery_gap_closes_within_its_bound() {
    let s = load(&format!(
        "name: t\nseed: 5\nduration: 120s\ndiscovery: {{refresh_interval: 30s, health_check_interval: 10s, failures_before_critical: 3}}\nservices:\n  s:\n    replicas: 4\n    concurrency: 100\n    {LEAF}\nworkload:\n  - {{name: w, target: s.x, rate: 1000/s}}\nfailures:\n  - {{at: 31s, for: 80s, crash: s, replicas: 1}}\n"
    ));
    let (summary, _) = run(&s);
    let svc = &summary.services["s"];
    let last = svc
        .last_connection_failure_s
        .expect("connection failures during the gap");
    // Crash at 31 s; checks at 40, 50, 60 mark it critical; callers refresh at 60.
    assert!(
        last <= 31.0 + 30.0 + 3.0 * 10.0,
        "last connection failure at {last}"
    );
    // The third failed check and a refresh both fall at 60 s; the refresh, scheduled
    // first, runs first (FIFO ties), so callers learn at the next refresh, 90 s.
    assert!(
        last > 89.9,
        "the gap lasts until the refresh at 90 s: {last}"
    );
    // Round robin over 4 replicas: a quarter of the requests in [31, 90) hit the dead one.
    assert_close(
        "connection failures",
        svc.connection_failures as f64,
        1000.0 * 59.0 / 4.0,
        0.03,
    );
    assert_eq!(summary.workload["w"].failed, svc.connection_failures);
    // Without discovery, the view is the truth: only the crash's in-flight requests fail.
    let s = load(&format!(
        "name: t\nseed: 5\nduration: 120s\nservices:\n  s:\n    replicas: 4\n    concurrency: 100\n    {LEAF}\nworkload:\n  - {{name: w, target: s.x, rate: 1000/s}}\nfailures:\n  - {{at: 31s, for: 80s, crash: s, replicas: 1}}\n"
    ));
    let (summary, _) = run(&s);
    assert_eq!(summary.services["s"].connection_failures, 0);
    assert!(
        summary.workload["w"].failed <= 2,
        "{:?}",
        summary.workload["w"]
    );
}

/// A partition between the caller and a replica it still routes to gives
/// timeouts, not fast failures; conservation holds throughout.
#[test]
fn partition_gives_timeouts_and_crash_gives_failures() {
    let s = load(&format!(
        "name: t\nseed: 6\nduration: 100s\ndatacenters: [a, b]\nnetwork:\n  links:\n    - {{between: [a, b], latency: 10ms}}\nservices:\n  s:\n    replicas: {{b: 2}}\n    concurrency: 100\n    {LEAF}\nworkload:\n  - {{name: w, target: s.x, rate: 200/s, from: a, timeout: 500ms}}\nfailures:\n  - {{at: 20s, for: 10s, partition: [a, b]}}\n  - {{at: 50s, for: 10s, crash: s}}\n"
    ));
    let (summary, _) = run(&s);
    let w = &summary.workload["w"];
    // The partition: 10 s of requests time out (plus the ones in flight as it began).
    assert_close("timed out", w.timed_out as f64, 200.0 * 10.0, 0.03);
    // The crash of every replica: the view empties at once, requests fail fast.
    assert_close("failed", w.failed as f64, 200.0 * 10.0, 0.03);
    assert_eq!(summary.failures.len(), 2);
    assert_eq!(
        (summary.failures[0].start_s, summary.failures[0].end_s),
        (20.0, Some(30.0))
    );
    assert_close("availability of s", summary.services["s"].uptime, 0.9, 1e-9);
}

/// Slow multiplies work; errors fail a share at once; extra latency adds to the link.
#[test]
fn slow_errors_and_latency_failures() {
    let s = load(
        "name: t\nseed: 3\nduration: 100s\nservices:\n  s:\n    concurrency: 1000\n    endpoints:\n      x: {steps: [{work: 2ms}]}\nworkload:\n  - {name: w, target: s.x, rate: 1000/s}\nfailures:\n  - {at: 0s, for: 50s, slow: s, factor: 10}\n  - {at: 50s, for: 50s, errors: s, rate: 25%}\n",
    );
    let (summary, _) = run(&s);
    let w = &summary.workload["w"];
    // Half the time 20 ms, half 2 ms: mean of the successful ones.
    let ok_slow = 50_000.0;
    let ok_fast = 50_000.0 * 0.75;
    assert_close(
        "mean",
        w.latency_ms.mean,
        (ok_slow * 20.0 + ok_fast * 2.0) / (ok_slow + ok_fast),
        0.01,
    );
    assert_close(
        "injected",
        summary.services["s"].injected_errors as f64,
        12_500.0,
        0.03,
    );
    let s = load(
        "name: t\nseed: 3\nduration: 100s\nnetwork: {within_dc: 1ms}\nservices:\n  s:\n    concurrency: 1000\n    endpoints:\n      x: {steps: [{work: 2ms}]}\nworkload:\n  - {name: w, target: s.x, rate: 1000/s}\nfailures:\n  - {at: 0s, for: 100s, latency: [dc1, dc1], extra: 5ms}\n",
    );
    let (summary, _) = run(&s);
    assert_close(
        "with extra",
        summary.workload["w"].latency_ms.mean,
        2.0 + 2.0 * 6.0,
        0.001,
    );
}

/// A crash kills in-flight work deep in a chain; every request is still accounted for.
#[test]
fn crashes_mid_flight_lose_nothing() {
    let s = load(
        "name: t\nseed: 13\nduration: 200s\ngateway: {replicas: 2, timeout: 300ms}\nservices:\n  a:\n    replicas: 3\n    concurrency: 8\n    endpoints:\n      x: {steps: [{work: {exponential: {mean: 2ms}}}, {call: b.y, timeout: 100ms}]}\n  b:\n    replicas: 3\n    concurrency: 4\n    threading: async\n    endpoints:\n      y: {steps: [{work: {exponential: {mean: 5ms}}}]}\nworkload:\n  - {name: w, target: a.x, rate: 1500/s, timeout: 1s}\nfailures:\n  - {random: b, mtbf: 20s, mttr: 5s}\n  - {random: a, mtbf: 40s, mttr: 5s}\n  - {random: gateway, mtbf: 60s, mttr: 2s}\n",
    );
    let (summary, _) = run(&s);
    let w = &summary.workload["w"];
    assert!(w.failed > 0 && w.ok > 0, "{w:?}");
    assert!(!summary.failures.is_empty());
}

/// HPA: a step from 100/s to 400/s on replicas of capacity 100/s at a 50%
/// target ends at ceil(400 / (100 × 0.5)) = 8 replicas, decided only at sync
/// periods; the way back down (to 80/s: ceil(80 / 50) = 2 replicas) waits for
/// the stabilisation window. (A short queue
/// and no startup delay keep backlog from inflating the utilisation it sees.)
#[test]
fn autoscaler_follows_a_step_at_its_sync_period() {
    let s = load(
        "name: t\nseed: 1\nduration: 400s\nservices:\n  s:\n    replicas: 2\n    queue: 10\n    autoscale: {min_replicas: 1, max_replicas: 20, target_utilization: 50%, sync_period: 15s, scale_down_stabilization: 60s}\n    endpoints:\n      x: {steps: [{work: 10ms}]}\nworkload:\n  - name: w\n    target: s.x\n    rate: 100/s\n    arrival: schedule\n    schedule: [{at: 62s, rate: 400/s}, {at: 200s, rate: 80/s}]\n",
    );
    let (summary, _) = run(&s);
    let timeline = summary.services["s"]
        .replicas_over_time
        .clone()
        .expect("autoscaled");
    let changes: Vec<(f64, u32)> = timeline[1..].to_vec();
    assert_eq!(timeline[0], (0.0, 2));
    assert!(
        changes.iter().all(|(t, _)| (t / 15.0).fract() == 0.0),
        "decisions only at sync periods: {changes:?}"
    );
    let first_up = changes[0];
    assert_eq!(
        first_up.0, 75.0,
        "the first sync period after the step: {changes:?}"
    );
    let peak = changes
        .iter()
        .filter(|(t, _)| *t < 200.0)
        .map(|(_, n)| *n)
        .max()
        .unwrap();
    assert_eq!(peak, 8, "{changes:?}");
    let down = changes
        .iter()
        .find(|(t, n)| *t >= 200.0 && *n < peak)
        .expect("scales back down");
    assert!(
        down.0 >= 200.0 + 60.0,
        "scale-down waited for the window: {changes:?}"
    );
    assert_eq!(changes.last().unwrap().1, 2, "{changes:?}");
}
