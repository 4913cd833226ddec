//! Distances between latency distributions: quantiles of observed samples,
//! and the Kolmogorov–Smirnov distance between two step CDFs.
//!
//! Written here, not taken from a crate: the crates that compute a KS
//! statistic take two samples, while `fit` compares samples with a
//! simulated *histogram*, whose CDF is a list of steps. On step CDFs the
//! exact statistic is a merge of the two lists (below), a dozen lines.

/// The q-quantile of sorted samples: the smallest sample with at least a
/// share q of the samples at or below it (HdrHistogram's definition, so the
/// observed and simulated quantiles are taken alike); 0 for no samples.
pub fn quantile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The mean of samples, 0 for none.
pub fn mean(samples: &[u64]) -> f64 {
    match samples.len() {
        0 => 0.0,
        n => samples.iter().map(|&x| x as u128).sum::<u128>() as f64 / n as f64,
    }
}

/// The empirical CDF of sorted samples as its steps: each distinct value
/// with the share of samples at or below it.
pub fn steps(sorted: &[u64]) -> Vec<(u64, f64)> {
    let n = sorted.len() as f64;
    let mut out: Vec<(u64, f64)> = Vec::new();
    for (i, &x) in sorted.iter().enumerate() {
        let share = (i + 1) as f64 / n;
        match out.last_mut() {
            Some(last) if last.0 == x => last.1 = share,
            _ => out.push((x, share)),
        }
    }
    out
}

/// sup over x of |A(x) − B(x)| for two right-continuous step CDFs, each
/// given as its steps (value, share at or below) in increasing value.
///
/// Both are constant between the values where either steps, and 0 before
/// the first, so the supremum is reached at one of those values: a merge of
/// the two lists, comparing the two CDFs at each. An empty CDF counts as 0
/// everywhere (its distance to a non-empty one is 1).
pub fn ks_distance(a: &[(u64, f64)], b: &[(u64, f64)]) -> f64 {
    let (mut i, mut j) = (0, 0);
    let (mut fa, mut fb, mut d) = (0.0f64, 0.0f64, 0.0f64);
    while i < a.len() || j < b.len() {
        let x = match (a.get(i), b.get(j)) {
            (Some(p), Some(q)) => p.0.min(q.0),
            (Some(p), None) => p.0,
            (None, Some(q)) => q.0,
            (None, None) => break,
        };
        while i < a.len() && a[i].0 == x {
            fa = a[i].1;
            i += 1;
        }
        while j < b.len() && b[j].0 == x {
            fb = b[j].1;
            j += 1;
        }
        d = d.max((fa - fb).abs());
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed by hand: samples 1, 2, 3, 4 against a CDF of half at 2 and
    /// the rest at 5. At 1: 0.25 − 0; at 2: 0.5 − 0.5; at 3: 0.75 − 0.5; at
    /// 4: 1 − 0.5 = 0.5, the largest; at 5: 1 − 1.
    #[test]
    fn ks_distance_against_a_case_done_by_hand() {
        let a = steps(&[1, 2, 3, 4]);
        assert_eq!(a, vec![(1, 0.25), (2, 0.5), (3, 0.75), (4, 1.0)]);
        let b = [(2, 0.5), (5, 1.0)];
        assert_eq!(ks_distance(&a, &b), 0.5);
        assert_eq!(ks_distance(&b, &a), 0.5);
        // Two samples: {10, 20, 20, 30} and {15, 20, 40}. The CDFs are
        // 0.25, 0.75, 1 at 10, 20, 30 and 1/3, 2/3, 1 at 15, 20, 40: at 10,
        // 0.25 − 0; at 15, 0.25 − 1/3; at 20, 0.75 − 2/3; at 30, 1 − 2/3 = 1/3.
        let d = ks_distance(&steps(&[10, 20, 20, 30]), &steps(&[15, 20, 40]));
        assert!((d - 1.0 / 3.0).abs() < 1e-12, "{d}");
    }

    #[test]
    fn ks_distance_limits() {
        let a = steps(&[5, 6, 7]);
        assert_eq!(ks_distance(&a, &a), 0.0);
        assert_eq!(ks_distance(&a, &steps(&[8, 9])), 1.0);
        assert_eq!(ks_distance(&a, &[]), 1.0);
        assert_eq!(ks_distance(&[], &[]), 0.0);
    }

    #[test]
    fn quantiles_and_means_of_samples() {
        let xs: Vec<u64> = (1..=100).collect();
        assert_eq!(quantile(&xs, 0.5), 50);
        assert_eq!(quantile(&xs, 0.99), 99);
        assert_eq!(quantile(&xs, 0.991), 100);
        assert_eq!(quantile(&xs, 0.0), 1);
        assert_eq!(quantile(&[], 0.5), 0);
        assert_eq!(mean(&xs), 50.5);
    }
}
