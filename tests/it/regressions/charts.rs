//! Regressions: charts and tables.

use std::sync::OnceLock;

use assert_cmd::Command;
use meshsim::report::charts::{Chart, Line};
use meshsim::report::legend::Swatch;
use meshsim::report::run::{NamedChart, RunData};
use meshsim::report::style::{self, TARGET};
use meshsim::sweep::{Axis, PointResult, Sweep, parse_axis};

use crate::common::{load_file, run};

fn meshsim() -> Command {
    Command::cargo_bin("meshsim").expect("the binary")
}

fn scenario_path(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The charts of one run of an example scenario, with its warmup in seconds.
fn charts_of(name: &str, set: &[&str]) -> (Vec<NamedChart>, f64) {
    let s = load_file(name, set);
    let (summary, collector) = run(&s);
    let d = RunData {
        scenario: &s,
        summary: &summary,
        collector: &collector,
        yaml: "",
        file: name,
    };
    (d.charts(), summary.warmup_s)
}

/// A PNG's width, height and RGB pixels.
fn decode(png: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(png))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width as usize, info.height as usize, buf)
}

/// The legend sat inside the plot, upper left, over the top of the data: the
/// p99 line went pale under it. Every pixel column along the line must show
/// the line's own colour.
#[test]
fn legend_does_not_cover_the_p99_line() {
    let mut c = Chart::new("Request latency over time", "simulated time, s", "ms");
    let flat = |y: f64| (0..=60).map(|t| (f64::from(t), y)).collect::<Vec<_>>();
    c.lines.push(Line::new("client p99".into(), flat(25.0), 0));
    c.lines
        .push(Line::new("client p50".into(), flat(8.0), 0).dashed());
    c.targets.push((200.0, "sync p99 200 ms".into()));
    let (w, h, rgb) = decode(&c.png().unwrap());
    let blue = style::palette(0);
    let is_blue = |x: usize, y: usize| {
        let p = &rgb[(y * w + x) * 3..][..3];
        (p[0], p[1], p[2]) == (blue.0, blue.1, blue.2)
    };
    // The p99 line's row: the one with the most of its colour (it is solid).
    let row = (0..h)
        .max_by_key(|&y| (0..w).filter(|&x| is_blue(x, y)).count())
        .unwrap();
    let on_line = |x: usize| (row.saturating_sub(2)..(row + 3).min(h)).any(|y| is_blue(x, y));
    let first = (0..w).find(|&x| on_line(x)).unwrap();
    let last = (0..w).rev().find(|&x| on_line(x)).unwrap();
    let hidden: Vec<usize> = (first..=last).filter(|&x| !on_line(x)).collect();
    assert!(last - first > w / 2, "the line spans the plot");
    assert!(
        hidden.is_empty(),
        "{} columns of the p99 line are covered, from x = {:?}",
        hidden.len(),
        hidden.first()
    );
}

/// Throughput was drawn as 0 ok/s through the warmup, then a vertical jump:
/// no point inside the warmup (which is shaded), on any chart over time.
#[test]
fn no_data_point_is_drawn_inside_the_warmup() {
    for name in ["reference-sync.yaml", "reference-async.yaml"] {
        let (charts, warmup) = charts_of(name, &["duration=20s"]);
        assert!(warmup > 0.0);
        for c in charts.iter().filter(|c| c.file != "latency_cdf") {
            let shaded = c.chart.bands.iter().any(|b| b.warmup && b.to == warmup);
            assert!(shaded, "{name} {}: the warmup is shaded", c.file);
            for line in &c.chart.lines {
                let first = line.points.first().map_or(f64::INFINITY, |p| p.0);
                assert!(
                    first > warmup || (line.steps && first >= warmup),
                    "{name} {} {}: a point at {first} s, in the warmup (to {warmup} s)",
                    c.file,
                    line.label
                );
            }
        }
        let throughput = &charts
            .iter()
            .find(|c| c.file == "throughput")
            .unwrap()
            .chart;
        let ok = &throughput.lines[0];
        let top = ok.points.iter().map(|p| p.1).fold(0.0, f64::max);
        assert!(
            ok.points[0].1 > 0.5 * top,
            "{name}: {} starts at {} of {top}",
            ok.label,
            ok.points[0].1
        );
    }
}

/// Targets were red dashed, like the red dashed data series beside them:
/// every target has one style, labelled "target …", and no data takes it.
#[test]
fn target_style_is_unique() {
    let runs = [
        ("reference-sync.yaml", &["duration=10s"][..]),
        ("reference-async.yaml", &["duration=10s"]),
        ("cascading-failure.yaml", &[]),
    ];
    for (name, set) in runs {
        let (charts, _) = charts_of(name, set);
        for c in &charts {
            let legend = c.chart.legend();
            let targets = legend.iter().filter(|e| e.label.starts_with("target "));
            assert_eq!(
                targets.count(),
                c.chart.targets.len() + c.chart.x_targets.len(),
                "{name} {}",
                c.file
            );
            for e in &legend {
                let Swatch::Line(s) = e.swatch else { continue };
                if e.label.starts_with("target ") {
                    assert_eq!(s, TARGET, "{name} {}: {}", c.file, e.label);
                } else {
                    let far = s.color.distance(TARGET.color);
                    assert!(
                        far > 100.0 && s.dash != TARGET.dash,
                        "{name} {}: {} is drawn like a target",
                        c.file,
                        e.label
                    );
                }
            }
        }
    }
    // The sweep's charts: the target in the same style, no series in its colour.
    let html = sweep_html();
    let stroke = format!("stroke=\"{}\"", TARGET.color.hex());
    let (dash, gap) = TARGET.dash.unwrap();
    let target_line = format!(
        "{stroke} stroke-width=\"{}\" stroke-dasharray=\"{dash} {gap}\"",
        TARGET.width
    );
    assert!(html.contains(&target_line), "the target's style");
    assert_eq!(
        html.matches(&stroke).count(),
        html.matches(&target_line).count(),
        "only targets are near-black"
    );
    assert!(html.contains("target availability 99.9%"));
}

/// compare's side-by-side charts were drawn 960 wide and shown at about
/// 600: their text came out at 7 px. Every chart's text must be at least
/// 11 px at the narrowest the page shows it (560 px in a row of several,
/// the chart's own width alone).
#[test]
fn compare_small_multiples_have_legible_text() {
    let out = tempfile::tempdir().unwrap();
    meshsim()
        .arg("compare")
        .arg(scenario_path("reference-sync.yaml"))
        .arg(scenario_path("reference-async.yaml"))
        .args(["--out", out.path().to_str().unwrap()])
        .assert()
        .success();
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    let mut checked = 0;
    for row in html.split("<div class=\"figrow cols").skip(1) {
        let several = !row.starts_with("1\"");
        let row = &row[..row.find("</div>").unwrap()];
        for svg in row.split("<svg viewBox=\"0 0 ").skip(1) {
            let width: f64 = svg[..svg.find(' ').unwrap()].parse().unwrap();
            let shown = if several { 560.0 } else { width.min(960.0) };
            for size in svg.split("font-size=\"").skip(1) {
                let px: f64 = size[..size.find('"').unwrap()].parse().unwrap();
                let at = px * shown / width;
                assert!(at >= 11.0, "text at {at:.1} px (font {px} in {width} wide)");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "{checked} texts checked");
    // Rows of several charts go to one column below 2 × 560 px.
    assert!(html.contains(".figrow.cols2,") && html.contains("minmax(560px,1fr)"));
}

/// A small sweep over a replica count, 6 and 8 (not 7).
fn small_sweep() -> &'static (Vec<Axis>, Vec<PointResult>) {
    static SWEEP: OnceLock<(Vec<Axis>, Vec<PointResult>)> = OnceLock::new();
    SWEEP.get_or_init(|| {
        let text = std::fs::read_to_string(scenario_path("reference-sync.yaml")).unwrap();
        let axes = vec![
            parse_axis("services.service-b.replicas=6,8").unwrap(),
            parse_axis("duration=8s").unwrap(),
        ];
        let sweep = Sweep::new(&text, "reference-sync.yaml", axes.clone(), 2, None).unwrap();
        let points = sweep.run(&[0, 1], &|_| {});
        (axes, points)
    })
}

fn sweep_html() -> String {
    let (axes, points) = small_sweep();
    String::from_utf8(meshsim::report::sweep::html("ref", axes, points)).unwrap()
}

/// The texts of the elements that start with `open`.
fn texts<'a>(html: &'a str, open: &str) -> Vec<&'a str> {
    html.split(open)
        .skip(1)
        .map(|t| {
            let t = &t[t.find('>').unwrap() + 1..];
            &t[..t.find('<').unwrap()]
        })
        .collect()
}

/// A sweep over 6 and 8 replicas had ticks at 6.5 and 7.5: a whole-number
/// axis gets whole-number ticks only.
#[test]
fn sweep_integer_axis_has_no_fractional_ticks() {
    let html = sweep_html();
    let ticks = texts(&html, "<text class=\"tick x\"");
    assert!(ticks.len() >= 4 * 2, "{ticks:?}");
    for t in &ticks {
        assert!(t.parse::<u32>().is_ok(), "tick {t:?} on the replica axis");
    }
    assert!(ticks.contains(&"6") && ticks.contains(&"8"), "{ticks:?}");
}

/// Lines joined 6 and 8 replicas as if 7 had been measured: each measured
/// point has its marker, and the lines between are thin guides.
#[test]
fn sweep_has_a_marker_at_each_measured_point() {
    let html = sweep_html();
    let titles: Vec<&str> = html
        .split("<circle class=\"point\"")
        .skip(1)
        .map(|c| &c[c.find("<title>").unwrap() + 7..c.find("</title>").unwrap()])
        .collect();
    // Four charts, each with the two measured points.
    assert_eq!(titles.len(), 8, "{titles:?}");
    for replicas in ["= 6,", "= 8,"] {
        assert_eq!(titles.iter().filter(|t| t.contains(replicas)).count(), 4);
    }
    assert!(!titles.iter().any(|t| t.contains("= 7")));
    for line in html.split("<polyline").skip(1) {
        let dashed = line[..line.find("/>").unwrap()].contains("dasharray");
        let width: f64 = line
            .split("stroke-width=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(dashed || width <= 1.0, "a solid guide line {width} px wide");
    }
}

/// sweep.html's charts were 760 px wide on a page twice that: they fill it.
#[test]
fn sweep_charts_use_the_page_width() {
    let html = sweep_html();
    let svgs: Vec<&str> = html.split("<svg ").skip(1).collect();
    assert_eq!(svgs.len(), 4);
    for svg in svgs {
        let tag = &svg[..svg.find('>').unwrap()];
        assert!(!tag.contains("width="), "a fixed width: {tag}");
        assert!(tag.contains("class=\"chart\""));
    }
    assert!(html.contains("svg.chart{display:block;width:100%"));
}

/// The sweep's table printed 1.000 for an availability of 99.985%: it is a
/// percentage with three decimals.
#[test]
fn sweep_table_prints_availability_as_a_percentage() {
    let html = sweep_html();
    let table = &html[html.find("<table>").unwrap()..];
    let cells: Vec<&str> = texts(table, "<td");
    let availability: Vec<&&str> = cells.iter().filter(|c| c.ends_with('%')).collect();
    assert_eq!(availability.len(), 2, "{cells:?}");
    for a in availability {
        let (mean, half) = a.trim_end_matches('%').split_once(" ± ").unwrap();
        for x in [mean, half] {
            let decimals = x.split_once('.').map_or(0, |(_, d)| d.len());
            assert_eq!(decimals, 3, "{a}");
        }
        let mean: f64 = mean.parse().unwrap();
        assert!((99.0..=100.0).contains(&mean), "{a}");
    }
    assert!(cells.iter().any(|c| c.ends_with(" ms")), "{cells:?}");
}

/// The replications table printed `96064.200 ± 445.332` requests and bare
/// targets: counts are whole and grouped, figures and targets have units.
#[test]
fn replications_table_has_units() {
    let s = load_file("reference-sync.yaml", &["duration=10s"]);
    let summaries: Vec<_> = meshsim::sweep::replicate(&s, s.seed, 3)
        .into_iter()
        .map(|(summary, _)| summary)
        .collect();
    let combined = meshsim::metrics::replicate::combine(&summaries);
    let table = meshsim::report::table::render_replications(&combined, false);
    let row = table.lines().find(|l| l.starts_with("client")).unwrap();
    let cells: Vec<&str> = row
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(cells.len(), 5, "{row}");
    let (sent, half) = cells[1].split_once(" ± ").unwrap();
    assert!(
        sent.contains(',') && !sent.contains('.') && !half.contains('.'),
        "sent {:?}",
        cells[1]
    );
    assert!(cells[2].ends_with('%') && cells[2].contains(" ± "), "{row}");
    assert!(
        cells[3].ends_with(" ms") && cells[4].ends_with(" ms"),
        "{row}"
    );
    let slo = |key: &str| {
        table
            .lines()
            .find(|l| l.trim_start().starts_with(key))
            .unwrap()
    };
    assert!(slo("sync p99").contains(" ms   target ≤ 200 ms"), "{table}");
    assert!(slo("event p99").contains("target ≤ 1000 ms"), "{table}");
    assert!(
        slo("availability").contains("%   target ≥ 99.900%"),
        "{table}"
    );
}

/// `plan` said "10 runs made" after 30 simulations (3 replications each).
#[test]
fn plan_message_counts_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = crate::common::short_reference_sync(dir.path());
    let out = dir.path().join("plan");
    let o = meshsim()
        .args(["plan", path.to_str().unwrap(), "--vary"])
        .args(["services.service-b.replicas", "--max", "8"])
        .args(["--replications", "3", "--out", out.to_str().unwrap()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{stdout}");
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("plan.json")).unwrap()).unwrap();
    let tried = plan["trials"].as_array().unwrap().len();
    assert!(tried >= 3);
    let said = format!("({tried} configurations, {} runs,", tried * 3);
    assert!(stdout.contains(&said), "{said} in {stdout}");
}
