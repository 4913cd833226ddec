//! A handler's steps from what its jobs did: the order of its targets (median
//! start offset), which of them overlap in time (→ one `parallel` step), how many
//! copies at once (→ `fanout`), copies one after another (→ the call repeated),
//! and the share of jobs in which each step happens (→ `probability`).

use super::infer::{Handler, Target};

/// A step share at or above this is written as always (no `probability`).
pub const ALWAYS: f64 = 0.995;

/// The most sequential copies of a call written as repeated steps.
pub const MAX_REPEAT: u32 = 10;

/// One step to write: a target, or several calls in `parallel`.
#[derive(Clone, Debug)]
pub struct Planned {
    /// Indices into the handler's `targets`, in order.
    pub items: Vec<usize>,
    /// Jobs in which the step happened (its first item's count).
    pub jobs_with: u64,
    /// That share of the handler's jobs.
    pub probability: f64,
    /// Median start offset of its first item (ns).
    pub offset: u64,
}

/// Copies of a target per job where it happens: (fanout, repeat). Overlapping
/// copies in most jobs are a fan-out; otherwise copies come one after another.
pub fn copies(h: &Handler, i: usize) -> (u32, u32) {
    let t = &h.targets[i];
    let mut c = t.copies.clone();
    c.sort_unstable();
    let median = c.get(c.len() / 2).copied().unwrap_or(1).max(1);
    if t.overlapping_copies * 2 > t.jobs_with {
        (median, 1)
    } else {
        (1, median.min(MAX_REPEAT))
    }
}

/// Whether targets a and b overlapped in most jobs that had both.
pub fn overlap(h: &Handler, a: usize, b: usize) -> bool {
    let key = (a.min(b), a.max(b));
    h.pairs
        .get(&key)
        .is_some_and(|(both, over)| over * 2 > *both)
}

fn median(v: &[u64]) -> u64 {
    let mut v = v.to_vec();
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// The handler's steps, in order, parallel groups formed.
pub fn plan(h: &Handler) -> Vec<Planned> {
    let mut order: Vec<(u64, &Target, usize)> = h
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| (median(&t.offsets), &t.target, i))
        .collect();
    order.sort();
    let mut out: Vec<Planned> = Vec::new();
    for (offset, target, i) in order {
        let is_call = matches!(target, Target::Call { .. });
        if let Some(last) = out.last_mut() {
            let calls = last
                .items
                .iter()
                .all(|&x| matches!(h.targets[x].target, Target::Call { .. }));
            if is_call && calls && last.items.iter().any(|&x| overlap(h, x, i)) {
                last.items.push(i);
                continue;
            }
        }
        let jobs_with = h.targets[i].jobs_with;
        out.push(Planned {
            items: vec![i],
            jobs_with,
            probability: jobs_with as f64 / h.jobs.max(1) as f64,
            offset,
        });
    }
    out
}
