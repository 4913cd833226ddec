//! Probability distributions of durations, sampled in nanoseconds.
//!
//! Parameters are stored in nanoseconds (as `f64`) so a sample is one
//! conversion away from [`Time`]. Every distribution the scenario format
//! offers is here; construction checks nothing (the scenario layer validates),
//! but sampling never returns a negative or non-finite time.

use rand::RngExt;
use rand_distr::{Distribution, Exp1, Gamma, StandardNormal};

use super::rng::Stream;
use super::time::{Time, from_nanos_f64};

/// z such that Φ(z) = 0.99, for `lognormal {median, p99}`.
pub const Z99: f64 = 2.326_347_874_040_840_8;

/// A distribution of durations (nanoseconds).
#[derive(Clone, Debug)]
pub enum Dist {
    Constant(f64),
    Exponential {
        mean: f64,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    /// Normal truncated at zero (resampled).
    Normal {
        mean: f64,
        stddev: f64,
    },
    /// ln X ~ N(mu, sigma²), X in nanoseconds.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Gamma(Gamma<f64>, f64),
    Pareto {
        scale: f64,
        shape: f64,
    },
    Weibull {
        scale: f64,
        shape: f64,
    },
    /// Cumulative weights (normalised to end at 1) and components.
    Mixture(Vec<(f64, Dist)>),
    /// Resampling of observed values.
    Samples(Vec<f64>),
    /// Piecewise-linear inverse CDF through (probability, value) points,
    /// sorted by probability, first at 0 and last at 1.
    Percentiles(Vec<(f64, f64)>),
}

impl Dist {
    /// Lognormal from its median and 99th percentile.
    pub fn lognormal_from_median_p99(median: f64, p99: f64) -> Dist {
        let mu = median.ln();
        Dist::LogNormal {
            mu,
            sigma: (p99.ln() - mu) / Z99,
        }
    }

    /// Gamma with the given shape and mean.
    pub fn gamma(shape: f64, mean: f64) -> Option<Dist> {
        let scale = mean / shape;
        Gamma::new(shape, scale).ok().map(|g| Dist::Gamma(g, mean))
    }

    /// Draws one value.
    #[inline]
    pub fn sample(&self, rng: &mut Stream) -> Time {
        from_nanos_f64(self.sample_f64(rng))
    }

    fn sample_f64(&self, rng: &mut Stream) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => {
                let e: f64 = Exp1.sample(rng);
                mean * e
            }
            Dist::Uniform { min, max } => min + (max - min) * rng.random::<f64>(),
            Dist::Normal { mean, stddev } => sample_truncated_normal(*mean, *stddev, rng),
            Dist::LogNormal { mu, sigma } => {
                let z: f64 = StandardNormal.sample(rng);
                (mu + sigma * z).exp()
            }
            Dist::Gamma(g, _) => g.sample(rng),
            Dist::Pareto { scale, shape } => scale / open01(rng).powf(1.0 / shape),
            Dist::Weibull { scale, shape } => scale * (-open01(rng).ln()).powf(1.0 / shape),
            Dist::Mixture(parts) => {
                let u: f64 = rng.random();
                let i = parts.partition_point(|(c, _)| *c <= u).min(parts.len() - 1);
                parts[i].1.sample_f64(rng)
            }
            Dist::Samples(values) => values[rng.random_range(0..values.len())],
            Dist::Percentiles(points) => interpolate(points, rng.random()),
        }
    }

    /// The exact mean, where it has a closed form (used by theory checks and docs).
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Constant(v) => *v,
            Dist::Exponential { mean } => *mean,
            Dist::Uniform { min, max } => (min + max) / 2.0,
            Dist::Normal { mean, stddev } => truncated_normal_mean(*mean, *stddev),
            Dist::LogNormal { mu, sigma } => (mu + sigma * sigma / 2.0).exp(),
            Dist::Gamma(_, mean) => *mean,
            Dist::Pareto { scale, shape } if *shape > 1.0 => shape * scale / (shape - 1.0),
            Dist::Pareto { .. } => f64::INFINITY,
            Dist::Weibull { scale, shape } => scale * gamma_fn(1.0 + 1.0 / shape),
            Dist::Mixture(parts) => {
                let mut prev = 0.0;
                parts
                    .iter()
                    .map(|(c, d)| {
                        let w = c - prev;
                        prev = *c;
                        w * d.mean()
                    })
                    .sum()
            }
            Dist::Samples(v) => v.iter().sum::<f64>() / v.len() as f64,
            Dist::Percentiles(p) => p
                .windows(2)
                .map(|w| (w[1].0 - w[0].0) * (w[0].1 + w[1].1) / 2.0)
                .sum(),
        }
    }
}

fn open01(rng: &mut Stream) -> f64 {
    // (0, 1]: never zero, so ln and powers stay finite.
    1.0 - rng.random::<f64>()
}

fn sample_truncated_normal(mean: f64, stddev: f64, rng: &mut Stream) -> f64 {
    for _ in 0..64 {
        let z: f64 = StandardNormal.sample(rng);
        let x = mean + stddev * z;
        if x >= 0.0 {
            return x;
        }
    }
    0.0
}

/// The value at probability `u` of a piecewise-linear inverse CDF through
/// (probability, value) points (`Dist::Percentiles`; also the import's quantiles).
pub fn interpolate(points: &[(f64, f64)], u: f64) -> f64 {
    let i = points
        .partition_point(|(p, _)| *p <= u)
        .clamp(1, points.len() - 1);
    let (p0, v0) = points[i - 1];
    let (p1, v1) = points[i];
    if p1 <= p0 {
        return v1;
    }
    v0 + (v1 - v0) * ((u - p0) / (p1 - p0)).clamp(0.0, 1.0)
}

fn truncated_normal_mean(mean: f64, stddev: f64) -> f64 {
    if stddev <= 0.0 {
        return mean.max(0.0);
    }
    let a = -mean / stddev;
    let pdf = (-a * a / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let tail = 0.5 * erfc(a / std::f64::consts::SQRT_2);
    mean + stddev * pdf / tail
}

/// Complementary error function (Numerical Recipes' erfcc, |error| < 1.2e-7).
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// Γ(x) by the Lanczos approximation (g = 7), for Weibull means.
pub fn gamma_fn(x: f64) -> f64 {
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        return std::f64::consts::PI / ((std::f64::consts::PI * x).sin() * gamma_fn(1.0 - x));
    }
    let x = x - 1.0;
    let t = x + 7.5;
    let sum = C[1..]
        .iter()
        .enumerate()
        .fold(C[0], |acc, (i, c)| acc + c / (x + i as f64 + 1.0));
    (2.0 * std::f64::consts::PI).sqrt() * t.powf(x + 0.5) * (-t).exp() * sum
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::stream;

    fn sample_mean(d: &Dist, n: usize) -> f64 {
        let mut rng = stream(7, "dist-test");
        (0..n).map(|_| d.sample_f64(&mut rng)).sum::<f64>() / n as f64
    }

    #[test]
    fn sample_means_match_closed_forms() {
        let cases = [
            Dist::Constant(5.0e6),
            Dist::Exponential { mean: 4.0e6 },
            Dist::Uniform {
                min: 1.0e6,
                max: 3.0e6,
            },
            Dist::Normal {
                mean: 1.0e6,
                stddev: 1.0e6,
            },
            Dist::lognormal_from_median_p99(3.0e6, 20.0e6),
            Dist::gamma(2.0, 5.0e6).unwrap(),
            Dist::Pareto {
                scale: 1.0e6,
                shape: 3.0,
            },
            Dist::Weibull {
                scale: 2.0e6,
                shape: 1.5,
            },
            Dist::Mixture(vec![
                (0.99, Dist::Constant(10.0e6)),
                (1.0, Dist::Constant(1.0e9)),
            ]),
            Dist::Samples(vec![1.0e6, 2.0e6, 6.0e6]),
            Dist::Percentiles(vec![(0.0, 0.0), (0.5, 5.0e6), (1.0, 10.0e6)]),
        ];
        for d in &cases {
            let (sim, theory) = (sample_mean(d, 400_000), d.mean());
            let rel = (sim - theory).abs() / theory;
            assert!(rel < 0.01, "{d:?}: sample mean {sim}, theory {theory}");
        }
    }

    #[test]
    fn lognormal_p99_is_the_given_p99() {
        let d = Dist::lognormal_from_median_p99(3.0e6, 20.0e6);
        let mut rng = stream(1, "p99");
        let mut xs: Vec<f64> = (0..200_000).map(|_| d.sample_f64(&mut rng)).collect();
        xs.sort_by(f64::total_cmp);
        let (median, p99) = (xs[100_000], xs[198_000]);
        assert!((median / 3.0e6 - 1.0).abs() < 0.02, "median {median}");
        assert!((p99 / 20.0e6 - 1.0).abs() < 0.03, "p99 {p99}");
    }

    #[test]
    fn special_functions() {
        assert!((gamma_fn(5.0) - 24.0).abs() < 1e-9);
        assert!((gamma_fn(0.5) - std::f64::consts::PI.sqrt()).abs() < 1e-9);
        assert!((erfc(0.0) - 1.0).abs() < 1e-7);
        assert!((erfc(1.0) - 0.157_299_207).abs() < 1e-6);
    }
}
