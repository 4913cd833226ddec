//! A sweep's results to bytes: `sweep.csv` (one row per point and
//! replication, for pandas), `sweep.json` (points with means and 95%
//! intervals) and `sweep.html` (the measured points against the first swept
//! parameter, SLO targets drawn, theory drawn where the model has one).

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::format::{Unit, decimals};
use super::svg::{Chart, Series, escape};
use crate::metrics::stats::{Estimate, estimate};
use crate::sweep::{Axis, Figures, PointResult};

/// A CSV field, quoted when it must be (RFC 4180), the one helper of every
/// CSV meshsim writes. A text that a spreadsheet would take for a formula
/// (it begins with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
/// leading `'` and quotes, as OWASP advises against CSV injection; a number
/// such as `-1.5` is left a number.
pub fn csv_field(s: &str) -> String {
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_number(s);
    if formula {
        format!("\"'{}\"", s.replace('"', "\"\""))
    } else if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `-12`, `3.5`, `-1.5e-3`: a plain decimal number, nothing else.
fn is_number(s: &str) -> bool {
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let s = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match s.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => digits(int) && digits(frac),
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(digits)
}

fn opt(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| v.to_string())
}

/// sweep.csv: one row per point and replication.
pub fn csv(axes: &[Axis], points: &[PointResult]) -> Vec<u8> {
    let first = &points[0].runs[0];
    let mut header: Vec<String> = vec!["point".into(), "replication".into(), "seed".into()];
    header.extend(axes.iter().map(|a| csv_field(&a.path)));
    header.extend(
        [
            "theory_mean_ms",
            "throughput_per_s",
            "availability",
            "mean_ms",
            "p50_ms",
            "p99_ms",
            "p999_ms",
            "slo_pass",
            "replicas",
        ]
        .map(String::from),
    );
    header.extend(first.workloads.keys().flat_map(|w| {
        [
            csv_field(&format!("{w}.p99_ms")),
            csv_field(&format!("{w}.availability")),
        ]
    }));
    header.extend(
        first
            .utilization
            .keys()
            .map(|s| csv_field(&format!("{s}.utilization"))),
    );
    let mut out = header.join(",") + "\n";
    for p in points {
        for (r, f) in p.runs.iter().enumerate() {
            let mut row = vec![p.index.to_string(), r.to_string(), f.seed.to_string()];
            row.extend(p.params.iter().map(|(_, v)| csv_field(v)));
            row.extend([
                opt(p.theory_mean_ms),
                f.throughput_per_s.to_string(),
                opt(f.availability),
                opt(f.mean_ms),
                opt(f.p50_ms),
                opt(f.p99_ms),
                opt(f.p999_ms),
                f.slo_pass.to_string(),
                f.replicas.to_string(),
            ]);
            row.extend(
                f.workloads
                    .values()
                    .flat_map(|w| [opt(w.p99_ms), opt(w.availability)]),
            );
            row.extend(f.utilization.values().map(|u| u.to_string()));
            out += &(row.join(",") + "\n");
        }
    }
    out.into_bytes()
}

/// Reads one key figure of a run.
type Getter = fn(&Figures) -> Option<f64>;

/// The figures summarised over a point's replications.
const FIGURES: [(&str, Getter); 6] = [
    ("throughput_per_s", |f| Some(f.throughput_per_s)),
    ("availability", |f| f.availability),
    ("mean_ms", |f| f.mean_ms),
    ("p50_ms", |f| f.p50_ms),
    ("p99_ms", |f| f.p99_ms),
    ("p999_ms", |f| f.p999_ms),
];

fn figure(p: &PointResult, get: Getter) -> Option<Estimate> {
    let xs: Option<Vec<f64>> = p.runs.iter().map(get).collect();
    xs.filter(|x| !x.is_empty()).map(|x| estimate(&x))
}

fn round(x: f64) -> Value {
    if x.is_finite() {
        json!((x * 1e6).round() / 1e6)
    } else {
        Value::Null
    }
}

/// sweep.json: the axes, and per point its parameters, runs, means and intervals.
pub fn json(name: &str, fingerprint: &str, axes: &[Axis], points: &[PointResult]) -> Vec<u8> {
    let pts: Vec<Value> = points
        .iter()
        .map(|p| {
            let mut mean = serde_json::Map::new();
            for (key, get) in FIGURES {
                let v = figure(p, get).map_or(Value::Null, |e| json!({"mean": round(e.mean), "ci95": [round(e.lo()), round(e.hi())]}));
                mean.insert(key.into(), v);
            }
            let pass = p.runs.iter().filter(|f| f.slo_pass).count() as f64 / p.runs.len() as f64;
            json!({
                "index": p.index,
                "params": p.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect::<serde_json::Map<_, _>>(),
                "theory_mean_ms": p.theory_mean_ms,
                "slo": {"sync_p99_ms": p.slo_p99_ms, "availability": p.slo_availability},
                "slo_pass_share": pass,
                "mean": mean,
                "runs": p.runs,
            })
        })
        .collect();
    let doc = json!({
        "scenario": name,
        "fingerprint": fingerprint,
        "replications": points.first().map_or(0, |p| p.runs.len()),
        "axes": axes,
        "points": pts,
    });
    let mut out = serde_json::to_vec_pretty(&doc).expect("json");
    out.push(b'\n');
    out
}

/// A number from the start of a value ("5000/s" -> 5000), for the x axis.
fn numeric(v: &str) -> Option<f64> {
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(v.len());
    v[..end].parse().ok()
}

/// The table of points: each figure with its unit, mean ± 95% half-width.
fn points_table(axes: &[Axis], points: &[PointResult]) -> String {
    let mut table = String::from("<table><tr><th>point</th>");
    for a in axes {
        let _ = write!(table, "<th>{}</th>", escape(&a.path));
    }
    table +=
        "<th>p99</th><th>availability</th><th>mean</th><th>theory mean</th><th>SLO pass</th></tr>";
    for p in points {
        let _ = write!(table, "<tr><td>{}</td>", p.index);
        for (_, v) in &p.params {
            let _ = write!(table, "<td>{}</td>", escape(v));
        }
        let cell = |get: Getter, unit: Unit| {
            figure(p, get).map_or("-".into(), |e| unit.show_pm(e.mean, Some(e.half_width)))
        };
        let pass = p.runs.iter().filter(|f| f.slo_pass).count();
        let _ = write!(
            table,
            "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}/{}</td></tr>",
            cell(|f| f.p99_ms, Unit::Ms),
            cell(|f| f.availability, Unit::Percent),
            cell(|f| f.mean_ms, Unit::Ms),
            p.theory_mean_ms.map_or("-".into(), |t| Unit::Ms.show(t)),
            pass,
            p.runs.len()
        );
    }
    table + "</table>"
}

/// sweep.html: one self-contained page, inline SVG, every string escaped.
pub fn html(name: &str, axes: &[Axis], points: &[PointResult]) -> Vec<u8> {
    let x_axis = &axes[0];
    let all_numeric = x_axis.values.iter().all(|v| numeric(v).is_some());
    let x_of = |p: &PointResult| -> f64 {
        let v = &p.params[0].1;
        if all_numeric {
            numeric(v).unwrap_or(0.0)
        } else {
            x_axis.values.iter().position(|x| x == v).unwrap_or(0) as f64
        }
    };
    // One series per combination of the other axes.
    let mut groups: Vec<(String, Vec<&PointResult>)> = Vec::new();
    for p in points {
        // Only the other axes that vary, named by the last part of their path.
        let label = p.params[1..]
            .iter()
            .zip(&axes[1..])
            .filter(|(_, a)| a.values.len() > 1)
            .map(|((k, v), _)| format!("{}={v}", k.rsplit('.').next().unwrap_or(k)))
            .collect::<Vec<_>>()
            .join(", ");
        match groups.iter_mut().find(|(l, _)| *l == label) {
            Some((_, g)) => g.push(p),
            None => groups.push((label, vec![p])),
        }
    }
    // A whole-number axis (a replica count) gets whole ticks only.
    let x_integer = all_numeric && points.iter().all(|p| x_of(p).fract() == 0.0);
    let chart =
        |title: &str, unit: &str, get: Getter, target: Option<(f64, String)>, theory: bool| {
            let mut series: Vec<Series> = groups
                .iter()
                .enumerate()
                .map(|(i, (label, pts))| Series {
                    label: if label.is_empty() {
                        "simulated".into()
                    } else {
                        label.clone()
                    },
                    points: pts
                        .iter()
                        .filter_map(|p| figure(p, get).map(|e| (x_of(p), e.mean, e.lo(), e.hi())))
                        .collect(),
                    dashed: false,
                    color: i,
                })
                .collect();
            if theory && points.iter().any(|p| p.theory_mean_ms.is_some()) {
                for (i, (label, pts)) in groups.iter().enumerate() {
                    let tp: Vec<(f64, f64, f64, f64)> = pts
                        .iter()
                        .filter_map(|p| p.theory_mean_ms.map(|t| (x_of(p), t, t, t)))
                        .collect();
                    series.push(Series {
                        label: format!("theory {label}").trim().to_string(),
                        points: tp,
                        dashed: true,
                        color: i,
                    });
                }
            }
            Chart {
                title: title.into(),
                x_label: x_axis.path.clone(),
                y_label: unit.into(),
                series,
                target,
                x_integer,
            }
            .svg()
        };
    let first = points.first();
    let p99_target = first.map(|p| (p.slo_p99_ms, format!("p99 {} ms", p.slo_p99_ms)));
    let avail_target = first.map(|p| {
        let pct = p.slo_availability * 100.0;
        (pct, format!("availability {}%", decimals(pct, 4)))
    });
    let mut body = String::new();
    body += &chart("p99 latency", "ms", |f| f.p99_ms, p99_target, false);
    body += &chart(
        "availability",
        "% of requests ok",
        |f| f.availability.map(|a| a * 100.0),
        avail_target,
        false,
    );
    body += &chart("mean latency", "ms", |f| f.mean_ms, None, true);
    body += &chart(
        "throughput",
        "ok requests/s",
        |f| Some(f.throughput_per_s),
        None,
        false,
    );
    let table = points_table(axes, points);
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title} sweep</title><style>{css}</style></head><body><h1>{title}: sweep</h1><p>{n} points × {r} replications. Each dot is a measured point (the mean of its replications; hover for its figures), its bar the 95% confidence interval; the thin lines between dots only guide the eye. Near-black long dashes are the SLO targets; short dashes, theory.</p>{body}<h2>Points</h2>{table}</body></html>\n",
        title = escape(name),
        css = super::svg::CSS,
        n = points.len(),
        r = points.first().map_or(0, |p| p.runs.len()),
    );
    page.into_bytes()
}
