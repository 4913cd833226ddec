//! `run --export-traces otlp`: traces.otlp.json read back by the project's own
//! OTLP reader (`cli::traces::read_files`) and checked against the run that
//! wrote it — span counts by kind, parents, nesting, work distributions
//! against their formulas, the sampling share — and summary.json unchanged.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use meshsim::cli::traces::read_files;
use meshsim::import::{Format, Kind, Span, Spans, Status};
use meshsim::model::calls::Outcome;
use meshsim::model::trace::{SpanKind, Traces};
use serde_json::Value;

use crate::common::{load_file, meshsim};

/// Runs `scenario` (from scenarios/) shortened to `duration`, every request
/// sampled, at most 20,000 traces, exporting OTLP into `dir/name`; returns
/// the spans read back and meshsim's standard error.
fn export(dir: &Path, name: &str, scenario: &str, duration: &str) -> (Spans, String) {
    let path = format!("{}/scenarios/{scenario}", env!("CARGO_MANIFEST_DIR"));
    let set = format!("duration={duration}");
    let out = meshsim(
        dir,
        &[
            "run",
            &path,
            "--set",
            &set,
            "--trace-sample",
            "1",
            "--max-traces",
            "20000",
            "--export-traces",
            "otlp",
            "--out",
            name,
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let file = dir.join(name).join("traces.otlp.json");
    let spans = read_files(&[file], Format::Otlp).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        spans.notes.is_empty(),
        "nothing to repair: {:?}",
        spans.notes
    );
    (spans, stderr)
}

/// The same run in the library: its traces.
fn traces(scenario: &str, duration: &str) -> Traces {
    let s = load_file(scenario, &[&format!("duration={duration}")]);
    let options = meshsim::model::RunOptions {
        trace_sample: 1.0,
        max_traces: Some(20_000),
        ..Default::default()
    };
    meshsim::model::run_with(&s, s.seed, &options, &mut |_, _| {}).traces
}

/// What the run did in its whole traces (those whose request ended and were
/// not cut short): [jobs answering calls, attempts of calls made by jobs
/// (sent: not refused by the caller's breaker), publishes, message handlings].
fn expected_kinds(t: &Traces) -> [usize; 4] {
    let whole: HashSet<u32> = t
        .spans
        .iter()
        .filter(|s| matches!(s.kind, SpanKind::Request { .. }) && !t.cut.contains(&s.trace))
        .map(|s| s.trace)
        .collect();
    let of: HashMap<_, _> = t
        .spans
        .iter()
        .filter(|s| !s.of.is_none())
        .map(|s| (s.of, s))
        .collect();
    let mut n = [0; 4];
    for s in t.spans.iter().filter(|s| whole.contains(&s.trace)) {
        let parent = of.get(&s.parent).map(|p| p.kind);
        match (s.kind, parent) {
            (SpanKind::Job { .. }, Some(SpanKind::Attempt { .. })) => n[0] += 1,
            (SpanKind::Job { .. }, Some(SpanKind::Message { .. })) => n[3] += 1,
            (SpanKind::Attempt { .. }, Some(SpanKind::Call { .. }))
                if s.outcome != Some(Outcome::ShortCircuited) =>
            {
                n[1] += 1
            }
            (SpanKind::Publish { .. }, _) => n[2] += 1,
            _ => {}
        }
    }
    n
}

fn kinds(spans: &Spans) -> [usize; 4] {
    let mut n = [0; 4];
    for s in &spans.spans {
        match s.kind {
            Kind::Server => n[0] += 1,
            Kind::Client => n[1] += 1,
            Kind::Producer => n[2] += 1,
            Kind::Consumer => n[3] += 1,
            Kind::Internal => panic!("no INTERNAL spans are written"),
        }
    }
    n
}

/// Every parent named is in the file; SERVER spans sit inside the CLIENT
/// spans that sent them when the answer came (not after a timeout); returns
/// how many SERVER spans were checked that way.
fn check_tree(spans: &Spans) -> usize {
    let by_id: HashMap<(u128, u64), &Span> =
        spans.spans.iter().map(|s| ((s.trace, s.id), s)).collect();
    let mut nested = 0;
    for s in &spans.spans {
        let Some(p) = s.parent else { continue };
        let parent = by_id
            .get(&(s.trace, p))
            .unwrap_or_else(|| panic!("span {:x} names a parent {p:x} not in the file", s.id));
        if s.kind == Kind::Server {
            assert_eq!(
                parent.kind,
                Kind::Client,
                "a SERVER span's parent is a CLIENT span"
            );
            if parent.status != Status::Error {
                assert!(
                    parent.start_ns <= s.start_ns && s.end_ns <= parent.end_ns,
                    "SERVER {:x} [{}, {}] outside its CLIENT [{}, {}]",
                    s.id,
                    s.start_ns,
                    s.end_ns,
                    parent.start_ns,
                    parent.end_ns
                );
                nested += 1;
            }
        }
    }
    nested
}

/// The q-quantile (nearest rank) of durations in ms.
fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1]
}

/// Durations (ms) of the spans of `kind` emitted by `service`.
fn durations(spans: &Spans, service: &str, kind: Kind) -> Vec<f64> {
    spans
        .spans
        .iter()
        .filter(|s| s.kind == kind && spans.names.get(s.service) == service)
        .map(|s| s.duration_ns() as f64 / 1e6)
        .collect()
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    let rel = (got - want).abs() / want;
    println!(
        "{what}: {got:.4}, expected {want:.4} ({:+.2}%)",
        (got / want - 1.0) * 100.0
    );
    assert!(
        rel <= tol,
        "{what}: {got:.4} vs {want:.4}, {:.2}% > {:.1}%",
        rel * 100.0,
        tol * 100.0
    );
}

/// Exports `scenario` run for `duration` and reads it back; checks the span
/// counts by kind against what the same run did in its whole traces and that
/// every parent is present. Returns the spans, standard error, the run's
/// traces and the counts.
fn exported(scenario: &str, duration: &str) -> (Spans, String, Traces, [usize; 4]) {
    let dir = tempfile::tempdir().unwrap();
    let (spans, stderr) = export(dir.path(), "otlp", scenario, duration);
    let t = traces(scenario, duration);
    let (got, want) = (kinds(&spans), expected_kinds(&t));
    println!("{scenario}: SERVER, CLIENT, PRODUCER, CONSUMER {got:?} (the run: {want:?})");
    assert_eq!(got, want);
    (spans, stderr, t, got)
}

#[test]
fn ecommerce_exported_as_otlp_is_the_run_it_came_from() {
    let (spans, stderr, t, got) = exported("ecommerce.yaml", "30s");
    assert!(
        stderr.contains(&format!("{} spans", got.iter().sum::<usize>())),
        "{stderr}"
    );
    // Every request through the gateway: one root each, and one of each other span.
    let roots: Vec<&Span> = spans.spans.iter().filter(|s| s.parent.is_none()).collect();
    assert!(roots.iter().all(|r| r.kind == Kind::Server
        && spans.names.get(r.service) == "gateway"
        && spans.names.get(r.name) == "orders.place"));
    let n = roots.len();
    assert!(n > 10_000, "{n} traces");
    // gateway + orders + payments SERVER; gateway → orders, orders → payments CLIENT (retries
    // only on timeouts, none here); one publish; inventory and shipping handle each, but
    // for the last few messages, still in flight when the run ended (9 of 30,140 here).
    assert_eq!(got[..3], [3 * n, 2 * n, n]);
    assert!(
        got[3] <= 2 * n && got[3] + 30 >= 2 * n,
        "{} handlings of {n} messages",
        got[3]
    );
    let nested = check_tree(&spans);
    assert_eq!(nested, 2 * n, "every SERVER span under its CLIENT span");
    // The share: every request sampled, thinned once past 20,000 (every other kept).
    assert_eq!(t.effective_sample, 0.5);
    assert!(roots.iter().all(|r| r.sample_ratio == Some(0.5)));
    // payments.charge is one work step, lognormal {median: 15ms, p99: 80ms}: its SERVER
    // spans (from when a worker takes the job) have that distribution.
    let mut pay = durations(&spans, "payments", Kind::Server);
    assert_eq!(pay.len(), n);
    close(
        "payments.charge p50 ms",
        quantile(&mut pay, 0.5),
        15.0,
        0.03,
    );
    close(
        "payments.charge p99 ms",
        quantile(&mut pay, 0.99),
        80.0,
        0.08,
    );
    // inventory's handler: exponential {mean: 4ms}, p50 = 4 ln 2, mean 4.
    let mut inv = durations(&spans, "inventory", Kind::Consumer);
    let mean = inv.iter().sum::<f64>() / inv.len() as f64;
    close("inventory handler mean ms", mean, 4.0, 0.03);
    close(
        "inventory handler p50 ms",
        quantile(&mut inv, 0.5),
        4.0 * 2f64.ln(),
        0.03,
    );
}

/// The mixture CDF 0.98 Exp(10 ms) + 0.02 Exp(100 ms) inverted by bisection.
fn shard_quantile(q: f64) -> f64 {
    let cdf = |x: f64| 0.98 * (1.0 - (-x / 10.0).exp()) + 0.02 * (1.0 - (-x / 100.0).exp());
    let (mut lo, mut hi) = (0.0, 2_000.0);
    for _ in 0..100 {
        let mid = (lo + hi) / 2.0;
        if cdf(mid) < q { lo = mid } else { hi = mid }
    }
    lo
}

#[test]
fn tail_at_scale_fan_out_and_hedges_are_exported_whole() {
    let (spans, _, _, got) = exported("tail-at-scale.yaml", "20s");
    check_tree(&spans);
    let roots = spans.spans.iter().filter(|s| s.parent.is_none()).count();
    // 20 shard calls per query, and a hedge for some: more CLIENT spans than 20 a query.
    let clients = got[1];
    assert!(
        clients > 20 * roots && clients < 22 * roots,
        "{clients} for {roots} queries"
    );
    let mut shard = durations(&spans, "shard", Kind::Server);
    close(
        "shard.lookup p50 ms",
        quantile(&mut shard, 0.5),
        shard_quantile(0.5),
        0.03,
    );
    close(
        "shard.lookup p99 ms",
        quantile(&mut shard, 0.99),
        shard_quantile(0.99),
        0.05,
    );
}

/// traces.otlp.json has the OTLP/JSON shape: resources by service, the scope,
/// hex ids, times as decimal strings from 2026-01-01, kinds as integers.
#[test]
fn the_file_is_otlp_json_and_changes_no_other_output() {
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}/scenarios/ecommerce.yaml", env!("CARGO_MANIFEST_DIR"));
    let base = ["run", &path, "--set", "duration=10s"];
    let plain = meshsim(dir.path(), &[&base[..], &["--out", "plain"]].concat());
    assert_eq!(plain.status.code(), Some(0));
    let args = ["--out", "otlp", "--export-traces", "otlp"];
    assert_eq!(
        meshsim(dir.path(), &[&base[..], &args].concat())
            .status
            .code(),
        Some(0)
    );
    let more = [
        "--out",
        "more",
        "--max-traces",
        "20000",
        "--trace-sample",
        "1",
    ];
    assert_eq!(
        meshsim(dir.path(), &[&base[..], &more].concat())
            .status
            .code(),
        Some(0)
    );
    let read = |d: &str, f: &str| std::fs::read(dir.path().join(d).join(f)).unwrap();
    // summary.json never changes with tracing; traces.json not with the export alone.
    assert_eq!(read("plain", "summary.json"), read("otlp", "summary.json"));
    assert_eq!(read("plain", "summary.json"), read("more", "summary.json"));
    assert_eq!(read("plain", "traces.json"), read("otlp", "traces.json"));
    assert!(!dir.path().join("plain/traces.otlp.json").exists());
    let doc: Value = serde_json::from_slice(&read("otlp", "traces.otlp.json")).unwrap();
    let resources = doc["resourceSpans"].as_array().unwrap();
    let names: Vec<&str> = resources
        .iter()
        .map(|r| {
            let a = &r["resource"]["attributes"][0];
            assert_eq!(a["key"], "service.name");
            assert_eq!(r["scopeSpans"][0]["scope"]["name"], "meshsim");
            a["value"]["stringValue"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        names,
        ["orders", "payments", "inventory", "shipping", "gateway"]
    );
    let hex = |v: &Value, n: usize| {
        let s = v.as_str().unwrap();
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let epoch = 1_767_225_600_000_000_000u64;
    for r in resources {
        for sp in r["scopeSpans"][0]["spans"].as_array().unwrap() {
            assert!(hex(&sp["traceId"], 32) && hex(&sp["spanId"], 16), "{sp}");
            assert!(sp.get("parentSpanId").is_none_or(|p| hex(p, 16)), "{sp}");
            assert!((2..=5).contains(&sp["kind"].as_u64().unwrap()), "{sp}");
            let t = |k: &str| sp[k].as_str().unwrap().parse::<u64>().unwrap();
            assert!(
                t("startTimeUnixNano") >= epoch + 5_000_000_000,
                "after warmup: {sp}"
            );
            assert!(t("endTimeUnixNano") >= t("startTimeUnixNano"), "{sp}");
        }
    }
    // The export is part of the run: the same bytes twice.
    let again = meshsim(
        dir.path(),
        &[&base[..], &["--out", "again", "--export-traces", "otlp"]].concat(),
    );
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(
        read("otlp", "traces.otlp.json"),
        read("again", "traces.otlp.json")
    );
}

#[test]
fn bad_export_flags_exit_2_saying_what_is_expected() {
    let dir = tempfile::tempdir().unwrap();
    let path = format!("{}/scenarios/ecommerce.yaml", env!("CARGO_MANIFEST_DIR"));
    let cases: [(&[&str], &str); 3] = [
        (&["--export-traces", "otlp", "--json"], "drop --json"),
        (&["--export-traces", "zipkin"], "possible values: otlp"),
        (&["--max-traces", "0"], "from 1 to 20000"),
    ];
    for (args, says) in cases {
        let out = meshsim(
            dir.path(),
            &[&["run", &path, "--out", "x"][..], args].concat(),
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!dir.path().join("x").exists(), "nothing written");
    }
}
