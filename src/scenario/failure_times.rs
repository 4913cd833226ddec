//! When a failure happens: a window (`at`, `for`) or at random (`mtbf`, `mttr`).
//! Part of [`super::failures`].
//!
//! Any kind is random when it has `mtbf` and `mttr` instead of `at` and `for`;
//! `random: SERVICE` is the older shorthand of a random crash. Each of `mtbf`
//! and `mttr` is a duration, the mean of an exponential (the classic,
//! memoryless MTBF), or a distribution written as a map (`{constant: 30s}`,
//! `{lognormal: {median: 20s, p99: 3m}}`).

use serde_json::Value;

use super::error::Problem;
use super::node::YamlPath;
use super::raw::RawFailure;
use super::resolve::Resolver;
use super::spec::When;
use crate::engine::Dist;

/// How the failure of kind `kind` happens, or a problem with its timing keys.
pub(super) fn when(r: &mut Resolver, f: &RawFailure, p: &YamlPath, kind: &str) -> Option<When> {
    let random_keys = f.mtbf.is_some() || f.mttr.is_some();
    if kind == "random" {
        for (key, present) in [("at", f.at.is_some()), ("for", f.for_.is_some())] {
            if present {
                r.push(
                    Problem::new(
                        p.key(key),
                        format!("'{key}' does not apply to a random failure"),
                    )
                    .expected("random failures have mtbf and mttr"),
                );
            }
        }
        return random(r, f, p);
    }
    if random_keys {
        if f.at.is_some() || f.for_.is_some() {
            both(r, p, f, kind);
            return None;
        }
        return random(r, f, p);
    }
    window(r, f, p)
}

/// `mtbf` (or `mttr`) with `at` (or `for`): a failure is one or the other.
fn both(r: &mut Resolver, p: &YamlPath, f: &RawFailure, kind: &str) {
    let random_key = if f.mtbf.is_some() { "mtbf" } else { "mttr" };
    let window_key = if f.at.is_some() { "at" } else { "for" };
    r.push(
        Problem::new(
            p.key(random_key),
            format!("'{random_key}' and '{window_key}' do not go together"),
        )
        .expected(format!(
            "a window {{at, for, {kind}}} or a random failure {{mtbf, mttr, {kind}}}"
        ))
        .help(format!(
            "remove '{random_key}' for one failure at a known time, or 'at' and 'for' \
             for failures that come and go at random"
        )),
    );
}

fn random(r: &mut Resolver, f: &RawFailure, p: &YamlPath) -> Option<When> {
    let mtbf = time(r, f.mtbf.as_ref().map(|v| &v.0), p, "mtbf");
    let mttr = time(r, f.mttr.as_ref().map(|v| &v.0), p, "mttr");
    Some(When::Random {
        mtbf: mtbf?,
        mttr: mttr?,
    })
}

/// `mtbf` or `mttr`: a duration is the mean of an exponential; a map is a
/// distribution, whose mean must be finite and above zero.
fn time(r: &mut Resolver, v: Option<&Value>, p: &YamlPath, key: &str) -> Option<Dist> {
    let path = p.key(key);
    let Some(v) = v else {
        r.push(
            Problem::new(path, format!("a random failure needs '{key}'"))
                .expected("mtbf: 1h, mttr: 2m"),
        );
        return None;
    };
    if !v.is_object() {
        let mean = r.duration(v, &path)?;
        if mean == 0 {
            r.push(
                Problem::new(path, format!("{key} must be greater than zero"))
                    .expected("a positive duration"),
            );
            return None;
        }
        return Some(Dist::Exponential { mean: mean as f64 });
    }
    let d = r.dist(v, &path)?;
    let mean = d.mean();
    if !(mean.is_finite() && mean > 0.0) {
        let (message, help) = if mean.is_finite() {
            (
                "a mean of zero",
                "a constant or a mean needs a duration above 0s",
            )
        } else {
            (
                "an infinite mean",
                "a pareto needs shape > 1 for a finite mean",
            )
        };
        r.push(
            Problem::new(path, format!("the distribution of {key} has {message}"))
                .expected("a distribution with a finite mean above zero")
                .help(help),
        );
        return None;
    }
    Some(d)
}

fn window(r: &mut Resolver, f: &RawFailure, p: &YamlPath) -> Option<When> {
    let (Some(at), Some(dur)) = (&f.at, &f.for_) else {
        r.push(
            Problem::new(
                p.clone(),
                "a failure needs 'at' and 'for' (or 'mtbf' and 'mttr' to come and go at random)",
            )
            .expected("{at: 20s, for: 10s, crash: inventory}"),
        );
        return None;
    };
    let at = r.duration(&at.0, &p.key("at"));
    let duration = r.duration(&dur.0, &p.key("for"));
    let (at, duration) = (at?, duration?);
    if duration == 0 {
        r.push(
            Problem::new(p.key("for"), "a failure of no duration").expected("a positive duration"),
        );
        return None;
    }
    Some(When::Window { at, duration })
}
