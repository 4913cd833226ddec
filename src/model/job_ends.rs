//! The ends of a job other than its last step: shed from its replica's
//! queue (it waited past `max_queue_time`), killed with its replica, and the
//! span a traced job leaves behind.

use super::calls::Outcome;
use super::event::Parent;
use super::jobs::Job;
use super::trace::{NO_TRACE, Span, SpanKind, SpanRef};
use super::world::World;
use crate::engine::{Id, Time};

impl World<'_> {
    /// Load shedding: drops a request that waited longer than `limit` (its
    /// service's `max_queue_time`) before its first step.
    pub(super) fn shed_if_stale(&mut self, id: Id, limit: Time) -> bool {
        let job = self.jobs.get(id).expect("queued job");
        if job.step > 0
            || matches!(job.parent, Parent::Delivery(_))
            || self.now() - job.arrived <= limit
        {
            return false;
        }
        let job = self.jobs.remove(id).expect("queued job");
        if job.trace != NO_TRACE {
            let now = self.now();
            let parent = SpanRef::job(id);
            self.tracer.span(
                job.trace,
                self.tracer.mark(id),
                now,
                SpanKind::Queue,
                parent,
            );
            self.trace_job(id, &job, false);
        }
        if job.measured {
            let svc = self.replicas[job.replica as usize].service as usize;
            self.m.services[svc].shed += 1;
        }
        self.replicas[job.replica as usize].outstanding -= 1;
        match job.parent {
            Parent::Call(call) => self.answer(call, Outcome::Rejected),
            Parent::ClientCall { .. } | Parent::JobCall { .. } => {
                self.answer_held(&job, Outcome::Rejected, false)
            }
            Parent::Delivery(_) => {}
        }
        true
    }

    /// Kills every job of a replica (it crashed): their callers get a
    /// connection failure when `notify`, else nothing (the caller times out).
    pub fn kill_jobs(&mut self, r: u32, notify: bool) {
        let svc = self.replicas[r as usize].service as usize;
        let jobs = self.jobs.ids_where(|j| j.replica == r);
        for id in jobs {
            let job = self.jobs.remove(id).expect("live job");
            self.trace_job(id, &job, false);
            if job.measured {
                self.m.endpoints[job.endpoint as usize].failed += 1;
            }
            match job.parent {
                Parent::Call(call) if notify => self.answer(call, Outcome::ConnectFailure),
                Parent::ClientCall { .. } | Parent::JobCall { .. } if notify => {
                    self.answer_held(&job, Outcome::ConnectFailure, false)
                }
                _ => self.respond(&job, false, true),
            }
        }
        if self.services[svc].shared_cores {
            self.clear_cores(r);
        } else {
            self.busy_down(svc, u64::from(self.replicas[r as usize].busy));
        }
        let replica = &mut self.replicas[r as usize];
        replica.busy = 0;
        replica.incarnation = replica.incarnation.wrapping_add(1);
        replica.outstanding = 0;
        replica.queue.clear();
    }

    /// Records a traced job's span, from its arrival to now.
    #[cold]
    pub(super) fn trace_job(&mut self, id: Id, job: &Job, ok: bool) {
        if job.trace == NO_TRACE {
            return;
        }
        self.tracer.forget_mark(id);
        let svc = self.replicas[job.replica as usize].service as usize;
        let replica = job.replica - self.services[svc].first_replica;
        let now = self.now();
        self.tracer.push(job.trace, |trace| Span {
            trace,
            start: job.arrived,
            end: now,
            kind: SpanKind::Job {
                endpoint: job.endpoint,
                replica,
            },
            outcome: None,
            ok,
            of: SpanRef::job(id),
            parent: match job.parent {
                Parent::Call(c) => SpanRef::attempt(c),
                Parent::Delivery(d) => SpanRef::delivery(d),
                Parent::ClientCall { .. } | Parent::JobCall { .. } => {
                    unreachable!("a held call is never traced")
                }
            },
        });
    }
}
