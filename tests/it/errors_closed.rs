//! Bad closed-loop workloads (`users`, `think`, a ramp of users): exit 2 with
//! the line, the YAML path and what was expected. Snapshots in snapshots/.

use crate::errors::{bad, names_line_and_path};

/// The good scenario's workload, made closed with `keys` in place of its rate.
fn closed(keys: &str) -> String {
    bad("rate: 100/s", keys)
}

#[test]
fn users_zero() {
    let e = closed("users: 0\n    think: 1s");
    names_line_and_path(&e, 18, "workload[0].users");
    assert!(e.contains("a whole number from 1 to"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn users_and_rate_both() {
    let e = closed("rate: 100/s\n    users: 10\n    think: 1s");
    names_line_and_path(&e, 19, "workload[0].users");
    assert!(e.contains("not both"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn users_without_think() {
    let e = closed("users: 10");
    names_line_and_path(&e, 16, "workload[0]");
    assert!(e.contains("needs a 'think' time"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn negative_think() {
    let e = closed("users: 10\n    think: -1s");
    names_line_and_path(&e, 19, "workload[0].think");
    insta::assert_snapshot!(e);
}

#[test]
fn ramp_to_negative_users() {
    let e = closed("users: 10\n    think: 1s\n    ramp: {to: -5, over: 10s}");
    names_line_and_path(&e, 20, "workload[0].ramp.to");
    assert!(e.contains("-5 is not a number of users"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn think_on_an_open_workload() {
    let e = closed("rate: 100/s\n    think: 1s");
    names_line_and_path(&e, 19, "workload[0].think");
    insta::assert_snapshot!(e);
}
