//! How attempts end and what follows: timeouts (in their lanes), retries
//! after a back-off within the retry budget, hedged copies, call deadlines,
//! and the end of the logical call, told to its caller.

use super::{Call, Caller, NO_REPLICA, NO_SITE, Outcome, backoff};
use crate::engine::{Id, Time};
use crate::model::event::Event;
use crate::model::trace::{NO_TRACE, Span, SpanKind, SpanRef};
use crate::model::world::World;

impl World<'_> {
    pub(in crate::model) fn on_short_circuited(&mut self, logical: Id) {
        if self.logicals.get(logical).is_some_and(|l| l.in_flight == 0) {
            self.finish_logical(logical, Outcome::ShortCircuited);
        }
    }

    /// The job that made this call is gone (its replica crashed): the call is dropped.
    fn caller_gone(&mut self, logical: Id) -> bool {
        let Some(l) = self.logicals.get(logical) else {
            return true;
        };
        if let Caller::Job(job) = l.caller
            && self.jobs.get(job).is_none()
        {
            self.logicals.remove(logical);
            self.logical_slots.remove();
            return true;
        }
        false
    }

    /// Registers an attempt's deadline `timeout` from now in the lane of that timeout.
    pub(super) fn arm_timeout(&mut self, timeout: Time, call: Id) {
        let lane = self
            .lanes
            .binary_search_by_key(&timeout, |l| l.timeout)
            .expect("every timeout of the scenario has a lane");
        let deadline = self.now().saturating_add(timeout);
        let l = &mut self.lanes[lane];
        l.deadlines.push_back((deadline, call));
        if !l.armed {
            l.armed = true;
            self.q
                .schedule_at(deadline, Event::LaneDue { lane: lane as u32 });
        }
    }

    /// Times out every attempt of the lane whose deadline has come, then re-arms
    /// the lane at its first deadline that still has a live attempt.
    pub(in crate::model) fn on_lane_due(&mut self, lane: u32) {
        let now = self.now();
        let lane = lane as usize;
        self.lanes[lane].armed = false;
        while let Some(&(deadline, call)) = self.lanes[lane].deadlines.front() {
            if deadline <= now {
                self.lanes[lane].deadlines.pop_front();
                self.on_attempt_timeout(call);
            } else if self.calls.get(call).is_none_or(|c| c.abandoned) {
                self.lanes[lane].deadlines.pop_front();
            } else {
                self.lanes[lane].armed = true;
                self.q
                    .schedule_at(deadline, Event::LaneDue { lane: lane as u32 });
                break;
            }
        }
    }

    pub(in crate::model) fn on_attempt_timeout(&mut self, id: Id) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if call.abandoned {
            return;
        }
        call.abandoned = true;
        let snapshot = *call;
        if snapshot.lost {
            self.calls.remove(id);
            self.call_slots.remove();
        }
        self.attempt_done(id, &snapshot, Outcome::TimedOut);
    }

    /// An attempt has ended: count it, tell the breaker and outlier detection,
    /// then end the logical call, retry it, or wait for its other attempts.
    pub(super) fn attempt_done(&mut self, id: Id, call: &Call, outcome: Outcome) {
        let now = self.now();
        if call.trace != NO_TRACE {
            self.tracer.push(call.trace, |trace| Span {
                trace,
                start: call.sent,
                end: now,
                kind: SpanKind::Attempt {
                    endpoint: call.target,
                    n: u16::from(call.n),
                    hedge: call.hedge,
                },
                outcome: Some(outcome),
                ok: outcome == Outcome::Ok,
                of: SpanRef::attempt(id),
                parent: SpanRef::logical(call.logical),
            });
        }
        self.count_outcome(call.site, call.measured, outcome);
        if let Some(p) = self.policies.get_mut(call.policy as usize) {
            p.active_attempts -= 1;
            if call.retry {
                p.active_retries -= 1;
            }
            if let Some(b) = p.breaker.as_mut()
                && let Some(state) = b.record(now, outcome != Outcome::Ok, now - call.sent)
            {
                let site = call.site as usize;
                let opened = state == crate::model::breaker::State::Open;
                self.m.calls[site].breaker_opened += u64::from(opened && call.measured);
                self.m.calls[site].record_transition(now, state.name());
            }
        }
        if call.replica != NO_REPLICA {
            self.outlier_record(call.replica, outcome == Outcome::Ok);
        }
        if call.is_direct() {
            self.finish_direct(call, outcome);
            return;
        }
        let Some(l) = self.logicals.get_mut(call.logical) else {
            // The caller stopped waiting (deadline, or another attempt won).
            if outcome == Outcome::Ok && call.site != NO_SITE && call.measured {
                self.m.calls[call.site as usize].wasted += 1;
            }
            return;
        };
        l.in_flight -= 1;
        if outcome == Outcome::Ok {
            self.finish_logical(call.logical, Outcome::Ok);
        } else if l.in_flight > 0 {
            // A hedged copy is still out; it may yet succeed.
        } else if let Some(wait) = self.retry_wait(call.logical, outcome) {
            self.q.schedule_in(
                wait,
                Event::Retry {
                    logical: call.logical,
                    policy: call.policy,
                },
            );
        } else {
            self.finish_logical(call.logical, outcome);
        }
    }

    /// Counts an attempt's outcome at its call site.
    pub(super) fn count_outcome(&mut self, site: u32, measured: bool, outcome: Outcome) {
        if site != NO_SITE && measured {
            let st = &mut self.m.calls[site as usize];
            match outcome {
                Outcome::Ok => st.ok += 1,
                Outcome::ServerError | Outcome::ConnectFailure | Outcome::ShortCircuited => {
                    st.failed += 1
                }
                Outcome::Rejected => st.rejected += 1,
                Outcome::TimedOut => st.timeouts += 1,
            }
        }
    }

    /// The wait before the next attempt, if the policy retries this outcome now.
    fn retry_wait(&mut self, id: Id, outcome: Outcome) -> Option<Time> {
        let now = self.now();
        let l = self.logicals.get(id)?;
        let r = self.policy(l.policy)?.retry.as_ref()?;
        let retryable = match outcome {
            Outcome::TimedOut => r.on_timeout,
            Outcome::ConnectFailure => r.on_connect_failure,
            Outcome::ServerError => r.on_server_error,
            Outcome::Rejected => r.on_rejected,
            Outcome::Ok | Outcome::ShortCircuited => false,
        };
        if !retryable || u32::from(l.tries) >= r.max_attempts {
            return None;
        }
        let (policy, tries, prev, deadline) = (l.policy as usize, l.tries, l.prev_wait, l.deadline);
        let state = &mut self.policies[policy];
        if let Some(budget) = r.budget {
            let allowed = (budget * f64::from(state.active_attempts)).max(3.0);
            if f64::from(state.active_retries) >= allowed {
                if let Some(site) = self.logicals.get(id).filter(|l| l.measured).map(|l| l.site) {
                    self.m.calls[site as usize].budget_exhausted += 1;
                }
                return None;
            }
        }
        let wait = backoff(r, tries, prev, &mut state.backoff_rng);
        if now.saturating_add(wait) >= deadline {
            return None;
        }
        state.active_retries += 1;
        let l = self.logicals.get_mut(id).expect("live logical call");
        l.prev_wait = wait;
        if l.measured && l.site != NO_SITE {
            self.m.calls[l.site as usize].record_wait(tries, wait);
        }
        Some(wait)
    }

    /// A back-off has passed: the retry goes out, unless the call ended meanwhile
    /// (its deadline), in which case the budget forgets the pending retry.
    pub(in crate::model) fn on_retry(&mut self, logical: Id, policy: u32) {
        if self.caller_gone(logical) {
            self.policies[policy as usize].active_retries -= 1;
        } else {
            self.launch(logical, true, false);
            self.rearm_hedge(logical);
        }
    }

    /// A retry is a fresh attempt: it may be hedged too.
    fn rearm_hedge(&mut self, logical: Id) {
        let Some(l) = self.logicals.get(logical) else {
            return;
        };
        if let Some(h) = self.policy(l.policy).and_then(|p| p.hedge.as_ref())
            && u32::from(l.hedges) < h.max
        {
            self.q.schedule_in(h.after, Event::Hedge { logical });
        }
    }

    pub(in crate::model) fn on_hedge(&mut self, logical: Id) {
        if self.caller_gone(logical) {
            return;
        }
        let Some(l) = self.logicals.get(logical) else {
            return;
        };
        let Some(h) = self.policy(l.policy).and_then(|p| p.hedge.clone()) else {
            return;
        };
        if l.in_flight == 0 || u32::from(l.hedges) >= h.max {
            return;
        }
        self.launch(logical, false, true);
        if self
            .logicals
            .get(logical)
            .is_some_and(|l| u32::from(l.hedges) < h.max)
        {
            self.q.schedule_in(h.after, Event::Hedge { logical });
        }
    }

    pub(in crate::model) fn on_call_deadline(&mut self, logical: Id) {
        if self.logicals.get(logical).is_some() {
            if let Some(site) = self
                .logicals
                .get(logical)
                .filter(|l| l.measured && l.site != NO_SITE)
                .map(|l| l.site)
            {
                self.m.calls[site as usize].deadline_exceeded += 1;
            }
            self.finish_logical(logical, Outcome::TimedOut);
        }
    }

    /// The logical call is decided: record it and tell the caller.
    fn finish_logical(&mut self, id: Id, outcome: Outcome) {
        let l = self.logicals.remove(id).expect("live logical call");
        self.logical_slots.remove();
        let latency = self.now() - l.first_sent;
        if l.trace != NO_TRACE {
            let (kind, parent) = match l.caller {
                Caller::Client { workload } => (SpanKind::Request { workload }, SpanRef::NONE),
                Caller::Job(job) => (SpanKind::Call { site: l.site }, SpanRef::job(job)),
            };
            let now = self.now();
            self.tracer.push(l.trace, |trace| Span {
                trace,
                start: l.first_sent,
                end: now,
                kind,
                outcome: Some(outcome),
                ok: outcome == Outcome::Ok,
                of: SpanRef::logical(id),
                parent,
            });
        }
        self.decided(l.caller, l.site, l.measured, latency, outcome);
    }

    /// A call is decided after `latency`: its figures, and its caller told.
    pub(super) fn decided(
        &mut self,
        caller: Caller,
        site: u32,
        measured: bool,
        latency: Time,
        outcome: Outcome,
    ) {
        if site != NO_SITE && measured && outcome == Outcome::Ok {
            self.m.calls[site as usize].latency.record(latency);
            if self.latency_series {
                self.m.series.call_steps[site as usize].record(latency);
            }
        }
        match caller {
            Caller::Client { workload } => {
                if measured {
                    let st = &mut self.m.workloads[workload as usize];
                    match outcome {
                        Outcome::Ok => {
                            st.ok += 1;
                            st.latency.record(latency);
                            if self.latency_series {
                                self.m.series.workloads[workload as usize].record(latency);
                            }
                        }
                        Outcome::ServerError
                        | Outcome::ConnectFailure
                        | Outcome::ShortCircuited => st.failed += 1,
                        Outcome::Rejected => st.rejected += 1,
                        Outcome::TimedOut => st.timed_out += 1,
                    }
                }
                self.user_answered(workload, latency);
            }
            Caller::Job(job) => self.call_returned(job, outcome == Outcome::Ok),
        }
    }
}
