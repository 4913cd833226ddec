//! A worker's `handoff` (docs/SCENARIO.md, "Services"): after a job has
//! answered, its worker stays busy for the handoff before it takes the next
//! request. One worker is then a FIFO server whose busy time per job is
//! B = S + H while each job's own response is its wait plus S: Pollaczek–
//! Khinchine's wait with B, W = λ·E[B²] / (2(1 − λ·E[B])), plus E[S]; the
//! utilisation is λ·E[B]. A crash drops the handoffs under way with the jobs.

use crate::common::{assert_close, load, run};

fn one_worker(work: &str, handoff: &str, rate: f64, extra: &str) -> String {
    format!(
        "name: handoff\nseed: 11\nduration: 2000s\nwarmup: 20s\nservices:\n  api:\n    handoff: {handoff}\n    endpoints:\n      x:\n        steps: [{{work: {work}}}]\nworkload:\n  - {{name: w, target: api.x, rate: {rate}/s}}\n{extra}"
    )
}

/// (mean response in ms, utilisation) by P-K with busy time B = S + H per job.
fn theory(rate: f64, s_mean: f64, s_var: f64, h: f64) -> (f64, f64) {
    let lambda = rate / 1000.0; // per ms
    let b = s_mean + h;
    let b2 = s_var + b * b;
    let rho = lambda * b;
    (lambda * b2 / (2.0 * (1.0 - rho)) + s_mean, rho)
}

#[test]
fn constant_work_and_handoff_are_md1_with_the_sum() {
    // B = 16 ms at 50/s: ρ 0.8, W = 0.8 · 16 / (2 · 0.2) = 32 ms, response 44 ms;
    // without the handoff it would be ρ 0.6 and 21 ms.
    let (s, _) = run(&load(&one_worker("12ms", "4ms", 50.0, "")));
    let (mean, rho) = theory(50.0, 12.0, 0.0, 4.0);
    assert_close("mean", s.workload["w"].latency_ms.mean, mean, 0.03);
    assert_close("utilisation", s.services["api"].utilization, rho, 0.01);
}

#[test]
fn exponential_work_with_a_constant_handoff_is_mg1() {
    // S exponential 12 ms, H 4 ms: E[B²] = 144 + 256 = 400 ms², W = 50 ms, response 62 ms.
    let (s, _) = run(&load(&one_worker(
        "{exponential: {mean: 12ms}}",
        "4ms",
        50.0,
        "",
    )));
    let (mean, rho) = theory(50.0, 12.0, 144.0, 4.0);
    assert_close("mean", s.workload["w"].latency_ms.mean, mean, 0.04);
    assert_close("utilisation", s.services["api"].utilization, rho, 0.01);
}

#[test]
fn the_answered_request_does_not_wait_for_its_handoff() {
    // A long handoff at a low rate: the response is S plus a small wait, not S + H.
    let (s, _) = run(&load(&one_worker("12ms", "50ms", 1.0, "")));
    let (mean, _) = theory(1.0, 12.0, 0.0, 50.0);
    let simulated = s.workload["w"].latency_ms.mean;
    assert!(
        simulated < 15.0,
        "S + H would be 62 ms; simulated {simulated}"
    );
    assert_close("mean", simulated, mean, 0.03);
}

#[test]
fn a_crash_drops_the_handoffs_under_way() {
    // Ten crashes, each while a handoff is likely under way (λ·H = 0.5): a
    // handoff from before a crash must not free a worker of the restarted
    // replica, which would leave it with two workers, or none.
    let crashes: String = (1..=10)
        .map(|i| format!("  - {{at: {}s, for: 5s, crash: api}}\n", i * 100))
        .collect();
    let yaml = one_worker("2ms", "10ms", 50.0, &format!("failures:\n{crashes}"));
    let (s, _) = run(&load(&yaml));
    let w = &s.workload["w"];
    // ρ = 50/s · 12 ms = 0.6 over the 1,930 s it serves.
    let (mean, rho) = theory(50.0, 2.0, 0.0, 10.0);
    assert_close("utilisation", s.services["api"].utilization, rho, 0.02);
    assert!(
        w.failed < 10 * 260,
        "only the crashes' requests fail: {w:?}"
    );
    assert_close("mean", w.latency_ms.mean, mean, 0.03);
}

/// Under `threading: async` the worker is given back at a call: a request that
/// ends with its call holds no worker when it answers, so it takes no handoff
/// (utilisation λ·S = 0.6, not λ·(S + H) = 0.8).
#[test]
fn an_async_request_ending_in_a_call_takes_no_handoff() {
    let yaml = "name: a\nseed: 4\nduration: 500s\nwarmup: 10s\nservices:\n  api:\n    threading: async\n    handoff: 4ms\n    endpoints:\n      x:\n        steps: [{work: 12ms}, {call: db.q}]\n  db:\n    concurrency: 100\n    endpoints:\n      q: {steps: [{work: 1ms}]}\nworkload:\n  - {name: w, target: api.x, rate: 50/s}\n";
    let (s, _) = run(&load(yaml));
    assert_close("utilisation", s.services["api"].utilization, 0.6, 0.02);
}
