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
//!
//! Here: the [`World`] and its run loop; the callee side is in [`super::jobs`],
//! the caller side in [`super::calls`], replica slots and workers in
//! [`super::replica`], the events in [`super::event`].

use super::budget::CHECK_EVERY;
use crate::engine::{Arena, EventQueue, Stream, Time, stream};
use crate::metrics::{CallStats, Collector, EndpointStats, ServiceStats, WorkloadStats};
use crate::scenario::spec::{Load, Scenario, Step};

use super::arrivals::Arrivals;
use super::calls::{
    ArenaSlots, Call, Caller, HeldAnswers, Logical, NEVER, NO_POLICY, NO_SITE, NewCall,
    PolicyState, TimeoutLane, policy_states, timeout_lanes,
};
use super::closed::{Source, Users};
use super::event::Event;
use super::jobs::Job;
use super::messaging::{MessagingState, NO_KEY, draw_key};
use super::network::Network;
use super::replica::{Replica, ServiceState, slots};
use super::trace::{Tracer, Traces};

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
    /// The most traces kept (`trace::MAX_TRACES` if None).
    pub max_traces: Option<u32>,
    /// Record no latencies per step (the series' buckets and p50/p99 over
    /// time, the groups' event latency over time): for a run whose series
    /// nobody reads (`run --json`). Counts, utilisation and lag over time are
    /// sampled all the same, so summary.json is the same either way.
    pub skip_latency_series: bool,
    /// Give every attempt its record, held calls too (see `calls/held.rs`):
    /// the same results, a little slower; for tests and comparisons.
    pub keep_attempt_records: bool,
}

pub(super) struct World<'s> {
    pub s: &'s Scenario,
    pub q: EventQueue<Event>,
    pub calls: Arena<Call>,
    pub logicals: Arena<Logical>,
    /// The logical calls' arena as it would be with a record for each direct
    /// call too: what the memory budget counts.
    pub logical_slots: ArenaSlots,
    /// The attempts' arena as it would be with a record for each held call
    /// too (see [`super::calls`]): what the memory budget counts.
    pub call_slots: ArenaSlots,
    /// Held calls' answers to jobs, in the order of their `HeldAnswer` events.
    pub held_answers: HeldAnswers,
    pub policies: Vec<PolicyState>,
    pub jobs: Arena<Job>,
    pub replicas: Vec<Replica>,
    pub services: Vec<ServiceState>,
    /// Each replica slot's shared cores (None: a core per worker).
    pub cores: Vec<Option<super::cpu::Cores>>,
    pub net: Network,
    pub messaging: MessagingState,
    pub(super) sources: Vec<Source>,
    key_rng: Vec<Stream>,
    pub(super) work_rng: Vec<Stream>,
    /// Message sizes: their streams, each call step's, each message's.
    pub(super) sizes: super::bandwidth::SizeState,
    /// One stream per branch step (`Branch::id`).
    pub(super) branch_rng: Vec<Stream>,
    /// `max_call_depth`: a job this deep makes no call.
    pub(super) max_depth: u16,
    pub lanes: Vec<TimeoutLane>,
    pub failure_rng: Vec<Stream>,
    pub m: Collector,
    pub warmup: Time,
    pub end: Time,
    pub tracer: Tracer,
    /// Whether latencies are recorded per step ([`RunOptions::skip_latency_series`]).
    pub latency_series: bool,
    /// Whether a direct call with no timeout may be held in its job
    /// (not [`RunOptions::keep_attempt_records`]) when sizes are absent.
    pub hold_calls: bool,
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
        let (replicas, services) = slots(s, seed);
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
        let sources = s
            .workloads
            .iter()
            .map(|w| match &w.load {
                Load::Open(arrival) => Source::Open(Arrivals::new(
                    arrival.clone(),
                    stream(seed, &format!("workload/{}/arrivals", w.name)),
                )),
                Load::Closed(closed) => Source::Closed(Users::new(
                    closed,
                    stream(seed, &format!("workload/{}/think", w.name)),
                )),
            })
            .collect();
        let m = collector(s);
        let mut w = World {
            s,
            q: EventQueue::new(),
            calls: Arena::new(),
            logicals: Arena::new(),
            logical_slots: ArenaSlots::default(),
            call_slots: ArenaSlots::default(),
            held_answers: HeldAnswers::default(),
            policies: policy_states(s, seed),
            jobs: Arena::new(),
            replicas,
            services,
            cores: super::cpu::cores(s),
            net: Network::new(s, seed),
            messaging: MessagingState::new(s, seed),
            sources,
            key_rng: s
                .workloads
                .iter()
                .map(|w| stream(seed, &format!("workload/{}/keys", w.name)))
                .collect(),
            work_rng,
            sizes: super::bandwidth::SizeState::new(s, seed),
            branch_rng: branch_streams(s, seed),
            max_depth: u16::try_from(s.max_call_depth).unwrap_or(u16::MAX),
            budget: Default::default(),
            lanes: timeout_lanes(s),
            failure_rng: (0..s.failures.len())
                .map(|i| stream(seed, &format!("failure/{i}")))
                .collect(),
            warmup: s.warmup,
            end: s.end(),
            tracer: Tracer::with_cap(
                options.trace_sample,
                seed,
                options.max_traces.unwrap_or(super::trace::MAX_TRACES),
            ),
            latency_series: !options.skip_latency_series,
            hold_calls: !options.keep_attempt_records && s.sizes.is_empty(),
            site_policy: Vec::new(),
            call_marks: vec![[0; 4]; m.calls.len()],
            topic_marks: vec![0; m.topics.len()],
            m,
        };
        w.start(options);
        w
    }

    /// Views, partitions, and the first event of every recurring process.
    fn start(&mut self, options: &RunOptions) {
        let s = self.s;
        for svc in 0..self.services.len() {
            self.rebuild_view(svc);
        }
        self.assign_partitions();
        for i in 0..s.workloads.len() {
            match &mut self.sources[i] {
                Source::Open(arrivals) => {
                    if let Some(t) = arrivals.next_after(0, self.end) {
                        self.q.schedule_at(t, Event::Arrival { workload: i as u32 });
                    }
                }
                Source::Closed(_) => self.start_users(i),
            }
        }
        self.schedule_failures();
        self.schedule_discovery();
        self.schedule_autoscalers();
        let step = crate::metrics::series::effective_step(self.end, options.series_step);
        self.schedule_sampling(step);
    }

    /// Inlined into the event loop (its one caller): out of line it cost the
    /// event-driven reference path about 6% (whole-process), with as many instructions.
    #[inline(always)]
    fn handle(&mut self, ev: Event) {
        match ev {
            Event::Arrival { workload } => self.on_arrival(workload),
            Event::Users { workload } => self.on_users(workload),
            Event::WorkDone { job } => self.on_work_done(job),
            Event::Handoff {
                replica,
                incarnation,
            } => self.on_handoff(replica, incarnation),
            Event::CoresDone { replica, epoch } => self.on_cores_done(replica, epoch),
            Event::Deliver { call } => self.deliver(call),
            Event::Answer { call, outcome } => self.on_answer(call, outcome),
            Event::HeldAnswer => self.on_held_answer(),
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
            Event::RoomBack { group, replica } => self.on_room_back(group, replica),
            Event::AckResend { group, replica } => self.on_ack_resend(group, replica),
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
        if !self.user_stays(workload as usize) {
            return;
        }
        let now = self.now();
        let wl = &self.s.workloads[workload as usize];
        let measured = now >= self.warmup;
        if measured {
            self.m.workloads[workload as usize].sent += 1;
        }
        let entry = wl.entry as u32;
        let balancer = self.s.services[self.s.endpoints[wl.entry].service].load_balancer;
        let (from, timeout) = (wl.from as u16, wl.timeout);
        let key = match &wl.keys {
            Some(k) => draw_key(k, &mut self.key_rng[workload as usize]),
            None => NO_KEY,
        };
        let trace = self.tracer.sample(measured, now);
        self.start_call(NewCall {
            caller: Caller::Client { workload },
            from_dc: from,
            target: entry,
            site: NO_SITE,
            policy: NO_POLICY,
            balancer,
            measured,
            inherited: NEVER,
            client_timeout: timeout,
            key,
            trace,
            depth: 1,
        });
        if let Source::Open(arrivals) = &mut self.sources[workload as usize]
            && let Some(t) = arrivals.next_after(now, self.end)
        {
            self.q.schedule_at(t, Event::Arrival { workload });
        }
    }

    fn into_output(mut self) -> RunOutput {
        for svc in 0..self.services.len() {
            self.integrate(svc);
        }
        for w in 0..self.sources.len() {
            self.integrate_users(w, self.end);
        }
        for l in self.logicals.iter() {
            if let (Caller::Client { workload }, true) = (l.caller(), l.measured()) {
                let w = workload as usize;
                let patience = self.s.patience(w);
                self.m.workloads[w].unanswered(self.end - l.first_sent(), patience);
            }
        }
        self.count_direct_in_flight();
        self.count_held_in_flight();
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
        self.m.links = self.net.link_stats(self.end);
        self.m.settle();
        RunOutput {
            collector: self.m,
            traces: self.tracer.finish(),
        }
    }
}

/// The stream of every branch step, by id: `service/<svc>/endpoint/<ep>/branch/<at>`.
fn branch_streams(s: &Scenario, seed: u64) -> Vec<Stream> {
    let mut v: Vec<Option<Stream>> = (0..s.branches).map(|_| None).collect();
    for e in &s.endpoints {
        for step in &e.steps {
            if let Step::Branch(b) = step {
                let svc = &s.services[e.service].name;
                let name = format!("service/{svc}/endpoint/{}/branch/{}", e.name, b.at);
                v[b.id] = Some(stream(seed, &name));
            }
        }
    }
    v.into_iter()
        .map(|x| x.expect("every branch id is a step"))
        .collect()
}

/// The metrics, one entry per workload, endpoint, service, call site and topic group.
fn collector(s: &Scenario) -> Collector {
    let mut m = Collector {
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
    m.buffer_if_many();
    m
}
