//! Capacity planning: the cheapest values of the varied parameters (replica
//! counts) that meet every SLO with confidence.
//!
//! More replicas never hurt, so each parameter's smallest passing value is
//! found by bisection with the others held; the parameters are visited in
//! turn until none can come down. Every run made is kept as evidence.

use serde::Serialize;

use crate::metrics::stats::{Estimate, Verdict, estimate};
use crate::metrics::summary::Outcome;
use crate::scenario::{self, LoadError, Override};

/// One configuration tried and what it gave.
#[derive(Clone, Debug, Serialize)]
pub struct Trial {
    pub values: Vec<u32>,
    pub p99_ms: Option<f64>,
    pub p99_ci95: Option<(f64, f64)>,
    pub availability: Option<f64>,
    pub availability_ci95: Option<(f64, f64)>,
    pub verdict: &'static str,
    pub replicas: u32,
}

/// What the planner found.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    pub paths: Vec<String>,
    /// The cheapest passing configuration, if any within the bounds.
    pub best: Option<Vec<u32>>,
    /// For each parameter, the best configuration with that one value lowered by one.
    pub one_fewer: Vec<Option<Trial>>,
    pub trials: Vec<Trial>,
}

pub struct Planner<'a> {
    pub text: &'a str,
    pub source: &'a str,
    pub paths: Vec<String>,
    pub min: u32,
    pub max: u32,
    pub replications: usize,
    pub seed: Option<u64>,
}

impl Planner<'_> {
    /// Checks every path is well formed and exists, at the lowest and highest value.
    /// Returns the scenario's warnings (as the lowest values load it), rendered.
    pub fn check(&self) -> Result<String, LoadError> {
        let low = self.load(&vec![self.min; self.paths.len()])?;
        self.load(&vec![self.max; self.paths.len()])?;
        Ok(scenario::render_warnings(&low, self.text))
    }

    fn load(&self, values: &[u32]) -> Result<scenario::Scenario, LoadError> {
        let overrides = self
            .paths
            .iter()
            .zip(values)
            .map(|(p, v)| Override::parse(&format!("{p}={v}")))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| LoadError {
                problems: vec![scenario::Problem::new(Default::default(), e)],
                text: None,
            })?;
        scenario::load_str(self.text, self.source, &overrides)
    }

    /// Runs one configuration with replications; passes only with confidence.
    pub fn evaluate(&self, values: &[u32]) -> Trial {
        // A mix of values the scenario refuses (say, min above max) is no candidate.
        let Ok(s) = self.load(values) else {
            return Trial {
                values: values.to_vec(),
                p99_ms: None,
                p99_ci95: None,
                availability: None,
                availability_ci95: None,
                verdict: "invalid",
                replicas: 0,
            };
        };
        let base = self.seed.unwrap_or(s.seed);
        let summaries: Vec<_> = crate::sweep::replicate(&s, base, self.replications)
            .into_iter()
            .map(|(sum, _)| sum)
            .collect();
        let column = |f: &dyn Fn(&crate::metrics::Summary) -> Option<f64>| -> Option<Estimate> {
            let xs: Option<Vec<f64>> = summaries.iter().map(f).collect();
            xs.map(|x| estimate(&x))
        };
        let p99 = column(&|x| x.slo.sync_p99.actual_ms);
        let availability = column(&|x| x.slo.availability.actual);
        let single = self.replications == 1;
        let judge = |e: Option<Estimate>, pass: &dyn Fn(Estimate) -> Verdict, plain: bool| match e {
            None => Verdict::Fail,
            Some(_) if single => {
                if plain {
                    Verdict::Pass
                } else {
                    Verdict::Fail
                }
            }
            Some(e) => pass(e),
        };
        let slo = &summaries[0].slo;
        let v1 = judge(
            p99,
            &|e| Verdict::at_most(e, slo.sync_p99.target_ms),
            slo.sync_p99.pass,
        );
        let v2 = judge(
            availability,
            &|e| Verdict::at_least(e, slo.availability.target),
            slo.availability.pass,
        );
        let events_ok = summaries
            .iter()
            .all(|x| x.slo.event_p99.verdict != Outcome::Fail);
        let verdict = match (v1, v2) {
            _ if !events_ok => Verdict::Fail,
            (Verdict::Pass, Verdict::Pass) => Verdict::Pass,
            (Verdict::Fail, _) | (_, Verdict::Fail) => Verdict::Fail,
            _ => Verdict::Inconclusive,
        };
        let ci = |e: Option<Estimate>| {
            e.filter(|e| e.half_width.is_finite())
                .map(|e| (e.lo(), e.hi()))
        };
        Trial {
            values: values.to_vec(),
            p99_ms: p99.map(|e| e.mean),
            p99_ci95: ci(p99),
            availability: availability.map(|e| e.mean),
            availability_ci95: ci(availability),
            verdict: verdict.name(),
            replicas: s.replicas(),
        }
    }

    /// Plans, calling `progress` after each trial.
    pub fn plan(&self, progress: &dyn Fn(&Trial)) -> Plan {
        let mut trials: Vec<Trial> = Vec::new();
        let run = |values: &[u32], trials: &mut Vec<Trial>| -> bool {
            if let Some(t) = trials.iter().find(|t| t.values == values) {
                return t.verdict == "pass";
            }
            let t = self.evaluate(values);
            progress(&t);
            let pass = t.verdict == "pass";
            trials.push(t);
            pass
        };
        let n = self.paths.len();
        let mut current = vec![self.max; n];
        if !run(&current, &mut trials) {
            return Plan {
                paths: self.paths.clone(),
                best: None,
                one_fewer: vec![None; n],
                trials,
            };
        }
        loop {
            let before = current.clone();
            for k in 0..n {
                // The smallest passing value of parameter k, the others held.
                let (mut lo, mut hi) = (self.min, current[k]);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    let mut trial = current.clone();
                    trial[k] = mid;
                    if run(&trial, &mut trials) {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                current[k] = hi;
            }
            if current == before {
                break;
            }
        }
        let one_fewer = (0..n)
            .map(|k| {
                (current[k] > self.min).then(|| {
                    let mut v = current.clone();
                    v[k] -= 1;
                    run(&v, &mut trials);
                    trials
                        .iter()
                        .find(|t| t.values == v)
                        .cloned()
                        .expect("just run")
                })
            })
            .collect();
        Plan {
            paths: self.paths.clone(),
            best: Some(current),
            one_fewer,
            trials,
        }
    }
}
