//! What a run measured: latency histograms and counters, collected by the model
//! in bounded memory, and turned into a [`Summary`] with SLO verdicts.

pub mod latency;
pub mod links;
pub mod replicate;
pub mod series;
pub mod stats;
pub mod summary;
pub mod verdict;

pub use latency::Latency;
pub use links::LinkStats;
pub use summary::{Summary, summarize};

use crate::engine::Time;

/// Counters and histograms of one workload (requests sent after warmup).
#[derive(Clone, Debug, Default)]
pub struct WorkloadStats {
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub rejected: u64,
    /// Still unanswered at the end of the run (filled in at the end).
    pub in_flight: u64,
    /// Of those, unanswered for longer than the client's patience.
    pub hung: u64,
    pub latency: Latency,
    /// A closed workload's requests that ended (any outcome) after warmup,
    /// whenever sent, and their times from client send to end, summed.
    pub answered: u64,
    pub response_ns: u128,
    /// A closed workload's think times drawn after warmup, summed, and their number.
    pub think_ns: u128,
    pub thinks: u64,
    /// A closed workload's users × measured time.
    pub user_ns: u128,
}

impl WorkloadStats {
    /// A request still unanswered at the end, after `waited`: in flight, and
    /// hung if that is past the client's `patience`.
    pub fn unanswered(&mut self, waited: Time, patience: Time) {
        self.in_flight += 1;
        self.hung += u64::from(waited > patience);
    }
}

/// One endpoint's executions that started after warmup.
#[derive(Clone, Debug, Default)]
pub struct EndpointStats {
    pub ok: u64,
    pub failed: u64,
    /// Work not done because the propagated deadline had passed.
    pub abandoned: u64,
    pub latency: Latency,
}

/// One service, over the measured window.
#[derive(Clone, Debug, Default)]
pub struct ServiceStats {
    pub rejected: u64,
    /// Dropped after waiting longer than `max_queue_time`.
    pub shed: u64,
    /// Replicas ejected by outlier detection.
    pub ejections: u64,
    /// Integral of busy workers over measured time, in worker-nanoseconds.
    pub busy_worker_ns: u128,
    /// Integral of the workers of serving replicas over measured time.
    pub available_worker_ns: u128,
    /// Measured time during which at least one replica was serving.
    pub up_ns: u128,
    /// Requests sent to a replica that was down, or with no replica in the caller's view.
    pub connection_failures: u64,
    pub last_connection_failure: Option<Time>,
    /// Requests failed at once by an `errors` failure.
    pub injected_errors: u64,
    /// (time, replicas) at the start and at every autoscaling decision.
    pub replica_timeline: Vec<(Time, u32)>,
}

/// When an injected failure was active (`target`: the replica slot of a random crash).
#[derive(Clone, Debug)]
pub struct FailureWindow {
    pub failure: u32,
    pub target: u32,
    pub start: Time,
    /// None while still active at the end of the run.
    pub end: Option<Time>,
}

/// One call site (caller -> callee endpoint), calls sent after warmup.
/// `ok`, `failed`, `rejected`, `timeouts` and `in_flight` count attempts and
/// add up to `attempts`; `latency` is of successful calls, first send to answer.
#[derive(Clone, Debug, Default)]
pub struct CallStats {
    pub attempts: u64,
    pub retries: u64,
    pub hedges: u64,
    pub ok: u64,
    pub failed: u64,
    pub rejected: u64,
    pub timeouts: u64,
    pub in_flight: u64,
    /// Refused by the caller's open circuit breaker (never sent).
    pub short_circuited: u64,
    pub breaker_opened: u64,
    /// Calls that failed at their deadline.
    pub deadline_exceeded: u64,
    /// Retries not made because the retry budget was spent.
    pub budget_exhausted: u64,
    /// Successful attempts nobody waited for (a losing hedge, past the deadline).
    pub wasted: u64,
    /// Calls not made: the calling job was already `max_call_depth` deep.
    pub depth_exceeded: u64,
    pub latency: Latency,
    /// (count, total ns) of the wait before retry n (index n − 1).
    pub retry_waits: Vec<(u64, u128)>,
    /// Breaker state changes (time, state), at most MAX_TRANSITIONS.
    pub breaker_transitions: Vec<(Time, &'static str)>,
}

/// Breaker transitions kept per call site.
pub const MAX_TRANSITIONS: usize = 10_000;

impl CallStats {
    pub fn record_wait(&mut self, retry: u16, wait: Time) {
        let i = usize::from(retry.max(1) - 1);
        if self.retry_waits.len() <= i {
            self.retry_waits.resize(i + 1, (0, 0));
        }
        self.retry_waits[i].0 += 1;
        self.retry_waits[i].1 += u128::from(wait);
    }

    pub fn record_transition(&mut self, at: Time, state: &'static str) {
        if self.breaker_transitions.len() < MAX_TRANSITIONS {
            self.breaker_transitions.push((at, state));
        }
    }
}

/// One topic: messages published after warmup, and each consumer group's fate of them.
#[derive(Clone, Debug, Default)]
pub struct TopicStats {
    pub published: u64,
    pub groups: Vec<GroupStats>,
}

#[derive(Clone, Debug, Default)]
pub struct GroupStats {
    pub handled: u64,
    pub dead_lettered: u64,
    pub lost: u64,
    /// Not settled at the end of the run (counted then, independently of the rest).
    pub in_flight: u64,
    /// Replays handled again after a consumer crash (effects applied twice).
    pub duplicates: u64,
    /// Replays an idempotent consumer recognised and skipped.
    pub duplicates_skipped: u64,
    /// Messages handled after one that came later in their partition (or queue).
    pub out_of_order: u64,
    /// Largest total lag of the group, and of one partition, in the measured time.
    pub max_lag: u64,
    pub max_partition_lag: u64,
    /// Publish to the end of a successful handling.
    pub latency: Latency,
    /// At every time of the run's series: (total lag, messages handled in the step).
    pub series: Vec<(u64, u64)>,
    /// Kafka, with at most [`PARTITION_SERIES_MAX`] partitions: each partition's
    /// lag at every time of the series, `partitions` values a time, in order.
    pub partition_lag: Vec<u64>,
    pub handled_total: u64,
    /// `handled_total` at the last sample.
    pub series_mark: u64,
    /// Event latencies of the current step, and each step's (p50, p99) in ns.
    pub step_latency: series::StepHistogram,
    pub latency_series: Vec<(u64, u64)>,
}

/// Topics with more partitions than this keep only their groups' total lag
/// over time (memory: partitions × at most 3,600 points).
pub const PARTITION_SERIES_MAX: usize = 256;

/// Everything a run collects.
#[derive(Clone, Debug, Default)]
pub struct Collector {
    pub workloads: Vec<WorkloadStats>,
    pub endpoints: Vec<EndpointStats>,
    pub services: Vec<ServiceStats>,
    pub calls: Vec<CallStats>,
    pub topics: Vec<TopicStats>,
    /// Every series over time (the groups' are in their [`GroupStats`]).
    pub series: series::Series,
    pub failure_windows: Vec<FailureWindow>,
    /// Each direction (from, to) of each link with a bandwidth.
    pub links: Vec<(usize, usize, LinkStats)>,
    /// Windows beyond the recorded maximum.
    pub failure_windows_dropped: u64,
    pub events_processed: u64,
    /// Simulated time actually run.
    pub end: Time,
    /// Set when the run stopped early, its state past the memory budget:
    /// when, and the sentence that says where the backlog grew.
    pub overload: Option<(Time, String)>,
}

/// Latency records past which they buffer (see [`Collector::buffer_if_many`]).
const BUFFER_PAST: usize = 16;

impl Collector {
    /// Folds every latency's records into its histogram (the end of a run:
    /// see [`Latency::settle`]).
    pub fn settle(&mut self) {
        self.latencies().for_each(Latency::settle);
    }

    /// Every latency record of the run: the workloads', endpoints', call
    /// sites' and consumer groups'.
    fn latencies(&mut self) -> impl Iterator<Item = &mut Latency> {
        let groups = self.topics.iter_mut().flat_map(|t| &mut t.groups);
        self.workloads
            .iter_mut()
            .map(|w| &mut w.latency)
            .chain(self.endpoints.iter_mut().map(|e| &mut e.latency))
            .chain(self.calls.iter_mut().map(|c| &mut c.latency))
            .chain(groups.map(|g| &mut g.latency))
    }

    /// With more than [`BUFFER_PAST`] latency records, each buffers its
    /// records ([`Latency::buffer_records`]): together their counts outgrow
    /// the processor's caches.
    pub fn buffer_if_many(&mut self) {
        if self.latencies().count() > BUFFER_PAST {
            self.latencies().for_each(Latency::buffer_records);
        }
    }
}
