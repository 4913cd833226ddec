//! The testbed's baseline (docs/VALIDATION.md), kept in tests/data/testbed/:
//! its real OTLP traces imported with validation/testbed-map.yaml, and the
//! imported model's prediction checked against what the load generator itself
//! measured at the baseline rate and at twice it (ρ ≈ 0.8 at the bottleneck),
//! with the bounds. CI has no RabbitMQ or nginx; the measurement was
//! made once by `bash validation/run.sh` and committed.

use std::path::Path;

use serde_json::Value;

use super::common::meshsim;

fn data(file: &str) -> String {
    format!("{}/tests/data/testbed/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// Latencies (ms) of the answered requests sent after the 5 s warmup, sorted.
fn measured(file: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(data(file)).unwrap();
    let mut ms: Vec<f64> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let sent: f64 = f[1].parse().unwrap();
            (sent >= 5.0 && f[3] == "200").then(|| f[2].parse::<f64>().unwrap() * 1e3)
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms
}

/// Linear interpolation between order statistics, as validation/app's results.py.
fn quantile(xs: &[f64], q: f64) -> f64 {
    let pos = q * (xs.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(xs.len() - 1);
    xs[lo] + (xs[hi] - xs[lo]) * (pos - lo as f64)
}

/// The imported network hop's median: the calibration predict.py makes.
fn median_hop(model: &str) -> String {
    let line = model.lines().find(|l| l.contains("within_dc:")).unwrap();
    let p50 = &line[line.find("p50: ").unwrap() + 5..];
    p50[..p50.find(',').unwrap()].to_string()
}

fn import(dir: &Path) -> String {
    let map = format!("{}/validation/testbed-map.yaml", env!("CARGO_MANIFEST_DIR"));
    let out = meshsim(
        dir,
        &[
            "import",
            &data("otlp.jsonl.gz"),
            "--map",
            &map,
            "--out",
            "model.yaml",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join("model.yaml")).unwrap()
}

fn predict(dir: &Path, rate: &str, hop: &str) -> Value {
    let sets = [
        format!("workload.api /api/order.rate={rate}"),
        "warmup=5s".into(),
        "duration=400s".into(),
        format!("network.within_dc={hop}"),
    ];
    let mut args = vec!["run", "model.yaml", "--json", "--seed", "1"];
    for s in &sets {
        args.extend(["--set", s.as_str()]);
    }
    let out = meshsim(dir, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    doc["workload"]["api /api/order"]["latency_ms"].clone()
}

fn check(what: &str, predicted: &Value, measured: &[f64]) {
    let mean = measured.iter().sum::<f64>() / measured.len() as f64;
    for (name, p, m, bound) in [
        ("mean", predicted["mean"].as_f64().unwrap(), mean, 0.10),
        (
            "p50",
            predicted["p50"].as_f64().unwrap(),
            quantile(measured, 0.5),
            0.10,
        ),
        (
            "p99",
            predicted["p99"].as_f64().unwrap(),
            quantile(measured, 0.99),
            0.20,
        ),
    ] {
        let err = (p - m) / m;
        println!(
            "{what} {name}: predicted {p:.1} ms, measured {m:.1} ms ({:+.1}%)",
            100.0 * err
        );
        assert!(
            err.abs() <= bound,
            "{what} {name}: {p} vs {m}, past ±{bound}"
        );
    }
}

#[test]
fn the_imported_testbed_predicts_its_measured_baseline_and_double_load() {
    let dir = tempfile::tempdir().unwrap();
    let model = import(dir.path());
    // What the map supplied, and the CPU service's work: 12 ms of coded CPU
    // (exponential) plus the handler's own cost, as a fit with its evidence.
    assert!(model.contains("cores: 1  # supplied at import"), "{model}");
    assert!(
        model.contains("replicas: 2  # supplied at import"),
        "{model}"
    );
    let hop = median_hop(&model);
    check(
        "baseline 30/s",
        &predict(dir.path(), "30/s", &hop),
        &measured("baseline.csv"),
    );
    check(
        "rate x2 60/s",
        &predict(dir.path(), "60/s", &hop),
        &measured("rate_x2.csv"),
    );
}
