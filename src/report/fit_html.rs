//! fit.html: per entry endpoint, the observed and simulated latency CDFs
//! overlaid (plotters, the shipped font, inline SVG), then the tables of
//! fit.json. Rendered with askama from `templates/fit.html`, which escapes
//! every value; only the SVG (plotters escapes its text) goes in as it is.

use askama::Template;

use super::charts::{Chart, Line};
use super::fit::{cells, head, signed_percent};
use super::html::{CSS, Figure, Table};
use crate::fit::{Fit, Row};

#[derive(Template)]
#[template(path = "fit.html")]
struct Page<'a> {
    title: String,
    meta: Vec<(String, String)>,
    figures: Vec<Figure>,
    tables: Vec<Table>,
    lists: Vec<(&'static str, &'a [String])>,
    checks: Vec<(String, &'static str)>,
    css: &'static str,
    version: &'static str,
}

/// The two CDFs of an entry endpoint.
pub fn cdf_chart(r: &Row) -> Chart {
    let mut c = Chart::new(
        &format!(
            "{}.{}: latency CDF, observed and simulated",
            r.service, r.endpoint
        ),
        "latency, ms",
        "share at or below",
    );
    c.y_range = Some((0.0, 1.0));
    c.lines = vec![
        Line::new(
            format!("observed ({} spans)", r.observed.count),
            r.observed_cdf.clone(),
            0,
        )
        .stepped(),
        Line::new(
            format!("simulated ({} requests)", r.simulated.count),
            r.simulated_cdf.clone(),
            1,
        )
        .dashed(),
    ];
    c
}

fn table(title: &str, note: &str, rows: &[Row]) -> Table {
    Table {
        title: title.into(),
        note: note.into(),
        head: head(),
        rows: rows.iter().map(cells).collect(),
    }
}

/// The page, or why a chart could not be drawn.
pub fn page(fit: &Fit) -> Result<Vec<u8>, String> {
    let mut figures = Vec::new();
    for r in &fit.entries {
        figures.push(Figure {
            svg: cdf_chart(r).svg()?,
            caption: format!(
                "{}.{}: KS distance {:.3}; p50 {:.1} ms observed, {:.1} ms simulated ({}); \
                 p99 {:.1} ms observed, {:.1} ms simulated ({})",
                r.service,
                r.endpoint,
                r.ks,
                r.observed.p50_ms,
                r.simulated.p50_ms,
                signed_percent(r.error.p50),
                r.observed.p99_ms,
                r.simulated.p99_ms,
                signed_percent(r.error.p99)
            ),
        });
    }
    let mut meta = vec![
        ("seed".to_string(), fit.seed.to_string()),
        ("traces".into(), fit.traces.join(", ")),
        ("observed window".into(), format!("{:.3} s", fit.window_s)),
        ("simulated".into(), fit.duration_rule.clone()),
    ];
    for l in &fit.load {
        let rate = l
            .rate_per_s
            .map_or(String::new(), |r| format!(" at {r:.3}/s"));
        meta.push((
            format!("workload {}", l.workload),
            format!("→ {}{rate}: {}", l.target, l.load),
        ));
    }
    let job = "observed: the spans' durations; simulated: the job latency at the service \
               (arrival to answer, no caller's network hop); err = (sim − obs) / obs";
    let page = Page {
        title: format!("fit of {}", fit.scenario),
        meta,
        figures,
        tables: vec![
            table("Entry endpoints", job, &fit.entries),
            table("Service endpoints", job, &fit.endpoints),
            table(
                "Consumers",
                "CONSUMER spans; simulated: the handler's job",
                &fit.consumers,
            ),
        ],
        lists: vec![
            (
                "In the scenario, not in the traces",
                &fit.scenario_not_in_traces,
            ),
            (
                "In the traces, not in the scenario",
                &fit.traces_not_in_scenario,
            ),
            ("Notes", &fit.notes),
        ],
        checks: fit
            .checks
            .iter()
            .map(|c| {
                let text = format!(
                    "{} {}: {} (bound {})",
                    c.endpoint, c.metric, c.value, c.bound
                );
                (text, if c.pass { "pass" } else { "fail" })
            })
            .collect(),
        css: CSS,
        version: env!("CARGO_PKG_VERSION"),
    };
    Ok(page
        .render()
        .expect("the fit template renders")
        .into_bytes())
}
