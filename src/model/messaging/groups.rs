//! Consumer groups: committed messages wait in a lane (a Kafka partition, or
//! a RabbitMQ group's one queue) and are handed to handler jobs, one at a
//! time per partition in order, or to any replica with room under its
//! `prefetch`. A handling ends handled, retried after a back-off, dead-lettered
//! or lost, and the message is settled for its group.

use super::{Delivery, NO_KEY};
use crate::engine::{Id, Time};
use crate::model::calls::{NEVER, backoff};
use crate::model::event::{Event, Parent};
use crate::model::replica::SlotState;
use crate::model::trace::{NO_TRACE, Span, SpanKind, SpanRef};
use crate::model::world::World;
use crate::scenario::spec::{BrokerKind, RetryMode};

impl World<'_> {
    /// The position of group `g` among its topic's groups (for metrics).
    pub(super) fn group_index(&self, g: u32) -> usize {
        self.messaging.groups[g as usize].index as usize
    }

    /// Starts handlings while the lane (Kafka partition) or queue (RabbitMQ) allows.
    pub(super) fn dispatch(&mut self, g: u32, lane: usize) {
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
                let Some(replica) = self.replica_with_room(g) else {
                    return;
                };
                replica
            };
            if self.expired(g, delivery) {
                self.drop_expired(g, lane, replica, delivery, kafka);
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

    /// Competing consumers: the next replica (round robin) with room under its
    /// prefetch, which takes one more unacknowledged delivery.
    fn replica_with_room(&mut self, g: u32) -> Option<u32> {
        let group = &mut self.messaging.groups[g as usize];
        let consumer = &self.s.consumers[group.consumer as usize];
        let first = self.services[consumer.service].first_replica;
        let n = group.unacked.len() as u32;
        let free = (0..n).map(|k| (group.cursor + k) % n).find(|&k| {
            let replica = &self.replicas[(first + k) as usize];
            group.unacked[k as usize] < consumer.prefetch
                && replica.serving()
                && replica.state == SlotState::Active
        });
        let k = free?;
        group.cursor = (k + 1) % n;
        group.unacked[k as usize] += 1;
        Some(first + k)
    }

    /// The lane's first message expired: it leaves the lane, dead-lettered or lost
    /// (RabbitMQ gives back the room it took under the replica's prefetch).
    fn drop_expired(&mut self, g: u32, lane: usize, replica: u32, delivery: Id, kafka: bool) {
        if !kafka {
            self.room_back(g, replica);
        }
        let consumer = &self.s.consumers[self.messaging.groups[g as usize].consumer as usize];
        self.messaging.groups[g as usize].lanes[lane]
            .waiting
            .pop_front();
        let how = if consumer.dead_letter {
            Settled::DeadLettered
        } else {
            Settled::Lost
        };
        self.settle(delivery, how);
    }

    /// RabbitMQ's `message_ttl`: a message of group `g` that waited too long
    /// is not handed out (the delivery is read only when its topic has one).
    fn expired(&self, g: u32, delivery: Id) -> bool {
        let topic = self.messaging.groups[g as usize].topic as usize;
        let Some(ttl) = self
            .s
            .broker
            .as_ref()
            .and_then(|b| b.topics[topic].message_ttl)
        else {
            return false;
        };
        self.messaging
            .deliveries
            .get(delivery)
            .is_some_and(|d| self.now().saturating_sub(d.published) > ttl)
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
            NEVER,
            NO_KEY,
            trace,
            0,
        );
    }

    /// A handler finished: the message is handled, retried, dead-lettered or lost.
    pub(in crate::model) fn on_handled(&mut self, delivery: Id, ok: bool) {
        let s = self.s;
        let Some(d) = self.messaging.deliveries.get(delivery) else {
            return;
        };
        let (g, lane_or_replica, attempts, prev) = (d.group, d.slot, d.attempts, d.prev_wait);
        let consumer = &s.consumers[self.messaging.groups[g as usize].consumer as usize];
        let kafka = s
            .broker
            .as_ref()
            .is_some_and(|b| b.kind == BrokerKind::Kafka);
        let lane = if kafka { lane_or_replica as usize } else { 0 };
        if !kafka {
            self.ack(g, lane_or_replica);
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
            let blocking = kafka && consumer.retry_mode == RetryMode::Blocking;
            self.redeliver_after(wait, delivery, g, lane, blocking);
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

    /// A failed handling is retried after `wait`: a blocking retry holds its
    /// partition, any other frees its lane meanwhile.
    fn redeliver_after(&mut self, wait: Time, delivery: Id, g: u32, lane: usize, blocking: bool) {
        if blocking {
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
    }

    /// A retry's wait is over: to the front of its partition (blocking) or the back of its lane.
    pub(in crate::model) fn on_redeliver(&mut self, delivery: Id, front: bool) {
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
            self.trace_message(delivery, &d, topic, handled);
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
                    if self.latency_series {
                        st.step_latency.record(now - published);
                    }
                }
                Settled::DeadLettered => st.dead_lettered += 1,
                Settled::Lost => st.lost += 1,
            }
        }
    }

    /// Records a traced message's span in its group, from its publish to now.
    fn trace_message(&mut self, delivery: Id, d: &Delivery, topic: usize, handled: bool) {
        let now = self.now();
        self.tracer.push(d.trace, |trace| Span {
            trace,
            start: d.published,
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

    /// Takes a sample of each group's lag and of the messages it handled since the last.
    pub(in crate::model) fn sample_groups(&mut self) {
        let kafka = self.s.broker.as_ref().map(|b| b.kind) == Some(BrokerKind::Kafka);
        for group in &self.messaging.groups {
            let topic = group.topic as usize;
            let st = &mut self.m.topics[topic].groups[group.index as usize];
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
}

enum Settled {
    Handled,
    /// An idempotent consumer recognised a replayed duplicate.
    Skipped,
    DeadLettered,
    Lost,
}
