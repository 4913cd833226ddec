//! The features of issue 12 at once: a closed loop of users in one data center
//! sends sized requests over a link with a bandwidth to a service on one shared
//! core, which calls a database on 30% of its requests (a branch). Each
//! feature's own law must still hold when they meet.

use crate::common::{assert_close, load, run};

const TOGETHER: &str = "name: together
seed: 7
duration: 400s
warmup: 10s
datacenters: [a, b]
network:
  links:
    - between: [a, b]
      latency: 5ms
      bandwidth: 100Mbit/s
services:
  api:
    replicas: {b: 1}
    concurrency: 64
    cores: 1
    endpoints:
      x:
        steps:
          - work: {exponential: {mean: 2ms}}
          - branch:
              - probability: 30%
                steps:
                  - call: db.q
  db:
    replicas: {b: 1}
    concurrency: 8
    endpoints:
      q: {steps: [{work: {exponential: {mean: 1ms}}}]}
workload:
  - name: users
    target: api.x
    from: a
    users: 20
    think: {exponential: {mean: 50ms}}
    size: {request: 10KB, response: 100KB}
";

/// The answers' direction of the link is the bottleneck: 100 KB at 100 Mbit/s
/// is 8 ms, so 20 users (more than the (8 + 0.8 + 10 + 2.3 + 50) / 8 ≈ 9 the
/// loop needs to saturate it) get X = 1 / 8 ms = 125/s, and R = N/X − Z.
/// Around it, every other figure follows from X: the request direction is busy
/// X × 0.8 ms, the shared core X × 2 ms, and the database sees 30% of X.
#[test]
fn closed_loop_sizes_cores_and_branches_keep_their_laws_together() {
    let (s, _) = run(&load(TOGETHER));
    let w = &s.workload["users"];
    let c = w.closed.as_ref().expect("a closed workload's figures");
    let x = c.throughput_per_s;
    assert_close("X at the link's capacity", x, 125.0, 0.01);
    let (r, z) = (c.response_ms_mean.unwrap(), c.think_ms_mean.unwrap());
    assert_close("R = N/X − Z", r, 1e3 * 20.0 / x - z, 0.005);
    let (up, down) = (&s.links["a->b"], &s.links["b->a"]);
    assert!(down.utilization > 0.99, "{down:?}");
    assert_close("requests' link", up.utilization, x * 0.0008, 0.02);
    assert_close(
        "the shared core",
        s.services["api"].utilization,
        x * 0.002,
        0.03,
    );
    let db = s.calls["api->db.q"].attempts as f64;
    assert_close("branch share", db / w.ok as f64, 0.3, 0.02);
    // And the same bytes on a second run.
    let (again, _) = run(&load(TOGETHER));
    assert_eq!(
        serde_json::to_string(&s).unwrap(),
        serde_json::to_string(&again).unwrap()
    );
}
