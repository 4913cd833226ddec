//! The analytic values: Erlang B and C, M/M/c, M/M/c/K, M/D/1, and the
//! textbook queue a scenario may be.

/// Erlang C: probability that an arrival waits in M/M/c with offered load a = λ/μ.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let rho = a / f64::from(c);
    // Erlang B by the stable recursion, then C from B.
    let b = erlang_b(c, a);
    b / (1.0 - rho * (1.0 - b))
}

/// Erlang B: blocking probability of M/M/c/c with offered load a.
pub fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (f64::from(k) + a * b))
}

/// Mean response time of M/M/c (seconds).
pub fn mmc_mean(c: u32, lambda: f64, mu: f64) -> f64 {
    erlang_c(c, lambda / mu) / (f64::from(c) * mu - lambda) + 1.0 / mu
}

/// Blocking probability of M/M/c/K (K = c + queue places in all).
pub fn mmck_blocking(c: u32, k: u32, lambda: f64, mu: f64) -> f64 {
    let a = lambda / mu;
    let mut p = vec![1.0f64; k as usize + 1];
    for n in 1..=k as usize {
        p[n] = p[n - 1] * a / (n.min(c as usize) as f64);
    }
    p[k as usize] / p.iter().sum::<f64>()
}

/// The analytic mean response time (ms) of a scenario that is exactly a textbook
/// queue: one workload with Poisson arrivals at a fixed rate straight into one
/// service of one replica, with one exponential (M/M/c) or constant (M/D/1, c = 1)
/// work step, no network, no failures, a queue too long to matter, and ρ < 1.
/// With `cores` shared by more workers, the work of any distribution gives the
/// mean of M/M/c over the cores (processor sharing is insensitive; see
/// [`shared_cores_mean_ms`]).
pub fn theory_mean_ms(s: &crate::scenario::Scenario) -> Option<f64> {
    use crate::engine::Dist;
    use crate::scenario::spec::{Load, RateProfile, Step};
    let [w] = s.workloads.as_slice() else {
        return None;
    };
    let Load::Open(arrival) = &w.load else {
        return None;
    };
    let RateProfile::Fixed(lambda) = arrival.profile else {
        return None;
    };
    let endpoint = &s.endpoints[w.entry];
    let svc = &s.services[endpoint.service];
    let plain = arrival.poisson
        && s.gateway.is_none()
        && s.within_dc.is_none()
        && s.failures.is_empty()
        && w.timeout.is_none();
    if !plain
        || svc.replicas() != 1
        || svc.autoscale.is_some()
        || svc.max_queue_time.is_some()
        || svc.queue < 10_000
    {
        return None;
    }
    let [Step::Work(work)] = endpoint.steps.as_slice() else {
        return None;
    };
    if let Some(millicores) = svc.shared_cores() {
        return shared_cores_mean_ms(lambda, work, millicores, svc.concurrency);
    }
    let c = svc.concurrency;
    let mean_s = work.mean() / 1e9;
    let mu = 1.0 / mean_s;
    if lambda >= f64::from(c) * mu {
        return None;
    }
    match work {
        Dist::Exponential { .. } => Some(1e3 * mmc_mean(c, lambda, mu)),
        Dist::Constant(_) if c == 1 => Some(1e3 * md1_mean(lambda, mu)),
        _ => None,
    }
}

/// Mean response time of M/D/1 (Pollaczek–Khinchine), seconds.
pub fn md1_mean(lambda: f64, mu: f64) -> f64 {
    let rho = lambda / mu;
    1.0 / mu + rho / (2.0 * mu * (1.0 - rho))
}

/// The mean response time (ms) of Poisson arrivals at `lambda` into work
/// `work` on whole `millicores / 1000` cores (or a fraction of one) shared by
/// `workers`: M/M/c's (M/M/1's at the fraction's speed). Exact for exponential
/// work; for others (PS is insensitive while every job runs) when the workers
/// almost never run out: P(N > workers) ≤ ρ^(workers − c) < 10⁻⁶.
fn shared_cores_mean_ms(
    lambda: f64,
    work: &crate::engine::Dist,
    millicores: u32,
    workers: u32,
) -> Option<f64> {
    let mu = 1e9 / work.mean();
    let (c, mu) = match millicores {
        m if m % 1000 == 0 => (m / 1000, mu),
        m if m < 1000 => (1, mu * f64::from(m) / 1000.0),
        _ => return None,
    };
    let rho = lambda / (f64::from(c) * mu);
    let exponential = matches!(work, crate::engine::Dist::Exponential { .. });
    let covered = rho.powf(f64::from(workers - c)) < 1e-6;
    (rho < 1.0 && (exponential || covered)).then(|| 1e3 * mmc_mean(c, lambda, mu))
}

/// Exact Mean Value Analysis (Reiser and Lavenberg) of a closed network of
/// single-server FIFO stations with exponential work of mean `demands[k]`
/// (seconds, one visit each) and a think time of mean `think`: the throughput
/// (per second) and the mean response time (seconds, think excluded) at `users`.
pub fn mva(demands: &[f64], think: f64, users: u32) -> (f64, f64) {
    let mut queue = vec![0.0; demands.len()];
    let (mut x, mut r) = (0.0, 0.0);
    for n in 1..=users {
        let times: Vec<f64> = demands
            .iter()
            .zip(&queue)
            .map(|(d, q)| d * (1.0 + q))
            .collect();
        r = times.iter().sum();
        x = f64::from(n) / (think + r);
        queue.iter_mut().zip(&times).for_each(|(q, t)| *q = x * t);
    }
    (x, r)
}
