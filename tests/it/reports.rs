//! The reports people open: report.html (well-formed, verdicts equal to
//! summary.json's, everything escaped, nothing loaded from elsewhere), the
//! PNG charts, timeseries.csv, traces.json, and compare's report.

use std::collections::HashMap;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn meshsim() -> Command {
    Command::cargo_bin("meshsim").expect("the binary")
}

fn scenario_path(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Runs `meshsim run` into a fresh folder; returns the folder.
fn run_to(path: &str, extra: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    meshsim()
        .arg("run")
        .arg(path)
        .arg("--out")
        .arg(dir.path())
        .args(extra)
        .assert()
        .success();
    dir
}

/// Writes `yaml` to a scenario file and runs it; returns the folder (keep it)
/// and the output folder inside it.
fn run_yaml(yaml: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.yaml");
    std::fs::write(&file, yaml).unwrap();
    let out = dir.path().join("out");
    meshsim()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    (dir, out)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// An HTML tag as the checker saw it.
pub(super) struct Tag {
    pub(super) name: String,
    pub(super) attrs: Vec<(String, String)>,
}

const VOID: [&str; 6] = ["meta", "br", "hr", "img", "input", "link"];

/// Checks that `html` is well-formed: every element closed in order, every
/// attribute quoted, no stray `<`, every `&` an entity. Returns the opening tags.
pub(super) fn check_html(html: &str) -> Vec<Tag> {
    let b = html.as_bytes();
    let mut tags = Vec::new();
    let mut stack: Vec<String> = Vec::new();
    let mut i = 0;
    let line = |i: usize| html[..i].matches('\n').count() + 1;
    while i < b.len() {
        match b[i] {
            b'<' if html[i..].starts_with("<!--") => {
                i += html[i..].find("-->").expect("closed comment") + 3;
            }
            b'<' if html[i..].starts_with("<!") => {
                i += html[i..].find('>').expect("closed doctype") + 1;
            }
            b'<' if html[i..].starts_with("</") => {
                let end = i + html[i..].find('>').expect("closed end tag");
                let name = html[i + 2..end].trim().to_ascii_lowercase();
                let open = stack.pop();
                assert_eq!(
                    open.as_deref(),
                    Some(name.as_str()),
                    "line {}: </{name}> closes {open:?}",
                    line(i)
                );
                i = end + 1;
            }
            b'<' => {
                let mut j = i + 1;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'-' || b[j] == b':')
                {
                    j += 1;
                }
                let name = html[i + 1..j].to_ascii_lowercase();
                assert!(!name.is_empty(), "line {}: a stray '<'", line(i));
                let mut attrs = Vec::new();
                let self_closed;
                loop {
                    while b[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if b[j] == b'>' {
                        self_closed = false;
                        j += 1;
                        break;
                    }
                    if html[j..].starts_with("/>") {
                        self_closed = true;
                        j += 2;
                        break;
                    }
                    let start = j;
                    while !matches!(b[j], b'=' | b'>' | b'/') && !b[j].is_ascii_whitespace() {
                        assert!(
                            b[j] != b'<' && b[j] != b'"',
                            "line {}: bad attribute",
                            line(j)
                        );
                        j += 1;
                    }
                    let key = html[start..j].to_ascii_lowercase();
                    let mut value = String::new();
                    if b[j] == b'=' {
                        let q = b[j + 1];
                        assert!(q == b'"' || q == b'\'', "line {}: unquoted {key}", line(j));
                        let end = j + 2 + html[j + 2..].find(q as char).expect("closed quote");
                        value = html[j + 2..end].to_string();
                        assert!(!value.contains('<'), "line {}: '<' in {key}", line(j));
                        j = end + 1;
                    }
                    attrs.push((key, value));
                }
                if name == "style" || name == "script" {
                    let close = format!("</{name}>");
                    j += html[j..].find(&close).expect("closed raw text") + close.len();
                } else if !self_closed && !VOID.contains(&name.as_str()) {
                    stack.push(name.clone());
                }
                tags.push(Tag { name, attrs });
                i = j;
            }
            b'&' => {
                let end = i + html[i..].find(';').expect("entity ends");
                let entity = &html[i + 1..end];
                let ok = (entity.starts_with('#')
                    && entity[1..].chars().all(|c| c.is_ascii_digit()))
                    || (!entity.is_empty() && entity.chars().all(|c| c.is_ascii_alphanumeric()));
                assert!(ok, "line {}: bad entity &{entity};", line(i));
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    assert!(stack.is_empty(), "unclosed elements: {stack:?}");
    tags
}

/// Nothing is fetched from anywhere: no script, no link, no image, no frame,
/// no src or href attribute, no url() or @import in the CSS.
pub(super) fn assert_self_contained(html: &str, tags: &[Tag]) {
    for t in tags {
        assert!(
            ![
                "script", "link", "img", "iframe", "object", "embed", "image", "use"
            ]
            .contains(&t.name.as_str()),
            "a <{}> element",
            t.name
        );
        for (k, v) in &t.attrs {
            assert!(
                !["src", "href", "xlink:href", "srcset", "action"].contains(&k.as_str()),
                "<{} {k}={v:?}>",
                t.name
            );
            assert!(!v.contains("url("), "url() in <{} {k}>", t.name);
        }
    }
    let style = &html[html.find("<style>").unwrap()..html.find("</style>").unwrap()];
    assert!(!style.contains("url(") && !style.contains("@import"));
}

/// The verdicts in the page, by SLO key: the `data-value` of each.
fn verdict_values(tags: &[Tag]) -> Vec<HashMap<String, String>> {
    tags.iter()
        .filter(|t| t.attrs.iter().any(|(k, _)| k == "data-slo"))
        .map(|t| t.attrs.iter().cloned().collect())
        .collect()
}

fn assert_verdicts_match(summary: &Value, tags: &[Tag], column: usize, columns: usize) {
    let found = verdict_values(tags);
    assert_eq!(found.len(), 3 * columns);
    for (row, key) in ["sync_p99", "event_p99", "availability"].iter().enumerate() {
        let v = &found[row * columns + column];
        assert_eq!(v["data-slo"], *key);
        let slo = &summary["slo"][key];
        let actual = if *key == "availability" {
            &slo["actual"]
        } else {
            &slo["actual_ms"]
        };
        match actual.as_f64() {
            Some(x) => assert_eq!(v["data-value"].parse::<f64>().unwrap(), x, "{key}"),
            None => assert_eq!(v["data-value"], "", "{key}"),
        }
    }
}

/// Decodes a PNG: its size, and whether it holds a real picture (many
/// colours, a fair share of pixels not white).
fn png_facts(path: &Path) -> (u32, u32, usize, f64) {
    let decoder = png::Decoder::new(std::io::Cursor::new(std::fs::read(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(3).collect();
    let mut colours: Vec<[u8; 3]> = pixels.iter().map(|p| [p[0], p[1], p[2]]).collect();
    let not_white = colours.iter().filter(|c| **c != [255, 255, 255]).count();
    colours.sort_unstable();
    colours.dedup();
    (
        info.width,
        info.height,
        colours.len(),
        not_white as f64 / pixels.len() as f64,
    )
}

/// Every example scenario: its report is well-formed, self-contained, shows
/// summary.json's verdicts; its PNGs are real pictures of the right size; its
/// series add up to the summary's counts; its traces are valid.
#[test]
fn every_example_scenario_gets_a_full_report() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    names.sort();
    assert!(names.len() >= 10);
    for path in names {
        let out = run_to(path.to_str().unwrap(), &["--trace-sample", "0.01"]);
        let o = out.path();
        let summary = read_json(&o.join("summary.json"));
        let html = std::fs::read_to_string(o.join("report.html")).unwrap();
        let tags = check_html(&html);
        assert_self_contained(&html, &tags);
        assert_verdicts_match(&summary, &tags, 0, 1);
        assert!(html.contains("<svg"), "{path:?}: no chart");
        for png in [
            "latency_cdf",
            "latency_over_time",
            "throughput",
            "utilization",
        ] {
            let (w, h, colours, ink) = png_facts(&o.join(format!("{png}.png")));
            assert_eq!((w, h), (960, 400), "{path:?} {png}");
            assert!(
                colours > 20 && ink > 0.02,
                "{path:?} {png}: blank? {colours} {ink}"
            );
        }
        let (w, h, _, ink) = png_facts(&o.join("slo.png"));
        assert_eq!((w, h), (960, 160));
        assert!(ink > 0.2);
        if summary["topics"].as_object().is_some_and(|t| !t.is_empty()) {
            for png in ["consumer_lag", "event_latency_over_time"] {
                let (w, h, colours, _) = png_facts(&o.join(format!("{png}.png")));
                assert_eq!((w, h), (960, 400));
                assert!(colours > 20, "{path:?} {png}");
            }
        }
        check_series(&summary, &o.join("timeseries.csv"));
        check_traces(&read_json(&o.join("traces.json")));
    }
}

/// timeseries.csv is tidy, and the counts it has per step add up to the summary's.
fn check_series(summary: &Value, path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("time_s,component,name,metric,value"));
    let mut sums: HashMap<(String, String), f64> = HashMap::new();
    let mut prev_t: HashMap<(String, String), f64> = HashMap::new();
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 5, "{line}");
        let (t, component, name, metric) = (f[0].parse::<f64>().unwrap(), f[1], f[2], f[3]);
        let value: f64 = f[4].parse().unwrap();
        assert!(value.is_finite());
        if ["workload", "group", "call"].contains(&component) && metric.ends_with("_per_s") {
            let key = (format!("{component}:{name}"), metric.to_string());
            let start = prev_t.insert(key.clone(), t).unwrap_or(0.0);
            *sums.entry(key).or_default() += value * (t - start);
        }
    }
    for (topic, t) in summary["topics"].as_object().unwrap() {
        for (group, g) in t["groups"].as_object().unwrap() {
            let key = (
                format!("group:{topic}.{group}"),
                "handled_per_s".to_string(),
            );
            assert_eq!(sums[&key].round() as u64, g["handled"].as_u64().unwrap());
        }
    }
    for (site, c) in summary["calls"].as_object().unwrap() {
        let key = (format!("call:{site}"), "attempts_per_s".to_string());
        assert_eq!(
            sums[&key].round() as u64,
            c["attempts"].as_u64().unwrap(),
            "{site}"
        );
    }
    for (name, w) in summary["workload"].as_object().unwrap() {
        let sum = |m: &str| sums[&(format!("workload:{name}"), m.to_string())].round() as u64;
        let n = |k: &str| w[k].as_u64().unwrap();
        assert_eq!(sum("sent_per_s"), n("sent"), "{name}");
        assert_eq!(sum("ok_per_s"), n("ok"), "{name}");
        assert_eq!(
            sum("errors_per_s"),
            n("failed") + n("timed_out") + n("rejected"),
            "{name}"
        );
    }
}

/// A span as the tests see it: (track, start µs, end µs, category).
type SpanRow = (u64, f64, f64, String);

/// traces.json follows the Chrome trace event format (the JSON object form),
/// and on every track of every trace the spans nest the way a viewer shows
/// them (sorted by start, longer first): each span appears inside its own
/// parent when they share a track, and never inside a span that is not one
/// of its ancestors.
fn check_traces(doc: &Value) -> Vec<(u64, Vec<SpanRow>)> {
    assert_eq!(doc["displayTimeUnit"], "ms");
    let events = doc["traceEvents"].as_array().expect("traceEvents array");
    // Per trace: span number -> (track, start ns, end ns, category, parent).
    type Row = (u64, i64, i64, String, Option<u64>, String);
    let mut by_trace: HashMap<u64, HashMap<u64, Row>> = HashMap::new();
    for e in events {
        let e = e.as_object().expect("event object");
        let ph = e["ph"].as_str().unwrap();
        let pid = e["pid"].as_u64().expect("pid");
        let tid = e["tid"].as_u64().expect("tid");
        let name = e["name"].as_str().expect("name");
        assert!(e["args"].is_object());
        match ph {
            "M" => {
                assert!(["process_name", "process_sort_index", "thread_name"].contains(&name));
                let keys: Vec<&String> = e.keys().collect();
                assert_eq!(keys, ["ph", "name", "pid", "tid", "args"]);
            }
            "X" => {
                let keys: Vec<&String> = e.keys().collect();
                assert_eq!(
                    keys,
                    ["ph", "name", "cat", "pid", "tid", "ts", "dur", "args"]
                );
                let ts = e["ts"].as_f64().expect("ts");
                let dur = e["dur"].as_f64().expect("dur");
                assert!(ts >= 0.0 && dur >= 0.0);
                // Microseconds with three decimals: whole nanoseconds.
                let (start, len) = ((ts * 1e3).round() as i64, (dur * 1e3).round() as i64);
                let cat = e["cat"].as_str().unwrap().to_string();
                let span = e["args"]["span"].as_u64().expect("span number");
                let parent = e["args"].get("parent").map(|p| p.as_u64().unwrap());
                let row = (tid, start, start + len, cat, parent, name.to_string());
                let old = by_trace.entry(pid).or_default().insert(span, row);
                assert!(old.is_none(), "span {span} twice in trace {pid}");
            }
            other => panic!("unexpected phase {other}"),
        }
    }
    for (pid, spans) in &by_trace {
        let ancestors = |mut s: u64| {
            let mut out = Vec::new();
            while let Some(p) = spans[&s].4 {
                out.push(p);
                s = p;
            }
            out
        };
        let mut tracks: HashMap<u64, Vec<(i64, i64, u64)>> = HashMap::new();
        for (&n, row) in spans {
            if let Some(p) = row.4 {
                assert!(
                    spans.contains_key(&p),
                    "trace {pid}: span {n} has no parent {p}"
                );
            }
            tracks.entry(row.0).or_default().push((row.1, row.2, n));
        }
        for (tid, mut list) in tracks {
            list.sort_by_key(|&(start, end, n)| (start, std::cmp::Reverse(end), n));
            let mut stack: Vec<(i64, u64)> = Vec::new();
            for (start, end, n) in list {
                while stack
                    .last()
                    .is_some_and(|&(e, _)| e < start || e == start && end > start)
                {
                    stack.pop();
                }
                let shown = stack.last().map(|&(_, s)| s);
                let row = &spans[&n];
                if let Some(&(top_end, top)) = stack.last() {
                    assert!(
                        end <= top_end,
                        "trace {pid} track {tid}: {} overlaps {top}",
                        row.5
                    );
                }
                match row.4 {
                    Some(p) if spans[&p].0 == tid && spans[&p].1 <= start && spans[&p].2 >= end => {
                        assert_eq!(
                            shown,
                            Some(p),
                            "trace {pid}: {} not under its parent",
                            row.5
                        )
                    }
                    _ => assert!(
                        shown.is_none_or(|s| ancestors(n).contains(&s)),
                        "trace {pid}: {} shown under a stranger",
                        row.5
                    ),
                }
                stack.push((end, n));
            }
        }
    }
    let mut traces: Vec<(u64, Vec<SpanRow>)> = by_trace
        .into_iter()
        .map(|(pid, spans)| {
            let rows = spans
                .into_values()
                .map(|(tid, start, end, cat, _, _)| {
                    (tid, start as f64 / 1e3, end as f64 / 1e3, cat)
                })
                .collect();
            (pid, rows)
        })
        .collect();
    traces.sort_by_key(|t| t.0);
    traces
}

/// Parallel calls, hedges and work that outlives a timed-out caller each get
/// a track of their own, under the right parent (fan-out of 20 shards with
/// hedging; a slow leaf behind timeouts; retries against a saturated backend).
#[test]
fn traces_of_fan_out_hedges_and_timeouts_nest_under_their_parents() {
    for (name, set) in [
        ("tail-at-scale.yaml", "duration=10s"),
        ("cascading-failure.yaml", "duration=60s"),
        ("retry-storm.yaml", "duration=120s"),
    ] {
        let out = run_to(
            &scenario_path(name),
            &["--trace-sample", "0.05", "--set", set],
        );
        let traces = check_traces(&read_json(&out.path().join("traces.json")));
        assert!(traces.len() > 20, "{name}: {} traces", traces.len());
        if name == "tail-at-scale.yaml" {
            let most = traces
                .iter()
                .map(|(_, s)| s.iter().map(|r| r.0).max().unwrap() + 1)
                .max()
                .unwrap();
            assert!(most >= 20, "{name}: parallel shards on {most} tracks");
        }
    }
}

/// In a sequential chain (client → gateway → A → B) each traced request's
/// spans lie on one track, inside the request, and the innermost spans (the
/// network hops, queueing and work) add up to the request's latency.
#[test]
fn trace_spans_nest_and_add_up_to_the_latency() {
    let out = run_to(
        &scenario_path("reference-sync.yaml"),
        &["--trace-sample", "0.01", "--set", "duration=10s"],
    );
    let summary = read_json(&out.path().join("summary.json"));
    let max_ms = summary["workload"]["client"]["latency_ms"]["max"]
        .as_f64()
        .unwrap();
    let traces = check_traces(&read_json(&out.path().join("traces.json")));
    assert!(traces.len() > 400, "{} traces", traces.len());
    let mut unanswered = 0;
    for (pid, mut spans) in traces {
        // A request still in flight at the end of the run has no request span yet.
        let Some(root) = spans.iter().find(|s| s.3 == "request").cloned() else {
            unanswered += 1;
            assert!(unanswered <= 5, "trace {pid} has no request");
            continue;
        };
        let latency = root.2 - root.1;
        assert!(latency / 1e3 <= max_ms + 1e-3);
        assert!(spans.iter().all(|s| s.0 == 0), "trace {pid} is sequential");
        assert!(
            spans
                .iter()
                .all(|s| s.1 >= root.1 - 1e-6 && s.2 <= root.2 + 1e-6)
        );
        spans.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.2.total_cmp(&a.2)));
        // A leaf is a span the next one (in start order) does not start inside.
        let leaves: f64 = (0..spans.len())
            .filter(|&i| spans.get(i + 1).is_none_or(|n| n.1 >= spans[i].2 - 1e-6))
            .map(|i| spans[i].2 - spans[i].1)
            .sum();
        assert!(
            (leaves - latency).abs() < 1e-3,
            "trace {pid}: leaves {leaves} µs, request {latency} µs"
        );
        for cat in ["network", "service", "work", "attempt", "call"] {
            assert!(spans.iter().any(|s| s.3 == cat), "trace {pid} has no {cat}");
        }
    }
}

/// A request published to a topic carries its trace to every consumer group.
#[test]
fn traces_follow_messages_to_their_consumers() {
    let out = run_to(
        &scenario_path("reference-async.yaml"),
        &["--trace-sample", "0.01", "--set", "duration=10s"],
    );
    let traces = check_traces(&read_json(&out.path().join("traces.json")));
    let with_events = traces
        .iter()
        .filter(|(_, spans)| spans.iter().filter(|s| s.3 == "event").count() >= 3)
        .count();
    // A publish and two groups' handlings, for most traces.
    assert!(
        with_events * 10 >= traces.len() * 9,
        "{with_events} of {}",
        traces.len()
    );
}

/// Tracing draws from its own stream: the figures do not change with it, and
/// `--json` writes only summary.json and run.json (and the folder's marker).
#[test]
fn tracing_and_reports_do_not_change_the_figures() {
    let path = scenario_path("reference-async.yaml");
    let a = run_to(&path, &["--trace-sample", "0", "--set", "duration=8s"]);
    let b = run_to(&path, &["--trace-sample", "0.5", "--set", "duration=8s"]);
    let c = run_to(&path, &["--json", "--set", "duration=8s"]);
    let bytes = |d: &tempfile::TempDir| std::fs::read(d.path().join("summary.json")).unwrap();
    assert_eq!(bytes(&a), bytes(&b));
    assert_eq!(bytes(&a), bytes(&c));
    let mut files: Vec<String> = std::fs::read_dir(c.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, [".meshsim-output", "run.json", "summary.json"]);
    let traced = read_json(&b.path().join("traces.json"));
    assert!(traced["otherData"]["traces"].as_u64().unwrap() >= 1000);
}

const HOSTILE: &str = r#"
name: x<script>alert("name")</script>'q'
description: <b>bold</b> & "quoted" 'single' <img src=x onerror=alert(1)>
seed: 3
duration: 5s
warmup: 1s
slo: {sync_p99: 200ms, event_p99: 1s, availability: 99%}
datacenters: [dc<i>1</i>]
broker:
  kind: kafka
  nodes: 1
  append: {exponential: {mean: 0.05ms}}
  topics:
    t<script>"x": {partitions: 2}
services:
  s<script>alert('svc')</script>:
    replicas: 2
    concurrency: 4
    endpoints:
      e"<q>":
        steps:
          - work: {exponential: {mean: 1ms}}
          - publish: t<script>"x"
  c&amp;"<x>:
    replicas: 1
    concurrency: 4
    consumes:
      - topic: t<script>"x"
        group: g<script>'g'
        steps: [{work: {exponential: {mean: 1ms}}}]
workload:
  - name: w<script>alert("w")</script>
    target: s<script>alert('svc')</script>.e"<q>"
    rate: 100/s
"#;

/// Names holding `<script>`, quotes and ampersands appear only escaped.
#[test]
fn every_scenario_string_is_escaped() {
    let (_dir, out) = run_yaml(HOSTILE);
    let summary = read_json(&out.join("summary.json"));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let tags = check_html(&html);
    assert_self_contained(&html, &tags);
    assert_verdicts_match(&summary, &tags, 0, 1);
    for raw in [
        "<script", "<b>", "<img", "<i>", "<q>", "<x>", "alert(\"", "'svc'",
    ] {
        assert!(!html.contains(raw), "{raw} unescaped");
    }
    // Unescaped, the page says what the scenario says.
    let text = unescape(&html);
    for raw in [
        "<b>bold</b> & \"quoted\" 'single' <img src=x onerror=alert(1)>",
        "x<script>alert(\"name\")</script>'q'",
        "c&amp;\"<x>",
        "g<script>'g'",
    ] {
        assert!(text.contains(raw), "{raw} missing");
    }
    // The service's name is in the tables, the charts' legends and the scenario text.
    assert!(text.matches("s<script>alert('svc')</script>").count() >= 3);
    let csv = std::fs::read_to_string(out.join("timeseries.csv")).unwrap();
    // CSV quotes a field with quotes, and doubles them (RFC 4180).
    assert!(csv.contains(",workload,\"w<script>alert(\"\"w\"\")</script>\",sent_per_s,"));
    let summary_sent = summary["workload"]["w<script>alert(\"w\")</script>"]["sent"]
        .as_u64()
        .unwrap();
    assert!(summary_sent > 300);
    check_traces(&read_json(&out.join("traces.json")));
}

/// Replaces the entities of escaped text by the characters they stand for.
fn unescape(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let end = i + rest[i..].find(';').unwrap();
        let entity = &rest[i + 1..end];
        let c = match entity {
            "lt" => '<',
            "gt" => '>',
            "amp" => '&',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&e[2..], 16).unwrap()).unwrap()
            }
            e if e.starts_with('#') => char::from_u32(e[1..].parse().unwrap()).unwrap(),
            e => panic!("unknown entity {e}"),
        };
        out.push(c);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// compare: one page with the verdicts of every scenario in columns, equal
/// to each run's summary, the differences, and the CDFs overlaid.
#[test]
fn compare_writes_one_page_side_by_side() {
    let out = tempfile::tempdir().unwrap();
    meshsim()
        .arg("compare")
        .arg(scenario_path("reference-sync.yaml"))
        .arg(scenario_path("reference-async.yaml"))
        .args(["--out", out.path().to_str().unwrap()])
        .assert()
        .success();
    let o = out.path();
    let html = std::fs::read_to_string(o.join("report.html")).unwrap();
    let tags = check_html(&html);
    assert_self_contained(&html, &tags);
    for (i, name) in ["0-reference-sync", "1-reference-async"].iter().enumerate() {
        let summary = read_json(&o.join(format!("{name}.summary.json")));
        for w in summary["workload"].as_object().unwrap().values() {
            let n = |k: &str| w[k].as_u64().unwrap();
            let settled = n("ok") + n("failed") + n("timed_out") + n("rejected") + n("in_flight");
            assert_eq!(n("sent"), settled);
        }
        assert_verdicts_match(&summary, &tags, i, 2);
    }
    assert!(html.contains("Latency CDFs overlaid"));
    assert!(html.contains("replicas (cost)"));
    let (w, h, colours, _) = png_facts(&o.join("latency_cdf.png"));
    assert_eq!((w, h, colours > 20), (960, 400, true));
}

/// Colours only on a terminal: piped output has no escape codes.
#[test]
fn no_colours_when_not_on_a_terminal() {
    let out = tempfile::tempdir().unwrap();
    let assert = meshsim()
        .args(["run", &scenario_path("mm1.yaml"), "--json", "--out"])
        .arg(out.path())
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(!stdout.contains('\x1b'));
    let assert = meshsim()
        .args(["run", &scenario_path("mm1.yaml"), "--out"])
        .arg(out.path())
        .assert()
        .success();
    let stdout = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert!(stdout.contains("PASS") && !stdout.contains('\x1b'));
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(
        !stderr.contains('\x1b') && !stderr.contains('\r'),
        "no progress bar"
    );
}

/// With replications the page shows their combined verdicts (summary.json's
/// means), and charts and tables of replication 1.
#[test]
fn replications_get_a_report_with_their_combined_verdicts() {
    let out = run_to(&scenario_path("mm1.yaml"), &["--replications", "3"]);
    let o = out.path();
    let summary = read_json(&o.join("summary.json"));
    assert_eq!(summary["replications"], 3);
    let html = std::fs::read_to_string(o.join("report.html")).unwrap();
    let tags = check_html(&html);
    assert_self_contained(&html, &tags);
    assert_verdicts_match(&summary, &tags, 0, 1);
    assert!(html.contains("95%: ") && html.contains("replication 1"));
    let (w, h, _, _) = png_facts(&o.join("latency_cdf.png"));
    assert_eq!((w, h), (960, 400));
}

/// Every request fails: the page says FAIL where summary.json says so (not
/// "no data"), and the charts still draw.
#[test]
fn a_run_where_everything_fails_shows_fail() {
    let (_dir, out) = run_yaml(
        "name: allfail\nduration: 5s\nslo: {sync_p99: 200ms, availability: 99%}\n\
         services:\n  a:\n    endpoints:\n      x:\n        steps: [{work: {constant: 1ms}}]\n\
         workload:\n  - {name: w, target: a.x, rate: 100/s}\n\
         failures:\n  - {at: 0s, for: 1h, errors: a, rate: 100%}\n",
    );
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["slo"]["sync_p99"]["pass"], false);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let tags = check_html(&html);
    assert_verdicts_match(&summary, &tags, 0, 1);
    let cells: Vec<&Tag> = tags
        .iter()
        .filter(|t| {
            t.name == "td"
                && t.attrs
                    .iter()
                    .any(|(k, v)| k == "class" && v.starts_with("verdict"))
        })
        .collect();
    let class = |i: usize| {
        cells[i]
            .attrs
            .iter()
            .find(|(k, _)| k == "class")
            .unwrap()
            .1
            .clone()
    };
    assert_eq!(class(0), "verdict fail", "sync p99");
    assert_eq!(class(1), "verdict na", "event p99: no events");
    assert_eq!(class(2), "verdict fail", "availability");
}
