//! The event queue's large mode: a radix heap on integer time, holding the
//! events scheduled for later than the instant they were scheduled at (those
//! for the current instant stay in the queue's FIFO in both modes).
//!
//! Time only moves forward, so a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan
//! 1990) fits, here with 6-bit digits: against `base`, the time of the last
//! event taken out, an event due at `t` waits in the bucket of the highest
//! digit where `t` and `base` differ (its level) and of `t`'s value there, or
//! in the FIFO when they are equal. Buckets in (level, digit) order hold ever
//! later events. When the FIFO is empty, the lowest occupied bucket is taken:
//! its one event at once, or else it is emptied into lower levels against its
//! earliest time, the new base. An event moves down a level or two in its life,
//! never up; pushing is an xor, a count of leading zeros and an append, with no
//! comparison of keys at all. It pays with many events pending; with few, the
//! binary heap's few comparisons in one cache line are faster (see
//! [`super::queue`], which switches between the two).
//!
//! Why ties keep their order without a stored `seq`: events due at the same
//! time have the same bucket at every moment, so they always travel together;
//! a bucket is appended to in scheduling order and emptied front to back into
//! buckets that are all empty (they are below the lowest occupied one). So in
//! every bucket, events of equal time stand in scheduling order, and the FIFO
//! holds exactly the events of one instant, in that order.

use super::time::Time;

/// An event and its time.
#[derive(Clone, Copy)]
pub(super) struct Slot<E> {
    pub(super) time: Time,
    pub(super) event: E,
}

/// Bits of time per digit: a bucket is a level (the highest digit where an
/// event's time differs from `base`) and that digit's value.
const BITS: u32 = 6;
const DIGITS: usize = 1 << BITS;
const LEVELS: usize = 64usize.div_ceil(BITS as usize);

/// A radix heap of events; the clock is its owner's.
pub(super) struct Radix<E> {
    /// Events due at `base` (the current instant), in scheduling order; those
    /// before `head` were popped.
    fifo: Vec<Slot<E>>,
    head: usize,
    /// `buckets[level * DIGITS + digit]`: events whose time differs from
    /// `base` first in digit `level` (of `BITS` bits), where it is `digit`.
    buckets: Box<[Vec<Slot<E>>]>,
    /// Bit `level` is set when a bucket of that level is occupied.
    levels: u64,
    /// Bit `digit` of `digits[level]` is set when that bucket is occupied.
    digits: [u64; LEVELS],
    /// The time of the last event taken out of the buckets.
    base: Time,
    len: usize,
    /// The most events held at once, for the memory budget.
    peak: usize,
}

/// The bucket of an event due at `time` against `base` when they differ:
/// its level and digit.
#[inline(always)]
fn bucket(time: Time, base: Time) -> (usize, usize) {
    debug_assert!(time > base);
    let level = (63 - (time ^ base).leading_zeros()) / BITS;
    let digit = (time >> (level * BITS)) as usize & (DIGITS - 1);
    (level as usize, digit)
}

impl<E: Copy> Radix<E> {
    pub(super) fn new() -> Self {
        Radix {
            fifo: Vec::new(),
            head: 0,
            buckets: (0..LEVELS * DIGITS).map(|_| Vec::new()).collect(),
            levels: 0,
            digits: [0; LEVELS],
            base: 0,
            len: 0,
            peak: 0,
        }
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Whether events due at the base instant are waiting: they were
    /// scheduled before it, so they go before the queue's FIFO.
    #[inline(always)]
    pub(super) fn due_at_base(&self) -> bool {
        self.head < self.fifo.len()
    }

    /// Queues `event` due at `time`, later than the base.
    #[inline(always)]
    pub(super) fn push(&mut self, time: Time, event: E) {
        self.len += 1;
        self.peak = self.peak.max(self.len);
        self.put(bucket(time, self.base), Slot { time, event });
    }

    /// The capacity a binary heap (`with_capacity(1024)`, growing by
    /// doubling) would have had, holding what this queue held.
    pub(super) fn heap_slots(&self) -> usize {
        self.peak.max(1024).next_power_of_two()
    }

    /// Takes the next event if it is due at or before `until`.
    #[inline]
    pub(super) fn pop_until(&mut self, until: Time) -> Option<Slot<E>> {
        if self.head == self.fifo.len() {
            if self.levels == 0 {
                return None;
            }
            let level = self.levels.trailing_zeros() as usize;
            let digit = self.digits[level].trailing_zeros() as usize;
            let k = level * DIGITS + digit;
            if let [only] = self.buckets[k][..] {
                // Alone in its bucket, so alone at its time: taken at once.
                if only.time > until {
                    return None;
                }
                self.buckets[k].clear();
                release(&mut self.buckets[k]);
                self.vacate(level, digit);
                self.base = only.time;
                self.len -= 1;
                return Some(only);
            }
            let earliest = self.buckets[k].iter().map(|s| s.time).min()?;
            if earliest > until {
                return None;
            }
            self.spill((level, digit), earliest);
        } else if self.base > until {
            return None;
        }
        let slot = self.fifo[self.head];
        self.head += 1;
        if self.head == self.fifo.len() {
            self.fifo.clear();
            release(&mut self.fifo);
            self.head = 0;
        }
        self.len -= 1;
        Some(slot)
    }

    /// Marks bucket `(level, digit)` empty.
    #[inline(always)]
    fn vacate(&mut self, level: usize, digit: usize) {
        self.digits[level] &= !(1 << digit);
        if self.digits[level] == 0 {
            self.levels &= !(1 << level);
        }
    }

    /// Appends `slot` to bucket `(level, digit)`.
    #[inline(always)]
    fn put(&mut self, (level, digit): (usize, usize), slot: Slot<E>) {
        self.buckets[level * DIGITS + digit].push(slot);
        self.levels |= 1 << level;
        self.digits[level] |= 1 << digit;
    }

    /// Empties bucket `(level, digit)`, the lowest occupied one, against its
    /// earliest time `earliest`: the new base. Its events all go to lower
    /// levels (they agree with `earliest` from that digit up), the earliest
    /// ones to the (empty) FIFO.
    fn spill(&mut self, (level, digit): (usize, usize), earliest: Time) {
        let k = level * DIGITS + digit;
        self.vacate(level, digit);
        self.base = earliest;
        // Every bucket below `k` is empty, and only they receive.
        let (lower, from) = self.buckets.split_at_mut(k);
        for slot in from[0].drain(..) {
            if slot.time == earliest {
                self.fifo.push(slot);
            } else {
                let (l, d) = bucket(slot.time, earliest);
                lower[l * DIGITS + d].push(slot);
                self.levels |= 1 << l;
                self.digits[l] |= 1 << d;
            }
        }
        release(&mut from[0]);
    }

    /// Starts from empty at `base` (the current instant) with `slots` in
    /// `(time, seq)` order, none earlier than `base`.
    pub(super) fn fill(&mut self, base: Time, slots: impl Iterator<Item = Slot<E>>) {
        debug_assert!(self.len == 0 && self.fifo.is_empty() && self.levels == 0);
        self.base = base;
        for s in slots {
            self.len += 1;
            if s.time == base {
                self.fifo.push(s);
            } else {
                self.put(bucket(s.time, base), s);
            }
        }
        self.peak = self.peak.max(self.len);
    }

    /// Empties the queue into `out` in the order it would pop.
    pub(super) fn drain_into(&mut self, out: &mut Vec<Slot<E>>) {
        out.extend_from_slice(&self.fifo[self.head..]);
        self.fifo.clear();
        self.head = 0;
        let from = out.len();
        let mut levels = self.levels;
        while levels != 0 {
            let level = levels.trailing_zeros() as usize;
            levels &= levels - 1;
            let mut digits = self.digits[level];
            while digits != 0 {
                let digit = digits.trailing_zeros() as usize;
                digits &= digits - 1;
                out.append(&mut self.buckets[level * DIGITS + digit]);
            }
        }
        // Equal times share a bucket, in scheduling order: a stable sort.
        out[from..].sort_by_key(|s| s.time);
        self.levels = 0;
        self.digits = [0; LEVELS];
        self.len = 0;
    }

    /// Bytes this queue's buffers hold now.
    #[cfg(test)]
    pub(super) fn allocated_bytes(&self) -> usize {
        let slots = self.fifo.capacity() + self.buckets.iter().map(Vec::capacity).sum::<usize>();
        slots * std::mem::size_of::<Slot<E>>()
    }
}

/// Slots an emptied buffer may keep for reuse. Past that it is freed: each of
/// the 704 buckets would otherwise keep the most it ever held, which the
/// memory budget (counting a binary heap's bytes) does not see.
const KEEP: usize = 256;

/// Frees an empty buffer that grew past [`KEEP`] slots.
#[inline(always)]
fn release<T>(v: &mut Vec<T>) {
    debug_assert!(v.is_empty());
    if v.capacity() > KEEP {
        *v = Vec::new();
    }
}
