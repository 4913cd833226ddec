//! Time series: every `step` of simulated time, one point per workload,
//! service, call site and topic, in bounded memory (at most [`MAX_POINTS`]
//! points per series: longer runs get a coarser step).
//!
//! Counts follow the summary's rule: they count what was sent after warmup,
//! so a count series summed over the run equals the summary's figure. States
//! (utilisation, queue length, replicas, breaker state, lag) are sampled over
//! the whole run, warmup included.

use crate::engine::Time;
use crate::engine::time::SECOND;

/// At most this many points per series.
pub const MAX_POINTS: u64 = 3600;

/// The step actually used for a run of length `end` when `wanted` was asked:
/// `wanted` (1 s by default), coarsened to whole multiples of it so that the
/// run has at most [`MAX_POINTS`] points.
pub fn effective_step(end: Time, wanted: Option<Time>) -> Time {
    let wanted = wanted.unwrap_or(SECOND).max(1);
    let min = end.div_ceil(MAX_POINTS).max(1);
    if wanted >= min {
        wanted
    } else {
        min.div_ceil(wanted) * wanted
    }
}

/// One workload's points, its counters at the last sample (a step's counts
/// are the differences), and the latencies of the current step.
#[derive(Clone, Debug, Default)]
pub struct WorkloadSeries {
    /// Sent, ok, failed, timed out, rejected at the last sample.
    pub marks: [u64; 5],
    pub step: StepHistogram,
    /// The current step's latencies in the [`LE_NS`] buckets (the last: above
    /// them all), and their sum in ns.
    pub le_step: [u32; LE_NS.len() + 1],
    pub sum_step_ns: u64,
    pub points: Vec<WorkloadPoint>,
}

/// Upper bounds (inclusive) of the exported latency buckets, in ns: a 1-1.5-2-3-5-7.5
/// series from 1 ms to 30 s (a ratio of at most 1.5 between neighbours).
pub const LE_NS: [u64; 25] = {
    const MS: u64 = 1_000_000;
    [
        MS,
        2 * MS,
        3 * MS,
        5 * MS,
        7_500_000,
        10 * MS,
        15 * MS,
        20 * MS,
        30 * MS,
        50 * MS,
        75 * MS,
        100 * MS,
        150 * MS,
        200 * MS,
        300 * MS,
        500 * MS,
        750 * MS,
        1000 * MS,
        1500 * MS,
        2000 * MS,
        3000 * MS,
        5000 * MS,
        7500 * MS,
        10_000 * MS,
        30_000 * MS,
    ]
};

/// Scenarios with more endpoints than this keep no per-endpoint latency
/// buckets over time (memory: endpoints × up to 3,600 points × 26 buckets).
pub const ENDPOINT_SERIES_MAX: usize = 64;

/// One endpoint's server latencies (arrival at the replica to its last step,
/// successful executions) per step, in the [`LE_NS`] buckets.
#[derive(Clone, Debug, Default)]
pub struct EndpointSeries {
    pub le_step: [u32; LE_NS.len() + 1],
    pub sum_step_ns: u64,
    /// Each step's bucket counts and sum of latencies in ns.
    pub points: Vec<([u32; LE_NS.len() + 1], u64)>,
}

impl EndpointSeries {
    /// Records the latency of a successful execution of the current step.
    #[inline]
    pub fn record(&mut self, v: Time) {
        self.le_step[LE_NS.partition_point(|&le| le < v)] += 1;
        self.sum_step_ns += v;
    }

    /// Closes the current step.
    pub fn sample(&mut self) {
        let point = (
            std::mem::take(&mut self.le_step),
            std::mem::take(&mut self.sum_step_ns),
        );
        self.points.push(point);
    }
}

impl WorkloadSeries {
    /// Records the latency of a successful request of the current step.
    #[inline]
    pub fn record(&mut self, v: Time) {
        self.step.record(v);
        self.le_step[LE_NS.partition_point(|&le| le < v)] += 1;
        self.sum_step_ns += v;
    }
}

/// Sub-buckets per power of two: values are kept within ±1.6%.
const SUB_BITS: u32 = 5;
const SUB: usize = 1 << SUB_BITS;
const BUCKETS: usize = (64 - SUB_BITS as usize + 1) * SUB;

/// The latencies of one step: a log-linear histogram (32 linear sub-buckets
/// per power of two) that records in a few instructions and clears cheaply.
#[derive(Clone, Debug)]
pub struct StepHistogram {
    counts: Vec<u32>,
    total: u64,
}

impl Default for StepHistogram {
    fn default() -> Self {
        StepHistogram {
            counts: vec![0; BUCKETS],
            total: 0,
        }
    }
}

impl StepHistogram {
    #[inline]
    fn index(v: u64) -> usize {
        if v < SUB as u64 {
            return v as usize;
        }
        let e = 63 - v.leading_zeros();
        let shift = e - SUB_BITS;
        ((shift as usize + 1) << SUB_BITS) + ((v >> shift) as usize & (SUB - 1))
    }

    /// The middle of bucket `i`.
    fn value(i: usize) -> u64 {
        if i < SUB {
            return i as u64;
        }
        let shift = (i >> SUB_BITS) - 1;
        let m = (SUB + (i & (SUB - 1))) as u64;
        (m << shift) + ((1u64 << shift) >> 1)
    }

    #[inline]
    pub fn record(&mut self, v: Time) {
        let c = &mut self.counts[Self::index(v)];
        *c = c.saturating_add(1);
        self.total += 1;
    }

    pub fn count(&self) -> u64 {
        self.total
    }

    /// The q-quantile (0 < q ≤ 1), 0 when empty.
    pub fn quantile(&self, q: f64) -> u64 {
        self.quantiles([q])[0]
    }

    /// Several quantiles, in increasing order, in one pass over the buckets.
    pub fn quantiles<const N: usize>(&self, qs: [f64; N]) -> [u64; N] {
        let mut out = [0; N];
        if self.total == 0 {
            return out;
        }
        let (mut i, mut seen) = (0, 0u64);
        for (q, v) in qs.into_iter().zip(&mut out) {
            let rank = ((q * self.total as f64).ceil() as u64).clamp(1, self.total);
            while i < BUCKETS && seen + u64::from(self.counts[i]) < rank {
                seen += u64::from(self.counts[i]);
                i += 1;
            }
            *v = Self::value(i.min(BUCKETS - 1));
        }
        out
    }

    pub fn clear(&mut self) {
        if self.total > 0 {
            self.counts.fill(0);
            self.total = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_histogram_keeps_two_significant_digits() {
        let mut h = StepHistogram::default();
        for v in 1..=100_000u64 {
            h.record(v * 1000);
        }
        for q in [0.5, 0.9, 0.99] {
            let exact = q * 100_000.0 * 1000.0;
            let got = h.quantile(q) as f64;
            assert!((got / exact - 1.0).abs() < 0.02, "q {q}: {got} vs {exact}");
        }
        for v in [0u64, 1, 31, 32, 33, 1000, 123_456_789, u64::MAX] {
            let i = StepHistogram::index(v);
            assert!(i < BUCKETS);
            let mid = StepHistogram::value(i) as f64;
            assert!(v < 32 && mid == v as f64 || (mid / v as f64 - 1.0).abs() < 0.032);
        }
        let [p50, p99] = h.quantiles([0.5, 0.99]);
        assert_eq!([p50, p99], [h.quantile(0.5), h.quantile(0.99)]);
        h.clear();
        assert_eq!((h.count(), h.quantile(0.5)), (0, 0));
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct WorkloadPoint {
    pub sent: u64,
    pub ok: u64,
    /// Failed, timed out or rejected, counted when the client learnt it.
    pub errors: u64,
    /// The errors by kind.
    pub failed: u64,
    pub timed_out: u64,
    pub rejected: u64,
    /// The ok requests of the step per latency bucket ([`LE_NS`], then above),
    /// and the sum of their latencies in ns.
    pub le: [u32; LE_NS.len() + 1],
    pub sum_ns: u64,
    /// Percentiles of the successful requests answered in the step (0 if none).
    pub p50_ns: u64,
    pub p99_ns: u64,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct ServicePoint {
    /// Busy worker time / available worker time over the step (0 with no worker).
    pub utilization: f64,
    /// Jobs waiting for a worker, over all replicas, at the sample.
    pub queue: u64,
    /// Serving replicas at the sample, and replicas provisioned (started,
    /// starting or draining, crashed or not: what is paid for).
    pub replicas: u32,
    pub provisioned: u32,
    /// Executions of its endpoints that ended ok, and failed, in the step.
    pub ok: u64,
    pub failed: u64,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct CallPoint {
    /// Percentiles of the calls that succeeded in the step, first send to
    /// answer (0 when none did).
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub attempts: u64,
    /// Failed, rejected or timed-out attempts.
    pub errors: u64,
    pub retries: u64,
    pub short_circuited: u64,
    /// 0 closed, 1 half-open, 2 open, at the sample (0 without a breaker).
    pub breaker: u8,
}

/// Every series of a run. Points `i` of all series cover `(times[i-1], times[i]]`.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub step: Time,
    /// End of each step; the last may be shorter (the run's end).
    pub times: Vec<Time>,
    pub workloads: Vec<WorkloadSeries>,
    /// Empty for scenarios of more than [`ENDPOINT_SERIES_MAX`] endpoints.
    pub endpoints: Vec<EndpointSeries>,
    pub services: Vec<Vec<ServicePoint>>,
    pub calls: Vec<Vec<CallPoint>>,
    /// Messages published per step, per topic (each group's lag and
    /// throughput are in its [`super::GroupStats::series`]).
    pub published: Vec<Vec<u64>>,
    /// Latencies of each call site's successful calls in the current step.
    pub call_steps: Vec<StepHistogram>,
    /// Each service's endpoint (ok, failed) counts at the last sample.
    pub service_marks: Vec<(u64, u64)>,
}

impl Series {
    /// The length of step `i` in seconds.
    pub fn step_secs(&self, i: usize) -> f64 {
        let start = if i == 0 { 0 } else { self.times[i - 1] };
        crate::engine::time::as_secs(self.times[i] - start)
    }
}
