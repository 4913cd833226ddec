//! The future event list: a short sorted array ordered by `(time, seq)` and
//! a FIFO of the events scheduled for the current instant while few events
//! are pending; a radix heap ([`super::queue_radix`]) while many are.
//!
//! `seq` increases with every push, so events scheduled for the same instant run
//! in the order they were scheduled (FIFO ties). Cancellation is lazy: an event
//! that is no longer wanted stays in the queue and its handler recognises it as
//! stale (see [`crate::engine::arena`] generations).
//!
//! An event scheduled for now (a zero-delay answer, say) skips the array: it
//! joins the `now` FIFO, whose entries all have the current time and
//! increasing seqs. The next event is the smaller `(time, seq)` of the FIFO's
//! front and the array's first, so the order is exactly a single queue's: an
//! event for now never overtakes one scheduled earlier for the same instant.
//!
//! The array is kept sorted, earliest first from `head`: a pop moves `head`
//! on, a push goes in at the back and moves down past the later entries (a
//! new event is usually among the latest, so few move). With the few
//! events a small model has pending (an arrival and a completion per busy
//! worker) this is cheaper than a binary heap, whose pop moves entries down
//! and up the tree (measured in CHANGELOG.md, issue 13).
//!
//! Past [`SWITCH_UP`] events in the array, they move to a radix heap, and back
//! below [`SWITCH_DOWN`]: a sorted array of a few dozen entries is a few cache
//! lines, while the radix heap's cost does not grow with the count. The moves
//! keep the `(time, seq)` order, and the memory budget counts what a binary
//! heap alone would have held, so a run stops where it always did.
//! `queue_tests.rs` runs the queue beside a plain binary heap and FIFO.

use std::collections::VecDeque;

use super::queue_radix::{Radix, Slot};
use super::time::Time;

/// An event and its key: `(time, seq)` as one number, `time << 64 | seq`, so
/// that ordering entries is one branch-free comparison.
#[derive(Clone, Copy)]
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    #[inline]
    fn new(time: Time, seq: u64, event: E) -> Self {
        Entry {
            key: (u128::from(time) << 64) | u128::from(seq),
            event,
        }
    }

    #[inline]
    fn time(&self) -> Time {
        (self.key >> 64) as Time
    }
}

/// Entries in the sorted array past which the events move to the radix heap.
pub(super) const SWITCH_UP: usize = 32;
/// Pending events under which they move back to the sorted array.
pub(super) const SWITCH_DOWN: usize = 16;
/// Popped entries at the front of the sorted array past which a push first
/// moves the pending ones down to the start.
const COMPACT_AT: usize = 32;

/// A priority queue of events with a clock that only moves forward.
pub struct EventQueue<E> {
    /// The pending events for later than now, sorted by key from `head` on
    /// (entries before `head` are popped; the array is compacted now and then).
    sorted: Vec<Entry<E>>,
    head: usize,
    /// The most entries `sorted` has held at once (for [`Self::bytes`]).
    peak: usize,
    /// Events scheduled for `now`, in scheduling order.
    now_fifo: VecDeque<Entry<E>>,
    /// Holds the events instead of the two above while `radix_on`.
    radix: Radix<E>,
    radix_on: bool,
    switch_up: usize,
    switch_down: usize,
    now: Time,
    seq: u64,
    popped: u64,
}

impl<E: Copy> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> EventQueue<E> {
    pub fn new() -> Self {
        Self::with_switch(SWITCH_UP, SWITCH_DOWN)
    }

    /// A queue that moves to the radix heap past `up` entries and back
    /// under `down` (for tests and `benches/queue.rs`; `new` is measured).
    pub fn with_switch(up: usize, down: usize) -> Self {
        assert!(down < up, "switch sizes {down} and {up}");
        EventQueue {
            sorted: Vec::with_capacity(1024),
            head: 0,
            peak: 0,
            now_fifo: VecDeque::new(),
            radix: Radix::new(),
            radix_on: false,
            switch_up: up,
            switch_down: down,
            now: 0,
            seq: 0,
            popped: 0,
        }
    }

    /// The current simulated time: the time of the last event popped.
    #[inline]
    pub fn now(&self) -> Time {
        self.now
    }

    /// Schedules `event` at absolute time `at` (never in the past).
    #[inline(always)]
    pub fn schedule_at(&mut self, at: Time, event: E) {
        debug_assert!(at >= self.now, "event scheduled in the past");
        let seq = self.seq;
        self.seq += 1;
        if at <= self.now {
            self.now_fifo.push_back(Entry::new(self.now, seq, event));
        } else if self.radix_on {
            self.radix.push(at, event);
        } else {
            self.insert(Entry::new(at, seq, event));
        }
    }

    /// Puts an entry in its place in the sorted array (or moves everything
    /// to the radix heap once the array is past `switch_up`).
    #[inline(always)]
    fn insert(&mut self, entry: Entry<E>) {
        if self.head >= COMPACT_AT {
            self.sorted.drain(..self.head);
            self.head = 0;
        }
        // From the back: a new event is usually among the latest.
        self.sorted.push(entry);
        let pending = &mut self.sorted[self.head..];
        let mut i = pending.len() - 1;
        while i > 0 && pending[i - 1].key > entry.key {
            pending[i] = pending[i - 1];
            i -= 1;
        }
        pending[i] = entry;
        let len = pending.len();
        self.peak = self.peak.max(len);
        if len > self.switch_up {
            self.move_to_radix();
        }
    }

    /// Takes the earliest entry of the sorted array (which must have one).
    #[inline(always)]
    fn take_first(&mut self) -> Entry<E> {
        let entry = self.sorted[self.head];
        self.head += 1;
        if self.head == self.sorted.len() {
            self.sorted.clear();
            self.head = 0;
        }
        entry
    }

    /// Schedules `event` after `delay` from now.
    #[inline(always)]
    pub fn schedule_in(&mut self, delay: Time, event: E) {
        self.schedule_at(self.now.saturating_add(delay), event);
    }

    /// Pops the next event if it is due at or before `until`, advancing the clock.
    #[inline]
    pub fn pop_until(&mut self, until: Time) -> Option<E> {
        if self.radix_on {
            return self.pop_radix(until);
        }
        let entry = match (self.now_fifo.front(), self.sorted.get(self.head)) {
            (None, top) if top?.time() > until => return None,
            (None, _) => self.take_first(),
            (Some(first), _) if first.time() > until => return None,
            // An event scheduled earlier for this same instant goes first.
            (Some(first), Some(top)) if top.key < first.key => self.take_first(),
            (Some(_), _) => self.now_fifo.pop_front()?,
        };
        self.now = entry.time();
        self.popped += 1;
        Some(entry.event)
    }

    /// `pop_until` while the radix heap holds the events for later: the
    /// same order (events it holds for now were scheduled before the FIFO's).
    #[inline]
    fn pop_radix(&mut self, until: Time) -> Option<E> {
        let event = match self.now_fifo.front() {
            Some(first) if !self.radix.due_at_base() => {
                if first.time() > until {
                    return None;
                }
                self.now_fifo.pop_front()?.event
            }
            _ => {
                let slot = self.radix.pop_until(until)?;
                self.now = slot.time;
                if self.radix.len() < self.switch_down {
                    self.move_to_array();
                }
                slot.event
            }
        };
        self.popped += 1;
        Some(event)
    }

    /// Moves the sorted array's events to the radix heap.
    #[cold]
    #[inline(never)]
    fn move_to_radix(&mut self) {
        let slots = self.sorted.drain(self.head..).map(|e| Slot {
            time: e.time(),
            event: e.event,
        });
        self.radix.fill(self.now, slots);
        self.sorted.clear();
        self.head = 0;
        self.radix_on = true;
    }

    /// Moves the radix heap's events back to the sorted array, under new seqs
    /// in the same order. Those due now were all scheduled before any event
    /// in the FIFO, so they still go first: their seqs are below the FIFO's.
    #[cold]
    #[inline(never)]
    fn move_to_array(&mut self) {
        let mut slots = Vec::with_capacity(self.radix.len());
        self.radix.drain_into(&mut slots);
        let due_now = slots.iter().take_while(|s| s.time == self.now).count();
        debug_assert!(
            self.now_fifo
                .front()
                .is_none_or(|f| f.key as u64 >= due_now as u64)
        );
        debug_assert!(self.head == 0 && self.sorted.is_empty());
        // In the order they pop, so their new keys are already sorted.
        let entries = (0u64..)
            .zip(slots)
            .map(|(seq, s)| Entry::new(s.time, seq, s.event));
        self.sorted.extend(entries);
        self.peak = self.peak.max(self.sorted.len());
        self.radix_on = false;
    }

    /// Moves the clock to `t` without running anything (the end of a run).
    pub fn advance_to(&mut self, t: Time) {
        if t > self.now {
            self.now = t;
        }
    }

    /// Number of events popped so far.
    pub fn events_processed(&self) -> u64 {
        self.popped
    }

    /// Number of events still pending.
    pub fn len(&self) -> usize {
        self.sorted.len() - self.head + self.now_fifo.len() + self.radix.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the pending events count for: the FIFO's capacity and the
    /// capacity a binary heap (of 1,024 entries at first) would have had
    /// holding every event the sorted array or the radix heap held (a `Vec`
    /// that only grows by pushes has a capacity set by its peak length), so a
    /// run stops where it always did.
    pub fn bytes(&self) -> usize {
        let heap = self.peak.max(1024).next_power_of_two();
        let heap = heap.max(self.radix.heap_slots());
        (heap + self.now_fifo.capacity()) * std::mem::size_of::<Entry<E>>()
    }

    /// Whether the radix heap holds the events.
    #[cfg(test)]
    pub(super) fn is_radix(&self) -> bool {
        self.radix_on
    }

    /// Bytes the queue's buffers hold now.
    #[cfg(test)]
    pub(super) fn allocated_bytes(&self) -> usize {
        let entries = self.sorted.capacity() + self.now_fifo.capacity();
        entries * std::mem::size_of::<Entry<E>>() + self.radix.allocated_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn earliest_first_and_fifo_ties() {
        let mut q = EventQueue::new();
        q.schedule_at(5, 'c');
        q.schedule_at(1, 'a');
        q.schedule_at(5, 'd');
        q.schedule_at(1, 'b');
        let order: Vec<char> = std::iter::from_fn(|| q.pop_until(u64::MAX)).collect();
        assert_eq!(order, vec!['a', 'b', 'c', 'd']);
        assert_eq!(q.now(), 5);
        assert_eq!(q.events_processed(), 4);
    }

    /// Events for the current instant skip the heap but keep the order of
    /// scheduling against those already in the heap for that instant.
    #[test]
    fn events_for_now_keep_the_order_of_scheduling() {
        let mut q = EventQueue::new();
        q.schedule_at(5, 'a');
        q.schedule_at(5, 'b');
        q.schedule_at(7, 'e');
        assert_eq!(q.pop_until(u64::MAX), Some('a'));
        // Now 5: 'b' was scheduled for 5 before these two.
        q.schedule_in(0, 'c');
        q.schedule_at(5, 'd');
        assert_eq!(q.len(), 4);
        let order: Vec<char> = std::iter::from_fn(|| q.pop_until(u64::MAX)).collect();
        assert_eq!(order, vec!['b', 'c', 'd', 'e']);
        assert!(q.is_empty());
    }

    /// The order of a random schedule is the order of `(time, seq)`, whether
    /// or not events go through the FIFO.
    #[test]
    fn the_fifo_changes_no_order() {
        let mut q = EventQueue::new();
        let mut expected = Vec::new();
        let mut got = Vec::new();
        let mut x = 12345u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..20u64 {
            let at = next() % 4;
            q.schedule_at(at, i);
            expected.push((at, i));
        }
        let mut id = 20;
        while let Some(e) = q.pop_until(u64::MAX) {
            got.push((q.now(), e));
            if id < 2000 {
                for _ in 0..(next() % 3) {
                    let at = q.now() + next() % 3;
                    q.schedule_at(at, id);
                    expected.push((at, id));
                    id += 1;
                }
            }
        }
        // Ids increase with seq: the expected order is by (time, id).
        expected.sort_unstable();
        assert_eq!(got, expected);
    }

    #[test]
    fn pop_until_stops_at_horizon() {
        let mut q = EventQueue::new();
        q.schedule_at(10, 1);
        q.schedule_at(20, 2);
        assert_eq!(q.pop_until(15), Some(1));
        assert_eq!(q.pop_until(15), None);
        assert_eq!(q.len(), 1);
    }
}
