//! The validated scenario: names turned into indices, units into engine units.
//!
//! Everything the model needs and nothing it must check again. Built only by
//! [`super::resolve`]; every index is in range, and every call cycle passes a
//! branch (it ends with probability 1; `max_call_depth` bounds it).

use crate::engine::{Dist, Time};

pub use super::raw::{LoadBalancer, Locality, Threading};

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub seed: u64,
    /// Measured simulated time (after warmup).
    pub duration: Time,
    pub warmup: Time,
    pub slo: Slo,
    pub datacenters: Vec<String>,
    /// One network hop inside a data center; `None` means hops take no time.
    pub within_dc: Option<Dist>,
    /// Links between distinct data centers, `links[a * n + b]` (symmetric).
    pub links: Vec<Option<Link>>,
    pub discovery: Option<Discovery>,
    pub failures: Vec<Failure>,
    pub broker: Option<Broker>,
    pub consumers: Vec<Consumer>,
    /// Services, the gateway (if any) last.
    pub services: Vec<Service>,
    pub endpoints: Vec<Endpoint>,
    /// Distinct (caller, callee endpoint) pairs, for per-call metrics.
    pub call_sites: Vec<CallSite>,
    /// One per call step (and gateway route), indexed by `CallSpec::policy`.
    pub policies: Vec<CallPolicy>,
    pub workloads: Vec<Workload>,
    /// Index of the gateway in `services`.
    pub gateway: Option<usize>,
    /// Every distribution of message sizes, indexed by [`Sizes`] and `Step::Publish::size`.
    pub sizes: Vec<MessageSize>,
    /// What is valid but likely not meant, or costly (printed, never fatal).
    pub warnings: Vec<super::Problem>,
    /// A job at this call depth makes no call: its call step fails at once.
    pub max_call_depth: u32,
    /// `Step::Branch` steps in all (their `id`s are 0..branches).
    pub branches: usize,
}

impl Scenario {
    /// The end of the run: warmup plus measured duration.
    pub fn end(&self) -> Time {
        self.warmup + self.duration
    }

    /// Replicas provisioned at the start, every service counted, the gateway
    /// too: the one cost figure of `check`, `sweep`, `plan` and `compare`.
    pub fn replicas(&self) -> u32 {
        self.services.iter().map(|s| s.replicas()).sum()
    }

    /// How long a client of workload `w` waits before a request unanswered at
    /// the end of the run counts as unavailable: its `timeout`, or with none,
    /// ten times the sync p99 target. A younger request was cut off by the end
    /// of the run, not failed, and is left out of availability.
    pub fn patience(&self, w: usize) -> Time {
        self.workloads[w]
            .timeout
            .unwrap_or(self.slo.sync_p99.saturating_mul(10))
    }
}

#[derive(Clone, Debug)]
pub struct Slo {
    pub sync_p99: Time,
    pub event_p99: Time,
    pub availability: f64,
}

#[derive(Clone, Debug)]
pub struct Service {
    pub name: String,
    /// Replicas per data center (index into `datacenters`), in placement order.
    pub placement: Vec<(usize, u32)>,
    pub concurrency: u32,
    /// CPU of each replica in thousandths of a core (`cores:`); None: a core per worker.
    pub millicores: Option<u32>,
    pub queue: u32,
    pub threading: Threading,
    pub load_balancer: LoadBalancer,
    pub locality: Locality,
    pub autoscale: Option<Autoscale>,
    pub outlier: Option<Outlier>,
    pub max_queue_time: Option<Time>,
    /// A worker's time after each job's answer before it takes the next (`handoff:`).
    pub handoff: Option<Dist>,
    pub endpoints: Vec<usize>,
}

impl Service {
    /// Replicas at the start of the run.
    pub fn replicas(&self) -> u32 {
        self.placement.iter().map(|(_, n)| n).sum()
    }

    /// The thousandths of a core a replica's runnable work shares, when they
    /// are fewer than its workers (processor sharing); None when every
    /// worker can have a core, and work runs at full speed as without `cores`.
    pub fn shared_cores(&self) -> Option<u32> {
        self.millicores
            .filter(|&m| u64::from(m) < u64::from(self.concurrency) * crate::engine::ps::MILLI)
    }

    /// Replica slots the run may use: the start count, or the autoscaler's maximum.
    pub fn max_replicas(&self) -> u32 {
        self.autoscale
            .as_ref()
            .map_or(0, |a| a.max_replicas)
            .max(self.replicas())
    }
}

#[derive(Clone, Debug)]
pub struct Endpoint {
    pub service: usize,
    pub name: String,
    pub steps: Vec<Step>,
}

#[derive(Clone, Debug)]
pub enum Step {
    /// A worker is busy for a sampled time.
    Work(Dist),
    /// Calls sent at once; the step ends when all have answered, and fails if any failed.
    Calls(Vec<CallSpec>),
    /// A message published to a topic (index into `broker.topics`), of a size
    /// drawn from `sizes[size]` (none: it takes no time on a link).
    Publish { topic: usize, size: Option<u32> },
    /// A random jump: one entry of a `branch` (or a step with a `probability`).
    Branch(Box<Branch>),
    /// Continues at step `to` (the end of a branch entry).
    Goto { to: u32 },
}

/// A `branch` flattened into the endpoint's steps: the entry's steps follow
/// it, each ending with a `Goto` past the last.
#[derive(Clone, Debug)]
pub struct Branch {
    /// Index of its random stream, `0..Scenario::branches`.
    pub id: usize,
    /// The stream's name after `service/<svc>/endpoint/<ep>/branch/`: the step's
    /// position, e.g. `2` or `2.1.0` (step 2, entry 1, its step 0).
    pub at: String,
    /// Cumulative probabilities of the entries, non-decreasing, the last ≤ 1.
    pub cumulative: Vec<f64>,
    /// The first step of each entry, then the step after the branch (no entry).
    pub targets: Vec<u32>,
}

impl Branch {
    /// The step a uniform draw `u` in [0, 1) leads to.
    pub fn target(&self, u: f64) -> u32 {
        self.targets[self.cumulative.partition_point(|&c| c <= u)]
    }
}

#[derive(Clone, Debug)]
pub struct CallSpec {
    /// Index into `call_sites`.
    pub site: usize,
    /// Callee endpoint.
    pub target: usize,
    /// Index into `policies`.
    pub policy: usize,
    /// Parallel copies, each to a replica chosen by the site's load balancer.
    pub fanout: u32,
    pub sizes: Sizes,
}

/// The sizes of a call's request and of its successful answer: indices into
/// `Scenario::sizes` (none: the message takes no time on a link).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    pub request: Option<u32>,
    pub response: Option<u32>,
}

/// Most distributions of message sizes a scenario may hold (the model keeps
/// an index in 16 bits).
pub const MAX_SIZES: usize = 65_000;

/// A distribution of message sizes in bytes, and the name of its stream.
#[derive(Clone, Debug)]
pub struct MessageSize {
    pub dist: Dist,
    pub stream: String,
}

#[derive(Clone, Debug)]
pub struct CallSite {
    pub caller: usize,
    pub target: usize,
    /// `caller->service.endpoint`, the key in summary.json.
    pub key: String,
    /// How the caller picks a replica of the callee: the callee's policy, or the gateway's.
    pub load_balancer: LoadBalancer,
}

#[derive(Clone, Debug)]
pub struct Workload {
    pub name: String,
    /// The endpoint the clients send to: the gateway's route when there is a gateway.
    pub entry: usize,
    /// The endpoint the workload targets.
    pub target: usize,
    pub load: Load,
    pub from: usize,
    pub timeout: Option<Time>,
    pub keys: Option<Keys>,
    pub sizes: Sizes,
}

/// Where a workload's requests come from: an arrival process (open loop), or
/// a population of users who each wait for their answer and think (closed loop).
#[derive(Clone, Debug)]
pub enum Load {
    Open(Arrival),
    Closed(Closed),
}

/// A closed loop: `users` users, each sending a request, waiting for its end,
/// thinking for a draw of `think`, and sending again.
#[derive(Clone, Debug)]
pub struct Closed {
    pub users: u32,
    pub think: Dist,
    pub ramp: Option<UsersRamp>,
}

/// The user count moves from `users` to `to`, one user at a time at equal
/// steps over [start, start + over].
#[derive(Clone, Copy, Debug)]
pub struct UsersRamp {
    pub to: u32,
    pub start: Time,
    pub over: Time,
}

/// An open-loop arrival process: gaps are exponential (Poisson) or equal, at a
/// rate that may change with time, or given send times (`replay`, whose
/// profile is their mean rate).
#[derive(Clone, Debug)]
pub struct Arrival {
    pub poisson: bool,
    pub profile: RateProfile,
    /// Send times, non-decreasing; when set, the process is these and nothing else.
    pub replay: Option<std::sync::Arc<[Time]>>,
}

/// Requests per second as a function of simulated time.
#[derive(Clone, Debug)]
pub enum RateProfile {
    Fixed(f64),
    Ramp {
        from: f64,
        to: f64,
        start: Time,
        over: Time,
    },
    Bursty {
        base: f64,
        burst: f64,
        on: Time,
        off: Time,
    },
    /// (from time, rate), sorted; before the first entry, the first rate field.
    Schedule {
        initial: f64,
        phases: Vec<(Time, f64)>,
    },
}

impl RateProfile {
    /// The rate at time `t`.
    pub fn rate_at(&self, t: Time) -> f64 {
        match self {
            RateProfile::Fixed(r) => *r,
            RateProfile::Ramp {
                from,
                to,
                start,
                over,
            } => {
                if t <= *start {
                    *from
                } else if t >= start + over || *over == 0 {
                    *to
                } else {
                    from + (to - from) * ((t - start) as f64 / *over as f64)
                }
            }
            RateProfile::Bursty {
                base,
                burst,
                on,
                off,
            } => {
                if (t % (on + off)) < *on {
                    *burst
                } else {
                    *base
                }
            }
            RateProfile::Schedule { initial, phases } => {
                let i = phases.partition_point(|(at, _)| *at <= t);
                if i == 0 { *initial } else { phases[i - 1].1 }
            }
        }
    }

    /// An upper bound of the rate over all time (for thinning).
    pub fn max_rate(&self) -> f64 {
        match self {
            RateProfile::Fixed(r) => *r,
            RateProfile::Ramp { from, to, .. } => from.max(*to),
            RateProfile::Bursty { base, burst, .. } => base.max(*burst),
            RateProfile::Schedule { initial, phases } => {
                phases.iter().map(|(_, r)| *r).fold(*initial, f64::max)
            }
        }
    }
}

/// A link between two data centers.
#[derive(Clone, Debug)]
pub struct Link {
    pub latency: Dist,
    /// Probability that a call over the link gets no answer.
    pub loss: f64,
    /// Bytes per second each direction carries (None: messages take no time to send).
    pub bandwidth: Option<f64>,
}

#[derive(Clone, Debug)]
pub struct Discovery {
    pub refresh_interval: Time,
    pub health_check_interval: Time,
    pub failures_before_critical: u32,
}

/// Kubernetes HPA parameters.
#[derive(Clone, Debug)]
pub struct Autoscale {
    pub min_replicas: u32,
    pub max_replicas: u32,
    pub target_utilization: f64,
    pub sync_period: Time,
    pub scale_down_stabilization: Time,
    pub startup: Time,
}

/// An injected failure and when it happens.
#[derive(Clone, Debug)]
pub struct Failure {
    pub kind: FailureKind,
    pub when: When,
    /// How reports name it: "crash inventory", "partition us-east/eu-west".
    pub label: String,
}

#[derive(Clone, Debug)]
pub enum When {
    Window {
        at: Time,
        duration: Time,
    },
    /// Comes and goes at random: up for a draw of `mtbf`, down for a draw of
    /// `mttr`, again and again (a duration in the file is an exponential's mean).
    /// A crash does this on each target replica independently; every other
    /// kind is one process for its whole target.
    Random {
        mtbf: Dist,
        mttr: Dist,
    },
}

#[derive(Clone, Debug)]
pub enum FailureKind {
    /// `replicas: None` = all replicas of the service.
    Crash {
        service: usize,
        replicas: Option<u32>,
    },
    Slow {
        service: usize,
        factor: f64,
    },
    Errors {
        service: usize,
        rate: f64,
    },
    Latency {
        a: usize,
        b: usize,
        extra: Time,
    },
    Partition {
        a: usize,
        b: usize,
    },
    DatacenterDown {
        dc: usize,
    },
    /// A broker node is down (its index among the broker's nodes).
    BrokerNode {
        node: usize,
    },
}

/// How a call step calls: timeouts, retries, breaker, hedging, deadline propagation.
#[derive(Clone, Debug, Default)]
pub struct CallPolicy {
    /// Each attempt's timeout.
    pub timeout: Option<Time>,
    /// The whole call's deadline, attempts and waits included.
    pub deadline: Option<Time>,
    pub retry: Option<Retry>,
    pub breaker: Option<Breaker>,
    pub hedge: Option<Hedge>,
    pub propagate_deadline: bool,
}

pub use super::raw::Jitter;

/// Resilience4j Retry with Envoy's retry_on and budget.
#[derive(Clone, Debug)]
pub struct Retry {
    pub max_attempts: u32,
    pub wait: Time,
    pub multiplier: f64,
    pub max_wait: Time,
    pub jitter: Jitter,
    pub on_timeout: bool,
    pub on_connect_failure: bool,
    pub on_server_error: bool,
    pub on_rejected: bool,
    /// Retries in progress ≤ max(3, budget × active attempts).
    pub budget: Option<f64>,
}

/// Resilience4j CircuitBreaker.
#[derive(Clone, Debug)]
pub struct Breaker {
    pub window: BreakerWindow,
    pub minimum_calls: u32,
    pub failure_threshold: f64,
    pub slow_threshold: f64,
    pub slow_duration: Time,
    pub wait_open: Time,
    pub half_open_calls: u32,
}

#[derive(Clone, Copy, Debug)]
pub enum BreakerWindow {
    /// The last N calls.
    Count(u32),
    /// The calls of the last N seconds.
    Time(u32),
}

#[derive(Clone, Debug)]
pub struct Hedge {
    pub after: Time,
    pub max: u32,
}

/// Envoy outlier detection.
#[derive(Clone, Debug)]
pub struct Outlier {
    pub consecutive: u32,
    pub base_ejection: Time,
    pub max_percent: f64,
}

pub use super::raw::{Assignment, BrokerKind, RetryMode};

/// The message broker.
#[derive(Clone, Debug)]
pub struct Broker {
    pub kind: BrokerKind,
    /// Nodes per data center, in placement order.
    pub placement: Vec<(usize, u32)>,
    pub append: Dist,
    pub leader_election: Time,
    pub session_timeout: Time,
    pub topics: Vec<Topic>,
}

impl Broker {
    pub fn nodes(&self) -> u32 {
        self.placement.iter().map(|(_, n)| n).sum()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acks {
    Zero,
    One,
    All,
}

#[derive(Clone, Debug)]
pub struct Topic {
    pub name: String,
    pub partitions: u32,
    pub replication_factor: u32,
    pub min_insync_replicas: u32,
    pub acks: Acks,
    pub delivery_limit: Option<u32>,
    pub message_ttl: Option<Time>,
}

/// A service's consumer of a topic, in a group.
#[derive(Clone, Debug)]
pub struct Consumer {
    pub service: usize,
    pub topic: usize,
    pub group: String,
    /// The handler: an endpoint of the service holding the consumer's steps.
    pub endpoint: usize,
    pub retry: Option<Retry>,
    pub retry_mode: RetryMode,
    pub dead_letter: bool,
    pub idempotent: bool,
    pub prefetch: u32,
    pub max_poll_records: u32,
    pub assignment: Assignment,
}

/// Message keys of a workload's requests.
#[derive(Clone, Debug)]
pub struct Keys {
    pub count: u64,
    /// Zipf exponent; None = uniform.
    pub zipf: Option<f64>,
}
