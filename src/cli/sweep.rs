//! `meshsim sweep`, `meshsim merge` and `meshsim plan`: the file side of
//! sweeps (per-point results written atomically, resumed, sharded, merged)
//! and of the planner.
//!
//! A point's file proves which point it holds (its index, parameters and the
//! sweep's fingerprint) and how many replications: one that does not match
//! is run again on resume, and is an error in `merge`.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::output;
use super::progress::Counter;
use super::staging::{self, Staging};
use crate::plan::{Planner, Trial};
use crate::report::format::Unit;
use crate::report::sweep as render;
use crate::sweep::{Axis, PointResult, Sweep, parse_axis, parse_shard};

/// Written next to the per-point results, so `merge` can assemble without the scenario.
#[derive(Serialize, Deserialize, PartialEq, Debug)]
struct Meta {
    name: String,
    fingerprint: String,
    axes: Vec<Axis>,
    total_points: usize,
    replications: usize,
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
    eprint!("{}", sweep.warnings);
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| output::default_dir(&format!("{}-sweep", sweep.name)));
    // --out is checked before anything is simulated; points/ is the journal,
    // written file by file in the target, the rest is staged.
    let stage = Staging::begin(&out)?;
    let points_dir = out.join("points");
    fs::create_dir_all(&points_dir).map_err(|e| write_error(&out, e))?;
    staging::remove_dead_temporaries(&points_dir);
    let meta = Meta {
        name: sweep.name.clone(),
        fingerprint: sweep.fingerprint.clone(),
        axes: sweep.axes.clone(),
        total_points: sweep.points.len(),
        replications: sweep.replications,
    };
    let mine: Vec<usize> = (0..sweep.points.len())
        .filter(|i| shard.is_none_or(|(k, n)| i % n == k))
        .collect();
    let todo = to_run(&points_dir, &mine, &meta, &sweep.points);
    let done = mine.len() - todo.len();
    eprintln!(
        "meshsim: sweep {} seed {}: {} points × {} replications; {} to run{}",
        sweep.name,
        a.seed.map_or("from the scenario".into(), |s| s.to_string()),
        sweep.points.len(),
        a.replications,
        todo.len(),
        if done == 0 {
            String::new()
        } else {
            format!(", {done} already done")
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
        None => assemble(std::slice::from_ref(&out), stage),
    }
}

/// The points of `mine` to run: those without a file that matches (a note
/// for each file that does not).
fn to_run(points_dir: &Path, mine: &[usize], meta: &Meta, grid: &[Vec<String>]) -> Vec<usize> {
    let mut notes = Vec::new();
    let todo = mine
        .iter()
        .copied()
        .filter(|&i| match read_point(points_dir, i, meta, &grid[i]) {
            PointFile::Good(_) => false,
            PointFile::Missing => true,
            PointFile::Bad(why) => {
                notes.push(format!(
                    "meshsim: points/{i}.json does not count: {why}; running point {i} again"
                ));
                true
            }
        })
        .collect();
    for note in notes.iter().take(5) {
        eprintln!("{note}");
    }
    if notes.len() > 5 {
        eprintln!("meshsim: and {} more such point files", notes.len() - 5);
    }
    todo
}

pub fn merge(dirs: &[PathBuf], out: Option<PathBuf>) -> Result<u8, String> {
    let out = out.unwrap_or_else(|| dirs[0].clone());
    let stage = Staging::begin(&out)?;
    assemble(dirs, stage)
}

/// The sweep's description in each of `sources`; they must agree.
fn read_meta(sources: &[PathBuf]) -> Result<Meta, String> {
    let mut meta: Option<Meta> = None;
    for dir in sources {
        let path = dir.join("points").join("sweep-meta.json");
        let bytes = fs::read(&path).map_err(|_| {
            format!(
                "error: {} holds no sweep results (points/sweep-meta.json)\n",
                dir.display()
            )
        })?;
        let m: Meta = serde_json::from_slice(&bytes).map_err(|e| {
            format!(
                "error: {}: not a sweep's description ({e}); made by another version? run the sweep again\n",
                path.display()
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
    meta.ok_or_else(|| "error: merge needs at least one folder\n".into())
}

/// Every point of the sweep from `sources`: a file that does not match its
/// point, or two files of one point that differ, are errors naming them.
fn gather(sources: &[PathBuf], meta: &Meta) -> Result<Vec<PointResult>, String> {
    let grid = crate::sweep::grid(&meta.axes).map_err(|e| format!("error: {e}\n"))?;
    if grid.len() != meta.total_points {
        return Err("error: points/sweep-meta.json does not describe its grid\n".into());
    }
    let mut points = Vec::with_capacity(meta.total_points);
    let mut missing = Vec::new();
    for (i, params) in grid.iter().enumerate() {
        let mut found: Option<(PathBuf, PointResult)> = None;
        for dir in sources {
            let path = dir.join("points").join(format!("{i}.json"));
            match read_point(&dir.join("points"), i, meta, params) {
                PointFile::Missing => {}
                PointFile::Bad(why) => {
                    return Err(format!(
                        "error: {}: {why}; run its sweep again to redo it\n",
                        path.display()
                    ));
                }
                PointFile::Good(p) => match &found {
                    Some((first, q)) if *q != p => {
                        return Err(format!(
                            "error: {} and {} hold different results for point {i}: shards of different runs? keep one\n",
                            first.display(),
                            path.display()
                        ));
                    }
                    Some(_) => {}
                    None => found = Some((path, p)),
                },
            }
        }
        match found {
            Some((_, p)) => points.push(p),
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
    Ok(points)
}

/// Reads every point of the sweep from `sources` and swaps the outputs in,
/// with the target's `points/`.
fn assemble(sources: &[PathBuf], stage: Staging) -> Result<u8, String> {
    let meta = read_meta(sources)?;
    let points = gather(sources, &meta)?;
    let files = [
        ("sweep.csv", render::csv(&meta.axes, &points)),
        (
            "sweep.json",
            render::json(&meta.name, &meta.fingerprint, &meta.axes, &points),
        ),
        ("sweep.html", render::html(&meta.name, &meta.axes, &points)),
    ];
    stage.write(&files)?;
    stage.carry_over("points")?;
    let out = stage.target().to_path_buf();
    stage.commit()?;
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
        let mean = |f: fn(&crate::sweep::Figures) -> Option<f64>, unit: Unit| {
            let xs: Vec<f64> = p.runs.iter().filter_map(f).collect();
            if xs.is_empty() {
                "-".to_string()
            } else {
                unit.show(xs.iter().sum::<f64>() / xs.len() as f64)
            }
        };
        let pass = p.runs.iter().filter(|f| f.slo_pass).count();
        let _ = writeln!(
            o,
            "{:<50} {:>12} {:>12} {:>12} {:>5}/{}",
            vals.join(" "),
            mean(|f| f.p99_ms, Unit::Ms),
            mean(|f| f.availability, Unit::Percent),
            mean(|f| f.mean_ms, Unit::Ms),
            pass,
            p.runs.len()
        );
    }
    o
}

/// What `points/<i>.json` holds.
enum PointFile {
    Missing,
    /// Unreadable, or not point `i` of this sweep: why.
    Bad(String),
    Good(PointResult),
}

fn read_point(dir: &Path, i: usize, meta: &Meta, params: &[String]) -> PointFile {
    let bytes = match fs::read(dir.join(format!("{i}.json"))) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return PointFile::Missing,
        Err(e) => return PointFile::Bad(e.to_string()),
    };
    match serde_json::from_slice::<PointResult>(&bytes) {
        Err(e) => PointFile::Bad(format!("not a point's result ({e})")),
        Ok(p) => match mismatch(&p, i, meta, params) {
            Some(why) => PointFile::Bad(why),
            None => PointFile::Good(p),
        },
    }
}

/// Why `p` cannot stand for point `i` (with `params`) of the sweep `meta`.
fn mismatch(p: &PointResult, i: usize, meta: &Meta, params: &[String]) -> Option<String> {
    if p.fingerprint != meta.fingerprint || p.total_points != meta.total_points {
        return Some("it is from another sweep (scenario, arguments or build)".into());
    }
    if p.index != i {
        return Some(format!("it holds point {}, not {i}", p.index));
    }
    if p.runs.len() != meta.replications {
        return Some(format!(
            "it holds {} replication(s), not {}",
            p.runs.len(),
            meta.replications
        ));
    }
    let expected = meta.axes.iter().map(|a| &a.path).zip(params);
    let same = p.params.len() == params.len()
        && p.params
            .iter()
            .zip(expected)
            .all(|((k, v), (ek, ev))| k == ek && v == ev);
    (!same).then(|| "its parameters are not the point's".into())
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
    eprint!("{}", planner.check().map_err(|e| e.render())?);
    let name = crate::scenario::load_str(&text, &source, &[])
        .map_err(|e| e.render())?
        .name;
    // --out is checked before anything is simulated.
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| output::default_dir(&format!("{name}-plan")));
    let stage = Staging::begin(&out)?;
    eprintln!(
        "meshsim: plan {name}: varying {} in [{}, {}], {} replications per configuration",
        paths.join(", "),
        a.min,
        a.max,
        planner.replications
    );
    let shown = |t: &Trial| {
        eprintln!(
            "  tried {:?}: p99 {}, availability {}, {}",
            t.values,
            t.p99_ms.map_or("-".into(), |v| Unit::Ms.show(v)),
            t.availability.map_or("-".into(), |v| Unit::Percent.show(v)),
            t.verdict
        )
    };
    let plan = pool(a.threads)?.install(|| planner.plan(&shown));
    stage.write(&[("plan.json", json_bytes(&plan))])?;
    stage.commit()?;
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
        "cheapest configuration meeting every SLO ({}, {}, evidence in {}/plan.json):",
        super::count(plan.trials.len(), "configuration"),
        super::count(
            plan.trials
                .iter()
                .filter(|t| t.verdict != "invalid")
                .count()
                * planner.replications,
            "run"
        ),
        out.display()
    );
    for (p, v) in paths.iter().zip(best) {
        println!("  {p} = {v}");
    }
    println!(
        "  p99 {}, availability {}: {}",
        best_trial.p99_ms.map_or("-".into(), |v| Unit::Ms.show(v)),
        best_trial
            .availability
            .map_or("-".into(), |v| Unit::Percent.show(v)),
        best_trial.verdict
    );
    for (p, t) in paths.iter().zip(&plan.one_fewer) {
        if let Some(t) = t {
            println!(
                "  one fewer on {p} ({:?}): p99 {}, availability {}: {}",
                t.values,
                t.p99_ms.map_or("-".into(), |v| Unit::Ms.show(v)),
                t.availability.map_or("-".into(), |v| Unit::Percent.show(v)),
                t.verdict
            );
        }
    }
    Ok(super::EXIT_OK)
}
