//! The world's state and its event handlers.
//!
//! A request to an endpoint is a *call* (who asked, which endpoint) and, once a
//! replica admits it, a *job* (which step it is at, how many answers it awaits).
//! Both live in arenas and events carry their ids. Two rules keep the handlers
//! simple: a request may be delivered within the handler that sends it (when the
//! hop takes no time), but an answer to a job is always a separate event, so no
//! handler is ever re-entered for a job it is in the middle of changing.

use std::collections::VecDeque;

use crate::engine::{Arena, EventQueue, Id, Stream, Time, stream};
use crate::metrics::{CallStats, Collector, EndpointStats, ServiceStats, WorkloadStats};
use crate::scenario::spec::{LoadBalancer, Scenario, Step, Threading};

use super::arrivals::Arrivals;
use super::balancer;

/// The closed set of things that happen.
#[derive(Clone, Copy, Debug)]
enum Event {
    /// The next request of a workload is sent.
    Arrival { workload: u32 },
    /// A job's `work` step ends.
    WorkDone { job: Id },
    /// A request reaches the callee after a network hop.
    Deliver { call: Id },
    /// An answer reaches the caller.
    Answer { call: Id, outcome: Outcome },
    /// The earliest deadline of a timeout lane is due.
    LaneDue { lane: u32 },
}

/// How a call ended, as the caller sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// The callee failed (a 5xx).
    Failed,
    /// The callee's queue was full.
    Rejected,
    TimedOut,
}

#[derive(Clone, Copy, Debug)]
enum Caller {
    Client { workload: u32 },
    Job(Id),
}

const NO_SITE: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Call {
    caller: Caller,
    target: u32,
    /// Call-site index for metrics, or NO_SITE for a client request.
    site: u32,
    sent: Time,
    measured: bool,
    /// The caller stopped waiting (timeout); the answer, when it comes, is dropped.
    abandoned: bool,
}

struct Job {
    endpoint: u32,
    replica: u32,
    step: u32,
    pending: u32,
    failed: bool,
    has_worker: bool,
    arrived: Time,
    call: Id,
    /// Part of a request sent by a client after warmup (carried down the call tree).
    measured: bool,
}

struct Replica {
    service: u32,
    busy: u32,
    /// Admitted jobs not finished (for least_request).
    outstanding: u32,
    queue: VecDeque<Id>,
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

struct ServiceState {
    first_replica: u32,
    replicas: u32,
    concurrency: u32,
    queue_cap: u32,
    is_async: bool,
    cursor: u32,
    balancer_rng: Stream,
    busy: u64,
    busy_since: Time,
}

/// What a run produces: the collected metrics.
pub struct RunOutput {
    pub collector: Collector,
}

struct World<'s> {
    s: &'s Scenario,
    q: EventQueue<Event>,
    calls: Arena<Call>,
    jobs: Arena<Job>,
    replicas: Vec<Replica>,
    services: Vec<ServiceState>,
    arrivals: Vec<Arrivals>,
    work_rng: Vec<Stream>,
    network_rng: Stream,
    lanes: Vec<TimeoutLane>,
    m: Collector,
    warmup: Time,
    end: Time,
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
            let n = svc.replicas();
            services.push(ServiceState {
                first_replica: replicas.len() as u32,
                replicas: n,
                concurrency: svc.concurrency,
                queue_cap: svc.queue,
                is_async: svc.threading == Threading::Async,
                cursor: 0,
                balancer_rng: stream(seed, &format!("service/{}/balancer", svc.name)),
                busy: 0,
                busy_since: 0,
            });
            replicas.extend((0..n).map(|_| Replica {
                service: i as u32,
                busy: 0,
                outstanding: 0,
                queue: VecDeque::new(),
            }));
        }
        let work_rng = s
            .endpoints
            .iter()
            .map(|e| {
                stream(
                    seed,
                    &format!(
                        "service/{}/endpoint/{}/work",
                        s.services[e.service].name, e.name
                    ),
                )
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
                    workers: u64::from(svc.replicas()) * u64::from(svc.concurrency),
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
            arrivals,
            work_rng,
            network_rng: stream(seed, "network/within_dc"),
            lanes: timeout_lanes(s),
            m,
            warmup: s.warmup,
            end: s.end(),
        };
        for i in 0..s.workloads.len() {
            if let Some(t) = w.arrivals[i].next_after(0, w.end) {
                w.q.schedule_at(t, Event::Arrival { workload: i as u32 });
            }
        }
        w
    }

    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Arrival { workload } => self.on_arrival(workload),
            Event::WorkDone { job } => self.on_work_done(job),
            Event::Deliver { call } => self.deliver(call),
            Event::Answer { call, outcome } => self.on_answer(call, outcome),
            Event::LaneDue { lane } => self.on_lane_due(lane),
        }
    }

    fn now(&self) -> Time {
        self.q.now()
    }

    /// One network hop's delay.
    fn hop(&mut self) -> Time {
        match &self.s.within_dc {
            Some(d) => d.sample(&mut self.network_rng),
            None => 0,
        }
    }

    fn on_arrival(&mut self, workload: u32) {
        let now = self.now();
        let wl = &self.s.workloads[workload as usize];
        let measured = now >= self.warmup;
        if measured {
            self.m.workloads[workload as usize].sent += 1;
        }
        let (entry, timeout) = (wl.entry as u32, wl.timeout);
        self.send(
            Caller::Client { workload },
            entry,
            NO_SITE,
            timeout,
            measured,
        );
        if let Some(t) = self.arrivals[workload as usize].next_after(now, self.end) {
            self.q.schedule_at(t, Event::Arrival { workload });
        }
    }

    /// Sends a request to `target`: records it, arms its timeout, starts the hop.
    fn send(
        &mut self,
        caller: Caller,
        target: u32,
        site: u32,
        timeout: Option<Time>,
        measured: bool,
    ) {
        let now = self.now();
        let call = self.calls.insert(Call {
            caller,
            target,
            site,
            sent: now,
            measured,
            abandoned: false,
        });
        if site != NO_SITE && measured {
            self.m.calls[site as usize].attempts += 1;
        }
        if let Some(t) = timeout {
            self.arm_timeout(t, call);
        }
        match self.hop() {
            0 => self.deliver(call),
            d => self.q.schedule_in(d, Event::Deliver { call }),
        }
    }

    /// A request arrives at the callee: pick a replica, then start, queue or reject it.
    fn deliver(&mut self, call: Id) {
        let Some(c) = self.calls.get(call) else {
            return;
        };
        let endpoint = c.target as usize;
        let svc = self.s.endpoints[endpoint].service;
        let policy = self.balancer_for(c);
        let measured = c.measured;
        let now = self.now();
        let st = &mut self.services[svc];
        let first = st.first_replica as usize;
        let replicas = &self.replicas;
        let i = balancer::pick(
            policy,
            st.replicas,
            &mut st.cursor,
            &mut st.balancer_rng,
            |i| replicas[first + i as usize].outstanding,
        );
        let r = st.first_replica + i;
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
            arrived: now,
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

    fn balancer_for(&self, c: &Call) -> LoadBalancer {
        if c.site == NO_SITE {
            self.s.services[self.s.endpoints[c.target as usize].service].load_balancer
        } else {
            self.s.call_sites[c.site as usize].load_balancer
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
        match step {
            Step::Work(dist) => {
                if !job.has_worker {
                    let r = job.replica;
                    let svc = self.replicas[r as usize].service as usize;
                    if self.replicas[r as usize].busy < self.services[svc].concurrency {
                        self.take_worker(r);
                        self.job_mut(id).has_worker = true;
                    } else {
                        // A continuation of an admitted request: it waits, past the queue bound.
                        self.replicas[r as usize].queue.push_back(id);
                        return;
                    }
                }
                let d = dist.sample(&mut self.work_rng[endpoint]);
                self.q.schedule_in(d, Event::WorkDone { job: id });
            }
            Step::Calls(specs) => {
                let total: u32 = specs.iter().map(|c| c.fanout).sum();
                let (r, has_worker) = (job.replica, job.has_worker);
                let measured = job.measured;
                self.job_mut(id).pending = total;
                for spec in specs {
                    for _ in 0..spec.fanout {
                        self.send(
                            Caller::Job(id),
                            spec.target as u32,
                            spec.site as u32,
                            spec.timeout,
                            measured,
                        );
                    }
                }
                let svc = self.replicas[r as usize].service as usize;
                if has_worker && self.services[svc].is_async {
                    self.job_mut(id).has_worker = false;
                    self.release_worker(r);
                }
            }
        }
    }

    fn on_work_done(&mut self, id: Id) {
        let job = self.job_mut(id);
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
    }

    /// Sends an answer back over one hop. Answers to jobs are always events;
    /// an answer to a client that takes no time is recorded at once.
    fn answer(&mut self, call: Id, outcome: Outcome) {
        let to_client = matches!(
            self.calls.get(call).map(|c| c.caller),
            Some(Caller::Client { .. })
        );
        match self.hop() {
            0 if to_client => self.on_answer(call, outcome),
            d => self.q.schedule_in(d, Event::Answer { call, outcome }),
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
                let j = self.job_mut(job);
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
        self.replicas[r as usize].busy += 1;
        self.account_busy(svc, 1);
    }

    /// Frees a worker; the first waiting job, if any, takes it over.
    fn release_worker(&mut self, r: u32) {
        if let Some(next) = self.replicas[r as usize].queue.pop_front() {
            self.job_mut(next).has_worker = true;
            self.run_job(next);
            return;
        }
        let svc = self.replicas[r as usize].service as usize;
        self.replicas[r as usize].busy -= 1;
        self.account_busy(svc, -1);
    }

    /// Integrates busy workers over the measured window (for utilisation).
    fn account_busy(&mut self, svc: usize, delta: i64) {
        let now = self.now();
        let st = &mut self.services[svc];
        let from = st.busy_since.max(self.warmup);
        if now > from {
            self.m.services[svc].busy_worker_ns += u128::from(st.busy) * u128::from(now - from);
        }
        st.busy_since = now;
        st.busy = st
            .busy
            .checked_add_signed(delta)
            .expect("busy workers never negative");
    }

    /// Closes the books: utilisation up to the end, requests still in flight.
    fn into_output(mut self) -> RunOutput {
        for svc in 0..self.services.len() {
            self.account_busy(svc, 0);
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
