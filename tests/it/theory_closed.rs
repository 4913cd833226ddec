//! Closed-loop workloads held to exact Mean Value Analysis (the MVA rows of
//! `meshsim validate`, about a million requests each), the interactive
//! response time law R = N/X − Z in the summary's own figures, and the ramp
//! of users.

use meshsim::metrics::Summary;
use meshsim::metrics::summary::ClosedSummary;
use meshsim::validate::{models, mva};

use crate::common::{assert_close, load, run};

fn closed<'a>(s: &'a Summary, workload: &str) -> &'a ClosedSummary {
    s.workload[workload]
        .closed
        .as_ref()
        .expect("a closed workload")
}

/// R = N/X − Z within 1%, from the summary's own figures.
fn assert_law(s: &Summary, workload: &str) {
    let c = closed(s, workload);
    let law = 1e3 * c.users / c.throughput_per_s - c.think_ms_mean.expect("thinks");
    let r = c.response_ms_mean.expect("responses");
    println!("{workload}: R = {r:.4} ms, N/X − Z = {law:.4} ms");
    assert_close(&format!("{workload}: N/X − Z against R"), law, r, 0.01);
}

/// Runs each model of the family once (its throughput and response rows share
/// the scenario) and checks every figure against MVA, and the law.
fn check(prefix: &str) {
    let selected: Vec<_> = models(1.0)
        .into_iter()
        .filter(|m| m.name.starts_with(prefix))
        .collect();
    assert_eq!(
        selected.len(),
        6,
        "{prefix}: three user counts, two figures"
    );
    for pair in selected.chunks(2) {
        assert_eq!(pair[0].yaml, pair[1].yaml);
        let (summary, collector) = run(&load(&pair[0].yaml));
        let measured = summary.duration_s - summary.warmup_s;
        let answered = closed(&summary, "w").throughput_per_s * measured;
        assert!(answered >= 1.0e6, "{}: {answered} requests", pair[0].name);
        for m in pair {
            let what = format!("{} {}", m.name, m.what);
            let sim = (m.measure)(&summary, &collector);
            println!("{what}: simulated {sim:.4}, MVA {:.4}", m.theory);
            assert_close(&what, sim, m.theory, m.tolerance);
        }
        assert_law(&summary, "w");
    }
}

#[test]
fn one_station_matches_mva_at_1_10_and_50_users() {
    check("MVA one station");
}

#[test]
fn tandem_of_async_services_matches_mva_at_1_10_and_50_users() {
    check("MVA tandem");
}

#[test]
fn mva_known_values() {
    // One user never queues: R = S, X = 1 / (Z + S).
    let (x, r) = mva(&[0.001], 0.009, 1);
    assert!((r - 0.001).abs() < 1e-15 && (x - 100.0).abs() < 1e-9);
    // Two users, no think, one station: R(2) = S (1 + Q(1)) = 2S, X = 1/S.
    let (x, r) = mva(&[1.0], 0.0, 2);
    assert!((r - 2.0).abs() < 1e-12 && (x - 1.0).abs() < 1e-12);
    // Far past the knee the bottleneck saturates: X → 1/S_max, R → N/X − Z.
    let (x, r) = mva(&[0.001, 0.0005], 0.01, 200);
    assert!((x - 1000.0).abs() < 1e-6 && (r - 0.19).abs() < 1e-6);
}

const RAMP: &str = "name: ramp
duration: 100s
services:
  s:
    concurrency: 100
    endpoints:
      x:
        steps: [{work: 1ms}]
workload:
  - {name: up, target: s.x, users: 10, think: 99ms, ramp: {to: 50, over: 40s, start: 20s}}
  - {name: down, target: s.x, users: 20, think: 99ms, ramp: {to: 0, over: 10s, start: 50s}}
";

/// Users join and leave as the ramp says, one at a time at equal steps (the
/// k-th of n changes at start + over × k / n): the mean user count over the run
/// is that staircase's time average, and every user sends once per 100 ms
/// while present.
#[test]
fn ramp_moves_the_user_count() {
    let (s, _) = run(&load(RAMP));
    // up: 10 for 20 s; 40 steps of 1 s at 10, 11, …, 49 (1,180 user-s); 50 for
    // 40 s: 3,380 user-s / 100 s.
    let up = closed(&s, "up");
    assert_close("mean users of up", up.users, 33.8, 0.001);
    // down: 20 for 50 s; 20 steps of 0.5 s at 20, 19, …, 1 (105 user-s); none
    // for 40 s: 1,105 user-s / 100 s.
    let down = closed(&s, "down");
    assert_close("mean users of down", down.users, 11.05, 0.001);
    // Each present user sends every 100 ms (1 ms work, 99 ms think).
    assert_close("up's throughput", up.throughput_per_s, 338.0, 0.01);
    assert_close("down's throughput", down.throughput_per_s, 110.5, 0.01);
    assert_eq!(s.workload["down"].in_flight, 0);
    assert_law(&s, "up");
}

/// A user gives up at the workload's timeout (a timed-out response, of the
/// timeout's length), thinks and sends again; the server still does the work.
#[test]
fn a_user_gives_up_at_its_timeout_and_goes_on() {
    let yaml = "name: t
duration: 50s
services:
  s:
    concurrency: 10
    queue: 100000
    endpoints:
      x:
        steps: [{work: 100ms}]
workload:
  - {name: w, target: s.x, users: 20, think: 0s, timeout: 50ms}
";
    let (s, _) = run(&load(yaml));
    let w = &s.workload["w"];
    assert_eq!(w.ok, 0, "{w:?}");
    let c = closed(&s, "w");
    assert_close("response", c.response_ms_mean.unwrap(), 50.0, 1e-6);
    // 20 users, each sending every 50 ms.
    assert_close("throughput", c.throughput_per_s, 400.0, 0.01);
    assert_close("work done", s.services["s"].utilization, 1.0, 0.01);
}

/// Requests that take no time and no think would repeat at one instant for
/// ever; the user's next send is 1 ns later, so time moves on.
#[test]
fn zero_time_requests_without_think_still_advance_time() {
    let yaml = "name: z
duration: 10us
services:
  s:
    endpoints:
      x:
        steps: [{work: 0s}]
workload:
  - {name: w, target: s.x, users: 1, think: 0s}
";
    let (s, _) = run(&load(yaml));
    assert_eq!(s.workload["w"].ok, 10_000);
}
