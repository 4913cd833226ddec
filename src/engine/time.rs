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
pub fn from_nanos_f64(ns: f64) -> Time {
    if ns.is_nan() || ns <= 0.0 {
        0
    } else if ns >= u64::MAX as f64 {
        u64::MAX
    } else {
        // ns > 0 here, so adding one half and truncating rounds to nearest
        // (ties up) without a call into libm's round().
        (ns + 0.5) as Time
    }
}
