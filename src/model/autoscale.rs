//! The Kubernetes Horizontal Pod Autoscaler, per service.
//!
//! Every `sync_period`: utilisation over the period = busy worker time /
//! available worker time; desired = ceil(current × utilisation / target),
//! left alone within Kubernetes' 10% tolerance, clamped to [min, max]. Scale-up
//! is immediate (new replicas serve after `startup`); scale-down goes to the
//! highest recommendation of the last `scale_down_stabilization`, and removed
//! replicas finish what they hold before they go.

use std::collections::VecDeque;

use super::event::Event;
use super::replica::SlotState;
use super::world::World;
use crate::engine::Time;

/// Kubernetes' default `horizontal-pod-autoscaler-tolerance`. (The ceiling below
/// forgives 1e-9 so that 5 × 0.2 / 0.5 is 2 replicas, not 3.)
const TOLERANCE: f64 = 0.1;

/// The autoscaler's memory: where the last period started, and recent recommendations.
#[derive(Default)]
pub(super) struct Hpa {
    busy_mark: u128,
    available_mark: u128,
    recommendations: VecDeque<(Time, u32)>,
}

impl World<'_> {
    pub(super) fn schedule_autoscalers(&mut self) {
        for (i, svc) in self.s.services.iter().enumerate() {
            if let Some(a) = &svc.autoscale {
                self.q
                    .schedule_at(a.sync_period, Event::Autoscale { service: i as u32 });
            }
        }
    }

    pub(super) fn on_autoscale(&mut self, svc: usize) {
        let a = self.s.services[svc]
            .autoscale
            .as_ref()
            .expect("autoscaled service");
        self.integrate(svc);
        let now = self.now();
        let st = &mut self.services[svc];
        let hpa = st.hpa.as_mut().expect("autoscaled service");
        let busy = st.busy_total - hpa.busy_mark;
        let available = st.available_total - hpa.available_mark;
        hpa.busy_mark = st.busy_total;
        hpa.available_mark = st.available_total;
        let current = self.services[svc]
            .replicas()
            .filter(|&r| {
                matches!(
                    self.replicas[r as usize].state,
                    SlotState::Starting | SlotState::Active
                )
            })
            .count() as u32;
        let desired = if available == 0 {
            current
        } else {
            let ratio = busy as f64 / available as f64 / a.target_utilization;
            if (ratio - 1.0).abs() <= TOLERANCE {
                current
            } else {
                (f64::from(current) * ratio - 1e-9).ceil() as u32
            }
        }
        .clamp(a.min_replicas, a.max_replicas);
        let hpa = self.services[svc].hpa.as_mut().expect("autoscaled service");
        hpa.recommendations.push_back((now, desired));
        while hpa
            .recommendations
            .front()
            .is_some_and(|(t, _)| now.saturating_sub(*t) > a.scale_down_stabilization)
        {
            hpa.recommendations.pop_front();
        }
        let stabilized = hpa
            .recommendations
            .iter()
            .map(|(_, d)| *d)
            .max()
            .unwrap_or(desired);
        let target = if desired > current {
            desired
        } else {
            stabilized.min(current)
        };
        if target != current {
            self.scale(svc, current, target);
            self.m.services[svc].replica_timeline.push((now, target));
        }
        self.q.schedule_in(
            a.sync_period,
            Event::Autoscale {
                service: svc as u32,
            },
        );
    }

    /// Starts or retires replicas to go from `current` to `target`.
    fn scale(&mut self, svc: usize, current: u32, target: u32) {
        let startup = self.s.services[svc]
            .autoscale
            .as_ref()
            .map_or(0, |a| a.startup);
        let slots: Vec<u32> = self.services[svc].replicas().collect();
        if target > current {
            let free = slots.iter().copied().filter(|&r| {
                let rep = &self.replicas[r as usize];
                rep.state == SlotState::Absent && rep.outstanding == 0
            });
            for r in free.take((target - current) as usize).collect::<Vec<_>>() {
                let rep = &mut self.replicas[r as usize];
                rep.state = SlotState::Starting;
                rep.epoch += 1;
                let epoch = rep.epoch;
                self.q
                    .schedule_in(startup, Event::ReplicaReady { replica: r, epoch });
            }
        } else {
            // The newest first: starting ones are cancelled, active ones drain.
            let mut excess = current - target;
            for &r in slots.iter().rev() {
                if excess == 0 {
                    break;
                }
                match self.replicas[r as usize].state {
                    SlotState::Starting => self.replicas[r as usize].state = SlotState::Absent,
                    SlotState::Active => self.drain(r),
                    SlotState::Absent | SlotState::Draining => continue,
                }
                excess -= 1;
            }
        }
    }

    fn drain(&mut self, r: u32) {
        let svc = self.replicas[r as usize].service as usize;
        self.replicas[r as usize].state = SlotState::Draining;
        self.replicas[r as usize].registered = false;
        self.replica_changed(svc);
        self.consumer_down(r, true);
        self.retire_if_drained(r);
    }

    /// A draining replica with nothing left to do is gone.
    pub(super) fn retire_if_drained(&mut self, r: u32) {
        let replica = &self.replicas[r as usize];
        if replica.state != SlotState::Draining || replica.outstanding > 0 {
            return;
        }
        let serving = replica.serving();
        self.replicas[r as usize].state = SlotState::Absent;
        if serving {
            self.set_serving(r, false);
        }
    }

    pub(super) fn on_replica_ready(&mut self, r: u32, epoch: u32) {
        let replica = &mut self.replicas[r as usize];
        if replica.state != SlotState::Starting || replica.epoch != epoch {
            return;
        }
        replica.state = SlotState::Active;
        replica.failed_checks = 0;
        let (serving, svc) = (replica.serving(), replica.service as usize);
        if serving {
            self.set_serving(r, true);
        }
        self.replica_changed(svc);
        if serving {
            self.consumer_up(r);
        }
    }
}
