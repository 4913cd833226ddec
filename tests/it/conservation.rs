//! Timeouts, rejections and failed calls: every request is accounted for, and
//! the shares match theory where theory exists.

use crate::common::{assert_close, load, run};

/// M/M/1 with a client timeout T: the timed-out share is P(W > T) = e^{−(μ−λ)T}
/// (the server keeps working on abandoned requests, so the queue is unchanged).
/// At ρ = 0.5 busy periods are short, so the tail estimate is tight.
#[test]
fn client_timeout_share_is_the_sojourn_tail() {
    let s = load(
        "name: t\nseed: 3\nduration: 2000s\nwarmup: 10s\nservices:\n  s:\n    queue: 1000000\n    endpoints:\n      x: {steps: [{work: {exponential: {mean: 1ms}}}]}\nworkload:\n  - {name: w, target: s.x, rate: 500/s, timeout: 6ms}\n",
    );
    let (summary, _) = run(&s);
    let w = &summary.workload["w"];
    let share = w.timed_out as f64 / (w.sent - w.in_flight) as f64;
    assert_close("timed-out share", share, (-500.0f64 * 0.006).exp(), 0.05);
    assert!(
        w.latency_ms.max <= 6.0,
        "no successful request is slower than the timeout"
    );
}

/// A call timeout fails the caller's request: the client's failed share is the
/// callee's M/M/1 sojourn tail P(W > 8 ms) = e^{−4} at ρ = 0.5.
#[test]
fn call_timeout_fails_the_caller() {
    let s = load(
        "name: t\nseed: 5\nduration: 2000s\nwarmup: 10s\nservices:\n  a:\n    concurrency: 1000\n    endpoints:\n      x: {steps: [{call: b.y, timeout: 8ms}]}\n  b:\n    queue: 1000000\n    endpoints:\n      y: {steps: [{work: {exponential: {mean: 1ms}}}]}\nworkload:\n  - {name: w, target: a.x, rate: 500/s}\n",
    );
    let (summary, _) = run(&s);
    let w = &summary.workload["w"];
    let share = w.failed as f64 / (w.sent - w.in_flight) as f64;
    assert_close("failed share", share, (-4.0f64).exp(), 0.05);
    let call = &summary.calls["a->b.y"];
    assert_eq!(
        call.timeouts, w.failed,
        "each failed request is one timed-out call"
    );
    // One call per request: a call is in flight exactly when its request is.
    assert_eq!(
        call.attempts,
        call.ok + call.timeouts + call.failed + call.rejected + w.in_flight
    );
}

/// A full queue rejects at once; a rejection deep in the chain fails the
/// client's request; utilisation never exceeds 1.
#[test]
fn overload_rejects_and_conserves() {
    let s = load(
        "name: t\nseed: 9\nduration: 100s\nwarmup: 1s\nservices:\n  a:\n    replicas: 2\n    concurrency: 4\n    queue: 5\n    endpoints:\n      x: {steps: [{work: {exponential: {mean: 2ms}}}, {call: b.y, fanout: 3}]}\n  b:\n    concurrency: 2\n    queue: 3\n    endpoints:\n      y: {steps: [{work: {exponential: {mean: 1ms}}}]}\nworkload:\n  - {name: w, target: a.x, rate: 3000/s, timeout: 50ms}\n",
    );
    let (summary, _) = run(&s);
    let w = &summary.workload["w"];
    assert!(w.failed > 0 && w.rejected > 0 && w.ok > 0, "{w:?}");
    let b = &summary.services["b"];
    assert!(b.rejected > 0);
    assert!(
        b.utilization <= 1.0 && b.utilization > 0.95,
        "b is saturated: {}",
        b.utilization
    );
    let calls = &summary.calls["a->b.y"];
    assert_eq!(
        calls.rejected, b.rejected,
        "every rejection at b is seen by a caller"
    );
}

/// Utilisation is busy time over available time: λ·E[S]/c for a stable queue.
#[test]
fn utilization_is_offered_load() {
    let s = load(
        "name: t\nseed: 11\nduration: 500s\nwarmup: 5s\nservices:\n  s:\n    replicas: 3\n    concurrency: 2\n    load_balancer: least_request\n    endpoints:\n      x: {steps: [{work: {uniform: {min: 1ms, max: 3ms}}}]}\nworkload:\n  - {name: w, target: s.x, rate: 2100/s}\n",
    );
    let (summary, _) = run(&s);
    assert_close(
        "utilization",
        summary.services["s"].utilization,
        2100.0 * 0.002 / 6.0,
        0.01,
    );
}
