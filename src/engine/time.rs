//! Simulated time: `u64` nanoseconds, so that ties are exact and runs are reproducible.

/// A point in simulated time, or a duration, in nanoseconds.
pub type Time = u64;

pub const NANOSECOND: Time = 1;
pub const MICROSECOND: Time = 1_000;
pub const MILLISECOND: Time = 1_000_000;
pub const SECOND: Time = 1_000_000_000;
pub const MINUTE: Time = 60 * SECOND;
pub const HOUR: Time = 60 * MINUTE;

/// Seconds as a float, for reports.
pub fn as_secs(t: Time) -> f64 {
    t as f64 / SECOND as f64
}

/// Milliseconds as a float, for reports.
pub fn as_millis(t: Time) -> f64 {
    t as f64 / MILLISECOND as f64
}

/// Rounds a non-negative float nanosecond count to `Time`, saturating.
#[inline]
pub fn from_nanos_f64(ns: f64) -> Time {
    // Below 2^63 the signed conversion gives the unsigned one's integer in
    // fewer instructions (x86-64 converts to unsigned in two steps). It
    // saturates: NaN gives 0, a negative value at most 0, and 2^63 or more
    // i64::MAX, which no smaller value gives (doubles near 2^63 are 1,024 apart).
    // Adding one half and truncating rounds a positive value to nearest (ties
    // up) without a call into libm's round().
    let signed = (ns + 0.5) as i64;
    if signed != i64::MAX {
        return signed.max(0) as Time;
    }
    // 2^63 or more (infinity included): the unsigned conversion saturates too.
    (ns + 0.5) as Time
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The conversion as it was, with the unsigned cast alone.
    fn unsigned_only(ns: f64) -> Time {
        if ns.is_nan() || ns <= 0.0 {
            0
        } else if ns >= u64::MAX as f64 {
            u64::MAX
        } else {
            (ns + 0.5) as Time
        }
    }

    /// The signed shortcut gives the unsigned conversion's integer for every
    /// value tried: the ends, halves, the neighbours of 2^52, 2^63 and 2^64,
    /// and two million random bit patterns.
    #[test]
    fn from_nanos_f64_rounds_as_the_unsigned_conversion() {
        let two63 = 9_223_372_036_854_775_808.0_f64;
        let mut cases = vec![
            0.0,
            -0.0,
            -1.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::MIN_POSITIVE,
            0.499_999_999_999_999_94,
            0.5,
            1.5,
            2.5,
            4_503_599_627_370_495.5,
            f64::MAX,
        ];
        for base in [4_503_599_627_370_496.0, two63, u64::MAX as f64] {
            let (mut up, mut down) = (base, base);
            for _ in 0..64 {
                cases.extend([up, down]);
                up = f64::from_bits(up.to_bits() + 1);
                down = f64::from_bits(down.to_bits() - 1);
            }
        }
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..1_000_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Any pattern, and one with a small exponent (finite, mostly positive).
            cases.extend([f64::from_bits(x), f64::from_bits(x >> 2)]);
        }
        for ns in cases {
            assert_eq!(from_nanos_f64(ns), unsigned_only(ns), "{ns:e}");
        }
        assert_eq!(from_nanos_f64(2.5), 3);
        assert_eq!(from_nanos_f64(two63), 1 << 63);
    }
}
