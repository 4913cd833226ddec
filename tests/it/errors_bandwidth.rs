//! Bad sizes and bandwidths: exit 2 with file, line, YAML path and the
//! spelling meant. Messages are snapshot-tested.

use crate::errors::{bad, names_line_and_path, run_bad};

const LINKED: &str = "name: t
duration: 10s
datacenters: [a, b]
network:
  links:
    - between: [a, b]
      latency: 10ms
      bandwidth: 100Mbit/s
services:
  api:
    replicas: {b: 1}
    endpoints:
      get:
        steps:
          - work: 1ms
workload:
  - name: users
    target: api.get
    rate: 100/s
    from: a
";

fn bad_linked(from: &str, to: &str) -> String {
    assert!(LINKED.contains(from), "{from}");
    run_bad(LINKED.replacen(from, to, 1).as_bytes(), &[])
}

#[test]
fn the_linked_scenario_is_good() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("good.yaml"), LINKED).unwrap();
    assert_cmd::Command::cargo_bin("meshsim")
        .unwrap()
        .current_dir(dir.path())
        .args(["check", "good.yaml"])
        .assert()
        .success();
}

#[test]
fn bandwidth_zero() {
    let e = bad_linked("bandwidth: 100Mbit/s", "bandwidth: 0Mbit/s");
    names_line_and_path(&e, 8, "network.links[0].bandwidth");
    assert!(e.contains("zero"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn bandwidth_in_mbps_suggests_mbit_per_s() {
    let e = bad_linked("bandwidth: 100Mbit/s", "bandwidth: 100Mbps");
    names_line_and_path(&e, 8, "network.links[0].bandwidth");
    assert!(e.contains("did you mean 100Mbit/s?"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn negative_size_on_a_call() {
    let e = bad(
        "          - call: inventory.reserve",
        "          - call: inventory.reserve\n            size: -2KB",
    );
    names_line_and_path(&e, 15, "services.orders.endpoints.place.steps[1].size");
    assert!(e.contains("negative"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn bare_number_response_size_suggests_bytes() {
    let e = bad_linked("    from: a\n", "    from: a\n    size: {response: 2000}\n");
    names_line_and_path(&e, 21, "workload[0].size.response");
    assert!(e.contains("did you mean 2000B?"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn size_on_a_work_step() {
    let e = bad(
        "          - work: 1ms",
        "          - {work: 1ms, size: 2KB}",
    );
    names_line_and_path(&e, 8, "services.inventory.endpoints.reserve.steps[0].size");
    assert!(e.contains("belongs to a call or a publish"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn zero_mean_size_distribution() {
    let e = bad(
        "          - call: inventory.reserve",
        "          - call: inventory.reserve\n            size: {request: {exponential: {mean: 0KB}}}",
    );
    names_line_and_path(
        &e,
        15,
        "services.orders.endpoints.place.steps[1].size.request.exponential.mean",
    );
    assert!(e.contains("a positive size"), "{e}");
    insta::assert_snapshot!(e);
}
