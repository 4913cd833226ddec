//! Distributions fitted to samples of durations (exclusive work, network hops).
//!
//! Candidates: a constant when the sample barely varies, and the exponential,
//! lognormal and gamma by maximum likelihood. A parametric form is chosen only
//! when its Kolmogorov–Smirnov distance to the sample is under the 5% critical
//! value 1.36/√n (the smallest distance wins) and its p99 is within 10% of the
//! sample's: KS weighs the body and hardly sees the tail, and a p99 is what a
//! scenario is asked about (an exponential's draws plus a fixed cost pass KS as
//! a lognormal whose p99 is half again too long). Otherwise the sample's own
//! percentile points are written (`{empirical: {p0: .., p50: .., p100: ..}}`),
//! which meshsim interpolates linearly. A mean alone is never the answer.
//! Values are nanoseconds as `f64`; what is written is rounded to 4 significant
//! figures ([`duration`]).

use statrs::distribution::{ContinuousCDF, Exp, Gamma, LogNormal};
use statrs::function::gamma::digamma;

/// The percentile points written for an empirical distribution.
pub const POINTS: [f64; 12] = [
    0.0, 1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 100.0,
];

/// The share of spread, (p99 − p1) / p50, under which a sample is a constant.
const CONSTANT_SPREAD: f64 = 0.01;

/// How far a parametric form's p99 may be from the sample's.
const TAIL_TOLERANCE: f64 = 0.10;

/// A distribution as it will be written.
#[derive(Clone, Debug, PartialEq)]
pub enum Choice {
    Constant(f64),
    Exponential {
        mean: f64,
    },
    /// ln X ~ N(mu, sigma²), X in nanoseconds.
    LogNormal {
        mu: f64,
        sigma: f64,
    },
    Gamma {
        shape: f64,
        mean: f64,
    },
    /// (percentile 0..100, value) points.
    Empirical(Vec<(f64, f64)>),
}

/// A fit and its evidence.
#[derive(Clone, Debug)]
pub struct Fit {
    pub n: usize,
    pub choice: Choice,
    /// Each parametric candidate's KS distance and the relative error of its
    /// p99 against the sample's, in the order tried.
    pub candidates: Vec<(&'static str, f64, f64)>,
    /// 1.36 / √n.
    pub critical: f64,
}

/// Fits `samples` (sorted here; at least one value; negative values count as 0).
pub fn fit(samples: &mut [f64]) -> Fit {
    assert!(!samples.is_empty(), "a fit needs a sample");
    for x in samples.iter_mut() {
        *x = x.max(0.0);
    }
    samples.sort_by(f64::total_cmp);
    let n = samples.len();
    let critical = 1.36 / (n as f64).sqrt();
    let median = quantile(samples, 0.5);
    let spread = quantile(samples, 0.99) - quantile(samples, 0.01);
    if spread <= CONSTANT_SPREAD * median || samples[n - 1] == samples[0] {
        return Fit {
            n,
            choice: Choice::Constant(median),
            candidates: Vec::new(),
            critical,
        };
    }
    let candidates: Vec<(&'static str, Choice)> = parametric(samples);
    let p99 = quantile(samples, 0.99);
    let scored: Vec<(&'static str, f64, f64)> = candidates
        .iter()
        .map(|(name, c)| (*name, ks(samples, c), c.quantile(0.99) / p99 - 1.0))
        .collect();
    let best = scored
        .iter()
        .enumerate()
        .filter(|(_, (_, d, tail))| *d < critical && tail.abs() <= TAIL_TOLERANCE)
        .min_by(|a, b| a.1.1.total_cmp(&b.1.1));
    let choice = match best {
        Some((i, _)) => candidates[i].1.clone(),
        None => Choice::Empirical(
            POINTS
                .iter()
                .map(|&p| (p, quantile(samples, p / 100.0)))
                .collect(),
        ),
    };
    Fit {
        n,
        choice,
        candidates: scored,
        critical,
    }
}

/// The exponential, lognormal and gamma by maximum likelihood (positive values only
/// for the last two; zeros are raised to 1 ns).
fn parametric(sorted: &[f64]) -> Vec<(&'static str, Choice)> {
    let n = sorted.len() as f64;
    let mean = sorted.iter().sum::<f64>() / n;
    let logs: Vec<f64> = sorted.iter().map(|x| x.max(1.0).ln()).collect();
    let mu = logs.iter().sum::<f64>() / n;
    let var = logs.iter().map(|l| (l - mu).powi(2)).sum::<f64>() / n;
    let sigma = var.sqrt().max(1e-9);
    let mut out = vec![("exponential", Choice::Exponential { mean })];
    out.push(("lognormal", Choice::LogNormal { mu, sigma }));
    let mean_pos = sorted.iter().map(|x| x.max(1.0)).sum::<f64>() / n;
    if let Some(shape) = gamma_shape(mean_pos.ln() - mu) {
        out.push((
            "gamma",
            Choice::Gamma {
                shape,
                mean: mean_pos,
            },
        ));
    }
    out
}

/// The gamma's shape by maximum likelihood from s = ln(mean) − mean(ln x):
/// Minka's closed-form start, then Newton steps on ln k − ψ(k) = s.
fn gamma_shape(s: f64) -> Option<f64> {
    if !(s.is_finite() && s > 0.0) {
        return None;
    }
    let mut k = (3.0 - s + ((s - 3.0).powi(2) + 24.0 * s).sqrt()) / (12.0 * s);
    for _ in 0..20 {
        let f = k.ln() - digamma(k) - s;
        let h = 1e-6 * k;
        let df = ((k + h).ln() - digamma(k + h) - (k - h).ln() + digamma(k - h)) / (2.0 * h);
        if df == 0.0 || !df.is_finite() {
            break;
        }
        let next = (k - f / df).max(k / 10.0);
        if (next - k).abs() < 1e-10 * k {
            k = next;
            break;
        }
        k = next;
    }
    (k.is_finite() && k > 0.0).then_some(k)
}

/// The Kolmogorov–Smirnov distance between the sorted sample and `c`.
pub fn ks(sorted: &[f64], c: &Choice) -> f64 {
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let f = c.cdf(x);
            (f - i as f64 / n).max((i + 1) as f64 / n - f)
        })
        .fold(0.0, f64::max)
}

/// The sample quantile, linear between order statistics (type 7), of a sorted sample.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (h - lo as f64)
}

impl Choice {
    /// P(X ≤ x).
    pub fn cdf(&self, x: f64) -> f64 {
        match self {
            Choice::Constant(c) => f64::from(u8::from(x >= *c)),
            Choice::Exponential { mean } => Exp::new(1.0 / mean).map_or(0.0, |d| d.cdf(x)),
            Choice::LogNormal { mu, sigma } => {
                LogNormal::new(*mu, *sigma).map_or(0.0, |d| d.cdf(x))
            }
            Choice::Gamma { shape, mean } => {
                Gamma::new(*shape, shape / mean).map_or(0.0, |d| d.cdf(x))
            }
            Choice::Empirical(points) => {
                let i = points.partition_point(|(_, v)| *v <= x);
                if i == 0 {
                    return 0.0;
                }
                if i == points.len() {
                    return 1.0;
                }
                let (p0, v0) = points[i - 1];
                let (p1, v1) = points[i];
                (p0 + (p1 - p0) * (x - v0) / (v1 - v0)) / 100.0
            }
        }
    }

    /// The q-quantile (0 < q < 1), as meshsim samples what is written.
    pub fn quantile(&self, q: f64) -> f64 {
        match self {
            Choice::Constant(c) => *c,
            Choice::Exponential { mean } => -mean * (1.0 - q).ln(),
            Choice::LogNormal { mu, sigma } => {
                LogNormal::new(*mu, *sigma).map_or(0.0, |d| d.inverse_cdf(q))
            }
            Choice::Gamma { shape, mean } => {
                Gamma::new(*shape, shape / mean).map_or(0.0, |d| d.inverse_cdf(q))
            }
            Choice::Empirical(points) => {
                let unit: Vec<(f64, f64)> = points.iter().map(|(p, v)| (p / 100.0, *v)).collect();
                crate::engine::dist::interpolate(&unit, q)
            }
        }
    }

    /// The short name of the family, for comments.
    pub fn family(&self) -> &'static str {
        match self {
            Choice::Constant(_) => "constant",
            Choice::Exponential { .. } => "exponential",
            Choice::LogNormal { .. } => "lognormal",
            Choice::Gamma { .. } => "gamma",
            Choice::Empirical(_) => "empirical",
        }
    }

    /// The scenario text of the distribution (a YAML flow mapping or a duration).
    pub fn yaml(&self) -> String {
        match self {
            Choice::Constant(c) => duration(*c),
            Choice::Exponential { mean } => {
                format!("{{exponential: {{mean: {}}}}}", duration(*mean))
            }
            Choice::LogNormal { mu, sigma } => {
                let median = mu.exp();
                let p99 = (mu + sigma * crate::engine::dist::Z99).exp();
                format!(
                    "{{lognormal: {{median: {}, p99: {}}}}}",
                    duration(median),
                    duration(p99)
                )
            }
            Choice::Gamma { shape, mean } => format!(
                "{{gamma: {{shape: {}, mean: {}}}}}",
                significant(*shape),
                duration(*mean)
            ),
            Choice::Empirical(points) => {
                let parts: Vec<String> = points
                    .iter()
                    .map(|(p, v)| format!("p{}: {}", significant(*p), duration(*v)))
                    .collect();
                format!("{{empirical: {{{}}}}}", parts.join(", "))
            }
        }
    }
}

impl Fit {
    /// The evidence, for a comment: n, the choice, its KS and the alternatives'.
    pub fn evidence(&self) -> String {
        let ks: Vec<String> = self
            .candidates
            .iter()
            .map(|(name, d, tail)| format!("{name} {d:.4} p99 {:+.0}%", 100.0 * tail))
            .collect();
        let chosen = self.choice.family();
        match &self.choice {
            Choice::Constant(_) => format!(
                "n {}, constant: p1 to p99 within {}% of the median",
                self.n,
                CONSTANT_SPREAD * 100.0
            ),
            Choice::Empirical(_) => format!(
                "n {}, empirical percentiles: no fit under the KS 5% critical value {:.4} with a p99 within {}% of the sample's (KS {})",
                self.n,
                self.critical,
                TAIL_TOLERANCE * 100.0,
                ks.join(", ")
            ),
            _ => format!(
                "n {}, {chosen}: smallest KS under the 5% critical value {:.4}, p99 within {}% (KS {})",
                self.n,
                self.critical,
                TAIL_TOLERANCE * 100.0,
                ks.join(", ")
            ),
        }
    }
}

/// `x` rounded to 4 significant figures, without trailing zeros.
pub fn significant(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return "0".into();
    }
    let digits = 3 - x.abs().log10().floor() as i32;
    let text = if digits > 0 {
        format!("{:.*}", digits as usize, x)
    } else {
        let scale = 10f64.powi(-digits);
        format!("{}", (x / scale).round() * scale)
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// Nanoseconds as a scenario duration with its unit, 4 significant figures:
/// `62.06ms`, `850us`, `1.234s`.
pub fn duration(ns: f64) -> String {
    let ns = ns.max(0.0);
    if ns >= 1e9 {
        format!("{}s", significant(ns / 1e9))
    } else if ns >= 1e6 {
        format!("{}ms", significant(ns / 1e6))
    } else if ns >= 1e3 {
        format!("{}us", significant(ns / 1e3))
    } else {
        format!("{}ns", significant(ns.round()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::dist::Dist;
    use crate::engine::stream;

    fn draw(d: &Dist, name: &str, n: usize) -> Vec<f64> {
        let mut rng = stream(14, name);
        (0..n).map(|_| d.sample(&mut rng) as f64).collect()
    }

    fn near(got: f64, want: f64, share: f64) -> bool {
        (got - want).abs() <= share * want.abs()
    }

    #[test]
    fn a_lognormal_comes_back_as_itself() {
        let mut x = draw(&Dist::lognormal_from_median_p99(60e6, 120e6), "ln", 5000);
        let f = fit(&mut x);
        let Choice::LogNormal { .. } = f.choice else {
            panic!("{f:?}")
        };
        assert!(near(f.choice.quantile(0.5), 60e6, 0.02), "{f:?}");
        assert!(near(f.choice.quantile(0.99), 120e6, 0.03), "{f:?}");
    }

    #[test]
    fn a_gamma_comes_back_with_its_shape_and_mean() {
        let mut x = draw(&Dist::gamma(4.0, 50e6).unwrap(), "gamma", 5000);
        let f = fit(&mut x);
        let Choice::Gamma { shape, mean } = f.choice else {
            panic!("{f:?}")
        };
        assert!(near(shape, 4.0, 0.05) && near(mean, 50e6, 0.02), "{f:?}");
    }

    #[test]
    fn an_exponential_comes_back_with_its_mean() {
        let mut x = draw(&Dist::Exponential { mean: 60e6 }, "exp", 5000);
        let f = fit(&mut x);
        // The exponential is a gamma of shape 1: either is right if its parameters are.
        match f.choice {
            Choice::Exponential { mean } => assert!(near(mean, 60e6, 0.03), "{f:?}"),
            Choice::Gamma { shape, mean } => {
                assert!(near(shape, 1.0, 0.03) && near(mean, 60e6, 0.03), "{f:?}")
            }
            _ => panic!("{f:?}"),
        }
    }

    #[test]
    fn a_constant_is_a_constant() {
        let mut x = vec![150e6; 100];
        let f = fit(&mut x);
        assert_eq!(f.choice, Choice::Constant(150e6));
        assert_eq!(f.choice.yaml(), "150ms");
    }

    #[test]
    fn a_uniform_gets_empirical_points_with_its_percentiles() {
        let mut x = draw(
            &Dist::Uniform {
                min: 40e6,
                max: 120e6,
            },
            "uniform",
            5000,
        );
        let f = fit(&mut x);
        assert_eq!(f.choice.family(), "empirical", "{f:?}");
        assert!(near(f.choice.quantile(0.5), 80e6, 0.02), "{f:?}");
        assert!(near(f.choice.quantile(0.99), 119.2e6, 0.01), "{f:?}");
        assert!(f.evidence().starts_with("n 5000, empirical"));
    }

    /// A sample whose body is a lognormal and whose top 2% is pressed down to its
    /// p98: the lognormal still passes KS (the tail is 2% of the mass) but its p99
    /// is far too long, so it is not taken, and what is written keeps the p99.
    #[test]
    fn a_fit_that_passes_ks_with_the_wrong_tail_is_not_taken() {
        let mut x = draw(&Dist::lognormal_from_median_p99(60e6, 240e6), "tail", 1343);
        x.sort_by(f64::total_cmp);
        let p98 = quantile(&x, 0.98);
        for v in x.iter_mut() {
            *v = v.min(p98);
        }
        let f = fit(&mut x);
        let (name, ks_ln, tail_ln) = f.candidates[1];
        assert_eq!(name, "lognormal");
        assert!(ks_ln < f.critical, "the lognormal passes KS: {f:?}");
        assert!(tail_ln > TAIL_TOLERANCE, "but its p99 is too long: {f:?}");
        assert_ne!(f.choice.family(), "lognormal", "{f:?}");
        let p99 = f.choice.quantile(0.99);
        assert!(near(p99, quantile(&x, 0.99), TAIL_TOLERANCE), "{p99} {f:?}");
        assert!(f.evidence().contains("p99 +"), "{}", f.evidence());
    }

    #[test]
    fn durations_are_written_with_units_and_four_figures() {
        assert_eq!(duration(62_064_999.0), "62.06ms");
        assert_eq!(duration(123_940_000.0), "123.9ms");
        assert_eq!(duration(850_000.0), "850us");
        assert_eq!(duration(1_234_567_890.0), "1.235s");
        assert_eq!(duration(12.4), "12ns");
        assert_eq!(significant(12345.0), "12350");
        assert_eq!(significant(0.30292), "0.3029");
    }
}
