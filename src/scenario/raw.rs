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
use super::schema::{self, EndpointRef, Name, NameMap, PositiveDuration, RandomDuration};

pub use super::raw_broker::{
    Assignment, BrokerKind, RawBroker, RawConsumer, RawKeys, RawTopic, RetryMode,
};
pub use super::raw_policy::{
    Jitter, RawBreaker, RawCallPolicy, RawHedge, RawOutlier, RawRetry, RetryOn, WindowType,
};

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
    /// A distribution of sizes: `2KB` or `{exponential: {mean: 2KB}}` and its siblings.
    SizeDistribution
);
text_value!(
    /// A message's size: a distribution of sizes (the request's), or
    /// `{request, response}` (each a distribution of sizes, either optional).
    CallSize
);
text_value!(
    /// A link's bandwidth: 100Mbit/s, 1Gbit/s, 10MB/s.
    Bandwidth
);
text_value!(
    /// A count, or a count per data center.
    Replicas
);
text_value!(
    /// A whole number of users (a closed workload).
    Users
);
text_value!(
    /// `acks`: 0, 1 or all.
    Acks
);
text_value!(
    /// CPU cores: 2, 0.5 or 500m (thousandths of a core).
    Cores
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
    /// Calls deeper than this in one request fail at once (default 64).
    #[schemars(range(min = 1, max = limits::CALL_DEPTH))]
    pub max_call_depth: Option<u32>,
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
pub struct RawService {
    /// Default 1.
    pub replicas: Option<Replicas>,
    /// Workers per replica (default 1).
    #[schemars(range(min = 1, max = limits::CONCURRENCY))]
    pub concurrency: Option<u32>,
    /// CPU cores per replica, shared by its runnable work (default: a core per worker).
    pub cores: Option<Cores>,
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
    /// Time a worker stays busy after each answer is sent, before it takes the
    /// next request (writing the answer, reading the next): a distribution.
    pub handoff: Option<Distribution>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEndpoint {
    #[schemars(length(max = limits::STEPS))]
    pub steps: Vec<RawStep>,
}

/// One step: exactly one of `work`, `call`, `parallel`, `publish`, `branch`.
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
    /// One of these step lists, drawn at random (the rest of 100%: none).
    #[schemars(length(min = 1, max = limits::STEPS))]
    pub branch: Option<Vec<RawBranchEntry>>,
    /// The step runs with this probability, else it is skipped (default 1).
    pub probability: Option<Fraction>,
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
    /// A call's request (and response) size, or a publish's message size.
    pub size: Option<CallSize>,
}

/// One entry of a `branch`: taken with `probability`, it runs `steps` in place.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBranchEntry {
    pub probability: Fraction,
    #[schemars(length(min = 1, max = limits::STEPS))]
    pub steps: Vec<RawStep>,
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
    /// The send times of the `replay` list, as given (no `rate`).
    Replay,
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
    /// Requests per unit of time: an open workload (exactly one of `rate` and `users`).
    pub rate: Option<Rate>,
    /// A closed workload: this many users, each sending a request, waiting for
    /// its answer (or `timeout`), thinking for a draw of `think`, sending again.
    pub users: Option<Users>,
    /// A closed workload's think time, from an answer to the user's next request.
    pub think: Option<Distribution>,
    /// Default poisson.
    pub arrival: Option<ArrivalKind>,
    /// Data center of the clients (default: the first).
    pub from: Option<String>,
    /// The client gives up after this (counted as timed_out); default: never.
    pub timeout: Option<Duration>,
    /// Message keys of the requests, for partitioning and hot spots.
    pub keys: Option<RawKeys>,
    /// Sizes of the requests and of their answers.
    pub size: Option<CallSize>,
    pub ramp: Option<RawRamp>,
    pub bursty: Option<RawBursty>,
    pub schedule: Option<Vec<RawPhase>>,
    /// Send times from the start of the simulation (warmup included), in order,
    /// e.g. a load generator's recorded schedule.
    #[schemars(length(min = 1, max = limits::REPLAY))]
    pub replay: Option<Vec<Duration>>,
}

/// Rate moves linearly from the workload's `rate` to `to` between `start` and
/// `start + over`; in a closed workload, users from `users` to `to`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRamp {
    /// A rate (open workload) or a number of users (closed workload).
    #[schemars(with = "schema::RampTo")]
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
    /// Each direction serialises one message at a time at this rate (default: instantly).
    pub bandwidth: Option<Bandwidth>,
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

/// One injected failure: exactly one kind, in a window (`at`, `for`) or at
/// random (`mtbf`, `mttr`); `random: SERVICE` is the shorthand of a random crash.
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
    /// Time between failures (from a repair to the next failure): a duration is
    /// the mean of an exponential; or a distribution, like `{constant: 10m}`.
    #[schemars(with = "Option<RandomDuration>")]
    pub mtbf: Option<Distribution>,
    /// Time to repair (how long each failure lasts): a duration is the mean of
    /// an exponential; or a distribution, like `{lognormal: {median: 20s, p99: 3m}}`.
    #[schemars(with = "Option<RandomDuration>")]
    pub mttr: Option<Distribution>,
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
