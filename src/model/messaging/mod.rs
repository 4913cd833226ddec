//! The message broker: publishing with acks over broker nodes, Kafka
//! partitions consumed in order by consumer groups, RabbitMQ queues with
//! competing consumers, consumer retries and dead-lettering.
//!
//! A broker node is a FIFO server that appends one message at a time. A
//! publish goes to the partition's leader; with `acks: all` the leader's
//! followers append too and the message is committed once
//! `min_insync_replicas` copies exist. Committed messages are handed to every
//! group of the topic. In a Kafka group each partition belongs to one consumer
//! replica and is handled one message at a time, in order; in a RabbitMQ
//! group the queue dispatches to any replica with room under its `prefetch`.
//! A handler is a job running the consumer's steps on its replica.
//!
//! - [`log`]: publishing, broker nodes appending, follower copies and acks,
//!   commit, and broker node failures with leader elections.
//! - [`groups`](mod@groups): handing committed messages to Kafka partitions and RabbitMQ
//!   queues, handler jobs, retries, settling (handled, dead-lettered, lost).
//! - [`ack`]: RabbitMQ's acks, and the room under prefetch they give back a
//!   round trip later.
//! - [`rebalance`]: consumers going down and up, Kafka's partition assignment
//!   and rebalances, replays of uncommitted messages, in-flight counts at the end.

mod ack;
mod groups;
mod log;
mod rebalance;

use rand::RngExt;
use rand_distr::{Distribution, Zipf};

use crate::engine::{Id, Ring, Stream, Time, stream};
use crate::scenario::spec::{Broker, BrokerKind, Scenario};

/// No key: partitions are chosen round robin.
pub(super) const NO_KEY: u64 = u64::MAX;

pub(super) struct Message {
    topic: u32,
    partition: u32,
    published: Time,
    measured: bool,
    /// The producer's job waiting for the ack (acks 1 or all), and its data center.
    producer: Option<Id>,
    from_dc: u16,
    /// Follower appends acknowledged, and needed before commit.
    acked: u32,
    needed: u32,
    /// Groups that still have to settle this message (handled, dead-lettered, lost).
    open_groups: u32,
    /// Handed to the groups (committed in the log).
    committed: bool,
    /// The trace of the request that published it (NO_TRACE if none), and
    /// the job that published it (the parent of its handlings' spans).
    trace: u32,
    publisher: Id,
}

/// A handling of a message by one group (a message in flight in that group).
pub(super) struct Delivery {
    /// The message (None for a replay of one already handled, after a crash).
    message: Option<Id>,
    published: Time,
    measured: bool,
    group: u32,
    /// Position in its lane (the partition's log order, or the queue's).
    seq: u64,
    attempts: u32,
    prev_wait: Time,
    /// Kafka: its partition; RabbitMQ: the replica holding it.
    slot: u32,
    trace: u32,
    publisher: Option<Id>,
}

struct Node {
    dc: u16,
    busy: bool,
    queue: Ring<(Id, bool)>,
    /// Failures holding it down; copies it must catch up on when back; a
    /// counter that makes the append in progress at a crash stale.
    down: u16,
    held: Vec<Id>,
    epoch: u32,
}

struct Partition {
    leader: u32,
    followers: Vec<u32>,
    /// Messages appended (log end) counter, for round robin when keyless.
    log_end: u64,
    /// False while the leader is down and no new one is elected yet; the
    /// producers' messages wait (they retry) until it is.
    available: bool,
    pending: Vec<Id>,
}

/// A group's view of one partition (Kafka) or its one queue (RabbitMQ, slot 0).
struct Lane {
    /// Replica handling this partition (Kafka).
    owner: u32,
    waiting: Ring<Id>,
    busy: bool,
    /// log end − committed.
    lag: u64,
    /// Sequence numbers given out, and the last one handled (order checks).
    appended: u64,
    last_handled: Option<u64>,
    /// Kafka: handled since the last commit (seq, published, measured): replayed after a crash.
    uncommitted: Vec<(u64, Time, bool)>,
}

struct Group {
    consumer: u32,
    topic: u32,
    /// Its place among its topic's groups (`topic_groups`, the metrics' order).
    index: u32,
    lanes: Vec<Lane>,
    /// RabbitMQ: unacknowledged deliveries per consumer replica slot (indexed from the service's first).
    unacked: Vec<u32>,
    cursor: u32,
    lag: u64,
    backoff_rng: Stream,
    rebalance_pending: bool,
}

pub(super) struct MessagingState {
    nodes: Vec<Node>,
    partitions: Vec<Partition>,
    topic_first: Vec<u32>,
    groups: Vec<Group>,
    topic_groups: Vec<Vec<u32>>,
    pub messages: crate::engine::Arena<Message>,
    pub deliveries: crate::engine::Arena<Delivery>,
    append_rng: Stream,
    round_robin: Vec<u64>,
}

impl MessagingState {
    /// Bytes of the broker's messages and deliveries (arena capacities).
    pub(super) fn bytes_of_arenas(&self) -> usize {
        self.messages.bytes() + self.deliveries.bytes()
    }

    /// Bytes of the queues of nodes, partitions and consumer lanes (capacities).
    pub(super) fn bytes_of_queues(&self) -> usize {
        let lanes = self.groups.iter().flat_map(|g| &g.lanes);
        let lanes: usize = lanes
            .map(|l| l.waiting.capacity() * 8 + l.uncommitted.capacity() * 24)
            .sum();
        let nodes = self.nodes.iter();
        let nodes: usize = nodes
            .map(|n| n.queue.capacity() * 16 + n.held.capacity() * 8)
            .sum();
        let parts: usize = self
            .partitions
            .iter()
            .map(|p| p.pending.capacity() * 8)
            .sum();
        lanes + nodes + parts
    }

    /// (consumer, topic, messages waiting) of every consumer group.
    pub(super) fn waiting_per_group(&self) -> impl Iterator<Item = (u32, u32, u64)> + '_ {
        self.groups.iter().map(|g| {
            let waiting = g.lanes.iter().map(|l| l.waiting.len() as u64).sum();
            (g.consumer, g.topic, waiting)
        })
    }
}

impl Delivery {
    fn new(
        message: Option<Id>,
        published: Time,
        measured: bool,
        group: u32,
        seq: u64,
        slot: u32,
        (trace, publisher): (u32, Option<Id>),
    ) -> Delivery {
        Delivery {
            message,
            published,
            measured,
            group,
            seq,
            attempts: 0,
            prev_wait: 0,
            slot,
            trace,
            publisher,
        }
    }
}

impl MessagingState {
    /// The broker nodes placed in data center `dc`.
    pub fn nodes_in(&self, dc: u16) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&n| self.nodes[n].dc == dc)
            .collect()
    }

    pub fn new(s: &Scenario, seed: u64) -> MessagingState {
        let Some(b) = &s.broker else {
            return MessagingState {
                nodes: Vec::new(),
                partitions: Vec::new(),
                topic_first: Vec::new(),
                groups: Vec::new(),
                topic_groups: Vec::new(),
                messages: crate::engine::Arena::new(),
                deliveries: crate::engine::Arena::new(),
                append_rng: stream(seed, "broker/append"),
                round_robin: Vec::new(),
            };
        };
        let nodes = nodes(b);
        let (partitions, topic_first) = partitions(b, nodes.len() as u32);
        let (groups, topic_groups) = groups(s, b, seed);
        MessagingState {
            nodes,
            partitions,
            topic_first,
            groups,
            topic_groups,
            messages: crate::engine::Arena::new(),
            deliveries: crate::engine::Arena::new(),
            append_rng: stream(seed, "broker/append"),
            round_robin: vec![0; b.topics.len()],
        }
    }
}

/// A key from a workload's key space: uniform, or Zipf with exponent `s`.
pub(super) fn draw_key(keys: &crate::scenario::spec::Keys, rng: &mut Stream) -> u64 {
    match keys.zipf {
        Some(s) => Zipf::new(keys.count as f64, s).map_or(0, |z| z.sample(rng) as u64 - 1),
        None => rng.random_range(0..keys.count),
    }
}

/// The broker's nodes, in the order of its placement.
fn nodes(b: &Broker) -> Vec<Node> {
    b.placement
        .iter()
        .flat_map(|&(dc, n)| {
            (0..n).map(move |_| Node {
                dc: dc as u16,
                busy: false,
                queue: Ring::new(),
                down: 0,
                held: Vec::new(),
                epoch: 0,
            })
        })
        .collect()
}

/// Every topic's partitions, led round robin over the `n` nodes (the followers
/// are the next nodes), and the index of each topic's first partition.
fn partitions(b: &Broker, n: u32) -> (Vec<Partition>, Vec<u32>) {
    let (mut partitions, mut topic_first, mut k) = (Vec::new(), Vec::new(), 0u32);
    for t in &b.topics {
        topic_first.push(partitions.len() as u32);
        for _ in 0..t.partitions {
            let leader = k % n;
            let followers = (1..t.replication_factor)
                .map(|i| (leader + i) % n)
                .collect();
            partitions.push(Partition {
                leader,
                followers,
                log_end: 0,
                available: true,
                pending: Vec::new(),
            });
            k += 1;
        }
    }
    (partitions, topic_first)
}

/// A group per consumer (a lane per partition in Kafka, one queue in
/// RabbitMQ), and each topic's groups.
fn groups(s: &Scenario, b: &Broker, seed: u64) -> (Vec<Group>, Vec<Vec<u32>>) {
    let mut topic_groups = vec![Vec::new(); b.topics.len()];
    let groups = s
        .consumers
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let index = topic_groups[c.topic].len() as u32;
            topic_groups[c.topic].push(i as u32);
            let lanes = if b.kind == BrokerKind::Kafka {
                b.topics[c.topic].partitions
            } else {
                1
            };
            let svc = &s.services[c.service];
            Group {
                consumer: i as u32,
                topic: c.topic as u32,
                index,
                lanes: (0..lanes)
                    .map(|_| Lane {
                        owner: 0,
                        waiting: Ring::new(),
                        busy: false,
                        lag: 0,
                        appended: 0,
                        last_handled: None,
                        uncommitted: Vec::new(),
                    })
                    .collect(),
                unacked: vec![0; svc.max_replicas() as usize],
                cursor: 0,
                lag: 0,
                backoff_rng: stream(seed, &format!("consumer/{}/{}/backoff", svc.name, c.group)),
                rebalance_pending: false,
            }
        })
        .collect();
    (groups, topic_groups)
}
