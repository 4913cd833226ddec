//! Consumers leaving and joining: Kafka's partition assignment and
//! rebalances, replays of what was handled but not committed (at-least-once),
//! handlers killed with their replica, and the messages still in flight at
//! the end of a run.

use super::Delivery;
use crate::engine::{Id, Time};
use crate::model::event::Event;
use crate::model::replica::SlotState;
use crate::model::trace::NO_TRACE;
use crate::model::world::World;
use crate::scenario::spec::{Assignment, BrokerKind};

impl World<'_> {
    /// Assigns partitions to the consumer replicas serving at the start (Kafka range or round robin).
    pub(in crate::model) fn assign_partitions(&mut self) {
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

    /// A consumer replica left its groups: crashed (`graceful` false: Kafka
    /// notices after `session_timeout`, and what it handled since its last
    /// commit will be delivered again) or scaled down (it commits and leaves:
    /// the group rebalances at once).
    pub(in crate::model) fn consumer_down(&mut self, r: u32, graceful: bool) {
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
    pub(in crate::model) fn consumer_up(&mut self, r: u32) {
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
    pub(in crate::model) fn handler_killed(&mut self, delivery: Id) {
        let Some(d) = self.messaging.deliveries.get(delivery) else {
            return;
        };
        let (g, slot) = (d.group as usize, d.slot);
        let kafka = self
            .s
            .broker
            .as_ref()
            .is_some_and(|b| b.kind == BrokerKind::Kafka);
        let lane = if kafka { slot as usize } else { 0 };
        if !kafka {
            // RabbitMQ requeues a dead connection's unacknowledged messages at once.
            self.room_back(g as u32, slot);
        }
        let group = &mut self.messaging.groups[g];
        group.lanes[lane].busy = false;
        group.lanes[lane].waiting.push_front(delivery);
        self.dispatch(g as u32, lane);
    }

    /// The group's partitions owned by dead replicas go to live ones; what they
    /// had handled since the last commit is delivered again (at-least-once).
    pub(in crate::model) fn on_rebalance(&mut self, g: u32) {
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

    /// At the end of the run: per topic and group, the measured messages not
    /// settled yet (still in the broker, or waiting or being handled in the group).
    pub(in crate::model) fn count_messages_in_flight(&mut self) {
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
            let group = &ms.groups[d.group as usize];
            self.m.topics[group.topic as usize].groups[group.index as usize].in_flight += 1;
        }
    }
}
