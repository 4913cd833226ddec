//! The run's time series: a `Sample` event every step takes one point of
//! every series (see [`crate::metrics::series`]), and a last, possibly
//! shorter, step is closed at the end of the run.

use super::breaker::State;
use super::event::Event;
use super::replica::SlotState;
use super::world::World;
use crate::metrics::series::{CallPoint, ServicePoint, WorkloadPoint, WorkloadSeries};
use crate::scenario::spec::Step;

impl World<'_> {
    pub(super) fn schedule_sampling(&mut self, step: crate::engine::Time) {
        let s = self.s;
        let series = &mut self.m.series;
        series.step = step;
        series.workloads = vec![WorkloadSeries::default(); s.workloads.len()];
        series.services = vec![Vec::new(); s.services.len()];
        let kept = s.endpoints.len() <= crate::metrics::series::ENDPOINT_SERIES_MAX;
        series.endpoints = vec![Default::default(); if kept { s.endpoints.len() } else { 0 }];
        series.calls = vec![Vec::new(); s.call_sites.len()];
        series.published = vec![Vec::new(); self.m.topics.len()];
        series.call_steps = vec![Default::default(); s.call_sites.len()];
        series.service_marks = vec![(0, 0); s.services.len()];
        self.site_policy = vec![None; s.call_sites.len()];
        for spec in s.endpoints.iter().flat_map(|e| &e.steps) {
            if let Step::Calls(specs) = spec {
                for c in specs {
                    if self.policies[c.policy].breaker.is_some() {
                        self.site_policy[c.site] = Some(c.policy);
                    }
                }
            }
        }
        self.q.schedule_at(step.min(self.end), Event::Sample);
    }

    pub(super) fn on_sample(&mut self) {
        let now = self.now();
        if self.m.series.times.last() == Some(&now) {
            return;
        }
        self.m.series.times.push(now);
        for (st, w) in self.m.workloads.iter().zip(&mut self.m.series.workloads) {
            let totals = [st.sent, st.ok, st.failed, st.timed_out, st.rejected];
            let [p50_ns, p99_ns] = w.step.quantiles([0.5, 0.99]);
            let d: [u64; 5] = std::array::from_fn(|i| totals[i] - w.marks[i]);
            w.points.push(WorkloadPoint {
                sent: d[0],
                ok: d[1],
                errors: d[2] + d[3] + d[4],
                failed: d[2],
                timed_out: d[3],
                rejected: d[4],
                le: std::mem::take(&mut w.le_step),
                sum_ns: std::mem::take(&mut w.sum_step_ns),
                p50_ns,
                p99_ns,
            });
            w.marks = totals;
            w.step.clear();
        }
        self.m.series.endpoints.iter_mut().for_each(|e| e.sample());
        // Each service's endpoint executions so far, in one pass.
        let mut done = vec![(0u64, 0u64); self.services.len()];
        for (ep, st) in self.s.endpoints.iter().zip(&self.m.endpoints) {
            done[ep.service].0 += st.ok;
            done[ep.service].1 += st.failed;
        }
        for (svc, (ok, failed)) in done.into_iter().enumerate() {
            self.integrate(svc);
            let st = &mut self.services[svc];
            let (busy, available) = (
                st.busy_total - st.sampled.0,
                st.available_total - st.sampled.1,
            );
            st.sampled = (st.busy_total, st.available_total);
            let queue = st
                .replicas()
                .map(|r| self.replicas[r as usize].queue.len() as u64)
                .sum();
            let provisioned = st
                .replicas()
                .filter(|&r| self.replicas[r as usize].state != SlotState::Absent)
                .count() as u32;
            let mark = std::mem::replace(&mut self.m.series.service_marks[svc], (ok, failed));
            let utilization = if available == 0 {
                0.0
            } else {
                busy as f64 / available as f64
            };
            self.m.series.services[svc].push(ServicePoint {
                utilization,
                queue,
                replicas: st.up,
                provisioned,
                ok: ok - mark.0,
                failed: failed - mark.1,
            });
        }
        for site in 0..self.m.calls.len() {
            let c = &self.m.calls[site];
            let totals = [
                c.attempts,
                c.failed + c.rejected + c.timeouts,
                c.retries,
                c.short_circuited,
            ];
            let mark = &mut self.call_marks[site];
            let breaker = self.site_policy[site]
                .and_then(|p| self.policies[p].breaker.as_ref())
                .map_or(0, |b| match b.state() {
                    State::Closed => 0,
                    State::HalfOpen => 1,
                    State::Open => 2,
                });
            let step = &mut self.m.series.call_steps[site];
            let [p50_ns, p99_ns] = step.quantiles([0.5, 0.99]);
            step.clear();
            self.m.series.calls[site].push(CallPoint {
                p50_ns,
                p99_ns,
                attempts: totals[0] - mark[0],
                errors: totals[1] - mark[1],
                retries: totals[2] - mark[2],
                short_circuited: totals[3] - mark[3],
                breaker,
            });
            *mark = totals;
        }
        for (t, topic) in self.m.topics.iter().enumerate() {
            let before = self.topic_marks[t];
            self.m.series.published[t].push(topic.published - before);
            self.topic_marks[t] = topic.published;
        }
        self.sample_groups();
        let next = now + self.m.series.step;
        self.q.schedule_at(next.min(self.end), Event::Sample);
    }
}
