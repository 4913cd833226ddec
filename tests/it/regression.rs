//! One test per fixed bug, with the scenario that showed it (tests/it/data/).

use crate::common::{load, run};

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
