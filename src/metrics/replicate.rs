//! Replications: N runs of one scenario under seeds derived from its seed,
//! combined into one summary whose every figure is the mean, with a 95%
//! confidence interval beside it and SLO verdicts that may be inconclusive.

use serde_json::{Map, Value};

use super::stats::{Estimate, Verdict, estimate};
use super::summary::{Outcome, Summary};
use crate::engine::rng::stable_hash;

/// The seed of replication `i` of a run seeded `seed` (independent streams).
pub fn replication_seed(seed: u64, i: usize) -> u64 {
    stable_hash(seed, &format!("replication/{i}"))
}

/// Combines the summaries of the replications, in order.
///
/// The result has summary.json's shape with means for numbers, plus
/// `replications`, `seeds`, a `ci95` tree of the same shape holding
/// `[low, high]` for every number, and a `verdict` (pass, fail,
/// inconclusive) on each SLO.
pub fn combine(summaries: &[Summary]) -> Value {
    let values: Vec<Value> = summaries
        .iter()
        .map(|s| serde_json::to_value(s).expect("a summary serialises"))
        .collect();
    let (mean, ci) = combine_values(&values);
    let mut out = match mean {
        Value::Object(m) => m,
        _ => unreachable!("a summary is an object"),
    };
    out.insert("seed".into(), Value::from(summaries[0].seed));
    out.insert("replications".into(), Value::from(summaries.len()));
    out.insert(
        "seeds".into(),
        summaries.iter().map(|s| Value::from(s.seed)).collect(),
    );
    let verdicts = verdicts(summaries);
    if let Some(Value::Object(slo)) = out.get_mut("slo") {
        for (name, verdict) in verdicts {
            if let Some(Value::Object(v)) = slo.get_mut(name) {
                v.insert("verdict".into(), Value::from(verdict.name()));
                // `pass` as in a single run: the verdict is pass.
                v.insert("pass".into(), Value::from(verdict == Verdict::Pass));
            }
        }
    }
    out.insert("ci95".into(), ci);
    Value::Object(out)
}

/// Means and intervals of a list of same-shaped JSON values.
fn combine_values(values: &[Value]) -> (Value, Value) {
    match &values[0] {
        Value::Number(_) => {
            let xs: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
            if xs.len() < values.len() {
                return (Value::Null, Value::Null);
            }
            let e = estimate(&xs);
            (num(e.mean), interval(e))
        }
        Value::Object(first) => {
            let (mut mean, mut ci) = (Map::new(), Map::new());
            for key in first.keys() {
                let column: Vec<Value> = values
                    .iter()
                    .map(|v| v.get(key).cloned().unwrap_or(Value::Null))
                    .collect();
                let (m, c) = combine_values(&column);
                if !c.is_null() {
                    ci.insert(key.clone(), c);
                }
                mean.insert(key.clone(), m);
            }
            (Value::Object(mean), Value::Object(ci))
        }
        Value::Array(first)
            if first.iter().all(Value::is_number)
                && values
                    .iter()
                    .all(|v| v.as_array().is_some_and(|a| a.len() == first.len())) =>
        {
            let (mut mean, mut ci) = (Vec::new(), Vec::new());
            for i in 0..first.len() {
                let column: Vec<Value> = values.iter().map(|v| v[i].clone()).collect();
                let (m, c) = combine_values(&column);
                mean.push(m);
                ci.push(c);
            }
            (Value::Array(mean), Value::Array(ci))
        }
        // Strings, booleans, ragged lists: those of the first replication.
        other => (other.clone(), Value::Null),
    }
}

fn num(x: f64) -> Value {
    if x.is_finite() {
        Value::from((x * 1e6).round() / 1e6)
    } else {
        Value::Null
    }
}

fn interval(e: Estimate) -> Value {
    Value::Array(vec![num(e.lo()), num(e.hi())])
}

fn verdicts(summaries: &[Summary]) -> Vec<(&'static str, Verdict)> {
    let s0 = &summaries[0].slo;
    // Every replication measured it: the interval decides. None did: all say
    // no data, or all failed to get an answer. A mix: inconclusive.
    let decide = |f: &dyn Fn(&Summary) -> (Option<f64>, Outcome),
                  judge: &dyn Fn(Estimate) -> Verdict| {
        let xs: Option<Vec<f64>> = summaries.iter().map(|s| f(s).0).collect();
        match xs {
            Some(xs) => judge(estimate(&xs)),
            None if summaries.iter().all(|s| f(s).1 == Outcome::NoData) => Verdict::NoData,
            None if summaries.iter().all(|s| f(s).1 == Outcome::Fail) => Verdict::Fail,
            None => Verdict::Inconclusive,
        }
    };
    let sync = decide(
        &|s| (s.slo.sync_p99.actual_ms, s.slo.sync_p99.verdict),
        &|e| Verdict::at_most(e, s0.sync_p99.target_ms),
    );
    let event = decide(
        &|s| (s.slo.event_p99.actual_ms, s.slo.event_p99.verdict),
        &|e| Verdict::at_most(e, s0.event_p99.target_ms),
    );
    let availability = decide(
        &|s| (s.slo.availability.actual, s.slo.availability.verdict),
        &|e| Verdict::at_least(e, s0.availability.target),
    );
    vec![
        ("sync_p99", sync),
        ("event_p99", event),
        ("availability", availability),
    ]
}
