//! The callee side of a request: a delivered call admitted as a job on its
//! replica, its steps (work, calls, a publish) run in order, and its end —
//! answered, shed, abandoned past its deadline, or killed with its replica.
//! The rules every handler here keeps are in [`super::world`].

use super::calls::{Caller, NewCall, Outcome};
use super::event::{Event, Parent};
use super::messaging::NO_KEY;
use super::trace::{NO_TRACE, SpanKind, SpanRef};
use super::world::World;
use rand::RngExt;

use crate::engine::{Dist, Id, Time};
use crate::scenario::spec::{CallSpec, Step};

#[derive(Clone, Copy)]
pub(super) struct Job {
    pub endpoint: u32,
    pub replica: u32,
    pub step: u32,
    pub pending: u32,
    pub failed: bool,
    pub has_worker: bool,
    pub arrived: Time,
    pub parent: Parent,
    /// Part of a request sent by a client after warmup (carried down the call tree).
    pub measured: bool,
    /// The request's message key, below `MAX_KEYS` (u32::MAX for NO_KEY):
    /// read with [`Job::key`]. A u32 keeps a job's slot at 72 bytes.
    key: u32,
    /// Propagated deadline: work past it is abandoned (NEVER if none).
    pub deadline: Time,
    /// The trace it belongs to (NO_TRACE if none); a traced job's marks
    /// (when it began to wait or work) are kept by the tracer.
    pub trace: u32,
    /// Calls between the client (or the message) and this job: 1 for a
    /// client's request, 0 for a message handler.
    pub depth: u16,
}

impl Job {
    /// The request's message key (NO_KEY if the workload has none).
    #[inline]
    pub fn key(&self) -> u64 {
        match self.key {
            u32::MAX => NO_KEY,
            k => u64::from(k),
        }
    }
}

/// A key as a job keeps it (keys are below `MAX_KEYS`, checked at load).
fn job_key(key: u64) -> u32 {
    debug_assert!(key < u64::from(u32::MAX) || key == NO_KEY, "key {key}");
    u32::try_from(key).unwrap_or(u32::MAX)
}

const _: () = assert!(crate::scenario::broker::MAX_KEYS < u32::MAX as u64);

impl World<'_> {
    /// A request reaches its replica: refused if the replica is down, failed if
    /// an error is injected, else started, queued or rejected.
    pub(super) fn deliver(&mut self, call: Id) {
        let Some(c) = self.calls.get(call) else {
            return;
        };
        let (r, measured, endpoint, deadline, key, trace, depth) = (
            c.replica,
            c.measured,
            c.target as usize,
            c.deadline,
            c.key,
            c.trace,
            c.depth,
        );
        let svc = self.s.endpoints[endpoint].service;
        if !self.replicas[r as usize].serving() {
            if self.net.dc_is_down(self.replicas[r as usize].dc) {
                self.lose(call);
            } else {
                self.count_connection_failure(svc, measured);
                self.answer(call, Outcome::ConnectFailure);
            }
            return;
        }
        if self.inject_error(svc) {
            if measured {
                self.m.services[svc].injected_errors += 1;
            }
            self.answer(call, Outcome::ServerError);
            return;
        }
        if !self.has_room(r, svc) {
            if measured {
                self.m.services[svc].rejected += 1;
            }
            self.answer(call, Outcome::Rejected);
            return;
        }
        self.admit(
            r,
            endpoint as u32,
            Parent::Call(call),
            measured,
            deadline,
            key,
            trace,
            depth,
        );
    }

    /// Whether replica `r` (of service `svc`) has a worker free or room in its queue.
    pub(super) fn has_room(&self, r: u32, svc: usize) -> bool {
        let (replica, st) = (&self.replicas[r as usize], &self.services[svc]);
        replica.busy < st.concurrency || replica.queue.len() < st.queue_cap as usize
    }

    /// A job starts on replica `r`, or waits for a worker. The queue bound was
    /// checked by the caller (a message handler has none: the broker holds it back).
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub(super) fn admit(
        &mut self,
        r: u32,
        endpoint: u32,
        parent: Parent,
        measured: bool,
        deadline: Time,
        key: u64,
        trace: u32,
        depth: u16,
    ) {
        let svc = self.replicas[r as usize].service as usize;
        let now = self.now();
        let job = self.jobs.insert(Job {
            endpoint,
            replica: r,
            step: 0,
            pending: 0,
            failed: false,
            has_worker: false,
            arrived: now,
            parent,
            measured,
            key: job_key(key),
            deadline,
            trace,
            depth,
        });
        if trace != NO_TRACE {
            self.tracer.set_mark(job, now);
        }
        self.replicas[r as usize].outstanding += 1;
        if self.replicas[r as usize].busy < self.services[svc].concurrency {
            self.take_worker(r);
            self.job_mut(job).has_worker = true;
            self.run_job(job);
        } else {
            self.replicas[r as usize].queue.push_back(job);
        }
    }

    /// A job is done: its caller gets the answer, or its message is settled.
    pub(super) fn respond(&mut self, job: &Job, ok: bool, lost: bool) {
        let outcome = if ok {
            Outcome::Ok
        } else {
            Outcome::ServerError
        };
        match job.parent {
            Parent::ClientCall { .. } | Parent::JobCall { .. } => {
                self.answer_held(job, outcome, lost)
            }
            Parent::Call(call) if lost => self.lose(call),
            Parent::Call(call) => self.answer(call, outcome),
            Parent::Delivery(d) if lost => self.handler_killed(d),
            Parent::Delivery(d) => self.on_handled(d, ok),
        }
    }

    pub(super) fn count_connection_failure(&mut self, svc: usize, measured: bool) {
        if measured {
            let st = &mut self.m.services[svc];
            st.connection_failures += 1;
            st.last_connection_failure = Some(self.q.now());
        }
    }

    pub(super) fn job_mut(&mut self, job: Id) -> &mut Job {
        self.jobs.get_mut(job).expect("live job")
    }

    /// Runs a job from its current step until it must wait (work, calls, a worker) or ends.
    pub(super) fn run_job(&mut self, id: Id) {
        let (s, now) = (self.s, self.now());
        let job = self.jobs.get_mut(id).expect("live job");
        let endpoint = job.endpoint as usize;
        let steps = &s.endpoints[endpoint].steps;
        // Branches and jumps first: each branch draws from its own stream.
        let step = loop {
            job.step = match steps.get(job.step as usize) {
                Some(Step::Branch(b)) => b.target(self.branch_rng[b.id].random()),
                Some(&Step::Goto { to }) => to,
                step => break step,
            };
        };
        let Some(step) = step else {
            let ok = !job.failed;
            self.finish(id, ok);
            return;
        };
        let r = job.replica;
        let svc = self.replicas[r as usize].service as usize;
        if now >= job.deadline {
            // Nobody waits for this answer any more: abandon, do not work (or call) for nobody.
            if job.measured {
                self.m.endpoints[endpoint].abandoned += 1;
            }
            self.finish(id, false);
            return;
        }
        match step {
            Step::Work(dist) => self.work_step(id, dist, endpoint, r, svc),
            &Step::Publish { topic, size } => self.publish_step(id, topic, size, r, svc),
            Step::Calls(specs) if job.depth >= self.max_depth => self.too_deep(id, specs),
            Step::Calls(specs) => self.calls_step(id, specs, r, svc),
            Step::Branch(_) | Step::Goto { .. } => unreachable!("jumps are taken first"),
        }
    }

    /// A call step of a job already `max_call_depth` calls deep: it fails at
    /// once, nothing sent (each call counted in `depth_exceeded`).
    fn too_deep(&mut self, id: Id, specs: &[CallSpec]) {
        if self.jobs.get(id).expect("live job").measured {
            for spec in specs {
                self.m.calls[spec.site].depth_exceeded += u64::from(spec.fanout);
            }
        }
        self.finish(id, false);
    }

    /// A `work` step: the job takes a worker (or waits for one) and works a sampled time.
    fn work_step(&mut self, id: Id, dist: &Dist, endpoint: usize, r: u32, svc: usize) {
        let job = self.jobs.get(id).expect("live job");
        let trace = job.trace;
        if !job.has_worker {
            if self.replicas[r as usize].busy < self.services[svc].concurrency {
                self.take_worker(r);
                self.job_mut(id).has_worker = true;
            } else {
                // A continuation of an admitted request: it waits, past the queue bound.
                if trace != NO_TRACE {
                    let now = self.now();
                    self.tracer.set_mark(id, now);
                }
                self.replicas[r as usize].queue.push_back(id);
                return;
            }
        }
        let mut d = dist.sample(&mut self.work_rng[endpoint]);
        if !self.services[svc].slow.is_empty() {
            let factor: f64 = self.services[svc].slow.iter().product();
            d = crate::engine::time::from_nanos_f64(d as f64 * factor);
        }
        if trace != NO_TRACE {
            let now = self.now();
            self.tracer.set_mark(id, now);
        }
        if self.services[svc].shared_cores {
            self.start_on_cores(r, id, d);
        } else {
            self.q.schedule_in(d, Event::WorkDone { job: id });
        }
    }

    /// A `publish` step: the job waits for the ack (an async service frees its
    /// worker meanwhile), or goes on at once with `acks: 0`.
    fn publish_step(&mut self, id: Id, topic: usize, size: Option<u32>, r: u32, svc: usize) {
        let job = self.jobs.get(id).expect("live job");
        let (has_worker, measured, key, trace) =
            (job.has_worker, job.measured, job.key(), job.trace);
        let from_dc = self.replicas[r as usize].dc;
        let now = self.now();
        self.job_mut(id).pending = 1;
        if trace != NO_TRACE {
            self.tracer.set_mark(id, now);
        }
        let bytes = self.draw_size(super::bandwidth::slot(size));
        if self.publish(id, topic, key, from_dc, measured, trace, bytes) {
            if has_worker && self.services[svc].is_async {
                self.job_mut(id).has_worker = false;
                self.release_worker(r);
            }
        } else {
            // acks: 0: the producer does not wait.
            let job = self.job_mut(id);
            job.pending = 0;
            job.step += 1;
            self.run_job(id);
        }
    }

    /// A `calls` step: every call goes out at once; an async service frees its worker.
    fn calls_step(&mut self, id: Id, specs: &[CallSpec], r: u32, svc: usize) {
        let s = self.s;
        let job = self.jobs.get_mut(id).expect("live job");
        job.pending = specs.iter().map(|c| c.fanout).sum();
        let (has_worker, measured, deadline, key, trace, depth) = (
            job.has_worker,
            job.measured,
            job.deadline,
            job.key(),
            job.trace,
            job.depth + 1,
        );
        let from_dc = self.replicas[r as usize].dc;
        for spec in specs {
            let call = NewCall {
                caller: Caller::Job(id),
                from_dc,
                target: spec.target as u32,
                site: spec.site as u32,
                policy: spec.policy as u32,
                balancer: s.call_sites[spec.site].load_balancer,
                measured,
                inherited: deadline,
                client_timeout: None,
                key,
                trace,
                depth,
            };
            // Answers to a job are events: the job outlives this loop.
            for _ in 0..spec.fanout {
                self.start_call(call);
            }
        }
        if has_worker && self.services[svc].is_async {
            self.job_mut(id).has_worker = false;
            self.release_worker(r);
        }
    }

    #[inline(always)]
    pub(super) fn on_work_done(&mut self, id: Id) {
        // The job is gone if its replica crashed meanwhile.
        let Some(job) = self.jobs.get_mut(id) else {
            return;
        };
        job.step += 1;
        if job.trace != NO_TRACE {
            let (trace, now) = (job.trace, self.q.now());
            let mark = self.tracer.mark(id);
            if now > mark {
                self.tracer
                    .span(trace, mark, now, SpanKind::Work, SpanRef::job(id));
            }
        }
        self.run_job(id);
    }

    /// A job has run its last step (or a call failed): record, answer, free its worker.
    fn finish(&mut self, id: Id, ok: bool) {
        // Copied out before the removal, which then moves nothing.
        let job = *self.jobs.get(id).expect("live job");
        self.jobs.remove(id);
        let now = self.now();
        if job.trace != NO_TRACE {
            self.trace_job(id, &job, ok);
        }
        if job.measured {
            let st = &mut self.m.endpoints[job.endpoint as usize];
            if ok {
                st.ok += 1;
                st.latency.record(now - job.arrived);
                if let Some(e) = self.m.series.endpoints.get_mut(job.endpoint as usize)
                    && self.latency_series
                {
                    e.record(now - job.arrived);
                }
            } else {
                st.failed += 1;
            }
        }
        self.respond(&job, ok, false);
        self.replicas[job.replica as usize].outstanding -= 1;
        if job.has_worker {
            self.hand_off(job.replica);
        }
        self.retire_if_drained(job.replica);
    }

    /// A worker whose job has answered: free at once, or after the service's
    /// `handoff` (writing the answer, reading the next request), held meanwhile.
    fn hand_off(&mut self, r: u32) {
        let svc = self.replicas[r as usize].service as usize;
        let s = self.s;
        match &s.services[svc].handoff {
            None => self.release_worker(r),
            Some(dist) => {
                let d = dist.sample(&mut self.services[svc].handoff_rng);
                let incarnation = self.replicas[r as usize].incarnation;
                self.q.schedule_in(
                    d,
                    Event::Handoff {
                        replica: r,
                        incarnation,
                    },
                );
            }
        }
    }

    pub(super) fn on_handoff(&mut self, r: u32, incarnation: u32) {
        if self.replicas[r as usize].incarnation == incarnation {
            self.release_worker(r);
        }
    }

    /// One of a job's calls has ended (for good: retries are behind it).
    pub(super) fn call_returned(&mut self, job: Id, ok: bool) {
        // The calling job is gone if its replica crashed meanwhile.
        let Some(j) = self.jobs.get_mut(job) else {
            return;
        };
        j.pending -= 1;
        j.failed |= !ok;
        if j.pending == 0 {
            if j.failed {
                self.finish(job, false);
            } else {
                j.step += 1;
                self.run_job(job);
            }
        }
    }

    pub(super) fn on_publish_acked(&mut self, job: Id) {
        if let Some(j) = self.jobs.get(job)
            && j.trace != NO_TRACE
        {
            let topic = match self.s.endpoints[j.endpoint as usize].steps[j.step as usize] {
                Step::Publish { topic, .. } => topic as u32,
                _ => unreachable!("a publish is acknowledged at a publish step"),
            };
            let (trace, mark, now) = (j.trace, self.tracer.mark(job), self.now());
            let kind = SpanKind::Publish { topic };
            self.tracer.span(trace, mark, now, kind, SpanRef::job(job));
        }
        self.call_returned(job, true);
    }
}
