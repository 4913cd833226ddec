//! The broker: publishing with acks, Kafka partitions and groups, lag,
//! retries and dead-lettering; conservation of messages in every test.

use crate::common::{assert_close, load, run};

fn kafka(topic: &str, consumer: &str, rate: &str, extra: &str) -> String {
    format!(
        "name: t\nseed: 3\nduration: 100s\nwarmup: 5s\nbroker:\n  nodes: 3\n  append: 1ms\n  topics:\n    orders: {topic}\nservices:\n  producer:\n    concurrency: 100000\n    endpoints:\n      place: {{steps: [{{publish: orders}}]}}\n  consumer:\n{consumer}\nworkload:\n  - {{name: w, target: producer.place, rate: {rate}}}\n{extra}"
    )
}

/// At low load the event latency is the leader's append, the follower's
/// append (acks all, 2 in sync) and the handling: 1 + 1 + 2 ms.
#[test]
fn event_latency_at_low_load_is_the_sum_of_its_parts() {
    let s = load(&kafka(
        "{partitions: 4, replication_factor: 3, min_insync_replicas: 2, acks: all}",
        "    replicas: 2\n    concurrency: 4\n    consumes:\n      - {topic: orders, group: g, steps: [{work: 2ms}]}",
        "5/s",
        "",
    ));
    let (summary, _) = run(&s);
    let g = &summary.topics["orders"].groups["g"];
    assert_close("event latency", g.latency_ms.mean, 4.0, 0.02);
    // The producer waits for the same commit: two appends.
    assert_close(
        "publish latency",
        summary.workload["w"].latency_ms.mean,
        2.0,
        0.02,
    );
    let p99 = summary.slo.event_p99.actual_ms.unwrap();
    assert!(
        (4.0..5.0).contains(&p99),
        "the event SLO reads the groups' p99: {p99}"
    );
    let (s1, _) = run(&load(&kafka(
        "{partitions: 4, acks: 1}",
        "    consumes:\n      - {topic: orders, group: g, steps: [{work: 2ms}]}",
        "5/s",
        "",
    )));
    assert_close(
        "acks 1: one append",
        s1.workload["w"].latency_ms.mean,
        1.0,
        0.02,
    );
}

/// With P partitions and K single-worker consumers handling in s, the group
/// drains min(P, K)/s per second: lag grows at λ − min(P, K)/s.
#[test]
fn lag_grows_at_the_rate_theory_gives() {
    let s = load(&kafka(
        "{partitions: 4}",
        "    replicas: 2\n    concurrency: 1\n    consumes:\n      - {topic: orders, group: g, steps: [{work: 5ms}]}",
        "600/s",
        "",
    ));
    let (summary, _) = run(&s);
    let g = &summary.topics["orders"].groups["g"];
    // 600/s in, 2 / 5 ms = 400/s out, for 105 s.
    assert_close("max lag", g.max_lag as f64, 200.0 * 105.0, 0.05);
    assert_close("handled", g.handled as f64, 400.0 * 100.0, 0.05);
    // The per-second series: lag rising by 200 a second, 400 handled a second.
    assert_eq!((g.series_step_s, g.lag.len()), (1.0, 105));
    assert_close("lag at 50 s", g.lag[49] as f64, 200.0 * 50.0, 0.05);
    assert_close("throughput at 50 s", g.handled_per_s[49], 400.0, 0.02);
    // More consumers than partitions: the extra ones sit idle (min(P, K) = 4 → 800/s > 600/s).
    let (bounded, _) = run(&load(&kafka(
        "{partitions: 4}",
        "    replicas: 6\n    concurrency: 1\n    consumes:\n      - {topic: orders, group: g, steps: [{work: 5ms}]}",
        "600/s",
        "",
    )));
    assert!(
        bounded.topics["orders"].groups["g"].max_lag < 200,
        "{:?}",
        bounded.topics["orders"].groups["g"]
    );
}

/// A failing handler is retried, then dead-lettered (or lost without a DLQ);
/// every message is accounted for.
#[test]
fn retries_then_dead_letter_or_lost() {
    let consumer = |dlq: bool| {
        format!(
            "    concurrency: 10\n    consumes:\n      - {{topic: orders, group: g, steps: [{{work: 1ms}}], retry: {{max_attempts: 3, wait_duration: 10ms}}, dead_letter: {dlq}}}"
        )
    };
    let failing = "failures:\n  - {at: 0s, for: 105s, errors: consumer, rate: 50%}\n";
    for dlq in [true, false] {
        let (s, _) = run(&load(&kafka(
            "{partitions: 4}",
            &consumer(dlq),
            "100/s",
            failing,
        )));
        let g = &s.topics["orders"].groups["g"];
        let settled = (g.handled + g.dead_lettered + g.lost) as f64;
        // Each attempt fails with p = 0.5: a message fails 3 attempts with 0.5³.
        let failed = (g.dead_lettered + g.lost) as f64 / settled;
        assert_close("exhausted share", failed, 0.125, 0.08);
        if dlq {
            assert_eq!(g.lost, 0, "nothing is lost with a dead-letter queue");
        } else {
            assert_eq!(g.dead_lettered, 0);
        }
    }
}

/// Publishing past the nodes' append capacity shows up as rising publish
/// latency and a growing backlog, not as a silent cap.
#[test]
fn broker_saturation_is_back_pressure() {
    let s = load(
        "name: t\nseed: 3\nduration: 20s\nbroker:\n  nodes: 1\n  append: 1ms\n  topics:\n    orders: {partitions: 4, acks: 1}\nservices:\n  producer:\n    concurrency: 100000\n    endpoints:\n      place: {steps: [{publish: orders}]}\nworkload:\n  - {name: w, target: producer.place, rate: 1200/s}\n",
    );
    let (summary, _) = run(&s);
    let w = &summary.workload["w"];
    // The node appends 1000/s; 200/s pile up: after t s a publish waits 0.2·t s.
    assert!(w.latency_ms.max > 3000.0, "{:?}", w.latency_ms);
    assert_close("acknowledged", w.ok as f64, 1000.0 * 20.0, 0.02);
    assert_eq!(
        summary.topics["orders"].published, w.sent,
        "every request published, none dropped"
    );
}

/// Several groups each see every message; unknown topics and impossible
/// replication are refused at load.
#[test]
fn groups_are_independent_and_topics_are_checked() {
    let (s, _) = run(&load(&kafka(
        "{partitions: 3}",
        "    consumes:\n      - {topic: orders, group: a, steps: [{work: 1ms}]}\n      - {topic: orders, group: b, steps: [{work: 1ms}]}",
        "50/s",
        "",
    )));
    let t = &s.topics["orders"];
    assert!(t.groups["a"].handled > 4000 && t.groups["a"].handled == t.groups["b"].handled);
    for (topic, says) in [
        ("{partitions: 0}", "out of range"),
        ("{replication_factor: 4}", "needs as many broker nodes"),
        (
            "{replication_factor: 2, min_insync_replicas: 3}",
            "cannot exceed the replication factor",
        ),
        ("{acks: 2}", "not an acks setting"),
    ] {
        let e = meshsim::scenario::load_str(
            &kafka(
                topic,
                "    consumes:\n      - {topic: orders, group: g, steps: [{work: 1ms}]}",
                "5/s",
                "",
            ),
            "t.yaml",
            &[],
        )
        .unwrap_err()
        .render();
        assert!(
            e.contains(says) && e.contains("broker.topics.orders"),
            "{e}"
        );
    }
    let e = meshsim::scenario::load_str(
        &kafka(
            "{partitions: 1}",
            "    consumes:\n      - {topic: order, group: g, steps: [{work: 1ms}]}",
            "5/s",
            "",
        ),
        "t.yaml",
        &[],
    )
    .unwrap_err()
    .render();
    assert!(
        e.contains("unknown topic 'order'")
            && e.contains("did you mean 'orders'?")
            && e.contains("services.consumer.consumes[0].topic"),
        "{e}"
    );
}

/// RabbitMQ: competing consumers share one queue up to their prefetch; a
/// message over its delivery limit, or older than its TTL, is dead-lettered.
#[test]
fn rabbitmq_competing_consumers_limits_and_ttl() {
    let rabbit = |topic: &str, consumer: &str, rate: &str, extra: &str| {
        kafka(topic, consumer, rate, extra).replace("broker:\n", "broker:\n  kind: rabbitmq\n")
    };
    // Three replicas of two workers, 10 ms each: 600/s; 300/s arrive.
    let (s, _) = run(&load(&rabbit(
        "{partitions: 1}",
        "    replicas: 3\n    concurrency: 2\n    consumes:\n      - {topic: orders, group: g, prefetch: 2, steps: [{work: 10ms}]}",
        "300/s",
        "",
    )));
    let g = &s.topics["orders"].groups["g"];
    assert!(g.max_lag < 100 && g.latency_ms.mean < 20.0, "{g:?}");
    assert_close(
        "consumer utilisation",
        s.services["consumer"].utilization,
        0.5,
        0.05,
    );
    // Always failing handler, retried up to 10 times, but delivery_limit 3: 3 deliveries, then the DLQ.
    let (s, _) = run(&load(&rabbit(
        "{partitions: 1, delivery_limit: 3}",
        "    concurrency: 10\n    consumes:\n      - {topic: orders, group: g, dead_letter: true, retry: {max_attempts: 10, wait_duration: 1ms}, steps: [{work: 1ms}]}",
        "50/s",
        "failures:\n  - {at: 0s, for: 105s, errors: consumer, rate: 100%}\n",
    )));
    let g = &s.topics["orders"].groups["g"];
    assert_eq!(g.handled, 0);
    assert!(g.dead_lettered > 4000 && g.lost == 0, "{g:?}");
    let errors = s.services["consumer"].injected_errors;
    assert!(
        (3 * g.dead_lettered..=3 * (g.dead_lettered + g.in_flight)).contains(&errors),
        "three deliveries each: {errors} errors, {g:?}"
    );
    // A consumer too slow for the load, with a TTL: old messages expire to the DLQ.
    let (s, _) = run(&load(&rabbit(
        "{partitions: 1, message_ttl: 1s}",
        "    concurrency: 1\n    consumes:\n      - {topic: orders, group: g, dead_letter: true, steps: [{work: 20ms}]}",
        "100/s",
        "",
    )));
    let g = &s.topics["orders"].groups["g"];
    assert_close("handled at capacity", g.handled as f64, 50.0 * 100.0, 0.05);
    assert!(g.dead_lettered > 4000, "{g:?}");
    // The TTL applies in the queue; a message already prefetched (10 by default)
    // waits at most 10 handlings more: 1 s + 10 × 20 ms + 20 ms.
    assert!(
        g.latency_ms.max <= 1000.0 + 10.0 * 20.0 + 20.0 + 1.0,
        "no message left the queue past its TTL: {:?}",
        g.latency_ms
    );
}

/// Kafka with blocking retries handles every partition in log order, failures
/// and all; a retry topic, or RabbitMQ's competing consumers, do not.
#[test]
fn ordering_kept_only_by_blocking_kafka_retries() {
    let failing = "failures:\n  - {at: 0s, for: 105s, errors: consumer, rate: 20%}\n";
    let consumer = |mode: &str| {
        format!(
            "    replicas: 2\n    concurrency: 4\n    consumes:\n      - {{topic: orders, group: g, retry_mode: {mode}, retry: {{max_attempts: 5, wait_duration: 20ms}}, dead_letter: true, steps: [{{work: {{exponential: {{mean: 3ms}}}}}}]}}"
        )
    };
    let (blocking, _) = run(&load(&kafka(
        "{partitions: 8}",
        &consumer("blocking"),
        "200/s",
        failing,
    )));
    let (moved, _) = run(&load(&kafka(
        "{partitions: 8}",
        &consumer("retry_topic"),
        "200/s",
        failing,
    )));
    let g = |s: &meshsim::metrics::Summary| s.topics["orders"].groups["g"].clone();
    assert!(g(&blocking).handled > 15_000);
    assert_eq!(g(&blocking).out_of_order, 0, "order kept");
    assert!(
        g(&moved).out_of_order > 100,
        "order broken: {:?}",
        g(&moved)
    );
    let rabbit = kafka("{partitions: 1}", "    replicas: 3\n    concurrency: 2\n    consumes:\n      - {topic: orders, group: g, steps: [{work: {exponential: {mean: 3ms}}}]}", "300/s", "").replace("broker:\n", "broker:\n  kind: rabbitmq\n");
    let (r, _) = run(&load(&rabbit));
    assert!(
        g(&r).out_of_order > 100,
        "competing consumers reorder: {:?}",
        g(&r)
    );
}

/// A consumer that crashes mid-batch: after session_timeout its partitions move
/// and what it handled since the last commit is delivered again. Without
/// idempotency those are duplicates; with it, the same replays are skipped.
#[test]
fn consumer_crash_redelivers_and_idempotency_skips() {
    let yaml = |idempotent: bool| {
        kafka(
            "{partitions: 4}",
            &format!("    replicas: 2\n    concurrency: 2\n    consumes:\n      - {{topic: orders, group: g, idempotent: {idempotent}, max_poll_records: 50, steps: [{{work: 2ms}}]}}"),
            "400/s",
            "failures:\n  - {at: 30s, for: 20s, crash: consumer, replicas: 1}\n",
        )
        .replace("broker:\n", "broker:\n  session_timeout: 5s\n")
    };
    let (plain, _) = run(&load(&yaml(false)));
    let (idem, _) = run(&load(&yaml(true)));
    let (p, i) = (
        &plain.topics["orders"].groups["g"],
        &idem.topics["orders"].groups["g"],
    );
    assert!(p.duplicates > 0 && p.duplicates_skipped == 0, "{p:?}");
    assert_eq!(i.duplicates, 0, "{i:?}");
    assert_eq!(
        i.duplicates_skipped, p.duplicates,
        "the same replays, recognised"
    );
    assert_eq!(p.lost + p.dead_lettered, 0, "at-least-once: nothing lost");
    // The crashed replica's partitions wait for the rebalance: lag builds for 5 s.
    assert!(p.max_lag > 400, "{p:?}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
    /// Conservation under random crashes of producers and consumers, any seed.
    #[test]
    fn no_message_vanishes_under_random_crashes(seed in 0u64..1_000_000) {
        let yaml = kafka(
            "{partitions: 6, replication_factor: 3, min_insync_replicas: 2}",
            "    replicas: 3\n    concurrency: 2\n    consumes:\n      - {topic: orders, group: g, dead_letter: true, retry: {max_attempts: 3, wait_duration: 5ms}, steps: [{work: {exponential: {mean: 3ms}}}]}",
            "300/s",
            "failures:\n  - {random: consumer, mtbf: 10s, mttr: 3s}\n  - {random: producer, mtbf: 20s, mttr: 1s}\n  - {at: 20s, for: 10s, errors: consumer, rate: 30%}\n",
        )
        .replace("seed: 3", &format!("seed: {seed}"))
        .replace("broker:\n", "broker:\n  session_timeout: 2s\n")
        .replace("duration: 100s", "duration: 40s");
        // run() asserts published = handled + dead_lettered + lost + in_flight per group.
        let (s, _) = run(&load(&yaml));
        let g = &s.topics["orders"].groups["g"];
        proptest::prop_assert_eq!(g.lost, 0, "a dead-letter queue is configured");
        proptest::prop_assert!(g.handled > 0);
    }
}

/// A broker node fails: its partitions wait `leader_election` for a follower
/// to lead, the producers' messages wait with them, and with acks all and
/// three replicas nothing acknowledged is lost.
#[test]
fn broker_node_failure_waits_for_the_election_and_loses_nothing() {
    let yaml = kafka(
        "{partitions: 6, replication_factor: 3, min_insync_replicas: 2, acks: all}",
        "    replicas: 2\n    concurrency: 3\n    consumes:\n      - {topic: orders, group: g, steps: [{work: 1ms}]}",
        "300/s",
        "failures:\n  - {at: 30s, for: 20s, broker_node: 0}\n",
    )
    .replace("broker:\n", "broker:\n  leader_election: 5s\n");
    let (s, _) = run(&load(&yaml));
    let w = &s.workload["w"];
    let g = &s.topics["orders"].groups["g"];
    assert_eq!(
        w.ok + w.in_flight,
        w.sent,
        "every publish acknowledged in the end"
    );
    assert_eq!(g.lost + g.dead_lettered, 0);
    assert!(g.handled + g.in_flight == s.topics["orders"].published);
    // Publishes to the failed leader's partitions waited for the election (5 s),
    // then for the new leader to append the backlog of 5 s × 100/s (≈ 0.5 s at 1 ms each).
    assert!(
        (4900.0..5600.0).contains(&w.latency_ms.max),
        "{:?}",
        w.latency_ms
    );
    let e = meshsim::scenario::load_str(
        &yaml.replace("broker_node: 0", "broker_node: 3"),
        "t.yaml",
        &[],
    )
    .unwrap_err()
    .render();
    assert!(
        e.contains("there is no broker node 3") && e.contains("failures[0].broker_node"),
        "{e}"
    );
}

/// Under load each partition is an M/D/1 queue (Poisson keys, constant
/// handling): mean event latency d + ρd / (2(1 − ρ)) with ρ = λd/P.
#[test]
fn event_latency_under_load_is_m_d_1_per_partition() {
    let s = load(&kafka(
        "{partitions: 4, acks: 1}",
        "    replicas: 4\n    concurrency: 1\n    consumes:\n      - {topic: orders, group: g, steps: [{work: 5ms}]}",
        "400/s",
        "",
    )
    .replace("append: 1ms", "append: 0s")
    .replace("rate: 400/s}", "rate: 400/s, keys: {count: 1000000}}")
    .replace("duration: 100s", "duration: 2000s"));
    let (summary, _) = run(&s);
    let (d, rho) = (5.0, 100.0 * 0.005);
    assert_close(
        "event latency",
        summary.topics["orders"].groups["g"].latency_ms.mean,
        d + rho * d / (2.0 * (1.0 - rho)),
        0.02,
    );
}
