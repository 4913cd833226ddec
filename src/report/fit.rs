//! `meshsim fit`'s outputs: fit.json (the [`Fit`] as it is) and the terminal
//! table (observed beside simulated per entry endpoint, per service endpoint
//! and per consumer). fit.html is in [`super::fit_html`].

use std::fmt::Write as _;

use crate::fit::{Fit, Row};

/// fit.json: pretty, in the order of the [`Fit`]'s fields.
pub fn json(fit: &Fit) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(fit).expect("a fit serialises");
    out.push(b'\n');
    out
}

/// `+3.1%`, the sign always shown.
pub fn signed_percent(x: f64) -> String {
    format!("{:+.1}%", x * 100.0)
}

/// The head of a table of rows: the figures, observed / simulated and the error.
pub fn head() -> Vec<String> {
    [
        "endpoint",
        "count obs",
        "count sim",
        "rate/s obs",
        "rate/s sim",
        "p50 ms obs",
        "p50 ms sim",
        "p50 err",
        "p90 ms obs",
        "p90 ms sim",
        "p90 err",
        "p99 ms obs",
        "p99 ms sim",
        "p99 err",
        "mean ms obs",
        "mean ms sim",
        "mean err",
        "KS",
    ]
    .map(String::from)
    .to_vec()
}

/// One row's cells, in [`head`]'s order.
pub fn cells(r: &Row) -> Vec<String> {
    let (o, s, e) = (&r.observed, &r.simulated, &r.error);
    let f = |x: f64| format!("{x:.1}");
    vec![
        format!("{}.{}", r.service, r.endpoint),
        o.count.to_string(),
        s.count.to_string(),
        format!("{:.2}", o.rate_per_s),
        format!("{:.2}", s.rate_per_s),
        f(o.p50_ms),
        f(s.p50_ms),
        signed_percent(e.p50),
        f(o.p90_ms),
        f(s.p90_ms),
        signed_percent(e.p90),
        f(o.p99_ms),
        f(s.p99_ms),
        signed_percent(e.p99),
        f(o.mean_ms),
        f(s.mean_ms),
        signed_percent(e.mean),
        format!("{:.3}", r.ks),
    ]
}

fn table(o: &mut String, title: &str, rows: &[Row]) {
    if rows.is_empty() {
        return;
    }
    let mut all = vec![head()];
    all.extend(rows.iter().map(cells));
    let widths: Vec<usize> = (0..all[0].len())
        .map(|c| all.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let _ = writeln!(o, "\n{title}");
    for r in &all {
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(i, (c, w))| {
                if i == 0 {
                    format!("{c:<w$}")
                } else {
                    format!("{c:>w$}")
                }
            })
            .collect();
        let _ = writeln!(o, "{}", line.join("  ").trim_end());
    }
}

/// The terminal table.
pub fn render(fit: &Fit) -> String {
    let mut o = String::new();
    let _ = writeln!(
        o,
        "fit of scenario {} (seed {}) to {}",
        fit.scenario,
        fit.seed,
        fit.traces.join(", ")
    );
    let _ = writeln!(
        o,
        "observed window {:.3} s; simulated {}",
        fit.window_s, fit.duration_rule
    );
    for l in &fit.load {
        let rate = l
            .rate_per_s
            .map_or(String::new(), |r| format!(" at {r:.3}/s"));
        let _ = writeln!(
            o,
            "workload {} → {}{rate}: {}",
            l.workload, l.target, l.load
        );
    }
    let _ = writeln!(
        o,
        "observed: the spans' durations; simulated: the endpoint's job latency \
         (arrival at its service to the answer); err = (sim − obs) / obs"
    );
    table(
        &mut o,
        "entry endpoints (end to end, as the root SERVER span sees it)",
        &fit.entries,
    );
    table(
        &mut o,
        "service endpoints (every SERVER span)",
        &fit.endpoints,
    );
    table(
        &mut o,
        "consumers (CONSUMER spans; simulated: the handler's job)",
        &fit.consumers,
    );
    let lists = [
        (
            "in the scenario, not in the traces",
            &fit.scenario_not_in_traces,
        ),
        (
            "in the traces, not in the scenario",
            &fit.traces_not_in_scenario,
        ),
        ("note", &fit.notes),
    ];
    for (what, list) in lists {
        if !list.is_empty() {
            let _ = writeln!(o, "\n{what}: {}", list.join(", "));
        }
    }
    for c in &fit.checks {
        let verdict = if c.pass { "ok  " } else { "FAIL" };
        let _ = writeln!(
            o,
            "{}{verdict} {} {}: {} (bound {})",
            if std::ptr::eq(c, &fit.checks[0]) {
                "\n"
            } else {
                ""
            },
            c.endpoint,
            c.metric,
            c.value,
            c.bound
        );
    }
    o
}
