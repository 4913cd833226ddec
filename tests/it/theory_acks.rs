//! RabbitMQ's acknowledgements (docs/SCENARIO.md, "The broker and events"): a
//! replica's room under `prefetch` comes back one network round trip after a
//! handling ends (the ack to the queue's node, the next delivery back). With
//! prefetch = workers = c, constant work D and a constant hop h, a saturated
//! consumer handles c / (D + 2h) messages a second; with prefetch above the
//! workers the next message is already there and it handles c / D; without a
//! network the round trip is 0. Messages are conserved in every case,
//! through a partition of the link to the broker too.

use crate::common::{assert_close, assert_conserved, load, run};

fn rabbit(prefetch: u32, network: &str, extra: &str) -> String {
    format!(
        "name: acks\nseed: 5\nduration: 100s\nwarmup: 5s\n{network}broker:\n  kind: rabbitmq\n  nodes: 1\n  topics:\n    orders: {{partitions: 1}}\nservices:\n  producer:\n    concurrency: 100000\n    endpoints:\n      place: {{steps: [{{publish: orders}}]}}\n  consumer:\n    concurrency: 3\n    consumes:\n      - {{topic: orders, group: g, prefetch: {prefetch}, steps: [{{work: 50ms}}]}}\nworkload:\n  - {{name: w, target: producer.place, rate: 100/s}}\n{extra}"
    )
}

/// Messages handled a second, averaged over seconds 10 to 100 of the series.
fn throughput(yaml: &str) -> f64 {
    let (s, _) = run(&load(yaml));
    assert_conserved(&s);
    let g = &s.topics["orders"].groups["g"];
    let steady = &g.handled_per_s[10..100];
    steady.iter().sum::<f64>() / steady.len() as f64
}

#[test]
fn prefetch_equal_to_workers_pays_a_round_trip_per_message() {
    let hop = "network:\n  within_dc: 1ms\n";
    // 3 / (50 ms + 2 × 1 ms) = 57.69/s.
    assert_close(
        "prefetch 3, hop 1 ms",
        throughput(&rabbit(3, hop, "")),
        3.0 / 0.052,
        0.005,
    );
    // The next message is already on the replica: 3 / 50 ms.
    assert_close(
        "prefetch 6, hop 1 ms",
        throughput(&rabbit(6, hop, "")),
        60.0,
        0.005,
    );
    assert_close(
        "prefetch 3, no network",
        throughput(&rabbit(3, "", "")),
        60.0,
        0.005,
    );
}

/// Two data centers, the consumer in the second: its link to the broker is cut
/// for 10 s. Acks wait for the link (tried again every 100 ms) and nothing is lost.
#[test]
fn a_cut_link_holds_the_acks_and_loses_nothing() {
    let net = "datacenters: [a, b]\nnetwork:\n  links:\n    - {between: [a, b], latency: 2ms}\n";
    let yaml = rabbit(
        3,
        net,
        "failures:\n  - {at: 30s, for: 10s, partition: [a, b]}\n",
    )
    .replace("  consumer:\n", "  consumer:\n    replicas: {b: 1}\n");
    let (s, _) = run(&load(&yaml));
    assert_conserved(&s);
    let g = &s.topics["orders"].groups["g"];
    // 3 / (50 ms + 2 × 2 ms) = 55.56/s, except for the 10 s the acks cannot pass.
    let before = g.handled_per_s[10..29].iter().sum::<f64>() / 19.0;
    assert_close("before the cut", before, 3.0 / 0.054, 0.01);
    let during = g.handled_per_s[31..39].iter().sum::<f64>();
    assert_eq!(during, 0.0, "no room comes back while the link is cut");
    assert_eq!(g.lost, 0);
}

/// A link of no latency cut while the producer has stopped: the held acks, once
/// through, give their room back at once and the queue hands out the rest of its
/// backlog (nothing else would wake it), so nothing is left in flight.
#[test]
fn a_held_ack_that_gets_through_wakes_the_queue() {
    let net = "datacenters: [a, b]\nnetwork:\n  links:\n    - {between: [a, b], latency: 0ms}\n";
    let yaml = rabbit(
        3,
        net,
        "failures:\n  - {at: 30s, for: 10s, partition: [a, b]}\n",
    )
    .replace("  consumer:\n", "  consumer:\n    replicas: {b: 1}\n")
    .replace(
        "rate: 100/s}",
        "rate: 100/s, arrival: schedule, schedule: [{at: 35s, rate: 0/s}]}",
    );
    let (s, _) = run(&load(&yaml));
    assert_conserved(&s);
    let g = &s.topics["orders"].groups["g"];
    assert_eq!(g.in_flight, 0, "{g:?}");
    assert_eq!(g.handled, s.topics["orders"].published, "{g:?}");
    // Nothing handled while the acks are held; then the backlog drains at 3 / 50 ms.
    assert_eq!(g.handled_per_s[31..40].iter().sum::<f64>(), 0.0, "{g:?}");
    assert!(g.handled_per_s[41..60].iter().all(|&x| x == 60.0), "{g:?}");
}
