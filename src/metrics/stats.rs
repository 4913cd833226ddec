//! Confidence intervals over independent replications (Student t, 95%).

/// Two-sided 95% Student t quantiles for 1..=30 degrees of freedom.
const T95: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// The 0.975 quantile of Student's t with `df` degrees of freedom.
pub fn t95(df: usize) -> f64 {
    match df {
        0 => f64::INFINITY,
        1..=30 => T95[df - 1],
        _ => {
            // Cornish–Fisher expansion around the normal quantile.
            let z: f64 = 1.959_964;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

/// Mean and the half-width of its 95% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub half_width: f64,
}

impl Estimate {
    pub fn lo(&self) -> f64 {
        self.mean - self.half_width
    }
    pub fn hi(&self) -> f64 {
        self.mean + self.half_width
    }
}

/// The mean of `xs` with a Student t 95% interval (infinite for one sample).
pub fn estimate(xs: &[f64]) -> Estimate {
    let n = xs.len();
    if n == 0 {
        return Estimate {
            mean: f64::NAN,
            half_width: f64::NAN,
        };
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    if n == 1 {
        return Estimate {
            mean,
            half_width: f64::INFINITY,
        };
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    Estimate {
        mean,
        half_width: t95(n - 1) * (var / n as f64).sqrt(),
    }
}

/// A verdict that admits doubt: the interval is entirely on one side, or straddles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Inconclusive,
    /// Nothing to measure in any replication (no events).
    NoData,
}

impl Verdict {
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
            Verdict::NoData => "no_data",
        }
    }

    /// Passes when the whole interval is at or below `target`.
    pub fn at_most(e: Estimate, target: f64) -> Verdict {
        if e.hi() <= target {
            Verdict::Pass
        } else if e.lo() > target {
            Verdict::Fail
        } else {
            Verdict::Inconclusive
        }
    }

    /// Passes when the whole interval is at or above `target`.
    pub fn at_least(e: Estimate, target: f64) -> Verdict {
        if e.lo() >= target {
            Verdict::Pass
        } else if e.hi() < target {
            Verdict::Fail
        } else {
            Verdict::Inconclusive
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        let e = estimate(&[1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(e.mean, 3.0);
        // s = sqrt(2.5), t(4) = 2.776: 2.776 · sqrt(2.5 / 5)
        assert!((e.half_width - 2.776 * 0.5f64.sqrt()).abs() < 1e-9);
        assert!((t95(1000) - 1.962).abs() < 0.001);
        assert_eq!(Verdict::at_most(e, 6.0), Verdict::Pass);
        assert_eq!(Verdict::at_most(e, 3.0), Verdict::Inconclusive);
        assert_eq!(Verdict::at_least(e, 0.5), Verdict::Pass);
        assert_eq!(Verdict::at_least(e, 9.0), Verdict::Fail);
    }
}
