//! The simulator held to queueing theory over long runs (the `meshsim validate`
//! table, one test per family so they run in parallel).

use meshsim::validate::{models, run_models};

pub(crate) fn check(prefix: &str) {
    let selected: Vec<_> = models(1.0)
        .into_iter()
        .filter(|m| m.name.starts_with(prefix))
        .collect();
    assert!(!selected.is_empty(), "no model named {prefix}");
    for o in run_models(&selected) {
        assert!(
            o.pass(),
            "{} {}: simulated {:.4}, theory {:.4}, error {:.2}% > {:.1}%",
            o.name,
            o.what,
            o.sim,
            o.theory,
            o.rel_error() * 100.0,
            o.tolerance * 100.0
        );
    }
}

#[test]
fn mm1_mean_and_p99_at_three_loads() {
    check("M/M/1");
}

#[test]
fn mmc_mean_matches_erlang_c() {
    check("M/M/4");
}

#[test]
fn md1_mean_matches_pollaczek_khinchine() {
    check("M/D/1");
}

#[test]
fn mmck_blocking_probability() {
    check("M/M/2/5");
}

#[test]
fn jackson_tandem_of_async_services() {
    check("Jackson");
}

#[test]
fn fanout_tail_share_is_one_minus_point99_to_the_100() {
    check("fan-out");
}

#[test]
fn theory_formulas_known_values() {
    use meshsim::validate::{erlang_b, erlang_c, md1_mean, mmck_blocking};
    // Erlang B(2, 1) = 0.2; Erlang C(2, 1) = 1/3.
    assert!((erlang_b(2, 1.0) - 0.2).abs() < 1e-12);
    assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
    // M/M/1/1 blocking = a / (1 + a).
    assert!((mmck_blocking(1, 1, 1.0, 1.0) - 0.5).abs() < 1e-12);
    // M/D/1 at ρ = 0.5, μ = 1: 1 + 0.5 / (2 · 0.5) = 1.5.
    assert!((md1_mean(0.5, 1.0) - 1.5).abs() < 1e-12);
}
