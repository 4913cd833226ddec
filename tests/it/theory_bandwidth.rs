//! A link with a bandwidth is a FIFO queue: held to M/D/1 (Pollaczek–Khinchine)
//! and M/M/1 over long runs (the `link` models of `meshsim validate`).

use crate::theory::check;

#[test]
fn link_of_fixed_size_messages_is_md1() {
    check("link M/D/1");
}

#[test]
fn link_of_exponential_size_messages_is_mm1() {
    check("link M/M/1");
}
