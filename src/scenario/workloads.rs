//! Resolution of the clients: the gateway (one route per workload target),
//! the workloads and their arrival processes. Part of [`super::resolve`].

use indexmap::IndexMap;

use super::error::Problem;
use super::node::YamlPath;
use super::raw::{self, ArrivalKind, LoadBalancer, Locality, RawScenario, Threading};
use super::resolve::{Resolver, check_name, limits};
use super::services::{World, placement};
use super::spec::*;
use super::steps::target;
use super::{broker, sizes, topology};
use crate::engine::time::Time;

pub(super) fn gateway(
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
    let route = Route {
        gateway: index,
        load_balancer,
        overhead,
        timeout,
    };
    let eps = routes(raw, &route, w);
    w.services.push(Service {
        name: "gateway".into(),
        placement,
        concurrency,
        millicores: None,
        queue,
        threading: Threading::Blocking,
        load_balancer,
        locality: Locality::PreferLocal,
        autoscale: None,
        outlier: None,
        max_queue_time: None,
        handoff: None,
        endpoints: eps.values().copied().collect(),
    });
    w.endpoint_index.push(eps);
    w.service_index.insert("gateway".into(), index);
    Some(index)
}

/// What each gateway route does: the gateway's overhead, then one call.
struct Route {
    gateway: usize,
    load_balancer: LoadBalancer,
    overhead: Option<crate::engine::Dist>,
    timeout: Option<Time>,
}

/// One gateway endpoint per distinct workload target, named after it.
fn routes(raw: &RawScenario, route: &Route, w: &mut World) -> IndexMap<String, usize> {
    let mut eps = IndexMap::new();
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
        let site = site_for_gateway(w, route.gateway, target, route.load_balancer);
        let mut steps: Vec<Step> = route.overhead.iter().cloned().map(Step::Work).collect();
        w.policies.push(CallPolicy {
            timeout: route.timeout,
            ..CallPolicy::default()
        });
        steps.push(Step::Calls(vec![CallSpec {
            site,
            target,
            policy: w.policies.len() - 1,
            fanout: 1,
            sizes: Sizes::default(),
        }]));
        eps.insert(wl.target.clone(), w.endpoints.len());
        w.endpoints.push(Endpoint {
            service: route.gateway,
            name: wl.target.clone(),
            steps,
        });
    }
    eps
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

pub(super) fn workloads(
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
                .expected("a list of {name, target, rate} or {name, target, users, think}"),
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
        let load = super::closed::load(r, wl, &p);
        let from = match &wl.from {
            None => 0,
            Some(dc) => topology::dc(r, dc, &p.key("from"), dcs).unwrap_or(0),
        };
        let timeout = wl
            .timeout
            .as_ref()
            .and_then(|t| r.duration(&t.0, &p.key("timeout")));
        let stream = format!("workload/{}", wl.name);
        let sizes = sizes::call_sizes(r, &mut w.sizes, wl.size.as_ref(), &p.key("size"), &stream);
        let (Some(target), Some(load)) = (target, load) else {
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
            load,
            from,
            timeout,
            keys,
            sizes,
        });
    }
    out
}

/// The open arrival process of a workload with a `rate`.
pub(super) fn arrival(
    r: &mut Resolver,
    wl: &raw::RawWorkload,
    rate: f64,
    p: &YamlPath,
) -> Option<Arrival> {
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
    wants(ArrivalKind::Replay, wl.replay.is_some(), "replay", r);
    let profile = match kind {
        ArrivalKind::Replay => return super::replay::arrival(r, wl, p),
        ArrivalKind::Poisson | ArrivalKind::Constant => RateProfile::Fixed(rate),
        ArrivalKind::Ramp => ramp(r, wl.ramp.as_ref()?, rate, &p.key("ramp"))?,
        ArrivalKind::Bursty => bursty(r, wl.bursty.as_ref()?, rate, &p.key("bursty"))?,
        ArrivalKind::Schedule => schedule(r, wl.schedule.as_ref()?, rate, &p.key("schedule"))?,
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
        replay: None,
    })
}

/// From the workload's `rate` to `to`.
fn ramp(r: &mut Resolver, rp: &raw::RawRamp, rate: f64, q: &YamlPath) -> Option<RateProfile> {
    Some(RateProfile::Ramp {
        from: rate,
        to: r.rate(&rp.to.0, &q.key("to"))?,
        over: r.duration(&rp.over.0, &q.key("over"))?,
        start: rp
            .start
            .as_ref()
            .map_or(Some(0), |s| r.duration(&s.0, &q.key("start")))?,
    })
}

/// The workload's `rate` between bursts.
fn bursty(r: &mut Resolver, b: &raw::RawBursty, rate: f64, q: &YamlPath) -> Option<RateProfile> {
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
    Some(RateProfile::Bursty {
        base: rate,
        burst: r.rate(&b.rate.0, &q.key("rate"))?,
        on,
        off,
    })
}

/// The workload's `rate` until the first phase.
fn schedule(
    r: &mut Resolver,
    list: &[raw::RawPhase],
    rate: f64,
    q: &YamlPath,
) -> Option<RateProfile> {
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
    Some(RateProfile::Schedule {
        initial: rate,
        phases,
    })
}

fn help_for(key: &str) -> &'static str {
    match key {
        "ramp" => "add ramp: {to: 10000/s, over: 60s} (from the workload's rate)",
        "bursty" => {
            "add bursty: {rate: 3000/s, on: 1s, off: 4s} (the workload's rate between bursts)"
        }
        "replay" => "add replay: [0s, 12ms, 31.5ms] (send times from the start, in order)",
        _ => "add schedule: [{at: 10s, rate: 300/s}] (the workload's rate before the first entry)",
    }
}
