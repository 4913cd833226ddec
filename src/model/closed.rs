//! Closed-loop workloads: a population of users, each sending a request,
//! waiting for its end (any outcome, the client's timeout included), thinking
//! for a draw of `think`, and sending again.
//!
//! No per-user state: a user exists as its pending send (an `Arrival` event)
//! or as its request in flight. A user's first send comes after one think
//! draw from time 0 (with a ramp, from the moment it joins). When the ramp
//! removes users, a count of users who must leave is kept: the next user about
//! to send leaves instead, so a user leaves after its current request and
//! think, never in the middle of one. A ramp goes one way, so users never
//! join while some must still leave.

use super::arrivals::Arrivals;
use super::event::Event;
use super::world::World;
use crate::engine::{Dist, Stream, Time};
use crate::scenario::spec::{Closed, UsersRamp};

/// Where a workload's requests come from.
pub(super) enum Source {
    Open(Arrivals),
    Closed(Users),
}

/// The users of a closed workload.
pub(super) struct Users {
    think: Dist,
    rng: Stream,
    /// Users now, as the ramp sets them (some may be on their way out).
    count: u32,
    /// Users who leave at their next send.
    leaving: u32,
    ramp: Option<UsersRamp>,
    /// The ramp's changes (one user each), those made so far, and their sign.
    total: u32,
    changes: u32,
    up: bool,
    /// When `count` last changed, for the users × time integral.
    since: Time,
}

impl Users {
    pub fn new(closed: &Closed, rng: Stream) -> Users {
        let (total, up) = closed.ramp.map_or((0, false), |r| {
            (r.to.abs_diff(closed.users), r.to > closed.users)
        });
        Users {
            think: closed.think.clone(),
            rng,
            count: closed.users,
            leaving: 0,
            ramp: closed.ramp,
            total,
            changes: 0,
            up,
            since: 0,
        }
    }

    /// The time of the ramp's next change, if any is left: the k-th of n at
    /// start + over × k / n, so the count reaches `to` at start + over.
    fn next_change(&self) -> Option<Time> {
        let r = self.ramp.filter(|_| self.changes < self.total)?;
        let k = u128::from(self.changes + 1);
        Some(r.start + (u128::from(r.over) * k / u128::from(self.total)) as Time)
    }
}

impl World<'_> {
    /// Every user's first send, after one think draw; the ramp's first change.
    #[inline(never)]
    pub(super) fn start_users(&mut self, workload: usize) {
        let Source::Closed(u) = &mut self.sources[workload] else {
            return;
        };
        let first: Vec<Time> = (0..u.count).map(|_| u.think.sample(&mut u.rng)).collect();
        let change = u.next_change();
        for t in first {
            self.schedule_send(workload, t);
        }
        if let Some(t) = change.filter(|&t| t < self.end) {
            self.q.schedule_at(
                t,
                Event::Users {
                    workload: workload as u32,
                },
            );
        }
    }

    fn schedule_send(&mut self, workload: usize, at: Time) {
        if at < self.end {
            self.q.schedule_at(
                at,
                Event::Arrival {
                    workload: workload as u32,
                },
            );
        }
    }

    /// A user's think is over: false if that user leaves instead of sending.
    #[inline]
    pub(super) fn user_stays(&mut self, workload: usize) -> bool {
        match &mut self.sources[workload] {
            Source::Closed(u) if u.leaving > 0 => {
                u.leaving -= 1;
                false
            }
            _ => true,
        }
    }

    /// A client request of `workload` ended after `response`: a closed
    /// workload's user thinks, then sends again (nothing for an open one).
    #[inline]
    pub(super) fn user_answered(&mut self, workload: u32, response: Time) {
        if let Source::Closed(_) = self.sources[workload as usize] {
            self.user_thinks(workload as usize, response);
        }
    }

    /// Kept out of line, so the open path stays as small as it was. A request
    /// that took no time followed by no think would loop at one instant for
    /// ever: that user's next send is 1 ns later.
    #[inline(never)]
    fn user_thinks(&mut self, w: usize, response: Time) {
        let Source::Closed(u) = &mut self.sources[w] else {
            return;
        };
        let think = u.think.sample(&mut u.rng);
        let now = self.q.now();
        if now >= self.warmup {
            let st = &mut self.m.workloads[w];
            st.answered += 1;
            st.response_ns += u128::from(response);
            st.think_ns += u128::from(think);
            st.thinks += 1;
        }
        let gap = if response == 0 { think.max(1) } else { think };
        self.schedule_send(w, now.saturating_add(gap));
    }

    /// The ramp's next change: one user joins or one is told to leave.
    #[inline(never)]
    pub(super) fn on_users(&mut self, workload: u32) {
        let w = workload as usize;
        let now = self.q.now();
        self.integrate_users(w, now);
        let Source::Closed(u) = &mut self.sources[w] else {
            return;
        };
        u.changes += 1;
        let mut join = None;
        if u.up {
            // A ramp goes one way: on the way up no one is leaving.
            u.count += 1;
            join = Some(now + u.think.sample(&mut u.rng));
        } else {
            u.count -= 1;
            u.leaving += 1;
        }
        let next = u.next_change();
        if let Some(t) = join {
            self.schedule_send(w, t);
        }
        if let Some(t) = next.filter(|&t| t < self.end) {
            self.q.schedule_at(t, Event::Users { workload });
        }
    }

    /// Adds users × time since the last change, over the measured window, up to `now`.
    pub(super) fn integrate_users(&mut self, workload: usize, now: Time) {
        let Source::Closed(u) = &mut self.sources[workload] else {
            return;
        };
        let from = u.since.max(self.warmup);
        if now > from {
            self.m.workloads[workload].user_ns += u128::from(u.count) * u128::from(now - from);
        }
        u.since = now;
    }
}
