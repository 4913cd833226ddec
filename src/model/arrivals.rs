//! Open-loop arrivals: the time of the next request of a workload.
//!
//! Poisson arrivals at a fixed rate draw exponential gaps; a time-varying rate
//! (ramp, bursts, schedule) is sampled by thinning (Lewis and Shedler): candidates
//! at the peak rate, each kept with probability rate(t) / peak. Constant
//! arrivals are equally spaced, accumulated in floating point so they do not drift.
//! Replayed arrivals are the given times, as they are.

use rand::RngExt;
use rand_distr::{Distribution, Exp1};

use crate::engine::time::{SECOND, from_nanos_f64};
use crate::engine::{Stream, Time};
use crate::scenario::spec::{Arrival, RateProfile};

/// The arrival process of one workload.
pub struct Arrivals {
    arrival: Arrival,
    rng: Stream,
    /// Next constant-rate arrival, in nanoseconds (fractional).
    next_constant: f64,
    /// The next of the replayed times.
    next_replayed: usize,
    /// The profile's peak rate, and the mean gap at that rate in ns
    /// (computed once, to the same values each draw used to compute).
    peak: f64,
    mean_gap: f64,
}

impl Arrivals {
    pub fn new(arrival: Arrival, rng: Stream) -> Arrivals {
        let peak = arrival.profile.max_rate();
        Arrivals {
            arrival,
            rng,
            next_constant: 0.0,
            next_replayed: 0,
            peak,
            mean_gap: SECOND as f64 / peak,
        }
    }

    /// The first arrival after `now`, or None if there is none before `end`
    /// (the run covers [0, end): an arrival at `end` is outside it).
    pub fn next_after(&mut self, now: Time, end: Time) -> Option<Time> {
        if let Some(times) = &self.arrival.replay {
            let t = *times.get(self.next_replayed)?;
            self.next_replayed += 1;
            return (t < end).then_some(t.max(now));
        }
        let (peak, mean_gap) = (self.peak, self.mean_gap);
        if !self.arrival.poisson {
            self.next_constant += mean_gap;
            let t = from_nanos_f64(self.next_constant);
            return (t < end).then_some(t.max(now));
        }
        let mut t = now as f64;
        loop {
            let gap: f64 = Exp1.sample(&mut self.rng);
            t += gap * mean_gap;
            let at = from_nanos_f64(t);
            if at >= end {
                return None;
            }
            match &self.arrival.profile {
                RateProfile::Fixed(_) => return Some(at),
                profile => {
                    let u: f64 = self.rng.random();
                    if u * peak <= profile.rate_at(at) {
                        return Some(at);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::stream;

    fn count(arrival: Arrival, end: Time) -> u64 {
        let mut a = Arrivals::new(arrival, stream(3, "arrivals-test"));
        let (mut t, mut n) = (0, 0);
        while let Some(next) = a.next_after(t, end) {
            t = next;
            n += 1;
        }
        n
    }

    #[test]
    fn rates_are_met() {
        let end = 1000 * SECOND;
        let poisson = count(
            Arrival {
                poisson: true,
                profile: RateProfile::Fixed(100.0),
                replay: None,
            },
            end,
        );
        assert!((poisson as f64 / 100_000.0 - 1.0).abs() < 0.01, "{poisson}");
        let constant = count(
            Arrival {
                poisson: false,
                profile: RateProfile::Fixed(100.0),
                replay: None,
            },
            end,
        );
        // At 10ms, 20ms, ... up to but not including the end: 99,999 in [0, 1000s).
        assert_eq!(constant, 99_999);
        let ramp = RateProfile::Ramp {
            from: 0.0,
            to: 200.0,
            start: 0,
            over: end,
        };
        let ramped = count(
            Arrival {
                poisson: true,
                profile: ramp,
                replay: None,
            },
            end,
        );
        assert!((ramped as f64 / 100_000.0 - 1.0).abs() < 0.01, "{ramped}");
        let bursty = RateProfile::Bursty {
            base: 50.0,
            burst: 250.0,
            on: SECOND,
            off: 4 * SECOND,
        };
        let bursts = count(
            Arrival {
                poisson: true,
                profile: bursty,
                replay: None,
            },
            end,
        );
        assert!((bursts as f64 / 90_000.0 - 1.0).abs() < 0.015, "{bursts}");
    }

    #[test]
    fn replayed_times_are_sent_as_given_until_the_end() {
        let times: Vec<Time> = vec![0, 5, 5, 9, 20];
        let mut a = Arrivals::new(
            Arrival {
                poisson: false,
                profile: RateProfile::Fixed(1.0),
                replay: Some(times.into()),
            },
            stream(3, "arrivals-test"),
        );
        let (mut t, mut sent) = (0, Vec::new());
        while let Some(next) = a.next_after(t, 20) {
            t = next;
            sent.push(t);
        }
        assert_eq!(sent, [0, 5, 5, 9], "20 is the end: outside the run");
    }
}
