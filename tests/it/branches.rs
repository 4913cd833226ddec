//! Branches at work: draws from their own streams, loops that end, and the
//! bound on a request's call depth.

use crate::common::{load, run};

const TWO_WAY: &str = "name: t
seed: 3
duration: 20s
services:
  a:
    endpoints:
      x:
        steps:
          - branch:
              - {probability: 30%, steps: [{call: b.x}]}
              - {probability: 70%, steps: [{call: c.x}, {work: 1ms}]}
          - work: 1ms
  b:
    endpoints:
      x: {steps: [{work: 1ms}]}
  c:
    endpoints:
      x: {steps: [{work: 1ms}]}
workload:
  - {name: w, target: a.x, rate: 100/s}
";

#[test]
fn a_new_branch_elsewhere_changes_no_other_draw() {
    let (before, _) = run(&load(TWO_WAY));
    // c.x gains a branch (and an optional call) of its own.
    let more = TWO_WAY.replace(
        "      x: {steps: [{work: 1ms}]}\nworkload",
        "      x: {steps: [{work: 1ms}, {call: b.x, probability: 10%}]}\nworkload",
    );
    let (after, _) = run(&load(&more));
    assert_eq!(
        before.calls["a->b.x"].attempts,
        after.calls["a->b.x"].attempts
    );
    assert_eq!(
        before.calls["a->c.x"].attempts,
        after.calls["a->c.x"].attempts
    );
    assert!(after.calls["c->b.x"].attempts > 0);
}

#[test]
fn probabilities_below_one_in_sum_leave_the_rest_to_no_entry() {
    let y = TWO_WAY.replace("probability: 70%", "probability: 20%");
    let (s, _) = run(&load(&y));
    let sent = s.workload["w"].sent as f64;
    let c = s.calls["a->c.x"].attempts as f64;
    assert!((c / sent - 0.2).abs() < 0.03, "{c} of {sent}");
    assert_eq!(
        s.workload["w"].ok,
        s.workload["w"].sent - s.workload["w"].in_flight
    );
}

const LOOP: &str = "name: t
seed: 5
duration: 20s
max_call_depth: 4
services:
  a:
    threading: async
    endpoints:
      x:
        steps:
          - work: 1ms
          - {call: a.x, probability: 80%}
workload:
  - {name: w, target: a.x, rate: 50/s}
";

#[test]
fn a_loop_through_a_branch_ends_and_its_depth_is_bounded() {
    let (s, _) = run(&load(LOOP));
    let w = &s.workload["w"];
    let c = &s.calls["a->a.x"];
    // Depth 4: the client's call and three more; the fourth job's call fails.
    // P(a request reaches it) = 0.8³ = 51.2%, then its call is drawn at 80%.
    let expected = 0.8f64.powi(4);
    let share = c.depth_exceeded as f64 / w.sent as f64;
    assert!((share - expected).abs() < 0.05, "{share} vs {expected}");
    assert_eq!(w.failed as f64, c.depth_exceeded as f64, "{w:?}");
    let deep = LOOP.replace("max_call_depth: 4", "max_call_depth: 200");
    let (s, _) = run(&load(&deep));
    assert_eq!(s.calls["a->a.x"].depth_exceeded, 0);
    assert_eq!(s.workload["w"].failed, 0);
}

#[test]
fn without_depth_exceeded_the_summary_has_no_such_key() {
    let (s, _) = run(&load(TWO_WAY));
    let json = serde_json::to_string(&s).unwrap();
    assert!(!json.contains("depth_exceeded"), "{json}");
}
