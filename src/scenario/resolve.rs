//! Raw scenario -> validated [`Scenario`]: names become indices, units become
//! engine units, and every problem is collected (not just the first) with its
//! YAML path. Locations are attached by the caller, which owns the YAML tree.
//!
//! The parts: `services` (services, placement), `steps` (endpoint and
//! handler steps, call sites, cycles), `workloads` (gateway, workloads,
//! arrival), `failures`, [`super::topology`], [`super::policy`] and
//! [`super::broker`].

use serde_json::Value;

use super::dist;
use super::error::Problem;
use super::node::YamlPath;
use super::raw::{self, RawScenario};
use super::services::{self, World};
use super::spec::*;
use super::units::{self, Bad};
use super::{broker, callgraph, failures, policy, steps, topology, workloads};
use crate::engine::time::{HOUR, MILLISECOND, SECOND, Time};

/// Sizes beyond these would exhaust memory or time; they are refused at load.
pub mod limits {
    pub const SERVICES: usize = 10_000;
    pub const REPLICAS: u32 = 100_000;
    pub const CONCURRENCY: u32 = 100_000;
    /// CPU cores of one replica.
    pub const CORES: u32 = 100_000;
    pub const WORKERS_TOTAL: u64 = 10_000_000;
    pub const QUEUE: u32 = 10_000_000;
    pub const FANOUT: u32 = 10_000;
    /// Calls one client request may cause, over the whole call tree.
    pub const CALLS_PER_REQUEST: f64 = 1_000_000.0;
    pub const STEPS: usize = 1_000;
    pub const WORKLOADS: usize = 10_000;
    /// Send times in one workload's `replay` list.
    pub const REPLAY: usize = 1_000_000;
    /// Users of one closed workload.
    pub const USERS: u32 = 1_000_000;
    pub const RATE_PER_S: f64 = 100_000_000.0;
    pub const DURATION_H: u64 = 10_000;
    pub const DATACENTERS: usize = 100;
    /// `max_call_depth`: its default and largest value.
    pub const DEFAULT_CALL_DEPTH: u32 = 64;
    pub const CALL_DEPTH: u32 = 10_000;
    /// Steps of one endpoint once its branches are flattened.
    pub const PROGRAM: usize = 100_000;
}

pub(super) struct Resolver {
    problems: Vec<Problem>,
}

impl Resolver {
    pub(super) fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }
    pub(super) fn bad(&mut self, path: &YamlPath, b: Bad) {
        self.push(b.at(path));
    }
    pub(super) fn duration(&mut self, v: &Value, path: &YamlPath) -> Option<Time> {
        units::duration(v).map_err(|b| self.bad(path, b)).ok()
    }
    pub(super) fn rate(&mut self, v: &Value, path: &YamlPath) -> Option<f64> {
        let r = units::rate(v).map_err(|b| self.bad(path, b)).ok()?;
        if r > limits::RATE_PER_S {
            self.push(
                Problem::new(
                    path.clone(),
                    format!("{r}/s is more than this tool simulates"),
                )
                .expected(format!("at most {}/s", limits::RATE_PER_S)),
            );
            return None;
        }
        Some(r)
    }
    pub(super) fn dist(&mut self, v: &Value, path: &YamlPath) -> Option<crate::engine::Dist> {
        dist::parse(v, path, &mut self.problems)
    }
    /// Lets a parser that collects problems push them here.
    pub(super) fn with_problems<T>(&mut self, f: impl FnOnce(&mut Vec<Problem>) -> T) -> T {
        f(&mut self.problems)
    }
    pub(super) fn fraction(&mut self, v: &Value, path: &YamlPath) -> Option<f64> {
        units::fraction(v).map_err(|b| self.bad(path, b)).ok()
    }
    /// Problems found so far.
    pub(super) fn count(&self) -> usize {
        self.problems.len()
    }
    /// Reports a key of the format whose simulation arrives with a later issue.
    pub(super) fn bounded(
        &mut self,
        v: Option<u32>,
        default: u32,
        min: u32,
        max: u32,
        path: &YamlPath,
    ) -> u32 {
        let v = v.unwrap_or(default);
        if v < min || v > max {
            self.push(
                Problem::new(path.clone(), format!("{v} is out of range"))
                    .expected(format!("a whole number from {min} to {max}")),
            );
        }
        v.clamp(min, max)
    }
}

/// Resolves a raw scenario, or returns every problem found.
pub fn resolve(raw: &RawScenario) -> Result<Scenario, Vec<Problem>> {
    let mut r = Resolver {
        problems: Vec::new(),
    };
    let root = YamlPath::root();
    let scenario = build(&mut r, raw, &root);
    if r.problems.is_empty() {
        Ok(scenario)
    } else {
        Err(r.problems)
    }
}

fn build(r: &mut Resolver, raw: &RawScenario, root: &YamlPath) -> Scenario {
    let (duration, warmup) = run_length(r, raw, root);
    check_scenario_name(r, &raw.name, root);
    let slo = slo(r, raw, root);
    let datacenters = datacenters(r, raw, root);
    let (broker, topics) = broker::broker(r, raw, root, &datacenters);
    let within_dc = raw.network.as_ref().and_then(|n| {
        let p = root.key("network");
        n.within_dc
            .as_ref()
            .and_then(|d| r.dist(&d.0, &p.key("within_dc")))
    });
    let links = topology::links(r, raw, root, &datacenters);
    let discovery = topology::discovery(r, raw, root);
    let mut world = World {
        topics,
        broker_kind: broker.as_ref().map(|b| b.kind),
        ..World::default()
    };
    let (gateway, workloads) = call_graph(r, raw, root, &datacenters, &mut world);
    let broker_nodes = broker
        .as_ref()
        .map(|b| b.placement.clone())
        .unwrap_or_default();
    topology::check_links(
        r,
        root,
        &datacenters,
        &links,
        &world.services,
        &workloads,
        &broker_nodes,
    );
    let targets = failures::Targets {
        services: &world.service_index,
        replicas: world.services.iter().map(Service::max_replicas).collect(),
        dcs: &datacenters,
        broker_nodes: broker.as_ref().map_or(0, |b| b.nodes()),
    };
    let failures = failures::failures(r, raw, root, &targets);
    Scenario {
        name: raw.name.clone(),
        description: raw.description.clone().unwrap_or_default(),
        seed: raw.seed.unwrap_or(1),
        duration,
        warmup,
        slo,
        datacenters,
        within_dc,
        links,
        discovery,
        failures,
        broker,
        consumers: world.consumers,
        services: world.services,
        endpoints: world.endpoints,
        call_sites: world.sites,
        policies: world.policies,
        workloads,
        gateway,
        sizes: world.sizes.sizes,
        warnings: Vec::new(),
        max_call_depth: r.bounded(
            raw.max_call_depth,
            limits::DEFAULT_CALL_DEPTH,
            1,
            limits::CALL_DEPTH,
            &root.key("max_call_depth"),
        ),
        branches: world.branches,
    }
}

/// Services, their endpoints' and handlers' steps, then the gateway and the
/// workloads that enter through it; returns the gateway's service index.
fn call_graph(
    r: &mut Resolver,
    raw: &RawScenario,
    root: &YamlPath,
    dcs: &[String],
    w: &mut World,
) -> (Option<usize>, Vec<Workload>) {
    let defaults_path = root.key("defaults").key("call");
    let defaults = policy::Keys::defaults(
        raw.defaults.as_ref().and_then(|d| d.call.as_ref()),
        &defaults_path,
    );
    services::services(r, raw, root, dcs, w);
    steps::steps(r, raw, root, &defaults, w);
    if callgraph::check_cycles(r, w) {
        callgraph::check_call_volume(r, w);
    }
    let gateway = workloads::gateway(r, raw, root, dcs, w);
    let workloads = workloads::workloads(r, raw, root, dcs, gateway, w);
    (gateway, workloads)
}

/// The duration and the warmup.
fn run_length(r: &mut Resolver, raw: &RawScenario, root: &YamlPath) -> (Time, Time) {
    let parsed = r.duration(&raw.duration.0, &root.key("duration"));
    let duration = parsed.unwrap_or(SECOND);
    let warmup = match &raw.warmup {
        Some(w) => r.duration(&w.0, &root.key("warmup")).unwrap_or(0),
        None => 0,
    };
    if duration == 0 {
        r.push(
            Problem::new(root.key("duration"), "the duration is zero")
                .expected("a positive duration"),
        );
    }
    if duration > limits::DURATION_H * HOUR {
        r.push(
            Problem::new(root.key("duration"), "the duration is too long")
                .expected(format!("at most {}h", limits::DURATION_H)),
        );
    }
    // Only against a duration that was read: no second error from a first.
    if parsed.is_some() && warmup >= duration && duration > 0 {
        r.push(
            Problem::new(
                root.key("warmup"),
                "the warmup is not shorter than the duration",
            )
            .expected("warmup < duration"),
        );
    }
    (duration, warmup)
}

fn check_scenario_name(r: &mut Resolver, name: &str, root: &YamlPath) {
    if name.trim().is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        let shown = escaped(name);
        r.push(
            Problem::new(
                root.key("name"),
                format!("'{shown}' is not a valid scenario name"),
            )
            .expected("1 to 100 characters, without control characters"),
        );
    }
}

fn slo(r: &mut Resolver, raw: &RawScenario, root: &YamlPath) -> Slo {
    let p = root.key("slo");
    let s = raw.slo.as_ref();
    let dur = |r: &mut Resolver, v: Option<&raw::Duration>, k: &str, d: Time| {
        v.and_then(|v| r.duration(&v.0, &p.key(k))).unwrap_or(d)
    };
    Slo {
        sync_p99: dur(
            r,
            s.and_then(|s| s.sync_p99.as_ref()),
            "sync_p99",
            200 * MILLISECOND,
        ),
        event_p99: dur(r, s.and_then(|s| s.event_p99.as_ref()), "event_p99", SECOND),
        availability: s
            .and_then(|s| s.availability.as_ref())
            .and_then(|a| {
                units::fraction(&a.0)
                    .map_err(|b| r.bad(&p.key("availability"), b))
                    .ok()
            })
            .unwrap_or(0.999),
    }
}

fn datacenters(r: &mut Resolver, raw: &RawScenario, root: &YamlPath) -> Vec<String> {
    let Some(list) = &raw.datacenters else {
        return vec!["dc1".to_string()];
    };
    let p = root.key("datacenters");
    if list.is_empty() {
        r.push(
            Problem::new(p.clone(), "the list is empty").expected("at least one data center name"),
        );
        return vec!["dc1".to_string()];
    }
    // Links are a matrix of data centers: bound the count before anything is built.
    if list.len() > limits::DATACENTERS {
        r.push(
            Problem::new(
                p.clone(),
                format!("{} data centers are too many", list.len()),
            )
            .expected(format!("at most {}", limits::DATACENTERS)),
        );
        return vec!["dc1".to_string()];
    }
    let mut seen = std::collections::HashSet::new();
    for (i, name) in list.iter().enumerate() {
        check_name(r, name, "data center", &p.index(i));
        if !seen.insert(name.as_str()) {
            r.push(Problem::new(
                p.index(i),
                format!("data center '{name}' is listed twice"),
            ));
        }
    }
    list.clone()
}

/// A name as a message shows it: escaped, so that terminal codes are shown,
/// not obeyed, and cut to 100 characters.
fn escaped(name: &str) -> String {
    name.chars()
        .take(100)
        .flat_map(char::escape_debug)
        .collect()
}

pub(super) fn check_name(r: &mut Resolver, name: &str, what: &str, path: &YamlPath) {
    // Dots separate the parts of `--set` paths and call keys; anything else
    // goes (the reports escape it).
    let ok = !name.is_empty()
        && name.chars().count() <= 100
        && name.trim() == name
        && !name.chars().any(|c| c == '.' || c.is_control());
    if !ok {
        let shown = escaped(name);
        r.push(
            Problem::new(
                path.clone(),
                format!("'{shown}' is not a valid {what} name"),
            )
            .expected(
                "1 to 100 characters, without dots, control characters \
                     or spaces at either end",
            ),
        );
    }
}
