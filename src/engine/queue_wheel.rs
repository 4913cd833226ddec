//! The event queue's large mode: a calendar queue (a timing wheel) of
//! [`BLOCKS`] blocks of 2^[`SHIFT`] ns, with a binary heap beside it for the
//! events due past the wheel's last block.
//!
//! The block of an event due at `t` is `t >> SHIFT`. `cur` is the block of
//! the current instant; the wheel holds the events of blocks `cur` to
//! `cur + BLOCKS - 1`, block `b` in bucket `b % BLOCKS`, so buckets in
//! circular order from `cur`'s are in time order. Each bucket is a list of
//! its events sorted by `(time, seq)` (they differ in time by less than a
//! block, so a list holds few, and a new event usually goes at its end);
//! a bitmap of occupied buckets, with a summary word over it, finds the next
//! one in a few instructions. An event due later than the wheel reaches goes
//! to the `far` heap, and moves into the wheel when `cur` comes within
//! reach of it. Events keep their `(time, seq)` key throughout, so ties run
//! in scheduling order and moving to and from the binary heap changes no order.
//!
//! Against the radix heap it replaces here (issue 13, fourth round), an event
//! is written once and read once instead of moving down a level or two: at a
//! few events per block (the reference models: ~80 pending over a few ms) a
//! push is an append and a pop the head of the first occupied list.

use std::collections::BinaryHeap;

use super::queue::Entry;
use super::time::Time;

/// Bits of time per block: 8.192 µs.
const SHIFT: u32 = 13;
/// Blocks in the wheel (a power of two, a multiple of 64): 16.8 ms of time.
const BLOCKS: usize = 2048;
const WORDS: usize = BLOCKS / 64;
/// No node: the end of a list, or an empty bucket.
const NIL: u32 = u32::MAX;

/// An event in a bucket's list (or on the free list, by `next`).
#[derive(Clone, Copy)]
struct Node<E> {
    time: Time,
    seq: u64,
    event: E,
    next: u32,
}

pub(super) struct Wheel<E> {
    /// Nodes of every list; freed nodes form the list from `free`.
    nodes: Vec<Node<E>>,
    free: u32,
    /// First node of each bucket's list (NIL when empty) and its last
    /// (stale when empty), side by side: a push reads both in one cache
    /// line. An array of the wheel's size: no bounds checks.
    ends: Box<[[u32; 2]; BLOCKS]>,
    /// Bit `i % 64` of `words[i / 64]`: bucket `i` is occupied; bit `w` of
    /// `summary`: `words[w]` is not zero.
    words: [u64; WORDS],
    summary: u64,
    /// The block of the current instant; no event is due before it.
    cur: u64,
    /// Events of blocks from `cur + BLOCKS` on.
    far: BinaryHeap<Entry<E>>,
    len: usize,
    /// The most events held at once, for the memory budget.
    peak: usize,
}

/// Where the next event is: a bucket of the wheel, or the far heap.
#[derive(Clone, Copy)]
pub(super) enum Next {
    Bucket(usize),
    Far,
}

impl<E: Copy> Wheel<E> {
    pub(super) fn new() -> Self {
        Wheel {
            nodes: Vec::new(),
            free: NIL,
            ends: Box::new([[NIL; 2]; BLOCKS]),
            words: [0; WORDS],
            summary: 0,
            cur: 0,
            far: BinaryHeap::new(),
            len: 0,
            peak: 0,
        }
    }

    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// The capacity a binary heap (`with_capacity(1024)`, growing by
    /// doubling) would have had, holding what this queue held.
    pub(super) fn heap_slots(&self) -> usize {
        self.peak.max(1024).next_power_of_two()
    }

    /// Queues `entry`, due no earlier than the current instant's block.
    #[inline(always)]
    pub(super) fn push(&mut self, entry: Entry<E>) {
        self.len += 1;
        super::raise(&mut self.peak, self.len);
        self.place(entry);
    }

    #[inline(always)]
    fn place(&mut self, entry: Entry<E>) {
        let time = entry.time();
        let block = time >> SHIFT;
        debug_assert!(block >= self.cur);
        if block - self.cur >= BLOCKS as u64 {
            self.far.push(entry);
            return;
        }
        let node = Node {
            time,
            seq: entry.key as u64,
            event: entry.event,
            next: NIL,
        };
        let i = self.alloc(node);
        let b = block as usize & (BLOCKS - 1);
        if self.ends[b][0] == NIL {
            self.ends[b][0] = i;
            self.ends[b][1] = i;
            self.words[b >> 6] |= 1 << (b & 63);
            self.summary |= 1 << (b >> 6);
            return;
        }
        let last = self.ends[b][1];
        if Self::before(&self.nodes[last as usize], &node) {
            self.nodes[last as usize].next = i;
            self.ends[b][1] = i;
        } else {
            self.insert_sorted(b, i);
        }
    }

    #[inline(always)]
    fn before(a: &Node<E>, b: &Node<E>) -> bool {
        (a.time, a.seq) < (b.time, b.seq)
    }

    /// Puts node `i` in bucket `b`'s list before its last node, in order.
    #[cold]
    fn insert_sorted(&mut self, b: usize, i: u32) {
        let node = self.nodes[i as usize];
        let first = self.ends[b][0];
        if Self::before(&node, &self.nodes[first as usize]) {
            self.nodes[i as usize].next = first;
            self.ends[b][0] = i;
            return;
        }
        let mut prev = first;
        loop {
            let next = self.nodes[prev as usize].next;
            // The last node is after `node`, so `next` is never NIL here.
            if Self::before(&node, &self.nodes[next as usize]) {
                self.nodes[i as usize].next = next;
                self.nodes[prev as usize].next = i;
                return;
            }
            prev = next;
        }
    }

    #[inline(always)]
    fn alloc(&mut self, node: Node<E>) -> u32 {
        if self.free == NIL {
            let i = u32::try_from(self.nodes.len()).expect("event queue exceeds u32 nodes");
            self.nodes.push(node);
            i
        } else {
            let i = self.free;
            self.free = self.nodes[i as usize].next;
            self.nodes[i as usize] = node;
            i
        }
    }

    /// Where the next event is, without taking it.
    #[inline(always)]
    pub(super) fn peek(&self) -> Option<Next> {
        match self.first_bucket() {
            Some(b) => Some(Next::Bucket(b)),
            None => self.far.peek().map(|_| Next::Far),
        }
    }

    /// The `(time, seq)` key of the event `peek` found.
    #[inline]
    pub(super) fn key(&self, at: Next) -> u128 {
        match at {
            Next::Bucket(b) => {
                let n = &self.nodes[self.ends[b][0] as usize];
                (u128::from(n.time) << 64) | u128::from(n.seq)
            }
            Next::Far => self.far.peek().expect("peeked").key,
        }
    }

    /// The first occupied bucket in circular order from `cur`'s.
    #[inline(always)]
    fn first_bucket(&self) -> Option<usize> {
        if self.summary == 0 {
            return None;
        }
        let p = self.cur as usize & (BLOCKS - 1);
        let w = p >> 6;
        let here = self.words[w] & (u64::MAX << (p & 63));
        if here != 0 {
            return Some(w << 6 | here.trailing_zeros() as usize);
        }
        // Words after `w`, else from the first: the wheel's later blocks.
        let after = self.summary & !((2u64 << w).wrapping_sub(1));
        let w = if after != 0 { after } else { self.summary }.trailing_zeros() as usize;
        Some(w << 6 | self.words[w].trailing_zeros() as usize)
    }

    /// Takes the event `peek` found (its time and itself); the current
    /// block becomes its block.
    #[inline(always)]
    pub(super) fn pop(&mut self, at: Next) -> (Time, E) {
        self.len -= 1;
        let (time, event) = match at {
            Next::Bucket(b) => self.take_head(b, Time::MAX).expect("peeked"),
            Next::Far => {
                let e = self.far.pop().expect("peeked");
                (e.time(), e.event)
            }
        };
        self.advance(time >> SHIFT);
        (time, event)
    }

    /// Takes the next event if it is due at or before `until` (`peek` and
    /// `pop` in one, for when no event for the current instant competes).
    #[inline(always)]
    pub(super) fn pop_until(&mut self, until: Time) -> Option<(Time, E)> {
        let Some(b) = self.first_bucket() else {
            if self.far.peek()?.time() > until {
                return None;
            }
            return Some(self.pop(Next::Far));
        };
        let (time, event) = self.take_head(b, until)?;
        self.len -= 1;
        self.advance(time >> SHIFT);
        Some((time, event))
    }

    /// Unlinks bucket `b`'s first event (its node to the free list) if it
    /// is due at or before `until`.
    #[inline(always)]
    fn take_head(&mut self, b: usize, until: Time) -> Option<(Time, E)> {
        let i = self.ends[b][0];
        let n = &mut self.nodes[i as usize];
        if n.time > until {
            return None;
        }
        let (time, event, next) = (n.time, n.event, n.next);
        n.next = self.free;
        self.free = i;
        self.ends[b][0] = next;
        // Without branches: whether the list is now empty is a coin toss.
        let w = b >> 6;
        self.words[w] &= !(u64::from(next == NIL) << (b & 63));
        self.summary &= !(u64::from(self.words[w] == 0) << w);
        Some((time, event))
    }

    /// Moves the current block to `block`, and the far events now within
    /// the wheel's reach into it.
    #[inline(always)]
    fn advance(&mut self, block: u64) {
        // No test of `block == cur` (a coin toss at a few events a block):
        // the far heap's test below is as cheap and always decided alike.
        self.cur = block;
        while let Some(top) = self.far.peek()
            && (top.time() >> SHIFT) - block < BLOCKS as u64
        {
            let entry = self.far.pop().expect("peeked");
            self.place(entry);
        }
    }

    /// Starts from empty at `now` with `entries`, none earlier than `now`.
    pub(super) fn fill(&mut self, now: Time, entries: impl Iterator<Item = Entry<E>>) {
        debug_assert!(self.len == 0);
        self.cur = now >> SHIFT;
        for e in entries {
            self.push(e);
        }
    }

    /// Empties the wheel into `out` (in no particular order).
    pub(super) fn drain_into(&mut self, out: &mut Vec<Entry<E>>) {
        while self.summary != 0 {
            let b = self.first_bucket().expect("occupied");
            let mut i = self.ends[b][0];
            while i != NIL {
                let n = self.nodes[i as usize];
                out.push(Entry::new(n.time, n.seq, n.event));
                i = n.next;
            }
            self.ends[b][0] = NIL;
            self.ends[b][1] = NIL;
            self.words[b >> 6] &= !(1 << (b & 63));
            if self.words[b >> 6] == 0 {
                self.summary &= !(1 << (b >> 6));
            }
        }
        out.extend(self.far.drain());
        self.nodes.clear();
        self.free = NIL;
        self.len = 0;
    }

    /// Bytes this queue's buffers hold now.
    #[cfg(test)]
    pub(super) fn allocated_bytes(&self) -> usize {
        self.nodes.capacity() * std::mem::size_of::<Node<E>>()
            + self.far.capacity() * std::mem::size_of::<Entry<E>>()
            + 2 * BLOCKS * 4
    }
}
