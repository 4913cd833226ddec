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

use std::collections::VecDeque;

use rand::RngExt;
use rand_distr::{Distribution, Zipf};

use super::calls::backoff;
use super::trace::{NO_TRACE, Span, SpanKind, SpanRef};
use super::world::{Event, Parent, SlotState, World};
use crate::engine::{Id, Stream, Time, stream};
use crate::scenario::spec::{Acks, Assignment, BrokerKind, RetryMode, Scenario};

/// A producer's (or a follower's) wait before sending again over a partitioned link.
const RESEND: Time = 100 * crate::engine::time::MILLISECOND;

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
    queue: VecDeque<(Id, bool)>,
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
    waiting: VecDeque<Id>,
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
        let nodes: Vec<Node> = b
            .placement
            .iter()
            .flat_map(|&(dc, n)| {
                (0..n).map(move |_| Node {
                    dc: dc as u16,
                    busy: false,
                    queue: VecDeque::new(),
                    down: 0,
                    held: Vec::new(),
                    epoch: 0,
                })
            })
            .collect();
        let n = nodes.len() as u32;
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
        let mut topic_groups = vec![Vec::new(); b.topics.len()];
        let groups = s
            .consumers
            .iter()
            .enumerate()
            .map(|(i, c)| {
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
                    lanes: (0..lanes)
                        .map(|_| Lane {
                            owner: 0,
                            waiting: VecDeque::new(),
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
                    backoff_rng: stream(
                        seed,
                        &format!("consumer/{}/{}/backoff", svc.name, c.group),
                    ),
                    rebalance_pending: false,
                }
            })
            .collect();
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

impl World<'_> {
    /// Assigns partitions to the consumer replicas serving at the start (Kafka range or round robin).
    pub(super) fn assign_partitions(&mut self) {
        let s = self.s;
        let Some(b) = &s.broker else { return };
        if b.kind != BrokerKind::Kafka {
            return;
        }
        for g in 0..self.messaging.groups.len() {
            let c = &s.consumers[self.messaging.groups[g].consumer as usize];
            let owners: Vec<u32> = self.services[c.service]
                .replicas()
                .filter(|&r| self.replicas[r as usize].state == SlotState::Active)
                .collect();
            let parts = self.messaging.groups[g].lanes.len();
            let n = owners.len().max(1);
            for p in 0..parts {
                let i = match c.assignment {
                    // Kafka's range: contiguous blocks, the first (parts mod n) one larger.
                    Assignment::Range => {
                        let (base, extra) = (parts / n, parts % n);
                        let big = extra * (base + 1);
                        if p < big {
                            p / (base + 1)
                        } else {
                            extra + (p - big) / base.max(1)
                        }
                    }
                    Assignment::RoundRobin => p % n,
                };
                self.messaging.groups[g].lanes[p].owner =
                    owners.get(i.min(n - 1)).copied().unwrap_or(0);
            }
        }
    }

    /// A job's publish step: the message goes to the partition's leader; the job
    /// waits for the ack unless acks is 0.
    pub(super) fn publish(
        &mut self,
        job: Id,
        topic: usize,
        key: u64,
        from_dc: u16,
        measured: bool,
        trace: u32,
    ) -> bool {
        let s = self.s;
        let b = s.broker.as_ref().expect("publish needs a broker");
        let t = &b.topics[topic];
        let partition = if key == NO_KEY {
            let k = self.messaging.round_robin[topic];
            self.messaging.round_robin[topic] += 1;
            k % u64::from(t.partitions)
        } else {
            crate::engine::rng::stable_hash(key, "partition") % u64::from(t.partitions)
        } as u32;
        let waits = t.acks != Acks::Zero;
        let groups = self.messaging.topic_groups[topic].len() as u32;
        let needed = if t.acks == Acks::All {
            t.min_insync_replicas - 1
        } else {
            0
        };
        let msg = self.messaging.messages.insert(Message {
            topic: topic as u32,
            partition,
            published: self.now(),
            measured,
            producer: waits.then_some(job),
            from_dc,
            acked: 0,
            needed,
            open_groups: groups,
            committed: false,
            trace,
            publisher: job,
        });
        if measured {
            self.m.topics[topic].published += 1;
        }
        let global = self.messaging.topic_first[topic] + partition;
        let part = &mut self.messaging.partitions[global as usize];
        if !part.available {
            part.pending.push(msg);
            return waits;
        }
        let leader = part.leader;
        self.send_to_node(from_dc, leader, msg, false);
        waits
    }

    /// A message (or a copy) crosses the network to a node; a partitioned link
    /// holds it, and the sender tries again after `RESEND`.
    fn send_to_node(&mut self, from_dc: u16, node: u32, msg: Id, follower: bool) {
        let to = self.messaging.nodes[node as usize].dc;
        match self.net.answer_hop(from_dc, to) {
            Some(d) => self.q.schedule_in(
                d,
                Event::NodeArrive {
                    node,
                    message: msg,
                    follower,
                },
            ),
            None => self.q.schedule_in(
                RESEND,
                Event::Resend {
                    from_dc,
                    node,
                    message: msg,
                    follower,
                },
            ),
        }
    }

    /// The sender tries again; a producer's message goes to the partition's current leader.
    pub(super) fn on_resend(&mut self, from_dc: u16, node: u32, msg: Id, follower: bool) {
        let Some(m) = self.messaging.messages.get(msg) else {
            return;
        };
        if follower {
            self.send_to_node(from_dc, node, msg, true);
            return;
        }
        let global = (self.messaging.topic_first[m.topic as usize] + m.partition) as usize;
        let part = &mut self.messaging.partitions[global];
        if part.available {
            let leader = part.leader;
            self.send_to_node(from_dc, leader, msg, false);
        } else {
            part.pending.push(msg);
        }
    }

    /// An acknowledgement crosses the network (a partitioned link delays it):
    /// to the producer's job (`producer`), or from a follower to the leader.
    fn send_ack(&mut self, from_dc: u16, to_dc: u16, id: Id, producer: bool) {
        let event = if producer {
            Event::PublishAcked { job: id }
        } else {
            Event::FollowerAcked { message: id }
        };
        match self.net.answer_hop(from_dc, to_dc) {
            Some(d) => self.q.schedule_in(d, event),
            None => self.q.schedule_in(
                RESEND,
                Event::AckRetry {
                    from_dc,
                    to_dc,
                    id,
                    producer,
                },
            ),
        }
    }

    pub(super) fn on_ack_retry(&mut self, from_dc: u16, to_dc: u16, id: Id, producer: bool) {
        self.send_ack(from_dc, to_dc, id, producer);
    }

    pub(super) fn on_node_arrive(&mut self, node: u32, msg: Id, follower: bool) {
        let n = &mut self.messaging.nodes[node as usize];
        if n.down > 0 {
            if follower {
                n.held.push(msg);
            } else {
                self.leader_lost(node, msg);
            }
            return;
        }
        n.queue.push_back((msg, follower));
        if !n.busy {
            self.start_append(node);
        }
    }

    fn start_append(&mut self, node: u32) {
        let append = &self.s.broker.as_ref().expect("broker").append;
        let d = append.sample(&mut self.messaging.append_rng);
        let n = &mut self.messaging.nodes[node as usize];
        n.busy = true;
        let epoch = n.epoch;
        self.q.schedule_in(d, Event::NodeDone { node, epoch });
    }

    /// A node finished its oldest append.
    pub(super) fn on_node_done(&mut self, node: u32, epoch: u32) {
        if self.messaging.nodes[node as usize].epoch != epoch {
            return;
        }
        let (msg, follower) = self.messaging.nodes[node as usize]
            .queue
            .pop_front()
            .expect("an append in progress");
        if self.messaging.nodes[node as usize].queue.is_empty() {
            self.messaging.nodes[node as usize].busy = false;
        } else {
            self.start_append(node);
        }
        let Some(m) = self.messaging.messages.get(msg) else {
            return;
        };
        let global = (self.messaging.topic_first[m.topic as usize] + m.partition) as usize;
        let node_dc = self.messaging.nodes[node as usize].dc;
        if follower {
            let leader = self.messaging.partitions[global].leader;
            let leader_dc = self.messaging.nodes[leader as usize].dc;
            self.send_ack(node_dc, leader_dc, msg, false);
            return;
        }
        self.messaging.partitions[global].log_end += 1;
        if m.needed == 0 {
            self.commit(msg);
        }
        for f in self.messaging.partitions[global].followers.clone() {
            self.send_to_node(node_dc, f, msg, true);
        }
    }

    pub(super) fn on_follower_acked(&mut self, msg: Id) {
        let Some(m) = self.messaging.messages.get_mut(msg) else {
            return;
        };
        m.acked += 1;
        if m.acked == m.needed {
            self.commit(msg);
        }
    }

    /// The message is safe: the producer gets its ack, every group gets the message.
    fn commit(&mut self, msg: Id) {
        let m = self.messaging.messages.get_mut(msg).expect("live message");
        m.committed = true;
        let (topic, partition) = (m.topic as usize, m.partition as usize);
        if let Some(job) = m.producer.take() {
            // The ack travels back from the leader to the producer; its job goes on.
            let to_dc = m.from_dc;
            let global = (self.messaging.topic_first[topic] + partition as u32) as usize;
            let leader_dc =
                self.messaging.nodes[self.messaging.partitions[global].leader as usize].dc;
            self.send_ack(leader_dc, to_dc, job, true);
        }
        let m = self.messaging.messages.get(msg).expect("live message");
        let (m_published, m_measured, m_trace, m_publisher) =
            (m.published, m.measured, m.trace, m.publisher);
        if m.open_groups == 0 {
            self.messaging.messages.remove(msg);
            return;
        }
        for g in self.messaging.topic_groups[topic].clone() {
            let lane = if self.messaging.groups[g as usize].lanes.len() == 1 {
                0
            } else {
                partition
            };
            let seq = self.messaging.groups[g as usize].lanes[lane].appended;
            self.messaging.groups[g as usize].lanes[lane].appended += 1;
            let (published, measured) = (m_published, m_measured);
            let delivery = self.messaging.deliveries.insert(Delivery::new(
                Some(msg),
                published,
                measured,
                g,
                seq,
                lane as u32,
                (m_trace, Some(m_publisher)),
            ));
            let group = &mut self.messaging.groups[g as usize];
            group.lanes[lane].waiting.push_back(delivery);
            group.lanes[lane].lag += 1;
            group.lag += 1;
            let (lag, plag) = (group.lag, group.lanes[lane].lag);
            if self.now() >= self.warmup {
                let gi = self.group_index(g);
                let st = &mut self.m.topics[topic].groups[gi];
                st.max_lag = st.max_lag.max(lag);
                st.max_partition_lag = st.max_partition_lag.max(plag);
            }
            self.dispatch(g, lane);
        }
    }

    /// The position of group `g` among its topic's groups (for metrics).
    fn group_index(&self, g: u32) -> usize {
        let topic = self.messaging.groups[g as usize].topic as usize;
        self.messaging.topic_groups[topic]
            .iter()
            .position(|&x| x == g)
            .expect("a group of the topic")
    }

    /// Starts handlings while the lane (Kafka partition) or queue (RabbitMQ) allows.
    fn dispatch(&mut self, g: u32, lane: usize) {
        let kafka = self
            .s
            .broker
            .as_ref()
            .is_some_and(|b| b.kind == BrokerKind::Kafka);
        loop {
            let group = &mut self.messaging.groups[g as usize];
            let consumer = &self.s.consumers[group.consumer as usize];
            let Some(&delivery) = group.lanes[lane].waiting.front() else {
                return;
            };
            let replica = if kafka {
                // A partition waits while its owner is down, until the rebalance.
                let owner = &self.replicas[group.lanes[lane].owner as usize];
                if group.lanes[lane].busy || !owner.serving() || owner.state != SlotState::Active {
                    return;
                }
                if consumer.idempotent
                    && self
                        .messaging
                        .deliveries
                        .get(delivery)
                        .is_some_and(|d| d.message.is_none())
                {
                    // A replay the consumer recognises: skipped, not handled again.
                    group.lanes[lane].waiting.pop_front();
                    self.settle(delivery, Settled::Skipped);
                    continue;
                }
                group.lanes[lane].owner
            } else {
                // Competing consumers: the next replica (round robin) with room under its prefetch.
                let first = self.services[consumer.service].first_replica;
                let n = group.unacked.len() as u32;
                let free = (0..n).map(|k| (group.cursor + k) % n).find(|&k| {
                    let replica = &self.replicas[(first + k) as usize];
                    group.unacked[k as usize] < consumer.prefetch
                        && replica.serving()
                        && replica.state == SlotState::Active
                });
                let Some(k) = free else { return };
                group.cursor = (k + 1) % n;
                group.unacked[k as usize] += 1;
                first + k
            };
            if self.expired(delivery) {
                if !kafka {
                    let first = self.services[consumer.service].first_replica;
                    self.messaging.groups[g as usize].unacked[(replica - first) as usize] -= 1;
                }
                self.messaging.groups[g as usize].lanes[lane]
                    .waiting
                    .pop_front();
                let how = if consumer.dead_letter {
                    Settled::DeadLettered
                } else {
                    Settled::Lost
                };
                self.settle(delivery, how);
                continue;
            }
            let group = &mut self.messaging.groups[g as usize];
            group.lanes[lane].waiting.pop_front();
            group.lanes[lane].busy = true;
            let endpoint = consumer.endpoint as u32;
            let d = self
                .messaging
                .deliveries
                .get_mut(delivery)
                .expect("live delivery");
            d.attempts += 1;
            if !kafka {
                d.slot = replica;
            }
            self.start_handler(replica, endpoint, delivery);
            if kafka {
                return;
            }
        }
    }

    /// RabbitMQ's `message_ttl`: a message that waited too long is not handed out.
    fn expired(&self, delivery: Id) -> bool {
        let Some(d) = self.messaging.deliveries.get(delivery) else {
            return false;
        };
        let topic = self.messaging.groups[d.group as usize].topic as usize;
        let ttl = self
            .s
            .broker
            .as_ref()
            .and_then(|b| b.topics[topic].message_ttl);
        ttl.is_some_and(|t| self.now().saturating_sub(d.published) > t)
    }

    /// A handler job on the consumer's replica (it waits for a worker past the queue bound).
    fn start_handler(&mut self, r: u32, endpoint: u32, delivery: Id) {
        let svc = self.replicas[r as usize].service as usize;
        let (measured, trace) = self
            .messaging
            .deliveries
            .get(delivery)
            .map_or((false, NO_TRACE), |d| (d.measured, d.trace));
        if self.inject_error(svc) {
            // An injected error fails the handling at once (as an event: we are inside dispatch).
            if measured {
                self.m.services[svc].injected_errors += 1;
            }
            self.q.schedule_in(0, Event::HandlerFailed { delivery });
            return;
        }
        self.admit(
            r,
            endpoint,
            Parent::Delivery(delivery),
            measured,
            super::calls::NEVER,
            NO_KEY,
            trace,
        );
    }

    /// A handler finished: the message is handled, retried, dead-lettered or lost.
    pub(super) fn on_handled(&mut self, delivery: Id, ok: bool) {
        let s = self.s;
        let Some(d) = self.messaging.deliveries.get(delivery) else {
            return;
        };
        let (g, lane_or_replica, attempts) = (d.group, d.slot, d.attempts);
        let consumer = &s.consumers[self.messaging.groups[g as usize].consumer as usize];
        let kafka = s
            .broker
            .as_ref()
            .is_some_and(|b| b.kind == BrokerKind::Kafka);
        let lane = if kafka { lane_or_replica as usize } else { 0 };
        if !kafka {
            let first = self.services[consumer.service].first_replica;
            self.messaging.groups[g as usize].unacked[(lane_or_replica - first) as usize] -= 1;
        }
        let topic = &s.broker.as_ref().expect("broker").topics[consumer.topic];
        let within_limit = topic.delivery_limit.is_none_or(|limit| attempts < limit);
        if !ok
            && within_limit
            && let Some(r) = consumer
                .retry
                .as_ref()
                .filter(|r| attempts < r.max_attempts)
        {
            let prev = d.prev_wait;
            let wait = backoff(
                r,
                attempts as u16,
                prev,
                &mut self.messaging.groups[g as usize].backoff_rng,
            );
            self.messaging
                .deliveries
                .get_mut(delivery)
                .expect("live delivery")
                .prev_wait = wait;
            if kafka && consumer.retry_mode == RetryMode::Blocking {
                // The partition waits for the retry: order is kept.
                self.q.schedule_in(
                    wait,
                    Event::Redeliver {
                        delivery,
                        front: true,
                    },
                );
            } else {
                self.messaging.groups[g as usize].lanes[lane].busy = false;
                self.q.schedule_in(
                    wait,
                    Event::Redeliver {
                        delivery,
                        front: false,
                    },
                );
                self.dispatch(g, lane);
            }
            return;
        }
        self.settle(
            delivery,
            if ok {
                Settled::Handled
            } else if consumer.dead_letter {
                Settled::DeadLettered
            } else {
                Settled::Lost
            },
        );
        // Offsets are committed when a whole poll of max_poll_records is handled.
        let l = &mut self.messaging.groups[g as usize].lanes[lane];
        if l.uncommitted.len() >= consumer.max_poll_records as usize {
            l.uncommitted.clear();
        }
        self.messaging.groups[g as usize].lanes[lane].busy = false;
        self.dispatch(g, lane);
    }

    /// A retry's wait is over: to the front of its partition (blocking) or the back of its lane.
    pub(super) fn on_redeliver(&mut self, delivery: Id, front: bool) {
        let Some(d) = self.messaging.deliveries.get(delivery) else {
            return;
        };
        let (g, lane) = (d.group, d.slot as usize);
        let kafka = self
            .s
            .broker
            .as_ref()
            .is_some_and(|b| b.kind == BrokerKind::Kafka);
        let lane = if kafka { lane } else { 0 };
        let group = &mut self.messaging.groups[g as usize];
        if front {
            group.lanes[lane].busy = false;
            group.lanes[lane].waiting.push_front(delivery);
        } else {
            group.lanes[lane].waiting.push_back(delivery);
        }
        self.dispatch(g, lane);
    }

    fn settle(&mut self, delivery: Id, how: Settled) {
        let d = self
            .messaging
            .deliveries
            .remove(delivery)
            .expect("live delivery");
        let (g, lane) = (d.group as usize, d.slot as usize);
        let kafka = self
            .s
            .broker
            .as_ref()
            .is_some_and(|b| b.kind == BrokerKind::Kafka);
        let group = &mut self.messaging.groups[g];
        let lane = if kafka { lane } else { 0 };
        group.lanes[lane].lag -= 1;
        group.lag -= 1;
        let handled = matches!(how, Settled::Handled);
        let replay = d.message.is_none();
        if handled && kafka && !replay {
            group.lanes[lane]
                .uncommitted
                .push((d.seq, d.published, d.measured));
        }
        let out_of_order = handled
            && !replay
            && group.lanes[lane]
                .last_handled
                .is_some_and(|last| d.seq < last);
        if handled && !replay {
            let last = group.lanes[lane].last_handled.get_or_insert(d.seq);
            *last = (*last).max(d.seq);
        }
        let gi = self.group_index(d.group);
        let topic = self.messaging.groups[g].topic as usize;
        let (measured, published) = (d.measured, d.published);
        if d.trace != NO_TRACE && !replay {
            let now = self.now();
            self.tracer.push(d.trace, |trace| Span {
                trace,
                start: published,
                end: now,
                kind: SpanKind::Message {
                    topic: topic as u32,
                    group: d.group,
                },
                outcome: None,
                ok: handled,
                of: SpanRef::delivery(delivery),
                parent: d.publisher.map_or(SpanRef::NONE, SpanRef::job),
            });
        }
        if let Some(msg) = d.message {
            let m = self.messaging.messages.get_mut(msg).expect("live message");
            m.open_groups -= 1;
            if m.open_groups == 0 && m.producer.is_none() {
                self.messaging.messages.remove(msg);
            }
        }
        if measured {
            let now = self.now();
            let st = &mut self.m.topics[topic].groups[gi];
            match how {
                // A replay of a message already handled: its effects happen twice.
                Settled::Handled if replay => st.duplicates += 1,
                Settled::Skipped => st.duplicates_skipped += 1,
                _ if replay => {}
                Settled::Handled => {
                    st.handled += 1;
                    st.handled_total += 1;
                    st.out_of_order += u64::from(out_of_order);
                    st.latency.record(now - published);
                    st.step_latency.record(now - published);
                }
                Settled::DeadLettered => st.dead_lettered += 1,
                Settled::Lost => st.lost += 1,
            }
        }
    }
}

impl World<'_> {
    /// Takes a sample of each group's lag and of the messages it handled since the last.
    pub(super) fn sample_groups(&mut self) {
        let kafka = self.s.broker.as_ref().map(|b| b.kind) == Some(BrokerKind::Kafka);
        for (g, group) in self.messaging.groups.iter().enumerate() {
            let topic = group.topic as usize;
            let gi = self.messaging.topic_groups[topic]
                .iter()
                .position(|&x| x == g as u32)
                .expect("a group of its topic");
            let st = &mut self.m.topics[topic].groups[gi];
            st.series
                .push((group.lag, st.handled_total - st.series_mark));
            if kafka && group.lanes.len() <= crate::metrics::PARTITION_SERIES_MAX {
                st.partition_lag.extend(group.lanes.iter().map(|l| l.lag));
            }
            st.series_mark = st.handled_total;
            let p = (
                st.step_latency.quantile(0.5),
                st.step_latency.quantile(0.99),
            );
            st.latency_series.push(p);
            st.step_latency.clear();
        }
    }

    /// A message reached a leader that is down: the producer retries with the
    /// partition's current leader, or waits for the election if there is none yet.
    fn leader_lost(&mut self, _node: u32, msg: Id) {
        let Some(m) = self.messaging.messages.get(msg) else {
            return;
        };
        let global = (self.messaging.topic_first[m.topic as usize] + m.partition) as usize;
        let part = &mut self.messaging.partitions[global];
        if part.available && self.messaging.nodes[part.leader as usize].down == 0 {
            let leader = part.leader;
            self.q.schedule_in(
                0,
                Event::NodeArrive {
                    node: leader,
                    message: msg,
                    follower: false,
                },
            );
        } else {
            part.available = false;
            part.pending.push(msg);
        }
    }

    /// `broker_node` failures: a node goes down (its appends in progress are lost
    /// and redone elsewhere) or comes back (it catches up on what it missed).
    pub(super) fn set_broker_node(&mut self, node: usize, down: bool) {
        let n = &mut self.messaging.nodes[node];
        if down {
            n.down += 1;
            if n.down > 1 {
                return;
            }
            n.epoch += 1;
            n.busy = false;
            let lost: Vec<(Id, bool)> = n.queue.drain(..).collect();
            for (msg, follower) in lost {
                if follower {
                    self.messaging.nodes[node].held.push(msg);
                } else {
                    self.leader_lost(node as u32, msg);
                }
            }
            let election = self.s.broker.as_ref().expect("broker").leader_election;
            for p in 0..self.messaging.partitions.len() {
                if self.messaging.partitions[p].leader == node as u32 {
                    self.messaging.partitions[p].available = false;
                    self.q.schedule_in(
                        election,
                        Event::LeaderElection {
                            partition: p as u32,
                        },
                    );
                }
            }
        } else {
            n.down -= 1;
            if n.down > 0 {
                return;
            }
            for msg in std::mem::take(&mut self.messaging.nodes[node].held) {
                self.on_node_arrive(node as u32, msg, true);
            }
            for p in 0..self.messaging.partitions.len() {
                if self.messaging.partitions[p].leader == node as u32
                    && !self.messaging.partitions[p].available
                {
                    self.make_available(p);
                }
            }
        }
    }

    /// `leader_election` after its leader failed: the first live follower leads.
    pub(super) fn on_leader_election(&mut self, p: u32) {
        let p = p as usize;
        let part = &self.messaging.partitions[p];
        if part.available {
            return;
        }
        let Some(i) = part
            .followers
            .iter()
            .position(|&f| self.messaging.nodes[f as usize].down == 0)
        else {
            // No replica in sync is alive: the partition waits for its leader to return.
            return;
        };
        let part = &mut self.messaging.partitions[p];
        let new = part.followers.remove(i);
        let old = std::mem::replace(&mut part.leader, new);
        part.followers.push(old);
        self.make_available(p);
    }

    fn make_available(&mut self, p: usize) {
        let part = &mut self.messaging.partitions[p];
        part.available = true;
        let leader = part.leader;
        for msg in std::mem::take(&mut part.pending) {
            // The producer retries against the new leader.
            self.q.schedule_in(
                0,
                Event::NodeArrive {
                    node: leader,
                    message: msg,
                    follower: false,
                },
            );
        }
    }

    /// A consumer replica left its groups: crashed (`graceful` false: Kafka
    /// notices after `session_timeout`, and what it handled since its last
    /// commit will be delivered again) or scaled down (it commits and leaves:
    /// the group rebalances at once).
    pub(super) fn consumer_down(&mut self, r: u32, graceful: bool) {
        let Some(b) = &self.s.broker else { return };
        if b.kind != BrokerKind::Kafka {
            return;
        }
        let delay = if graceful { 0 } else { b.session_timeout };
        let svc = self.replicas[r as usize].service as usize;
        for g in 0..self.messaging.groups.len() {
            if self.s.consumers[self.messaging.groups[g].consumer as usize].service != svc {
                continue;
            }
            for lane in 0..self.messaging.groups[g].lanes.len() {
                if self.messaging.groups[g].lanes[lane].owner != r {
                    continue;
                }
                let replays = std::mem::take(&mut self.messaging.groups[g].lanes[lane].uncommitted);
                if !graceful {
                    self.replay(g as u32, lane, &replays);
                }
            }
            self.request_rebalance(g as u32, delay);
        }
    }

    /// A consumer replica serves again (restarted, or a new one started):
    /// its lanes resume, and orphaned partitions are rebalanced to it.
    pub(super) fn consumer_up(&mut self, r: u32) {
        let Some(b) = &self.s.broker else { return };
        let kafka = b.kind == BrokerKind::Kafka;
        let svc = self.replicas[r as usize].service as usize;
        for g in 0..self.messaging.groups.len() {
            if self.s.consumers[self.messaging.groups[g].consumer as usize].service != svc {
                continue;
            }
            if kafka {
                if (0..self.messaging.groups[g].lanes.len()).any(|l| !self.owner_serves(g, l)) {
                    self.request_rebalance(g as u32, 0);
                }
                for lane in 0..self.messaging.groups[g].lanes.len() {
                    if self.messaging.groups[g].lanes[lane].owner == r {
                        self.dispatch(g as u32, lane);
                    }
                }
            } else {
                self.dispatch(g as u32, 0);
            }
        }
    }

    fn owner_serves(&self, g: usize, lane: usize) -> bool {
        let owner = &self.replicas[self.messaging.groups[g].lanes[lane].owner as usize];
        owner.serving() && owner.state == SlotState::Active
    }

    fn request_rebalance(&mut self, g: u32, delay: Time) {
        let group = &mut self.messaging.groups[g as usize];
        if !group.rebalance_pending {
            group.rebalance_pending = true;
            self.q.schedule_in(delay, Event::Rebalance { group: g });
        }
    }

    /// Messages handled but not committed go back to the head of their lane:
    /// the committed offset is behind them, so they count in the lag again.
    fn replay(&mut self, g: u32, lane: usize, replays: &[(u64, Time, bool)]) {
        let group = &mut self.messaging.groups[g as usize];
        group.lanes[lane].lag += replays.len() as u64;
        group.lag += replays.len() as u64;
        for &(seq, published, measured) in replays.iter().rev() {
            let d = self.messaging.deliveries.insert(Delivery::new(
                None,
                published,
                measured,
                g,
                seq,
                lane as u32,
                (NO_TRACE, None),
            ));
            self.messaging.groups[g as usize].lanes[lane]
                .waiting
                .push_front(d);
        }
    }

    /// A handler died with its replica: the message goes back to the head of its lane.
    pub(super) fn handler_killed(&mut self, delivery: Id) {
        let Some(d) = self.messaging.deliveries.get(delivery) else {
            return;
        };
        let (g, slot) = (d.group as usize, d.slot);
        let kafka = self
            .s
            .broker
            .as_ref()
            .is_some_and(|b| b.kind == BrokerKind::Kafka);
        let group = &mut self.messaging.groups[g];
        let lane = if kafka { slot as usize } else { 0 };
        if !kafka {
            // RabbitMQ requeues a dead connection's unacknowledged messages at once.
            let first =
                self.services[self.s.consumers[group.consumer as usize].service].first_replica;
            group.unacked[(slot - first) as usize] -= 1;
        }
        group.lanes[lane].busy = false;
        group.lanes[lane].waiting.push_front(delivery);
        self.dispatch(g as u32, lane);
    }

    /// The group's partitions owned by dead replicas go to live ones; what they
    /// had handled since the last commit is delivered again (at-least-once).
    pub(super) fn on_rebalance(&mut self, g: u32) {
        self.messaging.groups[g as usize].rebalance_pending = false;
        let consumer = &self.s.consumers[self.messaging.groups[g as usize].consumer as usize];
        let live: Vec<u32> = self.services[consumer.service]
            .replicas()
            .filter(|&r| {
                self.replicas[r as usize].serving()
                    && self.replicas[r as usize].state == SlotState::Active
            })
            .collect();
        if live.is_empty() {
            // Nobody to take the partitions: the next replica that serves triggers a rebalance.
            return;
        }
        let lanes = self.messaging.groups[g as usize].lanes.len();
        let orphaned: Vec<usize> = (0..lanes)
            .filter(|&l| !self.owner_serves(g as usize, l))
            .collect();
        for (i, lane) in orphaned.into_iter().enumerate() {
            self.messaging.groups[g as usize].lanes[lane].owner = live[i % live.len()];
            self.dispatch(g, lane);
        }
    }
}

impl World<'_> {
    /// At the end of the run: per topic and group, the measured messages not
    /// settled yet (still in the broker, or waiting or being handled in the group).
    pub(super) fn count_messages_in_flight(&mut self) {
        let ms = &self.messaging;
        for m in ms.messages.iter().filter(|m| m.measured && !m.committed) {
            for g in self.m.topics[m.topic as usize].groups.iter_mut() {
                g.in_flight += 1;
            }
        }
        for d in ms
            .deliveries
            .iter()
            .filter(|d| d.measured && d.message.is_some())
        {
            let topic = ms.groups[d.group as usize].topic as usize;
            let gi = ms.topic_groups[topic]
                .iter()
                .position(|&x| x == d.group)
                .expect("a group of the topic");
            self.m.topics[topic].groups[gi].in_flight += 1;
        }
    }
}

enum Settled {
    Handled,
    /// An idempotent consumer recognised a replayed duplicate.
    Skipped,
    DeadLettered,
    Lost,
}
