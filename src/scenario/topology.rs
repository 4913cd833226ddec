//! Resolution of what surrounds the services: links between data centers,
//! discovery, autoscaling and injected failures. Part of [`super::resolve`].

use indexmap::IndexMap;

use super::error::Problem;
use super::node::YamlPath;
use super::raw::{self, RawFailure, RawScenario};
use super::resolve::Resolver;
use super::spec::{Autoscale, Discovery, Failure, FailureKind, Link, When};
use super::units;
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
        let (Some(latency), Some(loss)) = (latency, loss) else {
            continue;
        };
        if out[a * n + b].is_some() {
            r.push(Problem::new(
                p.key("between"),
                format!("the link {}/{} is defined twice", dcs[a], dcs[b]),
            ));
        }
        let link = Link { latency, loss };
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
fn dc_pair_or_same(
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

/// What a failure may name: services (and the gateway) with their replica counts.
pub(super) struct Targets<'a> {
    pub services: &'a IndexMap<String, usize>,
    pub replicas: Vec<u32>,
    pub dcs: &'a [String],
    /// Broker nodes (0 without a broker).
    pub broker_nodes: u32,
}

pub(super) fn failures(
    r: &mut Resolver,
    raw: &RawScenario,
    root: &YamlPath,
    t: &Targets,
) -> Vec<Failure> {
    let fp = root.key("failures");
    let list = raw.failures.as_deref().unwrap_or_default();
    if list.len() > 10_000 {
        r.push(Problem::new(fp.clone(), "more than 10000 failures").expected("at most 10000"));
        return Vec::new();
    }
    list.iter()
        .enumerate()
        .filter_map(|(i, f)| failure(r, f, &fp.index(i), t))
        .collect()
}

const KINDS: [&str; 8] = [
    "crash",
    "random",
    "slow",
    "errors",
    "latency",
    "partition",
    "datacenter_down",
    "broker_node",
];

fn failure(r: &mut Resolver, f: &RawFailure, p: &YamlPath, t: &Targets) -> Option<Failure> {
    let present = [
        f.crash.is_some(),
        f.random.is_some(),
        f.slow.is_some(),
        f.errors.is_some(),
        f.latency.is_some(),
        f.partition.is_some(),
        f.datacenter_down.is_some(),
        f.broker_node.is_some(),
    ];
    let kinds: Vec<&str> = KINDS
        .iter()
        .zip(present)
        .filter(|(_, p)| *p)
        .map(|(k, _)| *k)
        .collect();
    if kinds.len() != 1 {
        r.push(
            Problem::new(
                p.clone(),
                format!(
                    "a failure needs exactly one kind; found {}",
                    if kinds.is_empty() {
                        "none".into()
                    } else {
                        kinds.join(", ")
                    }
                ),
            )
            .expected(format!("one of {}", KINDS.join(", "))),
        );
        return None;
    }
    let kind = kinds[0];
    check_extras(r, f, p, kind);
    let when = when(r, f, p, kind == "random")?;
    let service = |r: &mut Resolver, name: &str, key: &str| {
        let found = t.services.get(name).copied();
        if found.is_none() {
            r.push(
                Problem::new(p.key(key), format!("unknown service '{name}'"))
                    .expected(format!(
                        "one of {}",
                        t.services.keys().cloned().collect::<Vec<_>>().join(", ")
                    ))
                    .suggest(name, t.services.keys().map(String::as_str)),
            );
        }
        found
    };
    let (kind, label) = match kind {
        "crash" | "random" => {
            let name = f.crash.as_ref().or(f.random.as_ref())?;
            let s = service(r, name, kind)?;
            if let Some(n) = f.replicas
                && (n == 0 || n > t.replicas[s])
            {
                r.push(
                    Problem::new(
                        p.key("replicas"),
                        format!(
                            "{n} is not between 1 and the {} replicas of '{name}'",
                            t.replicas[s]
                        ),
                    )
                    .expected("a count of replicas to crash"),
                );
            }
            (
                FailureKind::Crash {
                    service: s,
                    replicas: f.replicas,
                },
                format!("crash {name}"),
            )
        }
        "slow" => {
            let name = f.slow.as_ref()?;
            let s = service(r, name, "slow")?;
            let factor = positive(r, f.factor, &p.key("factor"), "a factor above 0, like 10")?;
            (
                FailureKind::Slow { service: s, factor },
                format!("slow {name} ×{factor}"),
            )
        }
        "errors" => {
            let name = f.errors.as_ref()?;
            let s = service(r, name, "errors")?;
            let Some(rate) = f.rate.as_ref() else {
                r.push(
                    Problem::new(p.key("rate"), "an errors failure needs a rate")
                        .expected("rate: 20%"),
                );
                return None;
            };
            let rate = r.fraction(&rate.0, &p.key("rate"))?;
            (
                FailureKind::Errors { service: s, rate },
                format!("errors {name} {:.1}%", rate * 100.0),
            )
        }
        "latency" => {
            let (a, b) = dc_pair_or_same(r, f.latency.as_ref()?, &p.key("latency"), t.dcs, true)?;
            let Some(extra) = f.extra.as_ref() else {
                r.push(
                    Problem::new(p.key("extra"), "a latency failure needs the extra delay")
                        .expected("extra: 50ms"),
                );
                return None;
            };
            let extra = r.duration(&extra.0, &p.key("extra"))?;
            (
                FailureKind::Latency { a, b, extra },
                format!(
                    "latency {}/{} +{}ms",
                    t.dcs[a],
                    t.dcs[b],
                    extra as f64 / 1e6
                ),
            )
        }
        "partition" => {
            let (a, b) = dc_pair(r, f.partition.as_ref()?, &p.key("partition"), t.dcs)?;
            (
                FailureKind::Partition { a, b },
                format!("partition {}/{}", t.dcs[a], t.dcs[b]),
            )
        }
        "datacenter_down" => {
            let name = f.datacenter_down.as_ref()?;
            let d = dc(r, name, &p.key("datacenter_down"), t.dcs)?;
            (
                FailureKind::DatacenterDown { dc: d },
                format!("datacenter_down {name}"),
            )
        }
        "broker_node" => {
            let node = f.broker_node?;
            if node >= t.broker_nodes {
                let expected = if t.broker_nodes == 0 {
                    "a broker block".to_string()
                } else {
                    format!("a node from 0 to {}", t.broker_nodes - 1)
                };
                r.push(
                    Problem::new(
                        p.key("broker_node"),
                        format!("there is no broker node {node}"),
                    )
                    .expected(expected),
                );
                return None;
            }
            (
                FailureKind::BrokerNode {
                    node: node as usize,
                },
                format!("broker_node {node}"),
            )
        }
        _ => return None,
    };
    Some(Failure { kind, when, label })
}

fn positive(r: &mut Resolver, v: Option<f64>, path: &YamlPath, expected: &str) -> Option<f64> {
    match v {
        Some(x) if x.is_finite() && x > 0.0 => Some(x),
        Some(x) => {
            r.push(
                Problem::new(path.clone(), format!("{x} must be greater than zero"))
                    .expected(expected.to_string()),
            );
            None
        }
        None => {
            r.push(Problem::new(path.clone(), "missing").expected(expected.to_string()));
            None
        }
    }
}

/// Keys that belong to another kind of failure are errors, not silently ignored.
fn check_extras(r: &mut Resolver, f: &RawFailure, p: &YamlPath, kind: &str) {
    let owned = [
        ("replicas", f.replicas.is_some(), &["crash", "random"][..]),
        ("factor", f.factor.is_some(), &["slow"][..]),
        ("rate", f.rate.is_some(), &["errors"][..]),
        ("extra", f.extra.is_some(), &["latency"][..]),
    ];
    for (key, present, kinds) in owned {
        if present && !kinds.contains(&kind) {
            r.push(
                Problem::new(
                    p.key(key),
                    format!("'{key}' does not apply to a {kind} failure"),
                )
                .expected(format!("'{key}' with {}", kinds.join(" or "))),
            );
        }
    }
}

fn when(r: &mut Resolver, f: &RawFailure, p: &YamlPath, random: bool) -> Option<When> {
    if random {
        for (key, present) in [("at", f.at.is_some()), ("for", f.for_.is_some())] {
            if present {
                r.push(
                    Problem::new(
                        p.key(key),
                        format!("'{key}' does not apply to a random failure"),
                    )
                    .expected("random failures have mtbf and mttr"),
                );
            }
        }
        let mut mean = |v: &Option<raw::Duration>, key: &str| -> Option<Time> {
            let Some(v) = v else {
                r.push(
                    Problem::new(p.key(key), format!("a random failure needs '{key}'"))
                        .expected("mtbf: 1h, mttr: 2m"),
                );
                return None;
            };
            let t = r.duration(&v.0, &p.key(key))?;
            if t == 0 {
                r.push(
                    Problem::new(p.key(key), format!("{key} must be greater than zero"))
                        .expected("a positive duration"),
                );
                return None;
            }
            Some(t)
        };
        let (mtbf, mttr) = (mean(&f.mtbf, "mtbf"), mean(&f.mttr, "mttr"));
        return Some(When::Random {
            mtbf: mtbf?,
            mttr: mttr?,
        });
    }
    for (key, present) in [("mtbf", f.mtbf.is_some()), ("mttr", f.mttr.is_some())] {
        if present {
            r.push(
                Problem::new(
                    p.key(key),
                    format!("'{key}' applies only to random failures"),
                )
                .expected("at and for, or random with mtbf and mttr"),
            );
        }
    }
    let (Some(at), Some(dur)) = (&f.at, &f.for_) else {
        r.push(
            Problem::new(
                p.clone(),
                "a failure needs 'at' and 'for' (or 'random' with mtbf and mttr)",
            )
            .expected("{at: 20s, for: 10s, crash: inventory}"),
        );
        return None;
    };
    let at = r.duration(&at.0, &p.key("at"));
    let duration = r.duration(&dur.0, &p.key("for"));
    let (at, duration) = (at?, duration?);
    if duration == 0 {
        r.push(
            Problem::new(p.key("for"), "a failure of no duration").expected("a positive duration"),
        );
        return None;
    }
    Some(When::Window { at, duration })
}

impl Resolver {
    pub(super) fn fraction(&mut self, v: &serde_json::Value, path: &YamlPath) -> Option<f64> {
        units::fraction(v).map_err(|b| self.bad(path, b)).ok()
    }
}
