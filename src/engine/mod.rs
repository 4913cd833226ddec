//! The discrete-event core: a clock, an event queue, arenas and random streams.
//!
//! Nothing here knows what is being simulated. Time is an integer count of
//! nanoseconds, events are whatever closed enum the model defines, and every
//! random draw comes from a stream named by the model and derived from the seed.

pub mod arena;
pub mod dist;
pub mod ps;
pub mod queue;
#[cfg(test)]
mod queue_tests;
mod queue_wheel;
pub mod ring;
pub mod rng;
pub mod time;

pub use arena::{Arena, Id};
pub use dist::Dist;
pub use queue::EventQueue;
pub use ring::Ring;
pub use rng::{Stream, stream};
pub use time::Time;

/// Raises `peak` to `x` when `x` is above it. A peak moves seldom: this
/// stores only then, where `*peak = (*peak).max(x)` stores at every update
/// on the hot path.
#[inline(always)]
pub fn raise<T: PartialOrd>(peak: &mut T, x: T) {
    if x > *peak {
        *peak = x;
    }
}
