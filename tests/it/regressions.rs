//! One test per fixed bug, with the scenario that showed it (tests/it/data/).

use crate::common::{load, run};

mod answers;
mod charts;
mod outputs;
mod schema;

fn scenario(name: &str) -> meshsim::scenario::Scenario {
    let path = format!("{}/tests/it/data/{name}", env!("CARGO_MANIFEST_DIR"));
    load(&std::fs::read_to_string(path).unwrap())
}

/// A breaker refusing the last call of an async job ended the job inside its
/// own handler, which then panicked.
#[test]
fn short_circuit_in_an_async_job() {
    let (s, _) = run(&scenario("regression-sc1.yaml"));
    assert!(s.calls["front->back.w"].short_circuited > 0);
}

/// Refused hedges did not count against max and were retried forever.
#[test]
fn refused_hedges_count_against_max() {
    let (s, _) = run(&scenario("regression-sc3.yaml"));
    let c = &s.calls["front->back.w"];
    // At most 10 hedges per request, refused or not.
    assert!(c.short_circuited <= 10 * s.workload["u"].sent, "{c:?}");
}

/// A queue of jobs past their deadline freed a worker recursively: the stack overflowed.
#[test]
fn long_queue_past_its_deadline_does_not_recurse() {
    let (s, _) = run(&scenario("regression-sc7.yaml"));
    assert!(s.services["b"].endpoints["y"].abandoned > 100_000);
}

/// A call step of a job already past its deadline scheduled events in the past.
#[test]
fn call_step_past_the_deadline_is_abandoned() {
    let (s, _) = run(&scenario("regression-sc9.yaml"));
    let abandoned: u64 = ["s1", "s2", "s3"]
        .iter()
        .flat_map(|x| s.services[*x].endpoints.values())
        .map(|e| e.abandoned)
        .sum();
    assert!(
        abandoned > 0,
        "jobs past their propagated deadline are abandoned"
    );
}

/// Retries went on for callers whose replica had crashed.
#[test]
fn retries_stop_with_their_dead_caller() {
    let (s, _) = run(&scenario("regression-sc11.yaml"));
    // s1 is down from 1 s; only requests admitted before then could retry.
    assert!(
        s.calls["s1->s2.y"].attempts < 200,
        "{:?}",
        s.calls["s1->s2.y"]
    );
}

fn group(s: &meshsim::metrics::Summary) -> meshsim::metrics::summary::GroupSummary {
    s.topics
        .values()
        .next()
        .unwrap()
        .groups
        .values()
        .next()
        .unwrap()
        .clone()
}

/// Consumers that came back after a crash never resumed an idle partition or queue.
#[test]
fn consumers_resume_after_a_crash() {
    for name in [
        "regression-stall-kafka.yaml",
        "regression-stall-rabbit.yaml",
    ] {
        let (s, _) = run(&scenario(name));
        assert_eq!(group(&s).in_flight, 0, "{name}: {:?}", group(&s));
    }
}

/// A consumer that crashed and came back before the rebalance kept its uncommitted position.
#[test]
fn every_crashed_consumer_replays_its_uncommitted_messages() {
    let (s, _) = run(&scenario("regression-allcrash.yaml"));
    assert!(group(&s).duplicates > 0, "{:?}", group(&s));
}

/// Scaling a Kafka consumer down left its partitions without an owner for good.
#[test]
fn scaled_down_consumers_hand_their_partitions_over() {
    let (s, _) = run(&scenario("regression-autoscale-kafka.yaml"));
    assert!(group(&s).in_flight < 10, "{:?}", group(&s));
}

/// A rebalance during a blocking retry let the next message overtake it.
#[test]
fn blocking_retries_keep_order_across_a_rebalance() {
    let (s, _) = run(&scenario("regression-blocking-rebalance.yaml"));
    assert_eq!(group(&s).out_of_order, 0);
}

/// session_timeout 0s with every consumer down rescheduled the rebalance forever.
#[test]
fn zero_session_timeout_terminates() {
    let (s, _) = run(&scenario("regression-st0.yaml"));
    assert!(group(&s).handled > 0);
}

/// Broker traffic ignored partitions: a partitioned producer published in no time.
#[test]
fn partitions_hold_broker_traffic() {
    let (s, _) = run(&scenario("regression-netpart0s.yaml"));
    assert_eq!(
        group(&s).handled,
        0,
        "the broker is unreachable for the whole run"
    );
    assert_eq!(s.workload.values().next().unwrap().ok, 0);
}
