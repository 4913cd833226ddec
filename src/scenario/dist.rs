//! Distributions as written in a scenario, checked and turned into [`Dist`].
//!
//! `5ms` is a constant; `{exponential: {mean: 4ms}}` and its siblings name a
//! family and its parameters. Every parameter is checked with its YAML path.
//! The same syntax gives distributions of sizes (`2KB`, `{exponential: {mean: 2KB}}`):
//! a [`Quantity`] says which unit the values take.

use serde_json::{Map, Value};

use super::error::Problem;
use super::node::YamlPath;
use super::units::{self, shown};
use crate::engine::Dist;
use crate::engine::time::SECOND;

pub const KINDS: [&str; 11] = [
    "constant",
    "exponential",
    "uniform",
    "normal",
    "lognormal",
    "gamma",
    "pareto",
    "weibull",
    "mixture",
    "empirical",
    "percentiles",
];

const EXPECTED: &str = "a duration like 5ms, or one of {constant}, {exponential: {mean}}, \
{uniform: {min, max}}, {normal: {mean, stddev}}, {lognormal: {median, p99}}, \
{lognormal: {mu, sigma}}, {gamma: {shape, mean}}, {pareto: {scale, shape}}, \
{weibull: {scale, shape}}, {mixture: [{weight, dist}]}, {empirical: [durations]}";

/// What the values of a distribution are: how one is read, and how messages say it.
pub struct Quantity {
    pub parse: fn(&Value) -> Result<f64, units::Bad>,
    /// The whole syntax, for a value that is no distribution.
    pub expected: &'static str,
    /// "a positive duration", "a positive size".
    pub positive: &'static str,
    /// `lognormal {mu, sigma}`: engine units per unit of mu, and its meaning.
    pub mu_unit: f64,
    pub mu_means: &'static str,
}

/// Durations, sampled in nanoseconds.
pub const DURATION: Quantity = Quantity {
    parse: units::duration_f64,
    expected: EXPECTED,
    positive: "a positive duration",
    mu_unit: SECOND as f64,
    mu_means: "ln of the value in seconds",
};

/// Sizes, sampled in bytes.
pub const SIZE: Quantity = Quantity {
    parse: super::bytes::size_f64,
    expected: "a size like 2KB, or one of {constant}, {exponential: {mean}}, \
{uniform: {min, max}}, {normal: {mean, stddev}}, {lognormal: {median, p99}}, \
{lognormal: {mu, sigma}}, {gamma: {shape, mean}}, {pareto: {scale, shape}}, \
{weibull: {scale, shape}}, {mixture: [{weight, dist}]}, {empirical: [sizes]}",
    positive: "a positive size",
    mu_unit: 1.0,
    mu_means: "ln of the value in bytes",
};

/// Largest number of samples or points an empirical distribution may hold.
pub const MAX_EMPIRICAL: usize = 100_000;

/// Parses a distribution of durations; problems are pushed to `out`.
pub fn parse(v: &Value, path: &YamlPath, out: &mut Vec<Problem>) -> Option<Dist> {
    parse_as(&DURATION, v, path, out)
}

/// Parses a distribution of `q`; problems are pushed to `out`.
pub fn parse_as(q: &Quantity, v: &Value, path: &YamlPath, out: &mut Vec<Problem>) -> Option<Dist> {
    let obj = match v {
        Value::String(_) | Value::Number(_) => {
            return value(q, v, path, out).map(Dist::Constant);
        }
        Value::Object(o) if o.len() == 1 => o,
        other => {
            out.push(
                Problem::new(
                    path.clone(),
                    format!("{} is not a distribution", shown(other)),
                )
                .expected(q.expected),
            );
            return None;
        }
    };
    let (kind, params) = obj.iter().next()?;
    let p = path.key(kind);
    match kind.as_str() {
        "constant" => value(q, params, &p, out).map(Dist::Constant),
        "exponential" => {
            let [mean] = fields(params, &p, ["mean"], out)?;
            positive(q, mean, &p.key("mean"), out).map(|mean| Dist::Exponential { mean })
        }
        "uniform" => {
            let [min, max] = fields(params, &p, ["min", "max"], out)?;
            let (min, max) = (
                value(q, min, &p.key("min"), out)?,
                value(q, max, &p.key("max"), out)?,
            );
            if max < min {
                out.push(
                    Problem::new(p.key("max"), "max is smaller than min").expected("min ≤ max"),
                );
                return None;
            }
            Some(Dist::Uniform { min, max })
        }
        "normal" => {
            let [mean, sd] = fields(params, &p, ["mean", "stddev"], out)?;
            let mean = positive(q, mean, &p.key("mean"), out)?;
            Some(Dist::Normal {
                mean,
                stddev: value(q, sd, &p.key("stddev"), out)?,
            })
        }
        "lognormal" => lognormal(q, params, &p, out),
        "gamma" => {
            let [shape, mean] = fields(params, &p, ["shape", "mean"], out)?;
            let shape = number(shape, &p.key("shape"), out)?;
            let mean = positive(q, mean, &p.key("mean"), out)?;
            Dist::gamma(shape, mean)
        }
        "pareto" | "weibull" => scale_shape(q, kind == "pareto", params, &p, out),
        "mixture" => mixture(q, params, &p, out),
        "empirical" | "percentiles" => empirical(q, params, &p, out),
        other => {
            out.push(
                Problem::new(p.clone(), format!("unknown distribution '{other}'"))
                    .expected(q.expected)
                    .suggest(other, KINDS),
            );
            None
        }
    }
}

fn scale_shape(
    q: &Quantity,
    pareto: bool,
    params: &Value,
    p: &YamlPath,
    out: &mut Vec<Problem>,
) -> Option<Dist> {
    let [scale, shape] = fields(params, p, ["scale", "shape"], out)?;
    let scale = positive(q, scale, &p.key("scale"), out)?;
    let shape = number(shape, &p.key("shape"), out)?;
    Some(if pareto {
        Dist::Pareto { scale, shape }
    } else {
        Dist::Weibull { scale, shape }
    })
}

fn value(q: &Quantity, v: &Value, path: &YamlPath, out: &mut Vec<Problem>) -> Option<f64> {
    (q.parse)(v).map_err(|b| out.push(b.at(path))).ok()
}

fn positive(q: &Quantity, v: &Value, path: &YamlPath, out: &mut Vec<Problem>) -> Option<f64> {
    let d = value(q, v, path, out)?;
    if d <= 0.0 {
        out.push(Problem::new(path.clone(), "must be greater than zero").expected(q.positive));
        return None;
    }
    Some(d)
}

fn number(v: &Value, path: &YamlPath, out: &mut Vec<Problem>) -> Option<f64> {
    units::positive_number(v)
        .map_err(|b| out.push(Problem::new(path.clone(), b.message).expected(b.expected)))
        .ok()
}

/// The named parameters of a family, each required, no others allowed.
fn fields<'a, const N: usize>(
    v: &'a Value,
    path: &YamlPath,
    names: [&str; N],
    out: &mut Vec<Problem>,
) -> Option<[&'a Value; N]> {
    let Some(obj) = v.as_object() else {
        out.push(
            Problem::new(path.clone(), format!("{} is not a mapping", shown(v)))
                .expected(format!("the keys {}", names.join(", "))),
        );
        return None;
    };
    if !unknown_keys(obj, path, &names, out) {
        return None;
    }
    let mut found = [&Value::Null; N];
    let mut ok = true;
    for (slot, name) in found.iter_mut().zip(names) {
        match obj.get(name) {
            Some(x) => *slot = x,
            None => {
                out.push(
                    Problem::new(path.clone(), format!("missing '{name}'"))
                        .expected(format!("the keys {}", names.join(", "))),
                );
                ok = false;
            }
        }
    }
    ok.then_some(found)
}

fn unknown_keys(
    obj: &Map<String, Value>,
    path: &YamlPath,
    names: &[&str],
    out: &mut Vec<Problem>,
) -> bool {
    let mut ok = true;
    for k in obj.keys().filter(|k| !names.contains(&k.as_str())) {
        out.push(
            Problem::new(path.key(k), format!("unknown key '{k}'"))
                .expected(format!("one of {}", names.join(", ")))
                .suggest(k, names.iter().copied()),
        );
        ok = false;
    }
    ok
}

fn lognormal(q: &Quantity, params: &Value, p: &YamlPath, out: &mut Vec<Problem>) -> Option<Dist> {
    if params.get("mu").is_some() || params.get("sigma").is_some() {
        let [mu, sigma] = fields(params, p, ["mu", "sigma"], out)?;
        let Some(mu) = mu.as_f64() else {
            out.push(
                Problem::new(p.key("mu"), format!("{} is not a number", shown(mu)))
                    .expected(q.mu_means),
            );
            return None;
        };
        let sigma = number(sigma, &p.key("sigma"), out)?;
        // The user's mu is for the value in seconds (or bytes); the engine samples nanoseconds.
        return Some(Dist::LogNormal {
            mu: mu + q.mu_unit.ln(),
            sigma,
        });
    }
    let [median, p99] = fields(params, p, ["median", "p99"], out)?;
    let median = positive(q, median, &p.key("median"), out)?;
    let p99 = positive(q, p99, &p.key("p99"), out)?;
    if p99 < median {
        out.push(
            Problem::new(p.key("p99"), "p99 is smaller than the median").expected("median ≤ p99"),
        );
        return None;
    }
    Some(Dist::lognormal_from_median_p99(median, p99))
}

fn mixture(q: &Quantity, params: &Value, p: &YamlPath, out: &mut Vec<Problem>) -> Option<Dist> {
    let Some(items) = params.as_array().filter(|a| !a.is_empty() && a.len() <= 64) else {
        out.push(
            Problem::new(p.clone(), "a mixture is a list of 1 to 64 components")
                .expected("[{weight: 0.99, dist: 10ms}, {weight: 0.01, dist: 1s}]"),
        );
        return None;
    };
    let mut parts = Vec::new();
    let mut total = 0.0;
    for (i, item) in items.iter().enumerate() {
        let ip = p.index(i);
        let [w, d] = fields(item, &ip, ["weight", "dist"], out)?;
        let w = number(w, &ip.key("weight"), out)?;
        total += w;
        parts.push((total, parse_as(q, d, &ip.key("dist"), out)?));
    }
    parts.iter_mut().for_each(|(c, _)| *c /= total);
    if let Some(last) = parts.last_mut() {
        last.0 = 1.0;
    }
    Some(Dist::Mixture(parts))
}

fn empirical(q: &Quantity, params: &Value, p: &YamlPath, out: &mut Vec<Problem>) -> Option<Dist> {
    match params {
        Value::Array(items) if !items.is_empty() && items.len() <= MAX_EMPIRICAL => {
            let values: Option<Vec<f64>> = items
                .iter()
                .enumerate()
                .map(|(i, v)| value(q, v, &p.index(i), out))
                .collect();
            values.map(Dist::Samples)
        }
        Value::Object(points) if !points.is_empty() && points.len() <= 1000 => {
            let mut pts = Vec::new();
            for (k, v) in points {
                let prob = k.strip_prefix('p').and_then(percentile_key);
                let Some(prob) = prob else {
                    out.push(
                        Problem::new(p.key(k), format!("'{k}' is not a percentile"))
                            .expected("keys like p0, p50, p99, p99.9, p100"),
                    );
                    return None;
                };
                pts.push((prob, value(q, v, &p.key(k), out)?));
            }
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            if pts.windows(2).any(|w| w[1].1 < w[0].1) {
                out.push(
                    Problem::new(
                        p.clone(),
                        "percentile values must not decrease as the percentile grows",
                    )
                    .expected("p50 ≤ p90 ≤ p99 …"),
                );
                return None;
            }
            if pts[0].0 > 0.0 {
                pts.insert(0, (0.0, 0.0));
            }
            if pts.last().is_some_and(|l| l.0 < 1.0) {
                let last = pts.last().map_or(0.0, |l| l.1);
                pts.push((1.0, last));
            }
            Some(Dist::Percentiles(pts))
        }
        Value::Array(items) if items.len() > MAX_EMPIRICAL => {
            out.push(
                Problem::new(p.clone(), format!("{} samples are too many", items.len()))
                    .expected(format!("at most {MAX_EMPIRICAL} samples"))
                    .help(
                        "keep a random subset, or give percentiles: {p50: .., p99: .., p100: ..}",
                    ),
            );
            None
        }
        Value::Object(points) if points.len() > 1000 => {
            out.push(
                Problem::new(
                    p.clone(),
                    format!("{} percentiles are too many", points.len()),
                )
                .expected("at most 1000 percentiles"),
            );
            None
        }
        _ => {
            out.push(
                Problem::new(
                    p.clone(),
                    format!(
                        "{} is not a list of samples or a map of percentiles",
                        shown(params)
                    ),
                )
                .expected("[1ms, 2ms, 5ms] or {p50: 5ms, p99: 50ms, p100: 80ms}"),
            );
            None
        }
    }
}

/// "99.9" -> 0.999, "50" -> 0.5, only within [0, 100].
fn percentile_key(s: &str) -> Option<f64> {
    let v: f64 = s.parse().ok()?;
    (0.0..=100.0).contains(&v).then_some(v / 100.0)
}
