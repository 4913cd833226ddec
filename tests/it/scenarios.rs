//! Every example in scenarios/ loads, runs and gives the numbers its header promises.

use crate::common::{assert_close, load_file, run};

#[test]
fn every_example_scenario_runs_and_conserves() {
    let dir = format!("{}/scenarios", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 3, "{names:?}");
    for name in names {
        let s = load_file(&name, &["duration=4s", "warmup=1s"]);
        let (summary, _) = run(&s);
        let sent: u64 = summary.workload.values().map(|w| w.sent).sum();
        assert!(sent > 0, "{name} sent nothing");
    }
}

#[test]
fn mm1_example_matches_its_header() {
    let (s, _) = run(&load_file("mm1.yaml", &[]));
    let w = &s.workload["requests"];
    assert_close("mean", w.latency_ms.mean, 5.0, 0.04);
    assert_close("p99", w.latency_ms.p99, 23.03, 0.08);
}

#[test]
fn mmc_example_matches_erlang_c() {
    let (s, _) = run(&load_file("mmc.yaml", &[]));
    let theory = 1e3 * meshsim::validate::mmc_mean(4, 3600.0, 1000.0);
    assert_close("mean", s.workload["requests"].latency_ms.mean, theory, 0.04);
}

#[test]
fn cpu_bound_example_matches_mm2_over_its_cores() {
    let (s, _) = run(&load_file("cpu-bound.yaml", &[]));
    // 2 cores, S = 5 ms, λ = 320/s: processor sharing gives M/M/2's mean, S/(1 − ρ²).
    let theory = 1e3 * meshsim::validate::mmc_mean(2, 320.0, 200.0);
    assert_close("mean", s.workload["requests"].latency_ms.mean, theory, 0.04);
    assert_close(
        "busy cores / cores",
        s.services["api"].utilization,
        0.8,
        0.02,
    );
    let path = format!("{}/scenarios/cpu-bound.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    let s = crate::common::load(&text);
    assert_eq!(meshsim::validate::theory_mean_ms(&s), Some(theory));
}

#[test]
fn reference_sync_meets_targets_with_expected_utilisation() {
    let (s, _) = run(&load_file("reference-sync.yaml", &["duration=20s"]));
    // Service B: λ·E[S]/workers with E[S] = median·e^{σ²/2}, σ = ln(20/3)/z99.
    let sigma = (20.0f64 / 3.0).ln() / 2.326_347_874;
    let mean_b = 0.003 * (sigma * sigma / 2.0).exp();
    assert_close(
        "utilisation of B",
        s.services["service-b"].utilization,
        10_000.0 * mean_b / 64.0,
        0.03,
    );
    let w = &s.workload["client"];
    assert_close("throughput", w.sent as f64 / 20.0, 10_000.0, 0.02);
    assert!(
        s.slo.sync_p99.pass && s.slo.availability.pass,
        "{:?}",
        s.slo
    );
    // Five hops of at least 0.3 ms median, 2.5 ms of A's work and ~4.2 ms of B's.
    assert!(
        w.latency_ms.mean > 7.0 && w.latency_ms.mean < 15.0,
        "{:?}",
        w.latency_ms
    );
}

#[test]
fn set_overrides_change_the_run() {
    let (base, _) = run(&load_file("mm1.yaml", &["duration=200s"]));
    let (faster, _) = run(&load_file(
        "mm1.yaml",
        &["duration=200s", "workload.requests.rate=500/s"],
    ));
    let (b, f) = (&base.workload["requests"], &faster.workload["requests"]);
    assert_close("sent at 500/s", f.sent as f64 / 200.0, 500.0, 0.03);
    assert_close("M/M/1 mean at ρ=0.5", f.latency_ms.mean, 2.0, 0.05);
    assert!(b.latency_ms.mean > 2.0 * f.latency_ms.mean);
}

#[test]
fn multi_dc_shows_the_discovery_gap_and_failover() {
    let (s, _) = run(&load_file("multi-dc.yaml", &[]));
    let eu = &s.workload["eu-users"];
    // eu-west is down from 50 s; callers learn at the 90 s refresh: 40 s of EU
    // requests (2000/s) vanish into the dead data center and time out.
    assert_close(
        "timed out during the gap",
        eu.timed_out as f64,
        2000.0 * 40.0,
        0.02,
    );
    // The 10 s partition: EU orders cannot reach inventory (us-east only).
    assert_close(
        "failed during the partition",
        eu.failed as f64,
        2000.0 * 10.0,
        0.15,
    );
    let us = &s.workload["us-users"];
    assert!(
        us.ok as f64 / us.sent as f64 > 0.999,
        "us-east is unaffected: {us:?}"
    );
    assert_eq!(s.failures.len(), 2);
}

#[test]
fn autoscale_example_follows_the_ramp() {
    let (s, _) = run(&load_file("autoscale.yaml", &[]));
    let timeline = s.services["api"].replicas_over_time.clone().unwrap();
    let last = timeline.last().unwrap().1;
    assert!(
        last >= 15,
        "at least ceil(3600 / 240) replicas: {timeline:?}"
    );
    assert!(
        timeline.windows(2).all(|w| w[1].1 > w[0].1),
        "only up during the ramp: {timeline:?}"
    );
}

#[test]
fn retry_storm_collapses_and_shedding_cures_it() {
    let after_spike = ["warmup=200s", "duration=300s"];
    let (storm, _) = run(&load_file("retry-storm.yaml", &after_spike));
    let mut cured = after_spike.to_vec();
    cured.push("services.backend.max_queue_time=3s");
    let (shed, _) = run(&load_file("retry-storm.yaml", &cured));
    let goodput = |s: &meshsim::metrics::Summary| s.workload["users"].ok as f64 / 300.0;
    assert!(
        goodput(&storm) < 0.5,
        "collapsed long after the spike: {}",
        goodput(&storm)
    );
    assert!(goodput(&shed) > 9.0, "recovered: {}", goodput(&shed));
}

#[test]
fn cascading_failure_and_its_containment() {
    let path = format!(
        "{}/scenarios/cascading-failure.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let (cascade, _) = run(&crate::common::load(&text));
    let browse = |s: &meshsim::metrics::Summary| {
        s.workload["browse"].ok as f64 / s.workload["browse"].sent as f64
    };
    assert!(
        browse(&cascade) < 0.7,
        "browse suffers from a slow payments call: {}",
        browse(&cascade)
    );
    let contained = text.replace(
        "          - call: payments.charge\n",
        "          - call: payments.charge\n            timeout: 300ms\n            circuit_breaker: {sliding_window_size: 50, minimum_number_of_calls: 20, slow_call_duration_threshold: 250ms, slow_call_rate_threshold: 50%, wait_duration_in_open_state: 5s}\n",
    );
    let (contained, _) = run(&crate::common::load(&contained));
    assert!(
        browse(&contained) > 0.999,
        "browse is protected: {}",
        browse(&contained)
    );
    assert!(contained.calls["api->payments.charge"].breaker_opened > 0);
}

#[test]
fn tail_at_scale_hedging_cuts_p99() {
    let (hedged, _) = run(&load_file("tail-at-scale.yaml", &["duration=60s"]));
    let (plain, _) = run(&load_file(
        "tail-at-scale.yaml",
        &[
            "duration=60s",
            "services.search.endpoints.query.steps[0].hedge.after=1h",
        ],
    ));
    let (h, p) = (
        hedged.workload["queries"].latency_ms.p99,
        plain.workload["queries"].latency_ms.p99,
    );
    assert!(h < 0.3 * p, "hedged p99 {h} ms vs {p} ms");
    let c = &hedged.calls["search->shard.lookup"];
    assert!(
        (c.hedges as f64) < 0.08 * (c.attempts - c.hedges) as f64,
        "{c:?}"
    );
}

#[test]
fn reference_async_waits_less_than_reference_sync() {
    let (sync, _) = run(&load_file("reference-sync.yaml", &["duration=20s"]));
    let (r#async, _) = run(&load_file("reference-async.yaml", &["duration=20s"]));
    let p99 = |s: &meshsim::metrics::Summary| s.slo.sync_p99.actual_ms.unwrap();
    assert!(
        p99(&r#async) < p99(&sync),
        "the client no longer waits for B: {} vs {}",
        p99(&r#async),
        p99(&sync)
    );
    let t = &r#async.topics["order-placed"];
    for g in ["service-c", "service-d"] {
        assert!(
            t.groups[g].handled as f64 > 0.999 * t.published as f64,
            "{g}: {:?}",
            t.groups[g]
        );
    }
    assert!(r#async.slo.event_p99.pass);
}

#[test]
fn hot_partition_and_its_cure() {
    let (hot, _) = run(&load_file("hot-partition.yaml", &["duration=30s"]));
    let (spread, _) = run(&load_file(
        "hot-partition.yaml",
        &["duration=30s", "workload.orders.keys.zipf=0.01"],
    ));
    let g = |s: &meshsim::metrics::Summary| s.topics["order-events"].groups["billing"].clone();
    assert!(
        g(&hot).max_partition_lag > 1000
            && g(&hot).max_partition_lag as f64 > 0.9 * g(&hot).max_lag as f64,
        "one partition holds the lag: {:?}",
        g(&hot)
    );
    assert!(g(&spread).max_lag < 100, "{:?}", g(&spread));
}

#[test]
fn consumer_crash_duplicates_unless_idempotent() {
    let (plain, _) = run(&load_file("consumer-crash.yaml", &[]));
    let (idem, _) = run(&load_file(
        "consumer-crash.yaml",
        &["services.ledger.consumes[0].idempotent=true"],
    ));
    let (p, i) = (
        &plain.topics["payments"].groups["payments"],
        &idem.topics["payments"].groups["payments"],
    );
    assert!(
        p.duplicates > 0 && i.duplicates == 0 && i.duplicates_skipped == p.duplicates,
        "{p:?} {i:?}"
    );
    assert_eq!(p.lost + i.lost, 0);
}

#[test]
fn ecommerce_dead_letters_without_losing() {
    let (s, _) = run(&load_file("ecommerce.yaml", &[]));
    let t = &s.topics["order-placed"];
    assert!(
        t.groups["shipping"].dead_lettered > 0 && t.groups["shipping"].lost == 0,
        "{:?}",
        t.groups["shipping"]
    );
    assert!(
        t.groups["inventory"].max_lag < 100,
        "inventory is not held back by shipping"
    );
    assert!(s.slo.sync_p99.pass && s.slo.availability.pass);
}

#[test]
fn bandwidth_large_answers_queue_the_small_ones() {
    let (s, _) = run(&load_file("bandwidth.yaml", &["duration=3600s"]));
    // eu-west->us-east is M/G/1: 100/s answers of 1.6 ms, 2/s of 160 ms.
    let (small, large) = ((100.0, 0.0016), (2.0, 0.16));
    let rho = small.0 * small.1 + large.0 * large.1;
    let second_moment = small.0 * small.1 * small.1 + large.0 * large.1 * large.1;
    let wait_ms = 1e3 * second_moment / (2.0 * (1.0 - rho));
    let back = &s.links["eu-west->us-east"];
    assert_close("utilisation", back.utilization, rho, 0.04);
    assert_close(
        "wait for the link",
        back.queue_ms_mean.unwrap(),
        wait_ms,
        0.08,
    );
    assert_eq!(
        s.links["us-east->eu-west"].messages, 0,
        "requests have no size"
    );
    // An item: 40 ms each way, 2 ms of work, the wait and 1.6 ms on the wire.
    let item = 80.0 + 2.0 + wait_ms + 1.6;
    assert_close(
        "browse mean",
        s.workload["browse"].latency_ms.mean,
        item,
        0.06,
    );
    // The terminal table shows each direction: busy share and wait.
    let table = meshsim::report::table::render(&s, false);
    let row = table
        .lines()
        .find(|l| l.starts_with("eu-west->us-east"))
        .unwrap_or_else(|| panic!("no link row in\n{table}"));
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells[1], back.messages.to_string(), "{row}");
    assert_eq!(
        cells[3],
        format!("{:.1}%", back.utilization * 100.0),
        "{row}"
    );
    assert_eq!(
        cells[4],
        format!("{:.3}", back.queue_ms_mean.unwrap()),
        "{row}"
    );
}

#[test]
fn cache_miss_mean_and_p99_are_those_of_the_mixture() {
    let (s, _) = run(&load_file("cache-miss.yaml", &[]));
    let w = &s.workload["reads"];
    // 1 ms hit; a 20% miss adds an Exp(50 ms) query and a 1 ms write-back.
    assert_close("mean", w.latency_ms.mean, 1.0 + 0.2 * 51.0, 0.02);
    assert_close("p99", w.latency_ms.p99, 2.0 + 50.0 * 20f64.ln(), 0.03);
    let (db, cache) = (&s.calls["api->db.query"], &s.calls["api->cache.get"]);
    assert_close(
        "miss ratio",
        db.attempts as f64 / cache.attempts as f64,
        0.2,
        0.02,
    );
}

/// closed-loop.yaml: the load tester sees what MVA says (797/s, 25.5 ms, no
/// rejection) while open arrivals at its nominal rate overload the same server.
#[test]
fn closed_loop_example_matches_mva_and_shows_the_overload_it_hides() {
    let (s, _) = run(&load_file("closed-loop.yaml", &[]));
    let (x, r) = meshsim::validate::mva(&[0.00125], 0.1, 100);
    let tester = &s.workload["load-tester"];
    let c = tester.closed.as_ref().expect("closed");
    assert_close("tester's throughput", c.throughput_per_s, x, 0.03);
    assert_close(
        "tester's response",
        c.response_ms_mean.unwrap(),
        1e3 * r,
        0.06,
    );
    let law = 1e3 * c.users / c.throughput_per_s - c.think_ms_mean.unwrap();
    assert_close("R = N/X − Z", law, c.response_ms_mean.unwrap(), 0.02);
    assert_eq!(tester.rejected, 0);
    let open = &s.workload["real-users"];
    assert!(open.closed.is_none());
    assert_close(
        "share rejected",
        open.rejected as f64 / open.sent as f64,
        0.2,
        0.1,
    );
    assert!(open.latency_ms.mean > 1000.0, "{:?}", open.latency_ms);
    // --set reaches the new keys: ten times the users, the same throughput.
    let (more, _) = run(&load_file(
        "closed-loop.yaml",
        &["duration=20s", "workload.0.users=1000"],
    ));
    let c = more.workload["load-tester"].closed.as_ref().unwrap();
    assert_eq!(c.users, 1000.0);
    assert_close("throughput at 1000 users", c.throughput_per_s, 800.0, 0.03);
}

/// Random error bursts: with 3 attempts a request fails only when all three
/// land in a burst and fail, so availability = 1 − 0.5³ × the run's share of
/// measured time in a burst; without retries, 1 − 0.5 × that share. Slowdowns
/// 9% of the time set the p99, far above the median.
#[test]
fn flaky_dependency_follows_its_bursts_and_retries_help() {
    let burst_share = |s: &meshsim::metrics::Summary| {
        1.0 - meshsim::validate::healthy_share(s, Some("errors payments 50.0%"))
    };
    let (s, _) = run(&load_file("flaky-dependency.yaml", &[]));
    let share = burst_share(&s);
    assert!(
        share > 0.03 && share < 0.15,
        "share of time in a burst {share}"
    );
    let w = &s.workload["shoppers"];
    let availability = w.ok as f64 / w.sent as f64;
    assert_close(
        "availability, 3 attempts",
        availability,
        1.0 - 0.125 * share,
        0.002,
    );
    assert!(
        w.latency_ms.p99 > 5.0 * w.latency_ms.p50,
        "{:?}",
        w.latency_ms
    );
    let no_retry = ["services.api.endpoints.buy.steps[1].retry.max_attempts=1"];
    let (plain, _) = run(&load_file("flaky-dependency.yaml", &no_retry));
    let w = &plain.workload["shoppers"];
    let share = burst_share(&plain);
    assert_close(
        "availability, no retries",
        w.ok as f64 / w.sent as f64,
        1.0 - 0.5 * share,
        0.004,
    );
}
