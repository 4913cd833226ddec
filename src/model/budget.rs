//! The memory budget. Overload is what users simulate, and an overloaded
//! model grows: queued jobs, unanswered calls, backlogs of messages. Its
//! state is measured as it runs (deterministically: capacities of the arenas,
//! the event queue and the backlog queues, never the process's memory), and
//! a run whose state passes [`STATE_BUDGET_BYTES`] stops there, cleanly,
//! naming the backlog that grew: what happened up to then is still reported.

use super::calls::{Call, Logical};
use super::world::World;
use crate::engine::Time;
use crate::engine::time::as_secs;

/// The most the model's in-flight state may hold: 1 GiB. With the arenas'
/// growth by doubling, a run's peak resident memory stays under about 2 GiB.
pub const STATE_BUDGET_BYTES: usize = 1 << 30;

/// Events between two looks at the arenas (cheap: a few capacities).
pub const CHECK_EVERY: u64 = 1 << 10;
/// Events between two walks over every replica, lane and node queue.
const WALK_EVERY: u64 = 1 << 16;

/// Why and when a run stopped early.
#[derive(Clone, Debug)]
pub struct Overload {
    pub at: Time,
    /// "10,000,000 requests waiting at api".
    pub backlog: String,
}

impl Overload {
    /// The sentence the terminal and the report show.
    pub fn message(&self) -> String {
        format!(
            "overloaded: {} at {:.1} s simulated; the model's state passed its {} MiB budget, \
             so the run stopped there",
            self.backlog,
            as_secs(self.at),
            STATE_BUDGET_BYTES >> 20
        )
    }
}

/// The part of the state that is costly to measure, as of its last walk.
#[derive(Default)]
pub struct Budget {
    walked: usize,
}

impl World<'_> {
    /// True when the state is past the budget (looked at every
    /// [`CHECK_EVERY`] events by the event loop).
    pub(super) fn over_budget(&mut self) -> bool {
        if self.q.events_processed().is_multiple_of(WALK_EVERY) {
            self.budget.walked = self.walked_bytes();
        }
        let arenas = self.jobs.bytes()
            + self.call_slots.bytes::<Call>()
            + self.logical_slots.bytes::<Logical>()
            + self.q.bytes()
            + self.messaging.bytes_of_arenas()
            + self.sizes.bytes();
        arenas + self.budget.walked > STATE_BUDGET_BYTES
    }

    /// Replica queues and shared cores, timeout lanes and the broker's queues.
    fn walked_bytes(&self) -> usize {
        let replicas: usize = self.replicas.iter().map(|r| r.queue.capacity() * 8).sum();
        let lanes: usize = self.lanes.iter().map(|l| l.deadlines.capacity() * 16).sum();
        replicas + self.cores_bytes() + lanes + self.messaging.bytes_of_queues()
    }

    /// The largest backlog, in words: where the overload is.
    pub(super) fn overload(&self) -> Overload {
        let s = self.s;
        let mut waiting = vec![0u64; s.services.len()];
        for r in &self.replicas {
            waiting[r.service as usize] += r.queue.len() as u64;
        }
        // Calls between services first: a client's call waits on them.
        let mut unanswered = vec![0u64; 2 * s.endpoints.len()];
        for c in self.calls.iter() {
            let client = usize::from(c.site == super::calls::NO_SITE);
            unanswered[client * s.endpoints.len() + c.target as usize] += 1;
        }
        for (client, target) in self.held_unanswered() {
            unanswered[usize::from(client) * s.endpoints.len() + target as usize] += 1;
        }
        // Most telling first: a backlog of messages or a queue at a service
        // is named rather than the calls waiting on it, unless they are far fewer.
        let mut candidates: Vec<(u64, String)> = Vec::new();
        for (consumer, topic, n) in self.messaging.waiting_per_group() {
            let topic = s
                .broker
                .as_ref()
                .map_or("", |b| &b.topics[topic as usize].name);
            let group = &s.consumers[consumer as usize].group;
            candidates.push((
                n,
                format!("messages of topic {topic} waiting for group {group}"),
            ));
        }
        for (i, &n) in waiting.iter().enumerate() {
            candidates.push((n, format!("requests waiting at {}", s.services[i].name)));
        }
        for (e, &n) in unanswered.iter().enumerate() {
            let ep = &s.endpoints[e % s.endpoints.len()];
            let name = format!("{}.{}", s.services[ep.service].name, ep.name);
            candidates.push((n, format!("calls to {name} unanswered")));
        }
        let most = candidates.iter().map(|c| c.0).max().unwrap_or(0);
        let (n, what) = candidates
            .into_iter()
            .find(|(n, _)| *n > 0 && *n >= most / 2)
            .unwrap_or((0, "requests in flight".into()));
        Overload {
            at: self.now() / 1_000_000 * 1_000_000,
            backlog: format!("{} {what}", thousands(n)),
        }
    }
}

/// 10000000 -> "10,000,000".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands_are_grouped() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(10_000_000), "10,000,000");
    }
}
