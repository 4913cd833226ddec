//! A queue of small `Copy` values (first in, first out, and a value can be
//! put back at the head): a ring of power-of-two capacity read from a head
//! index. Its `push_back` and `pop_front` are a few instructions, inlined
//! where they are used (`VecDeque::push_back` is a call), and its capacity
//! grows as `VecDeque`'s does (none, then 4, then doubling when full), so the
//! memory budget counts the bytes it always counted.

/// A ring buffer queue (see the module's documentation).
#[derive(Clone, Debug, Default)]
pub struct Ring<T> {
    /// The slots; its length is the capacity, 0 or a power of two.
    buf: Vec<T>,
    /// The slot of the front value.
    head: usize,
    len: usize,
}

impl<T: Copy> Ring<T> {
    pub fn new() -> Self {
        Ring {
            buf: Vec::new(),
            head: 0,
            len: 0,
        }
    }

    #[inline(always)]
    pub fn push_back(&mut self, value: T) {
        if self.len == self.buf.len() {
            self.grow(value);
        }
        let slot = (self.head + self.len) & (self.buf.len() - 1);
        self.buf[slot] = value;
        self.len += 1;
    }

    /// Puts `value` before the front (a retried message back at its lane's head).
    pub fn push_front(&mut self, value: T) {
        if self.len == self.buf.len() {
            self.grow(value);
        }
        self.head = (self.head + self.buf.len() - 1) & (self.buf.len() - 1);
        self.buf[self.head] = value;
        self.len += 1;
    }

    #[inline(always)]
    pub fn pop_front(&mut self) -> Option<T> {
        if self.len == 0 {
            return None;
        }
        let value = self.buf[self.head];
        self.head = (self.head + 1) & (self.buf.len() - 1);
        self.len -= 1;
        Some(value)
    }

    #[inline(always)]
    pub fn front(&self) -> Option<&T> {
        if self.len == 0 {
            return None;
        }
        Some(&self.buf[self.head])
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// What `VecDeque::capacity` would say after the same pushes.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Empties the ring, keeping its capacity.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Takes every value out, front first (as `VecDeque::drain(..)`: the
    /// capacity stays).
    pub fn take_all(&mut self) -> Vec<T> {
        let all = (0..self.len)
            .map(|i| self.buf[(self.head + i) & (self.buf.len() - 1)])
            .collect();
        self.clear();
        all
    }

    /// Doubles the capacity (4 at first), the values moved to the front;
    /// the new slots hold copies of `fill` until written.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, fill: T) {
        let capacity = (self.buf.len() * 2).max(4);
        let mut buf = Vec::with_capacity(capacity);
        let (wrapped, front) = self.buf.split_at(self.head);
        buf.extend_from_slice(front);
        buf.extend_from_slice(wrapped);
        buf.resize(capacity, fill);
        self.buf = buf;
        self.head = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::Ring;
    use std::collections::VecDeque;

    /// The same values in the same order as a `VecDeque`, and the same
    /// capacity, through growth, wrapping (pushes at both ends), emptying,
    /// draining and clearing.
    #[test]
    fn a_ring_is_a_vecdeque_with_its_capacity() {
        let mut ring = Ring::new();
        let mut deque = VecDeque::new();
        let mut x = 0x2545_f491_u64;
        for step in 0..100_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Phases that grow the queue, then drain it.
            let pushing = (step / 5_000).is_multiple_of(2);
            match x % 8 {
                _ if step % 20_000 == 19_999 => {
                    ring.clear();
                    deque.clear();
                }
                _ if step % 7_000 == 6_999 => {
                    let all: Vec<u64> = deque.drain(..).collect();
                    assert_eq!(ring.take_all(), all, "step {step}");
                }
                n if n < if pushing { 4 } else { 1 } => {
                    ring.push_back(step);
                    deque.push_back(step);
                }
                n if n < if pushing { 5 } else { 2 } => {
                    ring.push_front(step);
                    deque.push_front(step);
                }
                _ => {
                    assert_eq!(ring.front(), deque.front(), "step {step}");
                    assert_eq!(ring.pop_front(), deque.pop_front(), "step {step}");
                }
            }
            assert_eq!(ring.len(), deque.len());
            assert_eq!(ring.is_empty(), deque.is_empty());
            assert_eq!(ring.capacity(), deque.capacity(), "step {step}");
        }
        assert!(ring.capacity() >= 1024, "{}", ring.capacity());
    }

    /// A push at the front of a full ring whose front is not its first slot
    /// grows it with the values in order, and `take_all` reads a wrapped ring
    /// front first.
    #[test]
    fn a_full_wrapped_ring_grows_and_drains_in_order() {
        let mut ring = Ring::new();
        let mut deque = VecDeque::new();
        for v in 0..8 {
            ring.push_back(v);
            deque.push_back(v);
        }
        for _ in 0..3 {
            assert_eq!(ring.pop_front(), deque.pop_front());
        }
        for v in 8..11 {
            ring.push_back(v);
            deque.push_back(v);
        }
        assert_eq!((ring.len(), ring.capacity()), (8, 8));
        assert_eq!(ring.head, 3, "full, its front in the fourth slot");
        ring.push_front(99);
        deque.push_front(99);
        assert_eq!(ring.capacity(), deque.capacity());
        assert_eq!(ring.capacity(), 16);
        for v in 11..20 {
            ring.push_back(v);
            deque.push_back(v);
            ring.push_front(100 + v);
            deque.push_front(100 + v);
        }
        assert_eq!(ring.capacity(), deque.capacity());
        assert_ne!(ring.head, 0, "wrapped");
        let all: Vec<u64> = deque.drain(..).collect();
        assert_eq!(ring.take_all(), all);
        assert_eq!((ring.len(), ring.capacity()), (0, deque.capacity()));
    }
}
