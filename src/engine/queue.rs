//! The future event list: a short array sorted by `(time, seq)` and a FIFO
//! of the events scheduled for the current instant while few events are
//! pending; a timing wheel ([`super::queue_wheel`]) while many are.
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
//! The array is kept sorted latest first, so a pop takes its last entry. A
//! push goes in at the end and moves up past the entries due before it: the
//! next arrival of a busy model is usually due before the completions pending,
//! so it moves past few. With the few events a small model has pending (an
//! arrival and a completion per busy worker) this is cheaper than a binary
//! heap, whose pop moves entries down and up the tree (measured in
//! CHANGELOG.md, issue 13).
//!
//! Past [`SWITCH_UP`] events in the array, they move to a timing wheel, and
//! back below [`SWITCH_DOWN`]: a sorted array of a few dozen entries is a few
//! cache lines, while the wheel's cost does not grow with the count as long as
//! its blocks hold few events each. The events keep their `(time, seq)` keys
//! through the moves, so the order is one queue's, and the memory budget
//! counts what a binary heap alone would have held, so a run stops where it
//! always did. `queue_tests.rs` runs the queue beside a plain binary heap and FIFO.

use std::cmp::Ordering;
use std::collections::VecDeque;

use super::queue_wheel::Wheel;
use super::time::Time;

/// An event and its key: `(time, seq)` as one number, `time << 64 | seq`, so
/// that ordering entries is one branch-free comparison.
#[derive(Clone, Copy)]
pub(super) struct Entry<E> {
    pub(super) key: u128,
    pub(super) event: E,
}

impl<E> Entry<E> {
    #[inline]
    pub(super) fn new(time: Time, seq: u64, event: E) -> Self {
        Entry {
            key: (u128::from(time) << 64) | u128::from(seq),
            event,
        }
    }

    #[inline]
    pub(super) fn time(&self) -> Time {
        (self.key >> 64) as Time
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    // Reversed: BinaryHeap is a max-heap and we want the earliest first.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

/// Entries in the sorted array past which the events move to the wheel.
pub(super) const SWITCH_UP: usize = 32;
/// Pending events under which they move back to the sorted array.
pub(super) const SWITCH_DOWN: usize = 16;

/// A priority queue of events with a clock that only moves forward.
pub struct EventQueue<E> {
    /// The pending events for later than now, sorted by key latest first
    /// (the next to pop is the last).
    sorted: Vec<Entry<E>>,
    /// The most entries `sorted` has held at once (for [`Self::bytes`]).
    peak: usize,
    /// Events scheduled for `now`, in scheduling order.
    now_fifo: VecDeque<Entry<E>>,
    /// Holds the events instead of the sorted array while `wheel_on`.
    wheel: Wheel<E>,
    wheel_on: bool,
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

    /// A queue that moves to the wheel past `up` entries and back
    /// under `down` (for tests and `benches/queue.rs`; `new` is measured).
    pub fn with_switch(up: usize, down: usize) -> Self {
        assert!(down < up, "switch sizes {down} and {up}");
        EventQueue {
            sorted: Vec::with_capacity(1024),
            peak: 0,
            now_fifo: VecDeque::new(),
            wheel: Wheel::new(),
            wheel_on: false,
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
        } else if self.wheel_on {
            self.wheel.push(Entry::new(at, seq, event));
        } else {
            self.insert(Entry::new(at, seq, event));
        }
    }

    /// Puts an entry in its place in the sorted array (or moves everything
    /// to the wheel once the array is past `switch_up`).
    #[inline(always)]
    fn insert(&mut self, entry: Entry<E>) {
        // From the end, where the earliest are. Its seq is the largest yet,
        // so every entry not later in time is due before it: comparing times
        // alone keeps the `(time, seq)` order.
        let at = entry.time();
        self.sorted.push(entry);
        let pending = &mut self.sorted[..];
        let mut i = pending.len() - 1;
        while i > 0 && pending[i - 1].time() <= at {
            pending[i] = pending[i - 1];
            i -= 1;
        }
        pending[i] = entry;
        let len = pending.len();
        super::raise(&mut self.peak, len);
        if len > self.switch_up {
            self.move_to_wheel();
        }
    }

    /// Takes the earliest entry of the sorted array (which must have one).
    #[inline(always)]
    fn take_first(&mut self) -> Entry<E> {
        self.sorted.pop().expect("a pending entry")
    }

    /// Schedules `event` after `delay` from now.
    #[inline(always)]
    pub fn schedule_in(&mut self, delay: Time, event: E) {
        self.schedule_at(self.now.saturating_add(delay), event);
    }

    /// Pops the next event if it is due at or before `until`, advancing the clock.
    #[inline]
    pub fn pop_until(&mut self, until: Time) -> Option<E> {
        if self.wheel_on {
            return self.pop_wheel(until);
        }
        let entry = match (self.now_fifo.front(), self.sorted.last()) {
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

    /// `pop_until` while the wheel holds the events for later: the same
    /// order, by the same keys.
    #[inline]
    fn pop_wheel(&mut self, until: Time) -> Option<E> {
        let (time, event) = match self.now_fifo.front() {
            None => {
                let popped = self.wheel.pop_until(until)?;
                self.after_wheel_pop();
                popped
            }
            Some(first) if first.time() > until => return None,
            // An event scheduled earlier for this same instant goes first.
            Some(first) => match self.wheel.peek() {
                Some(at) if self.wheel.key(at) < first.key => {
                    let popped = self.wheel.pop(at);
                    self.after_wheel_pop();
                    popped
                }
                _ => {
                    let first = self.now_fifo.pop_front()?;
                    (first.time(), first.event)
                }
            },
        };
        self.now = time;
        self.popped += 1;
        Some(event)
    }

    /// Back to the sorted array once the wheel holds few events.
    #[inline(always)]
    fn after_wheel_pop(&mut self) {
        if self.wheel.len() < self.switch_down {
            self.move_to_array();
        }
    }

    /// Moves the sorted array's events to the wheel, keys and all.
    #[cold]
    #[inline(never)]
    fn move_to_wheel(&mut self) {
        let entries = self.sorted.drain(..);
        self.wheel.fill(self.now, entries);
        self.wheel_on = true;
    }

    /// Moves the wheel's events back to the sorted array, keys and all.
    #[cold]
    #[inline(never)]
    fn move_to_array(&mut self) {
        debug_assert!(self.sorted.is_empty());
        self.wheel.drain_into(&mut self.sorted);
        self.sorted
            .sort_unstable_by_key(|e| std::cmp::Reverse(e.key));
        self.peak = self.peak.max(self.sorted.len());
        self.wheel_on = false;
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
        self.sorted.len() + self.now_fifo.len() + self.wheel.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the pending events count for: the FIFO's capacity and the
    /// capacity a binary heap (of 1,024 entries at first) would have had
    /// holding every event the sorted array or the wheel held (a `Vec` that
    /// only grows by pushes has a capacity set by its peak length), so a run
    /// stops where it always did.
    pub fn bytes(&self) -> usize {
        let heap = self.peak.max(1024).next_power_of_two();
        let heap = heap.max(self.wheel.heap_slots());
        (heap + self.now_fifo.capacity()) * std::mem::size_of::<Entry<E>>()
    }

    /// Whether the wheel holds the events.
    #[cfg(test)]
    pub(super) fn is_wheel(&self) -> bool {
        self.wheel_on
    }

    /// Bytes the queue's buffers hold now.
    #[cfg(test)]
    pub(super) fn allocated_bytes(&self) -> usize {
        let entries = self.sorted.capacity() + self.now_fifo.capacity();
        entries * std::mem::size_of::<Entry<E>>() + self.wheel.allocated_bytes()
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
