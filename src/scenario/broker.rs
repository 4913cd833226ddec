//! Resolution of the broker block, topics, consumers and message keys. Part
//! of [`super::resolve`].

use indexmap::IndexMap;
use serde_json::Value;

use super::error::Problem;
use super::node::YamlPath;
use super::raw::{
    self, Assignment, BrokerKind, RawConsumer, RawKeys, RawScenario, RawTopic, RetryMode,
};
use super::resolve::Resolver;
use super::spec::{Acks, Broker, Consumer, Keys, Retry, Topic};
use crate::engine::Dist;
use crate::engine::time::{MILLISECOND, SECOND};

/// Limits on broker sizes.
pub const MAX_PARTITIONS: u32 = 100_000;
pub const MAX_KEYS: u64 = 100_000_000;

/// The broker and its topic names -> indices.
pub(super) fn broker(
    r: &mut Resolver,
    raw: &RawScenario,
    root: &YamlPath,
    dcs: &[String],
) -> (Option<Broker>, IndexMap<String, usize>) {
    let Some(b) = &raw.broker else {
        return (None, IndexMap::new());
    };
    let p = root.key("broker");
    let placement = super::services::placement(r, b.nodes.as_ref(), dcs, &p.key("nodes"));
    let nodes: u32 = placement.iter().map(|(_, n)| n).sum();
    let append = b
        .append
        .as_ref()
        .map_or(Some(Dist::Constant(MILLISECOND as f64)), |d| {
            r.dist(&d.0, &p.key("append"))
        });
    let leader_election = b.leader_election.as_ref().map_or(Some(5 * SECOND), |d| {
        r.duration(&d.0, &p.key("leader_election"))
    });
    let session_timeout = b.session_timeout.as_ref().map_or(Some(45 * SECOND), |d| {
        r.duration(&d.0, &p.key("session_timeout"))
    });
    let mut index = IndexMap::new();
    let mut topics = Vec::new();
    if b.topics.is_empty() {
        r.push(
            Problem::new(p.key("topics"), "the broker has no topics")
                .expected("topics: {order-placed: {partitions: 12}}"),
        );
    }
    for (name, t) in &b.topics {
        let tp = p.key("topics").key(name);
        index.insert(name.clone(), topics.len());
        topics.push(topic_spec(r, name, t, &tp, nodes, b.kind));
    }
    let broker = match (append, leader_election, session_timeout) {
        (Some(append), Some(leader_election), Some(session_timeout)) => Some(Broker {
            kind: b.kind.unwrap_or(BrokerKind::Kafka),
            placement,
            append,
            leader_election,
            session_timeout,
            topics,
        }),
        _ => None,
    };
    (broker, index)
}

/// One topic of the broker block; `nodes` is the broker's node count.
fn topic_spec(
    r: &mut Resolver,
    name: &str,
    t: &RawTopic,
    tp: &YamlPath,
    nodes: u32,
    kind: Option<BrokerKind>,
) -> Topic {
    super::resolve::check_name(r, name, "topic", tp);
    let partitions = r.bounded(t.partitions, 1, 1, MAX_PARTITIONS, &tp.key("partitions"));
    let replication_factor = r.bounded(
        t.replication_factor,
        1,
        1,
        1000,
        &tp.key("replication_factor"),
    );
    if replication_factor > nodes {
        r.push(Problem::new(tp.key("replication_factor"), format!("a replication factor of {replication_factor} needs as many broker nodes; there are {nodes}")).expected(format!("at most {nodes}")));
    }
    let min_insync_replicas = r.bounded(
        t.min_insync_replicas,
        1,
        1,
        1000,
        &tp.key("min_insync_replicas"),
    );
    if min_insync_replicas > replication_factor {
        r.push(Problem::new(tp.key("min_insync_replicas"), format!("{min_insync_replicas} in-sync replicas cannot exceed the replication factor ({replication_factor})")).expected("min_insync_replicas ≤ replication_factor"));
    }
    let acks = acks(r, t.acks.as_ref(), &tp.key("acks"));
    let message_ttl = t
        .message_ttl
        .as_ref()
        .and_then(|d| r.duration(&d.0, &tp.key("message_ttl")));
    let delivery_limit = t
        .delivery_limit
        .map(|d| r.bounded(Some(d), 1, 1, 1_000_000, &tp.key("delivery_limit")));
    if kind != Some(BrokerKind::Rabbitmq) {
        for (key, present) in [
            ("delivery_limit", t.delivery_limit.is_some()),
            ("message_ttl", t.message_ttl.is_some()),
        ] {
            if present {
                r.push(
                    Problem::new(tp.key(key), format!("'{key}' is a RabbitMQ setting"))
                        .expected("broker.kind: rabbitmq"),
                );
            }
        }
    }
    Topic {
        name: name.to_string(),
        partitions,
        replication_factor,
        min_insync_replicas,
        acks,
        delivery_limit,
        message_ttl,
    }
}

/// `acks`: 0, 1 or all (also -1); all by default.
fn acks(r: &mut Resolver, v: Option<&raw::Acks>, path: &YamlPath) -> Acks {
    match v.map(|a| &a.0) {
        None => Acks::All,
        Some(Value::Number(n)) if n.as_u64() == Some(0) => Acks::Zero,
        Some(Value::Number(n)) if n.as_u64() == Some(1) => Acks::One,
        Some(Value::String(s)) if s == "all" || s == "-1" => Acks::All,
        Some(other) => {
            r.push(
                Problem::new(
                    path.clone(),
                    format!("{} is not an acks setting", super::units::shown(other)),
                )
                .expected("0, 1 or all"),
            );
            Acks::All
        }
    }
}

/// A topic by name, with did-you-mean; an error without a broker.
pub(super) fn topic(
    r: &mut Resolver,
    topics: &IndexMap<String, usize>,
    name: &str,
    path: &YamlPath,
    has_broker: bool,
) -> Option<usize> {
    if !has_broker {
        r.push(
            Problem::new(path.clone(), format!("topic '{name}' needs a broker")).expected(
                "a broker block with the topic: broker: {topics: {NAME: {partitions: 3}}}",
            ),
        );
        return None;
    }
    let found = topics.get(name).copied();
    if found.is_none() {
        r.push(
            Problem::new(path.clone(), format!("unknown topic '{name}'"))
                .expected(format!(
                    "one of the topics: {}",
                    topics.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
                .suggest(name, topics.keys().map(String::as_str)),
        );
    }
    found
}

/// A consumer's settings (its handler endpoint is made by the caller).
#[allow(clippy::too_many_arguments)]
pub(super) fn consumer(
    r: &mut Resolver,
    c: &RawConsumer,
    p: &YamlPath,
    service: usize,
    topic: usize,
    endpoint: usize,
    retry: Option<Retry>,
    kind: BrokerKind,
) -> Consumer {
    super::resolve::check_name(r, &c.group, "consumer group", &p.key("group"));
    if kind == BrokerKind::Kafka && c.prefetch.is_some() {
        r.push(
            Problem::new(p.key("prefetch"), "'prefetch' is a RabbitMQ setting")
                .expected("max_poll_records with kafka"),
        );
    }
    if kind == BrokerKind::Rabbitmq && (c.max_poll_records.is_some() || c.assignment.is_some()) {
        r.push(
            Problem::new(
                p.clone(),
                "'max_poll_records' and 'assignment' are Kafka settings",
            )
            .expected("prefetch with rabbitmq"),
        );
    }
    Consumer {
        service,
        topic,
        group: c.group.clone(),
        endpoint,
        retry,
        retry_mode: c.retry_mode.unwrap_or(RetryMode::Blocking),
        dead_letter: c.dead_letter.unwrap_or(false),
        idempotent: c.idempotent.unwrap_or(false),
        prefetch: r.bounded(c.prefetch, 10, 1, 100_000, &p.key("prefetch")),
        max_poll_records: r.bounded(
            c.max_poll_records,
            500,
            1,
            100_000,
            &p.key("max_poll_records"),
        ),
        assignment: c.assignment.unwrap_or(Assignment::Range),
    }
}

pub(super) fn keys(r: &mut Resolver, k: Option<&RawKeys>, p: &YamlPath) -> Option<Keys> {
    let k = k?;
    if k.count == 0 || k.count > MAX_KEYS {
        r.push(
            Problem::new(p.key("count"), format!("{} keys is out of range", k.count))
                .expected(format!("1 to {MAX_KEYS}")),
        );
        return None;
    }
    if let Some(z) = k.zipf
        && !(z.is_finite() && z > 0.0 && z <= 10.0)
    {
        r.push(
            Problem::new(p.key("zipf"), format!("{z} is not a Zipf exponent"))
                .expected("a number above 0, like 1.1"),
        );
        return None;
    }
    Some(Keys {
        count: k.count,
        zipf: k.zipf,
    })
}
