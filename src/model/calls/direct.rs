//! The fast path of a call that is its one attempt: no retry, no breaker, no
//! hedge, no deadline of its own or inherited, and not traced (a per-attempt
//! timeout, a client's request timeout and `propagate_deadline` are allowed:
//! the attempt's lane times it out, as for any attempt). Such a call keeps no
//! logical record: the attempt (`n` = [`DIRECT`]) names its caller in its
//! `logical` field and the call is decided when the attempt ends.
//!
//! Nothing a run reports changes: the same draws in the same order, the same
//! counts. The memory budget counts the logical record a direct call stands
//! for ([`ArenaSlots`]), so an overloaded run stops where it always did.

use super::{Call, Caller, NEVER, Outcome};
use crate::engine::{Arena, Id, Time, raise};
use crate::model::world::World;
use crate::scenario::spec::{CallPolicy, LoadBalancer};

/// The attempt number of a direct call (a logical call's attempts count from 1).
pub(super) const DIRECT: u8 = 0;

/// True when a call under the policy is its one attempt: it may go direct.
pub(super) fn is_plain(p: &CallPolicy) -> bool {
    p.deadline.is_none() && p.retry.is_none() && p.breaker.is_none() && p.hedge.is_none()
}

impl Call {
    /// A call with no logical record (see the module's comment).
    #[inline]
    pub(in crate::model) fn is_direct(&self) -> bool {
        self.n == DIRECT
    }

    /// A direct call's caller: a job's id, or a client's workload as the id's bits.
    fn direct_caller(&self) -> Caller {
        if self.to_client {
            Caller::Client {
                workload: self.logical.to_bits() as u32,
            }
        } else {
            Caller::Job(self.logical)
        }
    }
}

impl Caller {
    /// How a direct call's attempt names its caller: the `logical` id (a
    /// job's, or a client's workload as its bits) and `to_client`.
    pub(super) fn as_logical(self) -> (Id, bool) {
        match self {
            Caller::Client { workload } => (Id::from_bits(u64::from(workload)), true),
            Caller::Job(job) => (job, false),
        }
    }
}

impl World<'_> {
    /// Starts a direct call: its one attempt goes out now, with its timeout
    /// `per_try` (handed to the callee as its deadline when `propagate`).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn start_direct(
        &mut self,
        caller: Caller,
        from_dc: u16,
        (target, site, policy, balancer): (u32, u32, u32, LoadBalancer),
        measured: bool,
        (per_try, propagate): (Option<Time>, bool),
        key: u64,
        depth: u16,
    ) {
        self.logical_slots.insert();
        let now = self.now();
        let deadline = match per_try {
            Some(t) if propagate => now.saturating_add(t),
            _ => NEVER,
        };
        let (logical, to_client) = caller.as_logical();
        let to = (target, site, policy);
        let attempt = Call {
            n: DIRECT,
            ..Call::outgoing(
                logical, to, from_dc, measured, to_client, key, deadline, depth, now,
            )
        };
        self.wire(attempt, caller, balancer, per_try, NEVER);
    }

    /// A direct call's attempt has ended (answered or timed out): so has the call.
    pub(super) fn finish_direct(&mut self, call: &Call, outcome: Outcome) {
        let caller = call.direct_caller();
        self.end_direct(caller, call.site, call.measured, call.sent, outcome);
    }

    /// The end of a direct call sent at `sent` (with a record or held).
    pub(super) fn end_direct(
        &mut self,
        caller: Caller,
        site: u32,
        measured: bool,
        sent: Time,
        outcome: Outcome,
    ) {
        self.logical_slots.remove();
        let latency = self.now() - sent;
        self.decided(caller, site, measured, latency, outcome);
    }

    /// Clients' direct calls still waiting at the end: in flight (and hung past patience).
    pub(in crate::model) fn count_direct_in_flight(&mut self) {
        for c in self.calls.iter() {
            if !(c.is_direct() && c.to_client && c.measured && !c.abandoned) {
                continue;
            }
            if let Caller::Client { workload } = c.direct_caller() {
                let w = workload as usize;
                let patience = self.s.patience(w);
                self.m.workloads[w].unanswered(self.end - c.sent, patience);
            }
        }
    }
}

/// The number of records of one kind live, and the arena they would fill:
/// its slots and free list grow as `Arena`'s vectors do (doubling from 4), so
/// the bytes are those of an arena holding a record for every call: the
/// logical calls (a direct call has none) and the attempts (a held call has
/// none, see `held.rs`).
#[derive(Default)]
pub(in crate::model) struct ArenaSlots {
    live: usize,
    slots: usize,
    free_peak: usize,
}

impl ArenaSlots {
    #[inline]
    pub fn insert(&mut self) {
        self.live += 1;
        raise(&mut self.slots, self.live);
    }

    #[inline]
    pub fn remove(&mut self) {
        self.live -= 1;
        raise(&mut self.free_peak, self.slots - self.live);
    }

    /// What `Arena::<T>::bytes` would say.
    pub fn bytes<T>(&self) -> usize {
        self.bytes_of(Arena::<T>::slot_bytes())
    }

    /// The same for slots of `slot_bytes` each.
    fn bytes_of(&self, slot_bytes: usize) -> usize {
        let capacity = |n: usize| {
            if n == 0 {
                0
            } else {
                n.next_power_of_two().max(4)
            }
        };
        capacity(self.slots) * slot_bytes + capacity(self.free_peak) * 4
    }
}

#[cfg(test)]
mod tests {
    use super::ArenaSlots;
    use crate::engine::Arena;

    /// The emulated bytes are the real arena's, whatever the order of
    /// inserts and removes.
    #[test]
    fn logical_slots_count_as_the_arena() {
        let mut arena: Arena<u64> = Arena::new();
        let mut slots = ArenaSlots::default();
        let mut ids = Vec::new();
        let mut x = 0x9e37_79b9_u64;
        for i in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Grow for a while, then shrink, then grow past the old peak.
            let grow = match i {
                0..5_000 => !x.is_multiple_of(4),
                5_000..9_000 => x.is_multiple_of(4),
                _ => !x.is_multiple_of(3),
            };
            if grow || ids.is_empty() {
                ids.push(arena.insert(i));
                slots.insert();
            } else {
                let k = (x as usize / 7) % ids.len();
                arena.remove(ids.swap_remove(k));
                slots.remove();
            }
            let emulated = slots.bytes_of(Arena::<u64>::slot_bytes());
            assert_eq!(emulated, arena.bytes(), "after {i}");
        }
    }
}
