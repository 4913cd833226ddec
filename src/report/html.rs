//! `report.html`: one self-contained page (inline SVG and CSS, no script, no
//! network), rendered with askama from `templates/report.html`, which escapes
//! every value; only the SVG drawn by plotters (which escapes its own text)
//! and the page's own CSS are inserted as they are.
//!
//! One template serves a run and a comparison: a run is a comparison of one.

use askama::Template;

use super::charts::decimals;
use super::run::{RunData, Verdict, percent, verdicts, verdicts_combined};
use crate::metrics::Summary;

pub const CSS: &str = r#"
:root{--ok:#1e7d1e;--okbg:#e3f5e3;--bad:#b81414;--badbg:#fbe1e1;--na:#666;--nabg:#eee;--line:#d8d8d8}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;padding:1.5em 2em;color:#1d1d1d;max-width:1280px;line-height:1.4}
h1{margin:0 0 .2em;font-size:1.8em}h2{border-bottom:2px solid #333;padding-bottom:.2em;margin-top:1.8em}
h3{margin:1.2em 0 .4em}.description{font-size:1.1em;color:#333;margin:.2em 0}
.meta{color:#555;font-size:.9em}.meta span{margin-right:1.4em;display:inline-block}
table{border-collapse:collapse;font-size:.9em;font-variant-numeric:tabular-nums}
td,th{border:1px solid var(--line);padding:.25em .6em;text-align:right}
thead th{background:#f3f3f3;position:sticky;top:0}th[scope=row]{text-align:left;background:#fafafa;font-weight:600}
tbody tr:nth-child(even) td{background:#fcfcfc}
table.verdicts td{text-align:left;min-width:14em;padding:.5em .8em}
.verdict .badge{display:inline-block;font-weight:700;padding:.05em .5em;border-radius:.3em;margin-right:.5em;color:#fff}
.verdict.pass{background:var(--okbg)}.verdict.pass .badge{background:var(--ok)}
.verdict.fail{background:var(--badbg)}.verdict.fail .badge{background:var(--bad)}
.verdict.na{background:var(--nabg)}.verdict.na .badge{background:var(--na)}
.verdict .actual{font-size:1.25em;font-weight:600}.verdict .target{display:block;color:#555;font-size:.85em}
.findings{margin:1em 0;padding:.2em 1em;border-left:4px solid #888;background:#fafafa}
.findings h3{margin:.5em 0}
.figrow{display:grid;gap:1em;margin:1em 0}.figrow.cols1{grid-template-columns:1fr}
.figrow.cols2,.figrow.cols3,.figrow.cols4,.figrow.cols5,.figrow.cols6{grid-template-columns:repeat(auto-fill,minmax(560px,1fr))}
figure{margin:0;border:1px solid var(--line);background:#fff}
figure svg{display:block;width:100%;height:auto}
figcaption{font-size:.85em;color:#444;padding:.3em .6em;border-top:1px solid var(--line)}
.scroll{overflow-x:auto}.note{color:#555;font-size:.9em;margin:.2em 0}
pre{background:#f6f6f6;border:1px solid var(--line);padding:1em;overflow-x:auto;font-size:.85em}
details summary{cursor:pointer;font-weight:600;margin:.5em 0}
footer{margin-top:3em;color:#777;font-size:.8em;border-top:1px solid var(--line);padding-top:.6em}
"#;

pub struct VerdictView {
    pub key: &'static str,
    pub actual: String,
    /// The figure as summary.json has it ("" when there is none).
    pub value: String,
    pub target: String,
    pub class: &'static str,
    pub label: &'static str,
}

pub struct Table {
    pub title: String,
    pub note: String,
    pub head: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

pub struct Figure {
    pub svg: String,
    pub caption: String,
}

pub struct RunView {
    pub name: String,
    pub file: String,
    pub overrides: String,
    pub yaml: String,
    pub findings: Vec<String>,
    pub tables: Vec<Table>,
}

#[derive(Template)]
#[template(path = "report.html")]
struct Page<'a> {
    title: &'a str,
    description: &'a str,
    meta: Vec<(String, String)>,
    verdict_rows: Vec<(&'static str, Vec<VerdictView>)>,
    differences: Vec<Vec<String>>,
    /// Header of the differences' last column (two runs), else empty.
    difference_head: String,
    figures: Vec<Vec<Figure>>,
    runs: Vec<RunView>,
    css: &'static str,
    version: &'static str,
    seed: u64,
}

fn verdict_view(v: &Verdict) -> VerdictView {
    VerdictView {
        key: v.key,
        actual: v.actual.clone(),
        value: v.value.map_or(String::new(), |x| x.to_string()),
        target: v.target.clone(),
        class: match v.pass {
            Some(true) => "pass",
            Some(false) => "fail",
            None => "na",
        },
        label: v.label,
    }
}

/// One row per SLO, one column per run.
fn verdict_rows(all: &[Vec<Verdict>]) -> Vec<(&'static str, Vec<VerdictView>)> {
    (0..3)
        .map(|i| {
            (
                all[0][i].name,
                all.iter().map(|v| verdict_view(&v[i])).collect(),
            )
        })
        .collect()
}

/// What a page shows of one run besides its charts.
pub fn run_view(d: &RunData, overrides: &str) -> RunView {
    RunView {
        name: d.summary.scenario.clone(),
        file: d.file.to_string(),
        overrides: overrides.to_string(),
        yaml: d.yaml.to_string(),
        findings: findings(d),
        tables: tables(d.summary),
    }
}

fn meta(d: &RunData) -> Vec<(String, String)> {
    let s = d.summary;
    vec![
        ("seed".into(), s.seed.to_string()),
        ("duration".into(), format!("{} s", s.duration_s)),
        ("warmup".into(), format!("{} s (shaded grey)", s.warmup_s)),
        ("events".into(), s.events_processed.to_string()),
        (
            "series step".into(),
            format!(
                "{} s",
                crate::engine::time::as_secs(d.collector.series.step)
            ),
        ),
    ]
}

/// The report of one run. `figures` are the run's charts as SVG, with
/// captions; `combined` the verdicts of replications, when there were some.
pub fn run_page(
    d: &RunData,
    overrides: &str,
    figures: Vec<Figure>,
    combined: Option<(&serde_json::Value, usize)>,
) -> String {
    let mut meta = meta(d);
    let verdicts = match combined {
        Some((v, n)) => {
            meta.push((
                "replications".into(),
                format!(
                    "{n}: the verdicts are their means with 95% intervals; the charts and \
                     tables are of replication 1 (seed {})",
                    d.summary.seed
                ),
            ));
            verdicts_combined(v)
        }
        None => verdicts(d.summary),
    };
    let page = Page {
        title: &d.summary.scenario,
        description: &d.scenario.description,
        meta,
        verdict_rows: verdict_rows(&[verdicts]),
        differences: Vec::new(),
        difference_head: String::new(),
        figures: figures.into_iter().map(|f| vec![f]).collect(),
        runs: vec![run_view(d, overrides)],
        css: CSS,
        version: env!("CARGO_PKG_VERSION"),
        seed: d.summary.seed,
    };
    page.render().expect("the report template renders")
}

/// The comparison page: verdicts in columns, the differences, an overlaid
/// chart row first, then each kind of chart side by side.
pub fn compare_page(
    runs: &[RunData],
    differences: Vec<Vec<String>>,
    figures: Vec<Vec<Figure>>,
) -> String {
    let names: Vec<&str> = runs.iter().map(|r| r.summary.scenario.as_str()).collect();
    let title = format!("Comparison: {}", names.join(" vs "));
    let summaries: Vec<&Summary> = runs.iter().map(|r| r.summary).collect();
    let mut meta = meta(&runs[0]);
    meta.retain(|(k, _)| k == "seed");
    meta.push((
        "common random numbers".into(),
        "one seed for all: workloads with the same name and arrival process saw the same arrivals"
            .into(),
    ));
    let page = Page {
        title: &title,
        description: "",
        meta,
        verdict_rows: verdict_rows(&summaries.iter().map(|s| verdicts(s)).collect::<Vec<_>>()),
        difference_head: match names.as_slice() {
            [a, b] => format!("{b} − {a}"),
            _ => String::new(),
        },
        differences,
        figures,
        runs: runs.iter().map(|r| run_view(r, "")).collect(),
        css: CSS,
        version: env!("CARGO_PKG_VERSION"),
        seed: runs[0].summary.seed,
    };
    page.render().expect("the report template renders")
}

fn f3(x: f64) -> String {
    decimals(x, 3)
}

fn tables(s: &Summary) -> Vec<Table> {
    let lat_head = ["mean ms", "p50", "p90", "p99", "p99.9", "max"];
    // An empty histogram has no latency: a dash, not 0.
    let lat = |l: &crate::metrics::latency::LatencyMs, n: u64| {
        if n == 0 {
            return vec!["–".to_string(); 6];
        }
        [l.mean, l.p50, l.p90, l.p99, l.p999, l.max]
            .map(f3)
            .to_vec()
    };
    let mut out = Vec::new();
    let mut head: Vec<String> = [
        "workload",
        "sent",
        "ok",
        "failed",
        "timed out",
        "rejected",
        "in flight",
        "availability",
    ]
    .map(String::from)
    .to_vec();
    head.extend(lat_head.map(String::from));
    out.push(Table {
        title: "Workloads".into(),
        note: "Requests sent after warmup; latency of successful requests, client send to answer."
            .into(),
        head,
        rows: s
            .workload
            .iter()
            .map(|(name, w)| {
                let mut r = vec![
                    name.clone(),
                    w.sent.to_string(),
                    w.ok.to_string(),
                    w.failed.to_string(),
                    w.timed_out.to_string(),
                    w.rejected.to_string(),
                    w.in_flight.to_string(),
                    w.availability
                        .map_or("–".into(), |a| format!("{}%", percent(a))),
                ];
                r.extend(lat(&w.latency_ms, w.ok));
                r
            })
            .collect(),
    });
    let mut head: Vec<String> = [
        "service / endpoint",
        "replicas",
        "utilisation",
        "availability",
        "rejected",
        "shed",
        "connection failures",
        "injected errors",
        "count",
    ]
    .map(String::from)
    .to_vec();
    head.extend(lat_head.map(String::from));
    let mut rows = Vec::new();
    for (name, svc) in &s.services {
        let mut r = vec![
            name.clone(),
            svc.replicas.to_string(),
            f3(svc.utilization),
            svc.availability
                .map_or("–".into(), |a| format!("{}%", percent(a))),
            svc.rejected.to_string(),
            svc.shed.to_string(),
            svc.connection_failures.to_string(),
            svc.injected_errors.to_string(),
            String::new(),
        ];
        r.extend(std::iter::repeat_n(String::new(), lat_head.len()));
        rows.push(r);
        for (ep, e) in &svc.endpoints {
            let mut r = vec![format!("  {name}.{ep}")];
            r.extend(std::iter::repeat_n(String::new(), 7));
            r.push(e.count.to_string());
            r.extend(lat(&e.latency_ms, e.ok));
            rows.push(r);
        }
    }
    out.push(Table {
        title: "Services".into(),
        note: "Utilisation is busy worker time over the worker time of serving replicas; endpoint latency is from arrival at the replica (queueing included) to the end of its last step.".into(),
        head,
        rows,
    });
    if !s.calls.is_empty() {
        let head: Vec<String> = [
            "call",
            "attempts",
            "retries",
            "hedges",
            "ok",
            "failed",
            "rejected",
            "timeouts",
            "short-circuited",
            "breaker opened",
            "deadline exceeded",
            "budget exhausted",
            "p50 ms",
            "p99 ms",
        ]
        .map(String::from)
        .to_vec();
        out.push(Table {
            title: "Calls".into(),
            note: "Attempts = ok + failed + rejected + timeouts + in flight; latency of successful calls, first send to answer, retries included.".into(),
            head,
            rows: s
                .calls
                .iter()
                .map(|(k, c)| {
                    vec![
                        k.clone(),
                        c.attempts.to_string(),
                        c.retries.to_string(),
                        c.hedges.to_string(),
                        c.ok.to_string(),
                        c.failed.to_string(),
                        c.rejected.to_string(),
                        c.timeouts.to_string(),
                        c.short_circuited.to_string(),
                        c.breaker_opened.to_string(),
                        c.deadline_exceeded.to_string(),
                        c.budget_exhausted.to_string(),
                        if c.ok == 0 { "–".into() } else { f3(c.latency_ms.p50) },
                        if c.ok == 0 { "–".into() } else { f3(c.latency_ms.p99) },
                    ]
                })
                .collect(),
        });
    }
    if !s.topics.is_empty() {
        let mut head: Vec<String> = [
            "topic → group",
            "published",
            "handled",
            "dead-lettered",
            "lost",
            "in flight",
            "duplicates",
            "max lag",
            "max partition lag",
        ]
        .map(String::from)
        .to_vec();
        head.extend(lat_head.map(String::from));
        let mut rows = Vec::new();
        for (name, t) in &s.topics {
            for (g, gs) in &t.groups {
                let mut r = vec![
                    format!("{name} → {g}"),
                    t.published.to_string(),
                    gs.handled.to_string(),
                    gs.dead_lettered.to_string(),
                    gs.lost.to_string(),
                    gs.in_flight.to_string(),
                    gs.duplicates.to_string(),
                    gs.max_lag.to_string(),
                    gs.max_partition_lag.to_string(),
                ];
                r.extend(lat(&gs.latency_ms, gs.handled));
                rows.push(r);
            }
        }
        out.push(Table {
            title: "Topics and consumer groups".into(),
            note: "Published = handled + dead-lettered + lost + in flight, per group; latency from the publish to the end of a successful handling.".into(),
            head,
            rows,
        });
    }
    if !s.failures.is_empty() {
        out.push(Table {
            title: "Injected failures".into(),
            note: "Shaded red on the charts over time.".into(),
            head: ["failure", "replica", "from s", "to s"]
                .map(String::from)
                .to_vec(),
            rows: s
                .failures
                .iter()
                .map(|f| {
                    vec![
                        f.failure.clone(),
                        f.replica.map_or(String::new(), |r| r.to_string()),
                        f3(f.start_s),
                        f.end_s.map_or("end of run".into(), f3),
                    ]
                })
                .collect(),
        });
    }
    out
}

/// Plain sentences about what limited the run: saturated services, refused
/// and failed work, timeouts, breakers, lag, injected failures.
fn findings(d: &RunData) -> Vec<String> {
    let s = d.summary;
    let mut out = Vec::new();
    if let Some(o) = &s.overload {
        let mut first = o.message.clone();
        if let Some(c) = first.get_mut(..1) {
            c.make_ascii_uppercase();
        }
        out.push(format!(
            "{first}. It met no target: the verdicts fail, and what follows is up to then."
        ));
    }
    let series = &d.collector.series;
    for (i, (name, svc)) in s.services.iter().enumerate() {
        // The longest stretch of steps with every worker busy.
        let (mut best, mut run) = ((0, 0), (0, 0));
        for (k, p) in series.services[i].iter().enumerate() {
            if p.utilization >= 0.95 {
                run = if run.1 == k && run != (0, 0) {
                    (run.0, k + 1)
                } else {
                    (k, k + 1)
                };
                if run.1 - run.0 > best.1 - best.0 {
                    best = run;
                }
            }
        }
        if best.1 - best.0 >= 3 && svc.utilization < 0.8 {
            let from = if best.0 == 0 {
                0.0
            } else {
                crate::engine::time::as_secs(series.times[best.0 - 1])
            };
            let to = crate::engine::time::as_secs(series.times[best.1 - 1]);
            out.push(format!(
                "{name} was saturated (every worker busy) from {} s to {} s: requests queued behind it.",
                f3(from),
                f3(to)
            ));
        }
        if svc.utilization >= 0.8 {
            out.push(format!(
                "{name} runs at {:.0}% utilisation: near saturation queueing delay grows steeply; more replicas or workers would shorten it.",
                svc.utilization * 100.0
            ));
        }
        if svc.rejected > 0 {
            out.push(format!(
                "{name} rejected {} requests because its queue was full.",
                svc.rejected
            ));
        }
        if svc.connection_failures > 0 {
            out.push(format!(
                "Callers of {name} hit {} connection failures (no replica reachable, or a crashed one still in their view){}.",
                svc.connection_failures,
                svc.last_connection_failure_s
                    .map_or(String::new(), |t| format!(", the last at {} s", f3(t)))
            ));
        }
    }
    for (key, c) in &s.calls {
        if c.timeouts > 0 {
            out.push(format!(
                "{key}: {} of {} attempts timed out.",
                c.timeouts, c.attempts
            ));
        }
        if c.breaker_opened > 0 || c.short_circuited > 0 {
            out.push(format!(
                "{key}: the circuit breaker opened {} times and refused {} calls.",
                c.breaker_opened, c.short_circuited
            ));
        }
        if c.attempts > 0 && c.retries * 10 > c.attempts {
            out.push(format!(
                "{key}: retries are {:.0}% of attempts, adding load where it hurts.",
                c.retries as f64 * 100.0 / c.attempts as f64
            ));
        }
    }
    for (topic, t) in &s.topics {
        for (g, gs) in &t.groups {
            if gs.lost > 0 || gs.dead_lettered > 0 {
                out.push(format!(
                    "{topic} → {g}: {} messages dead-lettered, {} lost.",
                    gs.dead_lettered, gs.lost
                ));
            }
            if !s.slo.event_p99.pass && gs.max_lag > 0 {
                out.push(format!(
                    "{topic} → {g}: the lag reached {} messages.",
                    gs.max_lag
                ));
            }
        }
    }
    for f in &s.failures {
        out.push(format!(
            "Injected failure “{}” was active from {} s to {}.",
            f.failure,
            f3(f.start_s),
            f.end_s
                .map_or("the end of the run".into(), |e| format!("{} s", f3(e)))
        ));
    }
    const MAX: usize = 12;
    if out.len() > MAX {
        let more = out.len() - MAX;
        out.truncate(MAX);
        out.push(format!("… and {more} more; see the tables below."));
    }
    if out.is_empty()
        && let Some((name, svc)) = s
            .services
            .iter()
            .max_by(|a, b| a.1.utilization.total_cmp(&b.1.utilization))
    {
        out.push(format!(
            "Nothing failed or queued for long; the busiest service is {name} at {:.0}% utilisation.",
            svc.utilization * 100.0
        ));
    }
    out
}

/// The comparison's table of differences, rows of (label, value per run);
/// with two runs, a last column says how the second differs from the first.
pub fn differences(rows: &[(&str, Vec<serde_json::Value>)]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|(label, values)| {
            let mut r = vec![label.to_string()];
            r.extend(values.iter().map(|v| match v {
                serde_json::Value::Null => "–".to_string(),
                serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
                other => other.to_string(),
            }));
            if let [a, b] = values.as_slice() {
                // Six decimals: availabilities differ in the fourth.
                let d = |a: f64, b: f64| {
                    let x = ((b - a) * 1e6).round() / 1e6;
                    if x > 0.0 {
                        format!("+{x}")
                    } else {
                        x.to_string()
                    }
                };
                r.push(match (a.as_f64(), b.as_f64()) {
                    (Some(a), Some(b)) if a != 0.0 => {
                        format!("{} ({:+.1}%)", d(a, b), (b - a) / a.abs() * 100.0)
                    }
                    (Some(a), Some(b)) => d(a, b),
                    _ if a == b => "same".to_string(),
                    _ => "differs".to_string(),
                });
            }
            r
        })
        .collect()
}
