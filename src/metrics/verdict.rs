//! The SLO verdicts: one definition of pass, fail and no data, and of the
//! availability they judge, used by summary.json and every report.

use serde::Serialize;

use super::latency::{Latency, round3, round6};
use super::{Collector, WorkloadStats};
use crate::engine::time::as_millis;
use crate::scenario::Scenario;

#[derive(Clone, Debug, Serialize)]
pub struct SloSummary {
    pub sync_p99: LatencyVerdict,
    pub event_p99: LatencyVerdict,
    pub availability: AvailabilityVerdict,
}

/// Whether a target was met: the one definition every output shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Measured and within the target (latency ≤ target, availability ≥ target).
    Pass,
    /// Measured and outside it; or something was sent and nothing came back
    /// (every request failed, no message handled), which misses any target.
    Fail,
    /// Nothing was sent that the target is about (no events in the scenario):
    /// the target does not apply, and it fails nothing (`--fail-on-slo` too).
    NoData,
}

impl Outcome {
    /// PASS, FAIL, NO DATA: as the terminal, the report and the charts say it.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Pass => "PASS",
            Outcome::Fail => "FAIL",
            Outcome::NoData => "NO DATA",
        }
    }

    fn of(actual: Option<bool>, anything_sent: bool) -> Outcome {
        match (actual, anything_sent) {
            (Some(true), _) => Outcome::Pass,
            (Some(false), _) | (None, true) => Outcome::Fail,
            (None, false) => Outcome::NoData,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct LatencyVerdict {
    pub target_ms: f64,
    /// None when there was nothing to measure (no events, no successful request).
    pub actual_ms: Option<f64>,
    /// `verdict == pass`.
    pub pass: bool,
    pub verdict: Outcome,
}

impl LatencyVerdict {
    /// "≤ 200 ms": a p99 at the target passes.
    pub fn target_text(&self) -> String {
        format!("≤ {} ms", self.target_ms)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct AvailabilityVerdict {
    pub target: f64,
    pub actual: Option<f64>,
    /// `verdict == pass`.
    pub pass: bool,
    pub verdict: Outcome,
}

impl AvailabilityVerdict {
    /// "≥ 99.9%": an availability at the target passes.
    pub fn target_text(&self) -> String {
        format!("≥ {}%", percent_text(self.target))
    }
}

impl SloSummary {
    /// The run missed a target (a no-data verdict misses nothing).
    pub fn missed(&self) -> bool {
        [
            self.sync_p99.verdict,
            self.event_p99.verdict,
            self.availability.verdict,
        ]
        .contains(&Outcome::Fail)
    }
}

/// 0.99985 → "99.985": a share as a percentage, at most four decimals, no
/// trailing zeros.
pub fn percent_text(x: f64) -> String {
    let s = format!("{:.4}", x * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// Requests answered ok over those that count: everything sent but the
/// requests still in flight at the end that had not yet outwaited the
/// client's patience (the run ended on them; they are neither ok nor failed).
pub fn availability(w: &WorkloadStats) -> Option<f64> {
    let counted = w.sent - (w.in_flight - w.hung);
    (counted > 0).then(|| round6(w.ok as f64 / counted as f64))
}

pub(super) fn slo(s: &Scenario, c: &Collector) -> SloSummary {
    let mut all = Latency::default();
    let mut total = WorkloadStats::default();
    for w in &c.workloads {
        all.merge(&w.latency);
        total.ok += w.ok;
        total.sent += w.sent;
        total.in_flight += w.in_flight;
        total.hung += w.hung;
    }
    let sync_actual = (all.count() > 0).then(|| round3(as_millis(all.quantile_ns(0.99))));
    let sync_target = as_millis(s.slo.sync_p99);
    let availability = availability(&total);
    let counted = total.sent - (total.in_flight - total.hung);
    // An overloaded run stopped before its end: it met no target.
    let stopped = c.overload.is_some();
    let sync = Outcome::of(
        sync_actual.map(|a| a <= sync_target && !stopped),
        counted > 0 || stopped,
    );
    let avail = Outcome::of(
        availability.map(|a| a >= s.slo.availability && !stopped),
        counted > 0 || stopped,
    );
    SloSummary {
        sync_p99: LatencyVerdict {
            target_ms: sync_target,
            actual_ms: sync_actual,
            pass: sync == Outcome::Pass,
            verdict: sync,
        },
        event_p99: {
            let mut events = Latency::default();
            let mut delivered = 0;
            for g in c.topics.iter().flat_map(|t| &t.groups) {
                events.merge(&g.latency);
                delivered += g.handled + g.dead_lettered + g.lost + g.in_flight;
            }
            let target_ms = as_millis(s.slo.event_p99);
            let actual_ms =
                (events.count() > 0).then(|| round3(as_millis(events.quantile_ns(0.99))));
            // No message for any consumer: the target does not apply.
            let verdict = Outcome::of(actual_ms.map(|a| a <= target_ms && !stopped), delivered > 0);
            LatencyVerdict {
                target_ms,
                actual_ms,
                pass: verdict == Outcome::Pass,
                verdict,
            }
        },
        availability: AvailabilityVerdict {
            target: s.slo.availability,
            actual: availability,
            pass: avail == Outcome::Pass,
            verdict: avail,
        },
    }
}
