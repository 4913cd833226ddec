//! A latency record: an HDR histogram (3 significant digits) for percentiles,
//! plus an exact sum and maximum so that means are not quantised.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::engine::Time;
use crate::engine::time::as_millis;

/// Latencies in nanoseconds.
#[derive(Clone, Debug)]
pub struct Latency {
    hist: Histogram<u64>,
    sum_ns: u128,
    max_ns: u64,
}

impl Default for Latency {
    fn default() -> Self {
        // 100 ns resolution, growing as needed; 3 significant digits.
        let mut hist =
            Histogram::new_with_bounds(100, 1_000_000, 3).expect("valid histogram bounds");
        hist.auto(true);
        Latency {
            hist,
            sum_ns: 0,
            max_ns: 0,
        }
    }
}

impl Latency {
    #[inline]
    pub fn record(&mut self, ns: Time) {
        // The histogram grows to fit; should growing ever fail, saturate.
        if self.hist.record(ns.max(1)).is_err() {
            self.hist.saturating_record(ns.max(1));
        }
        self.sum_ns += u128::from(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Exact mean in nanoseconds.
    pub fn mean_ns(&self) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.sum_ns as f64 / n as f64,
        }
    }

    /// The q-quantile (0..=1) in nanoseconds.
    pub fn quantile_ns(&self, q: f64) -> u64 {
        if self.count() == 0 {
            return 0;
        }
        if q >= 1.0 {
            return self.max_ns;
        }
        self.hist.value_at_quantile(q).min(self.max_ns)
    }

    /// Adds another record (for SLOs over several workloads).
    pub fn merge(&mut self, other: &Latency) {
        self.hist
            .add(&other.hist)
            .expect("auto-resizing histograms always merge");
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Share of records greater than `ns`.
    pub fn fraction_above(&self, ns: u64) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.hist.count_between(ns.saturating_add(1), u64::MAX) as f64 / n as f64,
        }
    }

    /// The empirical CDF as (milliseconds, share of records at or below), at
    /// most about `max_points` points spread evenly over the recorded values.
    pub fn cdf(&self, max_points: usize) -> Vec<(f64, f64)> {
        let n = self.count();
        if n == 0 {
            return Vec::new();
        }
        let all: Vec<(f64, f64)> = self
            .hist
            .iter_recorded()
            .map(|v| {
                let ns = self
                    .hist
                    .highest_equivalent(v.value_iterated_to())
                    .min(self.max_ns);
                (as_millis(ns), v.quantile_iterated_to())
            })
            .collect();
        let every = all.len().div_ceil(max_points.max(1)).max(1);
        // From 0 at the smallest value, so that even a single value draws a step.
        let mut out = vec![(all[0].0, 0.0)];
        out.extend(all.iter().copied().step_by(every));
        if out.last() != all.last() {
            out.extend(all.last());
        }
        out
    }

    /// The CDF as its steps: (ns, share of records at or below), one per
    /// histogram bucket recorded, at the bucket's middle value (within 0.05%
    /// of every value in it). For comparisons with observed samples (`fit`).
    pub fn steps(&self) -> Vec<(u64, f64)> {
        if self.count() == 0 {
            return Vec::new();
        }
        self.hist
            .iter_recorded()
            .map(|v| {
                let ns = self.hist.median_equivalent(v.value_iterated_to());
                (ns.min(self.max_ns), v.quantile_iterated_to())
            })
            .collect()
    }

    /// The summary.json form, in milliseconds rounded to the microsecond.
    pub fn summary(&self) -> LatencyMs {
        LatencyMs {
            count: self.count(),
            mean: round3(self.mean_ns() / 1e6),
            p50: round3(as_millis(self.quantile_ns(0.50))),
            p90: round3(as_millis(self.quantile_ns(0.90))),
            p99: round3(as_millis(self.quantile_ns(0.99))),
            p999: round3(as_millis(self.quantile_ns(0.999))),
            max: round3(as_millis(self.max_ns)),
        }
    }
}

/// Latency figures in milliseconds. With nothing recorded every figure is
/// 0 here, and summary.json writes `null` in its place ([`or_null`]).
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct LatencyMs {
    /// Records behind the figures (not written: the counters say it).
    #[serde(skip)]
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl LatencyMs {
    /// "-" for nothing recorded, else the figure with three decimals.
    pub fn show(&self, figure: f64) -> String {
        if self.count == 0 {
            "-".into()
        } else {
            format!("{figure:.3}")
        }
    }
}

/// `serialize_with` for a latency in summary.json: `null` when nothing was
/// recorded, never a latency of 0.
pub fn or_null<S: serde::Serializer>(l: &LatencyMs, s: S) -> Result<S::Ok, S::Error> {
    if l.count == 0 {
        s.serialize_none()
    } else {
        s.serialize_some(l)
    }
}

/// Rounds to three decimals (a microsecond, for milliseconds).
pub fn round3(x: f64) -> f64 {
    (x * 1e3).round() / 1e3
}

/// Rounds to six decimals (for ratios).
pub fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_mean_and_close_quantiles() {
        let mut l = Latency::default();
        for i in 1..=1000u64 {
            l.record(i * 1_000_000);
        }
        assert_eq!(l.count(), 1000);
        assert!((l.mean_ns() - 500.5e6).abs() < 1e-6);
        let p99 = l.quantile_ns(0.99) as f64;
        assert!((p99 / 990e6 - 1.0).abs() < 0.002, "p99 {p99}");
        assert_eq!(l.quantile_ns(1.0), 1000 * 1_000_000);
        assert!((l.fraction_above(900_000_000) - 0.1).abs() < 0.002);
    }
}
