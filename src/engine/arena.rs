//! Slot arenas for in-flight state, addressed by generation-checked ids.
//!
//! An [`Id`] names a slot and the generation it was allocated in. Freeing a slot
//! bumps its generation, so an event that still carries the old id (a timer that
//! was "cancelled", a reply to a request that already timed out) finds nothing
//! and is skipped: this is the lazy cancellation the event queue relies on.

/// A handle into an [`Arena`]: slot index and generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Id {
    index: u32,
    generation: u32,
}

impl Id {
    pub fn index(self) -> usize {
        self.index as usize
    }

    /// The id as one number, unique over the arena's whole life.
    pub fn to_bits(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }

    /// The id whose [`Id::to_bits`] is `bits` (a number carried where an id
    /// fits; it names a slot only if it came from one).
    pub fn from_bits(bits: u64) -> Id {
        Id {
            index: bits as u32,
            generation: (bits >> 32) as u32,
        }
    }
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// A vector of slots with a free list. Memory is bounded by the peak number of
/// live values, not by how many were ever allocated.
pub struct Arena<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    live: usize,
}

impl<T> Default for Arena<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Arena<T> {
    pub fn new() -> Self {
        Arena {
            slots: Vec::new(),
            free: Vec::new(),
            live: 0,
        }
    }

    #[inline(always)]
    pub fn insert(&mut self, value: T) -> Id {
        self.live += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.value = Some(value);
            Id {
                index,
                generation: slot.generation,
            }
        } else {
            let index = u32::try_from(self.slots.len()).expect("arena exceeds u32 slots");
            self.slots.push(Slot {
                generation: 0,
                value: Some(value),
            });
            Id {
                index,
                generation: 0,
            }
        }
    }

    #[inline]
    pub fn get(&self, id: Id) -> Option<&T> {
        let slot = self.slots.get(id.index as usize)?;
        if slot.generation == id.generation {
            slot.value.as_ref()
        } else {
            None
        }
    }

    #[inline]
    pub fn get_mut(&mut self, id: Id) -> Option<&mut T> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation == id.generation {
            slot.value.as_mut()
        } else {
            None
        }
    }

    /// Removes and returns the value; the id (and any copy of it) becomes stale.
    #[inline]
    pub fn remove(&mut self, id: Id) -> Option<T> {
        let slot = self.slots.get_mut(id.index as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.index);
        self.live -= 1;
        Some(value)
    }

    /// Number of live values.
    pub fn len(&self) -> usize {
        self.live
    }

    /// Bytes one slot takes.
    pub fn slot_bytes() -> usize {
        std::mem::size_of::<Slot<T>>()
    }

    /// Bytes the arena holds (its capacity, live or not).
    pub fn bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot<T>>() + self.free.capacity() * 4
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Live values in slot order (deterministic).
    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.slots.iter().filter_map(|s| s.value.as_ref())
    }

    /// Ids of the live values for which `keep` holds, in slot order.
    pub fn ids_where(&self, keep: impl Fn(&T) -> bool) -> Vec<Id> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let v = s.value.as_ref()?;
                keep(v).then_some(Id {
                    index: i as u32,
                    generation: s.generation,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_ids_find_nothing() {
        let mut a = Arena::new();
        let x = a.insert("x");
        assert_eq!(a.remove(x), Some("x"));
        let y = a.insert("y");
        assert_eq!(x.index(), y.index(), "slot is reused");
        assert_eq!(a.get(x), None, "old generation is stale");
        assert_eq!(a.remove(x), None);
        assert_eq!(a.get(y), Some(&"y"));
        assert_eq!(a.len(), 1);
    }
}
