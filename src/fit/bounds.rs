//! `--fail-above`: the bounds past which `fit` exits 1.
//!
//! `--fail-above 20%` bounds the relative error of p50 and p99 of every
//! entry endpoint at 20%; `--fail-above p50=10%,p99=20%,ks=0.1` names each
//! figure: `p50`, `p90`, `p99`, `mean` (relative errors, `10%` or `0.1`) and
//! `ks` (the Kolmogorov–Smirnov distance, from 0 to 1). Only entry endpoints
//! are checked: they are what the model is used to predict.

use serde::Serialize;

use super::Row;

/// A figure a bound applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    P50,
    P90,
    P99,
    Mean,
    Ks,
}

impl Metric {
    fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P99 => "p99",
            Metric::Mean => "mean",
            Metric::Ks => "ks",
        }
    }

    /// The row's figure: a relative error's size, or the KS distance.
    fn of(self, r: &Row) -> f64 {
        match self {
            Metric::P50 => r.error.p50.abs(),
            Metric::P90 => r.error.p90.abs(),
            Metric::P99 => r.error.p99.abs(),
            Metric::Mean => r.error.mean.abs(),
            Metric::Ks => r.ks,
        }
    }
}

/// Parsed `--fail-above`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds(pub Vec<(Metric, f64)>);

/// One bound checked on one entry endpoint.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    pub endpoint: String,
    pub metric: &'static str,
    pub value: f64,
    pub bound: f64,
    pub pass: bool,
}

/// `20%`, `0.2`, or `p99=20%,ks=0.1`.
pub fn parse(spec: &str) -> Result<Bounds, String> {
    let help = "expected a relative error such as 20% (for p50 and p99), or \
                METRIC=BOUND,… with METRIC one of p50, p90, p99, mean, ks: p99=20%,ks=0.1";
    let bad = |what: &str| format!("error: --fail-above {spec:?}: {what}\n  = {help}\n");
    if !spec.contains('=') {
        let b = number(spec).ok_or_else(|| bad("not a bound"))?;
        return Ok(Bounds(vec![(Metric::P50, b), (Metric::P99, b)]));
    }
    let mut out = Vec::new();
    for part in spec.split(',') {
        let (k, v) = part
            .split_once('=')
            .ok_or_else(|| bad(&format!("{part:?} has no =")))?;
        let metric = match k.trim() {
            "p50" => Metric::P50,
            "p90" => Metric::P90,
            "p99" => Metric::P99,
            "mean" => Metric::Mean,
            "ks" => Metric::Ks,
            other => return Err(bad(&format!("unknown figure {other:?}"))),
        };
        let b = number(v).ok_or_else(|| bad(&format!("{v:?} is not a bound")))?;
        if metric == Metric::Ks && b > 1.0 {
            return Err(bad("a KS distance is at most 1"));
        }
        out.push((metric, b));
    }
    Ok(Bounds(out))
}

/// `20%` → 0.2, `0.2` → 0.2; finite and not negative.
fn number(s: &str) -> Option<f64> {
    let s = s.trim();
    let x = match s.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().ok()? / 100.0,
        None => s.parse::<f64>().ok()?,
    };
    (x.is_finite() && x >= 0.0).then_some(x)
}

impl Bounds {
    /// Every bound on every entry endpoint, in order.
    pub fn check(&self, entries: &[Row]) -> Vec<Check> {
        let mut out = Vec::new();
        for r in entries {
            for &(m, bound) in &self.0 {
                let value = m.of(r);
                out.push(Check {
                    endpoint: format!("{}.{}", r.service, r.endpoint),
                    metric: m.name(),
                    value: super::round(value, 4),
                    bound,
                    pass: value <= bound,
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_read_as_people_write_them() {
        let both = Bounds(vec![(Metric::P50, 0.2), (Metric::P99, 0.2)]);
        assert_eq!(parse("20%").unwrap(), both);
        assert_eq!(parse("0.2").unwrap(), both);
        assert_eq!(
            parse("p99=30%, ks=0.1").unwrap(),
            Bounds(vec![(Metric::P99, 0.3), (Metric::Ks, 0.1)])
        );
        for bad in ["", "x", "-5%", "p95=1%", "ks=2", "p50"] {
            let e = parse(bad).unwrap_err();
            assert!(
                e.contains("--fail-above") && e.contains("expected"),
                "{bad}: {e}"
            );
        }
    }
}
