//! The scenario file exactly as written: one struct per YAML block.
//!
//! Field names are the YAML keys. Unknown keys are errors. Values with units
//! (durations, rates, fractions, distributions) are kept as written and checked
//! in [`super::resolve`], which knows their YAML path and can say what is wrong.
//! Every key of the format is simulated; an unknown key is an error.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::resolve::limits;
use super::schema::{self, EndpointRef, Name, NameMap, PositiveDuration};

/// A value kept as written, checked in resolution; its JSON Schema is in [`super::schema`].
macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Value);
    };
}

text_value!(
    /// A duration with a unit: 250us, 5ms, 1.5s, 2m, 1h.
    Duration
);
text_value!(
    /// A rate: 10000/s, 600/m.
    Rate
);
text_value!(
    /// A fraction: 99.9% or 0.999.
    Fraction
);
text_value!(
    /// A distribution of durations: `5ms` or `{exponential: {mean: 5ms}}` and its siblings.
    Distribution
);
text_value!(
    /// A count, or a count per data center.
    Replicas
);
text_value!(
    /// `acks`: 0, 1 or all.
    Acks
);

/// The whole scenario file.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(title = "meshsim scenario")]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    /// Names the run and the default output folder `reports/<name>/`.
    pub name: String,
    pub description: Option<String>,
    /// Seed of every random stream (default 1); `--seed` overrides it.
    pub seed: Option<u64>,
    /// Measured simulated time.
    #[schemars(with = "PositiveDuration")]
    pub duration: Duration,
    /// Simulated first and excluded from all metrics (default 0s).
    pub warmup: Option<Duration>,
    pub slo: Option<RawSlo>,
    /// Data center names; default is one, named dc1.
    #[schemars(length(min = 1), extend("uniqueItems" = true))]
    pub datacenters: Option<Vec<String>>,
    pub network: Option<RawNetwork>,
    pub gateway: Option<RawGateway>,
    pub defaults: Option<RawDefaults>,
    #[schemars(with = "NameMap<RawService>", extend("minProperties" = 1, "maxProperties" = limits::SERVICES))]
    pub services: IndexMap<String, RawService>,
    pub broker: Option<RawBroker>,
    pub discovery: Option<RawDiscovery>,
    #[schemars(length(min = 1, max = limits::WORKLOADS))]
    pub workload: Vec<RawWorkload>,
    #[schemars(length(max = 10_000))]
    pub failures: Option<Vec<RawFailure>>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSlo {
    /// p99 of synchronous request latency (default 200ms).
    pub sync_p99: Option<Duration>,
    /// p99 of event latency (default 1s).
    pub event_p99: Option<Duration>,
    /// Successful requests / requests sent (default 99.9%).
    pub availability: Option<Fraction>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    /// One hop inside a data center (a distribution).
    pub within_dc: Option<Distribution>,
    /// Latency and loss between two data centers.
    pub links: Option<Vec<RawLink>>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum LoadBalancer {
    RoundRobin,
    Random,
    /// Power of two choices: the less busy of two random replicas.
    LeastRequest,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Threading {
    /// A worker is held while the request waits on its calls.
    Blocking,
    /// A worker is needed only for `work` steps.
    Async,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGateway {
    pub replicas: Option<Replicas>,
    /// How the gateway spreads requests over its replicas and the target's replicas.
    pub load_balancer: Option<LoadBalancer>,
    /// Time the gateway spends on each request (a distribution).
    pub overhead: Option<Distribution>,
    /// Requests in progress per gateway replica (default 1024).
    #[schemars(range(min = 1, max = limits::CONCURRENCY))]
    pub concurrency: Option<u32>,
    /// Waiting requests per gateway replica (default 1000).
    #[schemars(range(max = limits::QUEUE))]
    pub queue: Option<u32>,
    /// The gateway's deadline for the upstream call (504 after it).
    pub timeout: Option<Duration>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    pub call: Option<RawCallPolicy>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCallPolicy {
    /// Each attempt's timeout.
    pub timeout: Option<Duration>,
    /// The whole call's deadline, all attempts and waits included (Envoy's route timeout).
    pub deadline: Option<Duration>,
    pub retry: Option<RawRetry>,
    pub circuit_breaker: Option<RawBreaker>,
    /// The callee gets the caller's remaining time and abandons work past it.
    pub propagate_deadline: Option<bool>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    /// Default 1.
    pub replicas: Option<Replicas>,
    /// Workers per replica (default 1).
    #[schemars(range(min = 1, max = limits::CONCURRENCY))]
    pub concurrency: Option<u32>,
    /// Waiting requests per replica (default 1000); full means rejected at once.
    #[schemars(range(max = limits::QUEUE))]
    pub queue: Option<u32>,
    /// Default blocking.
    pub threading: Option<Threading>,
    /// How callers pick one of this service's replicas (default round_robin).
    pub load_balancer: Option<LoadBalancer>,
    #[schemars(with = "Option<NameMap<RawEndpoint>>")]
    pub endpoints: Option<IndexMap<String, RawEndpoint>>,
    pub autoscale: Option<RawAutoscale>,
    /// Envoy outlier detection: callers eject a replica after consecutive failures.
    pub outlier_detection: Option<RawOutlier>,
    /// Topics this service consumes, each in a consumer group.
    pub consumes: Option<Vec<RawConsumer>>,
    /// Whether callers prefer replicas in their own data center (default prefer_local).
    pub locality: Option<Locality>,
    /// A request that waited longer than this for a worker is dropped (load shedding).
    pub max_queue_time: Option<Duration>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEndpoint {
    #[schemars(length(max = limits::STEPS))]
    pub steps: Vec<RawStep>,
}

/// One step: exactly one of `work`, `call`, `parallel`, `publish`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(transform = schema::step_kinds)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    /// Time a worker spends (a distribution).
    pub work: Option<Distribution>,
    /// `service.endpoint` to call synchronously.
    #[schemars(with = "Option<EndpointRef>")]
    pub call: Option<String>,
    /// Calls made at once; the step ends when all have answered.
    pub parallel: Option<Vec<RawStep>>,
    /// Publish a message to this topic.
    pub publish: Option<String>,
    /// Each attempt's timeout (default: `defaults.call.timeout`, else none).
    pub timeout: Option<Duration>,
    /// The whole call's deadline, retries included (default: `defaults.call.deadline`).
    pub deadline: Option<Duration>,
    /// Parallel copies of the call, each to a replica (default 1).
    #[schemars(range(min = 1, max = limits::FANOUT))]
    pub fanout: Option<u32>,
    /// Send a backup copy if no answer by `after` (up to `max` copies).
    pub hedge: Option<RawHedge>,
    pub retry: Option<RawRetry>,
    pub circuit_breaker: Option<RawBreaker>,
    pub propagate_deadline: Option<bool>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ArrivalKind {
    /// Exponential gaps at `rate`.
    Poisson,
    /// Equal gaps at `rate`.
    Constant,
    /// Poisson, alternating `rate` and `bursty.rate`.
    Bursty,
    /// Poisson, rate moving linearly from `rate` to `ramp.to`.
    Ramp,
    /// Poisson, rate set by the `schedule` list.
    Schedule,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(transform = schema::arrival_blocks)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    #[schemars(with = "Name")]
    pub name: String,
    /// `service.endpoint` the clients call.
    #[schemars(with = "EndpointRef")]
    pub target: String,
    /// Requests per unit of time.
    pub rate: Rate,
    /// Default poisson.
    pub arrival: Option<ArrivalKind>,
    /// Data center of the clients (default: the first).
    pub from: Option<String>,
    /// The client gives up after this (counted as timed_out); default: never.
    pub timeout: Option<Duration>,
    /// Message keys of the requests, for partitioning and hot spots.
    pub keys: Option<RawKeys>,
    pub ramp: Option<RawRamp>,
    pub bursty: Option<RawBursty>,
    pub schedule: Option<Vec<RawPhase>>,
}

/// Rate moves linearly from the workload's `rate` to `to` between `start` and `start + over`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRamp {
    pub to: Rate,
    pub over: Duration,
    /// Default 0s (simulated time, warmup included).
    pub start: Option<Duration>,
}

/// Cycles of `on` at `rate` (the burst), then `off` at the workload's `rate`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBursty {
    pub rate: Rate,
    pub on: Duration,
    pub off: Duration,
}

/// From `at` (simulated time, warmup included) on, requests arrive at `rate`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPhase {
    pub at: Duration,
    pub rate: Rate,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLink {
    /// The two data centers.
    #[schemars(length(equal = 2), extend("uniqueItems" = true))]
    pub between: Vec<String>,
    /// One hop's delay over the link (a distribution).
    pub latency: Distribution,
    /// Probability that a call over the link gets no answer (the caller times out).
    pub loss: Option<Fraction>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Locality {
    /// Replicas in the caller's data center when any is in the caller's view, else any.
    PreferLocal,
    /// Any replica in the view.
    Any,
}

/// How stale the callers' view of healthy replicas is (Eureka/Consul style).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDiscovery {
    /// Callers refresh their view this often (default 30s).
    #[schemars(with = "Option<PositiveDuration>")]
    pub refresh_interval: Option<Duration>,
    /// The registry checks every replica this often (default 10s).
    #[schemars(with = "Option<PositiveDuration>")]
    pub health_check_interval: Option<Duration>,
    /// Failed checks in a row before a replica is marked critical (default 3).
    #[schemars(range(min = 1, max = 1000))]
    pub failures_before_critical: Option<u32>,
}

/// Kubernetes HPA: desired = ceil(current × utilisation / target).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAutoscale {
    #[schemars(range(min = 1, max = limits::REPLICAS))]
    pub min_replicas: u32,
    #[schemars(range(min = 1, max = limits::REPLICAS))]
    pub max_replicas: u32,
    pub target_utilization: Fraction,
    /// Default 15s.
    #[schemars(with = "Option<PositiveDuration>")]
    pub sync_period: Option<Duration>,
    /// Default 5m.
    pub scale_down_stabilization: Option<Duration>,
    /// A new replica serves only after this (default 0s).
    pub startup: Option<Duration>,
}

/// One injected failure: a window (`at`, `for`) or random (`random`, `mtbf`, `mttr`),
/// and exactly one kind.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[schemars(transform = schema::failure_kinds)]
#[serde(deny_unknown_fields)]
pub struct RawFailure {
    pub at: Option<Duration>,
    #[serde(rename = "for")]
    #[schemars(with = "Option<PositiveDuration>")]
    pub for_: Option<Duration>,
    /// Crash each replica of this service (or `gateway`) at random, independently.
    pub random: Option<String>,
    /// Mean time between failures (exponential).
    #[schemars(with = "Option<PositiveDuration>")]
    pub mtbf: Option<Duration>,
    /// Mean time to repair (exponential).
    #[schemars(with = "Option<PositiveDuration>")]
    pub mttr: Option<Duration>,
    /// Crash replicas of this service (or `gateway`): in-flight work is lost.
    pub crash: Option<String>,
    /// How many replicas to crash (default all).
    #[schemars(range(min = 1))]
    pub replicas: Option<u32>,
    /// Multiply this service's work times by `factor`.
    pub slow: Option<String>,
    #[schemars(extend("exclusiveMinimum" = 0))]
    pub factor: Option<f64>,
    /// Fail a share `rate` of this service's requests at once.
    pub errors: Option<String>,
    pub rate: Option<Fraction>,
    /// Add `extra` to every hop over the link between these two data centers.
    #[schemars(length(equal = 2))]
    pub latency: Option<Vec<String>>,
    pub extra: Option<Duration>,
    /// Drop every message between these two data centers.
    #[schemars(length(equal = 2), extend("uniqueItems" = true))]
    pub partition: Option<Vec<String>>,
    /// Everything placed in this data center is down and unreachable.
    pub datacenter_down: Option<String>,
    /// A broker node (0-based) is down: its partitions wait for a new leader.
    pub broker_node: Option<u32>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    None,
    /// uniform(0, wait)
    Full,
    /// wait/2 + uniform(0, wait/2)
    Equal,
    /// min(max_wait, uniform(wait_duration, 3 × previous wait))
    Decorrelated,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RetryOn {
    Timeout,
    ConnectFailure,
    #[serde(rename = "5xx")]
    ServerError,
    Rejected,
}

/// Resilience4j Retry, with Envoy's retry_on and retry budget.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    /// Attempts in all, the first included (default 3).
    #[schemars(range(min = 1, max = 100))]
    pub max_attempts: Option<u32>,
    /// Wait before the first retry (default 500ms).
    pub wait_duration: Option<Duration>,
    /// Each further wait is the previous × this (default 1: fixed waits).
    #[schemars(range(min = 1, max = 100))]
    pub backoff_multiplier: Option<f64>,
    /// Cap on a wait (default: none).
    pub max_wait_duration: Option<Duration>,
    /// Default none.
    pub jitter: Option<Jitter>,
    /// What is retried (default: all four).
    pub retry_on: Option<Vec<RetryOn>>,
    /// Retries in progress at most this share of active requests (at least 3), as Envoy.
    pub budget: Option<Fraction>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WindowType {
    CountBased,
    TimeBased,
}

/// Resilience4j CircuitBreaker (defaults are Resilience4j's).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    pub sliding_window_type: Option<WindowType>,
    /// Calls (count_based, default 100) or seconds (time_based).
    #[schemars(range(min = 1, max = 1_000_000))]
    pub sliding_window_size: Option<u32>,
    /// Default 100.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub minimum_number_of_calls: Option<u32>,
    /// Default 50%.
    pub failure_rate_threshold: Option<Fraction>,
    /// Default 100%.
    pub slow_call_rate_threshold: Option<Fraction>,
    /// Default 60s.
    pub slow_call_duration_threshold: Option<Duration>,
    /// Default 60s.
    pub wait_duration_in_open_state: Option<Duration>,
    /// Default 10.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub permitted_number_of_calls_in_half_open_state: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHedge {
    pub after: Duration,
    /// Backup copies at most (default 1).
    #[schemars(range(min = 1, max = 10))]
    pub max: Option<u32>,
}

/// Envoy outlier detection for this service's replicas.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOutlier {
    /// Default 5.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub consecutive_5xx: Option<u32>,
    /// Default 30s; the n-th ejection of a replica lasts n × this.
    pub base_ejection_time: Option<Duration>,
    /// Default 10%.
    pub max_ejection_percent: Option<Fraction>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum BrokerKind {
    /// Partitioned log, per-partition order, consumer groups.
    Kafka,
    /// One queue per (topic, group), competing consumers, prefetch.
    Rabbitmq,
}

/// The message broker.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBroker {
    /// Default kafka.
    pub kind: Option<BrokerKind>,
    /// Broker nodes: a count (in the first data center) or a count per data center (default 1).
    pub nodes: Option<Replicas>,
    /// Time for a node to append a message (a distribution; default 1ms).
    pub append: Option<Distribution>,
    /// Kafka: partitions of a failed node are unavailable this long (default 5s).
    pub leader_election: Option<Duration>,
    /// Kafka: a dead consumer is noticed after this, then a rebalance (default 45s).
    pub session_timeout: Option<Duration>,
    #[schemars(with = "NameMap<RawTopic>", extend("minProperties" = 1))]
    pub topics: IndexMap<String, RawTopic>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTopic {
    /// Default 1.
    #[schemars(range(min = 1, max = super::broker::MAX_PARTITIONS))]
    pub partitions: Option<u32>,
    /// Default 1.
    #[schemars(range(min = 1, max = 1000))]
    pub replication_factor: Option<u32>,
    /// Default 1.
    #[schemars(range(min = 1, max = 1000))]
    pub min_insync_replicas: Option<u32>,
    /// Default all.
    pub acks: Option<Acks>,
    /// RabbitMQ: deliveries before the message goes to the dead-letter queue.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub delivery_limit: Option<u32>,
    /// RabbitMQ: a message older than this is dead-lettered (or dropped).
    pub message_ttl: Option<Duration>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RetryMode {
    /// Kafka: the partition waits while the message is retried (order kept).
    Blocking,
    /// The message moves aside to be retried; the partition goes on (order not kept).
    RetryTopic,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Assignment {
    Range,
    RoundRobin,
}

/// A consumer: this service handles the topic's messages as part of a group.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConsumer {
    pub topic: String,
    #[schemars(with = "Name")]
    pub group: String,
    /// The handler, in the same step language as an endpoint.
    #[schemars(length(max = limits::STEPS))]
    pub steps: Vec<RawStep>,
    /// Retries of a failed handling (Resilience4j keys; default: none).
    pub retry: Option<RawRetry>,
    /// Default blocking.
    pub retry_mode: Option<RetryMode>,
    /// Exhausted messages go to `<topic>.dlq` instead of being lost.
    pub dead_letter: Option<bool>,
    /// Redelivered duplicates are recognised and skipped.
    pub idempotent: Option<bool>,
    /// RabbitMQ: unacknowledged messages per consumer (default 10).
    #[schemars(range(min = 1, max = 100_000))]
    pub prefetch: Option<u32>,
    /// Kafka: records per poll; offsets are committed per poll (default 500).
    #[schemars(range(min = 1, max = 100_000))]
    pub max_poll_records: Option<u32>,
    /// Kafka partition assignment (default range).
    pub assignment: Option<Assignment>,
}

/// Message keys: `count` distinct keys, uniform or Zipf-distributed.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawKeys {
    #[schemars(range(min = 1, max = super::broker::MAX_KEYS))]
    pub count: u64,
    /// Zipf exponent (default: uniform).
    #[schemars(range(max = 10), extend("exclusiveMinimum" = 0))]
    pub zipf: Option<f64>,
}
