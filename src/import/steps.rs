//! A handler's steps from what its jobs did: the order of its targets (median
//! start offset), which of them overlap in time (→ one `parallel` step), how many
//! copies at once (→ `fanout`), copies one after another (→ the call repeated),
//! and the share of jobs in which each step happens (→ `probability`). Adjacent
//! optional steps never seen in one job together, though independent ones would
//! have been at least [`MIN_EXPECTED_TOGETHER`] times, are one `branch`.

use super::infer::{Handler, Target};

/// A step share at or above this is written as always (no `probability`).
pub const ALWAYS: f64 = 0.995;

/// The most sequential copies of a call written as repeated steps.
pub const MAX_REPEAT: u32 = 10;

/// Steps never together are a branch only if independence would have put them
/// together in at least this many jobs (else the evidence says nothing).
pub const MIN_EXPECTED_TOGETHER: f64 = 3.0;

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
/// copies in most jobs are a fan-out of the copies sent together (the median
/// count); otherwise copies come one after another.
pub fn copies(h: &Handler, i: usize) -> (u32, u32) {
    let t = &h.targets[i];
    let median = |v: &[u32]| {
        let mut c = v.to_vec();
        c.sort_unstable();
        c.get(c.len() / 2).copied().unwrap_or(1).max(1)
    };
    if t.overlapping_copies * 2 > t.jobs_with {
        (median(&t.together), 1)
    } else {
        (1, median(&t.copies).min(MAX_REPEAT))
    }
}

/// Copies sent later while earlier ones were in flight: (how many, the median
/// delay after the first copy in ns), or None.
pub fn late_copies(h: &Handler, i: usize) -> Option<(usize, u64)> {
    let late = &h.targets[i].late;
    (!late.is_empty()).then(|| (late.len(), median(late)))
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

/// The handler's steps in order: each group of more than one is a branch.
pub fn plan(h: &Handler) -> Vec<Vec<Planned>> {
    let mut groups: Vec<Vec<Planned>> = Vec::new();
    for p in ordered(h) {
        if let Some(g) = groups.last_mut()
            && exclusive(h, g, &p)
        {
            g.push(p);
            continue;
        }
        groups.push(vec![p]);
    }
    groups
}

/// Whether `p` never happened in a job with any of `g`'s steps, all optional,
/// where independence would have put each pair together often enough.
fn exclusive(h: &Handler, g: &[Planned], p: &Planned) -> bool {
    let n = h.jobs as f64;
    p.probability < ALWAYS
        && g.iter().all(|e| {
            e.probability < ALWAYS
                && e.probability * p.probability * n >= MIN_EXPECTED_TOGETHER
                && e.items.iter().all(|&a| {
                    p.items
                        .iter()
                        .all(|&b| !h.pairs.contains_key(&(a.min(b), a.max(b))))
                })
        })
}

/// The handler's steps, in order, parallel groups formed.
fn ordered(h: &Handler) -> Vec<Planned> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::span::{Kind, Spans};

    use super::tests_support::span as add;

    /// Per trace: a's job calls b three times at once, then (in trace 1 only) c twice in turn.
    #[test]
    fn overlapping_copies_are_a_fanout_and_sequential_ones_repeat() {
        let mut s = Spans::default();
        for trace in [1u128, 2] {
            add(&mut s, trace, 1, 0, "a", Kind::Server, (0, 100));
            for k in 0..3u64 {
                let ms = (10 + 2 * k, 50 + 2 * k);
                add(&mut s, trace, 10 + k, 1, "a", Kind::Client, ms);
                add(
                    &mut s,
                    trace,
                    20 + k,
                    10 + k,
                    "b",
                    Kind::Server,
                    (ms.0 + 1, ms.1 - 1),
                );
            }
            if trace == 1 {
                for (k, ms) in [(0u64, (60, 70)), (1, (72, 80))] {
                    add(&mut s, trace, 30 + k, 1, "a", Kind::Client, ms);
                    add(
                        &mut s,
                        trace,
                        40 + k,
                        30 + k,
                        "c",
                        Kind::Server,
                        (ms.0 + 1, ms.1 - 1),
                    );
                }
            }
        }
        let g = crate::import::infer(&s);
        let a = g.handlers.iter().find(|h| h.service == "a").unwrap();
        let plan = ordered(a);
        assert_eq!(super::plan(a).len(), 2, "too few jobs for a branch");
        assert_eq!(plan.len(), 2, "{plan:?}");
        assert_eq!((plan[0].items.len(), plan[0].probability), (1, 1.0));
        assert_eq!(
            copies(a, plan[0].items[0]),
            (3, 1),
            "three at once: fanout 3"
        );
        assert_eq!(copies(a, plan[1].items[0]), (1, 2), "two in turn: repeated");
        assert_eq!(late_copies(a, plan[0].items[0]), None, "no hedges");
        assert_eq!(plan[1].probability, 0.5);
        // Exclusive work: 100 ms minus [10, 54] and, in trace 1, [60, 70] and [72, 80].
        let mut work = a.work.clone();
        work.sort_by(f64::total_cmp);
        assert_eq!(work, [38e6, 56e6]);
        // Hops: (40 ms client - 38 ms server) / 2 each.
        assert!(g.hops.average.iter().all(|&h| h == 1e6), "{:?}", g.hops);
    }
}

#[cfg(test)]
mod hedge_tests {
    use super::tests_support::{call, span as add};
    use super::*;
    use crate::import::{Kind, Spans};

    /// Per trace: a's job sends b four copies 1 ms apart (a fan-out), and in
    /// trace 1 a fifth copy 30 ms after the first while they are in flight (a hedge).
    #[test]
    fn copies_sent_together_are_the_fanout_and_later_ones_hedges() {
        let mut s = Spans::default();
        for trace in [1u128, 2, 3] {
            add(&mut s, trace, 1, 0, "a", Kind::Server, (0, 100));
            let mut starts: Vec<u64> = vec![0, 1, 2, 3];
            if trace == 1 {
                starts.push(30);
            }
            for (k, &start) in starts.iter().enumerate() {
                call(
                    &mut s,
                    trace,
                    10 + 2 * k as u64,
                    "b",
                    (10 + start, 50 + start),
                );
            }
        }
        let g = crate::import::infer(&s);
        let a = g.handlers.iter().find(|h| h.service == "a").unwrap();
        assert_eq!(copies(a, 0), (4, 1), "four sent together: fanout 4");
        assert_eq!(
            late_copies(a, 0),
            Some((1, 30_000_000)),
            "one hedge 30 ms after"
        );
    }
}

#[cfg(test)]
mod branch_tests {
    use super::tests_support::*;
    use super::*;

    /// 40 jobs of a: ten call b, ten call c, never both; four call d and b together.
    #[test]
    fn steps_never_together_are_one_branch() {
        let mut s = crate::import::span::Spans::default();
        for trace in 1..=40u128 {
            add(&mut s, trace, 1, 0, "a", (0, 100));
            let callee = match trace % 4 {
                0 => Some("b"),
                1 => Some("c"),
                _ => None,
            };
            if let Some(callee) = callee {
                call(&mut s, trace, 10, callee, (10, 20));
            }
            if trace % 10 == 0 {
                call(&mut s, trace, 30, "d", (30, 40));
            }
        }
        let g = crate::import::infer(&s);
        let a = g.handlers.iter().find(|h| h.service == "a").unwrap();
        let groups = plan(a);
        let shape: Vec<Vec<f64>> = groups
            .iter()
            .map(|g| g.iter().map(|p| p.probability).collect())
            .collect();
        // b and c: 10 of 40 each, 2.5 expected together... below 3: not enough evidence.
        assert_eq!(shape, [vec![0.25], vec![0.25], vec![0.1]], "{groups:?}");
        // With 80 jobs (5 expected together) they are a branch; d (with b) stays apart.
        let mut s2 = crate::import::span::Spans::default();
        for copy in 0..2u128 {
            for x in &s.spans {
                let mut y = x.clone();
                y.trace += copy * 1000;
                s2.spans.push(y);
            }
        }
        s2.names = s.names;
        let g = crate::import::infer(&s2);
        let a = g.handlers.iter().find(|h| h.service == "a").unwrap();
        let groups = plan(a);
        let sizes: Vec<usize> = groups.iter().map(Vec::len).collect();
        assert_eq!(sizes, [2, 1], "{groups:?}");
        let options = crate::import::Options {
            name: "b".into(),
            sample_rate: 1.0,
            ..Default::default()
        };
        let text = crate::import::scenario(&g, &options);
        let loaded = crate::scenario::load_str(&text, "b.yaml", &[]);
        assert!(loaded.is_ok(), "{text}");
        assert!(text.contains("- branch:\n"), "{text}");
    }
}

#[cfg(test)]
mod tests_support {
    use crate::import::span::{Kind, NO_NAME, Span, Spans, Status};

    /// A SERVER span of `service` named "op"; times in ms.
    pub fn add(s: &mut Spans, trace: u128, id: u64, parent: u64, service: &str, ms: (u64, u64)) {
        span(s, trace, id, parent, service, Kind::Server, ms);
    }

    /// A CLIENT span of "a" (id) and its SERVER child in `callee` (id + 1).
    pub fn call(s: &mut Spans, trace: u128, id: u64, callee: &str, ms: (u64, u64)) {
        span(s, trace, id, 1, "a", Kind::Client, ms);
        span(s, trace, id + 1, id, callee, Kind::Server, (ms.0, ms.1 - 1));
    }

    pub fn span(
        s: &mut Spans,
        trace: u128,
        id: u64,
        parent: u64,
        service: &str,
        kind: Kind,
        ms: (u64, u64),
    ) {
        let service = s.names.intern(service);
        let name = s.names.intern("op");
        s.spans.push(Span {
            trace,
            id,
            parent: (parent != 0).then_some(parent),
            link: None,
            service,
            name,
            kind,
            start_ns: ms.0 * 1_000_000,
            end_ns: ms.1 * 1_000_000,
            status: Status::Unset,
            http_status: 200,
            destination: NO_NAME,
            system: NO_NAME,
            sample_ratio: None,
            file: 0,
        });
    }
}
