//! The `services:` block of an imported scenario: per service the defaults the
//! traces cannot give (or the values supplied at import), its endpoints and its
//! consumers, each with its steps ([`write_steps::steps_yaml`](super::write_steps::steps_yaml)).

use std::fmt::Write;

use super::handoff::MIN_WAITING;
use super::infer::{Graph, Handler};
use super::write::{CONCURRENCY_FACTOR, MIN_CONCURRENCY, MIN_PREFETCH, Options, fitted, q};
use super::write_steps::steps_yaml;

/// Keys a user may not supply at import: the traces give them.
pub const INFERRED_KEYS: [&str; 2] = ["endpoints", "consumes"];

/// A consumer's keys the traces give (`consumes.TOPIC.KEY` may name any other).
pub const INFERRED_CONSUMER_KEYS: [&str; 3] = ["topic", "group", "steps"];

/// A supplied key `consumes.TOPIC.KEY` as (TOPIC, KEY).
pub fn consumer_key(key: &str) -> Option<(&str, &str)> {
    key.strip_prefix("consumes.")?.rsplit_once('.')
}

pub fn services(out: &mut String, g: &Graph, o: &Options) {
    let _ = writeln!(out, "services:");
    let rabbit = g.topics.values().any(|t| t.system == "rabbitmq");
    for (service, most) in &g.services {
        let handlers: Vec<&Handler> = g
            .handlers
            .iter()
            .filter(|h| &h.service == service)
            .collect();
        let jobs: u64 = handlers.iter().map(|h| h.jobs).sum();
        let _ = writeln!(out, "  {}:", q(service));
        let _ = writeln!(
            out,
            "    # {jobs} jobs (SERVER and CONSUMER spans); at most {most} at once: a lower bound of the workers it needs"
        );
        let supplied = o.supplied.get(service);
        let given = |key: &str| supplied.and_then(|s| s.get(key));
        match given("replicas") {
            Some((v, from)) => {
                let _ = writeln!(out, "    replicas: {v}  # supplied at import ({from})");
            }
            None => {
                let _ = writeln!(out, "    replicas: 1  # not in the traces: set this");
            }
        }
        let workers = (most * CONCURRENCY_FACTOR).max(MIN_CONCURRENCY);
        match given("concurrency") {
            Some((v, from)) => {
                let _ = writeln!(out, "    concurrency: {v}  # supplied at import ({from})");
            }
            None => {
                let _ = writeln!(
                    out,
                    "    concurrency: {workers}  # not in the traces: set this; {CONCURRENCY_FACTOR}x the most seen at once, so no queueing the traces did not show"
                );
            }
        }
        let one_worker = given("concurrency").is_none_or(|(v, _)| v == "1");
        if *most == 1 && one_worker && given("handoff").is_none() {
            if o.sample_rate < 1.0 || g.handoffs.sampled(service) {
                let _ = writeln!(
                    out,
                    "    # handoff: not estimated: the traces are sampled, so the jobs between two seen ones may be missing"
                );
            } else {
                handoff(out, &g.handoffs.of(service));
            }
        }
        for (key, (v, from)) in supplied.into_iter().flatten() {
            if key != "replicas" && key != "concurrency" && consumer_key(key).is_none() {
                let _ = writeln!(out, "    {key}: {v}  # supplied at import ({from})");
            }
        }
        if given("cores").is_none() {
            let _ = writeln!(
                out,
                "    # cores, queue (1000), timeouts and retries: not in the traces: set these"
            );
        }
        endpoints(out, &handlers);
        consumers(out, &handlers, rabbit, supplied);
    }
}

/// A one-worker service's handoff, from the jobs that were waiting ([`super::handoff`]).
fn handoff(out: &mut String, waiting: &[f64]) {
    if waiting.len() < MIN_WAITING {
        return;
    }
    let Some((dist, evidence)) = fitted(waiting) else {
        return;
    };
    let _ = writeln!(
        out,
        "    # the worker's time outside its spans (writing an answer, reading the next request): a job's start - the end of the one ahead, over the {} jobs sent before that one began (they were waiting); {evidence}",
        waiting.len()
    );
    let _ = writeln!(out, "    handoff: {dist}");
}

fn endpoints(out: &mut String, handlers: &[&Handler]) {
    let eps: Vec<&&Handler> = handlers.iter().filter(|h| !h.consumer).collect();
    if eps.is_empty() {
        return;
    }
    let _ = writeln!(out, "    endpoints:");
    for h in eps {
        let _ = writeln!(out, "      {}:", q(&h.name));
        let _ = writeln!(
            out,
            "        # {} SERVER spans; at most {} at once; {} failed on their own{}",
            h.jobs,
            h.max_concurrent,
            h.errors,
            if h.errors > 0 { " (see failures)" } else { "" }
        );
        let _ = writeln!(out, "        steps:");
        steps_yaml(out, h, 10);
    }
}

type Keys = indexmap::IndexMap<String, (String, String)>;

fn consumers(out: &mut String, handlers: &[&Handler], rabbit: bool, supplied: Option<&Keys>) {
    let cs: Vec<&&Handler> = handlers.iter().filter(|h| h.consumer).collect();
    if cs.is_empty() {
        return;
    }
    let _ = writeln!(out, "    consumes:");
    for h in cs {
        let prefetch = (h.max_concurrent * 2).max(MIN_PREFETCH);
        let _ = writeln!(
            out,
            "      # {} CONSUMER spans; at most {} at once",
            h.jobs, h.max_concurrent
        );
        let _ = writeln!(out, "      - topic: {}", q(&h.name));
        let _ = writeln!(
            out,
            "        group: {}  # one group per consuming service: every service gets every message",
            q(&h.service)
        );
        let given: Vec<(&str, &(String, String))> = supplied
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| match consumer_key(k) {
                Some((topic, key)) if topic == h.name => Some((key, v)),
                _ => None,
            })
            .collect();
        if rabbit && !given.iter().any(|(k, _)| *k == "prefetch") {
            let _ = writeln!(
                out,
                "        prefetch: {prefetch}  # not in the traces: set this; 2x the most handled at once"
            );
        }
        for (key, (v, from)) in given {
            let _ = writeln!(out, "        {key}: {v}  # supplied at import ({from})");
        }
        let _ = writeln!(out, "        steps:");
        steps_yaml(out, h, 10);
    }
}
