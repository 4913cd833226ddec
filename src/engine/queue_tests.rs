//! The event queue beside the plain binary heap and FIFO it stands for: the
//! same events in the same order, and the same bytes counted, after every
//! step, whatever sizes it switches at.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::queue::{EventQueue, SWITCH_DOWN, SWITCH_UP};

/// The plain queue: a binary heap of `(time, seq)` keys
/// and a FIFO for the current instant.
struct Plain {
    heap: BinaryHeap<Reverse<(u128, u64)>>,
    fifo: VecDeque<(u128, u64)>,
    now: u64,
    seq: u64,
}

impl Plain {
    fn schedule_at(&mut self, at: u64, e: u64) {
        let key = |t: u64, s: u64| (u128::from(t) << 64) | u128::from(s);
        if at <= self.now {
            self.fifo.push_back((key(self.now, self.seq), e));
        } else {
            self.heap.push(Reverse((key(at, self.seq), e)));
        }
        self.seq += 1;
    }

    fn pop_until(&mut self, until: u64) -> Option<u64> {
        let time = |k: u128| (k >> 64) as u64;
        let (key, e) = match (self.fifo.front(), self.heap.peek()) {
            (None, top) if time(top?.0.0) > until => return None,
            (None, _) => self.heap.pop()?.0,
            (Some(f), _) if time(f.0) > until => return None,
            (Some(f), Some(top)) if top.0.0 < f.0 => self.heap.pop()?.0,
            (Some(_), _) => self.fifo.pop_front()?,
        };
        self.now = time(key);
        Some(e)
    }

    fn bytes(&self) -> usize {
        (self.heap.capacity() + self.fifo.capacity()) * std::mem::size_of::<(u128, u64)>()
    }
}

/// Driven by the same random schedule (bursts past the heap's first 1,024
/// entries, many events for the current instant, the pending count
/// wandering about the switch), the hybrid queue runs the events in the
/// plain heap's order and counts the bytes the plain heap held, after
/// every step, whatever sizes it switches at.
#[test]
fn the_hybrid_runs_and_counts_as_the_plain_heap() {
    for (up, down) in [(8, 2), (40, 10), (300, 100), (SWITCH_UP, SWITCH_DOWN)] {
        let switches = side_by_side(up, down);
        assert!(switches > 10, "{up}/{down}: {switches} switches");
        eprintln!("{up}/{down}: {switches}");
    }
}

/// Runs the hybrid beside the plain heap; returns how often it switched.
fn side_by_side(up: usize, down: usize) -> usize {
    let mut old = Plain {
        heap: BinaryHeap::with_capacity(1024),
        fifo: VecDeque::new(),
        now: 0,
        seq: 0,
    };
    let mut new = EventQueue::with_switch(up, down);
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let (mut id, mut switches, mut radix) = (0, 0, false);
    for round in 0..40_000u64 {
        // Bursts: some rounds schedule many, so the heap passes 1,024 and
        // 2,048; otherwise a thousand rounds filling (1.5 events in, at
        // most one out), a thousand draining (0.5 in, up to four out).
        let filling = (round / 1_000).is_multiple_of(2);
        let burst = match (round % 5_000 < 40, filling) {
            (true, _) => 80,
            (false, true) => next() % 4,
            (false, false) => next() % 2,
        };
        for _ in 0..burst {
            let r = next();
            let delay = if r.is_multiple_of(4) {
                0
            } else {
                (r >> 8) % (1 << (r % 30))
            };
            old.schedule_at(old.now + delay, id);
            new.schedule_at(new.now() + delay, id);
            id += 1;
            assert_eq!(new.bytes(), old.bytes(), "round {round}");
        }
        for _ in 0..if filling { 1 } else { 4 } {
            let horizon = if filling { 1_000_000 } else { 1 << 31 };
            let until = old.now + next() % horizon;
            assert_eq!(new.pop_until(until), old.pop_until(until), "round {round}");
            assert_eq!(new.now(), old.now);
            assert_eq!(new.len(), old.heap.len() + old.fifo.len());
            assert_eq!(new.bytes(), old.bytes(), "round {round}");
        }
        switches += usize::from(new.is_radix() != radix);
        radix = new.is_radix();
    }
    assert!(old.heap.capacity() >= 2048, "{}", old.heap.capacity());
    // The buffers stay within a small multiple of what is counted.
    assert!(
        new.allocated_bytes() < 3 * new.bytes(),
        "{} {}",
        new.allocated_bytes(),
        new.bytes()
    );
    assert!(old.fifo.capacity() >= 8, "{}", old.fifo.capacity());
    switches
}
