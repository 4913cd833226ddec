//! The broker blocks of the scenario file (broker, topics, consumers, message
//! keys), re-exported by [`super::raw`].

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

use super::raw::{Acks, Distribution, Duration, RawRetry, RawStep, Replicas};
use super::resolve::limits;
use super::schema::{Name, NameMap};

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
