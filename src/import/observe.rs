//! What the traces saw, in the scenario's words, for `meshsim fit`.
//!
//! From the spans alone: each *entry endpoint* (SERVER spans with no SERVER
//! ancestor, grouped by service and endpoint name), each *service endpoint*
//! (every SERVER span), and each *consumer* (CONSUMER spans, by service and
//! topic), with their durations sorted, their count and their weight (the
//! count scaled by 1 / the sampling ratio where a span says it). Names go
//! through [`scenario_name`], the rule `import` writes them by, so they match
//! a scenario's names exactly. Spans with an error status are counted apart
//! and not in the durations (a simulated endpoint's latency is of its
//! successful jobs only).

use std::collections::BTreeMap;

use super::infer::{is_entry, parents, topic_of};
use super::names::scenario_name;
use super::span::{Kind, Span, Spans, Status};

/// One group of spans: an endpoint, or a consumer of a topic.
#[derive(Clone, Debug, Default)]
pub struct Group {
    /// The service, as a scenario name.
    pub service: String,
    /// The endpoint (or, for a consumer, the topic), as a scenario name.
    pub endpoint: String,
    /// Durations of the spans without an error status, sorted, in ns.
    pub durations_ns: Vec<u64>,
    /// Spans with an error status.
    pub errors: u64,
    /// Spans in all, each weighted by 1 / its sampling ratio (1 if none).
    pub weight: f64,
}

impl Group {
    /// Spans in all (errors included).
    pub fn count(&self) -> u64 {
        self.durations_ns.len() as u64 + self.errors
    }

    /// `service.endpoint`, as a workload's target is written.
    pub fn key(&self) -> String {
        format!("{}.{}", self.service, self.endpoint)
    }
}

/// Everything `fit` needs from the traces.
#[derive(Clone, Debug, Default)]
pub struct Observed {
    /// From the first entry span's start to the last one's, in ns: the window
    /// over which the arrivals are counted.
    pub window_ns: u64,
    /// Entry endpoints, by (service, endpoint) name.
    pub entries: Vec<Group>,
    /// Every service endpoint with SERVER spans, by (service, endpoint).
    pub endpoints: Vec<Group>,
    /// CONSUMER spans by (service, topic).
    pub consumers: Vec<Group>,
}

type Groups = BTreeMap<(String, String), Group>;

fn add(groups: &mut Groups, service: String, endpoint: String, span: &Span) {
    let g = groups
        .entry((service.clone(), endpoint.clone()))
        .or_insert_with(|| Group {
            service,
            endpoint,
            ..Group::default()
        });
    if span.status == Status::Error {
        g.errors += 1;
    } else {
        g.durations_ns.push(span.duration_ns());
    }
    g.weight += span.sample_ratio.map_or(1.0, |r| 1.0 / r);
}

fn finish(groups: Groups) -> Vec<Group> {
    groups
        .into_values()
        .map(|mut g| {
            g.durations_ns.sort_unstable();
            g
        })
        .collect()
}

/// The entry endpoints, service endpoints and consumers of `spans`.
pub fn observe(spans: &Spans) -> Observed {
    // The same walk as the import's, so both find the same entry endpoints.
    let (all, parent) = parents(spans);
    let name = |n| scenario_name(spans.names.get(n));
    let (mut entries, mut endpoints, mut consumers) = (Groups::new(), Groups::new(), Groups::new());
    let (mut first, mut last) = (u64::MAX, 0);
    for (j, s) in all.iter().enumerate() {
        match s.kind {
            Kind::Server => {
                let (service, endpoint) = (name(s.service), name(s.name));
                if is_entry(j, |p| all[p].kind, &parent) {
                    add(&mut entries, service.clone(), endpoint.clone(), s);
                    first = first.min(s.start_ns);
                    last = last.max(s.start_ns);
                }
                add(&mut endpoints, service, endpoint, s);
            }
            Kind::Consumer => add(&mut consumers, name(s.service), topic_of(s, spans), s),
            _ => {}
        }
    }
    Observed {
        window_ns: last.saturating_sub(first),
        entries: finish(entries),
        endpoints: finish(endpoints),
        consumers: finish(consumers),
    }
}
