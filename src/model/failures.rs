//! Injected failures: windows (`at`, `for`) and random ones (up for a draw of
//! `mtbf`, down for a draw of `mttr`, again and again; a crash on each replica
//! independently, any other kind as one process for its whole target).
//!
//! A crash kills the replica's jobs: their callers get a connection failure at
//! once. A data center that goes down takes its replicas with it, but nobody is
//! told: requests and answers into it vanish and callers time out. A restarted
//! replica comes back with empty queues. Every window is recorded for reports.

use super::event::Event;
use super::world::World;
use crate::metrics::FailureWindow;
use crate::scenario::spec::{FailureKind, When};

/// Windows kept for reports; beyond this they are counted, not listed.
const MAX_WINDOWS: usize = 10_000;

impl World<'_> {
    pub(super) fn schedule_failures(&mut self) {
        for (i, f) in self.s.failures.iter().enumerate() {
            let i = i as u32;
            match f.when {
                When::Window { at, duration } => {
                    if at < self.end {
                        self.q.schedule_at(
                            at,
                            Event::FailureStart {
                                failure: i,
                                target: 0,
                            },
                        );
                        self.q.schedule_at(
                            at.saturating_add(duration).min(self.end),
                            Event::FailureEnd {
                                failure: i,
                                target: 0,
                            },
                        );
                    }
                }
                When::Random { ref mtbf, .. } => {
                    for target in self.random_targets(&f.kind) {
                        let t = mtbf.sample(&mut self.failure_rng[i as usize]);
                        if t < self.end {
                            self.q
                                .schedule_at(t, Event::FailureStart { failure: i, target });
                        }
                    }
                }
            }
        }
    }

    /// What a random failure hits, each independently: the replica slots of a
    /// crash (the first `replicas`, default all); for any other kind, its one
    /// target (0).
    fn random_targets(&self, kind: &FailureKind) -> Vec<u32> {
        match *kind {
            FailureKind::Crash { service, replicas } => {
                let all = self.services[service].replicas();
                let n = replicas.unwrap_or(all.len() as u32);
                all.take(n as usize).collect()
            }
            _ => vec![0],
        }
    }

    pub(super) fn on_failure(&mut self, failure: u32, target: u32, start: bool) {
        let f = &self.s.failures[failure as usize];
        let now = self.now();
        if let When::Random { mtbf, mttr } = &f.when {
            let next_draw = if start { mttr } else { mtbf };
            let next =
                now.saturating_add(next_draw.sample(&mut self.failure_rng[failure as usize]));
            if start {
                // The repair is always scheduled, so a replica never stays down past the end.
                self.q
                    .schedule_at(next.min(self.end), Event::FailureEnd { failure, target });
            } else if next < self.end {
                self.q
                    .schedule_at(next, Event::FailureStart { failure, target });
            }
        }
        self.record_window(failure, target, start);
        match f.kind {
            FailureKind::Crash { service, replicas } => {
                let targets: Vec<u32> = match f.when {
                    When::Random { .. } => vec![target],
                    When::Window { .. } => {
                        let all = self.services[service].replicas();
                        let n = replicas.unwrap_or(all.len() as u32);
                        all.take(n as usize).collect()
                    }
                };
                for r in targets {
                    self.set_down(r, start, true);
                }
            }
            FailureKind::Slow { service, factor } => {
                toggle(&mut self.services[service].slow, factor, start)
            }
            FailureKind::Errors { service, rate } => {
                toggle(&mut self.services[service].errors, rate, start)
            }
            FailureKind::Latency { a, b, extra } => self.net.set_extra(a, b, extra, start),
            FailureKind::Partition { a, b } => self.net.set_partition(a, b, start),
            FailureKind::BrokerNode { node } => self.set_broker_node(node, start),
            FailureKind::DatacenterDown { dc } => {
                self.net.set_down(dc, start);
                for node in self.messaging.nodes_in(dc as u16) {
                    self.set_broker_node(node, start);
                }
                let in_dc: Vec<u32> = (0..self.replicas.len() as u32)
                    .filter(|&r| self.replicas[r as usize].dc as usize == dc)
                    .collect();
                for r in in_dc {
                    self.set_down(r, start, false);
                }
            }
        }
    }

    /// One more (or one fewer) failure holding replica `r` down. The replica's
    /// jobs die when it goes down; `notify` says whether callers are told.
    fn set_down(&mut self, r: u32, down: bool, notify: bool) {
        let svc = self.replicas[r as usize].service as usize;
        let was_serving = self.replicas[r as usize].serving();
        if down {
            self.replicas[r as usize].down += 1;
        } else {
            self.replicas[r as usize].down -= 1;
        }
        let serving = self.replicas[r as usize].serving();
        if was_serving == serving {
            return;
        }
        if !serving {
            self.kill_jobs(r, notify);
            self.consumer_down(r, false);
        }
        self.set_serving(r, serving);
        self.retire_if_drained(r);
        self.replica_changed(svc);
        if serving {
            self.consumer_up(r);
        }
    }

    /// Adds or removes a replica's workers (or shared cores) from the service's capacity.
    pub(super) fn set_serving(&mut self, r: u32, serving: bool) {
        let svc = self.replicas[r as usize].service as usize;
        self.integrate(svc);
        let st = &mut self.services[svc];
        if serving {
            st.available += st.capacity;
            st.up += 1;
        } else {
            st.available -= st.capacity;
            st.up -= 1;
        }
    }

    /// Fails the request at once with the service's injected error share.
    pub(super) fn inject_error(&mut self, svc: usize) -> bool {
        use rand::RngExt;
        let st = &mut self.services[svc];
        if st.errors.is_empty() {
            return false;
        }
        let pass: f64 = st.errors.iter().map(|e| 1.0 - e).product();
        st.error_rng.random::<f64>() >= pass
    }

    fn record_window(&mut self, failure: u32, target: u32, start: bool) {
        let now = self.now();
        let windows = &mut self.m.failure_windows;
        if start {
            if windows.len() < MAX_WINDOWS {
                windows.push(FailureWindow {
                    failure,
                    target,
                    start: now,
                    end: None,
                });
            } else {
                self.m.failure_windows_dropped += 1;
            }
        } else if let Some(w) = windows
            .iter_mut()
            .rev()
            .find(|w| w.failure == failure && w.target == target && w.end.is_none())
        {
            w.end = Some(now);
        }
    }
}

fn toggle(active: &mut Vec<f64>, value: f64, on: bool) {
    if on {
        active.push(value);
    } else if let Some(i) = active.iter().position(|v| *v == value) {
        active.swap_remove(i);
    }
}
