//! A latency record: an HDR histogram (3 significant digits) for percentiles,
//! plus an exact sum and maximum so that means are not quantised.
//!
//! On the hot path a record is a count at the histogram's own bucket index
//! ([`hdr_index`]), in a plain array; the counts are folded into the
//! histogram when the run ends ([`Latency::settle`]), or on a copy when read
//! before that. A bucket's count recorded at its lowest value leaves the
//! histogram exactly as the values themselves would (counts, total, its
//! min and max, which it keeps per bucket), and costs a third of the
//! instructions of `Histogram::record` (callgrind, issue 13).
//!
//! In a run with many records (`Collector::buffer_if_many`), a record
//! first goes into a short buffer of bucket indices, which is added to the
//! counts every [`BUFFERED`] records. The counts of one histogram span up
//! to a hundred kilobytes, and a model with many endpoints and call sites
//! has hundreds of them: a count made at once is a cache miss that the
//! processor waits for, while a few hundred buffered ones are independent
//! increments it overlaps. With few records the counts stay in the caches
//! and are made at once (buffering them cost 1% there). The figures are
//! the same either way.

use std::borrow::Cow;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::engine::Time;
use crate::engine::time::as_millis;

/// Latencies in nanoseconds.
#[derive(Clone, Debug)]
pub struct Latency {
    hist: Histogram<u64>,
    /// Counts not yet in `hist`, at `hdr_index` of their values (u32: half
    /// the memory of the histogram's own; a count that would pass u32::MAX
    /// moves into `hist` first).
    pending: Vec<u32>,
    /// Indices of the latest records, not yet in `pending` (when `buffered`).
    buffer: Vec<u32>,
    buffered: bool,
    sum_ns: u128,
    max_ns: u64,
}

/// The histogram's lowest discernible value (100 ns resolution) and digits.
const LOWEST: u64 = 100;
/// Records buffered before they are counted.
const BUFFERED: usize = 256;
const DIGITS: u8 = 3;
/// Its layout, as hdrhistogram derives it from those two: 2^6 ≤ 100 units,
/// sub-buckets of 2^11 (the smallest power of two ≥ 2 × 10^3), half used past
/// the first bucket.
const UNIT_MAGNITUDE: u32 = 6;
const HALF_MAGNITUDE: u32 = 10;
const SUB_BUCKET_MASK: u64 = ((1 << (HALF_MAGNITUDE + 1)) - 1) << UNIT_MAGNITUDE;
const LEADING_ZERO_BASE: u32 = 64 - UNIT_MAGNITUDE - (HALF_MAGNITUDE + 1);

/// The index of `value`'s count in the histogram (hdrhistogram's `index_for`).
#[inline(always)]
fn hdr_index(value: u64) -> usize {
    let bucket = LEADING_ZERO_BASE - (value | SUB_BUCKET_MASK).leading_zeros();
    let sub_bucket = (value >> (bucket + UNIT_MAGNITUDE)) as usize;
    ((bucket as usize + 1) << HALF_MAGNITUDE) + sub_bucket - (1 << HALF_MAGNITUDE)
}

/// The lowest value counted at `index` (hdrhistogram's `value_for`).
fn hdr_value(index: usize) -> u64 {
    let half = 1usize << HALF_MAGNITUDE;
    let (bucket, sub_bucket) = match index >> HALF_MAGNITUDE {
        0 => (0, index),
        b => (b - 1, (index & (half - 1)) + half),
    };
    (sub_bucket as u64) << (bucket as u32 + UNIT_MAGNITUDE)
}

impl Default for Latency {
    fn default() -> Self {
        // 100 ns resolution, growing as needed; 3 significant digits.
        let mut hist =
            Histogram::new_with_bounds(LOWEST, 1_000_000, DIGITS).expect("valid histogram bounds");
        hist.auto(true);
        Latency {
            hist,
            pending: Vec::new(),
            buffer: Vec::new(),
            buffered: false,
            sum_ns: 0,
            max_ns: 0,
        }
    }
}

impl Latency {
    #[inline]
    pub fn record(&mut self, ns: Time) {
        let i = hdr_index(ns.max(1));
        if self.buffered {
            if self.buffer.len() == BUFFERED {
                self.count_buffered();
            }
            // An index fits in u32: values up to 2^64 ns take under 60,000.
            self.buffer.push(i as u32);
        } else {
            count_at(&mut self.pending, &mut self.hist, i);
        }
        self.sum_ns += u128::from(ns);
        crate::engine::raise(&mut self.max_ns, ns);
    }

    /// Buffers the records from now on (see the module's comment).
    pub fn buffer_records(&mut self) {
        self.buffered = true;
    }

    /// Whether records are buffered.
    pub fn is_buffered(&self) -> bool {
        self.buffered
    }

    /// Adds the buffered records to the counts.
    #[inline(never)]
    fn count_buffered(&mut self) {
        for &i in &self.buffer {
            count_at(&mut self.pending, &mut self.hist, i as usize);
        }
        self.buffer.clear();
    }

    /// Folds the pending counts into the histogram (at the end of a run;
    /// the reads below do it on a copy when it has not been done).
    pub fn settle(&mut self) {
        self.count_buffered();
        fold(&mut self.hist, &self.pending);
        self.pending = Vec::new();
        self.buffer = Vec::new();
    }

    /// The histogram with every record in it.
    fn hist(&self) -> Cow<'_, Histogram<u64>> {
        if self.pending.is_empty() && self.buffer.is_empty() {
            Cow::Borrowed(&self.hist)
        } else {
            let mut hist = self.hist.clone();
            let mut pending = self.pending.clone();
            for &i in &self.buffer {
                count_at(&mut pending, &mut hist, i as usize);
            }
            fold(&mut hist, &pending);
            Cow::Owned(hist)
        }
    }

    pub fn count(&self) -> u64 {
        let pending: u64 = self.pending.iter().map(|&n| u64::from(n)).sum();
        self.hist.len() + pending + self.buffer.len() as u64
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
        self.hist().value_at_quantile(q).min(self.max_ns)
    }

    /// Adds another record (for SLOs over several workloads).
    pub fn merge(&mut self, other: &Latency) {
        self.settle();
        self.hist
            .add(&*other.hist())
            .expect("auto-resizing histograms always merge");
        self.sum_ns += other.sum_ns;
        self.max_ns = self.max_ns.max(other.max_ns);
    }

    /// Share of records greater than `ns`.
    pub fn fraction_above(&self, ns: u64) -> f64 {
        match self.count() {
            0 => 0.0,
            n => self.hist().count_between(ns.saturating_add(1), u64::MAX) as f64 / n as f64,
        }
    }

    /// The empirical CDF as (milliseconds, share of records at or below), at
    /// most about `max_points` points spread evenly over the recorded values.
    pub fn cdf(&self, max_points: usize) -> Vec<(f64, f64)> {
        let n = self.count();
        if n == 0 {
            return Vec::new();
        }
        let hist = self.hist();
        let all: Vec<(f64, f64)> = hist
            .iter_recorded()
            .map(|v| {
                let ns = hist
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
        let hist = self.hist();
        hist.iter_recorded()
            .map(|v| {
                let ns = hist.median_equivalent(v.value_iterated_to());
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

/// Counts one record at index `i` of `counts`, moving the count into
/// `hist` first if it is full.
#[inline(always)]
fn count_at(counts: &mut Vec<u32>, hist: &mut Histogram<u64>, i: usize) {
    match counts.get_mut(i) {
        Some(count) if *count < u32::MAX => *count += 1,
        Some(count) => spill(hist, i, count),
        None => grow(counts, i),
    }
}

/// Counts a first record at index `i` of `counts`, past its end.
#[cold]
fn grow(counts: &mut Vec<u32>, i: usize) {
    counts.resize(i + 1, 0);
    counts[i] = 1;
}

/// A full count and one more record go into the histogram (as `fold` would).
#[cold]
fn spill(hist: &mut Histogram<u64>, i: usize, count: &mut u32) {
    fold_one(hist, i, u64::from(*count) + 1);
    *count = 0;
}

/// Adds `counts` (at their `hdr_index`) to `hist`, each at its index's
/// lowest value; the histogram grows to fit as it would have record by record.
fn fold(hist: &mut Histogram<u64>, counts: &[u32]) {
    for (i, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
        fold_one(hist, i, u64::from(n));
    }
}

/// Adds `n` records at index `i` to `hist`.
fn fold_one(hist: &mut Histogram<u64>, i: usize, n: u64) {
    // Should growing ever fail, saturate, as a record would.
    if hist.record_n(hdr_value(i), n).is_err() {
        hist.saturating_record_n(hdr_value(i), n);
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

    /// Counts folded at the buckets' indices leave the histogram as the
    /// values recorded one by one do: the same counts, total, min, max and
    /// length, for values of every scale (below the 100 ns resolution too),
    /// read before and after `settle`.
    #[test]
    fn folded_counts_are_the_histogram_of_the_values() {
        let mut direct =
            Histogram::<u64>::new_with_bounds(LOWEST, 1_000_000, DIGITS).expect("valid bounds");
        direct.auto(true);
        let mut l = Latency::default();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x >> 8) % (1 << (x % 42)) + 1;
            assert_eq!(hdr_value(hdr_index(v)), direct.lowest_equivalent(v), "{v}");
            direct.record(v).expect("auto-resizing");
            l.record(v);
        }
        let before = l.summary();
        assert_eq!(*l.hist(), direct);
        l.settle();
        assert!(l.pending.is_empty() && l.buffer.is_empty());
        assert_eq!(l.hist, direct);
        assert_eq!(l.hist.distinct_values(), direct.distinct_values());
        assert_eq!(l.summary(), before);
        assert_eq!(l.count(), 200_000);
    }

    /// A count that would pass u32::MAX moves into the histogram: the
    /// figures are those of the records all the same.
    #[test]
    fn a_full_count_moves_into_the_histogram() {
        let mut l = Latency::default();
        l.record(5_000);
        let i = hdr_index(5_000);
        // As if 2^32 − 1 records of 5 µs had been counted.
        l.pending[i] = u32::MAX;
        l.record(5_000);
        l.record(5_000);
        assert_eq!(l.pending[i], 1);
        assert_eq!(l.hist.len(), 1 << 32);
        assert_eq!(l.count(), (1 << 32) + 1);
        assert_eq!(l.hist().len(), (1 << 32) + 1);
        assert!((hdr_value(i)..=5_000).contains(&l.quantile_ns(0.5)));
        l.settle();
        assert_eq!(l.hist.count_at(5_000), (1 << 32) + 1);
    }

    /// Buffered records give the same histogram, read at any point: while
    /// some are still in the buffer, after the buffer was counted, and
    /// after `settle`.
    #[test]
    fn buffered_records_are_the_same_histogram() {
        let (mut plain, mut buffered) = (Latency::default(), Latency::default());
        buffered.buffer_records();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for n in 1..=10_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let v = (x >> 20) % 50_000_000;
            plain.record(v);
            buffered.record(v);
            if n % 997 == 0 || n == 10_000 {
                assert!(!buffered.buffer.is_empty() || n % BUFFERED as u64 == 0);
                assert_eq!(*buffered.hist(), *plain.hist(), "after {n}");
                assert_eq!(buffered.count(), n);
                assert_eq!(buffered.summary(), plain.summary(), "after {n}");
            }
        }
        assert!(buffered.pending.iter().map(|&n| u64::from(n)).sum::<u64>() >= 9_984);
        buffered.settle();
        plain.settle();
        assert_eq!(buffered.hist, plain.hist);
        assert_eq!(buffered.summary(), plain.summary());
    }
}
