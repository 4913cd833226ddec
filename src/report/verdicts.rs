//! The three SLO verdicts as the reports show them: the figure as text, the
//! target, and PASS, FAIL, NO DATA or INCONCLUSIVE.

use super::format::decimals;
use crate::metrics::Summary;
use crate::metrics::summary::{LatencyVerdict, Outcome};

/// One SLO verdict, as the report shows it.
pub struct Verdict {
    pub name: &'static str,
    pub key: &'static str,
    /// The figure as text ("25.6 ms", "99.985%").
    pub actual: String,
    /// The figure exactly as summary.json has it.
    pub value: Option<f64>,
    pub target: String,
    /// None: nothing to measure, or (with replications) inconclusive.
    pub pass: Option<bool>,
    pub label: &'static str,
}

/// The three SLO verdicts of a summary, as summary.json decides them.
pub fn verdicts(s: &Summary) -> Vec<Verdict> {
    let slo = &s.slo;
    let ms = |v: Option<f64>| v.map_or("no data".to_string(), |v| format!("{v} ms"));
    let latency = |name, key, v: &LatencyVerdict| {
        let actual = ms(v.actual_ms);
        (name, key, v.actual_ms, v.verdict, actual, v.target_text())
    };
    let rows = [
        latency("Synchronous p99", "sync_p99", &slo.sync_p99),
        latency("Event p99", "event_p99", &slo.event_p99),
        (
            "Availability",
            "availability",
            slo.availability.actual,
            slo.availability.verdict,
            slo.availability
                .actual
                .map_or("no data".to_string(), |a| format!("{}%", percent(a))),
            slo.availability.target_text(),
        ),
    ];
    rows.into_iter()
        .map(|(name, key, value, outcome, actual, target)| Verdict {
            name,
            key,
            actual,
            value,
            target,
            pass: match outcome {
                Outcome::Pass => Some(true),
                Outcome::Fail => Some(false),
                Outcome::NoData => None,
            },
            label: outcome.label(),
        })
        .collect()
}

/// The verdicts of runs with replications (summary.json's combined form):
/// the mean with its 95% interval, and pass, fail or inconclusive.
pub fn verdicts_combined(v: &serde_json::Value) -> Vec<Verdict> {
    [
        ("Synchronous p99", "sync_p99", "actual_ms", "target_ms"),
        ("Event p99", "event_p99", "actual_ms", "target_ms"),
        ("Availability", "availability", "actual", "target"),
    ]
    .into_iter()
    .map(|(name, key, field, target_field)| {
        let slo = &v["slo"][key];
        let ci = &v["ci95"]["slo"][key][field];
        let value = slo[field].as_f64();
        let availability = key == "availability";
        let show = |x: f64| {
            if availability {
                format!("{}%", percent(x))
            } else {
                format!("{} ms", decimals(x, 3))
            }
        };
        let actual = match (value, ci[0].as_f64(), ci[1].as_f64()) {
            (Some(m), Some(lo), Some(hi)) => {
                format!("{} (95%: {} to {})", show(m), show(lo), show(hi))
            }
            (Some(m), _, _) => show(m),
            _ => "no data".into(),
        };
        let target = slo[target_field].as_f64().unwrap_or(0.0);
        let target = if availability {
            format!("≥ {}%", percent(target))
        } else {
            format!("≤ {target} ms")
        };
        let (pass, label) = match slo["verdict"].as_str() {
            Some("pass") => (Some(true), "PASS"),
            Some("fail") => (Some(false), "FAIL"),
            Some("no_data") => (None, "NO DATA"),
            _ => (None, "INCONCLUSIVE"),
        };
        Verdict {
            name,
            key,
            actual,
            value,
            target,
            pass,
            label,
        }
    })
    .collect()
}

/// 0.99985 → "99.985" (the shortest form that is exact for six decimals).
pub fn percent(x: f64) -> String {
    decimals(x * 100.0, 4)
}
