//! A handler's `steps:` as text: the exclusive work first, then each planned
//! step ([`steps::plan`]) with its evidence: a call or publish (with `fanout`,
//! repeated copies, `probability`), a `parallel` step, or a `branch` of steps
//! never seen together in one job.

use std::fmt::Write;

use super::distfit::{duration, significant};
use super::infer::{Handler, Target};
use super::steps::{self, ALWAYS, Planned};
use super::write::{fitted, q};

/// The YAML of a target: `call: "svc.ep"` or `publish: "topic"`.
pub fn target_yaml(t: &Target) -> String {
    match t {
        Target::Call { service, endpoint } => {
            format!("call: {}", q(&format!("{service}.{endpoint}")))
        }
        Target::Publish { topic } => format!("publish: {}", q(topic)),
    }
}

/// The steps of a handler, indented by `indent` spaces.
pub fn steps_yaml(out: &mut String, h: &Handler, indent: usize) {
    let pad = " ".repeat(indent);
    let (dist, evidence) = fitted(&h.work).unwrap_or_else(|| ("0ns".into(), "no jobs".into()));
    let _ = writeln!(
        out,
        "{pad}# exclusive work (the span minus its calls and publishes), as one step: the traces give the sum's distribution; {evidence}"
    );
    let _ = writeln!(out, "{pad}- work: {dist}");
    for group in steps::plan(h) {
        if group.len() == 1 {
            one(out, h, &group[0], &pad, true);
        } else {
            branch(out, h, &group, &pad);
        }
    }
}

/// One planned step; `own_probability` false inside a branch entry (the entry has it).
fn one(out: &mut String, h: &Handler, p: &Planned, pad: &str, own_probability: bool) {
    let always = p.probability >= ALWAYS;
    let probability = own_probability && !always;
    let share = format!(
        "in {} of {} jobs ({:.1}%), at a median of {} from the start",
        p.jobs_with,
        h.jobs,
        p.probability * 100.0,
        duration(p.offset as f64)
    );
    if p.items.len() == 1 {
        let i = p.items[0];
        let (fanout, repeat) = steps::copies(h, i);
        if repeat > 1 && probability {
            // The copies happen together or not at all: a branch of one entry.
            return branch(out, h, std::slice::from_ref(p), pad);
        }
        // The evidence once, then the step once per copy.
        let _ = writeln!(out, "{pad}# {share}{}", copies_note(fanout, repeat));
        late_note(out, h, i, pad);
        for _ in 0..repeat {
            let _ = writeln!(out, "{pad}- {}", target_yaml(&h.targets[i].target));
            if fanout > 1 {
                let _ = writeln!(out, "{pad}  fanout: {fanout}");
            }
            if probability {
                let _ = writeln!(out, "{pad}  probability: {}", significant(p.probability));
            }
        }
        return;
    }
    let _ = writeln!(
        out,
        "{pad}# {share}; these overlapped in time in most jobs: parallel"
    );
    let _ = writeln!(out, "{pad}- parallel:");
    for &i in &p.items {
        let t = &h.targets[i];
        let _ = writeln!(out, "{pad}    # in {} of {} jobs", t.jobs_with, h.jobs);
        let _ = writeln!(out, "{pad}    - {}", target_yaml(&t.target));
        let (fanout, _) = steps::copies(h, i);
        if fanout > 1 {
            let _ = writeln!(out, "{pad}      fanout: {fanout}");
        }
    }
    if probability {
        let _ = writeln!(out, "{pad}  probability: {}", significant(p.probability));
    }
}

/// A `branch` step, one entry per planned step.
fn branch(out: &mut String, h: &Handler, entries: &[Planned], pad: &str) {
    if entries.len() > 1 {
        let n = h.jobs as f64;
        let expected: f64 = entries
            .iter()
            .enumerate()
            .flat_map(|(x, a)| {
                entries[x + 1..]
                    .iter()
                    .map(move |b| a.probability * b.probability * n)
            })
            .sum();
        let _ = writeln!(
            out,
            "{pad}# never together in one job, where {expected:.1} jobs would have had two of them if they were independent: one branch"
        );
    }
    let _ = writeln!(out, "{pad}- branch:");
    for e in entries {
        let _ = writeln!(
            out,
            "{pad}    - probability: {}  # in {} of {} jobs",
            significant(e.probability),
            e.jobs_with,
            h.jobs
        );
        let _ = writeln!(out, "{pad}      steps:");
        one(out, h, e, &format!("{pad}        "), false);
    }
}

/// A comment on copies sent while earlier ones were in flight, if any.
fn late_note(out: &mut String, h: &Handler, i: usize, pad: &str) {
    if let Some((n, delay)) = steps::late_copies(h, i) {
        let _ = writeln!(
            out,
            "{pad}# and {n} copies sent later while earlier ones were in flight (a median of {} \
             after the first): hedges or retries after a timeout, which the traces cannot \
             tell apart: set `hedge` or `retry`",
            duration(delay as f64)
        );
    }
}

fn copies_note(fanout: u32, repeat: u32) -> String {
    if fanout > 1 {
        format!("; {fanout} copies at once (median): fanout")
    } else if repeat > 1 {
        format!("; {repeat} copies one after another (median): repeated")
    } else {
        String::new()
    }
}
