//! The simulated side's load and length: each open workload whose target is
//! an entry endpoint of the traces is given the rate observed there; closed
//! loops and other workloads run as written. The run is long enough for a
//! stable comparison, and says how long and why.

use crate::engine::Time;
use crate::import::observe::{Group, Observed};
use crate::scenario::Scenario;
use crate::scenario::error::closest;
use crate::scenario::spec::{Arrival, Load, RateProfile};

/// Simulated requests wanted per entry endpoint (the run is cut at 10
/// observed windows if that comes first, and is never shorter than one).
pub const REQUESTS_PER_ENTRY: f64 = 20_000.0;
/// The longest run, in observed windows.
pub const MAX_WINDOWS: u64 = 10;

/// What one workload was run at.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoadRow {
    pub workload: String,
    pub target: String,
    /// The rate it was given, requests/s (None: as written).
    pub rate_per_s: Option<f64>,
    /// Where its load came from, in words.
    pub load: String,
}

/// The load and length of the simulated run.
#[derive(Clone, Debug)]
pub struct Plan {
    pub load: Vec<LoadRow>,
    pub duration: Time,
    /// How `duration` was chosen, in words.
    pub rule: String,
}

/// `service.endpoint` of endpoint `e`.
pub fn endpoint_key(s: &Scenario, e: usize) -> String {
    let ep = &s.endpoints[e];
    format!("{}.{}", s.services[ep.service].name, ep.name)
}

/// An entry's observed rate in requests/s (its weighted count over the window).
pub fn observed_rate(g: &Group, window: Time) -> f64 {
    g.weight / (window as f64 / 1e9)
}

/// Sets the observed rates and the run's length in `s`.
pub fn apply(s: &mut Scenario, obs: &Observed, file: &str) -> Result<Plan, String> {
    if obs.entries.is_empty() {
        return Err(
            "error: the traces have no SERVER span, so no entry endpoint to compare\n  \
             help: fit compares SERVER spans (an endpoint's work as its service saw it); \
             export the traces with the server instrumentation on\n"
                .into(),
        );
    }
    if obs.window_ns == 0 {
        return Err(
            "error: the traces' entry spans all start at one instant: no window to \
                    measure a rate over\n  help: give traces of at least a few seconds of load\n"
                .into(),
        );
    }
    let find = |key: &str| obs.entries.iter().find(|g| g.key() == key);
    let targets: Vec<String> = s
        .workloads
        .iter()
        .map(|w| endpoint_key(s, w.target))
        .collect();
    let matched: Vec<&Group> = targets.iter().filter_map(|t| find(t)).collect();
    if matched.is_empty() {
        return Err(no_match(s, obs, &targets, file));
    }
    let mut load = Vec::new();
    for (w, target) in s.workloads.iter_mut().zip(&targets) {
        let sharing = targets.iter().filter(|t| *t == target).count();
        let (rate, how) = match (&w.load, find(target)) {
            (Load::Open(a), Some(_)) if a.replay.is_some() => {
                (None, "as written (its send times are replayed)".into())
            }
            (Load::Open(a), Some(g)) => {
                let rate = observed_rate(g, obs.window_ns) / sharing as f64;
                w.load = Load::Open(Arrival {
                    poisson: a.poisson,
                    profile: RateProfile::Fixed(rate),
                    replay: None,
                });
                let share = if sharing > 1 {
                    format!(", shared by the {sharing} workloads sending there")
                } else {
                    String::new()
                };
                (
                    Some(super::round(rate, 3)),
                    format!("the rate observed at {target}{share}"),
                )
            }
            (Load::Closed(_), Some(_)) => (None, "as written (a closed loop)".into()),
            (_, None) => (
                None,
                "as written (its target is no entry endpoint of the traces)".into(),
            ),
        };
        load.push(LoadRow {
            workload: w.name.clone(),
            target: target.clone(),
            rate_per_s: rate,
            load: how,
        });
    }
    let slowest = matched
        .iter()
        .map(|g| observed_rate(g, obs.window_ns))
        .fold(f64::INFINITY, f64::min);
    let replayed = s.workloads.iter().filter_map(|w| match &w.load {
        Load::Open(a) => a.replay.as_ref().and_then(|t| t.last().copied()),
        Load::Closed(_) => None,
    });
    let (duration, rule) = match replayed.max() {
        // A replay sends its own times: the run covers them (after the warmup).
        Some(last) => {
            let d = last.saturating_sub(s.warmup).max(1_000_000);
            let rule = format!("{:.1} s: the replayed send times' span", d as f64 / 1e9);
            (d, rule)
        }
        None => duration(obs.window_ns, slowest),
    };
    s.duration = duration;
    Ok(Plan {
        load,
        duration,
        rule,
    })
}

/// max(window, min(10 windows, the time for 20,000 requests at the slowest
/// matched entry's rate)), in whole milliseconds.
fn duration(window: Time, slowest: f64) -> (Time, String) {
    let for_requests = (REQUESTS_PER_ENTRY / slowest * 1e9).min(1e18) as Time;
    let ms = 1_000_000;
    let d = for_requests
        .min(MAX_WINDOWS * window)
        .max(window)
        .div_ceil(ms)
        * ms;
    let s = |t: Time| t as f64 / 1e9;
    let rule = format!(
        "{:.1} s: the time for {REQUESTS_PER_ENTRY} requests at the slowest entry's {slowest:.2}/s \
         ({:.1} s), at most {MAX_WINDOWS} and at least 1 observed window of {:.1} s",
        s(d),
        s(for_requests),
        s(window)
    );
    (d, rule)
}

/// The error when no workload sends to an entry endpoint of the traces.
fn no_match(s: &Scenario, obs: &Observed, targets: &[String], file: &str) -> String {
    let seen: Vec<String> = obs.entries.iter().map(|g| g.key()).collect();
    let mut out = format!(
        "error: {file}: no workload sends to an entry endpoint of the traces\n  \
         = entry endpoints in the traces: {}\n  = workload targets in the scenario: {}\n",
        obs.entries
            .iter()
            .map(|g| format!("{} ({} spans)", g.key(), g.count()))
            .collect::<Vec<_>>()
            .join(", "),
        s.workloads
            .iter()
            .zip(targets)
            .map(|(w, t)| format!("{} → {t}", w.name))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (w, t) in s.workloads.iter().zip(targets) {
        if let Some(c) = closest(t, seen.iter().map(String::as_str)) {
            out += &format!("  help: did you mean '{c}' for workload {}?\n", w.name);
        }
    }
    out += "  = note: a trace's names become scenario names by import's rule: the span's \
            http.route when it has one, else its name; dots become _\n";
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duration_is_20000_requests_within_1_to_10_windows() {
        let s = 1_000_000_000;
        // 50/s over 60 s: 400 s for 20,000.
        assert_eq!(duration(60 * s, 50.0).0, 400 * s);
        // 5/s: 4,000 s, cut at 10 windows.
        assert_eq!(duration(60 * s, 5.0).0, 600 * s);
        // 5000/s: 4 s, but at least the window.
        assert_eq!(duration(60 * s, 5000.0).0, 60 * s);
    }
}
