//! The scenario text written from an inferred [`Graph`]: YAML with a comment
//! beside every inferred value giving its evidence, and a `# not in the traces:
//! set this` beside every default the traces cannot give. Names go through
//! [`scenario_name`](super::scenario_name) (already done by the inference) and
//! are quoted as JSON strings, which YAML reads as they are.
//!
//! The text is built whole here; the command loads it through the scenario
//! loader before writing it anywhere.

use std::fmt::Write;

use indexmap::IndexMap;

use super::distfit::{self, significant};
use super::infer::{Graph, Handler};

/// The simulated time before measuring starts, in seconds.
pub const WARMUP_S: u64 = 5;
/// The shortest `duration` written, in seconds.
pub const MIN_DURATION_S: u64 = 60;
/// The fixed seed written.
pub const SEED: u64 = 1;
/// Workers per replica are at least this many times the most jobs seen at once.
pub const CONCURRENCY_FACTOR: u32 = 2;
/// ... and at least this many.
pub const MIN_CONCURRENCY: u32 = 4;
/// RabbitMQ's prefetch written is at least this (meshsim's default).
pub const MIN_PREFETCH: u32 = 10;

/// What the writer needs besides the graph.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The scenario's `name`.
    pub name: String,
    /// Lines of the header comment (the command, the files, the summary).
    pub header: Vec<String>,
    /// The sampling ratio of traces that do not give theirs (`--sample-rate`).
    pub sample_rate: f64,
    /// Service keys supplied at import: service → key → (YAML value, where from).
    pub supplied: IndexMap<String, IndexMap<String, (String, String)>>,
}

/// A name quoted for YAML (a JSON string).
pub fn q(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"unnamed\"".into())
}

/// The scenario text.
pub fn scenario(g: &Graph, o: &Options) -> String {
    let mut out = String::new();
    header(&mut out, g, o);
    let window_s = g.window.1.saturating_sub(g.window.0) as f64 / 1e9;
    let duration_s = (window_s.ceil() as u64).max(MIN_DURATION_S);
    let _ = writeln!(out, "name: {}", q(&o.name));
    let _ = writeln!(
        out,
        "description: \"Imported from traces by meshsim import\""
    );
    let _ = writeln!(out, "seed: {SEED}");
    let _ = writeln!(
        out,
        "duration: {duration_s}s  # the traces' window, {window_s:.3} s, rounded up (at least {MIN_DURATION_S} s)"
    );
    let _ = writeln!(
        out,
        "warmup: {WARMUP_S}s  # not in the traces: a few seconds to fill the queues"
    );
    network(&mut out, g);
    broker(&mut out, g);
    super::write_services::services(&mut out, g, o);
    workloads(&mut out, g, o);
    failures(&mut out, g, duration_s + WARMUP_S);
    out
}

fn header(out: &mut String, g: &Graph, o: &Options) {
    let _ = writeln!(
        out,
        "# Imported from traces by `meshsim import`. Every inferred value has its"
    );
    let _ = writeln!(
        out,
        "# evidence beside it; every value the traces cannot give says so."
    );
    for line in &o.header {
        let _ = writeln!(out, "# {line}");
    }
    if g.uninstrumented.0 > 0 {
        let (trace, span) = g.uninstrumented.1.unwrap_or_default();
        let _ = writeln!(
            out,
            "# {} CLIENT spans had no SERVER child (an uninstrumented callee; e.g. trace {trace:032x} span {span:016x}): their time is left in the caller's work.",
            g.uninstrumented.0
        );
    }
    let _ = writeln!(
        out,
        "# What to check: the lines marked \"not in the traces\" (replicas, workers,"
    );
    let _ = writeln!(
        out,
        "# cores, queues, timeouts, retries); each fit's KS distance; then"
    );
    let _ = writeln!(
        out,
        "# compare a run with the traces before asking the model \"what if\"."
    );
}

/// A distribution and its evidence, or None for no sample.
pub fn fitted(samples: &[f64]) -> Option<(String, String)> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    let f = distfit::fit(&mut s);
    Some((f.choice.yaml(), f.evidence()))
}

fn network(out: &mut String, g: &Graph) {
    let h = &g.hops;
    let Some((dist, evidence)) = fitted(h.chosen()) else {
        return;
    };
    let _ = writeln!(out, "network:");
    if h.answer_leg() {
        let _ = writeln!(
            out,
            "  # one hop = CLIENT end - its SERVER end (the answer's way back, which no worker queue delays), over {} calls{}; {evidence}",
            h.answer.len(),
            if h.skewed() > 0 {
                format!(" ({} left out: their clocks disagree)", h.skewed())
            } else {
                String::new()
            }
        );
    } else {
        let _ = writeln!(
            out,
            "  # one hop = (CLIENT span - its SERVER span) / 2, over {} calls: the clocks disagree in {} of them (a SERVER span ending after its CLIENT span, or moved by the skew repair), so the answer's leg alone cannot be trusted; this average also holds half of any wait for a worker; {evidence}",
            h.average.len(),
            h.skewed()
        );
    }
    let _ = writeln!(out, "  within_dc: {dist}");
}

fn broker(out: &mut String, g: &Graph) {
    if g.topics.is_empty() {
        return;
    }
    let kinds: Vec<&str> = g.topics.values().map(|t| t.system.as_str()).collect();
    let (kind, why) = if kinds.contains(&"rabbitmq") {
        ("rabbitmq", "messaging.system rabbitmq")
    } else if kinds.contains(&"kafka") {
        ("kafka", "messaging.system kafka")
    } else {
        ("kafka", "no messaging.system in the traces: kafka assumed")
    };
    let _ = writeln!(out, "broker:");
    let _ = writeln!(out, "  kind: {kind}  # {why}");
    let _ = writeln!(out, "  nodes: 1  # not in the traces: set this");
    let durations: Vec<f64> = g
        .topics
        .values()
        .flat_map(|t| t.durations.iter().copied())
        .collect();
    if let Some((dist, evidence)) = fitted(&durations) {
        let _ = writeln!(
            out,
            "  # the PRODUCER spans' durations (publish to acknowledgement, both hops included: an upper bound); {evidence}"
        );
        let _ = writeln!(out, "  append: {dist}");
    }
    let _ = writeln!(out, "  topics:");
    for (name, t) in &g.topics {
        let seen = if t.publishes == 0 {
            "consumed, but no PRODUCER span publishes to it: its consumers will get nothing"
                .to_string()
        } else {
            format!("{} PRODUCER spans", t.publishes)
        };
        let _ = writeln!(
            out,
            "    {}: {{}}  # {seen}; partitions, replication and acks not in the traces: set these",
            q(name)
        );
    }
}

/// The entry endpoints' workloads.
fn workloads(out: &mut String, g: &Graph, o: &Options) {
    let _ = writeln!(out, "workload:");
    let entries: Vec<&Handler> = g
        .handlers
        .iter()
        .filter(|h| !h.entry_starts.is_empty())
        .collect();
    if entries.is_empty() {
        let _ = writeln!(
            out,
            "  []  # no SERVER span without a SERVER ancestor: no entry point seen"
        );
    }
    for h in entries {
        let mut starts = h.entry_starts.clone();
        starts.sort_unstable();
        let n = starts.len();
        let span_s = (starts[n - 1] - starts[0]) as f64 / 1e9;
        let window_s = g.window.1.saturating_sub(g.window.0) as f64 / 1e9;
        let (seen_rate, over) = if n >= 3 && span_s > 0.0 {
            ((n - 1) as f64 / span_s, span_s)
        } else {
            (n as f64 / window_s.max(1e-9), window_s)
        };
        let weight = h.entry_weight + h.entry_unweighted as f64 / o.sample_rate;
        let rate = seen_rate * weight / n as f64;
        let (arrival, why) = arrival(&starts);
        let sampling = if h.entry_weight > 0.0 {
            "scaled by the traces' sampling ratios".to_string()
        } else {
            format!(
                "scaled by 1 / sampling ratio {}",
                significant(o.sample_rate)
            )
        };
        let _ = writeln!(out, "  - name: {}", q(&format!("{} {}", h.service, h.name)));
        let _ = writeln!(
            out,
            "    target: {}",
            q(&format!("{}.{}", h.service, h.name))
        );
        let _ = writeln!(
            out,
            "    rate: {}/s  # {n} entry requests (no SERVER ancestor) over {over:.3} s, {sampling}",
            significant(rate)
        );
        let _ = writeln!(out, "    arrival: {arrival}  # {why}");
    }
}

/// Poisson or constant, from the coefficient of variation of the gaps.
fn arrival(sorted: &[u64]) -> (&'static str, String) {
    if sorted.len() < 3 {
        return (
            "poisson",
            "too few arrivals to judge: Poisson assumed".into(),
        );
    }
    let gaps: Vec<f64> = sorted.windows(2).map(|w| (w[1] - w[0]) as f64).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let var = gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / gaps.len() as f64;
    let cv = if mean > 0.0 { var.sqrt() / mean } else { 0.0 };
    let text = format!(
        "coefficient of variation of the {} gaps {cv:.3}",
        gaps.len()
    );
    if cv < 0.2 {
        ("constant", format!("{text}: clearly regular"))
    } else if (0.8..=1.2).contains(&cv) {
        ("poisson", format!("{text}: looks Poisson (1 for Poisson)"))
    } else {
        (
            "poisson",
            format!("{text}: neither Poisson (1) nor regular (0); Poisson written"),
        )
    }
}

/// Errors as an `errors` failure over the whole run, per service with any.
fn failures(out: &mut String, g: &Graph, run_s: u64) {
    let mut per: IndexMap<&str, (u64, u64, Vec<String>)> = IndexMap::new();
    for h in &g.handlers {
        let e = per.entry(&h.service).or_default();
        e.0 += h.errors;
        e.1 += h.jobs;
        if h.errors > 0 {
            e.2.push(format!("{} {} of {}", h.name, h.errors, h.jobs));
        }
    }
    let failing: Vec<_> = per.iter().filter(|(_, e)| e.0 > 0).collect();
    if failing.is_empty() {
        return;
    }
    let _ = writeln!(out, "failures:");
    let _ = writeln!(
        out,
        "  # jobs that failed (error status or HTTP >= 500) while their callees did not, as a share of the"
    );
    let _ = writeln!(
        out,
        "  # service's requests failing at once over the whole run: meshsim's errors are per service, not per endpoint"
    );
    for (service, (errors, jobs, detail)) in failing {
        let share = *errors as f64 / *jobs as f64 * 100.0;
        let _ = writeln!(
            out,
            "  - {{at: 0s, for: {run_s}s, errors: {}, rate: {}%}}  # {}",
            q(service),
            significant(share),
            detail.join(", ")
        );
    }
}
