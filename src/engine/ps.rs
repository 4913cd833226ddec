//! A processor-sharing server kept in virtual time: its `n` jobs share a
//! capacity of `c` servers, each progressing at min(1, c / n).
//!
//! The virtual clock V counts the service one job has received since the
//! server was last empty: it advances at min(1, c / n) per unit of real time.
//! A job that starts with `w` of work finishes when V reaches its *tag*
//! V(start) + w, whatever arrives after it, so the order of completions is the
//! order of tags: the next one is the top of a heap, and a start, a finish or a
//! change of `n` costs O(log n), never a pass over the jobs.
//!
//! V is fixed point (2⁻³² ns per unit) in integer arithmetic, with the
//! remainder of its division carried while `n` stays the same, so a job is
//! found finished exactly at the instant [`PsQueue::next_finish`] gave (rounded
//! up to the nanosecond), and every result is exact and deterministic.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::time::Time;

/// Bits of fixed point in V: 2³² units per nanosecond of work.
const FRACTION_BITS: u32 = 32;
/// The capacity is counted in thousandths of a server (Kubernetes' millicores).
pub const MILLI: u64 = 1000;

struct Entry<T> {
    tag: u128,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.tag == other.tag && self.seq == other.seq
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    // Reversed: BinaryHeap is a max-heap and the smallest tag finishes first;
    // equal tags finish in the order the jobs started.
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .tag
            .cmp(&self.tag)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// A processor-sharing server of `capacity` thousandths of a server.
pub struct PsQueue<T> {
    capacity: u64,
    /// Virtual time, in 2⁻³² ns, and the remainder of its last division (in 1/den units).
    v: u128,
    remainder: u128,
    /// Real time up to which `v` is advanced.
    since: Time,
    heap: BinaryHeap<Entry<T>>,
    seq: u64,
}

impl<T> PsQueue<T> {
    /// A server of `capacity` thousandths of a server (1000 = one core).
    pub fn new(capacity: u32) -> Self {
        assert!(capacity > 0, "a processor-sharing server needs capacity");
        PsQueue {
            capacity: u64::from(capacity),
            v: 0,
            remainder: 0,
            since: 0,
            heap: BinaryHeap::new(),
            seq: 0,
        }
    }

    /// Jobs in service.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// Bytes held by the jobs' heap (for a memory budget).
    pub fn bytes(&self) -> usize {
        self.heap.capacity() * std::mem::size_of::<Entry<T>>()
    }

    /// Thousandths of a server in use: min(capacity, 1000 n).
    pub fn busy(&self) -> u64 {
        (self.heap.len() as u64 * MILLI).min(self.capacity)
    }

    /// The rate of V as a fraction num / den: min(1000 n, capacity) / 1000 n.
    fn rate(&self) -> (u128, u128) {
        let den = u128::from(self.heap.len() as u64 * MILLI);
        (den.min(u128::from(self.capacity)), den)
    }

    /// Moves V to real time `now`.
    fn advance(&mut self, now: Time) {
        assert!(now >= self.since, "time runs forward");
        if !self.heap.is_empty() && now > self.since {
            let (num, den) = self.rate();
            let total = (u128::from(now - self.since) << FRACTION_BITS) * num + self.remainder;
            self.v += total / den;
            self.remainder = total % den;
        }
        self.since = now;
    }

    /// A job with `work` nanoseconds of work starts at `now`.
    pub fn push(&mut self, now: Time, work: Time, item: T) {
        self.advance(now);
        if self.heap.is_empty() {
            // A new busy period: V starts again from zero, so it stays small.
            self.v = 0;
        }
        // `n` changes: the remainder (under one unit) belongs to the old rate.
        self.remainder = 0;
        let tag = self.v + (u128::from(work) << FRACTION_BITS);
        self.heap.push(Entry {
            tag,
            seq: self.seq,
            item,
        });
        self.seq += 1;
    }

    /// When the first job finishes if no job starts meanwhile (None if empty).
    pub fn next_finish(&mut self, now: Time) -> Option<Time> {
        self.advance(now);
        let top = self.heap.peek()?;
        let left = top.tag.saturating_sub(self.v);
        let (num, den) = self.rate();
        // The real time in which V covers `left`, rounded up to a nanosecond,
        // less what the carried remainder already holds.
        let need = (left * den).saturating_sub(self.remainder);
        let per_ns = num << FRACTION_BITS;
        let delay = need.div_ceil(per_ns);
        // Past the clock's range (hours of work on a thousandth of a core) it
        // finishes never: at Time::MAX, after any run's end.
        Some(now.saturating_add(Time::try_from(delay).unwrap_or(Time::MAX)))
    }

    /// The job that has finished by `now`, if any (one at a time, by tag).
    pub fn pop_finished(&mut self, now: Time) -> Option<T> {
        self.advance(now);
        if self.heap.peek()?.tag > self.v {
            return None;
        }
        let done = self.heap.pop().expect("peeked");
        self.remainder = 0;
        if self.heap.is_empty() {
            self.v = 0;
        }
        Some(done.item)
    }

    /// Every job leaves at once (the server is gone); returns how many there were.
    pub fn clear(&mut self, now: Time) -> usize {
        self.advance(now);
        let n = self.heap.len();
        self.heap.clear();
        self.v = 0;
        self.remainder = 0;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs jobs (start, work) to completion with no other event; returns finish times.
    fn finishes(capacity: u32, jobs: &[(Time, Time)]) -> Vec<(usize, Time)> {
        let mut q = PsQueue::new(capacity);
        let mut out = Vec::new();
        let mut next = 0;
        let mut now = 0;
        loop {
            let finish = q.next_finish(now);
            let start = jobs.get(next).map(|j| j.0);
            match (finish, start) {
                (None, None) => return out,
                (Some(f), s) if s.is_none_or(|s| f < s) => {
                    now = f;
                    let i = q.pop_finished(now).expect("finished on time");
                    out.push((i, now));
                }
                (_, s) => {
                    now = s.expect("a start comes first");
                    q.push(now, jobs[next].1, next);
                    next += 1;
                }
            }
        }
    }

    #[test]
    fn one_core_two_equal_jobs_take_twice_as_long() {
        assert_eq!(finishes(1000, &[(0, 10), (0, 10)]), vec![(0, 20), (1, 20)]);
    }

    #[test]
    fn a_short_job_overtakes_a_long_one() {
        // 0..10: both at half speed (5 of each done); the short one needs 5 more.
        assert_eq!(
            finishes(1000, &[(0, 100), (0, 10)]),
            vec![(1, 20), (0, 110)]
        );
    }

    #[test]
    fn enough_cores_run_at_full_speed() {
        assert_eq!(finishes(2000, &[(0, 10), (3, 10)]), vec![(0, 10), (1, 13)]);
    }

    #[test]
    fn half_a_core_halves_the_speed() {
        assert_eq!(finishes(500, &[(0, 10)]), vec![(0, 20)]);
    }

    #[test]
    fn three_jobs_on_two_cores_with_rounding_up() {
        // Rate 2/3 each: 10 of work takes 15 ns.
        assert_eq!(
            finishes(2000, &[(0, 10), (0, 10), (0, 10)]),
            vec![(0, 15), (1, 15), (2, 15)]
        );
        // 7 of work at 2/3 is 10.5 ns: finished at 11, never early.
        let f = finishes(2000, &[(0, 7), (0, 7), (0, 7)]);
        assert!(f.iter().all(|&(_, t)| t == 11), "{f:?}");
    }

    #[test]
    fn work_past_the_clocks_range_finishes_never() {
        // 6000 h on a thousandth of a core, behind another job: beyond u64 ns.
        let mut q = PsQueue::new(1);
        q.push(0, 6000 * 3600 * 1_000_000_000, 0);
        q.push(0, 6000 * 3600 * 1_000_000_000, 1);
        assert_eq!(q.next_finish(5), Some(Time::MAX));
        let mut q = PsQueue::new(1);
        q.push(0, u64::MAX / 1000 + 1, 0);
        assert_eq!(q.next_finish(u64::MAX / 2), Some(Time::MAX));
    }

    #[test]
    fn clear_empties_and_busy_counts_cores() {
        let mut q = PsQueue::new(1500);
        q.push(0, 10, 0);
        assert_eq!(q.busy(), 1000);
        q.push(0, 10, 1);
        assert_eq!(q.busy(), 1500);
        assert_eq!(q.clear(5), 2);
        assert!(q.is_empty() && q.next_finish(5).is_none());
    }
}
