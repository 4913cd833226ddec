//! Message sizes and link bandwidth: each direction of a link with a
//! `bandwidth` is a FIFO server that sends one message at a time, taking
//! size / bandwidth, at the sender's end, before the propagation latency.
//!
//! No event is needed: the link keeps the time it is next free, so a message
//! handed to it at `now` starts at max(now, free), is sent by start + size /
//! bandwidth, and arrives a latency later. Messages are taken in the order
//! they are handed to the link (the event order), O(1) each. A message of no
//! size, or a link without bandwidth, costs nothing and draws nothing.

use super::calls::Caller;
use super::world::World;
use crate::engine::time::from_nanos_f64;
use crate::engine::{Id, Stream, Time, stream};
use crate::metrics::LinkStats;
use crate::scenario::spec::{Scenario, Sizes, Step};

/// No size: a message that takes no time on a link. Size indices fit in a
/// `u16` (resolution allows at most [`crate::scenario::spec::MAX_SIZES`]), so an
/// attempt keeps its answer's size in the padding of its slot.
pub(super) const NO_SIZE: u16 = u16::MAX;

/// One direction of a link with a bandwidth.
#[derive(Clone, Debug)]
pub(super) struct LinkQueue {
    ns_per_byte: f64,
    /// When the message in progress (and those queued behind it) are all sent.
    free_at: Time,
    pub stats: LinkStats,
}

impl LinkQueue {
    pub fn new(bytes_per_s: f64) -> LinkQueue {
        LinkQueue {
            ns_per_byte: 1e9 / bytes_per_s,
            free_at: 0,
            stats: LinkStats::default(),
        }
    }

    /// A message of `bytes` handed to the link at `now`: returns the time until
    /// its last byte has left (wait plus serialisation). `window` is the measured
    /// time: messages handed over in it are counted, busy time is clipped to it.
    pub fn send(&mut self, now: Time, bytes: u64, window: (Time, Time)) -> Time {
        let serialise = from_nanos_f64(bytes as f64 * self.ns_per_byte);
        let start = now.max(self.free_at);
        let done = start.saturating_add(serialise);
        self.free_at = done;
        let (from, to) = window;
        let st = &mut self.stats;
        if (from..to).contains(&now) {
            st.messages += 1;
            st.bytes += u128::from(bytes);
            st.queue_ns += u128::from(start - now);
        }
        st.busy_ns += u128::from(done.min(to).saturating_sub(start.max(from)));
        done - now
    }

    /// The figures of a run that ended at `end`. `send` booked each message's
    /// busy time up to the window's end when it was handed over; a run the
    /// memory budget stopped early ends before that, and the link is busy
    /// without a gap from `end` to `free_at` (nothing is handed over after the
    /// end), so that part is taken back exactly: the utilisation stays ≤ 1.
    pub fn stats_until(&self, end: Time, window: (Time, Time)) -> LinkStats {
        let mut st = self.stats.clone();
        let booked_past_end = self.free_at.min(window.1).saturating_sub(end.max(window.0));
        st.busy_ns -= u128::from(booked_past_end).min(st.busy_ns);
        st
    }
}

/// The size streams, and each call step's sizes (by policy index: one per step).
pub(super) struct SizeState {
    rng: Vec<Stream>,
    by_policy: Vec<Sizes>,
    /// Each message's size, by its slot in the messages' arena (grown only
    /// when a publish has a size, so a scenario without sizes keeps none).
    message_bytes: Vec<u64>,
}

impl SizeState {
    pub fn new(s: &Scenario, seed: u64) -> SizeState {
        let mut by_policy = vec![Sizes::default(); s.policies.len()];
        for step in s.endpoints.iter().flat_map(|e| &e.steps) {
            if let Step::Calls(specs) = step {
                specs.iter().for_each(|c| by_policy[c.policy] = c.sizes);
            }
        }
        SizeState {
            rng: s.sizes.iter().map(|m| stream(seed, &m.stream)).collect(),
            by_policy,
            message_bytes: Vec::new(),
        }
    }

    pub fn set_message_bytes(&mut self, msg: Id, bytes: u64) {
        let i = msg.index();
        if bytes > 0 && self.message_bytes.len() <= i {
            self.message_bytes.resize(i + 1, 0);
        }
        if let Some(b) = self.message_bytes.get_mut(i) {
            *b = bytes;
        }
    }

    /// What the per-message sizes hold (they grow with the broker's backlog,
    /// so the memory budget counts them beside the messages' arena).
    pub fn bytes(&self) -> usize {
        self.message_bytes.capacity() * 8
    }

    pub fn message_bytes(&self, msg: Id) -> u64 {
        self.message_bytes.get(msg.index()).copied().unwrap_or(0)
    }
}

/// A spec's optional size index as the model keeps it.
pub(super) fn slot(size: Option<u32>) -> u16 {
    size.map_or(NO_SIZE, |i| i as u16)
}

impl World<'_> {
    /// Draws a message's size in bytes from `slot` (0 for no size).
    pub(super) fn draw_size(&mut self, slot: u16) -> u64 {
        if slot == NO_SIZE {
            return 0;
        }
        let s = self.s;
        s.sizes[slot as usize]
            .dist
            .sample(&mut self.sizes.rng[slot as usize])
    }

    /// The sizes of an attempt of a call by `caller` under `policy`.
    pub(super) fn call_sizes(&self, caller: Caller, policy: u32) -> Sizes {
        match caller {
            Caller::Client { workload } => self.s.workloads[workload as usize].sizes,
            Caller::Job(_) => self.sizes.by_policy[policy as usize],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LinkQueue;
    use crate::engine::time::MILLISECOND;

    #[test]
    fn a_direction_is_a_fifo_that_keeps_its_free_time() {
        // 12,500 bytes a ms: 100 Mbit/s.
        let mut q = LinkQueue::new(12.5e6);
        let window = (0, 100 * MILLISECOND);
        // Idle link: sent in 1 ms.
        assert_eq!(q.send(0, 12_500, window), MILLISECOND);
        // Handed over at 0.5 ms, it waits 0.5 ms, then takes 2 ms.
        assert_eq!(q.send(MILLISECOND / 2, 25_000, window), 5 * MILLISECOND / 2);
        // After the link is free again, no wait.
        assert_eq!(q.send(10 * MILLISECOND, 1_250, window), MILLISECOND / 10);
        assert_eq!(q.stats.messages, 3);
        assert_eq!(q.stats.bytes, 38_750);
        assert_eq!(q.stats.queue_ns, u128::from(MILLISECOND / 2));
        assert_eq!(q.stats.busy_ns, u128::from(31 * MILLISECOND / 10));
    }

    #[test]
    fn a_run_stopped_early_takes_back_the_busy_time_booked_past_its_end() {
        let mut q = LinkQueue::new(12.5e6);
        let window = (0, 100 * MILLISECOND);
        // Two 10 ms messages, at 0 and 1 ms: the link is busy until 20 ms.
        q.send(0, 125_000, window);
        q.send(MILLISECOND, 125_000, window);
        assert_eq!(q.stats.busy_ns, u128::from(20 * MILLISECOND));
        // Stopped at 5 ms (the memory budget): busy 5 ms of 5, not 20.
        let st = q.stats_until(5 * MILLISECOND, window);
        assert_eq!(st.busy_ns, u128::from(5 * MILLISECOND));
        // A run that reached the window's end keeps every figure.
        assert_eq!(
            q.stats_until(100 * MILLISECOND, window).busy_ns,
            q.stats.busy_ns
        );
        assert_eq!(st.messages, 2);
    }

    #[test]
    fn busy_time_is_clipped_to_the_measured_window_and_never_wraps() {
        let mut q = LinkQueue::new(1.0);
        let window = (10, 20);
        // Before the window: not counted, but its busy time inside it is.
        assert_eq!(q.send(0, 15, window), 15_000_000_000);
        assert_eq!(q.stats.messages, 0);
        assert_eq!(q.stats.busy_ns, 10);
        // A message too large for the clock saturates instead of wrapping.
        let d = q.send(15, u64::MAX / 2, window);
        assert_eq!(d, u64::MAX - 15);
    }
}
