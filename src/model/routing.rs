//! Which replica a request goes to: the callers' view of a service, and the
//! choice within it.
//!
//! Without `discovery`, the view is the truth: a replica leaves it the moment
//! it crashes and joins it the moment it is ready. With `discovery`, a registry
//! checks every replica each `health_check_interval`, marks it critical after
//! `failures_before_critical` failed checks in a row (healthy again after one
//! good check), and callers copy the registry every `refresh_interval`. Until
//! they do, they keep sending to dead replicas (connection failures, fast) and
//! to unreachable ones (timeouts, slow): the discovery gap.

use super::balancer;
use super::event::Event;
use super::replica::SlotState;
use super::world::World;
use crate::scenario::spec::{LoadBalancer, Locality};

/// The replicas callers may pick, in all and per data center.
pub(super) struct View {
    all: Vec<u32>,
    by_dc: Vec<Vec<u32>>,
}

impl View {
    pub fn new(datacenters: usize) -> View {
        View {
            all: Vec::new(),
            by_dc: vec![Vec::new(); datacenters],
        }
    }
}

impl World<'_> {
    /// Picks a replica of `svc` for a caller in `from_dc`, or None if the view is empty.
    pub fn route(&mut self, svc: usize, from_dc: u16, policy: LoadBalancer) -> Option<u32> {
        let local_first = self.s.services[svc].locality == Locality::PreferLocal;
        let st = &mut self.services[svc];
        let local = &st.view.by_dc[from_dc as usize];
        let list = if local_first && !local.is_empty() {
            local
        } else {
            &st.view.all
        };
        if list.is_empty() {
            return None;
        }
        let replicas = &self.replicas;
        let i = balancer::pick(
            policy,
            list.len() as u32,
            &mut st.cursor,
            &mut st.balancer_rng,
            |i| replicas[list[i as usize] as usize].outstanding,
        );
        Some(list[i as usize])
    }

    /// Recomputes a service's view: the registry's if there is discovery, else the truth.
    pub fn rebuild_view(&mut self, svc: usize) {
        let discovery = self.s.discovery.is_some();
        let st = &mut self.services[svc];
        st.view.all.clear();
        st.view.by_dc.iter_mut().for_each(Vec::clear);
        for r in st.replicas() {
            let replica = &self.replicas[r as usize];
            let routable = !replica.ejected
                && if discovery {
                    replica.in_view
                } else {
                    replica.down == 0 && replica.state == SlotState::Active
                };
            if routable {
                st.view.all.push(r);
                st.view.by_dc[replica.dc as usize].push(r);
            }
        }
    }

    /// A replica's truth changed: views follow at once unless discovery stands between.
    pub fn replica_changed(&mut self, svc: usize) {
        if self.s.discovery.is_none() {
            self.rebuild_view(svc);
        }
    }

    pub(super) fn schedule_discovery(&mut self) {
        if let Some(d) = &self.s.discovery {
            let (check, refresh) = (d.health_check_interval, d.refresh_interval);
            self.q.schedule_at(check, Event::HealthCheck);
            self.q.schedule_at(refresh, Event::Refresh);
        }
    }

    /// The registry checks every replica slot in use.
    pub(super) fn on_health_check(&mut self) {
        let d = self
            .s
            .discovery
            .as_ref()
            .expect("health checks only with discovery");
        let (threshold, interval) = (d.failures_before_critical, d.health_check_interval);
        for replica in &mut self.replicas {
            match replica.state {
                SlotState::Absent => continue,
                // Scaled down: deregistered at once, as Kubernetes removes a terminating pod.
                SlotState::Draining => replica.registered = false,
                SlotState::Starting | SlotState::Active => {
                    if replica.down == 0 && replica.state == SlotState::Active {
                        replica.failed_checks = 0;
                        replica.registered = true;
                    } else {
                        replica.failed_checks += 1;
                        if replica.failed_checks >= threshold {
                            replica.registered = false;
                        }
                    }
                }
            }
        }
        self.q.schedule_in(interval, Event::HealthCheck);
    }

    /// Callers copy the registry.
    pub(super) fn on_refresh(&mut self) {
        for replica in &mut self.replicas {
            replica.in_view = replica.registered;
        }
        for svc in 0..self.services.len() {
            self.rebuild_view(svc);
        }
        let interval = self
            .s
            .discovery
            .as_ref()
            .expect("refresh only with discovery")
            .refresh_interval;
        self.q.schedule_in(interval, Event::Refresh);
    }

    /// Envoy outlier detection, as callers see a replica's answers: after
    /// `consecutive_5xx` failures in a row it leaves every caller's view for
    /// n × `base_ejection_time` (its n-th ejection), unless that would eject
    /// more than `max_ejection_percent` of the service (one is always allowed).
    #[inline(always)]
    pub(super) fn outlier_record(&mut self, r: u32, ok: bool) {
        let svc = self.replicas[r as usize].service as usize;
        let Some(o) = &self.s.services[svc].outlier else {
            return;
        };
        let replica = &mut self.replicas[r as usize];
        if ok {
            replica.consecutive_failures = 0;
            return;
        }
        replica.consecutive_failures += 1;
        if replica.ejected || replica.consecutive_failures < o.consecutive {
            return;
        }
        let slots = self.services[svc].replicas();
        let in_use = slots
            .clone()
            .filter(|&i| self.replicas[i as usize].state != SlotState::Absent)
            .count();
        let ejected = slots.filter(|&i| self.replicas[i as usize].ejected).count();
        if ejected >= 1 && (ejected + 1) as f64 > o.max_percent * in_use as f64 {
            return;
        }
        let replica = &mut self.replicas[r as usize];
        replica.ejected = true;
        replica.ejections += 1;
        replica.consecutive_failures = 0;
        let (epoch, duration) = (
            replica.ejections,
            o.base_ejection.saturating_mul(u64::from(replica.ejections)),
        );
        self.q
            .schedule_in(duration, Event::Uneject { replica: r, epoch });
        self.m.services[svc].ejections += 1;
        self.rebuild_view(svc);
    }

    pub(super) fn on_uneject(&mut self, r: u32, epoch: u32) {
        let replica = &mut self.replicas[r as usize];
        if replica.ejected && replica.ejections == epoch {
            replica.ejected = false;
            let svc = replica.service as usize;
            self.rebuild_view(svc);
        }
    }
}
