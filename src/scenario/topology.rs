//! Resolution of what surrounds the services: links between data centers,
//! discovery, autoscaling, and the check that occupied data centers are linked. Part of [`super::resolve`].

use super::error::Problem;
use super::node::YamlPath;
use super::raw::{self, RawScenario};
use super::resolve::Resolver;
use super::spec::{Autoscale, Discovery, Link, Service, Workload};
use crate::engine::time::{MINUTE, SECOND, Time};

/// `links[a * n + b]` for every pair of distinct data centers that has a link.
pub(super) fn links(
    r: &mut Resolver,
    raw: &RawScenario,
    root: &YamlPath,
    dcs: &[String],
) -> Vec<Option<Link>> {
    let n = dcs.len();
    let mut out: Vec<Option<Link>> = vec![None; n * n];
    let Some(list) = raw.network.as_ref().and_then(|n| n.links.as_ref()) else {
        return out;
    };
    let lp = root.key("network").key("links");
    for (i, l) in list.iter().enumerate() {
        let p = lp.index(i);
        let Some((a, b)) = dc_pair(r, &l.between, &p.key("between"), dcs) else {
            continue;
        };
        let latency = r.dist(&l.latency.0, &p.key("latency"));
        let loss = l
            .loss
            .as_ref()
            .map_or(Some(0.0), |f| r.fraction(&f.0, &p.key("loss")));
        let bandwidth = super::sizes::bandwidth(r, l.bandwidth.as_ref(), &p.key("bandwidth"));
        let (Some(latency), Some(loss)) = (latency, loss) else {
            continue;
        };
        if out[a * n + b].is_some() {
            r.push(Problem::new(
                p.key("between"),
                format!("the link {}/{} is defined twice", dcs[a], dcs[b]),
            ));
        }
        let link = Link {
            latency,
            loss,
            bandwidth,
        };
        out[a * n + b] = Some(link.clone());
        out[b * n + a] = Some(link);
    }
    out
}

/// Two distinct, known data centers.
pub(super) fn dc_pair(
    r: &mut Resolver,
    names: &[String],
    path: &YamlPath,
    dcs: &[String],
) -> Option<(usize, usize)> {
    dc_pair_or_same(r, names, path, dcs, false)
}

/// Two known data centers; the same one twice only when `same` (extra latency inside one).
pub(super) fn dc_pair_or_same(
    r: &mut Resolver,
    names: &[String],
    path: &YamlPath,
    dcs: &[String],
    same: bool,
) -> Option<(usize, usize)> {
    if names.len() != 2 || (names[0] == names[1] && !same) {
        r.push(
            Problem::new(path.clone(), "expected two different data centers")
                .expected("[us-east, eu-west]"),
        );
        return None;
    }
    let a = dc(r, &names[0], &path.index(0), dcs)?;
    let b = dc(r, &names[1], &path.index(1), dcs)?;
    Some((a, b))
}

pub(super) fn dc(r: &mut Resolver, name: &str, path: &YamlPath, dcs: &[String]) -> Option<usize> {
    let found = dcs.iter().position(|d| d == name);
    if found.is_none() {
        r.push(
            Problem::new(path.clone(), format!("unknown data center '{name}'"))
                .expected(format!("one of {}", dcs.join(", ")))
                .suggest(name, dcs.iter().map(String::as_str)),
        );
    }
    found
}

pub(super) fn discovery(r: &mut Resolver, raw: &RawScenario, root: &YamlPath) -> Option<Discovery> {
    let d = raw.discovery.as_ref()?;
    let p = root.key("discovery");
    let refresh_interval = opt_duration(
        r,
        &d.refresh_interval,
        &p.key("refresh_interval"),
        30 * SECOND,
    );
    let health_check_interval = opt_duration(
        r,
        &d.health_check_interval,
        &p.key("health_check_interval"),
        10 * SECOND,
    );
    let failures_before_critical = r.bounded(
        d.failures_before_critical,
        3,
        1,
        1000,
        &p.key("failures_before_critical"),
    );
    for (t, k) in [
        (refresh_interval, "refresh_interval"),
        (health_check_interval, "health_check_interval"),
    ] {
        if t == 0 {
            r.push(
                Problem::new(p.key(k), "must be greater than zero").expected("a positive duration"),
            );
        }
    }
    Some(Discovery {
        refresh_interval: refresh_interval.max(1),
        health_check_interval: health_check_interval.max(1),
        failures_before_critical,
    })
}

fn opt_duration(
    r: &mut Resolver,
    v: &Option<raw::Duration>,
    path: &YamlPath,
    default: Time,
) -> Time {
    v.as_ref()
        .map_or(Some(default), |d| r.duration(&d.0, path))
        .unwrap_or(default)
}

pub(super) fn autoscale(
    r: &mut Resolver,
    a: Option<&raw::RawAutoscale>,
    p: &YamlPath,
    start: u32,
) -> Option<Autoscale> {
    let a = a?;
    let max = super::resolve::limits::REPLICAS;
    let min_replicas = r.bounded(Some(a.min_replicas), 1, 1, max, &p.key("min_replicas"));
    let max_replicas = r.bounded(Some(a.max_replicas), 1, 1, max, &p.key("max_replicas"));
    if max_replicas < min_replicas {
        r.push(
            Problem::new(p.key("max_replicas"), "max_replicas is below min_replicas")
                .expected("min_replicas ≤ max_replicas"),
        );
    }
    if start < min_replicas || start > max_replicas {
        r.push(
            Problem::new(
                p.key("min_replicas"),
                format!(
                    "the service starts with {start} replicas, outside [min_replicas, max_replicas]"
                ),
            )
            .expected("replicas between min_replicas and max_replicas"),
        );
    }
    let target = r.fraction(&a.target_utilization.0, &p.key("target_utilization"))?;
    if target <= 0.0 {
        r.push(
            Problem::new(
                p.key("target_utilization"),
                "the target utilisation is zero",
            )
            .expected("a share above 0%, like 70%"),
        );
        return None;
    }
    let sync_period = opt_duration(r, &a.sync_period, &p.key("sync_period"), 15 * SECOND);
    if sync_period == 0 {
        r.push(
            Problem::new(p.key("sync_period"), "must be greater than zero")
                .expected("a positive duration"),
        );
    }
    Some(Autoscale {
        min_replicas,
        max_replicas,
        target_utilization: target,
        sync_period: sync_period.max(1),
        scale_down_stabilization: opt_duration(
            r,
            &a.scale_down_stabilization,
            &p.key("scale_down_stabilization"),
            5 * MINUTE,
        ),
        startup: opt_duration(r, &a.startup, &p.key("startup"), 0),
    })
}

/// Every pair of data centers that both hold something (replicas or clients)
/// needs a link: a missing one would silently make the pair as close as one rack.
pub(super) fn check_links(
    r: &mut Resolver,
    root: &YamlPath,
    dcs: &[String],
    links: &[Option<Link>],
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
