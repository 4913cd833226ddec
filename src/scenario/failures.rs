//! Resolution of injected failures: one kind each, in a window or at random
//! (their timing is [`super::failure_times`]). Part of [`super::resolve`].

use indexmap::IndexMap;

use super::error::Problem;
use super::failure_times;
use super::node::YamlPath;
use super::raw::{RawFailure, RawScenario};
use super::resolve::Resolver;
use super::spec::{Failure, FailureKind};
use super::topology::{dc, dc_pair, dc_pair_or_same};

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
    let kind = one_kind(r, f, p)?;
    check_extras(r, f, p, kind);
    let when = failure_times::when(r, f, p, kind)?;
    let (kind, label) = match kind {
        "crash" | "random" => crash(r, f, p, t, kind)?,
        "slow" => {
            let name = f.slow.as_ref()?;
            let s = service(r, t, name, &p.key("slow"))?;
            let factor = positive(r, f.factor, &p.key("factor"), "a factor above 0, like 10")?;
            (
                FailureKind::Slow { service: s, factor },
                format!("slow {name} ×{factor}"),
            )
        }
        "errors" => errors(r, f, p, t)?,
        "latency" => latency(r, f, p, t)?,
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
        "broker_node" => broker_node(r, f, p, t)?,
        _ => return None,
    };
    Some(Failure { kind, when, label })
}

/// The failure's one kind, or a problem when it has none or several.
fn one_kind(r: &mut Resolver, f: &RawFailure, p: &YamlPath) -> Option<&'static str> {
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
    Some(kinds[0])
}

/// A failure's kind and its label in reports.
type Labelled = (FailureKind, String);

fn service(r: &mut Resolver, t: &Targets, name: &str, path: &YamlPath) -> Option<usize> {
    let found = t.services.get(name).copied();
    if found.is_none() {
        r.push(
            Problem::new(path.clone(), format!("unknown service '{name}'"))
                .expected(format!(
                    "one of {}",
                    t.services.keys().cloned().collect::<Vec<_>>().join(", ")
                ))
                .suggest(name, t.services.keys().map(String::as_str)),
        );
    }
    found
}

/// `crash` or `random` (the `kind`): some or all replicas of a service.
fn crash(
    r: &mut Resolver,
    f: &RawFailure,
    p: &YamlPath,
    t: &Targets,
    kind: &str,
) -> Option<Labelled> {
    let name = f.crash.as_ref().or(f.random.as_ref())?;
    let s = service(r, t, name, &p.key(kind))?;
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
    Some((
        FailureKind::Crash {
            service: s,
            replicas: f.replicas,
        },
        format!("crash {name}"),
    ))
}

fn errors(r: &mut Resolver, f: &RawFailure, p: &YamlPath, t: &Targets) -> Option<Labelled> {
    let name = f.errors.as_ref()?;
    let s = service(r, t, name, &p.key("errors"))?;
    let Some(rate) = f.rate.as_ref() else {
        r.push(Problem::new(p.key("rate"), "an errors failure needs a rate").expected("rate: 20%"));
        return None;
    };
    let rate = r.fraction(&rate.0, &p.key("rate"))?;
    Some((
        FailureKind::Errors { service: s, rate },
        format!("errors {name} {:.1}%", rate * 100.0),
    ))
}

fn latency(r: &mut Resolver, f: &RawFailure, p: &YamlPath, t: &Targets) -> Option<Labelled> {
    let (a, b) = dc_pair_or_same(r, f.latency.as_ref()?, &p.key("latency"), t.dcs, true)?;
    let Some(extra) = f.extra.as_ref() else {
        r.push(
            Problem::new(p.key("extra"), "a latency failure needs the extra delay")
                .expected("extra: 50ms"),
        );
        return None;
    };
    let extra = r.duration(&extra.0, &p.key("extra"))?;
    Some((
        FailureKind::Latency { a, b, extra },
        format!(
            "latency {}/{} +{}ms",
            t.dcs[a],
            t.dcs[b],
            extra as f64 / 1e6
        ),
    ))
}

fn broker_node(r: &mut Resolver, f: &RawFailure, p: &YamlPath, t: &Targets) -> Option<Labelled> {
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
    Some((
        FailureKind::BrokerNode {
            node: node as usize,
        },
        format!("broker_node {node}"),
    ))
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
            let mut problem = Problem::new(
                p.key(key),
                format!("'{key}' does not apply to a {kind} failure"),
            )
            .expected(format!("'{key}' with {}", kinds.join(" or ")));
            if kind == "random" {
                // `random: SERVICE` is a crash; other kinds are random with mtbf and mttr.
                let name = f.random.as_deref().unwrap_or("SERVICE");
                problem = problem.help(format!(
                    "'random' is the shorthand of a random crash; for a random {0} write \
                     {{{0}: {name}, {key}: …, mtbf: …, mttr: …}}",
                    kinds[0]
                ));
            }
            r.push(problem);
        }
    }
}
