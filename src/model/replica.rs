//! Replica slots and services: their state, their workers and the queue
//! that waits for a worker, and the integrals of busy and available workers.

use super::autoscale::Hpa;
use super::routing::View;
use super::trace::{NO_TRACE, SpanKind, SpanRef};
use super::world::World;
use crate::engine::{Id, Ring, Stream, Time, stream};
use crate::scenario::spec::{Scenario, Threading};

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
    pub queue: Ring<Id>,
    pub state: SlotState,
    /// Active crash-like failures on this replica (crash, random, data center down).
    pub down: u16,
    /// Bumped at every start, so a stale ReplicaReady is ignored.
    pub epoch: u32,
    /// Bumped when its jobs are killed, so a worker's handoff from before is ignored.
    pub incarnation: u32,
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
    /// Busy workers, workers of serving replicas, serving replicas.
    /// With shared cores, busy and available count thousandths of a core instead.
    /// `available` and `up` are integrated since `since` (they change rarely);
    /// `busy` changes with every job, so it keeps its integral's closed form
    /// instead (see [`BusyMarks`]).
    busy: u64,
    pub available: u64,
    pub up: u32,
    pub since: Time,
    busy_marks: BusyMarks,
    /// Integrals over the whole run (for the autoscaler and the series), up to
    /// the last `integrate`, and their values at the last sample.
    pub busy_total: u128,
    pub available_total: u128,
    pub sampled: (u128, u128),
    /// Work-time multiplier and error share from active failures.
    pub slow: Vec<f64>,
    pub errors: Vec<f64>,
    pub error_rng: Stream,
    /// Draws of the service's `handoff` (unused without one).
    pub handoff_rng: Stream,
    pub hpa: Option<Hpa>,
    /// What one serving replica adds to `available`: its workers, or its
    /// thousandths of a core when they are shared ([`super::cpu`]).
    pub capacity: u64,
    pub shared_cores: bool,
}

impl ServiceState {
    pub fn replicas(&self) -> std::ops::Range<u32> {
        self.first_replica..self.first_replica + self.slots
    }
}

/// The replica slots of every service (those past the starting count are
/// absent, for the autoscaler) and the services' state.
pub(super) fn slots(s: &Scenario, seed: u64) -> (Vec<Replica>, Vec<ServiceState>) {
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
                queue: Ring::new(),
                state,
                down: 0,
                epoch: 0,
                incarnation: 0,
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
        let shared = svc.shared_cores();
        let capacity = shared.map_or(u64::from(svc.concurrency), u64::from);
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
            available: u64::from(up) * capacity,
            up,
            since: 0,
            busy_marks: BusyMarks::default(),
            busy_total: 0,
            available_total: 0,
            sampled: (0, 0),
            slow: Vec::new(),
            errors: Vec::new(),
            error_rng: stream(seed, &format!("service/{}/errors", svc.name)),
            handoff_rng: stream(seed, &format!("service/{}/handoff", svc.name)),
            hpa: svc.autoscale.as_ref().map(|_| Hpa::default()),
            capacity,
            shared_cores: shared.is_some(),
        });
    }
    (replicas, services)
}

impl World<'_> {
    #[inline(always)]
    pub(super) fn take_worker(&mut self, r: u32) {
        let svc = self.replicas[r as usize].service as usize;
        self.replicas[r as usize].busy += 1;
        if !self.services[svc].shared_cores {
            self.busy_up(svc, 1);
        }
    }

    /// `n` more of service `svc`'s workers (or thousandths of a core) are busy from now.
    #[inline(always)]
    pub(super) fn busy_up(&mut self, svc: usize, n: u64) {
        self.busy_step(svc, i128::from(n));
    }

    /// `n` fewer are busy from now (`busy_up` undone).
    #[inline(always)]
    pub(super) fn busy_down(&mut self, svc: usize, n: u64) {
        self.busy_step(svc, -i128::from(n));
    }

    /// Service `svc`'s busy count changes by `d` now, and its integrals' marks with it.
    #[inline(always)]
    fn busy_step(&mut self, svc: usize, d: i128) {
        let (now, warmup) = (self.now(), self.warmup);
        let st = &mut self.services[svc];
        st.busy_marks.step(d, now, warmup);
        let busy = i128::from(st.busy) + d;
        debug_assert!(busy >= 0, "busy count {busy}");
        st.busy = busy as u64;
    }

    /// A worker of replica `r` has nothing to do: counted idle (`take_worker` undone).
    #[inline]
    fn idle_worker(&mut self, r: u32) {
        let svc = self.replicas[r as usize].service as usize;
        self.replicas[r as usize].busy -= 1;
        if !self.services[svc].shared_cores {
            self.busy_down(svc, 1);
        }
    }

    /// Frees a worker; the first waiting job, if any, takes it over. A new
    /// request that waited longer than `max_queue_time` is shed instead.
    ///
    /// A job started here may end at once (its deadline passed) and free the
    /// worker again: such nested releases are counted and served by the outer
    /// loop, so the stack stays flat however long the queue.
    #[inline(always)]
    pub(super) fn release_worker(&mut self, r: u32) {
        let replica = &self.replicas[r as usize];
        if !replica.draining && replica.queue.is_empty() {
            // Nobody waits: what `hand_over` comes to, without its bookkeeping.
            self.idle_worker(r);
        } else {
            self.hand_over(r);
        }
    }

    /// `release_worker` when a job waits or a release is being served.
    #[inline(never)]
    fn hand_over(&mut self, r: u32) {
        let replica = &mut self.replicas[r as usize];
        replica.releases += 1;
        if replica.draining {
            return;
        }
        self.replicas[r as usize].draining = true;
        let svc = self.replicas[r as usize].service as usize;
        let max_queue_time = self.s.services[svc].max_queue_time;
        while self.replicas[r as usize].releases > 0 {
            self.replicas[r as usize].releases -= 1;
            let next = loop {
                match self.replicas[r as usize].queue.pop_front() {
                    Some(n) if max_queue_time.is_some_and(|t| self.shed_if_stale(n, t)) => {
                        continue;
                    }
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
                None => self.idle_worker(r),
            }
        }
        self.replicas[r as usize].draining = false;
    }

    /// Brings the integrals of busy and available worker time, and of time
    /// with a serving replica, up to now: over the measured window for the
    /// metrics, over the whole run for the autoscaler and the series. Called
    /// before `available` or `up` changes, and before any integral is read.
    pub fn integrate(&mut self, svc: usize) {
        let (now, warmup) = (self.now(), self.warmup);
        let st = &mut self.services[svc];
        let dt = u128::from(now - st.since);
        st.available_total += u128::from(st.available) * dt;
        st.busy_total = st.busy_marks.whole(st.busy, now);
        let m = &mut self.m.services[svc];
        m.busy_worker_ns = st.busy_marks.measured(st.busy, now, warmup);
        let from = st.since.max(warmup);
        if now > from {
            let dt = u128::from(now - from);
            m.available_worker_ns += u128::from(st.available) * dt;
            if st.up > 0 {
                m.up_ns += dt;
            }
        }
        st.since = now;
    }
}

/// The integral of a level that changes by steps, kept in closed form: with
/// the level `b(t)` changed by `d_i` at times `t_i`, its integral from 0 to
/// `t` is `b(t)·t − Σ d_i·t_i`, and from the warm-up `w` on (for `t ≥ w`),
/// `b(t)·t − Σ d_i·max(t_i, w)`. A step adds to two sums; no step multiplies
/// or reads the time of the last. Integers throughout, so the integrals are
/// the ones summed interval by interval, exactly.
#[derive(Clone, Copy, Default)]
struct BusyMarks {
    /// `Σ d_i·t_i` and `Σ d_i·max(t_i, w)`.
    whole: i128,
    measured: i128,
}

impl BusyMarks {
    /// The level changes by `d` at `now`.
    #[inline(always)]
    fn step(&mut self, d: i128, now: Time, warmup: Time) {
        self.whole += d * i128::from(now);
        self.measured += d * i128::from(now.max(warmup));
    }

    /// The integral from 0 to `now` of a level that is `level` now.
    fn whole(&self, level: u64, now: Time) -> u128 {
        let integral = i128::from(level) * i128::from(now) - self.whole;
        u128::try_from(integral).expect("an integral of a count is not negative")
    }

    /// The integral from the warm-up to `now` (0 before the warm-up's end).
    fn measured(&self, level: u64, now: Time, warmup: Time) -> u128 {
        if now <= warmup {
            return 0;
        }
        let integral = i128::from(level) * i128::from(now) - self.measured;
        u128::try_from(integral).expect("an integral of a count is not negative")
    }
}

#[cfg(test)]
mod tests {
    use super::BusyMarks;
    use crate::engine::Time;

    /// The closed form against the sum interval by interval, as `integrate`
    /// kept it before: random steps up and down (several at one instant,
    /// some before the warm-up's end), read at every step and past the last.
    #[test]
    fn busy_marks_are_the_integral_summed_by_intervals() {
        let warmup: Time = 5_000;
        let (mut marks, mut level, mut now) = (BusyMarks::default(), 0u64, 0 as Time);
        let (mut whole, mut measured, mut since) = (0u128, 0u128, 0 as Time);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            now += x % 3 * (x >> 8) % 1_000; // a third of the steps at the same instant
            whole += u128::from(level) * u128::from(now - since);
            let from = since.max(warmup);
            if now > from {
                measured += u128::from(level) * u128::from(now - from);
            }
            since = now;
            assert_eq!(marks.whole(level, now), whole);
            assert_eq!(marks.measured(level, now, warmup), measured);
            let n = (x >> 20) % 4;
            if x >> 40 & 1 == 0 || level < n {
                marks.step(i128::from(n), now, warmup);
                level += n;
            } else {
                marks.step(-i128::from(n), now, warmup);
                level -= n;
            }
        }
        let end = now + 12_345;
        whole += u128::from(level) * u128::from(end - since);
        measured += u128::from(level) * u128::from(end - since.max(warmup));
        assert_eq!(marks.whole(level, end), whole);
        assert_eq!(marks.measured(level, end, warmup), measured);
        assert!(measured > 0 && measured < whole, "{measured} {whole}");
    }
}
