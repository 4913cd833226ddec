//! CPU cores shared by processor sharing, held to theory: M/G/1-PS's mean
//! S/(1 − ρ) for exponential and constant work alike, a fractional core, and
//! c cores shared by many workers as M/M/c; and `cores` that cannot constrain
//! (at least the workers) change nothing, byte for byte.

use crate::common::{load, load_file, run};
use crate::theory::check;
use meshsim::report::json::summary_json;

#[test]
fn mm1_ps_mean_is_s_over_one_minus_rho() {
    check("PS M/M/1 ρ");
}

#[test]
fn md1_ps_mean_is_the_same_insensitive() {
    check("PS M/D/1 ρ");
    // Where a FIFO worker gives constant work a smaller mean than exponential.
    check("FIFO M/D/1 ρ=0.8");
}

#[test]
fn half_a_core_halves_the_speed() {
    check("PS 500m");
}

#[test]
fn four_cores_shared_by_many_workers_are_mmc() {
    check("PS 4 cores");
}

#[test]
fn cores_at_least_the_workers_change_nothing() {
    let plain = summary_json(&run(&load_file("mmc.yaml", &["duration=30s"])).0);
    for cores in ["4", "4000m", "64"] {
        let set = format!("services.pool.cores={cores}");
        let with = load_file("mmc.yaml", &["duration=30s", &set]);
        assert_eq!(
            plain,
            summary_json(&run(&with).0),
            "cores: {cores} on 4 workers"
        );
    }
    let sync = ["duration=5s", "warmup=1s"];
    let plain = summary_json(&run(&load_file("reference-sync.yaml", &sync)).0);
    let set = "services.service-b.cores=64";
    let with = load_file("reference-sync.yaml", &[sync[0], sync[1], set]);
    assert_eq!(
        plain,
        summary_json(&run(&with).0),
        "cores: 64 on 64 workers"
    );
}

/// Utilisation is busy cores / cores: 2 cores under λ·S = 1.2 cores of work
/// are 60% busy, though the 64 workers hold requests far longer than that.
#[test]
fn utilisation_counts_busy_cores() {
    let s = load(
        "name: u\nseed: 3\nduration: 200s\nwarmup: 5s\nservices:\n  api:\n    concurrency: 64\n    cores: 2\n    endpoints:\n      x:\n        steps:\n          - work: {exponential: {mean: 2ms}}\n          - call: db.q\n          - work: {exponential: {mean: 2ms}}\n  db:\n    concurrency: 100\n    endpoints:\n      q:\n        steps: [{work: 5ms}]\nworkload:\n  - {name: w, target: api.x, rate: 300/s}\n",
    );
    let (summary, _) = run(&s);
    crate::common::assert_close(
        "utilisation of api",
        summary.services["api"].utilization,
        300.0 * 0.004 / 2.0,
        0.03,
    );
}

/// A crash takes the replicas' running work with it; after the restart their
/// cores hold nothing stale: utilisation and latency are those of M/M/1-PS again.
/// The balancer is `random` so that each replica sees Poisson arrivals (round
/// robin would send each one every other request, Erlang-2 gaps that are more
/// regular than Poisson, and a mean of 1.65 ms, below M/M/1-PS's 2 ms, with or
/// without the crash).
#[test]
fn a_crash_clears_the_shared_cores() {
    let yaml = "name: c\nseed: 5\nduration: 100s\nservices:\n  api:\n    replicas: 2\n    concurrency: 32\n    cores: 1\n    load_balancer: random\n    endpoints:\n      x:\n        steps: [{work: {exponential: {mean: 1ms}}}]\nworkload:\n  - {name: w, target: api.x, rate: 1000/s}\nfailures:\n  - {at: 20s, for: 10s, crash: api}\n";
    let (s, _) = run(&load(yaml));
    let w = &s.workload["w"];
    // The 10 s without a replica fail at once (no healthy upstream), with what was running.
    assert!(
        w.failed > 9_500 && w.failed < 10_500,
        "failed during the crash: {w:?}"
    );
    // ρ = 0.5 on each replica's one core, over the 90 s they serve: S/(1 − ρ) = 2 ms.
    crate::common::assert_close("utilisation", s.services["api"].utilization, 0.5, 0.04);
    crate::common::assert_close("mean", w.latency_ms.mean, 2.0, 0.05);
}

/// Hours of work on a thousandth of a core finish past the clock's range: the
/// run used to panic (a finish beyond u64 nanoseconds) or, just inside it, wrap
/// and re-arm at one instant for ever. Such work is simply still in flight.
#[test]
fn work_past_the_clocks_range_stays_in_flight() {
    for work in ["6000h", "18446744s"] {
        let s = load(&format!(
            "name: t\nduration: 300s\nwarmup: 0s\nservices:\n  api:\n    concurrency: 2\n    cores: 1m\n    endpoints:\n      get: {{steps: [{{work: {work}}}]}}\nworkload:\n  - {{name: w, target: api.get, rate: 1/100s, arrival: constant}}\n"
        ));
        let (summary, _) = run(&s);
        let w = &summary.workload["w"];
        assert!(
            w.sent >= 2 && w.ok == 0 && w.in_flight == w.sent,
            "{work}: {w:?}"
        );
    }
}
