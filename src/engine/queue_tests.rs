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
    // (1, 0): the wheel from the second event on, for good.
    for (up, down) in [
        (1, 0),
        (8, 2),
        (40, 10),
        (300, 100),
        (SWITCH_UP, SWITCH_DOWN),
    ] {
        let switches = side_by_side(up, down);
        let least = if down == 0 { 1 } else { 10 };
        assert!(switches >= least, "{up}/{down}: {switches} switches");
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
    let mut next = xorshift(0x2545_F491_4F6C_DD1D);
    let (mut id, mut switches, mut wheel) = (0, 0, false);
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
        switches += usize::from(new.is_wheel() != wheel);
        wheel = new.is_wheel();
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

/// A small xorshift for the random schedules of these tests.
fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// The order of a random schedule is the order of `(time, seq)`, with many
/// ties, delays of every scale (0 to 2^40 ns) and the horizon of
/// `pop_until` stopping short now and then: in the wheel for good, and
/// in the hybrid.
#[test]
fn random_schedules_run_in_time_then_scheduling_order() {
    for (up, down) in [(1, 0), (SWITCH_UP, SWITCH_DOWN)] {
        for seed in 1..40u64 {
            let got = random_schedule(EventQueue::with_switch(up, down), seed);
            let mut expected = got.clone();
            // Ids increase with seq: the expected order is by (time, id).
            expected.sort_unstable();
            assert_eq!(got, expected, "{up}/{down}, seed {seed}");
        }
    }
}

/// Runs a random schedule of 5,000 events; returns (time, id) as popped.
fn random_schedule(mut q: EventQueue<u64>, seed: u64) -> Vec<(u64, u64)> {
    let mut next = xorshift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut got = Vec::new();
    let mut id = 0u64;
    let schedule = |q: &mut EventQueue<u64>, r: u64, id: &mut u64| {
        let scale = r % 41;
        let delay = if r.is_multiple_of(3) {
            r % 4
        } else {
            (r >> 8) % (1 << scale)
        };
        q.schedule_at(q.now() + delay, *id);
        *id += 1;
    };
    for _ in 0..50 {
        schedule(&mut q, next(), &mut id);
    }
    let mut until = 0;
    loop {
        let Some(e) = q.pop_until(until) else {
            if q.is_empty() {
                break;
            }
            until += 1 + next() % (1 << (next() % 41));
            continue;
        };
        assert!(q.now() <= until);
        got.push((q.now(), e));
        if id < 5000 {
            for _ in 0..(next() % 3) {
                schedule(&mut q, next(), &mut id);
            }
        }
    }
    assert_eq!(got.len() as u64, id);
    got
}

/// The hold model with many events pending (the wheel's case): 16,384
/// events, each popped one rescheduled 1 ms ahead on average, 300,000 times.
/// The wheel's events live in one buffer of nodes reused through a free
/// list, so it holds about what the binary heap would have.
#[test]
fn the_buffers_stay_bounded_under_the_hold_model() {
    let mut q: EventQueue<u64> = EventQueue::new();
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    let mut gap = || {
        let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
        (-(1.0 - u).ln() * 1e6) as u64 + 1
    };
    for e in 0..16_384 {
        q.schedule_in(gap(), e);
    }
    for _ in 0..300_000 {
        let e = q.pop_until(u64::MAX).expect("always pending");
        q.schedule_in(gap(), e);
    }
    assert!(q.is_wheel());
    let (held, counted) = (q.allocated_bytes(), q.bytes());
    assert!(held <= 2 * counted, "{held} {counted}");
}

/// Many events in one of the wheel's blocks (8.192 µs): ties, and times
/// scheduled latest first so that a new event goes before the block's others
/// (its list is walked); with them, events past the wheel's reach (its far
/// heap) and the horizon of `pop_until` stopping short. The order is
/// `(time, seq)`'s, in the wheel for good and in the hybrid.
#[test]
fn events_crowded_in_a_block_run_in_time_then_scheduling_order() {
    for (up, down) in [(1, 0), (SWITCH_UP, SWITCH_DOWN)] {
        let mut q = EventQueue::with_switch(up, down);
        let mut expected = Vec::new();
        let mut got = Vec::new();
        for id in 0..3_000u64 {
            let at = match id % 3 {
                0 => 16_383 - (id % 97),
                1 => 9_000 + (id % 5),
                _ => 1_000_000_000 + (id % 7) * 5_000_000,
            }
            .max(q.now());
            q.schedule_at(at, id);
            expected.push((at, id));
            if id % 10 == 9 {
                got.extend(q.pop_until(9_002).map(|e| (q.now(), e)));
            }
        }
        got.extend(std::iter::from_fn(|| {
            q.pop_until(u64::MAX).map(|e| (q.now(), e))
        }));
        expected.sort_unstable();
        assert_eq!(got, expected, "{up}/{down}");
    }
}
