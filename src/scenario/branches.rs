//! Branches: a `branch` step (one of several step lists, drawn at random)
//! and a step's `probability` (the step, or nothing), flattened into the
//! endpoint's program. A branch becomes a `Step::Branch` that jumps to the
//! first step of the entry drawn, or past the last entry when none is; each
//! entry but the last ends with a `Goto` past the last, so a job's step
//! counter still indexes one flat vector. Part of [`super::resolve`].

use super::error::Problem;
use super::node::YamlPath;
use super::raw::RawStep;
use super::resolve::Resolver;
use super::services::World;
use super::spec::{Branch, Step};
use super::steps::{Owner, step_list};

/// Probabilities may add up to 1 within this (as written in decimals).
const SUM_SLACK: f64 = 1e-9;

/// The step's `probability` when it is below 1 (else the step always runs).
pub(super) fn probability(r: &mut Resolver, st: &RawStep, path: &YamlPath) -> Option<f64> {
    let v = st.probability.as_ref()?;
    if st.branch.is_some() {
        r.push(
            Problem::new(
                path.key("probability"),
                "a branch step takes no probability",
            )
            .expected("probabilities on its entries (they may add up to less than 100%)"),
        );
        return None;
    }
    let p = r.fraction(&v.0, &path.key("probability"))?;
    (p < 1.0).then_some(p)
}

/// Appends a branch whose targets [`close`] fills in; returns its index.
pub(super) fn open(w: &mut World, here: &str, out: &mut Vec<Step>) -> usize {
    out.push(Step::Branch(Box::new(Branch {
        id: w.branches,
        at: here.to_string(),
        cumulative: Vec::new(),
        targets: Vec::new(),
    })));
    w.branches += 1;
    out.len() - 1
}

/// Completes the branch at `head` once its entries are in `out`: each entry's
/// probability and first step; the `Goto`s at `gotos` jump past the last.
pub(super) fn close(
    out: &mut [Step],
    head: usize,
    probabilities: &[f64],
    starts: &[usize],
    gotos: &[usize],
) {
    let end = out.len() as u32;
    for &g in gotos {
        out[g] = Step::Goto { to: end };
    }
    let mut sum = 0.0;
    let mut cumulative: Vec<f64> = probabilities
        .iter()
        .map(|p| {
            sum += p;
            sum
        })
        .collect();
    if let Some(last) = cumulative.last_mut()
        && *last > 1.0 - SUM_SLACK
    {
        *last = 1.0;
    }
    let Step::Branch(b) = &mut out[head] else {
        unreachable!("open put a branch at head");
    };
    b.cumulative = cumulative;
    b.targets = starts.iter().map(|&s| s as u32).chain([end]).collect();
}

/// A `branch` step: its entries' probabilities, then their steps in place.
pub(super) fn branch(
    r: &mut Resolver,
    w: &mut World,
    st: &RawStep,
    path: &YamlPath,
    at: Owner,
    here: &str,
    out: &mut Vec<Step>,
) {
    let entries = st.branch.as_deref().unwrap_or_default();
    let bp = path.key("branch");
    if entries.is_empty() {
        r.push(Problem::new(bp, "the branch has no entries").expected(
            "a list of {probability, steps}, e.g. [{probability: 20%, steps: [{call: db.query}]}]",
        ));
        return;
    }
    let probabilities: Vec<f64> = entries
        .iter()
        .enumerate()
        .map(|(k, e)| {
            let p = bp.index(k).key("probability");
            r.fraction(&e.probability.0, &p).unwrap_or(0.0)
        })
        .collect();
    let sum: f64 = probabilities.iter().sum();
    if sum > 1.0 + SUM_SLACK {
        r.push(
            Problem::new(
                bp.clone(),
                format!("the probabilities add up to {}%", round(sum * 100.0)),
            )
            .expected("at most 100% in all (the rest takes no entry)")
            .help(sum_help(&probabilities)),
        );
    }
    let head = open(w, here, out);
    let (mut starts, mut gotos) = (Vec::new(), Vec::new());
    for (k, (e, &p)) in entries.iter().zip(&probabilities).enumerate() {
        let ep = bp.index(k).key("steps");
        if e.steps.is_empty() {
            r.push(
                Problem::new(ep.clone(), "the entry has no steps")
                    .expected("at least one step, e.g. steps: [{call: db.query}]"),
            );
        }
        starts.push(out.len());
        step_list(
            r,
            w,
            &e.steps,
            &ep,
            at.times(p),
            &format!("{here}.{k}"),
            out,
        );
        if k + 1 < entries.len() {
            gotos.push(out.len());
            out.push(Step::Goto { to: 0 });
        }
    }
    close(out, head, &probabilities, &starts, &gotos);
}

/// How to bring a branch's probabilities down to 100%.
fn sum_help(probabilities: &[f64]) -> String {
    let (last, others) = probabilities.split_last().expect("a branch has entries");
    let room = 1.0 - others.iter().sum::<f64>();
    if room >= 0.0 && room < *last {
        format!(
            "lower the last entry to at most {}%, or the others",
            round(room * 100.0)
        )
    } else {
        "lower the probabilities; what they leave of 100% takes no entry".into()
    }
}

/// A sum as people read it: 110%, 100.5%, not 110.00000000000001%.
fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Reports a branch or a probability on a call inside `parallel`.
pub(super) fn not_in_parallel(r: &mut Resolver, st: &RawStep, path: &YamlPath) {
    if st.branch.is_some() {
        r.push(
            Problem::new(path.key("branch"), "a parallel branch must be a call")
                .expected("{call: service.endpoint}; put the parallel inside the branch instead"),
        );
    }
    if st.probability.is_some() {
        r.push(
            Problem::new(
                path.key("probability"),
                "a call inside parallel cannot have its own probability",
            )
            .expected("the probability on the parallel step, or the parallel inside a branch"),
        );
    }
}
