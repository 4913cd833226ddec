//! `meshsim sweep`, `meshsim merge` and `meshsim plan`: the file side of
//! sweeps (per-point results written atomically, resumed, sharded, merged)
//! and of the planner.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::output;
use super::progress::Counter;
use crate::plan::{Planner, Trial};
use crate::report::sweep as render;
use crate::sweep::{Axis, PointResult, Sweep, parse_axis, parse_shard};

/// Written next to the per-point results, so `merge` can assemble without the scenario.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Meta {
    name: String,
    fingerprint: String,
    axes: Vec<Axis>,
    total_points: usize,
}

pub struct SweepArgs<'a> {
    pub scenario: &'a Path,
    pub set: &'a [String],
    pub replications: usize,
    pub seed: Option<u64>,
    pub shard: Option<&'a str>,
    pub out: Option<PathBuf>,
    pub threads: Option<usize>,
}

fn pool(threads: Option<usize>) -> Result<rayon::ThreadPool, String> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()
        .map_err(|e| format!("error: cannot start worker threads: {e}\n"))
}

pub fn sweep(a: &SweepArgs) -> Result<u8, String> {
    let axes = a
        .set
        .iter()
        .map(|s| parse_axis(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("error: {e}\n"))?;
    if axes.is_empty() {
        return Err(
            "error: a sweep needs at least one --set PATH=V1,V2,... (or PATH=A..B)\n".into(),
        );
    }
    if a.replications == 0 || a.replications > 10_000 {
        return Err("error: --replications must be between 1 and 10000\n".into());
    }
    let shard = a
        .shard
        .map(parse_shard)
        .transpose()
        .map_err(|e| format!("error: {e}\n"))?;
    let (text, source) = super::read_text(a.scenario)?;
    let sweep = Sweep::new(&text, &source, axes, a.replications, a.seed).map_err(|e| e.render())?;
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| output::default_dir(&format!("{}-sweep", sweep.name)));
    let points_dir = out.join("points");
    let meta = Meta {
        name: sweep.name.clone(),
        fingerprint: sweep.fingerprint.clone(),
        axes: sweep.axes.clone(),
        total_points: sweep.points.len(),
    };
    let mine: Vec<usize> = (0..sweep.points.len())
        .filter(|i| shard.is_none_or(|(k, n)| i % n == k))
        .collect();
    let done: Vec<usize> = mine
        .iter()
        .copied()
        .filter(|&i| read_point(&points_dir, i).is_some_and(|p| p.fingerprint == sweep.fingerprint))
        .collect();
    let todo: Vec<usize> = mine.iter().copied().filter(|i| !done.contains(i)).collect();
    eprintln!(
        "meshsim: sweep {} seed {}: {} points × {} replications; {} to run{}",
        sweep.name,
        a.seed.map_or("from the scenario".into(), |s| s.to_string()),
        sweep.points.len(),
        a.replications,
        todo.len(),
        if done.is_empty() {
            String::new()
        } else {
            format!(", {} already done", done.len())
        }
    );
    output::write_all(&points_dir, &[("sweep-meta.json", json_bytes(&meta))])
        .map_err(|e| write_error(&out, e))?;
    let counter = Counter::new(todo.len() as u64);
    let failure = std::sync::Mutex::new(None);
    pool(a.threads)?.install(|| {
        sweep.run(&todo, &|p| {
            if let Err(e) = output::write_all(
                &points_dir,
                &[(&format!("{}.json", p.index), json_bytes(p))],
            ) {
                *failure.lock().expect("no panics while held") = Some(write_error(&out, e));
            }
            counter.inc();
        })
    });
    counter.finish();
    if let Some(e) = failure.into_inner().expect("no panics while held") {
        return Err(e);
    }
    match shard {
        Some((k, n)) => {
            eprintln!(
                "meshsim: shard {k}/{n} done ({} points) in {}; combine the shards with `meshsim merge`",
                mine.len(),
                points_dir.display()
            );
            Ok(super::EXIT_OK)
        }
        None => assemble(std::slice::from_ref(&out), &out),
    }
}

pub fn merge(dirs: &[PathBuf], out: Option<PathBuf>) -> Result<u8, String> {
    let out = out.unwrap_or_else(|| dirs[0].clone());
    assemble(dirs, &out)
}

/// Reads every point of the sweep from `sources` and writes the outputs in `out`.
fn assemble(sources: &[PathBuf], out: &Path) -> Result<u8, String> {
    let mut meta: Option<Meta> = None;
    for dir in sources {
        let m: Meta = read_json(&dir.join("points").join("sweep-meta.json")).ok_or_else(|| {
            format!(
                "error: {} holds no sweep results (points/sweep-meta.json)\n",
                dir.display()
            )
        })?;
        if let Some(first) = &meta
            && *first != m
        {
            return Err(format!(
                "error: {} holds results of another sweep (different scenario or arguments)\n",
                dir.display()
            ));
        }
        meta = Some(m);
    }
    let meta = meta.ok_or("error: merge needs at least one folder\n")?;
    let mut points = Vec::with_capacity(meta.total_points);
    let mut missing = Vec::new();
    for i in 0..meta.total_points {
        match sources
            .iter()
            .filter_map(|d| read_point(&d.join("points"), i))
            .find(|p| p.fingerprint == meta.fingerprint)
        {
            Some(p) => points.push(p),
            None => missing.push(i),
        }
    }
    if !missing.is_empty() {
        let shown: Vec<String> = missing.iter().take(10).map(usize::to_string).collect();
        return Err(format!(
            "error: {} of {} points have no result yet (points {}{}); run the missing shards, then merge again\n",
            missing.len(),
            meta.total_points,
            shown.join(", "),
            if missing.len() > 10 { ", ..." } else { "" }
        ));
    }
    let files = [
        ("sweep.csv", render::csv(&meta.axes, &points)),
        (
            "sweep.json",
            render::json(&meta.name, &meta.fingerprint, &meta.axes, &points),
        ),
        ("sweep.html", render::html(&meta.name, &meta.axes, &points)),
    ];
    output::write_all(out, &files).map_err(|e| write_error(out, e))?;
    print!("{}", table(&meta.axes, &points));
    eprintln!(
        "meshsim: wrote {}/sweep.csv, sweep.json, sweep.html",
        out.display()
    );
    Ok(super::EXIT_OK)
}

fn table(axes: &[Axis], points: &[PointResult]) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let names: Vec<&str> = axes.iter().map(|a| a.path.as_str()).collect();
    let _ = writeln!(
        o,
        "{:<50} {:>12} {:>12} {:>12} {:>8}",
        names.join(" "),
        "p99 ms",
        "availability",
        "mean ms",
        "SLO"
    );
    for p in points {
        let vals: Vec<&str> = p.params.iter().map(|(_, v)| v.as_str()).collect();
        let mean = |f: fn(&crate::sweep::Figures) -> Option<f64>| {
            let xs: Vec<f64> = p.runs.iter().filter_map(f).collect();
            if xs.is_empty() {
                "-".to_string()
            } else {
                format!("{:.3}", xs.iter().sum::<f64>() / xs.len() as f64)
            }
        };
        let pass = p.runs.iter().filter(|f| f.slo_pass).count();
        let _ = writeln!(
            o,
            "{:<50} {:>12} {:>12} {:>12} {:>5}/{}",
            vals.join(" "),
            mean(|f| f.p99_ms),
            mean(|f| f.availability),
            mean(|f| f.mean_ms),
            pass,
            p.runs.len()
        );
    }
    o
}

fn read_point(dir: &Path, i: usize) -> Option<PointResult> {
    read_json(&dir.join(format!("{i}.json")))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

fn json_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    let mut b = serde_json::to_vec_pretty(v).expect("json");
    b.push(b'\n');
    b
}

fn write_error(dir: &Path, e: std::io::Error) -> String {
    format!("error: cannot write to {}: {e}\n", dir.display())
}

pub struct PlanArgs<'a> {
    pub scenario: &'a Path,
    pub vary: &'a [String],
    pub min: u32,
    pub max: u32,
    pub replications: usize,
    pub seed: Option<u64>,
    pub out: Option<PathBuf>,
    pub threads: Option<usize>,
}

pub fn plan(a: &PlanArgs) -> Result<u8, String> {
    let paths: Vec<String> = a
        .vary
        .iter()
        .flat_map(|v| v.split(','))
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    if paths.is_empty() {
        return Err(
            "error: plan needs --vary PATH (a replica count, like services.orders.replicas)\n"
                .into(),
        );
    }
    if a.min == 0 || a.min > a.max || a.max > 10_000 {
        return Err("error: need 1 ≤ --min ≤ --max ≤ 10000\n".into());
    }
    let (text, source) = super::read_text(a.scenario)?;
    let planner = Planner {
        text: &text,
        source: &source,
        paths: paths.clone(),
        min: a.min,
        max: a.max,
        replications: a.replications.max(1),
        seed: a.seed,
    };
    planner.check().map_err(|e| e.render())?;
    let name = crate::scenario::load_str(&text, &source, &[])
        .map_err(|e| e.render())?
        .name;
    eprintln!(
        "meshsim: plan {name}: varying {} in [{}, {}], {} replications per configuration",
        paths.join(", "),
        a.min,
        a.max,
        planner.replications
    );
    let shown = |t: &Trial| {
        eprintln!(
            "  tried {:?}: p99 {} ms, availability {}, {}",
            t.values,
            t.p99_ms.map_or("-".into(), |v| format!("{v:.3}")),
            t.availability.map_or("-".into(), |v| format!("{v:.5}")),
            t.verdict
        )
    };
    let plan = pool(a.threads)?.install(|| planner.plan(&shown));
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| output::default_dir(&format!("{name}-plan")));
    output::write_all(&out, &[("plan.json", json_bytes(&plan))])
        .map_err(|e| write_error(&out, e))?;
    let Some(best) = &plan.best else {
        println!(
            "no configuration up to {} meets every SLO with confidence",
            a.max
        );
        return Ok(super::EXIT_SLO_MISSED);
    };
    let best_trial = plan
        .trials
        .iter()
        .find(|t| &t.values == best)
        .expect("the best was tried");
    println!(
        "cheapest configuration meeting every SLO ({} configurations, {} runs, evidence in {}/plan.json):",
        plan.trials.len(),
        plan.trials
            .iter()
            .filter(|t| t.verdict != "invalid")
            .count()
            * planner.replications,
        out.display()
    );
    for (p, v) in paths.iter().zip(best) {
        println!("  {p} = {v}");
    }
    println!(
        "  p99 {:.3} ms, availability {:.5}: {}",
        best_trial.p99_ms.unwrap_or(f64::NAN),
        best_trial.availability.unwrap_or(f64::NAN),
        best_trial.verdict
    );
    for (p, t) in paths.iter().zip(&plan.one_fewer) {
        if let Some(t) = t {
            println!(
                "  one fewer on {p} ({:?}): p99 {} ms, availability {}: {}",
                t.values,
                t.p99_ms.map_or("-".into(), |v| format!("{v:.3}")),
                t.availability.map_or("-".into(), |v| format!("{v:.5}")),
                t.verdict
            );
        }
    }
    Ok(super::EXIT_OK)
}
