//! The files of a run's full report: report.html, the PNG charts,
//! timeseries.csv, metrics.om and traces.json, as (file name, bytes) for atomic writing.

use crate::model::trace::Traces;
use crate::report::charts::WIDTH;
use crate::report::html::{self, Figure};
use crate::report::run::RunData;
use crate::report::{run, traces};

/// Everything but summary.json and run.json.
/// `combined`: summary.json of replications, and their number, if any.
pub fn files(
    d: &RunData,
    overrides: &str,
    tr: &Traces,
    combined: Option<(&serde_json::Value, usize)>,
    metrics_start_ms: i64,
) -> Result<Vec<(String, Vec<u8>)>, String> {
    let charts = d.charts();
    let mut files = Vec::new();
    let mut figures = Vec::new();
    // Drawing the PNGs and the SVGs is most of the cost: one thread each.
    let (pngs, svgs) = rayon::join(
        || -> Result<Vec<Vec<u8>>, String> {
            let mut out = Vec::new();
            for c in &charts {
                out.push(c.chart.png()?);
            }
            out.push(d.verdict_panel(combined.map(|c| c.0)).png()?);
            Ok(out)
        },
        || -> Result<Vec<String>, String> { charts.iter().map(|c| c.chart.svg()).collect() },
    );
    let (pngs, svgs) = (pngs?, svgs?);
    for ((c, png), svg) in charts.iter().zip(&pngs).zip(svgs) {
        files.push((format!("{}.png", c.file), png.clone()));
        figures.push(Figure {
            svg,
            caption: format!("{} (also {}.png, {WIDTH} px wide)", c.chart.title, c.file),
        });
    }
    files.push(("slo.png".into(), pngs.last().expect("the panel").clone()));
    files.push((
        "timeseries.csv".into(),
        run::timeseries_csv(d.scenario, d.collector),
    ));
    files.push((
        "metrics.om".into(),
        crate::report::metrics::metrics_om(d.scenario, d.collector, metrics_start_ms),
    ));
    files.push(("traces.json".into(), traces::traces_json(d.scenario, tr)));
    files.push((
        "report.html".into(),
        html::run_page(d, overrides, figures, combined).into_bytes(),
    ));
    Ok(files)
}

/// Parses a duration flag such as `500ms` or `2s`.
pub fn parse_duration(s: &str) -> Result<crate::engine::Time, String> {
    crate::scenario::units::duration(&serde_json::Value::String(s.to_string()))
        .map_err(|b| format!("{}: expected {}", b.message, b.expected))
}

/// Writes the OpenMetrics export to `path`, if there is one (`run --metrics`).
pub fn write_metrics(
    path: Option<&std::path::Path>,
    s: &crate::scenario::Scenario,
    c: &crate::metrics::Collector,
    start_ms: i64,
) -> Result<(), String> {
    let Some(path) = path else { return Ok(()) };
    let bytes = crate::report::metrics::metrics_om(s, c, start_ms);
    super::output::write_atomic(path, &bytes)
}
