//! Resolution of the services: placement, limits and the endpoints and
//! consumer handlers each registers (their steps are in [`super::steps`]).
//! Part of [`super::resolve`].

use indexmap::IndexMap;
use serde_json::Value;

use super::error::Problem;
use super::node::YamlPath;
use super::raw::{self, BrokerKind, LoadBalancer, Locality, RawScenario, RawService, Threading};
use super::resolve::{Resolver, check_name, limits};
use super::spec::*;
use super::units;
use super::{policy, topology};

/// What resolution builds up: services, endpoints, call sites and policies.
#[derive(Default)]
pub(super) struct World {
    pub(super) services: Vec<Service>,
    pub(super) endpoints: Vec<Endpoint>,
    pub(super) sites: Vec<CallSite>,
    /// Service name -> index; endpoint names per service -> endpoint index.
    pub(super) service_index: IndexMap<String, usize>,
    pub(super) endpoint_index: Vec<IndexMap<String, usize>>,
    /// Every call step (and parallel call): caller, callee, how often, YAML path.
    pub(super) call_paths: Vec<super::callgraph::CallEdge>,
    /// `Step::Branch` steps so far (the next one's id).
    pub(super) branches: usize,
    pub(super) policies: Vec<CallPolicy>,
    pub(super) topics: IndexMap<String, usize>,
    pub(super) broker_kind: Option<BrokerKind>,
    /// (service, consumer index in the raw service, handler endpoint).
    pub(super) handlers: Vec<(usize, usize, usize)>,
    pub(super) consumers: Vec<Consumer>,
    /// Message sizes of calls, publishes and workloads.
    pub(super) sizes: super::sizes::SizeTable,
}

/// Replicas per data center: `(data center, count)`; one in the first by default.
pub(super) fn placement(
    r: &mut Resolver,
    v: Option<&raw::Replicas>,
    dcs: &[String],
    path: &YamlPath,
) -> Vec<(usize, u32)> {
    let Some(v) = v else {
        return vec![(0, 1)];
    };
    let mut valid = true;
    let placed = match &v.0 {
        Value::Object(per_dc) => per_dc
            .iter()
            .filter_map(|(dc, n)| {
                let p = path.key(dc);
                let Some(n) = replica_count(r, n, &p) else {
                    valid = false;
                    return None;
                };
                topology::dc(r, dc, &p, dcs).map(|i| (i, n))
            })
            .collect(),
        other => replica_count(r, other, path)
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

fn replica_count(r: &mut Resolver, v: &Value, path: &YamlPath) -> Option<u32> {
    match v.as_u64() {
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
    }
}

pub(super) fn services(
    r: &mut Resolver,
    raw: &RawScenario,
    root: &YamlPath,
    dcs: &[String],
    w: &mut World,
) {
    let sp = root.key("services");
    if raw.services.is_empty() || raw.services.len() > limits::SERVICES {
        r.push(Problem::new(
            sp.clone(),
            "there must be 1 to 10000 services",
        ));
    }
    let has_gateway = raw.gateway.is_some();
    let mut workers: u64 = 0;
    for (name, s) in &raw.services {
        workers += service(r, name, s, &sp.key(name), dcs, has_gateway, w);
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

/// Adds one service with its endpoints and handlers (steps come later);
/// returns its workers at the most replicas it may have.
fn service(
    r: &mut Resolver,
    name: &str,
    s: &RawService,
    p: &YamlPath,
    dcs: &[String],
    has_gateway: bool,
    w: &mut World,
) -> u64 {
    check_name(r, name, "service", p);
    if name == "gateway" && has_gateway {
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
    let handoff = s
        .handoff
        .as_ref()
        .and_then(|d| r.dist(&d.0, &p.key("handoff")));
    let placement = placement(r, s.replicas.as_ref(), dcs, &p.key("replicas"));
    let concurrency = r.bounded(
        s.concurrency,
        1,
        1,
        limits::CONCURRENCY,
        &p.key("concurrency"),
    );
    let millicores = s.cores.as_ref().and_then(|c| {
        units::millicores(&c.0)
            .map_err(|b| r.bad(&p.key("cores"), b))
            .ok()
    });
    let queue = r.bounded(s.queue, 1000, 0, limits::QUEUE, &p.key("queue"));
    let replicas: u32 = placement.iter().map(|(_, n)| n).sum();
    let autoscale = topology::autoscale(r, s.autoscale.as_ref(), &p.key("autoscale"), replicas);
    let slots = autoscale
        .as_ref()
        .map_or(replicas, |a| a.max_replicas.max(replicas));
    let index = w.services.len();
    w.service_index.insert(name.to_string(), index);
    let eps = entries(r, s, p, index, w);
    w.services.push(Service {
        name: name.to_string(),
        placement,
        concurrency,
        millicores,
        queue,
        threading: s.threading.unwrap_or(Threading::Blocking),
        load_balancer: s.load_balancer.unwrap_or(LoadBalancer::RoundRobin),
        locality: s.locality.unwrap_or(Locality::PreferLocal),
        autoscale,
        outlier,
        max_queue_time,
        handoff,
        endpoints: eps.values().copied().collect(),
    });
    w.endpoint_index.push(eps);
    u64::from(slots) * u64::from(concurrency)
}

/// The service's endpoints, then one handler endpoint `topic@group` per consumer,
/// by name; their steps are empty until [`super::steps`].
fn entries(
    r: &mut Resolver,
    s: &RawService,
    p: &YamlPath,
    index: usize,
    w: &mut World,
) -> IndexMap<String, usize> {
    let mut eps = IndexMap::new();
    let add = |w: &mut World, eps: &mut IndexMap<String, usize>, name: String| {
        eps.insert(name.clone(), w.endpoints.len());
        w.endpoints.push(Endpoint {
            service: index,
            name,
            steps: Vec::new(),
        });
    };
    for ep in s.endpoints.iter().flat_map(|e| e.keys()) {
        check_name(r, ep, "endpoint", &p.key("endpoints").key(ep));
        add(w, &mut eps, ep.clone());
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
        add(w, &mut eps, handler);
    }
    eps
}
