//! The event queue alone, as a sorted array, as a timing wheel, and as the
//! hybrid that switches between them, on the classic "hold" model: `n`
//! events pending, each step pops the earliest and schedules one at an
//! exponential delay after it (mean 1 ms, integer nanoseconds). It shows
//! where the wheel starts to pay, which sets `queue::SWITCH_UP`.
//!
//! `taskset -c 1 cargo bench --bench queue [-- REPETITIONS]` (default 5):
//! nanoseconds per step (a pop and a push), medians, modes alternating.

mod common;

use std::time::Instant;

use meshsim::engine::EventQueue;

/// An event of about the model's size (a tag and an id).
type Payload = [u32; 3];

const STEPS: usize = 4_000_000;

/// The most events pending the sorted array alone is timed with.
const SORTED_UP_TO: usize = 256;

/// A small xorshift: the same schedule for every mode.
fn xorshift(mut x: u64) -> impl FnMut() -> u64 {
    move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    }
}

/// Nanoseconds per step of the hold model with `n` pending events.
fn hold(mut q: EventQueue<Payload>, n: usize) -> f64 {
    let mut next = xorshift(0x9E37_79B9_7F4A_7C15);
    let mut delay = move || {
        let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
        (-(1.0 - u).ln() * 1e6) as u64
    };
    for i in 0..n {
        q.schedule_in(delay(), [i as u32; 3]);
    }
    let start = Instant::now();
    let mut sum = 0u64;
    for _ in 0..STEPS {
        let e = q.pop_until(u64::MAX).expect("n events pending");
        sum = sum.wrapping_add(u64::from(e[0]));
        q.schedule_in(delay(), e);
    }
    let ns = start.elapsed().as_nanos() as f64 / STEPS as f64;
    std::hint::black_box(sum);
    ns
}

fn main() {
    let reps = common::repetitions();
    type Make = fn() -> EventQueue<Payload>;
    let modes: [(&str, Make); 3] = [
        ("sorted array", || EventQueue::with_switch(usize::MAX, 0)),
        ("wheel", || EventQueue::with_switch(1, 0)),
        ("hybrid", EventQueue::new),
    ];
    println!("ns per step (pop + push), medians of {reps}\n");
    print!("{:>8}", "pending");
    for (name, _) in &modes {
        print!(" {name:>12}");
    }
    println!();
    for n in [2, 4, 8, 16, 32, 48, 64, 96, 128, 256, 1024, 16384] {
        let mut times = vec![Vec::new(); modes.len()];
        for r in 0..reps {
            for k in 0..modes.len() {
                let k = (k + r) % modes.len();
                // A sorted array moves about half its entries per push:
                // past a few hundred it is not worth the wait.
                if k == 0 && n > SORTED_UP_TO {
                    continue;
                }
                times[k].push(hold(modes[k].1(), n));
            }
        }
        print!("{n:>8}");
        for t in &mut times {
            t.sort_by(f64::total_cmp);
            match t.get(t.len() / 2) {
                Some(ns) => print!(" {ns:>12.1}"),
                None => print!(" {:>12}", "-"),
            }
        }
        println!();
    }
}
