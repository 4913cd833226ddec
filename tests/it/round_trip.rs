//! The round trip of issue 14: run a scenario with `--export-traces otlp`,
//! `meshsim import` the traces it wrote, and compare the imported scenario with
//! the one that made them: the same services, endpoints, calls, publishes,
//! topics and consumer groups, and each handler's work distribution with its
//! p50 and p99 within 5%. `cargo test --test it round_trip -- --nocapture`
//! prints the figures.

use std::collections::BTreeMap;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

use super::import_infer::dist;

fn scenario(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn tree(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    meshsim::scenario::node::parse(&text, &path.display().to_string())
        .unwrap()
        .to_json()
}

/// Runs `file` with the export, imports its traces; returns (original, imported,
/// the imported text).
fn round_trip(file: &str, run_args: &[&str]) -> (Value, Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    Command::cargo_bin("meshsim")
        .unwrap()
        .args(["run", &scenario(file), "--export-traces", "otlp", "--out"])
        .arg(&out)
        .args(run_args)
        .assert()
        .success();
    let imported = dir.path().join("imported.yaml");
    Command::cargo_bin("meshsim")
        .unwrap()
        .arg("import")
        .arg(out.join("traces.otlp.json"))
        .arg("--out")
        .arg(&imported)
        .assert()
        .success();
    let text = std::fs::read_to_string(&imported).unwrap();
    (tree(Path::new(&scenario(file))), tree(&imported), text)
}

/// Each endpoint's and consumer's steps other than work, as text ("call X
/// fanout N", "publish T", "parallel[..]"), keyed "service.endpoint" or
/// "service consumes topic/group"; the imported gateway service (the original's
/// `gateway:` block, if any) is left out.
fn topology(s: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for (svc, body) in s["services"].as_object().unwrap() {
        if svc == "gateway" && s.get("gateway").is_none() && body.get("endpoints").is_some() {
            // An imported gateway: an ordinary service in front of the target.
            if s["workload"][0]["target"]
                .as_str()
                .unwrap()
                .starts_with("gateway.")
            {
                continue;
            }
        }
        for (ep, e) in body["endpoints"].as_object().into_iter().flatten() {
            let name = meshsim::import::scenario_name(ep);
            out.insert(format!("{svc}.{name}"), steps(&e["steps"]));
        }
        for c in body["consumes"].as_array().into_iter().flatten() {
            let key = format!("{svc} consumes {}/{}", c["topic"], c["group"]);
            out.insert(key, steps(&c["steps"]));
        }
    }
    out
}

fn steps(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for s in v.as_array().unwrap() {
        if let Some(c) = s.get("call") {
            let fanout = s.get("fanout").map_or(1, |f| f.as_u64().unwrap());
            out.push(format!("call {} fanout {fanout}", c.as_str().unwrap()));
        } else if let Some(t) = s.get("publish") {
            out.push(format!("publish {}", t.as_str().unwrap()));
        } else if let Some(p) = s.get("parallel") {
            out.push(format!("parallel {}", steps(p).join(", ")));
        }
    }
    out
}

/// The work steps' distributions (one per handler here), keyed as in [`topology`].
fn work(s: &Value) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (svc, body) in s["services"].as_object().unwrap() {
        let handlers = body["endpoints"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(ep, e)| (format!("{svc}.{}", meshsim::import::scenario_name(ep)), e))
            .chain(
                body["consumes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|c| (format!("{svc} consumes {}/{}", c["topic"], c["group"]), c)),
            );
        for (key, h) in handlers {
            let works: Vec<&Value> = h["steps"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|s| s.get("work"))
                .collect();
            if let [w] = works[..] {
                out.insert(key, w.clone());
            }
        }
    }
    out
}

/// The q-quantile of a scenario's distribution, in ns; a mixture by bisection of its CDF.
fn quantile(v: &Value, q: f64) -> f64 {
    let Some(parts) = v.get("mixture") else {
        return dist(v).quantile(q);
    };
    let parts: Vec<(f64, _)> = parts
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["weight"].as_f64().unwrap(), dist(&p["dist"])))
        .collect();
    let total: f64 = parts.iter().map(|p| p.0).sum();
    let cdf = |x: f64| parts.iter().map(|(w, d)| w * d.cdf(x)).sum::<f64>() / total;
    let (mut lo, mut hi) = (0.0, 1e12);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if cdf(mid) < q { lo = mid } else { hi = mid }
    }
    (lo + hi) / 2.0
}

/// Every work distribution of `original` comes back with p50 and p99 within 5%.
fn check_work(original: &Value, imported: &Value) {
    let (want, got) = (work(original), work(imported));
    for (key, w) in &want {
        let g = got
            .get(key)
            .unwrap_or_else(|| panic!("{key}: no work imported"));
        for q in [0.5, 0.99] {
            let (a, b) = (quantile(w, q), quantile(g, q));
            let err = (b - a) / a;
            println!(
                "{key} p{:.0}: {:.3} ms imported, {:.3} ms in the scenario ({:+.1}%)",
                q * 100.0,
                b / 1e6,
                a / 1e6,
                err * 100.0
            );
            assert!(err.abs() < 0.05, "{key} p{q}: {b} against {a}");
        }
    }
}

#[test]
fn ecommerce_comes_back_from_its_own_traces() {
    // 1000/s for 36 s, every other request traced: about 18,000 traces (under
    // the cap of 20,000, so none are thinned away).
    let args = [
        "--set",
        "duration=36s",
        "--trace-sample",
        "0.5",
        "--max-traces",
        "20000",
    ];
    let (original, imported, _) = round_trip("ecommerce.yaml", &args);
    // The topology: the same calls and publishes in the same order, the same
    // consumer groups of the same topic.
    assert_eq!(topology(&imported), topology(&original));
    let topics = |s: &Value| -> Vec<String> {
        s["broker"]["topics"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(topics(&imported), topics(&original));
    assert_eq!(imported["broker"]["kind"], "kafka");
    check_work(&original, &imported);
    // The rate, from the sampled traces scaled by their sampling share.
    let rate = imported["workload"][0]["rate"].as_str().unwrap();
    let rate: f64 = rate.trim_end_matches("/s").parse().unwrap();
    assert!(
        (rate / 1000.0 - 1.0).abs() < 0.03,
        "rate {rate}/s against 1000/s"
    );
}

#[test]
fn tail_at_scale_comes_back_from_its_own_traces() {
    let args = [
        "--set",
        "duration=60s",
        "--trace-sample",
        "0.1",
        "--max-traces",
        "5000",
    ];
    let (original, imported, text) = round_trip("tail-at-scale.yaml", &args);
    // The hedges are copies sent 33 ms after the first while it is in flight:
    // the fan-out is the 20 copies sent together, the hedges are a comment.
    assert_eq!(topology(&imported), topology(&original));
    // Each of the 20 copies is hedged when it has not answered after 33 ms: a
    // lookup takes longer with probability 0.98 e^(−33/10) + 0.02 e^(−33/100)
    // = 0.0505, so a request sends 20 × 0.0505 = 1.01 hedges on average.
    let note = text
        .lines()
        .find(|l| l.contains("copies sent later while earlier ones were in flight"))
        .expect("a comment on the hedges");
    println!("{}", note.trim());
    let number_before = |line: &str, marker: &str| -> f64 {
        let head = &line[..line.find(marker).unwrap()];
        head.split_whitespace().last().unwrap().parse().unwrap()
    };
    let hedges = number_before(note, " copies sent later");
    let rate_line = text.lines().find(|l| l.contains("entry requests")).unwrap();
    let requests = number_before(rate_line, " entry requests");
    let p = 0.98 * (-3.3f64).exp() + 0.02 * (-0.33f64).exp();
    let expected = requests * 20.0 * p;
    println!("{hedges} hedges in {requests} requests, {expected:.0} expected");
    assert!(
        (hedges / expected - 1.0).abs() < 0.05,
        "{hedges} against {expected}"
    );
    assert!(note.contains("a median of 33"), "{note}");
    check_work(&original, &imported);
}

/// The chain a user runs (README, "Model your own system"): `import` the
/// recorded traces, then `fit` the imported scenario to the same traces. The
/// issue's bounds (p50 within 10%, p99 within 20% at every entry endpoint) hold
/// as `--fail-above`, and every service endpoint's p50 and p99 are within 5%,
/// because the imported work is the observed work.
#[test]
fn the_imported_scenario_fits_the_traces_it_came_from() {
    let dir = tempfile::tempdir().unwrap();
    let traces = format!(
        "{}/tests/data/traces/otlp.jsonl.gz",
        env!("CARGO_MANIFEST_DIR")
    );
    let shop = dir.path().join("shop.yaml");
    Command::cargo_bin("meshsim")
        .unwrap()
        .args(["import", &traces, "--out"])
        .arg(&shop)
        .assert()
        .success();
    let out = Command::cargo_bin("meshsim")
        .unwrap()
        .arg("fit")
        .arg(&shop)
        .args([
            &traces,
            "--json",
            "--fail-above",
            "p50=10%,p99=20%",
            "--out",
        ])
        .arg(dir.path().join("fit"))
        .output()
        .unwrap();
    let doc = super::common::json_of_success(&out);
    let rows = doc["entries"]
        .as_array()
        .unwrap()
        .iter()
        .chain(doc["endpoints"].as_array().unwrap());
    let mut n = 0;
    for row in rows {
        for q in ["p50_ms", "p99_ms"] {
            let (obs, sim) = (
                row["observed"][q].as_f64().unwrap(),
                row["simulated"][q].as_f64().unwrap(),
            );
            let err = (sim - obs) / obs;
            println!(
                "{}.{} {q}: {sim:.1} simulated, {obs:.1} observed ({:+.1}%)",
                row["service"],
                row["endpoint"],
                err * 100.0
            );
            assert!(err.abs() < 0.05, "{row}");
        }
        n += 1;
    }
    // The entry endpoint, and the six endpoints of the application's services.
    assert_eq!(n, 7);
}
