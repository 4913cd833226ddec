//! CPU cores shared by processor sharing (`cores:` fewer than the workers).
//!
//! M/G/1-PS is insensitive: its mean response time is S / (1 − ρ) whatever the
//! distribution of the work, so constant work gives the same mean as
//! exponential work, unlike FIFO, where the Pollaczek–Khinchine mean of M/D/1
//! is smaller (shown beside it, at the same load). With c cores shared by many
//! workers and exponential work, the number of jobs is the birth-death process
//! of M/M/c (total rate min(n, c)·μ), so the mean is Erlang C's. Half a core
//! halves the speed: 1 ms of work takes 2 ms.

use super::formulas::{md1_mean, mmc_mean};
use super::{EXP_1MS, Model, mean_ms, run_secs, single};

/// One service of one replica with `cores` shared by `concurrency` workers:
/// the single queue of the classic models, with its CPU set.
fn shared(name: &str, secs: f64, rate: f64, cores: &str, concurrency: u32, work: &str) -> String {
    single(name, secs, rate, concurrency, 1_000_000, work).replacen(
        "    queue:",
        &format!("    cores: {cores}\n    queue:"),
        1,
    )
}

pub(super) fn models(scale: f64) -> Vec<Model> {
    // Work of mean 1 ms (μ = 1000/s per core).
    let mu = 1000.0;
    let len = |customers: f64, lambda: f64| run_secs(customers, scale, lambda);
    let ps_mean = |s: f64, rho: f64| 1e3 * s / (1.0 - rho);
    let mut v = Vec::new();
    // The same load on one FIFO worker: M/M/1's 5 ms, but P-K's 3 ms for M/D/1.
    for (name, what, work, n) in [
        ("PS M/M/1 ρ=0.8", "mean ms (FIFO: 5)", EXP_1MS, 3.0e6),
        ("PS M/D/1 ρ=0.8", "mean ms (FIFO: 3)", "1ms", 3.0e6),
    ] {
        let lambda = 0.8 * mu;
        v.push(Model {
            name,
            what,
            yaml: shared("ps", len(n, lambda), lambda, "1", 1000, work),
            theory: ps_mean(1.0 / mu, 0.8),
            measure: mean_ms,
            tolerance: 0.02,
        });
    }
    // The contrast: constant work on one FIFO worker, Pollaczek–Khinchine's 3 ms.
    let lambda = 0.8 * mu;
    v.push(Model {
        name: "FIFO M/D/1 ρ=0.8",
        what: "mean ms (P-K; PS: 5)",
        yaml: single("fifo", len(1.0e6, lambda), lambda, 1, 1_000_000, "1ms"),
        theory: 1e3 * md1_mean(lambda, mu),
        measure: mean_ms,
        tolerance: 0.02,
    });
    let lambda = 0.8 * mu / 2.0;
    v.push(Model {
        name: "PS 500m M/M/1 ρ=0.8",
        what: "mean ms, 2S/(1-ρ)",
        yaml: shared("half", len(1.5e6, lambda), lambda, "500m", 1000, EXP_1MS),
        theory: ps_mean(2.0 / mu, 0.8),
        measure: mean_ms,
        tolerance: 0.02,
    });
    let lambda = 0.8 * 4.0 * mu;
    v.push(Model {
        name: "PS 4 cores M/M/4 ρ=0.8",
        what: "mean ms (Erlang C)",
        yaml: shared("cores4", len(3.0e6, lambda), lambda, "4", 256, EXP_1MS),
        theory: 1e3 * mmc_mean(4, lambda, mu),
        measure: mean_ms,
        tolerance: 0.02,
    });
    v
}
