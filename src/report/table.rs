//! The run's table for the terminal: workloads, services, calls and verdicts,
//! aligned, plain text.

use std::fmt::Write as _;

use serde_json::Value;

use super::format::{Unit, decimals};
use crate::metrics::Summary;

fn pct(x: Option<f64>) -> String {
    x.map_or("-".into(), |a| format!("{:.3}%", a * 100.0))
}

/// The width of a column of names: the widest name, at least `min`.
fn width<'a>(names: impl Iterator<Item = &'a String>, min: usize) -> usize {
    names.map(|n| n.chars().count()).max().unwrap_or(0).max(min)
}

/// Renders the summary as aligned text (columns widen for long names).
pub fn render(s: &Summary, colour: bool) -> String {
    let mut o = String::new();
    if let Some(ov) = &s.overload {
        let _ = writeln!(o, "STOPPED EARLY: {}\n", ov.message);
    }
    let ww = width(s.workload.keys(), 20);
    let sw = width(s.services.keys(), 20);
    let ew = width(s.services.values().flat_map(|v| v.endpoints.keys()), 24);
    let cw = width(s.calls.keys(), 40);
    let tw = width(s.topics.keys(), 24);
    let gw = width(s.topics.values().flat_map(|t| t.groups.keys()), 16);
    let _ = writeln!(
        o,
        "scenario {}  seed {}  measured {}s after {}s warmup  {} events",
        s.scenario, s.seed, s.duration_s, s.warmup_s, s.events_processed
    );
    let _ = writeln!(
        o,
        "\n{:<ww$} {:>10} {:>10} {:>8} {:>9} {:>8} {:>9} {:>10} {:>10} {:>10} {:>10}",
        "workload",
        "sent",
        "ok",
        "failed",
        "timed_out",
        "rejected",
        "in_flight",
        "mean ms",
        "p50 ms",
        "p99 ms",
        "p999 ms"
    );
    for (name, w) in &s.workload {
        let l = &w.latency_ms;
        let _ = writeln!(
            o,
            "{:<ww$} {:>10} {:>10} {:>8} {:>9} {:>8} {:>9} {:>10} {:>10} {:>10} {:>10}",
            name,
            w.sent,
            w.ok,
            w.failed,
            w.timed_out,
            w.rejected,
            w.in_flight,
            l.show(l.mean),
            l.show(l.p50),
            l.show(l.p99),
            l.show(l.p999)
        );
    }
    closed_loops(&mut o, s, ww);
    let _ = writeln!(
        o,
        "\n{:<sw$} {:>8} {:>11} {:>9}   {:<ew$} {:>10} {:>10} {:>10}",
        "service", "replicas", "utilization", "rejected", "endpoint", "count", "mean ms", "p99 ms"
    );
    for (name, svc) in &s.services {
        let mut first = true;
        for (ep, e) in &svc.endpoints {
            let (n, r, u, rej) = if first {
                (
                    name.as_str(),
                    svc.replicas.to_string(),
                    format!("{:.1}%", svc.utilization * 100.0),
                    svc.rejected.to_string(),
                )
            } else {
                ("", String::new(), String::new(), String::new())
            };
            first = false;
            let _ = writeln!(
                o,
                "{:<sw$} {:>8} {:>11} {:>9}   {:<ew$} {:>10} {:>10} {:>10}",
                n,
                r,
                u,
                rej,
                ep,
                e.count,
                e.latency_ms.show(e.latency_ms.mean),
                e.latency_ms.show(e.latency_ms.p99)
            );
        }
        if first {
            let _ = writeln!(
                o,
                "{:<sw$} {:>8} {:>11} {:>9}",
                name,
                svc.replicas,
                format!("{:.1}%", svc.utilization * 100.0),
                svc.rejected
            );
        }
    }
    if !s.calls.is_empty() {
        let _ = writeln!(
            o,
            "\n{:<cw$} {:>10} {:>8} {:>8} {:>8} {:>9} {:>8} {:>10}",
            "call", "attempts", "retries", "failed", "rejected", "timeouts", "breaker", "p99 ms"
        );
        for (key, c) in &s.calls {
            let _ = writeln!(
                o,
                "{:<cw$} {:>10} {:>8} {:>8} {:>8} {:>9} {:>8} {:>10}",
                key,
                c.attempts,
                c.retries,
                c.failed,
                c.rejected,
                c.timeouts,
                c.short_circuited,
                c.latency_ms.show(c.latency_ms.p99)
            );
        }
    }
    if !s.topics.is_empty() {
        let _ = writeln!(
            o,
            "\n{:<tw$} {:<gw$} {:>10} {:>10} {:>8} {:>6} {:>9} {:>10} {:>9} {:>10}",
            "topic",
            "group",
            "published",
            "handled",
            "dlq",
            "lost",
            "in_flight",
            "duplicates",
            "max_lag",
            "p99 ms"
        );
        for (topic, t) in &s.topics {
            for (group, g) in &t.groups {
                let _ = writeln!(
                    o,
                    "{:<tw$} {:<gw$} {:>10} {:>10} {:>8} {:>6} {:>9} {:>10} {:>9} {:>10}",
                    topic,
                    group,
                    t.published,
                    g.handled,
                    g.dead_lettered,
                    g.lost,
                    g.in_flight,
                    g.duplicates,
                    g.max_lag,
                    g.latency_ms.show(g.latency_ms.p99)
                );
            }
        }
    }
    links(&mut o, s);
    let slo = &s.slo;
    let _ = writeln!(o, "\nSLO");
    let ms = |a: Option<f64>, none: &str| a.map_or(none.to_string(), |a| format!("{a:.3} ms"));
    let rows = [
        (
            "sync p99",
            ms(slo.sync_p99.actual_ms, "-"),
            slo.sync_p99.target_text(),
            slo.sync_p99.verdict,
        ),
        (
            "event p99",
            ms(slo.event_p99.actual_ms, "no events"),
            slo.event_p99.target_text(),
            slo.event_p99.verdict,
        ),
        (
            "availability",
            pct(slo.availability.actual),
            slo.availability.target_text(),
            slo.availability.verdict,
        ),
    ];
    for (label, actual, target, outcome) in rows {
        let verdict = verdict(outcome.label(), colour);
        let _ = writeln!(
            o,
            "  {label:<14} {actual:>14}   target {target:<12} {verdict}"
        );
    }
    o
}

/// Each direction of a link with a bandwidth: what it carried, how busy it
/// was, and how long a message waited for it.
fn links(o: &mut String, s: &Summary) {
    if s.links.is_empty() {
        return;
    }
    let lw = width(s.links.keys(), 20);
    let _ = writeln!(
        o,
        "\n{:<lw$} {:>10} {:>12} {:>11} {:>10}",
        "link", "messages", "MB", "utilization", "wait ms"
    );
    for (name, l) in &s.links {
        let _ = writeln!(
            o,
            "{:<lw$} {:>10} {:>12.3} {:>11} {:>10}",
            name,
            l.messages,
            l.bytes as f64 / 1e6,
            format!("{:.1}%", l.utilization * 100.0),
            l.queue_ms_mean.map_or("-".into(), |q| format!("{q:.3}"))
        );
    }
}

/// The closed workloads' users, think, throughput and response time (every
/// answered request), with the response time law's value beside it.
fn closed_loops(o: &mut String, s: &Summary, ww: usize) {
    let ms = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.3}"));
    for (name, w) in &s.workload {
        let Some(c) = &w.closed else {
            continue;
        };
        let law = match (c.think_ms_mean, c.throughput_per_s > 0.0) {
            (Some(z), true) => Some(1e3 * c.users / c.throughput_per_s - z),
            _ => None,
        };
        let _ = writeln!(
            o,
            "{name:<ww$} closed loop: {} users, think {} ms, {}/s, response {} ms (N/X − Z = {} ms)",
            c.users,
            ms(c.think_ms_mean),
            c.throughput_per_s,
            ms(c.response_ms_mean),
            ms(law)
        );
    }
}

/// A verdict, green, red or yellow (ANSI) when `colour`: only on a terminal.
pub fn verdict(word: &str, colour: bool) -> String {
    let code = match word {
        "PASS" => "1;32",
        "FAIL" => "1;31",
        _ => "1;33",
    };
    if colour {
        format!("\x1b[{code}m{word}\x1b[0m")
    } else {
        word.to_string()
    }
}

/// A target as both tables print it: "<= 200 ms", ">= 99.900%".
fn target(key: &str, value: f64) -> String {
    if key == "availability" {
        format!("≥ {}", Unit::Percent.show(value))
    } else {
        format!("≤ {} ms", decimals(value, 3))
    }
}

/// A mean ± the half-width of its 95% interval (`[lo, hi]`), with its unit.
fn mean_pm(mean: &Value, ci: &Value, unit: Unit) -> String {
    let half = match (ci[0].as_f64(), ci[1].as_f64()) {
        (Some(lo), Some(hi)) => Some((hi - lo) / 2.0),
        _ => None,
    };
    mean.as_f64().map_or("-".into(), |m| unit.show_pm(m, half))
}

/// The table of a run with replications: means ± 95% half-widths with their
/// units, and verdicts.
pub fn render_replications(v: &Value, colour: bool) -> String {
    let mut o = String::new();
    let n = v["replications"].as_u64().unwrap_or(0);
    let _ = writeln!(
        o,
        "scenario {}  seed {}  {n} replications  (mean ± 95% interval)",
        v["scenario"].as_str().unwrap_or(""),
        v["seed"]
    );
    let _ = writeln!(
        o,
        "\n{:<20} {:>18} {:>22} {:>22} {:>22}",
        "workload", "sent", "availability", "mean latency", "p99 latency"
    );
    if let Some(ws) = v["workload"].as_object() {
        for (name, w) in ws {
            let ci = &v["ci95"]["workload"][name];
            let latency = |k: &str| mean_pm(&w["latency_ms"][k], &ci["latency_ms"][k], Unit::Ms);
            let _ = writeln!(
                o,
                "{:<20} {:>18} {:>22} {:>22} {:>22}",
                name,
                mean_pm(&w["sent"], &ci["sent"], Unit::Count),
                mean_pm(&w["availability"], &ci["availability"], Unit::Percent),
                latency("mean"),
                latency("p99")
            );
        }
    }
    let _ = writeln!(o, "\nSLO");
    for (key, label, field, unit) in [
        ("sync_p99", "sync p99", "actual_ms", Unit::Ms),
        ("event_p99", "event p99", "actual_ms", Unit::Ms),
        ("availability", "availability", "actual", Unit::Percent),
    ] {
        let slo = &v["slo"][key];
        let goal = slo
            .get("target_ms")
            .or_else(|| slo.get("target"))
            .and_then(Value::as_f64)
            .map_or("-".into(), |t| target(key, t));
        let _ = writeln!(
            o,
            "  {label:<14} {:>22}   target {goal:<12} {}",
            mean_pm(&slo[field], &v["ci95"]["slo"][key][field], unit),
            verdict(
                &slo["verdict"]
                    .as_str()
                    .unwrap_or("-")
                    .replace('_', " ")
                    .to_uppercase(),
                colour
            )
        );
    }
    o
}
