//! The Resilience4j circuit breaker state machine.
//!
//! CLOSED records each call's outcome in a sliding window (the last N calls,
//! or the calls of the last N seconds). Once the window holds at least
//! `minimum_number_of_calls`, a failure rate or slow-call rate at or above its
//! threshold opens the breaker. OPEN refuses calls (they fail fast, never
//! sent) until `wait_duration_in_open_state` has passed; the next call then
//! moves it to HALF_OPEN (Resilience4j's default, no timer-driven transition).
//! HALF_OPEN lets `permitted_number_of_calls_in_half_open_state` calls
//! through and refuses the rest; when that many outcomes are recorded, the
//! same thresholds decide: OPEN again, or CLOSED with an empty window.

use std::collections::VecDeque;

use crate::engine::Time;
use crate::engine::time::SECOND;
use crate::scenario::spec::{Breaker, BreakerWindow};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Closed,
    Open,
    HalfOpen,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::Open => "open",
            State::HalfOpen => "half_open",
        }
    }
}

/// Outcomes of the window: per call (count-based) or per second (time-based).
#[derive(Default)]
struct Window {
    /// (second or call index, calls, failures, slow calls)
    buckets: VecDeque<(u64, u32, u32, u32)>,
    calls: u32,
    failures: u32,
    slow: u32,
}

impl Window {
    fn push(&mut self, key: u64, failed: bool, slow: bool) {
        match self.buckets.back_mut() {
            Some(b) if b.0 == key => {
                b.1 += 1;
                b.2 += u32::from(failed);
                b.3 += u32::from(slow);
            }
            _ => self
                .buckets
                .push_back((key, 1, u32::from(failed), u32::from(slow))),
        }
        self.calls += 1;
        self.failures += u32::from(failed);
        self.slow += u32::from(slow);
    }

    /// Drops buckets whose key is at or below `oldest_excluded`.
    fn expire(&mut self, keep: impl Fn(u64) -> bool) {
        while let Some(&(key, calls, failures, slow)) = self.buckets.front() {
            if keep(key) {
                break;
            }
            self.buckets.pop_front();
            self.calls -= calls;
            self.failures -= failures;
            self.slow -= slow;
        }
    }

    fn clear(&mut self) {
        *self = Window::default();
    }
}

pub(super) struct BreakerState {
    cfg: Breaker,
    state: State,
    opened_at: Time,
    /// Calls let through in HALF_OPEN.
    permitted: u32,
    window: Window,
    /// Count-based windows number calls.
    seq: u64,
}

impl BreakerState {
    pub fn new(cfg: &Breaker) -> BreakerState {
        BreakerState {
            cfg: cfg.clone(),
            state: State::Closed,
            opened_at: 0,
            permitted: 0,
            window: Window::default(),
            seq: 0,
        }
    }

    /// May a call go out now? OPEN turns HALF_OPEN here once its wait is over.
    pub fn permit(&mut self, now: Time) -> bool {
        if self.state == State::Open {
            if now < self.opened_at.saturating_add(self.cfg.wait_open) {
                return false;
            }
            self.state = State::HalfOpen;
            self.permitted = 0;
            self.window.clear();
        }
        if self.state == State::HalfOpen {
            if self.permitted >= self.cfg.half_open_calls {
                return false;
            }
            self.permitted += 1;
        }
        true
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Records an outcome; returns the new state if it changed.
    pub fn record(&mut self, now: Time, failed: bool, duration: Time) -> Option<State> {
        let slow = duration > self.cfg.slow_duration;
        let before = self.state;
        match self.state {
            // Late outcomes of calls sent before the breaker opened.
            State::Open => return None,
            State::Closed => {
                let key = match self.cfg.window {
                    BreakerWindow::Count(_) => {
                        self.seq += 1;
                        self.seq
                    }
                    BreakerWindow::Time(_) => now / SECOND,
                };
                self.window.push(key, failed, slow);
                match self.cfg.window {
                    BreakerWindow::Count(n) => {
                        let oldest = self.seq.saturating_sub(u64::from(n));
                        self.window.expire(|k| k > oldest);
                    }
                    BreakerWindow::Time(secs) => {
                        let oldest = (now / SECOND).saturating_sub(u64::from(secs));
                        self.window.expire(|k| k > oldest);
                    }
                }
                if self.window.calls >= self.cfg.minimum_calls && self.over_threshold() {
                    self.open(now);
                }
            }
            State::HalfOpen => {
                self.window.push(0, failed, slow);
                if self.window.calls >= self.cfg.half_open_calls {
                    if self.over_threshold() {
                        self.open(now);
                    } else {
                        self.state = State::Closed;
                        self.window.clear();
                    }
                }
            }
        }
        (self.state != before).then_some(self.state)
    }

    fn over_threshold(&self) -> bool {
        let calls = f64::from(self.window.calls.max(1));
        f64::from(self.window.failures) / calls >= self.cfg.failure_threshold
            || f64::from(self.window.slow) / calls >= self.cfg.slow_threshold
    }

    fn open(&mut self, now: Time) {
        self.state = State::Open;
        self.opened_at = now;
        self.window.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::time::MILLISECOND;

    fn cfg() -> Breaker {
        Breaker {
            window: BreakerWindow::Count(10),
            minimum_calls: 5,
            failure_threshold: 0.5,
            slow_threshold: 1.0,
            slow_duration: 60 * SECOND,
            wait_open: SECOND,
            half_open_calls: 3,
        }
    }

    /// The whole cycle with exact counts: not before minimum_number_of_calls,
    /// open at the threshold, fail fast, half-open after the wait, re-open on
    /// failed probes, close on good ones.
    #[test]
    fn walks_the_whole_cycle() {
        let mut b = BreakerState::new(&cfg());
        let d = MILLISECOND;
        // Four failures: 100% failure rate, but fewer than 5 calls: stays closed.
        for t in 0..4 {
            assert!(b.permit(t));
            assert_eq!(b.record(t, true, d), None);
        }
        // The fifth call (a success) makes 5 calls, 4 failures: 80% ≥ 50%: opens.
        assert!(b.permit(4));
        assert_eq!(b.record(4, false, d), Some(State::Open));
        // Open: every call refused until the wait is over.
        assert!(!b.permit(5));
        assert!(!b.permit(4 + SECOND - 1));
        // After the wait: half-open, exactly 3 calls let through.
        let t = 4 + SECOND;
        assert!(b.permit(t) && b.permit(t) && b.permit(t));
        assert!(!b.permit(t));
        assert_eq!(b.state(), State::HalfOpen);
        // Two of three probes fail: 67% ≥ 50%: open again.
        assert_eq!(b.record(t, true, d), None);
        assert_eq!(b.record(t, false, d), None);
        assert_eq!(b.record(t, true, d), Some(State::Open));
        assert!(!b.permit(t + 1));
        // Next half-open: two of three succeed (33% < 50%): closed, window empty.
        let t = t + SECOND;
        assert!(b.permit(t) && b.permit(t) && b.permit(t));
        b.record(t, false, d);
        b.record(t, true, d);
        assert_eq!(b.record(t, false, d), Some(State::Closed));
        assert!(b.permit(t));
        // Closed with an empty window: 4 failures do not open it again.
        for _ in 0..4 {
            assert_eq!(b.record(t, true, d), None);
        }
        assert_eq!(b.record(t, true, d), Some(State::Open));
    }

    #[test]
    fn slow_calls_open_it_too() {
        let mut c = cfg();
        c.slow_threshold = 0.6;
        c.slow_duration = 100 * MILLISECOND;
        let mut b = BreakerState::new(&c);
        for t in 0..4 {
            assert_eq!(b.record(t, false, 200 * MILLISECOND), None);
        }
        assert_eq!(
            b.record(4, false, MILLISECOND),
            Some(State::Open),
            "4 of 5 slow: 80% ≥ 60%"
        );
    }

    #[test]
    fn time_based_window_forgets_old_seconds() {
        let mut c = cfg();
        c.window = BreakerWindow::Time(2);
        let mut b = BreakerState::new(&c);
        for i in 0..4 {
            b.record(i * MILLISECOND, true, MILLISECOND);
        }
        // Three seconds later the four failures are out of the 2 s window.
        for i in 0..4 {
            assert_eq!(b.record(3 * SECOND + i, false, MILLISECOND), None);
        }
        assert_eq!(
            b.record(3 * SECOND + 5, true, MILLISECOND),
            None,
            "1 failure in 5"
        );
    }
}
