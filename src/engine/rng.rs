//! Named random streams derived from the seed.
//!
//! Each component draws from its own stream, seeded by a stable hash of the run's
//! seed and the stream's name ("workload/checkout/arrivals"). Adding a component
//! adds a stream and changes nobody else's draws; two scenarios compared under
//! one seed see the same arrivals (common random numbers). The generator is
//! xoshiro256++, whose algorithm is fixed, unlike `StdRng`'s.

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// A random stream.
pub type Stream = Xoshiro256PlusPlus;

/// The stream called `name` for the run seeded with `seed`.
pub fn stream(seed: u64, name: &str) -> Stream {
    Stream::seed_from_u64(stable_hash(seed, name))
}

/// FNV-1a over the seed's bytes and the name, finished with a SplitMix64 step.
/// Stable across platforms, releases and runs (unlike `std`'s `DefaultHasher`).
pub fn stable_hash(seed: u64, name: &str) -> u64 {
    // Two loops rather than one over a chain: the same bytes in the same
    // order, without a test of which half each byte comes from (this runs
    // once per keyed publish, to find its partition).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.to_le_bytes() {
        h = fnv1a_step(h, b);
    }
    for &b in name.as_bytes() {
        h = fnv1a_step(h, b);
    }
    splitmix64(h)
}

#[inline(always)]
fn fnv1a_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    #[test]
    fn streams_are_stable_and_independent() {
        let a1: u64 = stream(42, "a").random();
        let a2: u64 = stream(42, "a").random();
        let b: u64 = stream(42, "b").random();
        let a_other_seed: u64 = stream(43, "a").random();
        assert_eq!(a1, a2);
        assert_ne!(a1, b);
        assert_ne!(a1, a_other_seed);
        // Pinned so that a change of algorithm or hash cannot slip by unnoticed:
        // this value is part of the reproducibility promise.
        assert_eq!(a1, PINNED_FIRST_DRAW);
    }

    const PINNED_FIRST_DRAW: u64 = 3_939_037_588_441_028_818;
}
