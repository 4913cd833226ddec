//! The summary of a run: the figures of summary.json (docs/REPORTS.md) and the SLO verdicts.
//!
//! Deterministic: built only from simulated quantities, in scenario order, with
//! floats rounded, so the same scenario and seed give the same bytes.

use indexmap::IndexMap;
use serde::Serialize;

use super::Collector;
use super::latency::{LatencyMs, or_null, round3, round6};
use super::verdict::slo;
pub use super::verdict::{
    AvailabilityVerdict, LatencyVerdict, Outcome, SloSummary, availability, percent_text,
};
use crate::engine::Time;
use crate::engine::time::as_secs;
use crate::scenario::Scenario;
use crate::scenario::spec::{FailureKind, Load, When};

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub seed: u64,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub events_processed: u64,
    pub workload: IndexMap<String, WorkloadSummary>,
    pub services: IndexMap<String, ServiceSummary>,
    pub calls: IndexMap<String, CallSummary>,
    pub topics: IndexMap<String, TopicSummary>,
    /// Each direction of each link with a bandwidth (absent without any).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub links: IndexMap<String, super::links::LinkSummary>,
    pub failures: Vec<FailureSummary>,
    /// Present when the run stopped early, overloaded past the memory budget.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overload: Option<OverloadSummary>,
    pub slo: SloSummary,
}

/// Where and when an overloaded run stopped; it met no target (verdicts FAIL; NO DATA stays for a target with nothing sent).
#[derive(Clone, Debug, Serialize)]
pub struct OverloadSummary {
    pub stopped_at_s: f64,
    pub message: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct WorkloadSummary {
    pub sent: u64,
    pub ok: u64,
    pub failed: u64,
    pub timed_out: u64,
    pub rejected: u64,
    pub in_flight: u64,
    /// Of `in_flight`, those unanswered for longer than the client's patience
    /// (the workload's `timeout`, else 10× the sync p99 target): hung.
    pub hung: u64,
    /// ok / (sent − in_flight + hung): a request the end of the run cut off
    /// young is left out; a hung one counts against it. None when nothing counts.
    pub availability: Option<f64>,
    /// Of successful requests, client send to client receive.
    #[serde(serialize_with = "or_null")]
    pub latency_ms: LatencyMs,
    /// A closed workload's figures (absent for an open one).
    #[serde(flatten)]
    pub closed: Option<ClosedSummary>,
}

/// A closed workload over the measured window: N = X × (R + Z) holds in these
/// figures (the interactive response time law), up to the cycles the window's
/// edges cut (at most N of them).
#[derive(Clone, Debug, Serialize)]
pub struct ClosedSummary {
    /// Users, averaged over the measured time (N).
    pub users: f64,
    /// Mean of the think times drawn after warmup (Z).
    pub think_ms_mean: Option<f64>,
    /// Requests that ended (any outcome) in the measured window, per second (X).
    pub throughput_per_s: f64,
    /// Mean client send to end of those requests, failed, rejected and timed
    /// out included (R): a user waits for each.
    pub response_ms_mean: Option<f64>,
}

fn closed_summary(st: &super::WorkloadStats, measured: Time) -> ClosedSummary {
    let secs = as_secs(measured);
    let answered = st.answered;
    let mean_ms = |sum: u128, n: u64| (n > 0).then(|| round3(sum as f64 / n as f64 / 1e6));
    ClosedSummary {
        users: if measured == 0 {
            0.0
        } else {
            round3(st.user_ns as f64 / measured as f64)
        },
        think_ms_mean: mean_ms(st.think_ns, st.thinks),
        throughput_per_s: if secs > 0.0 {
            round3(answered as f64 / secs)
        } else {
            0.0
        },
        response_ms_mean: mean_ms(st.response_ns, answered),
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct ServiceSummary {
    /// Replicas at the start.
    pub replicas: u32,
    /// Busy worker time / worker time of serving replicas.
    pub utilization: f64,
    /// Of the requests that reached it, the share answered ok:
    /// ok / (ok + failed + rejected + shed + connection failures + injected
    /// errors). None when none reached it.
    pub availability: Option<f64>,
    /// Share of measured time with at least one serving replica.
    pub uptime: f64,
    pub rejected: u64,
    /// Dropped after waiting longer than `max_queue_time`.
    pub shed: u64,
    /// Replicas ejected by outlier detection.
    pub ejections: u64,
    /// Requests sent to a replica that was down, or with none in the caller's view.
    pub connection_failures: u64,
    pub last_connection_failure_s: Option<f64>,
    /// Requests failed by an injected `errors` failure.
    pub injected_errors: u64,
    /// Replicas over time, [seconds, count], for autoscaled services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas_over_time: Option<Vec<(f64, u32)>>,
    pub endpoints: IndexMap<String, EndpointSummary>,
}

#[derive(Clone, Debug, Serialize)]
pub struct TopicSummary {
    /// Messages published after warmup.
    pub published: u64,
    pub partitions: u32,
    pub groups: IndexMap<String, GroupSummary>,
}

/// One consumer group: published = handled + dead_lettered + lost + in_flight.
#[derive(Clone, Debug, Serialize)]
pub struct GroupSummary {
    pub handled: u64,
    pub dead_lettered: u64,
    pub lost: u64,
    pub in_flight: u64,
    /// Messages handled twice (a replay after a consumer crash, not recognised).
    pub duplicates: u64,
    /// Replays an idempotent consumer recognised and skipped.
    pub duplicates_skipped: u64,
    /// Messages handled after one that came later in their partition (Kafka) or queue.
    pub out_of_order: u64,
    pub max_lag: u64,
    pub max_partition_lag: u64,
    /// Publish at the producer to the end of a successful handling.
    #[serde(serialize_with = "or_null")]
    pub latency_ms: LatencyMs,
    /// Every `series_step_s` from the start (the last step may be shorter: it
    /// ends with the run): total lag, and messages handled per second.
    pub series_step_s: f64,
    pub lag: Vec<u64>,
    pub handled_per_s: Vec<f64>,
}

/// When an injected failure was active.
#[derive(Clone, Debug, Serialize)]
pub struct FailureSummary {
    pub failure: String,
    /// The replica of a random crash, counted from 0 within its service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica: Option<u32>,
    pub start_s: f64,
    /// None while still active at the end of the run.
    pub end_s: Option<f64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct EndpointSummary {
    pub count: u64,
    pub ok: u64,
    pub failed: u64,
    /// Requests whose work was abandoned at their propagated deadline.
    pub abandoned: u64,
    /// From arrival at the replica (queueing included) to the end of the last step.
    #[serde(serialize_with = "or_null")]
    pub latency_ms: LatencyMs,
}

#[derive(Clone, Debug, Serialize)]
pub struct CallSummary {
    /// Attempts sent: first attempts + retries + hedges. Each ends ok, failed,
    /// rejected, timed out, or is in flight at the end.
    pub attempts: u64,
    pub retries: u64,
    pub hedges: u64,
    pub ok: u64,
    pub failed: u64,
    pub rejected: u64,
    pub timeouts: u64,
    pub in_flight: u64,
    /// Refused by the caller's open circuit breaker (never sent).
    pub short_circuited: u64,
    pub breaker_opened: u64,
    /// Calls that failed at their deadline, retries included.
    pub deadline_exceeded: u64,
    /// Retries not made because the retry budget was spent.
    pub budget_exhausted: u64,
    /// Attempts the callee answered ok after the caller had stopped waiting:
    /// it had timed out, passed its deadline, or another hedge had won. The
    /// callee's work for them was done, and wasted.
    pub wasted: u64,
    /// Calls not made because the caller was `max_call_depth` calls deep
    /// (its step failed at once); absent when none.
    #[serde(skip_serializing_if = "is_zero")]
    pub depth_exceeded: u64,
    /// Mean wait before retry 1, 2, ... in milliseconds.
    pub retry_wait_ms_mean: Vec<f64>,
    /// Circuit breaker state changes, [seconds, state].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub breaker_transitions: Vec<(f64, &'static str)>,
    /// Of successful calls, first send to answer at the caller, retries included.
    #[serde(serialize_with = "or_null")]
    pub latency_ms: LatencyMs,
}

/// Builds the summary of a finished run.
pub fn summarize(s: &Scenario, seed: u64, c: &Collector) -> Summary {
    let workload = s
        .workloads
        .iter()
        .zip(&c.workloads)
        .map(|(w, st)| {
            let availability = availability(st);
            let ws = WorkloadSummary {
                sent: st.sent,
                ok: st.ok,
                failed: st.failed,
                timed_out: st.timed_out,
                rejected: st.rejected,
                in_flight: st.in_flight,
                hung: st.hung,
                availability,
                latency_ms: st.latency.summary(),
                closed: matches!(w.load, Load::Closed(_))
                    .then(|| closed_summary(st, c.end.saturating_sub(s.warmup))),
            };
            (w.name.clone(), ws)
        })
        .collect();
    let services = s
        .services
        .iter()
        .zip(&c.services)
        .map(|(svc, st)| {
            let ratio = |a: u128, b: u128| {
                if b == 0 {
                    0.0
                } else {
                    round6(a as f64 / b as f64)
                }
            };
            let utilization = ratio(st.busy_worker_ns, st.available_worker_ns);
            let uptime = ratio(st.up_ns, u128::from(c.end.saturating_sub(s.warmup)));
            let replicas_over_time = svc.autoscale.as_ref().map(|_| {
                st.replica_timeline
                    .iter()
                    .map(|&(t, n)| (as_secs(t), n))
                    .collect()
            });
            let endpoints: IndexMap<String, EndpointSummary> = svc
                .endpoints
                .iter()
                .map(|&e| {
                    let es = &c.endpoints[e];
                    let summary = EndpointSummary {
                        count: es.ok + es.failed,
                        ok: es.ok,
                        failed: es.failed,
                        abandoned: es.abandoned,
                        latency_ms: es.latency.summary(),
                    };
                    (s.endpoints[e].name.clone(), summary)
                })
                .collect();
            let (ok, failed) = endpoints
                .values()
                .fold((0, 0), |(o, f), e: &EndpointSummary| {
                    (o + e.ok, f + e.failed)
                });
            let reached =
                ok + failed + st.rejected + st.shed + st.connection_failures + st.injected_errors;
            let ss = ServiceSummary {
                replicas: svc.replicas(),
                utilization,
                availability: (reached > 0).then(|| round6(ok as f64 / reached as f64)),
                uptime,
                rejected: st.rejected,
                shed: st.shed,
                ejections: st.ejections,
                connection_failures: st.connection_failures,
                last_connection_failure_s: st.last_connection_failure.map(as_secs),
                injected_errors: st.injected_errors,
                replicas_over_time,
                endpoints,
            };
            (svc.name.clone(), ss)
        })
        .collect();
    let calls = s
        .call_sites
        .iter()
        .zip(&c.calls)
        .map(|(site, st)| {
            let cs = CallSummary {
                attempts: st.attempts,
                retries: st.retries,
                hedges: st.hedges,
                ok: st.ok,
                failed: st.failed,
                rejected: st.rejected,
                timeouts: st.timeouts,
                in_flight: st.in_flight,
                short_circuited: st.short_circuited,
                breaker_opened: st.breaker_opened,
                deadline_exceeded: st.deadline_exceeded,
                budget_exhausted: st.budget_exhausted,
                wasted: st.wasted,
                depth_exceeded: st.depth_exceeded,
                retry_wait_ms_mean: st
                    .retry_waits
                    .iter()
                    .map(|&(n, sum)| round3(sum as f64 / n.max(1) as f64 / 1e6))
                    .collect(),
                breaker_transitions: st
                    .breaker_transitions
                    .iter()
                    .map(|&(t, state)| (as_secs(t), state))
                    .collect(),
                latency_ms: st.latency.summary(),
            };
            (site.key.clone(), cs)
        })
        .collect();
    Summary {
        scenario: s.name.clone(),
        seed,
        duration_s: as_secs(s.duration),
        warmup_s: as_secs(s.warmup),
        events_processed: c.events_processed,
        workload,
        services,
        calls,
        topics: topics(s, c),
        links: super::links::links(s, c),
        failures: c
            .failure_windows
            .iter()
            .map(|w| {
                let f = &s.failures[w.failure as usize];
                let replica = match (&f.when, &f.kind) {
                    (When::Random { .. }, FailureKind::Crash { service, .. }) => {
                        let first: u32 = s.services[..*service]
                            .iter()
                            .map(|x| x.max_replicas())
                            .sum();
                        Some(w.target - first)
                    }
                    _ => None,
                };
                FailureSummary {
                    failure: f.label.clone(),
                    replica,
                    start_s: as_secs(w.start),
                    end_s: w.end.map(as_secs),
                }
            })
            .collect(),
        overload: c.overload.as_ref().map(|(at, message)| OverloadSummary {
            stopped_at_s: as_secs(*at),
            message: message.clone(),
        }),
        slo: slo(s, c),
    }
}

fn topics(s: &Scenario, c: &Collector) -> IndexMap<String, TopicSummary> {
    let Some(b) = &s.broker else {
        return IndexMap::new();
    };
    b.topics
        .iter()
        .enumerate()
        .zip(&c.topics)
        .map(|((t, topic), st)| {
            let groups = s
                .consumers
                .iter()
                .filter(|x| x.topic == t)
                .zip(&st.groups)
                .map(|(consumer, g)| {
                    let summary = GroupSummary {
                        handled: g.handled,
                        dead_lettered: g.dead_lettered,
                        lost: g.lost,
                        in_flight: g.in_flight,
                        duplicates: g.duplicates,
                        duplicates_skipped: g.duplicates_skipped,
                        out_of_order: g.out_of_order,
                        max_lag: g.max_lag,
                        max_partition_lag: g.max_partition_lag,
                        latency_ms: g.latency.summary(),
                        series_step_s: as_secs(c.series.step),
                        lag: g.series.iter().map(|&(lag, _)| lag).collect(),
                        handled_per_s: g
                            .series
                            .iter()
                            .enumerate()
                            .map(|(i, &(_, n))| round3(n as f64 / c.series.step_secs(i)))
                            .collect(),
                    };
                    (consumer.group.clone(), summary)
                })
                .collect();
            (
                topic.name.clone(),
                TopicSummary {
                    published: st.published,
                    partitions: topic.partitions,
                    groups,
                },
            )
        })
        .collect()
}

/// For counters that appear in summary.json only when something happened.
fn is_zero(n: &u64) -> bool {
    *n == 0
}
