//! `metrics.om`: the run's time series (what `timeseries.csv` holds) in the
//! OpenMetrics text format, one sample per step at the step's end, under the
//! names Prometheus users know from real instrumentation: Micrometer's
//! `http_client_requests_seconds` and `http_server_requests`, Resilience4j's
//! breaker metrics, kube-state-metrics' replica counts, kafka-exporter's lag,
//! the RabbitMQ plugin's queue depth. docs/PROMETHEUS.md lists them all.
//!
//! Counters are cumulative from the start of the run (they count what was sent
//! after warmup, as the summary does), so `rate()` over a step gives the
//! csv's per-second figures.

use super::openmetrics::{Encoder, Kind};
use crate::metrics::Collector;
use crate::metrics::series::LE_NS;
use crate::scenario::Scenario;
use crate::scenario::spec::{BrokerKind, Step};

/// 2026-01-01T00:00:00Z: simulated time 0 unless `--metrics-start` says otherwise.
pub const DEFAULT_START_MS: i64 = 1_767_225_600_000;

/// The OpenMetrics text of a run; simulated time 0 is `start_ms` (ms since the epoch).
pub fn metrics_om(s: &Scenario, c: &Collector, start_ms: i64) -> Vec<u8> {
    let mut e = Encoder::new(start_ms);
    histogram(&mut e, s, c);
    workloads(&mut e, s, c);
    services(&mut e, s, c);
    calls(&mut e, s, c);
    messaging(&mut e, s, c);
    e.finish()
}

/// A bucket bound in seconds, as its `le` label.
fn le(ns: u64) -> String {
    format!("{}", ns as f64 / 1e9)
}

/// Each workload's latency histogram at the client, and each endpoint's at
/// the server: cumulative buckets, `_count` (= the `+Inf` bucket) and `_sum`
/// at every step.
fn histogram(e: &mut Encoder, s: &Scenario, c: &Collector) {
    let times = &c.series.times;
    e.family(
        "http_client_requests_seconds",
        Kind::Histogram,
        "seconds",
        "Latency of successful requests, first send to answer, at the client (workload).",
    );
    for (w, ws) in s.workloads.iter().zip(&c.series.workloads) {
        let labels = [("workload", w.name.as_str())];
        let points = ws.points.iter().map(|p| (&p.le, p.sum_ns));
        buckets(e, "http_client_requests_seconds", &labels, points, times);
    }
    e.family(
        "http_server_requests_seconds",
        Kind::Histogram,
        "seconds",
        "Latency of successful executions of an endpoint, arrival at the replica to its last step.",
    );
    for (ep, es) in s.endpoints.iter().zip(&c.series.endpoints) {
        let service = s.services[ep.service].name.as_str();
        let labels = [("service", service), ("uri", ep.name.as_str())];
        let points = es.points.iter().map(|(le, sum)| (le, *sum));
        buckets(e, "http_server_requests_seconds", &labels, points, times);
    }
}

/// One histogram's samples: per step, its bucket counts and sum in ns.
fn buckets<'a>(
    e: &mut Encoder,
    name: &str,
    labels: &[(&str, &str)],
    points: impl Iterator<Item = (&'a [u32; LE_NS.len() + 1], u64)>,
    times: &[u64],
) {
    let les: Vec<String> = LE_NS
        .iter()
        .map(|&ns| le(ns))
        .chain(["+Inf".into()])
        .collect();
    let (bucket, count_name, sum_name) = (
        format!("{name}_bucket"),
        format!("{name}_count"),
        format!("{name}_sum"),
    );
    let (mut cum, mut sum_ns) = ([0u64; LE_NS.len() + 1], 0u128);
    for ((le_counts, step_sum), &t) in points.zip(times) {
        let mut below = 0;
        for (b, &n) in le_counts.iter().enumerate() {
            cum[b] += u64::from(n);
            below += cum[b];
            let mut with_le = labels.to_vec();
            with_le.push(("le", les[b].as_str()));
            e.sample(&bucket, &with_le, below as f64, t);
        }
        sum_ns += u128::from(step_sum);
        e.sample(&count_name, labels, below as f64, t);
        let sum = (sum_ns as f64 / 1e9 * 1e6).round() / 1e6;
        e.sample(&sum_name, labels, sum, t);
    }
}

/// Each workload's requests by outcome, and its in-flight count.
fn workloads(e: &mut Encoder, s: &Scenario, c: &Collector) {
    let times = &c.series.times;
    e.family(
        "http_client_requests",
        Kind::Counter,
        "",
        "Requests answered at the client, by outcome (ok, failed, timed_out, rejected).",
    );
    for (w, ws) in s.workloads.iter().zip(&c.series.workloads) {
        type Field = fn(&crate::metrics::series::WorkloadPoint) -> u64;
        let outcomes: [(&str, Field); 4] = [
            ("ok", |p| p.ok),
            ("failed", |p| p.failed),
            ("timed_out", |p| p.timed_out),
            ("rejected", |p| p.rejected),
        ];
        for (outcome, f) in outcomes {
            let labels = [("workload", w.name.as_str()), ("outcome", outcome)];
            counter(
                e,
                "http_client_requests_total",
                &labels,
                ws.points.iter().map(f),
                times,
            );
        }
    }
    e.family(
        "meshsim_requests_in_flight",
        Kind::Gauge,
        "",
        "Requests sent (after warmup) and not yet answered, at the client.",
    );
    for (w, ws) in s.workloads.iter().zip(&c.series.workloads) {
        let mut open = 0u64;
        for (p, &t) in ws.points.iter().zip(times) {
            open = (open + p.sent).saturating_sub(p.ok + p.errors);
            let labels = [("workload", w.name.as_str())];
            e.sample("meshsim_requests_in_flight", &labels, open as f64, t);
        }
    }
}

/// A counter's samples: the running sum of per-step counts.
fn counter(
    e: &mut Encoder,
    name: &str,
    labels: &[(&str, &str)],
    counts: impl Iterator<Item = u64>,
    times: &[u64],
) {
    let mut total = 0u64;
    for (n, &t) in counts.zip(times) {
        total += n;
        e.sample(name, labels, total as f64, t);
    }
}

/// A gauge's samples.
fn gauge(
    e: &mut Encoder,
    name: &str,
    labels: &[(&str, &str)],
    values: impl Iterator<Item = f64>,
    times: &[u64],
) {
    for (v, &t) in values.zip(times) {
        e.sample(name, labels, v, t);
    }
}

/// Each service: executions by outcome, utilisation, queue, replicas.
fn services(e: &mut Encoder, s: &Scenario, c: &Collector) {
    let times = &c.series.times;
    let all = || s.services.iter().zip(&c.series.services);
    e.family(
        "http_server_requests",
        Kind::Counter,
        "",
        "Executions of a service's endpoints, by outcome (ok, failed).",
    );
    for (svc, pts) in all() {
        for (outcome, ok) in [("ok", true), ("failed", false)] {
            let labels = [("service", svc.name.as_str()), ("outcome", outcome)];
            let counts = pts.iter().map(|p| if ok { p.ok } else { p.failed });
            counter(e, "http_server_requests_total", &labels, counts, times);
        }
    }
    type Field = fn(&crate::metrics::series::ServicePoint) -> f64;
    let gauges: [(&str, &str, &str, &str, Field); 4] = [
        (
            "meshsim_service_utilization_ratio",
            "ratio",
            "service",
            "Busy worker time / worker time of serving replicas, over the step.",
            |p| crate::metrics::latency::round6(p.utilization),
        ),
        (
            "meshsim_service_queue_jobs",
            "jobs",
            "service",
            "Jobs waiting for a worker, over all replicas.",
            |p| p.queue as f64,
        ),
        (
            "kube_deployment_status_replicas_available",
            "",
            "deployment",
            "Serving replicas of the service.",
            |p| f64::from(p.replicas),
        ),
        (
            "kube_deployment_status_replicas",
            "",
            "deployment",
            "Replicas provisioned (starting, serving, draining or crashed).",
            |p| f64::from(p.provisioned),
        ),
    ];
    for (name, unit, label, help, f) in gauges {
        e.family(name, Kind::Gauge, unit, help);
        for (svc, pts) in all() {
            gauge(
                e,
                name,
                &[(label, svc.name.as_str())],
                pts.iter().map(f),
                times,
            );
        }
    }
}

/// Each call site: attempts, errors, retries, short circuits, breaker state.
fn calls(e: &mut Encoder, s: &Scenario, c: &Collector) {
    let times = &c.series.times;
    type Field = fn(&crate::metrics::series::CallPoint) -> u64;
    let counters: [(&str, &str, Field); 4] = [
        (
            "meshsim_call_attempts",
            "Attempts of a call site (retries included).",
            |p| p.attempts,
        ),
        (
            "meshsim_call_errors",
            "Failed, rejected or timed-out attempts.",
            |p| p.errors,
        ),
        ("meshsim_call_retries", "Retries of a call site.", |p| {
            p.retries
        }),
        (
            "resilience4j_circuitbreaker_not_permitted_calls",
            "Calls short-circuited by an open breaker.",
            |p| p.short_circuited,
        ),
    ];
    for (family, help, f) in counters {
        e.family(family, Kind::Counter, "", help);
        let label = if family.starts_with("resilience4j") {
            "name"
        } else {
            "call"
        };
        let name = format!("{family}_total");
        for (site, pts) in s.call_sites.iter().zip(&c.series.calls) {
            counter(e, &name, &[(label, &site.key)], pts.iter().map(f), times);
        }
    }
    let name = "resilience4j_circuitbreaker_state";
    e.family(
        name,
        Kind::Gauge,
        "",
        "1 for the breaker's state at the sample, else 0.",
    );
    let breakers = breaker_sites(s);
    for (i, (site, pts)) in s.call_sites.iter().zip(&c.series.calls).enumerate() {
        if !breakers.contains(&i) {
            continue;
        }
        for (k, state) in super::run::BREAKER_STATES.iter().enumerate() {
            let values = pts
                .iter()
                .map(|p| f64::from(u8::from(usize::from(p.breaker) == k)));
            gauge(
                e,
                name,
                &[("name", &site.key), ("state", state)],
                values,
                times,
            );
        }
    }
}

/// The call sites whose calls go through a circuit breaker.
fn breaker_sites(s: &Scenario) -> std::collections::BTreeSet<usize> {
    let mut sites = std::collections::BTreeSet::new();
    for step in s.endpoints.iter().flat_map(|e| &e.steps) {
        if let Step::Calls(specs) = step {
            let with = specs
                .iter()
                .filter(|c| s.policies[c.policy].breaker.is_some());
            sites.extend(with.map(|c| c.site));
        }
    }
    sites
}

/// Topics and consumer groups: published, handled, lag (or queue depth).
fn messaging(e: &mut Encoder, s: &Scenario, c: &Collector) {
    let Some(broker) = &s.broker else { return };
    let times = &c.series.times;
    e.family(
        "meshsim_topic_published",
        Kind::Counter,
        "",
        "Messages published.",
    );
    for (topic, counts) in broker.topics.iter().zip(&c.series.published) {
        let labels = [("topic", topic.name.as_str())];
        counter(
            e,
            "meshsim_topic_published_total",
            &labels,
            counts.iter().copied(),
            times,
        );
    }
    let groups = super::run::groups(s, c);
    e.family(
        "meshsim_consumer_handled",
        Kind::Counter,
        "",
        "Messages handled by a group.",
    );
    for (topic, group, g) in &groups {
        let labels = [("consumergroup", *group), ("topic", *topic)];
        let counts = g.series.iter().map(|&(_, h)| h);
        counter(e, "meshsim_consumer_handled_total", &labels, counts, times);
    }
    if broker.kind == BrokerKind::Rabbitmq {
        let name = "rabbitmq_queue_messages";
        e.family(
            name,
            Kind::Gauge,
            "",
            "Messages in a group's queue, ready or unacknowledged.",
        );
        for (topic, group, g) in &groups {
            let queue = format!("{topic}.{group}");
            gauge(e, name, &[("vhost", "/"), ("queue", &queue)], lag(g), times);
        }
    } else {
        let name = "kafka_consumergroup_lag_sum";
        e.family(
            name,
            Kind::Gauge,
            "",
            "Messages of a topic not yet handled by a group.",
        );
        for (topic, group, g) in &groups {
            gauge(
                e,
                name,
                &[("consumergroup", group), ("topic", topic)],
                lag(g),
                times,
            );
        }
        partition_lags(e, &groups, times);
    }
}

/// kafka-exporter's `kafka_consumergroup_lag`: each partition's lag, for
/// topics of at most [`crate::metrics::PARTITION_SERIES_MAX`] partitions.
fn partition_lags(
    e: &mut Encoder,
    groups: &[(&str, &str, &crate::metrics::GroupStats)],
    times: &[u64],
) {
    let name = "kafka_consumergroup_lag";
    e.family(
        name,
        Kind::Gauge,
        "",
        "Messages of one partition not yet handled by a group.",
    );
    for (topic, group, g) in groups {
        let n = g.partition_lag.len() / times.len().max(1);
        if n == 0 || n * times.len() != g.partition_lag.len() {
            continue;
        }
        for p in 0..n {
            let partition = p.to_string();
            let labels = [
                ("consumergroup", *group),
                ("partition", partition.as_str()),
                ("topic", *topic),
            ];
            let values = g.partition_lag.iter().skip(p).step_by(n).map(|&l| l as f64);
            gauge(e, name, &labels, values, times);
        }
    }
}

/// A group's total lag at every sample.
fn lag(g: &crate::metrics::GroupStats) -> impl Iterator<Item = f64> + '_ {
    g.series.iter().map(|&(l, _)| l as f64)
}
