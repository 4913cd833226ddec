//! The log: a publish goes to its partition's leader, nodes append one
//! message at a time, followers copy, acks travel back, and a message is
//! committed (handed to the groups) once enough copies exist. A failed node
//! loses its appends in progress; its partitions wait for a leader election.

use super::{Delivery, Message, NO_KEY};
use crate::engine::{Id, Time, raise};
use crate::model::event::Event;
use crate::model::world::World;
use crate::scenario::spec::Acks;

/// A producer's (or a follower's) wait before sending again over a partitioned link.
pub(super) const RESEND: Time = 100 * crate::engine::time::MILLISECOND;

impl World<'_> {
    /// A job's publish step: the message goes to the partition's leader; the job
    /// waits for the ack unless acks is 0.
    #[allow(clippy::too_many_arguments)]
    pub(in crate::model) fn publish(
        &mut self,
        job: Id,
        topic: usize,
        key: u64,
        from_dc: u16,
        measured: bool,
        trace: u32,
        bytes: u64,
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
        // Its size: the publish and every follower's copy carry it over links.
        self.sizes.set_message_bytes(msg, bytes);
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
        let bytes = self.sizes.message_bytes(msg);
        match self.net.answer_hop(from_dc, to, self.q.now(), bytes) {
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
    pub(in crate::model) fn on_resend(&mut self, from_dc: u16, node: u32, msg: Id, follower: bool) {
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
        match self.net.answer_hop(from_dc, to_dc, self.q.now(), 0) {
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

    pub(in crate::model) fn on_ack_retry(
        &mut self,
        from_dc: u16,
        to_dc: u16,
        id: Id,
        producer: bool,
    ) {
        self.send_ack(from_dc, to_dc, id, producer);
    }

    pub(in crate::model) fn on_node_arrive(&mut self, node: u32, msg: Id, follower: bool) {
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
    pub(in crate::model) fn on_node_done(&mut self, node: u32, epoch: u32) {
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
        // By index, not a clone per message (followers change only at an election).
        for i in 0..self.messaging.partitions[global].followers.len() {
            let f = self.messaging.partitions[global].followers[i];
            self.send_to_node(node_dc, f, msg, true);
        }
    }

    pub(in crate::model) fn on_follower_acked(&mut self, msg: Id) {
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
        // By index, not a clone per message (a topic's groups are fixed).
        for i in 0..self.messaging.topic_groups[topic].len() {
            let g = self.messaging.topic_groups[topic][i];
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
                raise(&mut st.max_lag, lag);
                raise(&mut st.max_partition_lag, plag);
            }
            self.dispatch(g, lane);
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
    pub(in crate::model) fn set_broker_node(&mut self, node: usize, down: bool) {
        let n = &mut self.messaging.nodes[node];
        if down {
            n.down += 1;
            if n.down > 1 {
                return;
            }
            n.epoch += 1;
            n.busy = false;
            let lost = n.queue.take_all();
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
    pub(in crate::model) fn on_leader_election(&mut self, p: u32) {
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
}
