//! Parameter sweeps: a grid of `--set` overrides, each point run with N
//! replications in parallel, results in grid order.
//!
//! Everything here is pure: the CLI decides which points to run (a shard,
//! the ones not done yet), writes each result as it comes, and assembles the
//! outputs from the results on disk, so a sharded, resumed or single sweep
//! produce the same bytes.

use indexmap::IndexMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::rng::stable_hash;
use crate::engine::time::as_secs;
use crate::metrics::replicate::replication_seed;
use crate::metrics::{Summary, summarize};
use crate::scenario::{self, LoadError, Override, Scenario};

/// One swept parameter: a dotted path and its values, as written.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Axis {
    pub path: String,
    pub values: Vec<String>,
}

/// The largest grid a sweep accepts.
pub const MAX_POINTS: usize = 100_000;

/// Parses `PATH=V1,V2,...`, `PATH=A..B` (integers) or `PATH=A..B:N` (N values, units kept).
pub fn parse_axis(arg: &str) -> Result<Axis, String> {
    let (path, list) = arg
        .split_once('=')
        .ok_or_else(|| format!("--set '{arg}': expected PATH=V1,V2,... or PATH=A..B[:N]"))?;
    let mut values = Vec::new();
    for item in split_top_level(list) {
        match expand_range(&item) {
            Some(range) => values.extend(range.map_err(|e| format!("--set '{arg}': {e}"))?),
            None => values.push(item),
        }
    }
    if values.is_empty() || values.iter().any(|v| v.trim().is_empty()) {
        return Err(format!("--set '{arg}': empty value or range"));
    }
    if values.len() > MAX_POINTS {
        return Err(format!(
            "--set '{arg}': {} values; at most {MAX_POINTS}",
            values.len()
        ));
    }
    Ok(Axis {
        path: path.trim().to_string(),
        values,
    })
}

/// Splits on commas that are not inside braces or brackets.
fn split_top_level(s: &str) -> Vec<String> {
    let (mut out, mut cur, mut depth) = (Vec::new(), String::new(), 0i32);
    for c in s.chars() {
        match c {
            '{' | '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur).trim().to_string());
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur.trim().to_string());
    out
}

/// `2..16` -> 2, 3, ..., 16; `1000/s..10000/s:10` -> 10 values evenly spaced.
fn expand_range(item: &str) -> Option<Result<Vec<String>, String>> {
    let (a, rest) = item.split_once("..")?;
    let (b, count) = match rest.rsplit_once(':') {
        Some((b, n)) => (b, Some(n)),
        None => (rest, None),
    };
    Some(range_values(a.trim(), b.trim(), count.map(str::trim)))
}

fn range_values(a: &str, b: &str, count: Option<&str>) -> Result<Vec<String>, String> {
    let (na, unit_a) =
        split_number(a).ok_or_else(|| format!("'{a}' does not start with a number"))?;
    let (nb, unit_b) =
        split_number(b).ok_or_else(|| format!("'{b}' does not start with a number"))?;
    if unit_a != unit_b {
        return Err(format!("the ends of '{a}..{b}' have different units"));
    }
    if nb < na {
        return Err(format!("the range '{a}..{b}' is empty"));
    }
    let values: Vec<f64> = match count {
        None => {
            if na.fract() != 0.0 || nb.fract() != 0.0 {
                return Err(format!("'{a}..{b}' needs a count of values: '{a}..{b}:N'"));
            }
            if nb - na + 1.0 > MAX_POINTS as f64 {
                return Err(format!("'{a}..{b}' has more than {MAX_POINTS} values"));
            }
            let n = (nb - na) as usize + 1;
            if n > MAX_POINTS {
                return Err(format!("'{a}..{b}' has more than {MAX_POINTS} values"));
            }
            (0..n).map(|i| na + i as f64).collect()
        }
        Some(n) => {
            let n: usize = n
                .parse()
                .map_err(|_| format!("'{n}' is not a count of values"))?;
            if n == 0 || n > MAX_POINTS {
                return Err(format!("a range needs 1 to {MAX_POINTS} values, not {n}"));
            }
            if n == 1 {
                vec![na]
            } else {
                (0..n)
                    .map(|i| na + (nb - na) * i as f64 / (n - 1) as f64)
                    .collect()
            }
        }
    };
    Ok(values
        .into_iter()
        .map(|v| format!("{}{unit_a}", trim_float(v)))
        .collect())
}

fn split_number(s: &str) -> Option<(f64, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(s.len());
    Some((s[..end].parse().ok()?, &s[end..]))
}

/// 3.0 -> "3", 2.5 -> "2.5", 0.1 + 0.2 -> "0.3" (to a millionth).
fn trim_float(v: f64) -> String {
    let r = (v * 1e6).round() / 1e6;
    if r.fract() == 0.0 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

/// A hash of the running executable, computed once.
pub fn build_id() -> u64 {
    static ID: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *ID.get_or_init(|| {
        let bytes = std::env::current_exe()
            .and_then(std::fs::read)
            .unwrap_or_default();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            h = (h ^ u64::from_le_bytes(word)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h
    })
}

/// The cartesian product of the axes, the first axis varying slowest.
pub fn grid(axes: &[Axis]) -> Result<Vec<Vec<String>>, String> {
    let total: usize = axes
        .iter()
        .map(|a| a.values.len())
        .try_fold(1usize, |acc, n| acc.checked_mul(n))
        .unwrap_or(usize::MAX);
    if total > MAX_POINTS {
        return Err(format!("the grid has {total} points; at most {MAX_POINTS}"));
    }
    let mut points = vec![Vec::new()];
    for axis in axes {
        points = points
            .into_iter()
            .flat_map(|p| {
                axis.values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(v.clone());
                    q
                })
            })
            .collect();
    }
    Ok(points)
}

/// What identifies a sweep: the scenario text, the axes, the replications, the
/// seed, and the build (so results of another build are never reused).
pub fn fingerprint(text: &str, axes: &[Axis], replications: usize, seed: Option<u64>) -> String {
    let key = serde_json::json!({
        "version": env!("CARGO_PKG_VERSION"),
        "build": build_id(),
        "scenario": text,
        "axes": axes,
        "replications": replications,
        "seed": seed,
    });
    format!("{:016x}", stable_hash(0, &key.to_string()))
}

/// A sweep, ready to run.
pub struct Sweep {
    pub name: String,
    pub text: String,
    pub source: String,
    pub axes: Vec<Axis>,
    pub replications: usize,
    pub seed: Option<u64>,
    pub points: Vec<Vec<String>>,
    pub fingerprint: String,
    /// The scenario's warnings as its first point loaded them (printed once).
    pub warnings: String,
}

impl Sweep {
    /// Checks every point loads (so a bad path fails before anything runs).
    pub fn new(
        text: &str,
        source: &str,
        axes: Vec<Axis>,
        replications: usize,
        seed: Option<u64>,
    ) -> Result<Sweep, LoadError> {
        let points = grid(&axes).map_err(|e| LoadError {
            problems: vec![scenario::Problem::new(Default::default(), e)],
            text: None,
        })?;
        let (mut name, mut warnings) = (String::new(), None);
        for p in &points {
            let s = load_point(text, source, &axes, p)?;
            warnings.get_or_insert_with(|| scenario::render_warnings(&s, text));
            name = s.name;
        }
        let fingerprint = fingerprint(text, &axes, replications, seed);
        Ok(Sweep {
            name,
            text: text.to_string(),
            source: source.to_string(),
            axes,
            replications,
            seed,
            points,
            fingerprint,
            warnings: warnings.unwrap_or_default(),
        })
    }

    /// Runs the points `indices` in parallel (results in the order given),
    /// calling `done` as each finishes.
    pub fn run(&self, indices: &[usize], done: &(dyn Fn(&PointResult) + Sync)) -> Vec<PointResult> {
        indices
            .par_iter()
            .map(|&i| {
                let r = self.run_point(i);
                done(&r);
                r
            })
            .collect()
    }

    fn run_point(&self, index: usize) -> PointResult {
        let s = load_point(&self.text, &self.source, &self.axes, &self.points[index])
            .expect("checked when the sweep was made");
        let base = self.seed.unwrap_or(s.seed);
        let runs: Vec<Figures> = replicate(&s, base, self.replications)
            .iter()
            .map(|(sum, _)| Figures::of(&s, sum))
            .collect();
        PointResult {
            fingerprint: self.fingerprint.clone(),
            total_points: self.points.len(),
            index,
            params: self
                .axes
                .iter()
                .map(|a| a.path.clone())
                .zip(self.points[index].iter().cloned())
                .collect(),
            theory_mean_ms: crate::validate::theory_mean_ms(&s),
            slo_p99_ms: crate::engine::time::as_millis(s.slo.sync_p99),
            slo_availability: s.slo.availability,
            runs,
        }
    }
}

fn load_point(
    text: &str,
    source: &str,
    axes: &[Axis],
    values: &[String],
) -> Result<Scenario, LoadError> {
    let overrides = axes
        .iter()
        .zip(values)
        .map(|(a, v)| Override::parse(&format!("{}={v}", a.path)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LoadError {
            problems: vec![scenario::Problem::new(Default::default(), e)],
            text: None,
        })?;
    scenario::load_str(text, source, &overrides)
}

/// The key figures of one run.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Figures {
    pub seed: u64,
    pub sent: u64,
    pub ok: u64,
    pub throughput_per_s: f64,
    pub availability: Option<f64>,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub slo_pass: bool,
    pub replicas: u32,
    pub workloads: IndexMap<String, WorkloadFigures>,
    pub utilization: IndexMap<String, f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct WorkloadFigures {
    pub p99_ms: Option<f64>,
    pub availability: Option<f64>,
}

impl Figures {
    pub fn of(s: &Scenario, sum: &Summary) -> Figures {
        let (sent, ok): (u64, u64) = sum
            .workload
            .values()
            .fold((0, 0), |(a, b), w| (a + w.sent, b + w.ok));
        let weighted: f64 = sum
            .workload
            .values()
            .map(|w| w.latency_ms.mean * w.ok as f64)
            .sum();
        let slo = &sum.slo;
        let any_ok = ok > 0;
        let pick = |f: &dyn Fn(&Summary) -> f64| any_ok.then(|| f(sum));
        Figures {
            seed: sum.seed,
            sent,
            ok,
            throughput_per_s: round(ok as f64 / as_secs(s.duration)),
            availability: slo.availability.actual,
            mean_ms: any_ok.then(|| round(weighted / ok as f64)),
            p50_ms: pick(&|s| {
                s.workload
                    .values()
                    .map(|w| w.latency_ms.p50)
                    .fold(0.0, f64::max)
            }),
            p99_ms: slo.sync_p99.actual_ms,
            p999_ms: pick(&|s| {
                s.workload
                    .values()
                    .map(|w| w.latency_ms.p999)
                    .fold(0.0, f64::max)
            }),
            slo_pass: !slo.missed(),
            replicas: s.replicas(),
            workloads: sum
                .workload
                .iter()
                .map(|(k, w)| {
                    (
                        k.clone(),
                        WorkloadFigures {
                            p99_ms: (w.latency_ms.count > 0).then_some(w.latency_ms.p99),
                            availability: w.availability,
                        },
                    )
                })
                .collect(),
            utilization: sum
                .services
                .iter()
                .map(|(k, v)| (k.clone(), v.utilization))
                .collect(),
        }
    }
}

fn round(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Runs `n` replications of a scenario in parallel (results in order): seeds
/// derived from `base`, or `base` itself for a single run. Each comes with its
/// count of events.
pub fn replicate(s: &Scenario, base: u64, n: usize) -> Vec<(Summary, u64)> {
    if n == 0 {
        return Vec::new();
    }
    replicate_keeping_first(s, base, n, &crate::model::RunOptions::default()).0
}

/// [`replicate`], keeping the whole output of replication 1, run with
/// `options` (for its report): the figures are the same either way.
pub fn replicate_keeping_first(
    s: &Scenario,
    base: u64,
    n: usize,
    options: &crate::model::RunOptions,
) -> (Vec<(Summary, u64)>, crate::model::RunOutput) {
    let mut runs: Vec<(Summary, u64, Option<crate::model::RunOutput>)> = (0..n)
        .into_par_iter()
        .map(|r| {
            let seed = if n == 1 {
                base
            } else {
                replication_seed(base, r)
            };
            let options = if r == 0 { *options } else { Default::default() };
            let out = crate::model::run_with(s, seed, &options, &mut |_, _| {});
            let summary = summarize(s, seed, &out.collector);
            let events = out.collector.events_processed;
            (summary, events, (r == 0).then_some(out))
        })
        .collect();
    let first = runs[0].2.take().expect("replication 1 kept");
    (runs.into_iter().map(|(s, e, _)| (s, e)).collect(), first)
}

/// One point's runs, as written to `points/<index>.json`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct PointResult {
    pub fingerprint: String,
    pub total_points: usize,
    pub index: usize,
    pub params: Vec<(String, String)>,
    pub theory_mean_ms: Option<f64>,
    /// The point's targets (they may be swept too).
    pub slo_p99_ms: f64,
    pub slo_availability: f64,
    pub runs: Vec<Figures>,
}

/// `I/N`: shard I (0-based) of N: the points whose index ≡ I mod N.
pub fn parse_shard(arg: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard '{arg}': expected I/N with 0 ≤ I < N, like 0/4");
    let (i, n) = arg.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (
        i.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
    if n == 0 || i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_lists_ranges_and_units() {
        assert_eq!(parse_axis("a.b=1,2,3").unwrap().values, ["1", "2", "3"]);
        assert_eq!(parse_axis("a=2..5").unwrap().values, ["2", "3", "4", "5"]);
        assert_eq!(
            parse_axis("a=1000/s..10000/s:10").unwrap().values[..3],
            ["1000/s", "2000/s", "3000/s"]
        );
        assert_eq!(
            parse_axis("a=0.1..0.3:3").unwrap().values,
            ["0.1", "0.2", "0.3"]
        );
        assert_eq!(
            parse_axis("w={exponential: {mean: 1ms}},2ms")
                .unwrap()
                .values,
            ["{exponential: {mean: 1ms}}", "2ms"]
        );
        assert!(parse_axis("a=5..2").is_err());
        assert!(parse_axis("a=").is_err());
        assert!(parse_axis("a=1ms..2s:3").is_err());
        assert_eq!(
            grid(&[parse_axis("a=1,2").unwrap(), parse_axis("b=x,y").unwrap()]).unwrap(),
            [["1", "x"], ["1", "y"], ["2", "x"], ["2", "y"]]
        );
        assert_eq!(parse_shard("1/4"), Ok((1, 4)));
        assert!(parse_shard("4/4").is_err());
    }
}
