//! Time series: every `step` of simulated time, one point per workload,
//! service, call site and topic, in bounded memory (at most [`MAX_POINTS`]
//! points per series: longer runs get a coarser step).
//!
//! Counts follow the summary's rule: they count what was sent after warmup,
//! so a count series summed over the run equals the summary's figure. States
//! (utilisation, queue length, replicas, breaker state, lag) are sampled over
//! the whole run, warmup included.

use hdrhistogram::Histogram;

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

/// Requests of one workload in the current step, and the points so far.
#[derive(Clone, Debug)]
pub struct WorkloadSeries {
    pub sent: u64,
    pub ok: u64,
    pub errors: u64,
    /// Latencies of successful requests answered in the current step.
    pub bucket: Histogram<u64>,
    pub points: Vec<WorkloadPoint>,
}

impl Default for WorkloadSeries {
    fn default() -> Self {
        // Two significant digits are plenty for a per-step percentile.
        let mut bucket = Histogram::new_with_bounds(100, 1_000_000, 2).expect("valid bounds");
        bucket.auto(true);
        WorkloadSeries {
            sent: 0,
            ok: 0,
            errors: 0,
            bucket,
            points: Vec::new(),
        }
    }
}

impl WorkloadSeries {
    #[inline]
    pub fn record_ok(&mut self, latency: Time) {
        self.ok += 1;
        if self.bucket.record(latency.max(1)).is_err() {
            self.bucket.saturating_record(latency.max(1));
        }
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct WorkloadPoint {
    pub sent: u64,
    pub ok: u64,
    /// Failed, timed out or rejected, counted when the client learnt it.
    pub errors: u64,
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
    /// Serving replicas at the sample.
    pub replicas: u32,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct CallPoint {
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
    pub services: Vec<Vec<ServicePoint>>,
    pub calls: Vec<Vec<CallPoint>>,
    /// Messages published per step, per topic (each group's lag and
    /// throughput are in its [`super::GroupStats::series`]).
    pub published: Vec<Vec<u64>>,
}

impl Series {
    /// The length of step `i` in seconds.
    pub fn step_secs(&self, i: usize) -> f64 {
        let start = if i == 0 { 0 } else { self.times[i - 1] };
        crate::engine::time::as_secs(self.times[i] - start)
    }
}
