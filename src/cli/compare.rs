//! `meshsim compare A.yaml B.yaml ...`: the scenarios run under one seed
//! (common random numbers: the same arrivals), side by side. It prints the
//! table and writes `report.html` (verdicts in columns, the differences,
//! latency CDFs overlaid, each chart side by side), `latency_cdf.png`,
//! `compare.json` and each run's summary.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::{Value, json};

use super::output;
use crate::engine::time::as_millis;
use crate::metrics::{Summary, summarize};
use crate::report::charts::{Chart, SMALL_WIDTH};
use crate::report::html::{self, Figure};
use crate::report::run::{NamedChart, RunData};

pub fn compare(
    paths: &[PathBuf],
    set: &[String],
    seed: Option<u64>,
    out: Option<PathBuf>,
) -> Result<u8, String> {
    if paths.len() < 2 {
        return Err("error: compare needs at least two scenarios\n".into());
    }
    let scenarios = paths
        .iter()
        .map(|p| super::load(p, set))
        .collect::<Result<Vec<_>, _>>()?;
    let seed = seed.unwrap_or(scenarios[0].seed);
    // --out is checked before anything is simulated.
    let names: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
    let out =
        out.unwrap_or_else(|| output::default_dir(&format!("compare-{}", names.join("-vs-"))));
    let stage = super::staging::Staging::begin(&out)?;
    eprintln!(
        "meshsim: compare {} scenarios, seed {seed} for all",
        scenarios.len()
    );
    // One scenario per core; each run is single-threaded and seeded, so the
    // results do not depend on the number of threads.
    let runs: Vec<_> = scenarios
        .par_iter()
        .map(|s| crate::model::run(s, seed, &mut |_, _| {}))
        .collect();
    let summaries: Vec<Summary> = scenarios
        .iter()
        .zip(&runs)
        .map(|(s, run)| summarize(s, seed, &run.collector))
        .collect();
    let mut files: Vec<(String, Vec<u8>)> = summaries
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (
                format!("{i}-{}.summary.json", file_safe(&s.scenario)),
                crate::report::json::summary_json(s),
            )
        })
        .collect();
    let collectors: Vec<_> = runs.iter().map(|r| &r.collector).collect();
    let rows = rows(&scenarios, &summaries, &collectors);
    let doc = json!({"seed": seed, "scenarios": names, "figures": rows.iter().map(|(k, v)| (k.to_string(), json!(v))).collect::<serde_json::Map<_, _>>()});
    let mut bytes = serde_json::to_vec_pretty(&doc).expect("json");
    bytes.push(b'\n');
    files.push(("compare.json".into(), bytes));
    let yamls: Vec<String> = paths
        .iter()
        .map(|p| {
            super::read_bytes(p).map_or_else(
                |_| String::new(),
                |b| String::from_utf8_lossy(&b).into_owned(),
            )
        })
        .collect();
    let file_names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    let data: Vec<RunData> = (0..scenarios.len())
        .map(|i| RunData {
            scenario: &scenarios[i],
            summary: &summaries[i],
            collector: &runs[i].collector,
            yaml: &yamls[i],
            file: &file_names[i],
        })
        .collect();
    files.extend(report_files(&data, &rows)?);
    stage.write(&files)?;
    stage.commit()?;
    print!("{}", table(&names, &rows));
    eprintln!(
        "meshsim: wrote {}",
        Path::new(&out).join("report.html").display()
    );
    Ok(super::EXIT_OK)
}

/// The comparison's report.html and its overlaid CDF as a PNG.
fn report_files(
    runs: &[RunData],
    rows: &[(&str, Vec<Value>)],
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut overlay = Chart::new(
        "Latency CDFs overlaid (requests and events; dashed and solid alternate by scenario)",
        "latency, ms (log scale)",
        "share at or below",
    );
    overlay.log_x = true;
    overlay.y_range = Some((0.0, 1.0));
    let mut color = 0;
    for (i, r) in runs.iter().enumerate() {
        let prefix = format!("{}: ", r.summary.scenario);
        overlay
            .lines
            .extend(r.cdf_lines(&prefix, &mut color, i % 2 == 1));
    }
    let sync = runs[0].scenario.slo.sync_p99;
    overlay
        .x_targets
        .push((as_millis(sync), format!("sync p99 {} ms", as_millis(sync))));
    if let Some(r) = runs.iter().find(|r| !r.scenario.consumers.is_empty()) {
        let event = r.scenario.slo.event_p99;
        overlay.x_targets.push((
            as_millis(event),
            format!("event p99 {} ms", as_millis(event)),
        ));
    }
    let mut figures = vec![vec![Figure {
        svg: overlay.svg()?,
        caption: "Every scenario's latency CDFs on one chart (also latency_cdf.png)".into(),
    }]];
    let mut per_run: Vec<Vec<NamedChart>> = runs.iter().map(|r| r.charts()).collect();
    // Side by side, drawn near the size they are shown at: legible text.
    for c in per_run.iter_mut().flatten() {
        c.chart.width = SMALL_WIDTH;
    }
    let mut kinds: Vec<&'static str> = Vec::new();
    for charts in &per_run {
        for c in charts {
            if c.file != "latency_cdf" && !kinds.contains(&c.file) {
                kinds.push(c.file);
            }
        }
    }
    for kind in kinds {
        // One y scale across the row, so that side by side compares truly,
        // unless the scales differ more than tenfold (one would be flattened).
        let tops: Vec<f64> = per_run
            .iter()
            .flatten()
            .filter(|c| c.file == kind)
            .map(|c| c.chart.y_top())
            .collect();
        let top = tops.iter().copied().fold(0.0, f64::max);
        let low = tops.iter().copied().fold(f64::INFINITY, f64::min);
        if top > 0.0 && low * 10.0 >= top {
            for c in per_run.iter_mut().flatten().filter(|c| c.file == kind) {
                if c.chart.y_range.is_none() {
                    c.chart.y_range = Some((0.0, top * 1.08));
                }
            }
        }
        let mut row = Vec::new();
        for (r, charts) in runs.iter().zip(&per_run) {
            let name = &r.summary.scenario;
            row.push(match charts.iter().find(|c| c.file == kind) {
                Some(c) => Figure {
                    svg: c.chart.svg()?,
                    caption: format!("{name}: {}", c.chart.title),
                },
                None => Figure {
                    svg: String::new(),
                    caption: format!("{name}: nothing of this kind in the scenario"),
                },
            });
        }
        figures.push(row);
    }
    let page = html::compare_page(runs, html::differences(rows), figures);
    Ok(vec![
        ("latency_cdf.png".into(), overlay.png()?),
        ("report.html".into(), page.into_bytes()),
    ])
}

fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Replicas provisioned over all services, averaged over the run's time
/// (the configured count unless an autoscaler changed it), to 2 decimals.
fn mean_replicas(c: &crate::metrics::Collector) -> f64 {
    let series = &c.series;
    let total = crate::engine::time::as_secs(c.end);
    if total <= 0.0 {
        return 0.0;
    }
    let sum: f64 = series
        .services
        .iter()
        .flat_map(|pts| {
            pts.iter()
                .enumerate()
                .map(|(k, p)| f64::from(p.provisioned) * series.step_secs(k))
        })
        .sum();
    (sum / total * 100.0).round() / 100.0
}

/// The figures that decide between designs, one value per scenario.
fn rows(
    scenarios: &[crate::scenario::Scenario],
    summaries: &[Summary],
    collectors: &[&crate::metrics::Collector],
) -> Vec<(&'static str, Vec<Value>)> {
    let col = |f: &dyn Fn(&Summary) -> Value| summaries.iter().map(f).collect::<Vec<_>>();
    vec![
        ("sync p99 ms", col(&|s| json!(s.slo.sync_p99.actual_ms))),
        ("event p99 ms", col(&|s| json!(s.slo.event_p99.actual_ms))),
        ("availability", col(&|s| json!(s.slo.availability.actual))),
        (
            "mean ms",
            col(&|s| {
                let (sum, n) = s.workload.values().fold((0.0, 0u64), |(a, b), w| {
                    (a + w.latency_ms.mean * w.ok as f64, b + w.ok)
                });
                json!((n > 0).then(|| (sum / n as f64 * 1000.0).round() / 1000.0))
            }),
        ),
        (
            "requests sent",
            col(&|s| json!(s.workload.values().map(|w| w.sent).sum::<u64>())),
        ),
        ("all SLOs met", col(&|s| json!(!s.slo.missed()))),
        (
            "replicas (cost)",
            collectors.iter().map(|c| json!(mean_replicas(c))).collect(),
        ),
        (
            "broker nodes",
            scenarios
                .iter()
                .map(|s| json!(s.broker.as_ref().map_or(0, |b| b.nodes())))
                .collect(),
        ),
    ]
}

fn table(names: &[&str], rows: &[(&str, Vec<Value>)]) -> String {
    use std::fmt::Write as _;
    let mut o = String::new();
    let _ = write!(o, "{:<18}", "");
    for n in names {
        let _ = write!(o, " {n:>22}");
    }
    o.push('\n');
    for (label, values) in rows {
        let _ = write!(o, "{label:<18}");
        for v in values {
            let shown = match v {
                Value::Null => "-".to_string(),
                Value::Number(x) => x.to_string(),
                other => other.to_string(),
            };
            let _ = write!(o, " {shown:>22}");
        }
        o.push('\n');
    }
    o
}
