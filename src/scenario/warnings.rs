//! Warnings: a scenario that is valid but probably not what its author
//! meant (a topic consumed and never published), or that will take far
//! longer to simulate than its author expects (a refresh every nanosecond).
//!
//! A warning never stops a run; `check` and every command that loads a
//! scenario print them on standard error, with the place in the file.

use super::error::Problem;
use super::node::YamlPath;
use super::spec::{FailureKind, Scenario, Step, When};
use crate::engine::Time;
use crate::engine::time::SECOND;

/// Periodic work whose estimated cost passes this many steps is worth a word.
const COSTLY_STEPS: f64 = 1e9;
/// Steps a second this build simulates, roughly (README's figures): for the estimate.
const STEPS_PER_SECOND: f64 = 1e7;

/// Every warning of a resolved scenario, with its YAML path (no location yet).
pub fn warnings(s: &Scenario) -> Vec<Problem> {
    let mut out = unpublished_topics(s);
    out.extend(costly_periods(s));
    out.extend(depth_below_the_gateway(s));
    out
}

/// A gateway's call to its target is depth 2 (the client's is 1): with
/// `max_call_depth: 1` every request through the gateway fails at once.
fn depth_below_the_gateway(s: &Scenario) -> Option<Problem> {
    (s.gateway.is_some() && s.max_call_depth < 2).then(|| {
        Problem::new(
            YamlPath::root().key("max_call_depth"),
            format!(
                "max_call_depth {} is below the gateway's own call (depth 2): \
                 every request through the gateway will fail",
                s.max_call_depth
            ),
        )
        .help("count the gateway's call: set max_call_depth to at least 2")
    })
}

/// Topics with a consumer group but no publish step anywhere: their groups
/// will handle nothing and the event latency will have no data.
fn unpublished_topics(s: &Scenario) -> Vec<Problem> {
    let Some(broker) = &s.broker else {
        return Vec::new();
    };
    let published: Vec<usize> = s
        .endpoints
        .iter()
        .flat_map(|e| &e.steps)
        .filter_map(|step| match step {
            Step::Publish { topic, .. } => Some(*topic),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    for (t, topic) in broker.topics.iter().enumerate() {
        let groups: Vec<&str> = s
            .consumers
            .iter()
            .filter(|c| c.topic == t)
            .map(|c| c.group.as_str())
            .collect();
        if groups.is_empty() || published.contains(&t) {
            continue;
        }
        let path = YamlPath::root()
            .key("broker")
            .key("topics")
            .key(&topic.name);
        out.push(
            Problem::new(
                path,
                format!(
                    "topic '{}' is consumed (by {}) but no step publishes to it: \
                     its consumers will handle nothing",
                    topic.name,
                    groups.join(", ")
                ),
            )
            .help(format!(
                "add a step `publish: {}` to the endpoint that produces its events",
                topic.name
            )),
        );
    }
    out
}

/// Periodic events so frequent that the run will take hours.
fn costly_periods(s: &Scenario) -> Vec<Problem> {
    let end = s.end() as f64;
    let replicas: f64 = s.services.iter().map(|x| f64::from(x.max_replicas())).sum();
    let mut out = Vec::new();
    let mut check = |path: YamlPath, what: &str, period: Time, per_event: f64| {
        let steps = end / period.max(1) as f64 * per_event.max(1.0);
        if steps > COSTLY_STEPS {
            out.push(
                Problem::new(
                    path,
                    format!(
                        "{what} every {} makes this run about {:.1e} steps: \
                         roughly {} of computing",
                        shown_time(period),
                        steps,
                        shown_wall(steps / STEPS_PER_SECOND)
                    ),
                )
                .help("a period of a millisecond or more is as precise for almost any question"),
            );
        }
    };
    if let Some(d) = &s.discovery {
        let p = YamlPath::root().key("discovery");
        let h = d.health_check_interval;
        check(
            p.key("health_check_interval"),
            "a health check",
            h,
            replicas,
        );
        let r = d.refresh_interval;
        check(p.key("refresh_interval"), "a refresh", r, replicas);
    }
    for svc in &s.services {
        if let Some(a) = &svc.autoscale {
            let p = YamlPath::root().key("services").key(&svc.name);
            let what = "an autoscaling decision";
            check(
                p.key("autoscale").key("sync_period"),
                what,
                a.sync_period,
                1.0,
            );
        }
    }
    for (i, f) in s.failures.iter().enumerate() {
        if let When::Random { mtbf, mttr } = &f.when {
            let (targets, what) = match f.kind {
                FailureKind::Crash { service, .. } => {
                    (s.services[service].max_replicas(), "a crash and a restart")
                }
                _ => (1, "a failure and its repair"),
            };
            let p = YamlPath::root().key("failures").index(i).key("mtbf");
            let per_cycle = 2.0 * f64::from(targets);
            let cycle = crate::engine::time::from_nanos_f64(mtbf.mean() + mttr.mean());
            check(p, what, cycle, per_cycle);
        }
    }
    out
}

fn shown_time(t: Time) -> String {
    match t {
        t if t < 1_000 => format!("{t}ns"),
        t if t < 1_000_000 => format!("{}us", t as f64 / 1e3),
        t if t < SECOND => format!("{}ms", t as f64 / 1e6),
        t => format!("{}s", t as f64 / 1e9),
    }
}

fn shown_wall(secs: f64) -> String {
    match secs {
        s if s < 120.0 => format!("{s:.0} s"),
        s if s < 7200.0 => format!("{:.0} minutes", s / 60.0),
        s if s < 172_800.0 => format!("{:.0} hours", s / 3600.0),
        s => format!("{:.0} days", s / 86_400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_walls_read_naturally() {
        assert_eq!(shown_time(1), "1ns");
        assert_eq!(shown_time(2_500_000), "2.5ms");
        assert_eq!(shown_wall(30.0), "30 s");
        assert_eq!(shown_wall(36_000.0), "10 hours");
    }
}
