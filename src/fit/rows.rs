//! The comparison rows: observed beside simulated per entry endpoint, per
//! service endpoint and per consumer, and what matched nothing.

use serde::Serialize;

use super::ks::{self, ks_distance};
use super::load::{Plan, endpoint_key, observed_rate};
use super::{Fit, round};
use crate::engine::Time;
use crate::import::observe::{Group, Observed};
use crate::metrics::{Collector, EndpointStats};
use crate::scenario::Scenario;

/// Points kept of each CDF drawn in fit.html.
const CDF_POINTS: usize = 400;

/// One side's figures: the count and rate of every span or job, failed ones
/// included; the latencies (ms) of the successful ones.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Side {
    pub count: u64,
    pub rate_per_s: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
}

/// Relative errors, (simulated − observed) / observed.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Errors {
    pub rate: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub mean: f64,
}

/// One endpoint (or consumer), observed beside simulated.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub service: String,
    /// The endpoint; for a consumer, the handler (`topic@group`).
    pub endpoint: String,
    pub observed: Side,
    pub simulated: Side,
    pub error: Errors,
    /// Kolmogorov–Smirnov distance between the two latency distributions.
    pub ks: f64,
    /// The CDFs as (ms, share at or below), for the charts.
    #[serde(skip)]
    pub observed_cdf: Vec<(f64, f64)>,
    #[serde(skip)]
    pub simulated_cdf: Vec<(f64, f64)>,
}

fn ms(ns: f64) -> f64 {
    round(ns / 1e6, 3)
}

fn relative(sim: f64, obs: f64) -> f64 {
    if obs == 0.0 {
        0.0
    } else {
        round((sim - obs) / obs, 4)
    }
}

/// At most [`CDF_POINTS`] of the steps, evenly, the last one kept.
fn thin(steps: &[(u64, f64)]) -> Vec<(f64, f64)> {
    let every = steps.len().div_ceil(CDF_POINTS).max(1);
    let mut out: Vec<(f64, f64)> = steps
        .first()
        .map(|s| (s.0 as f64 / 1e6, 0.0))
        .into_iter()
        .collect();
    let kept = steps.iter().step_by(every).chain(steps.last());
    out.extend(kept.map(|&(ns, f)| (ns as f64 / 1e6, f)));
    out.dedup_by(|a, b| a == b);
    out
}

fn row(g: &Group, window: Time, label: String, st: &EndpointStats, duration: Time) -> Row {
    let sim = &st.latency;
    let sim_count = st.ok + st.failed;
    let d = &g.durations_ns;
    let observed = Side {
        count: g.count(),
        rate_per_s: round(observed_rate(g, window), 3),
        p50_ms: ms(ks::quantile(d, 0.5) as f64),
        p90_ms: ms(ks::quantile(d, 0.9) as f64),
        p99_ms: ms(ks::quantile(d, 0.99) as f64),
        mean_ms: ms(ks::mean(d)),
    };
    let simulated = Side {
        count: sim_count,
        rate_per_s: round(sim_count as f64 / (duration as f64 / 1e9), 3),
        p50_ms: ms(sim.quantile_ns(0.5) as f64),
        p90_ms: ms(sim.quantile_ns(0.9) as f64),
        p99_ms: ms(sim.quantile_ns(0.99) as f64),
        mean_ms: ms(sim.mean_ns()),
    };
    let error = Errors {
        rate: relative(simulated.rate_per_s, observed.rate_per_s),
        p50: relative(simulated.p50_ms, observed.p50_ms),
        p90: relative(simulated.p90_ms, observed.p90_ms),
        p99: relative(simulated.p99_ms, observed.p99_ms),
        mean: relative(simulated.mean_ms, observed.mean_ms),
    };
    let (obs_steps, sim_steps) = (ks::steps(d), sim.steps());
    Row {
        service: g.service.clone(),
        endpoint: label,
        observed,
        simulated,
        error,
        ks: round(ks_distance(&obs_steps, &sim_steps), 4),
        observed_cdf: thin(&obs_steps),
        simulated_cdf: thin(&sim_steps),
    }
}

/// The scenario's endpoint named `service.endpoint`, if any.
fn endpoint(s: &Scenario, key: &str) -> Option<usize> {
    (0..s.endpoints.len()).find(|&e| endpoint_key(s, e) == key)
}

/// The scenario's consumer of `g`'s topic in `g`'s service: (handler endpoint, label).
fn consumer(s: &Scenario, g: &Group) -> Option<(usize, String)> {
    let topics = &s.broker.as_ref()?.topics;
    s.consumers.iter().find_map(|c| {
        let matches = s.services[c.service].name == g.service && topics[c.topic].name == g.endpoint;
        matches.then(|| (c.endpoint, s.endpoints[c.endpoint].name.clone()))
    })
}

/// The rows of observed endpoints the scenario has; the others' names go to `missing`.
fn rows(
    groups: &[Group],
    obs: &Observed,
    duration: Time,
    m: &Collector,
    find: impl Fn(&Group) -> Option<(usize, String)>,
    missing: &mut Vec<String>,
) -> Vec<Row> {
    let mut out = Vec::new();
    for g in groups {
        match find(g) {
            Some((e, label)) => {
                out.push(row(g, obs.window_ns, label, &m.endpoints[e], duration));
            }
            None => missing.push(format!("{} ({} spans)", g.key(), g.count())),
        }
    }
    out
}

/// Observed beside simulated, for a run of `s` (as `plan` set it) that
/// collected `m`.
pub fn compare(s: &Scenario, obs: &Observed, plan: &Plan, m: &Collector, seed: u64) -> Fit {
    let by_name = |g: &Group| endpoint(s, &g.key()).map(|e| (e, g.endpoint.clone()));
    let mut not_in_scenario = Vec::new();
    let mut ignored = Vec::new();
    let d = plan.duration;
    let entries = rows(&obs.entries, obs, d, m, by_name, &mut ignored);
    let endpoints = rows(&obs.endpoints, obs, d, m, by_name, &mut not_in_scenario);
    let consumers = rows(
        &obs.consumers,
        obs,
        d,
        m,
        |g| consumer(s, g),
        &mut not_in_scenario,
    );
    Fit {
        scenario: s.name.clone(),
        seed,
        traces: Vec::new(),
        window_s: round(obs.window_ns as f64 / 1e9, 6),
        simulated_s: round(d as f64 / 1e9, 3),
        warmup_s: round(s.warmup as f64 / 1e9, 3),
        duration_rule: plan.rule.clone(),
        load: plan.load.clone(),
        scenario_not_in_traces: unseen(s, obs),
        traces_not_in_scenario: not_in_scenario,
        entries,
        endpoints,
        consumers,
        checks: Vec::new(),
        notes: Vec::new(),
    }
}

/// The scenario's endpoints and consumers that no span shows (the gateway
/// block's routes are meshsim's own, never in traces).
fn unseen(s: &Scenario, obs: &Observed) -> Vec<String> {
    let handlers: Vec<usize> = s.consumers.iter().map(|c| c.endpoint).collect();
    let mut out = Vec::new();
    for e in 0..s.endpoints.len() {
        let svc = s.endpoints[e].service;
        if Some(svc) == s.gateway || handlers.contains(&e) {
            continue;
        }
        let key = endpoint_key(s, e);
        if !obs.endpoints.iter().any(|g| g.key() == key) {
            out.push(key);
        }
    }
    for c in &s.consumers {
        let seen = obs
            .consumers
            .iter()
            .any(|g| consumer(s, g).map(|x| x.0) == Some(c.endpoint));
        if !seen {
            out.push(endpoint_key(s, c.endpoint));
        }
    }
    out
}
