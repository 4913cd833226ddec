//! Resolution of steps: endpoints' and consumer handlers' step lists, call
//! targets and sites; branches are flattened by [`super::branches`] and the
//! whole call graph is checked by [`super::callgraph`].
//! Part of [`super::resolve`].

use super::branches;
use super::broker;
use super::callgraph::CallEdge;
use super::error::Problem;
use super::node::YamlPath;
use super::policy;
use super::raw::{RawConsumer, RawScenario, RawStep};
use super::resolve::{Resolver, limits};
use super::services::World;
use super::sizes;
use super::spec::*;

/// Resolves `service.endpoint` to an endpoint index, with did-you-mean.
pub(super) fn target(r: &mut Resolver, w: &World, text: &str, path: &YamlPath) -> Option<usize> {
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

/// The endpoint a step list belongs to, its service and the call defaults,
/// and the probability that a run of the endpoint reaches the list.
#[derive(Clone, Copy)]
pub(super) struct Owner<'a> {
    svc: usize,
    ep: usize,
    defaults: &'a policy::Keys<'a>,
    weight: f64,
}

impl Owner<'_> {
    /// The same owner, for steps reached with probability `p` from here.
    pub(super) fn times(self, p: f64) -> Self {
        Owner {
            weight: self.weight * p,
            ..self
        }
    }
}

/// Fills the steps of every endpoint, then of every consumer handler.
pub(super) fn steps(
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
            let at = Owner {
                svc: si,
                ep: ei,
                defaults,
                weight: 1.0,
            };
            w.endpoints[ei].steps = program(r, w, &e.steps, &p, at);
        }
    }
    for (svc, ci, ep) in w.handlers.clone() {
        let (sname, s) = raw.services.get_index(svc).expect("a service of the file");
        let c = &s.consumes.as_ref().expect("consumes")[ci];
        let p = root.key("services").key(sname).key("consumes").index(ci);
        let at = Owner {
            svc,
            ep,
            defaults,
            weight: 1.0,
        };
        handler(r, w, c, &p, at);
    }
}

/// An endpoint's steps as one flat program (branches become jumps), bounded.
fn program(
    r: &mut Resolver,
    w: &mut World,
    list: &[RawStep],
    p: &YamlPath,
    at: Owner,
) -> Vec<Step> {
    let mut out = Vec::new();
    step_list(r, w, list, p, at, "", &mut out);
    if out.len() > limits::PROGRAM {
        r.push(
            Problem::new(
                p.clone(),
                format!("{} steps in all, branches included, is too many", out.len()),
            )
            .expected(format!("at most {}", limits::PROGRAM)),
        );
    }
    out
}

/// Appends a list of steps to `out`; `pos` is the list's position in the
/// endpoint (empty at the top, `2.1` for entry 1 of step 2's branch).
pub(super) fn step_list(
    r: &mut Resolver,
    w: &mut World,
    list: &[RawStep],
    p: &YamlPath,
    at: Owner,
    pos: &str,
    out: &mut Vec<Step>,
) {
    for (i, st) in list.iter().enumerate() {
        let here = if pos.is_empty() {
            i.to_string()
        } else {
            format!("{pos}.{i}")
        };
        let path = p.index(i);
        let Some(probability) = branches::probability(r, st, &path) else {
            step_into(r, w, st, &path, at, &here, out);
            continue;
        };
        // Taken with `probability`: a branch of one entry, this step.
        let head = branches::open(w, &here, out);
        step_into(r, w, st, &path, at.times(probability), &here, out);
        branches::close(out, head, &[probability], &[head + 1], &[]);
    }
}

/// One step of a list (a `branch` or a plain step) appended to `out`.
fn step_into(
    r: &mut Resolver,
    w: &mut World,
    st: &RawStep,
    path: &YamlPath,
    at: Owner,
    here: &str,
    out: &mut Vec<Step>,
) {
    if st.branch.is_some() {
        if one_kind(r, st, path) {
            check_call_keys(r, st, path);
            branches::branch(r, w, st, path, at, here, out);
        }
    } else if let Some(step) = one_step(r, w, st, path, at, true) {
        out.push(step);
    }
}

/// A consumer's handler steps, retry and consumer (with a broker and a known topic).
fn handler(r: &mut Resolver, w: &mut World, c: &RawConsumer, p: &YamlPath, at: Owner) {
    let has_broker = w.broker_kind.is_some();
    let topic = broker::topic(r, &w.topics, &c.topic, &p.key("topic"), has_broker);
    if c.steps.len() > limits::STEPS {
        r.push(
            Problem::new(p.key("steps"), "too many steps")
                .expected(format!("at most {}", limits::STEPS)),
        );
        return;
    }
    w.endpoints[at.ep].steps = program(r, w, &c.steps, &p.key("steps"), at);
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
    let (Some(topic), Some(kind)) = (topic, w.broker_kind) else {
        return;
    };
    if w.consumers
        .iter()
        .any(|x| x.topic == topic && x.group == c.group && x.service != at.svc)
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
    let consumer = broker::consumer(r, c, p, at.svc, topic, at.ep, retry, kind);
    w.consumers.push(consumer);
}

/// One step; `top` is false inside `parallel`, whose branches must be calls.
fn one_step(
    r: &mut Resolver,
    w: &mut World,
    s: &RawStep,
    p: &YamlPath,
    at: Owner,
    top: bool,
) -> Option<Step> {
    if !one_kind(r, s, p) {
        return None;
    }
    if s.call.is_none() {
        check_call_keys(r, s, p);
    }
    if !top {
        branches::not_in_parallel(r, s, p);
    }
    if let Some(name) = &s.publish {
        branch_not_call(r, top, &p.key("publish"));
        let has_broker = w.broker_kind.is_some();
        let stream = format!("{}/publish/{name}", stream_prefix(w, at));
        let size = sizes::publish_size(r, &mut w.sizes, s.size.as_ref(), &p.key("size"), &stream);
        return broker::topic(r, &w.topics, name, &p.key("publish"), has_broker)
            .map(|topic| Step::Publish { topic, size });
    }
    if s.size.is_some() && s.call.is_none() {
        r.push(
            Problem::new(p.key("size"), "'size' belongs to a call or a publish step")
                .expected("it next to a call or a publish: {call: service.endpoint, size: 2KB}"),
        );
    }
    if let Some(d) = &s.work {
        branch_not_call(r, top, &p.key("work"));
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
            let branch = one_step(r, w, b, &p.key("parallel").index(i), at, false);
            if let Some(Step::Calls(mut c)) = branch {
                calls.append(&mut c);
            }
        }
        return Some(Step::Calls(calls));
    }
    call(r, w, s, p, at)
}

/// True when the step is exactly one of work, call, parallel, publish, branch.
fn one_kind(r: &mut Resolver, s: &RawStep, p: &YamlPath) -> bool {
    let kinds = [
        s.work.is_some(),
        s.call.is_some(),
        s.parallel.is_some(),
        s.publish.is_some(),
        s.branch.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() == 1 {
        return true;
    }
    r.push(
        Problem::new(
            p.clone(),
            "a step must be exactly one of work, call, parallel, publish, branch",
        )
        .expected("{work: 5ms}, {call: service.endpoint}, {parallel: [...]}, {publish: topic} or {branch: [...]}"),
    );
    false
}

/// Reports the call keys of a step that is not a call.
fn check_call_keys(r: &mut Resolver, s: &RawStep, p: &YamlPath) {
    let call_keys = [
        ("timeout", s.timeout.is_some()),
        ("deadline", s.deadline.is_some()),
        ("fanout", s.fanout.is_some()),
        ("hedge", s.hedge.is_some()),
        ("retry", s.retry.is_some()),
        ("circuit_breaker", s.circuit_breaker.is_some()),
        ("propagate_deadline", s.propagate_deadline.is_some()),
    ];
    for (key, _) in call_keys.iter().filter(|(_, present)| *present) {
        r.push(
            Problem::new(p.key(key), format!("'{key}' belongs to a call step"))
                .expected("it next to a call: {call: service.endpoint, ...}"),
        );
    }
}

/// Reports a step other than a call inside `parallel` (not `top`).
fn branch_not_call(r: &mut Resolver, top: bool, path: &YamlPath) {
    if !top {
        r.push(
            Problem::new(path.clone(), "a parallel branch must be a call")
                .expected("{call: service.endpoint}"),
        );
    }
}

/// A call step: its target, policy, fan-out and call site.
fn call(r: &mut Resolver, w: &mut World, s: &RawStep, p: &YamlPath, at: Owner) -> Option<Step> {
    let text = s.call.as_ref()?;
    let target = target(r, w, text, &p.key("call"))?;
    let policy = policy::resolve(r, &policy::Keys::step(s, p, at.defaults));
    w.policies.push(policy);
    let fanout = r.bounded(s.fanout, 1, 1, limits::FANOUT, &p.key("fanout"));
    w.call_paths.push(CallEdge {
        from: at.ep,
        to: target,
        probability: at.weight,
        fanout,
        path: p.key("call"),
    });
    let site = site(w, at.svc, target);
    let stream = format!("{}/call/{}", stream_prefix(w, at), endpoint_name(w, target));
    let sizes = sizes::call_sizes(r, &mut w.sizes, s.size.as_ref(), &p.key("size"), &stream);
    Some(Step::Calls(vec![CallSpec {
        site,
        target,
        policy: w.policies.len() - 1,
        fanout,
        sizes,
    }]))
}

/// `service/<svc>/endpoint/<ep>`: where the streams of a step list's sizes start.
fn stream_prefix(w: &World, at: Owner) -> String {
    format!(
        "service/{}/endpoint/{}",
        w.services[at.svc].name, w.endpoints[at.ep].name
    )
}

pub(super) fn endpoint_name(w: &World, e: usize) -> String {
    format!(
        "{}.{}",
        w.services[w.endpoints[e].service].name, w.endpoints[e].name
    )
}
