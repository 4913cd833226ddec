//! Raw scenario -> validated [`Scenario`]: names become indices, units become
//! engine units, and every problem is collected (not just the first) with its
//! YAML path. Locations are attached by the caller, which owns the YAML tree.

use indexmap::IndexMap;
use serde_json::Value;

use super::dist;
use super::error::Problem;
use super::node::YamlPath;
use super::raw::BrokerKind;
use super::raw::{self, ArrivalKind, LoadBalancer, Locality, RawScenario, RawStep, Threading};
use super::spec::*;
use super::units::{self, Bad};
use super::{broker, policy, topology};
use crate::engine::time::{HOUR, MILLISECOND, SECOND, Time};

/// Sizes beyond these would exhaust memory or time; they are refused at load.
pub mod limits {
    pub const SERVICES: usize = 10_000;
    pub const REPLICAS: u32 = 100_000;
    pub const CONCURRENCY: u32 = 100_000;
    pub const WORKERS_TOTAL: u64 = 10_000_000;
    pub const QUEUE: u32 = 10_000_000;
    pub const FANOUT: u32 = 10_000;
    /// Calls one client request may cause, over the whole call tree.
    pub const CALLS_PER_REQUEST: f64 = 1_000_000.0;
    pub const STEPS: usize = 1_000;
    pub const WORKLOADS: usize = 10_000;
    pub const RATE_PER_S: f64 = 100_000_000.0;
    pub const DURATION_H: u64 = 10_000;
    pub const DATACENTERS: usize = 100;
}

pub(super) struct Resolver {
    problems: Vec<Problem>,
}

impl Resolver {
    pub(super) fn push(&mut self, p: Problem) {
        self.problems.push(p);
    }
    pub(super) fn bad(&mut self, path: &YamlPath, b: Bad) {
        self.push(Problem::new(path.clone(), b.message).expected(b.expected));
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
    let name = &raw.name;
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
    let slo = slo(r, raw, root);
    let datacenters = datacenters(r, raw, root);
    let (broker, topics) = broker::broker(r, raw, root, &datacenters);
    let within_dc = raw.network.as_ref().and_then(|n| {
        let p = root.key("network");
        n.within_dc
            .as_ref()
            .and_then(|d| r.dist(&d.0, &p.key("within_dc")))
    });
    let defaults_path = root.key("defaults").key("call");
    let defaults = policy::Keys::defaults(
        raw.defaults.as_ref().and_then(|d| d.call.as_ref()),
        &defaults_path,
    );
    let links = topology::links(r, raw, root, &datacenters);
    let discovery = topology::discovery(r, raw, root);
    let mut world = World {
        topics,
        broker_kind: broker.as_ref().map(|b| b.kind),
        ..World::default()
    };
    services(r, raw, root, &datacenters, &mut world);
    steps(r, raw, root, &defaults, &mut world);
    if check_cycles(r, &world, root) {
        check_call_volume(r, &world);
    }
    let gateway = gateway(r, raw, root, &datacenters, &mut world);
    let workloads = workloads(r, raw, root, &datacenters, gateway, &mut world);
    let broker_nodes = broker
        .as_ref()
        .map(|b| b.placement.clone())
        .unwrap_or_default();
    check_links(
        r,
        root,
        &datacenters,
        &links,
        &world.services,
        &workloads,
        &broker_nodes,
    );
    let targets = topology::Targets {
        services: &world.service_index,
        replicas: world.services.iter().map(Service::max_replicas).collect(),
        dcs: &datacenters,
        broker_nodes: broker.as_ref().map_or(0, |b| b.nodes()),
    };
    let failures = topology::failures(r, raw, root, &targets);
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
        warnings: Vec::new(),
    }
}

#[derive(Default)]
struct World {
    services: Vec<Service>,
    endpoints: Vec<Endpoint>,
    sites: Vec<CallSite>,
    /// Service name -> index; endpoint names per service -> endpoint index.
    service_index: IndexMap<String, usize>,
    endpoint_index: Vec<IndexMap<String, usize>>,
    /// YAML path of each call, by (endpoint, step, call) for cycle reports.
    call_paths: Vec<(usize, usize, YamlPath)>,
    policies: Vec<CallPolicy>,
    topics: IndexMap<String, usize>,
    broker_kind: Option<BrokerKind>,
    /// (service, consumer index in the raw service, handler endpoint).
    handlers: Vec<(usize, usize, usize)>,
    consumers: Vec<Consumer>,
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

pub(super) fn placement(
    r: &mut Resolver,
    v: Option<&raw::Replicas>,
    dcs: &[String],
    path: &YamlPath,
) -> Vec<(usize, u32)> {
    let Some(v) = v else {
        return vec![(0, 1)];
    };
    let count = |r: &mut Resolver, v: &Value, path: &YamlPath| match v.as_u64() {
        Some(n) if n <= u64::from(limits::REPLICAS) => Some(n as u32),
        _ => {
            r.push(
                Problem::new(
                    path.clone(),
                    format!("{} is not a replica count", units::shown(v)),
                )
                .expected(format!("a whole number from 0 to {}", limits::REPLICAS)),
            );
            None
        }
    };
    let mut valid = true;
    let placed = match &v.0 {
        Value::Object(per_dc) => per_dc
            .iter()
            .filter_map(|(dc, n)| {
                let p = path.key(dc);
                let Some(n) = count(r, n, &p) else {
                    valid = false;
                    return None;
                };
                match dcs.iter().position(|d| d == dc) {
                    Some(i) => Some((i, n)),
                    None => {
                        r.push(
                            Problem::new(p, format!("unknown data center '{dc}'"))
                                .expected(format!("one of {}", dcs.join(", ")))
                                .suggest(dc, dcs.iter().map(String::as_str)),
                        );
                        None
                    }
                }
            })
            .collect(),
        other => count(r, other, path)
            .map(|n| vec![(0, n)])
            .unwrap_or_else(|| {
                valid = false;
                Vec::new()
            }),
    };
    let total: u64 = placed.iter().map(|(_, n)| u64::from(*n)).sum();
    if total > u64::from(limits::REPLICAS) {
        r.push(
            Problem::new(
                path.clone(),
                format!("{total} replicas in all is more than this tool simulates"),
            )
            .expected(format!("at most {} replicas per service", limits::REPLICAS)),
        );
        return vec![(0, 1)];
    }
    if total == 0 {
        if !valid {
            return vec![(0, 1)];
        }
        r.push(Problem::new(path.clone(), "no replica at all").expected("at least one replica"));
        return vec![(0, 1)];
    }
    placed
}

fn services(r: &mut Resolver, raw: &RawScenario, root: &YamlPath, dcs: &[String], w: &mut World) {
    let sp = root.key("services");
    if raw.services.is_empty() || raw.services.len() > limits::SERVICES {
        r.push(Problem::new(
            sp.clone(),
            "there must be 1 to 10000 services",
        ));
    }
    let mut workers: u64 = 0;
    for (name, s) in &raw.services {
        let p = sp.key(name);
        check_name(r, name, "service", &p);
        if name == "gateway" && raw.gateway.is_some() {
            r.push(Problem::new(
                p.clone(),
                "'gateway' names the gateway block; a service cannot have that name too",
            ));
        }
        let outlier = policy::outlier(r, s.outlier_detection.as_ref(), &p.key("outlier_detection"));
        let max_queue_time = s
            .max_queue_time
            .as_ref()
            .and_then(|t| r.duration(&t.0, &p.key("max_queue_time")));
        let placement = placement(r, s.replicas.as_ref(), dcs, &p.key("replicas"));
        let concurrency = r.bounded(
            s.concurrency,
            1,
            1,
            limits::CONCURRENCY,
            &p.key("concurrency"),
        );
        let queue = r.bounded(s.queue, 1000, 0, limits::QUEUE, &p.key("queue"));
        let replicas: u32 = placement.iter().map(|(_, n)| n).sum();
        let autoscale = topology::autoscale(r, s.autoscale.as_ref(), &p.key("autoscale"), replicas);
        let slots = autoscale
            .as_ref()
            .map_or(replicas, |a| a.max_replicas.max(replicas));
        workers += u64::from(slots) * u64::from(concurrency);
        let index = w.services.len();
        w.service_index.insert(name.clone(), index);
        let mut eps = IndexMap::new();
        for ep in s.endpoints.iter().flat_map(|e| e.keys()) {
            check_name(r, ep, "endpoint", &p.key("endpoints").key(ep));
            eps.insert(ep.clone(), w.endpoints.len());
            w.endpoints.push(Endpoint {
                service: index,
                name: ep.clone(),
                steps: Vec::new(),
            });
        }
        for (ci, c) in s.consumes.iter().flatten().enumerate() {
            let handler = format!("{}@{}", c.topic, c.group);
            if eps.contains_key(&handler) {
                r.push(Problem::new(
                    p.key("consumes").index(ci),
                    format!(
                        "topic '{}' is consumed twice in group '{}'",
                        c.topic, c.group
                    ),
                ));
                continue;
            }
            w.handlers.push((index, ci, w.endpoints.len()));
            eps.insert(handler.clone(), w.endpoints.len());
            w.endpoints.push(Endpoint {
                service: index,
                name: handler,
                steps: Vec::new(),
            });
        }
        w.services.push(Service {
            name: name.clone(),
            placement,
            concurrency,
            queue,
            threading: s.threading.unwrap_or(Threading::Blocking),
            load_balancer: s.load_balancer.unwrap_or(LoadBalancer::RoundRobin),
            locality: s.locality.unwrap_or(Locality::PreferLocal),
            autoscale,
            outlier,
            max_queue_time,
            endpoints: eps.values().copied().collect(),
        });
        w.endpoint_index.push(eps);
    }
    if workers > limits::WORKERS_TOTAL {
        r.push(
            Problem::new(
                sp,
                format!("{workers} workers in all (replicas × concurrency) would exhaust memory"),
            )
            .expected(format!("at most {} workers", limits::WORKERS_TOTAL)),
        );
    }
}

/// Resolves `service.endpoint` to an endpoint index, with did-you-mean.
fn target(r: &mut Resolver, w: &World, text: &str, path: &YamlPath) -> Option<usize> {
    let Some((svc, ep)) = text.split_once('.') else {
        r.push(
            Problem::new(path.clone(), format!("'{text}' does not name an endpoint"))
                .expected("service.endpoint, like inventory.reserve"),
        );
        return None;
    };
    let Some(&si) = w.service_index.get(svc) else {
        r.push(
            Problem::new(path.clone(), format!("unknown service '{svc}'"))
                .expected(format!(
                    "one of the services: {}",
                    w.service_index
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .suggest(svc, w.service_index.keys().map(String::as_str)),
        );
        return None;
    };
    let eps = &w.endpoint_index[si];
    match eps.get(ep) {
        Some(&e) => Some(e),
        None => {
            let names: Vec<&str> = eps.keys().map(String::as_str).collect();
            let expected = if names.is_empty() {
                format!("service '{svc}' has no endpoints")
            } else {
                format!("one of {svc}'s endpoints: {}", names.join(", "))
            };
            r.push(
                Problem::new(
                    path.clone(),
                    format!("unknown endpoint '{ep}' of service '{svc}'"),
                )
                .expected(expected)
                .suggest(ep, names),
            );
            None
        }
    }
}

fn site(w: &mut World, caller: usize, target: usize) -> usize {
    if let Some(i) = w
        .sites
        .iter()
        .position(|s| s.caller == caller && s.target == target)
    {
        return i;
    }
    let e = &w.endpoints[target];
    let key = format!(
        "{}->{}.{}",
        w.services[caller].name, w.services[e.service].name, e.name
    );
    let load_balancer = w.services[e.service].load_balancer;
    w.sites.push(CallSite {
        caller,
        target,
        key,
        load_balancer,
    });
    w.sites.len() - 1
}

fn steps(
    r: &mut Resolver,
    raw: &RawScenario,
    root: &YamlPath,
    defaults: &policy::Keys,
    w: &mut World,
) {
    for (si, (sname, s)) in raw.services.iter().enumerate() {
        for (ename, e) in s.endpoints.iter().flatten() {
            let p = root
                .key("services")
                .key(sname)
                .key("endpoints")
                .key(ename)
                .key("steps");
            let ei = w.endpoint_index[si][ename];
            if e.steps.len() > limits::STEPS {
                r.push(
                    Problem::new(p.clone(), format!("{} steps is too many", e.steps.len()))
                        .expected(format!("at most {}", limits::STEPS)),
                );
                continue;
            }
            let mut steps = Vec::new();
            for (i, step) in e.steps.iter().enumerate() {
                if let Some(st) = one_step(r, w, step, &p.index(i), si, ei, defaults, true) {
                    steps.push(st);
                }
            }
            w.endpoints[ei].steps = steps;
        }
    }
    for (svc, ci, ep) in w.handlers.clone() {
        let (sname, s) = raw.services.get_index(svc).expect("a service of the file");
        let c = &s.consumes.as_ref().expect("consumes")[ci];
        let p = root.key("services").key(sname).key("consumes").index(ci);
        let has_broker = w.broker_kind.is_some();
        let topic = broker::topic(r, &w.topics, &c.topic, &p.key("topic"), has_broker);
        if c.steps.len() > limits::STEPS {
            r.push(
                Problem::new(p.key("steps"), "too many steps")
                    .expected(format!("at most {}", limits::STEPS)),
            );
            continue;
        }
        let steps: Vec<Step> = c
            .steps
            .iter()
            .enumerate()
            .filter_map(|(i, st)| {
                one_step(r, w, st, &p.key("steps").index(i), svc, ep, defaults, true)
            })
            .collect();
        w.endpoints[ep].steps = steps;
        let retry = c.retry.as_ref().and_then(|rt| {
            let keys = policy::Keys {
                timeout: None,
                deadline: None,
                retry: Some((rt, p.key("retry"))),
                breaker: None,
                hedge: None,
                propagate_deadline: None,
            };
            policy::resolve(r, &keys).retry
        });
        if let (Some(topic), Some(kind)) = (topic, w.broker_kind) {
            if w.consumers
                .iter()
                .any(|x| x.topic == topic && x.group == c.group && x.service != svc)
            {
                r.push(
                    Problem::new(
                        p.key("group"),
                        format!(
                            "group '{}' of topic '{}' is already consumed by another service",
                            c.group, c.topic
                        ),
                    )
                    .expected("a group belongs to one service; use another group name"),
                );
            }
            let consumer = broker::consumer(r, c, &p, svc, topic, ep, retry, kind);
            w.consumers.push(consumer);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn one_step(
    r: &mut Resolver,
    w: &mut World,
    s: &RawStep,
    p: &YamlPath,
    svc: usize,
    ep: usize,
    defaults: &policy::Keys,
    top: bool,
) -> Option<Step> {
    let kinds = [
        s.work.is_some(),
        s.call.is_some(),
        s.parallel.is_some(),
        s.publish.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        r.push(
            Problem::new(
                p.clone(),
                "a step must be exactly one of work, call, parallel, publish",
            )
            .expected(
                "{work: 5ms}, {call: service.endpoint}, {parallel: [...]} or {publish: topic}",
            ),
        );
        return None;
    }
    let call_keys = [
        ("timeout", s.timeout.is_some()),
        ("deadline", s.deadline.is_some()),
        ("fanout", s.fanout.is_some()),
        ("hedge", s.hedge.is_some()),
        ("retry", s.retry.is_some()),
        ("circuit_breaker", s.circuit_breaker.is_some()),
        ("propagate_deadline", s.propagate_deadline.is_some()),
    ];
    if s.call.is_none() {
        for (key, _) in call_keys.iter().filter(|(_, present)| *present) {
            r.push(
                Problem::new(p.key(key), format!("'{key}' belongs to a call step"))
                    .expected("it next to a call: {call: service.endpoint, ...}"),
            );
        }
    }
    if let Some(name) = &s.publish {
        if !top {
            r.push(
                Problem::new(p.key("publish"), "a parallel branch must be a call")
                    .expected("{call: service.endpoint}"),
            );
        }
        let has_broker = w.broker_kind.is_some();
        return broker::topic(r, &w.topics, name, &p.key("publish"), has_broker)
            .map(|topic| Step::Publish { topic });
    }
    if let Some(d) = &s.work {
        if !top {
            r.push(
                Problem::new(p.key("work"), "a parallel branch must be a call")
                    .expected("{call: service.endpoint}"),
            );
        }
        return r.dist(&d.0, &p.key("work")).map(Step::Work);
    }
    if let Some(branches) = &s.parallel {
        if !top || branches.is_empty() {
            r.push(Problem::new(
                p.key("parallel"),
                "parallel holds a non-empty list of calls and cannot be nested",
            ));
            return None;
        }
        let mut calls = Vec::new();
        for (i, b) in branches.iter().enumerate() {
            if let Some(Step::Calls(mut c)) = one_step(
                r,
                w,
                b,
                &p.key("parallel").index(i),
                svc,
                ep,
                defaults,
                false,
            ) {
                calls.append(&mut c);
            }
        }
        return Some(Step::Calls(calls));
    }
    let text = s.call.as_ref()?;
    let target = target(r, w, text, &p.key("call"))?;
    let policy = policy::resolve(r, &policy::Keys::step(s, p, defaults));
    w.policies.push(policy);
    let fanout = r.bounded(s.fanout, 1, 1, limits::FANOUT, &p.key("fanout"));
    w.call_paths.push((ep, target, p.key("call")));
    let site = site(w, svc, target);
    Some(Step::Calls(vec![CallSpec {
        site,
        target,
        policy: w.policies.len() - 1,
        fanout,
    }]))
}

/// Refuses call trees whose fan-outs multiply past what memory can hold:
/// calls(e) = Σ over e's call steps of fanout × (1 + calls(target)).
fn check_call_volume(r: &mut Resolver, w: &World) {
    let mut memo: Vec<Option<f64>> = vec![None; w.endpoints.len()];
    fn calls(e: usize, w: &World, memo: &mut Vec<Option<f64>>) -> f64 {
        if let Some(v) = memo[e] {
            return v;
        }
        let mut total = 0.0;
        for step in &w.endpoints[e].steps {
            if let Step::Calls(specs) = step {
                for c in specs {
                    total += f64::from(c.fanout) * (1.0 + calls(c.target, w, memo));
                }
            }
        }
        memo[e] = Some(total);
        total
    }
    for (e, _, path) in &w.call_paths {
        let n = calls(*e, w, &mut memo);
        if n > limits::CALLS_PER_REQUEST {
            r.push(Problem::new(path.clone(), format!("one request to {} causes {n:.0} calls in all (fan-outs multiply down the chain)", endpoint_name(w, *e))).expected(format!("at most {} calls per request", limits::CALLS_PER_REQUEST)));
            return;
        }
    }
}

/// Reports every call cycle once, at the call that closes it; true when there is none.
fn check_cycles(r: &mut Resolver, w: &World, _root: &YamlPath) -> bool {
    let before = r.problems.len();
    let n = w.endpoints.len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (from, to, _) in &w.call_paths {
        edges[*from].push(*to);
    }
    // 0 = unseen, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; n];
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => {
                        let pos = stack.iter().position(|(e, _)| *e == to).unwrap_or(0);
                        let mut names: Vec<String> = stack[pos..]
                            .iter()
                            .map(|(e, _)| endpoint_name(w, *e))
                            .collect();
                        names.push(endpoint_name(w, to));
                        let path = w
                            .call_paths
                            .iter()
                            .find(|(f, t, _)| *f == node && *t == to)
                            .map(|(_, _, p)| p.clone())
                            .unwrap_or_default();
                        r.push(Problem::new(path, format!("call cycle: {}", names.join(" -> "))).expected("calls that never lead back to the caller").help("a synchronous call cycle never finishes; break it or make one hop an event"));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    r.problems.len() == before
}

fn endpoint_name(w: &World, e: usize) -> String {
    format!(
        "{}.{}",
        w.services[w.endpoints[e].service].name, w.endpoints[e].name
    )
}

fn gateway(
    r: &mut Resolver,
    raw: &RawScenario,
    root: &YamlPath,
    dcs: &[String],
    w: &mut World,
) -> Option<usize> {
    let g = raw.gateway.as_ref()?;
    let p = root.key("gateway");
    let placement = placement(r, g.replicas.as_ref(), dcs, &p.key("replicas"));
    let concurrency = r.bounded(
        g.concurrency,
        1024,
        1,
        limits::CONCURRENCY,
        &p.key("concurrency"),
    );
    let queue = r.bounded(g.queue, 1000, 0, limits::QUEUE, &p.key("queue"));
    let overhead = g
        .overhead
        .as_ref()
        .and_then(|d| r.dist(&d.0, &p.key("overhead")));
    let timeout = g
        .timeout
        .as_ref()
        .and_then(|t| r.duration(&t.0, &p.key("timeout")));
    let load_balancer = g.load_balancer.unwrap_or(LoadBalancer::RoundRobin);
    let index = w.services.len();
    let mut eps = IndexMap::new();
    // One route per distinct workload target, named after it.
    for wl in &raw.workload {
        let Some((svc, ep)) = wl.target.split_once('.') else {
            continue;
        };
        let Some(target) = w
            .service_index
            .get(svc)
            .and_then(|&s| w.endpoint_index[s].get(ep).copied())
        else {
            continue;
        };
        if eps.contains_key(&wl.target) {
            continue;
        }
        let site = site_for_gateway(w, index, target, load_balancer);
        let mut steps: Vec<Step> = overhead.iter().cloned().map(Step::Work).collect();
        w.policies.push(CallPolicy {
            timeout,
            ..CallPolicy::default()
        });
        steps.push(Step::Calls(vec![CallSpec {
            site,
            target,
            policy: w.policies.len() - 1,
            fanout: 1,
        }]));
        eps.insert(wl.target.clone(), w.endpoints.len());
        w.endpoints.push(Endpoint {
            service: index,
            name: wl.target.clone(),
            steps,
        });
    }
    w.services.push(Service {
        name: "gateway".into(),
        placement,
        concurrency,
        queue,
        threading: Threading::Blocking,
        load_balancer,
        locality: Locality::PreferLocal,
        autoscale: None,
        outlier: None,
        max_queue_time: None,
        endpoints: eps.values().copied().collect(),
    });
    w.endpoint_index.push(eps);
    w.service_index.insert("gateway".into(), index);
    Some(index)
}

fn site_for_gateway(
    w: &mut World,
    gateway: usize,
    target: usize,
    load_balancer: LoadBalancer,
) -> usize {
    let e = &w.endpoints[target];
    let key = format!("gateway->{}.{}", w.services[e.service].name, e.name);
    w.sites.push(CallSite {
        caller: gateway,
        target,
        key,
        load_balancer,
    });
    w.sites.len() - 1
}

fn workloads(
    r: &mut Resolver,
    raw: &RawScenario,
    root: &YamlPath,
    dcs: &[String],
    gateway: Option<usize>,
    w: &mut World,
) -> Vec<Workload> {
    let wp = root.key("workload");
    if raw.workload.is_empty() || raw.workload.len() > limits::WORKLOADS {
        r.push(
            Problem::new(wp.clone(), "there must be 1 to 10000 workloads")
                .expected("a list of {name, target, rate}"),
        );
    }
    let mut out = Vec::new();
    for (i, wl) in raw.workload.iter().enumerate() {
        let p = wp.index(i);
        check_name(r, &wl.name, "workload", &p.key("name"));
        if raw.workload[..i].iter().any(|o| o.name == wl.name) {
            r.push(Problem::new(
                p.key("name"),
                format!("workload '{}' is defined twice", wl.name),
            ));
        }
        let keys = broker::keys(r, wl.keys.as_ref(), &p.key("keys"));
        let target = target(r, w, &wl.target, &p.key("target"));
        let rate = r.rate(&wl.rate.0, &p.key("rate"));
        let arrival = rate.and_then(|rate| arrival(r, wl, rate, &p));
        let from = match &wl.from {
            None => 0,
            Some(dc) => dcs.iter().position(|d| d == dc).unwrap_or_else(|| {
                r.push(
                    Problem::new(p.key("from"), format!("unknown data center '{dc}'"))
                        .expected(format!("one of {}", dcs.join(", ")))
                        .suggest(dc, dcs.iter().map(String::as_str)),
                );
                0
            }),
        };
        let timeout = wl
            .timeout
            .as_ref()
            .and_then(|t| r.duration(&t.0, &p.key("timeout")));
        let (Some(target), Some(arrival)) = (target, arrival) else {
            continue;
        };
        let entry = match gateway {
            Some(g) => w.endpoint_index[g][&wl.target],
            None => target,
        };
        out.push(Workload {
            name: wl.name.clone(),
            entry,
            target,
            arrival,
            from,
            timeout,
            keys,
        });
    }
    out
}

fn arrival(r: &mut Resolver, wl: &raw::RawWorkload, rate: f64, p: &YamlPath) -> Option<Arrival> {
    let kind = wl.arrival.unwrap_or(ArrivalKind::Poisson);
    let wants = |k: ArrivalKind, present: bool, key: &str, r: &mut Resolver| {
        if present && kind != k {
            r.push(
                Problem::new(
                    p.key(key),
                    format!("'{key}' is set but arrival is not {key}"),
                )
                .expected(format!("arrival: {key}")),
            );
        }
        if !present && kind == k {
            r.push(
                Problem::new(
                    p.key("arrival"),
                    format!("arrival {key} needs a '{key}' block"),
                )
                .help(help_for(key)),
            );
        }
    };
    wants(ArrivalKind::Ramp, wl.ramp.is_some(), "ramp", r);
    wants(ArrivalKind::Bursty, wl.bursty.is_some(), "bursty", r);
    wants(ArrivalKind::Schedule, wl.schedule.is_some(), "schedule", r);
    let profile = match kind {
        ArrivalKind::Poisson | ArrivalKind::Constant => RateProfile::Fixed(rate),
        ArrivalKind::Ramp => {
            let rp = wl.ramp.as_ref()?;
            let q = p.key("ramp");
            RateProfile::Ramp {
                from: rate,
                to: r.rate(&rp.to.0, &q.key("to"))?,
                over: r.duration(&rp.over.0, &q.key("over"))?,
                start: rp
                    .start
                    .as_ref()
                    .map_or(Some(0), |s| r.duration(&s.0, &q.key("start")))?,
            }
        }
        ArrivalKind::Bursty => {
            let b = wl.bursty.as_ref()?;
            let q = p.key("bursty");
            let (on, off) = (
                r.duration(&b.on.0, &q.key("on"))?,
                r.duration(&b.off.0, &q.key("off"))?,
            );
            if on + off == 0 {
                r.push(
                    Problem::new(q.clone(), "on and off are both zero")
                        .expected("a positive on or off period"),
                );
                return None;
            }
            RateProfile::Bursty {
                base: rate,
                burst: r.rate(&b.rate.0, &q.key("rate"))?,
                on,
                off,
            }
        }
        ArrivalKind::Schedule => {
            let list = wl.schedule.as_ref()?;
            let q = p.key("schedule");
            let mut phases = Vec::new();
            for (i, ph) in list.iter().enumerate() {
                let at = r.duration(&ph.at.0, &q.index(i).key("at"))?;
                if phases.last().is_some_and(|(prev, _)| at <= *prev) {
                    r.push(
                        Problem::new(q.index(i).key("at"), "schedule times must increase")
                            .expected("entries sorted by 'at'"),
                    );
                }
                phases.push((at, r.rate(&ph.rate.0, &q.index(i).key("rate"))?));
            }
            RateProfile::Schedule {
                initial: rate,
                phases,
            }
        }
    };
    if profile.max_rate() <= 0.0 {
        r.push(
            Problem::new(p.key("rate"), "the rate is zero at all times")
                .expected("a positive rate"),
        );
        return None;
    }
    Some(Arrival {
        poisson: kind != ArrivalKind::Constant,
        profile,
    })
}

fn help_for(key: &str) -> &'static str {
    match key {
        "ramp" => "add ramp: {to: 10000/s, over: 60s} (from the workload's rate)",
        "bursty" => {
            "add bursty: {rate: 3000/s, on: 1s, off: 4s} (the workload's rate between bursts)"
        }
        _ => "add schedule: [{at: 10s, rate: 300/s}] (the workload's rate before the first entry)",
    }
}

/// Every pair of data centers that both hold something (replicas or clients)
/// needs a link: a missing one would silently make the pair as close as one rack.
fn check_links(
    r: &mut Resolver,
    root: &YamlPath,
    dcs: &[String],
    links: &[Option<crate::scenario::spec::Link>],
    services: &[Service],
    workloads: &[Workload],
    broker_nodes: &[(usize, u32)],
) {
    let n = dcs.len();
    let mut used = vec![false; n];
    for &(dc, count) in broker_nodes {
        used[dc] |= count > 0;
    }
    for s in services {
        for &(dc, count) in &s.placement {
            used[dc] |= count > 0;
        }
    }
    for w in workloads {
        used[w.from] = true;
    }
    for a in 0..n {
        for b in a + 1..n {
            if used[a] && used[b] && links[a * n + b].is_none() {
                r.push(Problem::new(root.key("datacenters"), format!("no network link between data centers '{}' and '{}', which both hold replicas, broker nodes or clients", dcs[a], dcs[b])).expected(format!("a link: {{between: [{}, {}], latency: 30ms}}", dcs[a], dcs[b])));
            }
        }
    }
}
