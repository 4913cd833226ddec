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

use crate::engine::{Arena, EventQueue, Id, Stream, Time, stream};
use crate::metrics::{CallStats, Collector, EndpointStats, ServiceStats, WorkloadStats};
use crate::scenario::spec::{LoadBalancer, Scenario, Step, Threading};

use super::arrivals::Arrivals;
use super::autoscale::Hpa;
use super::network::Network;
use super::routing::View;

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

/// How a call ended, as the caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The callee failed (a 5xx), was not reachable (connection failure) or had no replica.
    Failed,
    /// The callee's queue was full.
    Rejected,
    TimedOut,
}

#[derive(Clone, Copy, Debug)]
pub(super) enum Caller {
    Client { workload: u32 },
    Job(Id),
}

pub(super) const NO_SITE: u32 = u32::MAX;
pub(super) const NO_REPLICA: u32 = u32::MAX;

#[derive(Clone, Copy)]
pub(super) struct Call {
    pub caller: Caller,
    pub target: u32,
    /// Call-site index for metrics, or NO_SITE for a client request.
    pub site: u32,
    /// The replica chosen, or NO_REPLICA when the caller's view had none.
    pub replica: u32,
    pub from_dc: u16,
    pub sent: Time,
    pub measured: bool,
    /// The caller stopped waiting (timeout); the answer, when it comes, is dropped.
    pub abandoned: bool,
    /// The request or its answer was lost in the network: no answer will come.
    pub lost: bool,
}

pub(super) struct Job {
    pub endpoint: u32,
    pub replica: u32,
    pub step: u32,
    pub pending: u32,
    pub failed: bool,
    pub has_worker: bool,
    pub arrived: Time,
    pub call: Id,
    /// Part of a request sent by a client after warmup (carried down the call tree).
    pub measured: bool,
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
    /// Integrals over the whole run, kept for the autoscaler only.
    pub busy_total: u128,
    pub available_total: u128,
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

/// Deadlines of calls that share one timeout value. Deadlines are `now + timeout`
/// with `now` never decreasing, so a FIFO holds them in order: one pending event
/// per lane replaces one heap entry per call, and answered calls are skipped
/// lazily (their ids are stale) when the lane comes due.
struct TimeoutLane {
    timeout: Time,
    deadlines: VecDeque<(Time, Id)>,
    armed: bool,
}

/// What a run produces: the collected metrics.
pub struct RunOutput {
    pub collector: Collector,
}

pub(super) struct World<'s> {
    pub s: &'s Scenario,
    pub q: EventQueue<Event>,
    pub calls: Arena<Call>,
    pub jobs: Arena<Job>,
    pub replicas: Vec<Replica>,
    pub services: Vec<ServiceState>,
    pub net: Network,
    arrivals: Vec<Arrivals>,
    work_rng: Vec<Stream>,
    lanes: Vec<TimeoutLane>,
    pub failure_rng: Vec<Stream>,
    pub m: Collector,
    pub warmup: Time,
    pub end: Time,
}

/// Runs a scenario with `seed`; `progress` is called now and then with the simulated time.
pub fn run(s: &Scenario, seed: u64, progress: &mut dyn FnMut(Time, u64)) -> RunOutput {
    let mut w = World::new(s, seed);
    let end = w.end;
    let slice = (end / 200).max(1);
    let mut horizon = 0;
    while horizon < end {
        horizon = (horizon + slice).min(end);
        while let Some(ev) = w.q.pop_until(horizon) {
            w.handle(ev);
        }
        progress(horizon, w.q.events_processed());
    }
    w.q.advance_to(end);
    w.into_output()
}

impl<'s> World<'s> {
    fn new(s: &'s Scenario, seed: u64) -> World<'s> {
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
            ..Default::default()
        };
        let mut w = World {
            s,
            q: EventQueue::new(),
            calls: Arena::new(),
            jobs: Arena::new(),
            replicas,
            services,
            net: Network::new(s, seed),
            arrivals,
            work_rng,
            lanes: timeout_lanes(s),
            failure_rng: (0..s.failures.len())
                .map(|i| stream(seed, &format!("failure/{i}")))
                .collect(),
            m,
            warmup: s.warmup,
            end: s.end(),
        };
        for svc in 0..w.services.len() {
            w.rebuild_view(svc);
        }
        for i in 0..s.workloads.len() {
            if let Some(t) = w.arrivals[i].next_after(0, w.end) {
                w.q.schedule_at(t, Event::Arrival { workload: i as u32 });
            }
        }
        w.schedule_failures();
        w.schedule_discovery();
        w.schedule_autoscalers();
        w
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Arrival { workload } => self.on_arrival(workload),
            Event::WorkDone { job } => self.on_work_done(job),
            Event::Deliver { call } => self.deliver(call),
            Event::Answer { call, outcome } => self.on_answer(call, outcome),
            Event::LaneDue { lane } => self.on_lane_due(lane),
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
        self.send(
            Caller::Client { workload },
            from,
            entry,
            NO_SITE,
            policy,
            timeout,
            measured,
        );
        if let Some(t) = self.arrivals[workload as usize].next_after(now, self.end) {
            self.q.schedule_at(t, Event::Arrival { workload });
        }
    }

    /// Sends a request: picks a replica from the caller's view, records the
    /// attempt, arms the timeout and starts the hop (or loses the message).
    #[allow(clippy::too_many_arguments)]
    fn send(
        &mut self,
        caller: Caller,
        from_dc: u16,
        target: u32,
        site: u32,
        policy: LoadBalancer,
        timeout: Option<Time>,
        measured: bool,
    ) {
        let svc = self.s.endpoints[target as usize].service;
        let replica = self.route(svc, from_dc, policy).unwrap_or(NO_REPLICA);
        let call = self.calls.insert(Call {
            caller,
            target,
            site,
            replica,
            from_dc,
            sent: self.now(),
            measured,
            abandoned: false,
            lost: false,
        });
        if site != NO_SITE && measured {
            self.m.calls[site as usize].attempts += 1;
        }
        if let Some(t) = timeout {
            self.arm_timeout(t, call);
        }
        if replica == NO_REPLICA {
            // No healthy replica in the caller's view: fails at once (Envoy's 503).
            self.count_connection_failure(svc, measured);
            self.answer(call, Outcome::Failed);
            return;
        }
        let to = self.replicas[replica as usize].dc;
        match self.net.request_hop(from_dc, to) {
            Some(0) => self.deliver(call),
            Some(d) => self.q.schedule_in(d, Event::Deliver { call }),
            None => self.lose(call),
        }
    }

    /// A request reaches its replica: refused if the replica is down, failed if
    /// an error is injected, else started, queued or rejected.
    fn deliver(&mut self, call: Id) {
        let Some(c) = self.calls.get(call) else {
            return;
        };
        let (r, measured, endpoint) = (c.replica, c.measured, c.target as usize);
        let svc = self.s.endpoints[endpoint].service;
        if !self.replicas[r as usize].serving() {
            if self.net.dc_is_down(self.replicas[r as usize].dc) {
                self.lose(call);
            } else {
                self.count_connection_failure(svc, measured);
                self.answer(call, Outcome::Failed);
            }
            return;
        }
        if self.inject_error(svc) {
            if measured {
                self.m.services[svc].injected_errors += 1;
            }
            self.answer(call, Outcome::Failed);
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
        let job = self.jobs.insert(Job {
            endpoint: endpoint as u32,
            replica: r,
            step: 0,
            pending: 0,
            failed: false,
            has_worker: false,
            arrived: self.now(),
            call,
            measured,
        });
        self.replicas[r as usize].outstanding += 1;
        if self.replicas[r as usize].busy < self.services[svc].concurrency {
            self.take_worker(r);
            self.job_mut(job).has_worker = true;
            self.run_job(job);
        } else {
            self.replicas[r as usize].queue.push_back(job);
        }
    }

    fn count_connection_failure(&mut self, svc: usize, measured: bool) {
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
        match step {
            Step::Work(dist) => {
                if !job.has_worker {
                    if self.replicas[r as usize].busy < self.services[svc].concurrency {
                        self.take_worker(r);
                        self.job_mut(id).has_worker = true;
                    } else {
                        // A continuation of an admitted request: it waits, past the queue bound.
                        self.replicas[r as usize].queue.push_back(id);
                        return;
                    }
                }
                let mut d = dist.sample(&mut self.work_rng[endpoint]);
                if !self.services[svc].slow.is_empty() {
                    let factor: f64 = self.services[svc].slow.iter().product();
                    d = crate::engine::time::from_nanos_f64(d as f64 * factor);
                }
                self.q.schedule_in(d, Event::WorkDone { job: id });
            }
            Step::Calls(specs) => {
                let total: u32 = specs.iter().map(|c| c.fanout).sum();
                let (has_worker, measured) = (job.has_worker, job.measured);
                let from_dc = self.replicas[r as usize].dc;
                self.job_mut(id).pending = total;
                for spec in specs {
                    let policy = s.call_sites[spec.site].load_balancer;
                    for _ in 0..spec.fanout {
                        self.send(
                            Caller::Job(id),
                            from_dc,
                            spec.target as u32,
                            spec.site as u32,
                            policy,
                            spec.timeout,
                            measured,
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
        self.run_job(id);
    }

    /// A job has run its last step (or a call failed): record, answer, free its worker.
    fn finish(&mut self, id: Id, ok: bool) {
        let job = self.jobs.remove(id).expect("live job");
        let now = self.now();
        if job.measured {
            let st = &mut self.m.endpoints[job.endpoint as usize];
            if ok {
                st.ok += 1;
                st.latency.record(now - job.arrived);
            } else {
                st.failed += 1;
            }
        }
        self.answer(job.call, if ok { Outcome::Ok } else { Outcome::Failed });
        self.replicas[job.replica as usize].outstanding -= 1;
        if job.has_worker {
            self.release_worker(job.replica);
        }
        self.retire_if_drained(job.replica);
    }

    /// Sends an answer back from the call's replica to the caller's data center.
    /// Answers to jobs are always events; an answer to a client that takes no
    /// time is recorded at once. A lost answer leaves the caller to its timeout.
    pub fn answer(&mut self, id: Id, outcome: Outcome) {
        let Some(call) = self.calls.get(id) else {
            return;
        };
        let from = match call.replica {
            NO_REPLICA => call.from_dc,
            r => self.replicas[r as usize].dc,
        };
        let to_client = matches!(call.caller, Caller::Client { .. });
        match self.net.answer_hop(from, call.from_dc) {
            Some(0) if to_client => self.on_answer(id, outcome),
            Some(d) => self.q.schedule_in(d, Event::Answer { call: id, outcome }),
            None => self.lose(id),
        }
    }

    /// No answer will come for this call: an abandoned one is freed now, any
    /// other waits for its timeout (or stays in flight if it has none).
    pub fn lose(&mut self, id: Id) {
        let Some(call) = self.calls.get_mut(id) else {
            return;
        };
        if call.abandoned {
            self.calls.remove(id);
        } else {
            call.lost = true;
        }
    }

    fn on_answer(&mut self, id: Id, outcome: Outcome) {
        let Some(call) = self.calls.remove(id) else {
            return;
        };
        if !call.abandoned {
            self.complete(&call, outcome);
        }
    }

    /// Registers `call`'s deadline `timeout` from now in the lane of that timeout.
    fn arm_timeout(&mut self, timeout: Time, call: Id) {
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

    /// Times out every call of the lane whose deadline has come, then re-arms
    /// the lane at its first deadline that still has a live call.
    fn on_lane_due(&mut self, lane: u32) {
        let now = self.now();
        let lane = lane as usize;
        self.lanes[lane].armed = false;
        while let Some(&(deadline, call)) = self.lanes[lane].deadlines.front() {
            if deadline <= now {
                self.lanes[lane].deadlines.pop_front();
                self.on_timeout(call);
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

    fn on_timeout(&mut self, id: Id) {
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
        }
        self.complete(&snapshot, Outcome::TimedOut);
    }

    /// The caller learns how its call ended.
    fn complete(&mut self, call: &Call, outcome: Outcome) {
        let latency = self.now() - call.sent;
        if call.site != NO_SITE && call.measured {
            let st = &mut self.m.calls[call.site as usize];
            match outcome {
                Outcome::Ok => {
                    st.ok += 1;
                    st.latency.record(latency);
                }
                Outcome::Failed => st.failed += 1,
                Outcome::Rejected => st.rejected += 1,
                Outcome::TimedOut => st.timeouts += 1,
            }
        }
        match call.caller {
            Caller::Client { workload } => {
                if call.measured {
                    let st = &mut self.m.workloads[workload as usize];
                    match outcome {
                        Outcome::Ok => {
                            st.ok += 1;
                            st.latency.record(latency);
                        }
                        Outcome::Failed => st.failed += 1,
                        Outcome::Rejected => st.rejected += 1,
                        Outcome::TimedOut => st.timed_out += 1,
                    }
                }
            }
            Caller::Job(job) => {
                // The calling job is gone if its replica crashed meanwhile.
                let Some(j) = self.jobs.get_mut(job) else {
                    return;
                };
                j.pending -= 1;
                j.failed |= outcome != Outcome::Ok;
                if j.pending == 0 {
                    if j.failed {
                        self.finish(job, false);
                    } else {
                        j.step += 1;
                        self.run_job(job);
                    }
                }
            }
        }
    }

    fn take_worker(&mut self, r: u32) {
        let svc = self.replicas[r as usize].service as usize;
        self.integrate(svc);
        self.replicas[r as usize].busy += 1;
        self.services[svc].busy += 1;
    }

    /// Frees a worker; the first waiting job, if any, takes it over.
    fn release_worker(&mut self, r: u32) {
        if let Some(next) = self.replicas[r as usize].queue.pop_front() {
            self.job_mut(next).has_worker = true;
            self.run_job(next);
            return;
        }
        let svc = self.replicas[r as usize].service as usize;
        self.integrate(svc);
        self.replicas[r as usize].busy -= 1;
        self.services[svc].busy -= 1;
    }

    /// Accumulates busy and available worker time, and time with a serving
    /// replica, up to now: over the measured window for the metrics, over the
    /// whole run for the autoscaler. Called before any of the counts changes.
    pub fn integrate(&mut self, svc: usize) {
        let now = self.now();
        let st = &mut self.services[svc];
        if st.hpa.is_some() {
            let dt = u128::from(now - st.since);
            st.busy_total += u128::from(st.busy) * dt;
            st.available_total += u128::from(st.available) * dt;
        }
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
            if job.measured {
                self.m.endpoints[job.endpoint as usize].failed += 1;
            }
            if notify {
                self.answer(job.call, Outcome::Failed);
            } else {
                self.lose(job.call);
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
        for call in self.calls.iter() {
            if let (Caller::Client { workload }, true, false) =
                (call.caller, call.measured, call.abandoned)
            {
                self.m.workloads[workload as usize].in_flight += 1;
            }
        }
        self.m.events_processed = self.q.events_processed();
        self.m.end = self.end;
        RunOutput { collector: self.m }
    }
}

/// One lane per distinct timeout value of the scenario, sorted by value.
fn timeout_lanes(s: &Scenario) -> Vec<TimeoutLane> {
    let from_steps = s
        .endpoints
        .iter()
        .flat_map(|e| &e.steps)
        .flat_map(|step| match step {
            Step::Calls(specs) => specs.iter().filter_map(|c| c.timeout).collect(),
            Step::Work(_) => Vec::new(),
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
            deadlines: VecDeque::new(),
            armed: false,
        })
        .collect()
}
