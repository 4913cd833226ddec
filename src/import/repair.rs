//! The repairs that need every span: run once, after the last file.
//!
//! - The same span twice (same trace and span id): the first in file order is
//!   kept, the others dropped and counted.
//! - A parent that is not among the spans: the span becomes a root, counted.
//! - Parent links that form a cycle: broken at the cycle's first span in file
//!   order (it becomes a root), counted.
//! - Clock skew, a span starting before its parent: the span is moved later
//!   (its duration kept) to start with its parent, and counted. As Jaeger's
//!   skew adjuster does, the shift is a property of a host's clock: a child of
//!   the same service inherits its parent's shift, a child of another service
//!   is compared afresh. Ends are not clamped (asynchronous children outlive
//!   their parents).
//!
//! Memory: 17 bytes a span beyond the spans themselves (an index sorted by
//! id, the parent of each span, its shift and a visit state), freed on return.

use super::collect::{Tally, show_trace};
use super::span::Span;

const NONE: u32 = u32::MAX;

#[derive(Debug, Default)]
pub(crate) struct Repairs {
    pub duplicate: Tally,
    pub orphan: Tally,
    pub cycle: Tally,
    pub skew: Tally,
}

/// Applies every repair above to `spans` (in file order, which is kept).
pub(crate) fn repair(spans: &mut Vec<Span>, files: &[String]) -> Repairs {
    assert!(
        spans.len() < NONE as usize,
        "the span budget keeps indices within u32"
    );
    let mut r = Repairs::default();
    let order = drop_duplicates(spans, files, &mut r.duplicate);
    let mut parents = link_parents(spans, &order, files, &mut r.orphan);
    settle(spans, &mut parents, files, &mut r);
    r
}

fn describe(s: &Span, files: &[String]) -> String {
    let file = files.get(s.file as usize).map_or("", String::as_str);
    format!(
        "{file}: span {:016x} of trace {}",
        s.id,
        show_trace(s.trace)
    )
}

/// Span indices sorted by (trace, id), file order among equals.
fn by_id(spans: &[Span]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..spans.len() as u32).collect();
    order.sort_unstable_by_key(|&i| (spans[i as usize].trace, spans[i as usize].id, i));
    order
}

/// Drops the later copies of a span; returns the kept spans' indices sorted by id.
fn drop_duplicates(spans: &mut Vec<Span>, files: &[String], tally: &mut Tally) -> Vec<u32> {
    let order = by_id(spans);
    let mut keep = vec![true; spans.len()];
    let mut first_dropped = NONE;
    for w in order.windows(2) {
        let (a, b) = (&spans[w[0] as usize], &spans[w[1] as usize]);
        if (a.trace, a.id) == (b.trace, b.id) {
            keep[w[1] as usize] = false;
            first_dropped = first_dropped.min(w[1]);
            tally.count += 1;
        }
    }
    if tally.count == 0 {
        return order;
    }
    tally.example = describe(&spans[first_dropped as usize], files);
    let mut i = 0;
    spans.retain(|_| {
        i += 1;
        keep[i - 1]
    });
    // The kept spans' new indices keep their order: the sort stands, renumbered.
    let mut renumbered = vec![NONE; keep.len()];
    let kept = keep.iter().enumerate().filter(|(_, k)| **k);
    for (new, (old, _)) in kept.enumerate() {
        renumbered[old] = new as u32;
    }
    order
        .into_iter()
        .filter(|&i| keep[i as usize])
        .map(|i| renumbered[i as usize])
        .collect()
}

/// Each span's parent as an index (NONE for roots); parents not found are
/// removed (the span becomes a root) and counted.
fn link_parents(
    spans: &mut [Span],
    order: &[u32],
    files: &[String],
    tally: &mut Tally,
) -> Vec<u32> {
    let mut parents = vec![NONE; spans.len()];
    for i in 0..spans.len() {
        let Some(p) = spans[i].parent else { continue };
        let key = (spans[i].trace, p);
        let at =
            order.binary_search_by_key(&key, |&j| (spans[j as usize].trace, spans[j as usize].id));
        match at {
            Ok(k) => parents[i] = order[k],
            Err(_) => {
                tally.add(|| format!("{} (parent {p:016x})", describe(&spans[i], files)));
                spans[i].parent = None;
            }
        }
    }
    parents
}

/// Breaks parent cycles and clamps skewed spans, parents before children.
fn settle(spans: &mut [Span], parents: &mut [u32], files: &[String], r: &mut Repairs) {
    let n = spans.len();
    let (mut state, mut shift) = (vec![0u8; n], vec![0u64; n]);
    let mut path = Vec::new();
    for i in 0..n {
        if state[i] == 2 {
            continue;
        }
        while let Some(m) = walk_up(i, parents, &mut state, &mut path) {
            r.cycle.add(|| describe(&spans[m], files));
            parents[m] = NONE;
            spans[m].parent = None;
            for &j in &path {
                state[j as usize] = 0;
            }
        }
        for &j in path.iter().rev() {
            clamp(j as usize, spans, parents, &mut shift, files, &mut r.skew);
            state[j as usize] = 2;
        }
    }
}

/// Collects the unsettled ancestors of `i` (itself first) into `path`; if they
/// loop, returns the loop's first span in file order.
fn walk_up(i: usize, parents: &[u32], state: &mut [u8], path: &mut Vec<u32>) -> Option<usize> {
    path.clear();
    let mut j = i as u32;
    while j != NONE && state[j as usize] != 2 {
        if state[j as usize] == 1 {
            let at = path.iter().position(|&k| k == j).expect("on the path");
            return path[at..].iter().min().map(|&m| m as usize);
        }
        state[j as usize] = 1;
        path.push(j);
        j = parents[j as usize];
    }
    None
}

fn clamp(
    j: usize,
    spans: &mut [Span],
    parents: &[u32],
    shift: &mut [u64],
    files: &[String],
    tally: &mut Tally,
) {
    let p = parents[j];
    if p == NONE {
        return;
    }
    let p = p as usize;
    let (parent_start, parent_service) = (spans[p].start_ns, spans[p].service);
    let s = &mut spans[j];
    let inherited = if s.service == parent_service {
        shift[p]
    } else {
        0
    };
    let start = s.start_ns + inherited;
    let extra = parent_start.saturating_sub(start);
    if extra > 0 {
        tally.add(|| format!("{} (by {} µs)", describe(s, files), extra.div_ceil(1000)));
    }
    shift[j] = inherited + extra;
    s.start_ns += shift[j];
    s.end_ns += shift[j];
}
