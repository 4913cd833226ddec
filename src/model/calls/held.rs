//! Held calls: a direct call with no timeout, in a scenario without message
//! sizes, whose request reaches a serving replica at once (a hop that takes
//! no time) keeps no attempt record. The callee's job holds what the caller
//! needs ([`Parent::ClientCall`], [`Parent::JobCall`]): its arrival is when the
//! call was sent, its replica and key are the call's.
//!
//! An attempt record appears only where one is read: when the answer takes
//! time on the network or is lost, and when the callee's replica crashes
//! (the record is then built from the job, as it would have been). An answer
//! to a job that takes no time waits in `World::held_answers` for its
//! `HeldAnswer` event, which comes when the `Answer` event would have come.
//!
//! Nothing a run reports changes: the same draws in the same order, the same
//! counts and in-flight figures, and the memory budget counts the attempts'
//! arena as if every held call had its record ([`super::ArenaSlots`]). A held
//! call draws nothing from its policy's retry budget: its policy has no retry
//! (the call is direct), so that budget is never read.

use super::{Call, Caller, NEVER, NO_POLICY, NO_REPLICA, NO_SITE, Outcome};
use crate::engine::{Id, Time};
use crate::model::event::{Event, Parent};
use crate::model::jobs::Job;
use crate::model::trace::NO_TRACE;
use crate::model::world::World;
use crate::scenario::spec::LoadBalancer;

/// A held call's answer on its way to the calling job (for no time).
#[derive(Clone, Copy)]
pub(in crate::model) struct HeldAnswer {
    job: Id,
    site: u32,
    /// The callee's endpoint (for the overload's count of unanswered calls).
    target: u32,
    replica: u32,
    sent: Time,
    measured: bool,
    outcome: Outcome,
}

/// Held answers to jobs, in the order of their `HeldAnswer` events. Each is
/// due at the instant it is sent, so the FIFO is empty whenever the clock
/// moves on: a vector read from a start index, cleared once read through,
/// serves without a ring's wrapping (an `engine::Ring` here cost the tandem
/// 0.9% more instructions). Should answers keep coming within one instant
/// without it ever being read through, the read ones are dropped once they
/// are half of it, so it holds at most twice the answers unread. (Each
/// unread answer counts as a call slot in the memory budget, so its bytes
/// are not counted here.)
#[derive(Default)]
pub(in crate::model) struct HeldAnswers {
    queue: Vec<HeldAnswer>,
    next: usize,
}

impl HeldAnswers {
    fn push(&mut self, a: HeldAnswer) {
        self.queue.push(a);
    }

    fn pop(&mut self) -> Option<HeldAnswer> {
        let a = *self.queue.get(self.next)?;
        self.next += 1;
        if self.next == self.queue.len() {
            self.queue.clear();
            self.next = 0;
        } else if self.next >= 64 && 2 * self.next >= self.queue.len() {
            self.queue.drain(..self.next);
            self.next = 0;
        }
        Some(a)
    }

    /// The answers not yet read.
    fn iter(&self) -> impl Iterator<Item = &HeldAnswer> {
        self.queue[self.next..].iter()
    }
}

/// A held call as its caller starts it: what its attempt record would hold.
#[derive(Clone, Copy)]
pub(super) struct Outgoing {
    pub caller: Caller,
    pub target: u32,
    pub site: u32,
    pub from_dc: u16,
    pub measured: bool,
    pub key: u64,
    pub depth: u16,
}

impl Outgoing {
    /// The attempt record of this call sent at `sent` to `replica` (its
    /// policy's retry budget aside, which it does not use).
    fn record(&self, replica: u32, deadline: Time, sent: Time) -> Call {
        let (logical, to_client) = self.caller.as_logical();
        Call {
            n: super::direct::DIRECT,
            replica,
            ..Call::outgoing(
                logical,
                (self.target, self.site, NO_POLICY),
                self.from_dc,
                self.measured,
                to_client,
                self.key,
                deadline,
                self.depth,
                sent,
            )
        }
    }
}

impl World<'_> {
    /// Starts a direct call with no timeout in a scenario without sizes
    /// (`start_call` checks): counted and routed as `wire` does, then held
    /// in its job when it can be (see the module's comment), else sent as
    /// `wire` sends an attempt. No record is built unless one is needed.
    pub(super) fn start_held(&mut self, o: Outgoing, balancer: LoadBalancer) {
        // What `start_direct` and `wire` do first for any direct attempt.
        self.logical_slots.insert();
        if o.site != NO_SITE && o.measured {
            self.m.calls[o.site as usize].attempts += 1;
        }
        let svc = self.s.endpoints[o.target as usize].service;
        let r = self.route(svc, o.from_dc, balancer).unwrap_or(NO_REPLICA);
        self.call_slots.insert();
        let now = self.now();
        let admits = r != NO_REPLICA
            && self.replicas[r as usize].serving()
            && self.services[svc].errors.is_empty()
            && self.has_room(r, svc);
        if !admits {
            // Refused, failed or rejected: as any attempt is (`deliver`).
            let call = self.calls.insert(o.record(r, NEVER, now));
            self.send(call, svc, 0);
            return;
        }
        match self
            .net
            .request_hop(o.from_dc, self.replicas[r as usize].dc, now, 0)
        {
            Some(0) => {}
            Some(d) => {
                let call = self.calls.insert(o.record(r, NEVER, now));
                self.q.schedule_in(d, Event::Deliver { call });
                return;
            }
            None => {
                let call = self.calls.insert(o.record(r, NEVER, now));
                self.lose(call);
                return;
            }
        }
        let parent = match o.caller {
            Caller::Client { workload } => Parent::ClientCall { workload },
            Caller::Job(job) => Parent::JobCall {
                job,
                site: o.site,
                from_dc: o.from_dc as u8,
            },
        };
        self.admit(
            r, o.target, parent, o.measured, NEVER, o.key, NO_TRACE, o.depth,
        );
    }

    /// A held call's caller, its call site and the caller's data center.
    fn held_caller(&self, job: &Job) -> (Caller, u32, u16) {
        match job.parent {
            Parent::ClientCall { workload } => {
                let from = self.s.workloads[workload as usize].from as u16;
                (Caller::Client { workload }, NO_SITE, from)
            }
            Parent::JobCall { job, site, from_dc } => (Caller::Job(job), site, u16::from(from_dc)),
            Parent::Call(_) | Parent::Delivery(_) => unreachable!("a held call's job"),
        }
    }

    /// The attempt record a held call would have had.
    fn held_record(&self, job: &Job) -> Call {
        let (caller, site, from_dc) = self.held_caller(job);
        let o = Outgoing {
            caller,
            target: job.endpoint,
            site,
            from_dc,
            measured: job.measured,
            key: job.key(),
            depth: job.depth,
        };
        o.record(job.replica, job.deadline, job.arrived)
    }

    /// A held call's job has ended with `outcome`: its answer goes back (or
    /// is lost, `lost`, with the job's replica).
    pub(in crate::model) fn answer_held(&mut self, job: &Job, outcome: Outcome, lost: bool) {
        let (caller, site, to) = self.held_caller(job);
        let from = self.replicas[job.replica as usize].dc;
        let now = self.now();
        let hop = if lost {
            None
        } else {
            self.net.answer_hop(from, to, now, 0)
        };
        match (hop, caller) {
            (Some(0), Caller::Client { .. }) => {
                let (r, sent, measured) = (job.replica, job.arrived, job.measured);
                self.held_done(caller, site, r, sent, measured, outcome);
            }
            (Some(0), Caller::Job(caller)) => {
                self.held_answers.push(HeldAnswer {
                    job: caller,
                    site,
                    target: job.endpoint,
                    replica: job.replica,
                    sent: job.arrived,
                    measured: job.measured,
                    outcome,
                });
                self.q.schedule_in(0, Event::HeldAnswer);
            }
            (Some(d), _) => {
                let call = self.calls.insert(self.held_record(job));
                self.q.schedule_in(d, Event::Answer { call, outcome });
            }
            (None, _) => {
                let call = self.calls.insert(self.held_record(job));
                self.lose(call);
            }
        }
    }

    pub(in crate::model) fn on_held_answer(&mut self) {
        let a = self
            .held_answers
            .pop()
            .expect("a held answer for each HeldAnswer event");
        let caller = Caller::Job(a.job);
        self.held_done(caller, a.site, a.replica, a.sent, a.measured, a.outcome);
    }

    /// What `on_answer` does for a direct call's answer, with no record.
    #[inline(always)]
    fn held_done(
        &mut self,
        caller: Caller,
        site: u32,
        replica: u32,
        sent: Time,
        measured: bool,
        outcome: Outcome,
    ) {
        self.call_slots.remove();
        self.count_outcome(site, measured, outcome);
        self.outlier_record(replica, outcome == Outcome::Ok);
        self.end_direct(caller, site, measured, sent, outcome);
    }

    /// Held calls still unanswered at the end: in flight (and hung past patience).
    pub(in crate::model) fn count_held_in_flight(&mut self) {
        let s = self.s;
        for j in self.jobs.iter().filter(|j| j.measured) {
            match j.parent {
                Parent::ClientCall { workload } => {
                    let w = workload as usize;
                    self.m.workloads[w].unanswered(self.end - j.arrived, s.patience(w));
                }
                Parent::JobCall { site, .. } => self.m.calls[site as usize].in_flight += 1,
                Parent::Call(_) | Parent::Delivery(_) => {}
            }
        }
        for a in self.held_answers.iter().filter(|a| a.measured) {
            self.m.calls[a.site as usize].in_flight += 1;
        }
    }

    /// Held calls unanswered now, as (from a client, callee endpoint).
    pub(in crate::model) fn held_unanswered(&self) -> impl Iterator<Item = (bool, u32)> + '_ {
        let in_jobs = self.jobs.iter().filter_map(|j| match j.parent {
            Parent::ClientCall { .. } => Some((true, j.endpoint)),
            Parent::JobCall { .. } => Some((false, j.endpoint)),
            Parent::Call(_) | Parent::Delivery(_) => None,
        });
        in_jobs.chain(self.held_answers.iter().map(|a| (false, a.target)))
    }
}

#[cfg(test)]
mod tests {
    use super::{HeldAnswer, HeldAnswers, Outcome};
    use crate::engine::Arena;

    /// Answers pushed and read in turn, one always left unread (a chain
    /// of answers within one instant): they come out in order, and the
    /// vector holds at most twice those unread, plus the 64 read before
    /// it first drops the read ones.
    #[test]
    fn held_answers_come_in_order_and_stay_bounded() {
        let job = Arena::new().insert(());
        let answer = |n: u32| HeldAnswer {
            job,
            site: n,
            target: 0,
            replica: 0,
            sent: 0,
            measured: true,
            outcome: Outcome::Ok,
        };
        let mut held = HeldAnswers::default();
        let (mut pushed, mut read) = (0, 0);
        for round in 0..10_000 {
            for _ in 0..1 + u32::from(round % 1_000 == 0) {
                held.push(answer(pushed));
                pushed += 1;
            }
            assert_eq!(held.pop().map(|a| a.site), Some(read));
            read += 1;
            let unread = (pushed - read) as usize;
            assert_eq!(held.iter().count(), unread);
            assert!(held.queue.len() <= 2 * unread + 64, "{}", held.queue.len());
        }
        while let Some(a) = held.pop() {
            assert_eq!(a.site, read);
            read += 1;
        }
        assert_eq!((read, held.queue.len()), (pushed, 0));
    }
}
