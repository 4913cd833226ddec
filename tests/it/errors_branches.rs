//! Bad branches and probabilities: exit 2 with line, YAML path and what was expected.

use crate::errors::{bad, names_line_and_path};

const CALL: &str = "          - call: inventory.reserve\n";
const STEP: &str = "services.orders.endpoints.place.steps[1]";

/// The good scenario with its call step replaced by `with`.
fn branch(with: &str) -> String {
    bad(CALL, with)
}

#[test]
fn branch_probabilities_over_one_in_sum() {
    let e = branch(
        "          - branch:\n              - {probability: 60%, steps: [{call: inventory.reserve}]}\n              - {probability: 0.5, steps: [{work: 1ms}]}\n",
    );
    // The path names the list of entries, which starts on the next line.
    names_line_and_path(&e, 15, &format!("{STEP}.branch"));
    assert!(e.contains("add up to 110%"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn probability_over_one_or_negative() {
    let e = branch("          - call: inventory.reserve\n            probability: 150%\n");
    names_line_and_path(&e, 15, &format!("{STEP}.probability"));
    insta::assert_snapshot!(e);
    let e = branch(
        "          - branch:\n              - probability: -0.1\n                steps: [{call: inventory.reserve}]\n",
    );
    names_line_and_path(&e, 15, &format!("{STEP}.branch[0].probability"));
}

#[test]
fn branch_entry_without_steps() {
    let e = branch(
        "          - branch:\n              - probability: 20%\n                steps: []\n",
    );
    names_line_and_path(&e, 16, &format!("{STEP}.branch[0].steps"));
    insta::assert_snapshot!(e);
}

#[test]
fn branch_entry_with_an_unknown_key() {
    let e = branch(
        "          - branch:\n              - probability: 20%\n                weight: 3\n                steps: [{call: inventory.reserve}]\n",
    );
    names_line_and_path(&e, 16, &format!("{STEP}.branch[0]"));
    assert!(e.contains("weight"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn call_cycle_without_a_branch_is_unbounded() {
    // orders.place -> inventory.reserve -> orders.place, every time.
    let e = bad(
        "          - work: 1ms\n  orders",
        "          - work: 1ms\n          - call: orders.place\n  orders",
    );
    assert!(e.contains("call cycle"), "{e}");
    assert!(e.contains("passes a branch"), "{e}");
}

#[test]
fn call_cycle_that_returns_at_least_once_a_pass_is_unbounded() {
    // Two entries of 50% both lead back: the cycle passes branches, yet never ends.
    let e = bad(
        "          - work: 1ms\n  orders",
        "          - branch:\n              - {probability: 50%, steps: [{call: orders.place}]}\n              - {probability: 50%, steps: [{call: orders.place, fanout: 2}]}\n  orders",
    );
    names_line_and_path(
        &e,
        9,
        "services.inventory.endpoints.reserve.steps[0].branch[0].steps[0].call",
    );
    assert!(e.contains("never end on average"), "{e}");
    insta::assert_snapshot!(e);
}

#[test]
fn probability_inside_parallel_or_on_a_branch() {
    let e = branch(
        "          - parallel:\n              - {call: inventory.reserve, probability: 50%}\n",
    );
    names_line_and_path(&e, 15, &format!("{STEP}.parallel[0].probability"));
    let e = branch(
        "          - probability: 50%\n            branch: [{probability: 20%, steps: [{work: 1ms}]}]\n",
    );
    names_line_and_path(&e, 14, &format!("{STEP}.probability"));
}
