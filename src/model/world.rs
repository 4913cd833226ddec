//! The world's state, its event loop, and the path of a request.
//!
//! A request to an endpoint is a *call* (who asked, from which data center,
//! to which replica) and, once the replica admits it, a *job* (which step it is
//! at, how many answers it awaits). Both live in arenas and events carry their
//! ids. Two rules keep the handlers simple: a request may be delivered within
//! the handler that sends it (when the hop takes no time), but an answer to a
//! job is always a separate event, so no handler is ever re-entered for a job
//! it is in the middle of changing. A job may vanish (its replica crashed):
//! every handler that names a job checks that it still exists.

use std::collections::VecDeque;

use super::budget::CHECK_EVERY;
use crate::engine::{Arena, EventQueue, Id, Stream, Time, stream};
use crate::metrics::{CallStats, Collector, EndpointStats, ServiceStats, WorkloadStats};
use crate::scenario::spec::{Scenario, Step, Threading};

use super::arrivals::Arrivals;
use super::autoscale::Hpa;
use super::calls::{
    Call, Caller, Logical, NEVER, NO_POLICY, NO_SITE, Outcome, PolicyState, TimeoutLane,
    policy_states, timeout_lanes,
};
use super::messaging::{MessagingState, NO_KEY, draw_key};
use super::network::Network;
use super::routing::View;
use super::trace::{NO_TRACE, Span, SpanKind, SpanRef, Tracer, Traces};

/// The closed set of things that happen.
#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
    /// The next request of a workload is sent.
    Arrival {
        workload: u32,
    },
    /// A job's `work` step ends.
    WorkDone {
        job: Id,
    },
    /// A request reaches the callee's replica after a network hop.
    Deliver {
        call: Id,
    },
    /// An answer reaches the caller.
    Answer {
        call: Id,
        outcome: Outcome,
    },
    /// The earliest deadline of a timeout lane is due.
    LaneDue {
        lane: u32,
    },
    /// An attempt's timeout that is not in a lane (cut short by a deadline).
    AttemptTimeout {
        call: Id,
    },
    /// A back-off has passed: the next attempt of a call goes out.
    Retry {
        logical: Id,
        policy: u32,
    },
    /// Time to send a hedged copy, if the call is still unanswered.
    Hedge {
        logical: Id,
    },
    /// A call's deadline: it fails, whatever its attempts are doing.
    CallDeadline {
        logical: Id,
    },
    /// A message (or a follower's copy) reaches a broker node.
    NodeArrive {
        node: u32,
        message: Id,
        follower: bool,
    },
    /// A send to a broker node is tried again (the link was partitioned).
    Resend {
        from_dc: u16,
        node: u32,
        message: Id,
        follower: bool,
    },
    /// An acknowledgement is sent again (the link was partitioned).
    AckRetry {
        from_dc: u16,
        to_dc: u16,
        id: Id,
        producer: bool,
    },
    /// A broker node finished its oldest append.
    NodeDone {
        node: u32,
        epoch: u32,
    },
    /// A partition's leader is elected again after its node failed.
    LeaderElection {
        partition: u32,
    },
    /// A follower's append is acknowledged at the leader.
    FollowerAcked {
        message: Id,
    },
    /// A producer's publish is acknowledged.
    PublishAcked {
        job: Id,
    },
    /// Kafka notices a dead consumer and reassigns its partitions.
    Rebalance {
        group: u32,
    },
    /// The per-second series of the broker's groups take a sample.
    Sample,
    /// A handling failed at once (an injected error).
    HandlerFailed {
        delivery: Id,
    },
    /// A message's retry wait is over.
    Redeliver {
        delivery: Id,
        front: bool,
    },
    /// A call refused by its breaker ends (never within its caller's handler).
    ShortCircuited {
        logical: Id,
    },
    /// An ejected replica returns to the callers' views.
    Uneject {
        replica: u32,
        epoch: u32,
    },
    /// Failure `failure` starts or ends (on replica slot `target` for random crashes).
    FailureStart {
        failure: u32,
        target: u32,
    },
    FailureEnd {
        failure: u32,
        target: u32,
    },
    /// The registry checks every replica (discovery).
    HealthCheck,
    /// Callers refresh their view from the registry (discovery).
    Refresh,
    /// The autoscaler of a service runs.
    Autoscale {
        service: u32,
    },
    /// A started replica has finished starting (if it is still epoch `epoch`).
    ReplicaReady {
        replica: u32,
        epoch: u32,
    },
}

/// What a job answers to: the call that brought it, or the message it handles.
#[derive(Clone, Copy, Debug)]
pub(super) enum Parent {
    Call(Id),
    Delivery(Id),
}

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
    /// The request's message key (NO_KEY if the workload has none).
    pub key: u64,
    /// Propagated deadline: work past it is abandoned (NEVER if none).
    pub deadline: Time,
    /// The trace it belongs to (NO_TRACE if none); a traced job's marks
    /// (when it began to wait or work) are kept by the tracer.
    pub trace: u32,
}

/// What a replica slot is doing. Slots beyond the starting count exist for the autoscaler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum SlotState {
    Absent,
    Starting,
    Active,
    /// Scaled down: takes no new traffic from refreshed views, finishes what it has.
    Draining,
}

pub(super) struct Replica {
    pub service: u32,
    pub dc: u16,
    pub busy: u32,
    /// Admitted jobs not finished (for least_request).
    pub outstanding: u32,
    pub queue: VecDeque<Id>,
    pub state: SlotState,
    /// Active crash-like failures on this replica (crash, random, data center down).
    pub down: u16,
    /// Bumped at every start, so a stale ReplicaReady is ignored.
    pub epoch: u32,
    /// The registry's opinion (discovery), and its failed checks in a row.
    pub registered: bool,
    pub failed_checks: u32,
    /// What callers last copied from the registry (discovery).
    pub in_view: bool,
    /// Workers freed while `release_worker` is already handing them out.
    pub releases: u32,
    pub draining: bool,
    /// Outlier detection: failures in a row, times ejected, ejected now.
    pub consecutive_failures: u32,
    pub ejections: u32,
    pub ejected: bool,
}

impl Replica {
    /// Processes requests: not crashed, and started.
    pub fn serving(&self) -> bool {
        self.down == 0 && matches!(self.state, SlotState::Active | SlotState::Draining)
    }
}

pub(super) struct ServiceState {
    pub first_replica: u32,
    pub slots: u32,
    pub concurrency: u32,
    pub queue_cap: u32,
    pub is_async: bool,
    pub cursor: u32,
    pub balancer_rng: Stream,
    pub view: View,
    /// Busy workers, workers of serving replicas, serving replicas; integrated since `since`.
    pub busy: u64,
    pub available: u64,
    pub up: u32,
    pub since: Time,
    /// Integrals over the whole run (for the autoscaler and the series), and
    /// their values at the last sample.
    pub busy_total: u128,
    pub available_total: u128,
    pub sampled: (u128, u128),
    /// Work-time multiplier and error share from active failures.
    pub slow: Vec<f64>,
    pub errors: Vec<f64>,
    pub error_rng: Stream,
    pub hpa: Option<Hpa>,
}

impl ServiceState {
    pub fn replicas(&self) -> std::ops::Range<u32> {
        self.first_replica..self.first_replica + self.slots
    }
}

/// What a run produces: the collected metrics and the sampled traces.
pub struct RunOutput {
    pub collector: Collector,
    pub traces: Traces,
}

/// How a run records what only the reports need.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// The step of the time series (1 s if None; coarser for long runs).
    pub series_step: Option<Time>,
    /// The share of requests (sent after warmup) traced, 0 for none.
    pub trace_sample: f64,
}

pub(super) struct World<'s> {
    pub s: &'s Scenario,
    pub q: EventQueue<Event>,
    pub calls: Arena<Call>,
    pub logicals: Arena<Logical>,
    pub policies: Vec<PolicyState>,
    pub jobs: Arena<Job>,
    pub replicas: Vec<Replica>,
    pub services: Vec<ServiceState>,
    pub net: Network,
    pub messaging: MessagingState,
    arrivals: Vec<Arrivals>,
    key_rng: Vec<Stream>,
    work_rng: Vec<Stream>,
    pub lanes: Vec<TimeoutLane>,
    pub failure_rng: Vec<Stream>,
    pub m: Collector,
    pub warmup: Time,
    pub end: Time,
    pub tracer: Tracer,
    pub budget: super::budget::Budget,
    /// The breaker's policy of each call site, if it has one (for the series).
    pub site_policy: Vec<Option<usize>>,
    /// Counters of each call site and topic at the last sample.
    pub call_marks: Vec<[u64; 4]>,
    pub topic_marks: Vec<u64>,
}

/// Runs a scenario with `seed`; `progress` is called now and then with the simulated time.
pub fn run(s: &Scenario, seed: u64, progress: &mut dyn FnMut(Time, u64)) -> RunOutput {
    run_with(s, seed, &RunOptions::default(), progress)
}

/// [`run`], with the options of the reports.
pub fn run_with(
    s: &Scenario,
    seed: u64,
    options: &RunOptions,
    progress: &mut dyn FnMut(Time, u64),
) -> RunOutput {
    let mut w = World::new(s, seed, options);
    let end = w.end;
    let slice = (end / 200).max(1);
    let mut horizon = 0;
    while horizon < end {
        horizon = (horizon + slice).min(end);
        while let Some(ev) = w.q.pop_until(horizon) {
            w.handle(ev);
            if w.q.events_processed().is_multiple_of(CHECK_EVERY) && w.over_budget() {
                let overload = w.overload();
                w.end = w.now();
                w.m.overload = Some((overload.at, overload.message()));
                return w.into_output();
            }
        }
        progress(horizon, w.q.events_processed());
    }
    w.q.advance_to(end);
    w.into_output()
}

impl<'s> World<'s> {
    fn new(s: &'s Scenario, seed: u64, options: &RunOptions) -> World<'s> {
        let mut replicas = Vec::new();
        let mut services = Vec::new();
        for (i, svc) in s.services.iter().enumerate() {
            let first = replicas.len() as u32;
            let slots = svc.max_replicas();
            let placed: Vec<u16> = svc
                .placement
                .iter()
                .flat_map(|&(dc, n)| std::iter::repeat_n(dc as u16, n as usize))
                .collect();
            let dcs: Vec<u16> = svc.placement.iter().map(|&(dc, _)| dc as u16).collect();
            for k in 0..slots as usize {
                let (dc, state) = match placed.get(k) {
                    Some(&dc) => (dc, SlotState::Active),
                    None => (dcs[k % dcs.len()], SlotState::Absent),
                };
                replicas.push(Replica {
                    service: i as u32,
                    dc,
                    busy: 0,
                    outstanding: 0,
                    queue: VecDeque::new(),
                    state,
                    down: 0,
                    epoch: 0,
                    registered: state == SlotState::Active,
                    failed_checks: 0,
                    in_view: state == SlotState::Active,
                    consecutive_failures: 0,
                    releases: 0,
                    draining: false,
                    ejections: 0,
                    ejected: false,
                });
            }
            let up = svc.replicas();
            services.push(ServiceState {
                first_replica: first,
                slots,
                concurrency: svc.concurrency,
                queue_cap: svc.queue,
                is_async: svc.threading == Threading::Async,
                cursor: 0,
                balancer_rng: stream(seed, &format!("service/{}/balancer", svc.name)),
                view: View::new(s.datacenters.len()),
                busy: 0,
                available: u64::from(up) * u64::from(svc.concurrency),
                up,
                since: 0,
                busy_total: 0,
                available_total: 0,
                sampled: (0, 0),
                slow: Vec::new(),
                errors: Vec::new(),
                error_rng: stream(seed, &format!("service/{}/errors", svc.name)),
                hpa: svc.autoscale.as_ref().map(|_| Hpa::default()),
            });
        }
        let work_rng = s
            .endpoints
            .iter()
            .map(|e| {
                let name = format!(
                    "service/{}/endpoint/{}/work",
                    s.services[e.service].name, e.name
                );
                stream(seed, &name)
            })
            .collect();
        let arrivals = s
            .workloads
            .iter()
            .map(|w| {
                Arrivals::new(
                    w.arrival.clone(),
                    stream(seed, &format!("workload/{}/arrivals", w.name)),
                )
            })
            .collect();
        let m = Collector {
            workloads: vec![WorkloadStats::default(); s.workloads.len()],
            endpoints: vec![EndpointStats::default(); s.endpoints.len()],
            services: s
                .services
                .iter()
                .map(|svc| ServiceStats {
                    replica_timeline: vec![(0, svc.replicas())],
                    ..Default::default()
                })
                .collect(),
            calls: vec![CallStats::default(); s.call_sites.len()],
            topics: s
                .broker
                .iter()
                .flat_map(|b| b.topics.iter().enumerate())
                .map(|(t, _)| crate::metrics::TopicStats {
                    published: 0,
                    groups: vec![
                        Default::default();
                        s.consumers.iter().filter(|c| c.topic == t).count()
                    ],
                })
                .collect(),
            ..Default::default()
        };
        let mut w = World {
            s,
            q: EventQueue::new(),
            calls: Arena::new(),
            logicals: Arena::new(),
            policies: policy_states(s, seed),
            jobs: Arena::new(),
            replicas,
            services,
            net: Network::new(s, seed),
            messaging: MessagingState::new(s, seed),
            arrivals,
            key_rng: s
                .workloads
                .iter()
                .map(|w| stream(seed, &format!("workload/{}/keys", w.name)))
                .collect(),
            work_rng,
            budget: Default::default(),
            lanes: timeout_lanes(s),
            failure_rng: (0..s.failures.len())
                .map(|i| stream(seed, &format!("failure/{i}")))
                .collect(),
            warmup: s.warmup,
            end: s.end(),
            tracer: Tracer::new(options.trace_sample, seed),
            site_policy: Vec::new(),
            call_marks: vec![[0; 4]; m.calls.len()],
            topic_marks: vec![0; m.topics.len()],
            m,
        };
        for svc in 0..w.services.len() {
            w.rebuild_view(svc);
        }
        w.assign_partitions();
        for i in 0..s.workloads.len() {
            if let Some(t) = w.arrivals[i].next_after(0, w.end) {
                w.q.schedule_at(t, Event::Arrival { workload: i as u32 });
            }
        }
        w.schedule_failures();
        w.schedule_discovery();
        w.schedule_autoscalers();
        let step = crate::metrics::series::effective_step(w.end, options.series_step);
        w.schedule_sampling(step);
        w
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Arrival { workload } => self.on_arrival(workload),
            Event::WorkDone { job } => self.on_work_done(job),
            Event::Deliver { call } => self.deliver(call),
            Event::Answer { call, outcome } => self.on_answer(call, outcome),
            Event::LaneDue { lane } => self.on_lane_due(lane),
            Event::AttemptTimeout { call } => self.on_attempt_timeout(call),
            Event::Retry { logical, policy } => self.on_retry(logical, policy),
            Event::Hedge { logical } => self.on_hedge(logical),
            Event::CallDeadline { logical } => self.on_call_deadline(logical),
            Event::Uneject { replica, epoch } => self.on_uneject(replica, epoch),
            Event::ShortCircuited { logical } => self.on_short_circuited(logical),
            Event::NodeArrive {
                node,
                message,
                follower,
            } => self.on_node_arrive(node, message, follower),
            Event::NodeDone { node, epoch } => self.on_node_done(node, epoch),
            Event::LeaderElection { partition } => self.on_leader_election(partition),
            Event::Resend {
                from_dc,
                node,
                message,
                follower,
            } => self.on_resend(from_dc, node, message, follower),
            Event::AckRetry {
                from_dc,
                to_dc,
                id,
                producer,
            } => self.on_ack_retry(from_dc, to_dc, id, producer),
            Event::FollowerAcked { message } => self.on_follower_acked(message),
            Event::PublishAcked { job } => self.on_publish_acked(job),
            Event::Redeliver { delivery, front } => self.on_redeliver(delivery, front),
            Event::HandlerFailed { delivery } => self.on_handled(delivery, false),
            Event::Rebalance { group } => self.on_rebalance(group),
            Event::Sample => self.on_sample(),
            Event::FailureStart { failure, target } => self.on_failure(failure, target, true),
            Event::FailureEnd { failure, target } => self.on_failure(failure, target, false),
            Event::HealthCheck => self.on_health_check(),
            Event::Refresh => self.on_refresh(),
            Event::Autoscale { service } => self.on_autoscale(service as usize),
            Event::ReplicaReady { replica, epoch } => self.on_replica_ready(replica, epoch),
        }
    }

    pub fn now(&self) -> Time {
        self.q.now()
    }

    fn on_arrival(&mut self, workload: u32) {
        let now = self.now();
        let wl = &self.s.workloads[workload as usize];
        let measured = now >= self.warmup;
        if measured {
            self.m.workloads[workload as usize].sent += 1;
        }
        let entry = wl.entry as u32;
        let policy = self.s.services[self.s.endpoints[wl.entry].service].load_balancer;
        let (from, timeout) = (wl.from as u16, wl.timeout);
        let key = match &wl.keys {
            Some(k) => draw_key(k, &mut self.key_rng[workload as usize]),
            None => NO_KEY,
        };
        let trace = self.tracer.sample(measured, now);
        self.start_call(
            Caller::Client { workload },
            from,
            entry,
            NO_SITE,
            NO_POLICY,
            policy,
            measured,
            NEVER,
            timeout,
            key,
            trace,
        );
        if let Some(t) = self.arrivals[workload as usize].next_after(now, self.end) {
            self.q.schedule_at(t, Event::Arrival { workload });
        }
    }

    /// A request reaches its replica: refused if the replica is down, failed if
    /// an error is injected, else started, queued or rejected.
    pub(super) fn deliver(&mut self, call: Id) {
        let Some(c) = self.calls.get(call) else {
            return;
        };
        let (r, measured, endpoint, deadline, key, trace) = (
            c.replica,
            c.measured,
            c.target as usize,
            c.deadline,
            c.key,
            c.trace,
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
        let st = &self.services[svc];
        let replica = &self.replicas[r as usize];
        if replica.busy >= st.concurrency && replica.queue.len() >= st.queue_cap as usize {
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
        );
    }

    /// A job starts on replica `r`, or waits for a worker. The queue bound was
    /// checked by the caller (a message handler has none: the broker holds it back).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn admit(
        &mut self,
        r: u32,
        endpoint: u32,
        parent: Parent,
        measured: bool,
        deadline: Time,
        key: u64,
        trace: u32,
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
            key,
            deadline,
            trace,
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
    fn respond(&mut self, parent: Parent, ok: bool, lost: bool) {
        match parent {
            Parent::Call(call) if lost => self.lose(call),
            Parent::Call(call) => self.answer(
                call,
                if ok {
                    Outcome::Ok
                } else {
                    Outcome::ServerError
                },
            ),
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

    fn job_mut(&mut self, job: Id) -> &mut Job {
        self.jobs.get_mut(job).expect("live job")
    }

    /// Runs a job from its current step until it must wait (work, calls, a worker) or ends.
    fn run_job(&mut self, id: Id) {
        let s = self.s;
        let job = self.jobs.get(id).expect("live job");
        let endpoint = job.endpoint as usize;
        let Some(step) = s.endpoints[endpoint].steps.get(job.step as usize) else {
            let ok = !job.failed;
            self.finish(id, ok);
            return;
        };
        let r = job.replica;
        let svc = self.replicas[r as usize].service as usize;
        if self.now() >= job.deadline {
            // Nobody waits for this answer any more: abandon, do not work (or call) for nobody.
            if job.measured {
                self.m.endpoints[endpoint].abandoned += 1;
            }
            self.finish(id, false);
            return;
        }
        match step {
            Step::Work(dist) => {
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
                self.q.schedule_in(d, Event::WorkDone { job: id });
            }
            &Step::Publish { topic } => {
                let (has_worker, measured, key, trace) =
                    (job.has_worker, job.measured, job.key, job.trace);
                let from_dc = self.replicas[r as usize].dc;
                let now = self.now();
                self.job_mut(id).pending = 1;
                if trace != NO_TRACE {
                    self.tracer.set_mark(id, now);
                }
                if self.publish(id, topic, key, from_dc, measured, trace) {
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
            Step::Calls(specs) => {
                let total: u32 = specs.iter().map(|c| c.fanout).sum();
                let (has_worker, measured, deadline, key, trace) = (
                    job.has_worker,
                    job.measured,
                    job.deadline,
                    job.key,
                    job.trace,
                );
                let from_dc = self.replicas[r as usize].dc;
                self.job_mut(id).pending = total;
                for spec in specs {
                    let balancer = s.call_sites[spec.site].load_balancer;
                    let (target, site, policy) =
                        (spec.target as u32, spec.site as u32, spec.policy as u32);
                    for _ in 0..spec.fanout {
                        self.start_call(
                            Caller::Job(id),
                            from_dc,
                            target,
                            site,
                            policy,
                            balancer,
                            measured,
                            deadline,
                            None,
                            key,
                            trace,
                        );
                    }
                }
                if has_worker && self.services[svc].is_async {
                    self.job_mut(id).has_worker = false;
                    self.release_worker(r);
                }
            }
        }
    }

    fn on_work_done(&mut self, id: Id) {
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
        let job = self.jobs.remove(id).expect("live job");
        let now = self.now();
        if job.trace != NO_TRACE {
            self.trace_job(id, &job, ok);
        }
        if job.measured {
            let st = &mut self.m.endpoints[job.endpoint as usize];
            if ok {
                st.ok += 1;
                st.latency.record(now - job.arrived);
                if let Some(e) = self.m.series.endpoints.get_mut(job.endpoint as usize) {
                    e.record(now - job.arrived);
                }
            } else {
                st.failed += 1;
            }
        }
        self.respond(job.parent, ok, false);
        self.replicas[job.replica as usize].outstanding -= 1;
        if job.has_worker {
            self.release_worker(job.replica);
        }
        self.retire_if_drained(job.replica);
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

    /// Records a traced job's span, from its arrival to now.
    #[cold]
    fn trace_job(&mut self, id: Id, job: &Job, ok: bool) {
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
            },
        });
    }

    fn on_publish_acked(&mut self, job: Id) {
        if let Some(j) = self.jobs.get(job)
            && j.trace != NO_TRACE
        {
            let topic = match self.s.endpoints[j.endpoint as usize].steps[j.step as usize] {
                Step::Publish { topic } => topic as u32,
                _ => unreachable!("a publish is acknowledged at a publish step"),
            };
            let (trace, mark, now) = (j.trace, self.tracer.mark(job), self.now());
            let kind = SpanKind::Publish { topic };
            self.tracer.span(trace, mark, now, kind, SpanRef::job(job));
        }
        self.call_returned(job, true);
    }

    /// Load shedding: drops a request that waited too long before its first step.
    fn shed_if_stale(&mut self, id: Id) -> bool {
        let job = self.jobs.get(id).expect("queued job");
        let svc = self.replicas[job.replica as usize].service as usize;
        let Some(limit) = self.s.services[svc].max_queue_time else {
            return false;
        };
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
            self.m.services[svc].shed += 1;
        }
        self.replicas[job.replica as usize].outstanding -= 1;
        if let Parent::Call(call) = job.parent {
            self.answer(call, Outcome::Rejected);
        }
        true
    }

    fn take_worker(&mut self, r: u32) {
        let svc = self.replicas[r as usize].service as usize;
        self.integrate(svc);
        self.replicas[r as usize].busy += 1;
        self.services[svc].busy += 1;
    }

    /// Frees a worker; the first waiting job, if any, takes it over. A new
    /// request that waited longer than `max_queue_time` is shed instead.
    ///
    /// A job started here may end at once (its deadline passed) and free the
    /// worker again: such nested releases are counted and served by the outer
    /// loop, so the stack stays flat however long the queue.
    fn release_worker(&mut self, r: u32) {
        self.replicas[r as usize].releases += 1;
        if self.replicas[r as usize].draining {
            return;
        }
        self.replicas[r as usize].draining = true;
        while self.replicas[r as usize].releases > 0 {
            self.replicas[r as usize].releases -= 1;
            let next = loop {
                match self.replicas[r as usize].queue.pop_front() {
                    Some(n) if self.shed_if_stale(n) => continue,
                    other => break other,
                }
            };
            match next {
                Some(n) => {
                    let job = self.job_mut(n);
                    job.has_worker = true;
                    let trace = job.trace;
                    let mark = if trace == NO_TRACE {
                        Time::MAX
                    } else {
                        self.tracer.mark(n)
                    };
                    if trace != NO_TRACE && self.now() > mark {
                        let (parent, now) = (SpanRef::job(n), self.now());
                        self.tracer.span(trace, mark, now, SpanKind::Queue, parent);
                    }
                    self.run_job(n);
                }
                None => {
                    let svc = self.replicas[r as usize].service as usize;
                    self.integrate(svc);
                    self.replicas[r as usize].busy -= 1;
                    self.services[svc].busy -= 1;
                }
            }
        }
        self.replicas[r as usize].draining = false;
    }

    /// Accumulates busy and available worker time, and time with a serving
    /// replica, up to now: over the measured window for the metrics, over the
    /// whole run for the autoscaler. Called before any of the counts changes.
    pub fn integrate(&mut self, svc: usize) {
        let now = self.now();
        let st = &mut self.services[svc];
        let dt = u128::from(now - st.since);
        st.busy_total += u128::from(st.busy) * dt;
        st.available_total += u128::from(st.available) * dt;
        let from = st.since.max(self.warmup);
        if now > from {
            let dt = u128::from(now - from);
            let m = &mut self.m.services[svc];
            m.busy_worker_ns += u128::from(st.busy) * dt;
            m.available_worker_ns += u128::from(st.available) * dt;
            if st.up > 0 {
                m.up_ns += dt;
            }
        }
        st.since = now;
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
                parent => self.respond(parent, false, true),
            }
        }
        self.integrate(svc);
        let replica = &mut self.replicas[r as usize];
        self.services[svc].busy -= u64::from(replica.busy);
        replica.busy = 0;
        replica.outstanding = 0;
        replica.queue.clear();
    }

    fn into_output(mut self) -> RunOutput {
        for svc in 0..self.services.len() {
            self.integrate(svc);
        }
        for l in self.logicals.iter() {
            if let (Caller::Client { workload }, true) = (l.caller(), l.measured()) {
                let w = workload as usize;
                let hung = self.end - l.first_sent() > self.s.patience(w);
                let m = &mut self.m.workloads[w];
                m.in_flight += 1;
                m.hung += u64::from(hung);
            }
        }
        for call in self.calls.iter() {
            if call.site != NO_SITE && call.measured && !call.abandoned {
                self.m.calls[call.site as usize].in_flight += 1;
            }
        }
        self.count_messages_in_flight();
        if self.m.series.times.last() != Some(&self.end) {
            self.on_sample();
        }
        self.m.events_processed = self.q.events_processed();
        self.m.end = self.end;
        RunOutput {
            collector: self.m,
            traces: self.tracer.finish(),
        }
    }
}
