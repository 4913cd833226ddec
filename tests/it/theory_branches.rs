//! Probabilistic routing held to the traffic equations of Jackson networks
//! (the `meshsim validate` models of the branches family).

use crate::theory::check;

#[test]
fn jackson_network_with_routing_probabilities() {
    check("Jackson routing 30/70 ρ");
}

#[test]
fn branch_shares_follow_their_probabilities() {
    check("Jackson routing 30/70 share");
}

#[test]
fn jackson_network_with_feedback() {
    check("Jackson feedback");
}
