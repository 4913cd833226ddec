//! Calls: what a caller asked for (a *logical* call) and the *attempts* that
//! carry it — the first, retries after a back-off, hedged copies.
//!
//! A logical call ends once: with the first successful attempt, with a failure
//! no policy retries, or at its deadline. Attempts live on until their answer
//! or their own timeout, so the callee's work and every attempt are counted
//! even when nobody waits for them any more (a hedge that lost, an attempt past
//! the deadline). Answers to jobs are always events; see [`super::world`].
//!
//! Per-attempt timeouts with one fixed value share a FIFO lane (deadlines
//! arrive in order, one pending event per lane); timeouts cut short by a
//! propagated deadline, and call deadlines, are ordinary events.
//!
//! Here: the calls' state, sending a logical call's attempts, answers; in
//! [`start`]: starting a call; in [`attempts`]: timeouts, retries, hedges,
//! deadlines and the call's end.

mod attempts;
mod direct;
mod held;
mod start;
mod wire;

pub(super) use direct::ArenaSlots;
pub(super) use held::HeldAnswers;
pub(super) use start::NewCall;

use rand::RngExt;

use super::bandwidth::NO_SIZE;
use super::breaker::BreakerState;
use super::event::Event;
use super::trace::{NO_TRACE, SpanKind, SpanRef};
use super::world::World;
use crate::engine::{Id, Ring, Stream, Time, stream};
use crate::scenario::spec::{CallPolicy, Jitter, LoadBalancer, Retry, Scenario, Step};

/// How an attempt ended, as the caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The callee failed (a 5xx).
    ServerError,
    /// The replica was down, or the caller's view had none.
    ConnectFailure,
    /// The callee's queue was full, or it shed the request.
    Rejected,
    TimedOut,
    /// The caller's circuit breaker refused the call (never sent).
    ShortCircuited,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Caller {
    Client { workload: u32 },
    Job(Id),
}

pub(super) const NO_SITE: u32 = u32::MAX;
pub(super) const NO_REPLICA: u32 = u32::MAX;
pub(super) const NO_POLICY: u32 = u32::MAX;
/// No deadline.
pub(super) const NEVER: Time = Time::MAX;

/// What the caller waits for.
pub(super) struct Logical {
    caller: Caller,
    target: u32,
    site: u32,
    policy: u32,
    balancer: LoadBalancer,
    from_dc: u16,
    first_sent: Time,
    measured: bool,
    /// Attempts in sequence (the first and the retries), hedged copies.
    tries: u16,
    hedges: u16,
    in_flight: u16,
    prev_wait: Time,
    /// When the whole call gives up (its own deadline or the calling job's).
    deadline: Time,
    /// Per-attempt timeout of a client request (clients have no policy).
    client_timeout: Option<Time>,
    /// The request's message key.
    key: u64,
    /// The trace it belongs to (NO_TRACE if none).
    trace: u32,
    /// Calls from the client down to this one (1 for the client's own).
    depth: u16,
}

impl Logical {
    pub fn caller(&self) -> Caller {
        self.caller
    }
    pub fn measured(&self) -> bool {
        self.measured
    }
    pub fn first_sent(&self) -> Time {
        self.first_sent
    }
}

/// One attempt on the wire.
#[derive(Clone, Copy)]
pub(super) struct Call {
    pub logical: Id,
    pub target: u32,
    pub site: u32,
    pub policy: u32,
    /// The replica chosen, or NO_REPLICA when the caller's view had none.
    pub replica: u32,
    /// The caller's data center (at most `limits::DATACENTERS` = 100: a u8, so
    /// that an attempt's slot stays 72 bytes).
    pub from_dc: u8,
    pub sent: Time,
    pub measured: bool,
    /// A retry (not the first attempt nor a hedge), for the retry budget.
    pub retry: bool,
    /// The caller is a client (its answer may be recorded without an event).
    pub to_client: bool,
    /// The deadline handed to the callee (NEVER unless propagated).
    pub deadline: Time,
    /// The request's message key, handed to the callee.
    pub key: u64,
    /// The attempt timed out; its answer, when it comes, is dropped.
    pub abandoned: bool,
    /// The request or its answer was lost in the network: no answer will come.
    pub lost: bool,
    /// The trace it belongs to (NO_TRACE if none), and its number within its logical call.
    pub trace: u32,
    /// At most 100 attempts and 10 hedges: a u8.
    pub n: u8,
    pub hedge: bool,
    /// Where its successful answer's size is drawn (NO_SIZE: none).
    pub response_size: u16,
    /// The logical call's depth, handed to the callee's job.
    pub depth: u16,
}

/// Per-policy state: retry budget counts, breaker, back-off randomness.
pub(super) struct PolicyState {
    active_attempts: u32,
    active_retries: u32,
    pub breaker: Option<BreakerState>,
    backoff_rng: Stream,
}

pub(super) struct TimeoutLane {
    pub timeout: Time,
    pub deadlines: Ring<(Time, Id)>,
    pub armed: bool,
}

/// Lanes for every fixed per-attempt timeout of the scenario, sorted by value.
pub(super) fn timeout_lanes(s: &Scenario) -> Vec<TimeoutLane> {
    let from_steps = s
        .endpoints
        .iter()
        .flat_map(|e| &e.steps)
        .flat_map(|step| match step {
            Step::Calls(specs) => specs
                .iter()
                .filter_map(|c| s.policies[c.policy].timeout)
                .collect(),
            Step::Work(_) | Step::Publish { .. } | Step::Branch(_) | Step::Goto { .. } => {
                Vec::new()
            }
        });
    let mut values: Vec<Time> = s
        .workloads
        .iter()
        .filter_map(|w| w.timeout)
        .chain(from_steps)
        .collect();
    values.sort_unstable();
    values.dedup();
    values
        .into_iter()
        .map(|timeout| TimeoutLane {
            timeout,
            deadlines: Ring::new(),
            armed: false,
        })
        .collect()
}

pub(super) fn policy_states(s: &Scenario, seed: u64) -> Vec<PolicyState> {
    s.policies
        .iter()
        .enumerate()
        .map(|(i, p)| PolicyState {
            active_attempts: 0,
            active_retries: 0,
            breaker: p.breaker.as_ref().map(BreakerState::new),
            backoff_rng: stream(seed, &format!("policy/{i}/backoff")),
        })
        .collect()
}

/// The n-th retry's base wait: wait × multiplier^(n−1), capped.
pub fn base_wait(r: &Retry, n: u16) -> f64 {
    let base = r.wait as f64 * r.multiplier.powi(i32::from(n) - 1);
    base.min(r.max_wait as f64)
}

/// The wait before retry `n` under the policy's jitter (AWS "Exponential Backoff and Jitter").
pub fn backoff(r: &Retry, n: u16, prev: Time, rng: &mut Stream) -> Time {
    let base = base_wait(r, n);
    let u: f64 = rng.random();
    let wait = match r.jitter {
        Jitter::None => base,
        Jitter::Full => u * base,
        Jitter::Equal => base / 2.0 + u * base / 2.0,
        Jitter::Decorrelated => {
            let lo = r.wait as f64;
            let hi = (prev.max(r.wait) as f64 * 3.0).max(lo);
            (lo + u * (hi - lo)).min(r.max_wait as f64)
        }
    };
    crate::engine::time::from_nanos_f64(wait)
}

impl<'s> World<'s> {
    fn policy(&self, p: u32) -> Option<&'s CallPolicy> {
        let s = self.s;
        (p != NO_POLICY).then(|| &s.policies[p as usize])
    }

    /// Sends one attempt of a logical call, unless its breaker refuses.
    fn launch(&mut self, id: Id, retry: bool, hedge: bool) {
        let now = self.now();
        let l = self.logicals.get(id).expect("live logical call");
        let (policy, site, measured) = (l.policy, l.site, l.measured);
        let pol = self.policy(policy);
        if !self.breaker_permits(policy, site, now) {
            self.short_circuit(id, retry, hedge);
            return;
        }
        let l = self.logicals.get_mut(id).expect("live logical call");
        if hedge {
            l.hedges += 1;
        } else {
            l.tries += 1;
        }
        l.in_flight += 1;
        let (target, from_dc, balancer, ldeadline, key, trace, depth) = (
            l.target, l.from_dc, l.balancer, l.deadline, l.key, l.trace, l.depth,
        );
        let caller = l.caller;
        let n = l.tries + l.hedges;
        let to_client = matches!(l.caller, Caller::Client { .. });
        let per_try = match pol {
            Some(p) => p.timeout,
            None => l.client_timeout,
        };
        let propagate = pol.is_some_and(|p| p.propagate_deadline);
        let try_deadline = per_try
            .map_or(NEVER, |t| now.saturating_add(t))
            .min(ldeadline);
        let deadline = if propagate { try_deadline } else { NEVER };
        let to = (target, site, policy);
        let attempt = Call {
            retry,
            trace,
            n: n as u8,
            hedge,
            ..Call::outgoing(
                id, to, from_dc, measured, to_client, key, deadline, depth, now,
            )
        };
        self.wire(attempt, caller, balancer, per_try, ldeadline);
    }

    /// Asks the policy's breaker, if it has one, to let an attempt through
    /// (and records the breaker's change of state, if that asking made one).
    fn breaker_permits(&mut self, policy: u32, site: u32, now: Time) -> bool {
        let Some(b) = self
            .policies
            .get_mut(policy as usize)
            .and_then(|p| p.breaker.as_mut())
        else {
            return true;
        };
        let before = b.state();
        let allowed = b.permit(now);
        let after = b.state();
        if after != before && site != NO_SITE {
            self.m.calls[site as usize].record_transition(now, after.name());
        }
        allowed
    }

    /// The breaker refused an attempt: it fails fast, never sent, and is not retried.
    /// A refused hedge still counts against `max`. The call ends by an event,
    /// since this may run inside the calling job's own handler.
    fn short_circuit(&mut self, id: Id, retry: bool, hedge: bool) {
        let l = self.logicals.get_mut(id).expect("live logical call");
        if hedge {
            l.hedges += 1;
        }
        let (policy, site, measured, in_flight) = (l.policy, l.site, l.measured, l.in_flight);
        if retry {
            self.policies[policy as usize].active_retries -= 1;
        }
        if measured && site != NO_SITE {
            self.m.calls[site as usize].short_circuited += 1;
        }
        if in_flight == 0 {
            self.q.schedule_in(0, Event::ShortCircuited { logical: id });
        }
    }

    /// Sends an answer back from the call's replica to the caller's data center.
    /// Answers to jobs are always events; an answer to a client that takes no
    /// time is recorded at once. A lost answer leaves the caller to its timeout.
    pub fn answer(&mut self, id: Id, outcome: Outcome) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        let from = match call.replica {
            NO_REPLICA => u16::from(call.from_dc),
            r => self.replicas[r as usize].dc,
        };
        let (to_client, to, trace) = (call.to_client, u16::from(call.from_dc), call.trace);
        // Only a successful answer carries the response; a failure is small.
        let size = match outcome {
            Outcome::Ok => call.response_size,
            _ => NO_SIZE,
        };
        let bytes = self.draw_size(size);
        let now = self.now();
        match self.net.answer_hop(from, to, now, bytes) {
            Some(0) if to_client => self.on_answer(id, outcome),
            Some(d) => {
                if d > 0 && trace != NO_TRACE {
                    let kind = SpanKind::Network { from, to };
                    self.tracer
                        .span(trace, now, now + d, kind, SpanRef::attempt(id));
                }
                self.q.schedule_in(d, Event::Answer { call: id, outcome })
            }
            None => self.lose(id),
        }
    }

    /// No answer will come for this attempt: a timed-out one is freed now, any
    /// other waits for its timeout (or stays in flight if it has none).
    pub fn lose(&mut self, id: Id) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if call.abandoned {
            self.calls.remove(id);
            self.call_slots.remove();
        } else {
            call.lost = true;
        }
    }

    pub(super) fn on_answer(&mut self, id: Id, outcome: Outcome) {
        // Copied out before the removal, which then moves nothing.
        let Some(&call) = self.calls.get(id) else {
            return;
        };
        self.calls.remove(id);
        self.call_slots.remove();
        if !call.abandoned {
            self.attempt_done(id, &call, outcome);
        } else if outcome == Outcome::Ok && call.site != NO_SITE && call.measured {
            // Done for a caller that had timed out: the callee's work is wasted.
            self.m.calls[call.site as usize].wasted += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    /// An attempt fits in 64 bytes (72 with its arena slot): the memory budget's
    /// figures (an overloaded queue's size when it stops) depend on it.
    #[test]
    fn an_attempt_is_64_bytes() {
        assert_eq!(std::mem::size_of::<super::Call>(), 64);
    }
}
