//! Retries, budgets, back-off, breakers, hedging, deadlines and load shedding,
//! held to exact counts or to theory.

use meshsim::metrics::Summary;

use crate::common::{assert_close, load, run};

/// Every attempt ends one way (or is in flight), and attempts = first + retries + hedges.
fn assert_attempts_conserved(s: &Summary) {
    for (key, c) in &s.calls {
        assert_eq!(
            c.attempts,
            c.ok + c.failed + c.rejected + c.timeouts + c.in_flight,
            "{key}: {c:?}"
        );
        assert!(c.attempts >= c.retries + c.hedges, "{key}");
    }
}

fn chain(retry: &str, rate: &str) -> String {
    format!(
        "name: t\nseed: 1\nduration: 100s\nservices:\n  a:\n    concurrency: 100000\n    endpoints:\n      x: {{steps: [{{call: b.x, retry: {retry}}}]}}\n  b:\n    concurrency: 100000\n    endpoints:\n      x: {{steps: [{{call: c.x, retry: {retry}}}]}}\n  c:\n    concurrency: 100000\n    endpoints:\n      x: {{steps: [{{call: leaf.x, retry: {retry}}}]}}\n  leaf:\n    concurrency: 100000\n    endpoints:\n      x: {{steps: [{{work: 1ms}}]}}\nworkload:\n  - {{name: w, target: a.x, rate: {rate}, arrival: constant}}\nfailures:\n  - {{at: 0s, for: 100s, errors: leaf, rate: 100%}}\n"
    )
}

/// Three layers of max_attempts 3 over a leaf that always fails: 3³ = 27 leaf
/// attempts per client request, exactly. A 20% retry budget cuts that down.
#[test]
fn retry_amplification_is_exact_and_budgets_cap_it() {
    let (s, _) = run(&load(&chain(
        "{max_attempts: 3, wait_duration: 0s}",
        "10/s",
    )));
    let sent = s.workload["w"].sent;
    assert_eq!(s.workload["w"].failed, sent);
    assert_eq!(s.calls["c->leaf.x"].attempts, 27 * sent);
    assert_eq!(s.calls["b->c.x"].attempts, 9 * sent);
    assert_eq!(s.calls["a->b.x"].attempts, 3 * sent);
    assert_eq!(
        s.calls["c->leaf.x"].retries,
        18 * sent,
        "2 retries per c call"
    );
    assert_attempts_conserved(&s);
    // With a budget, retries in progress stay under max(3, 20% of active attempts):
    // at 200 requests/s and waits of 50 ms the budget binds.
    let budgeted = "{max_attempts: 3, wait_duration: 50ms, budget: 20%}";
    let (s, _) = run(&load(&chain(budgeted, "200/s")));
    let sent = s.workload["w"].sent;
    let per_request = s.calls["c->leaf.x"].attempts as f64 / sent as f64;
    assert!(
        per_request < 6.0,
        "{per_request} leaf attempts per request with a budget"
    );
    assert!(s.calls["c->leaf.x"].budget_exhausted > 0);
    assert_attempts_conserved(&s);
}

/// The mean wait before retry n matches each jitter mode's formula.
#[test]
fn backoff_waits_match_the_formulas() {
    let w = 10.0;
    let cases = [
        ("none", [w, 2.0 * w, 4.0 * w]),
        ("full", [w / 2.0, w, 2.0 * w]),
        ("equal", [0.75 * w, 1.5 * w, 3.0 * w]),
        // E[W1] = (w + 3w)/2; E[W2] = (w + 3 E[W1])/2; E[W3] = (w + 3 E[W2])/2.
        ("decorrelated", [2.0 * w, 3.5 * w, 5.75 * w]),
    ];
    for (jitter, means) in cases {
        let yaml = format!(
            "name: t\nseed: 4\nduration: 2000s\nservices:\n  a:\n    concurrency: 100000\n    endpoints:\n      x: {{steps: [{{call: leaf.x, retry: {{max_attempts: 4, wait_duration: 10ms, backoff_multiplier: 2, max_wait_duration: 1s, jitter: {jitter}}}}}]}}\n  leaf:\n    concurrency: 100000\n    endpoints:\n      x: {{steps: [{{work: 1ms}}]}}\nworkload:\n  - {{name: w, target: a.x, rate: 50/s}}\nfailures:\n  - {{at: 0s, for: 2000s, errors: leaf, rate: 100%}}\n"
        );
        let (s, _) = run(&load(&yaml));
        let got = &s.calls["a->leaf.x"].retry_wait_ms_mean;
        for (n, mean) in means.iter().enumerate() {
            assert_close(
                &format!("{jitter} wait before retry {}", n + 1),
                got[n],
                *mean,
                0.02,
            );
        }
    }
}

/// A breaker in a running scenario, constant arrivals every 100 ms, the callee
/// failing until 20 s: opens at the 10th call (1.0 s), short-circuits 49
/// calls, probes 3 in half-open and re-opens (three times), and closes on the
/// probes at 21.6 s, after the failure ended. Every count is exact.
#[test]
fn breaker_walks_the_cycle_in_a_scenario() {
    let s = load(
        "name: t\nseed: 1\nduration: 30s\nservices:\n  a:\n    concurrency: 1000\n    endpoints:\n      x:\n        steps:\n          - call: b.x\n            circuit_breaker: {sliding_window_size: 10, minimum_number_of_calls: 10, failure_rate_threshold: 50%, wait_duration_in_open_state: 5s, permitted_number_of_calls_in_half_open_state: 3}\n  b:\n    concurrency: 1000\n    endpoints:\n      x: {steps: [{work: 0s}]}\nworkload:\n  - {name: w, target: a.x, rate: 10/s, arrival: constant}\nfailures:\n  - {at: 0s, for: 20s, errors: b, rate: 100%}\n",
    );
    let (s, _) = run(&s);
    let c = &s.calls["a->b.x"];
    assert_eq!(c.breaker_opened, 4);
    assert_eq!(c.short_circuited, 4 * 49);
    let expected = [
        (1.0, "open"),
        (6.0, "half_open"),
        (6.2, "open"),
        (11.2, "half_open"),
        (11.4, "open"),
        (16.4, "half_open"),
        (16.6, "open"),
        (21.6, "half_open"),
        (21.8, "closed"),
    ];
    let got: Vec<(f64, &str)> = c
        .breaker_transitions
        .iter()
        .map(|&(t, st)| ((t * 10.0).round() / 10.0, st))
        .collect();
    assert_eq!(got, expected);
    let w = &s.workload["w"];
    assert_eq!(w.sent, 299);
    assert_eq!(
        w.failed,
        10 + 4 * 49 + 3 * 3,
        "10 failures to open, 196 short-circuited, 9 failed probes"
    );
    assert_eq!(w.ok, 299 - w.failed);
    assert_attempts_conserved(&s);
}

/// Metastability: λ = 9.3/s into μ = 10/s with a queue of 100 and a 4 s
/// timeout. A 5 s spike to 30/s fills the queue; with 3 immediate retries,
/// timed-out work keeps the queue full and goodput never comes back. Without
/// retries it recovers to the M/M/1 figure λ·(1 − e^{−(μ−λ)T}); shedding
/// requests that waited 3 s (max_queue_time) cures it even with the retries.
#[test]
fn metastable_failure_with_naive_retries_only() {
    let yaml = |retry: &str, shed: &str| {
        format!(
            "name: t\nseed: 11\nduration: 300s\nwarmup: 200s\nservices:\n  front:\n    threading: async\n    concurrency: 10000\n    endpoints:\n      x: {{steps: [{{call: backend.x, timeout: 4s{retry}}}]}}\n  backend:\n    concurrency: 1\n    queue: 100\n{shed}    endpoints:\n      x: {{steps: [{{work: {{exponential: {{mean: 100ms}}}}}}]}}\nworkload:\n  - name: w\n    target: front.x\n    rate: 9.3/s\n    arrival: schedule\n    schedule: [{{at: 60s, rate: 30/s}}, {{at: 65s, rate: 9.3/s}}]\n"
        )
    };
    let goodput = |retry: &str, shed: &str| {
        let (s, _) = run(&load(&yaml(retry, shed)));
        assert_attempts_conserved(&s);
        s.workload["w"].ok as f64 / 300.0
    };
    let naive = ", retry: {max_attempts: 4, wait_duration: 0s}";
    // Goodput measured from 200 s to 500 s, long after the spike (60–65 s).
    let collapsed = goodput(naive, "");
    assert!(
        collapsed < 0.1 * 9.3,
        "naive retries stay collapsed: {collapsed}/s"
    );
    let theory = 9.3 * (1.0 - (-(10.0f64 - 9.3) * 4.0).exp());
    assert_close("goodput without retries", goodput("", ""), theory, 0.05);
    let shed = goodput(naive, "    max_queue_time: 3s\n");
    assert!(shed > 0.95 * 9.3, "shedding stale work recovers: {shed}/s");
}

/// Hedging a 10-way fan-out after the leaf's p95: the request p99 falls from
/// the max of 10 exponentials to the max of 10 hedged minima, for 5% more load.
#[test]
fn hedging_cuts_the_fanout_tail_as_order_statistics_say() {
    let yaml = |hedge: &str| {
        format!(
            "name: t\nseed: 12\nduration: 2000s\nservices:\n  root:\n    threading: async\n    concurrency: 100000\n    endpoints:\n      x: {{steps: [{{call: leaf.x, fanout: 10{hedge}}}]}}\n  leaf:\n    concurrency: 100000\n    endpoints:\n      x: {{steps: [{{work: {{exponential: {{mean: 10ms}}}}}}]}}\nworkload:\n  - {{name: w, target: root.x, rate: 50/s}}\n"
        )
    };
    // p99 of the max of 10 Exp(10 ms): S(t) = 1 − 0.99^(1/10).
    let tail = 1.0 - 0.99f64.powf(0.1);
    let plain_theory = -10.0 * tail.ln();
    let a = 10.0 * 20f64.ln(); // the leaf p95
    // Hedged leaf: S(t) = e^(−t/10) e^(−(t−a)/10) for t ≥ a.
    let hedged_theory = (a - 10.0 * tail.ln()) / 2.0;
    let (plain, _) = run(&load(&yaml("")));
    let (hedged, _) = run(&load(&yaml(&format!(
        ", hedge: {{after: {a:.4}ms, max: 1}}"
    ))));
    assert_close(
        "p99 without hedging",
        plain.workload["w"].latency_ms.p99,
        plain_theory,
        0.05,
    );
    assert_close(
        "p99 with hedging",
        hedged.workload["w"].latency_ms.p99,
        hedged_theory,
        0.05,
    );
    let c = &hedged.calls["root->leaf.x"];
    assert_close(
        "extra load",
        c.hedges as f64 / (c.attempts - c.hedges) as f64,
        0.05,
        0.05,
    );
    assert!(c.wasted > 0, "losing copies still did their work");
    assert_attempts_conserved(&hedged);
}

/// A propagated deadline: the callee abandons work nobody waits for; a call
/// deadline fails the call even while its retries would go on.
#[test]
fn deadlines_propagate_and_bound_retries() {
    let yaml = |propagate: bool| {
        format!(
            "name: t\nseed: 2\nduration: 200s\nservices:\n  a:\n    concurrency: 1000\n    endpoints:\n      x: {{steps: [{{call: b.x, timeout: 50ms, propagate_deadline: {propagate}}}]}}\n  b:\n    queue: 100000\n    endpoints:\n      x: {{steps: [{{work: {{exponential: {{mean: 9ms}}}}}}]}}\nworkload:\n  - {{name: w, target: a.x, rate: 100/s}}\n"
        )
    };
    let (plain, _) = run(&load(&yaml(false)));
    let (propagated, _) = run(&load(&yaml(true)));
    let ep = |s: &Summary| s.services["b"].endpoints["x"].clone();
    assert_eq!(ep(&plain).abandoned, 0);
    assert!(
        ep(&propagated).abandoned > 0,
        "work past the deadline is abandoned"
    );
    // Abandoning wasted work shortens the queue: fewer timeouts.
    assert!(propagated.calls["a->b.x"].timeouts < plain.calls["a->b.x"].timeouts);
    // A 100 ms deadline over attempts of 30 ms that always time out: retries
    // go on until the next one would start past the deadline.
    let (s, _) = run(&load(
        "name: t\nseed: 2\nduration: 100s\nservices:\n  a:\n    concurrency: 1000\n    endpoints:\n      x: {steps: [{call: b.x, timeout: 30ms, deadline: 100ms, retry: {max_attempts: 10, wait_duration: 10ms}}]}\n  b:\n    concurrency: 100000\n    endpoints:\n      x: {steps: [{work: 1s}]}\nworkload:\n  - {name: w, target: a.x, rate: 10/s, arrival: constant}\n",
    ));
    let c = &s.calls["a->b.x"];
    // Attempts at 0, 40, 80 ms (each 30 ms + 10 ms wait); the next would start at 120 ms.
    assert_eq!(c.attempts, 3 * s.workload["w"].sent);
    assert_eq!(s.workload["w"].failed, s.workload["w"].sent);
}

/// max_queue_time sheds requests that waited too long, so the ones served are fresh.
#[test]
fn load_shedding_bounds_queueing() {
    let (s, _) = run(&load(
        "name: t\nseed: 3\nduration: 200s\nservices:\n  s:\n    queue: 10000\n    max_queue_time: 50ms\n    endpoints:\n      x: {steps: [{work: {exponential: {mean: 10ms}}}]}\nworkload:\n  - {name: w, target: s.x, rate: 150/s}\n",
    ));
    let w = &s.workload["w"];
    assert!(
        w.rejected > 0 && s.services["s"].shed == w.rejected,
        "{w:?}"
    );
    assert!(
        w.latency_ms.max < 50.0 + 200.0,
        "served requests waited at most 50 ms: {:?}",
        w.latency_ms
    );
    assert!(s.services["s"].utilization > 0.95);
}

/// Outlier detection ejects a replica that keeps failing, so callers stop losing requests to it.
#[test]
fn outlier_detection_ejects_a_failing_replica() {
    let yaml = |outlier: &str| {
        format!(
            "name: t\nseed: 5\nduration: 100s\nservices:\n  s:\n    replicas: 4\n    concurrency: 100\n{outlier}    endpoints:\n      x: {{steps: [{{work: 1ms}}]}}\nworkload:\n  - {{name: w, target: s.x, rate: 400/s}}\nfailures:\n  - {{at: 10s, for: 80s, crash: s, replicas: 1}}\ndiscovery: {{refresh_interval: 1h, health_check_interval: 1h}}\n"
        )
    };
    let (without, _) = run(&load(&yaml("")));
    let (with, _) = run(&load(&yaml(
        "    outlier_detection: {consecutive_5xx: 5, base_ejection_time: 30s, max_ejection_percent: 50%}\n",
    )));
    // Without it, a quarter of the requests for 80 s hit the dead replica.
    assert_close(
        "failures without",
        without.workload["w"].failed as f64,
        400.0 * 80.0 / 4.0,
        0.03,
    );
    // With it: ejected after 5 failures, back after 30 s, 60 s, ...: a handful of failures each time.
    let failed = with.workload["w"].failed;
    assert!(failed < 100, "{failed}");
    assert!(
        with.services["s"].ejections >= 2,
        "{:?}",
        with.services["s"].ejections
    );
}
