//! The testbed (docs/VALIDATION.md), one run of it kept in tests/data/testbed/
//! as the run wrote it: the baseline's real OTLP traces, imported with the
//! run's validation/testbed-map.yaml (a copy beside them), and the load generator's and the shipping
//! consumer's own records of the baseline, load ×1.5 and load ×2. The imported
//! model's prediction, made as validation/app's predict.py makes it, is checked
//! against those measurements with the bounds. The measurement was made
//! once by `bash validation/run.sh` and committed, so that `cargo test` needs no
//! RabbitMQ or nginx (`.ci/run` runs the live smoke version after the tests).

use std::path::Path;

use serde_json::Value;

use super::common::meshsim;

const WARMUP_S: f64 = 5.0;
const SEEDS: u32 = 10;

fn data(file: &str) -> String {
    format!("{}/tests/data/testbed/{file}", env!("CARGO_MANIFEST_DIR"))
}

fn read(file: &str) -> String {
    std::fs::read_to_string(data(file)).unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Latencies (ms) of the answered requests sent after the warmup, sorted.
fn measured_requests(run: &str) -> Vec<f64> {
    let mut ms: Vec<f64> = read(&format!("{run}/requests.csv"))
        .lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let sent: f64 = f[1].parse().unwrap();
            (sent >= WARMUP_S && f[3] == "200").then(|| f[2].parse::<f64>().unwrap() * 1e3)
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    ms
}

/// Shipping's event latencies (ms, publish to handled) of messages published after
/// the warmup, from the consumer's own log of (published, done) epoch seconds.
fn measured_shipping(run: &str) -> Vec<f64> {
    let meta: Value = serde_json::from_str(&read(&format!("{run}/meta.json"))).unwrap();
    let after = meta["start_epoch"].as_f64().unwrap() + WARMUP_S;
    let mut ms: Vec<f64> = read(&format!("{run}/lag-shipping.csv"))
        .lines()
        .filter_map(|line| {
            let (p, d) = line.split_once(',').unwrap();
            let (p, d): (f64, f64) = (p.parse().unwrap(), d.parse().unwrap());
            (p >= after).then_some((d - p) * 1e3)
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

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

fn import(dir: &Path) -> String {
    import_with(dir, &[])
}

/// The baseline imported with the testbed's map and `extra` arguments.
fn import_with(dir: &Path, extra: &[&str]) -> String {
    // The map the run was made with, kept beside its data: validation/testbed-map.yaml
    // follows the testbed, which may have changed since.
    let map = data("testbed-map.yaml");
    let traces = data("baseline/otlp.jsonl.gz");
    let mut args = vec!["import", &traces, "--map", &map, "--out", "model.yaml"];
    args.extend(extra);
    let out = meshsim(dir, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(dir.join("model.yaml")).unwrap()
}

/// The load generator's planned send times (its `scheduled_s` column), as a replay list.
fn schedule(run: &str) -> String {
    let mut times: Vec<f64> = read(&format!("{run}/requests.csv"))
        .lines()
        .skip(1)
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect();
    times.sort_by(f64::total_cmp);
    let listed: Vec<String> = times
        .iter()
        .map(|t| format!("{}us", (t * 1e6).round()))
        .collect();
    format!("[{}]", listed.join(", "))
}

/// Predicted [mean, p50, p99] of the requests and [mean, p99] of shipping's events.
struct Predicted {
    sync: [f64; 3],
    shipping: [f64; 2],
}

/// The prediction as predict.py makes it: the load generator's own schedule
/// replayed, and the mean over seeds 1 to 10 of runs as long as the testbed's
/// (5 s warmup, 40 s measured): a 40 s run near the knee does not reach the
/// steady state's tail, and the prediction is of the run made.
fn predict(dir: &Path, run: &str) -> Predicted {
    let w = "workload.api /api/order";
    let sets = [
        format!("{w}.rate=null"),
        format!("{w}.arrival=replay"),
        format!("{w}.replay={}", schedule(run)),
        "warmup=5s".into(),
        "duration=40s".into(),
    ];
    let mut p = Predicted {
        sync: [0.0; 3],
        shipping: [0.0; 2],
    };
    for seed in 1..=SEEDS {
        let seed = seed.to_string();
        let mut args = vec![
            "run",
            "model.yaml",
            "--json",
            "--seed",
            &seed,
            "--out",
            "out",
        ];
        for s in &sets {
            args.extend(["--set", s.as_str()]);
        }
        let doc = super::common::json_of_success(&meshsim(dir, &args));
        let lat = &doc["workload"]["api /api/order"]["latency_ms"];
        let ship = &doc["topics"]["orders"]["groups"]["shipping"]["latency_ms"];
        let n = SEEDS as f64;
        for (i, k) in ["mean", "p50", "p99"].iter().enumerate() {
            p.sync[i] += lat[k].as_f64().unwrap() / n;
        }
        for (i, k) in ["mean", "p99"].iter().enumerate() {
            p.shipping[i] += ship[k].as_f64().unwrap() / n;
        }
    }
    p
}

/// The median of compute's imported `handoff` (a lognormal's `median` or the
/// empirical `p50`), in ms.
fn handoff_median_ms(model: &str) -> f64 {
    let compute = &model[model.find("\"compute\":").expect("compute in the model")..];
    let line = compute
        .lines()
        .find(|l| l.starts_with("    handoff: "))
        .expect("compute has a handoff");
    let at = line
        .find("median: ")
        .map(|i| i + 8)
        .or_else(|| line.find("p50: ").map(|i| i + 5))
        .expect("a median");
    let value = &line[at..line[at..].find([',', '}']).unwrap() + at];
    match value.strip_suffix("us") {
        Some(us) => us.parse::<f64>().unwrap() / 1e3,
        None => value.strip_suffix("ms").unwrap().parse().unwrap(),
    }
}

/// Each predicted figure against the measured one, within its bound.
fn check(what: &str, figures: &[(&str, f64, f64, f64)]) {
    for &(name, p, m, bound) in figures {
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

/// The requests' mean, p50 and p99 with the bounds (10%, 10%, 20%).
fn check_requests(what: &str, p: &Predicted, run: &str) {
    let m = measured_requests(run);
    check(
        what,
        &[
            ("mean", p.sync[0], mean(&m), 0.10),
            ("p50", p.sync[1], quantile(&m, 0.5), 0.10),
            ("p99", p.sync[2], quantile(&m, 0.99), 0.20),
        ],
    );
}

#[test]
fn the_imported_testbed_predicts_its_measured_conditions() {
    let dir = tempfile::tempdir().unwrap();
    let model = import(dir.path());
    // What the map supplied: replicas, cores, and the consumers' RabbitMQ prefetch.
    for supplied in [
        "cores: 1  # supplied at import",
        "replicas: 2  # supplied at import",
        "prefetch: 3  # supplied at import",
        "prefetch: 8  # supplied at import",
    ] {
        assert!(model.contains(supplied), "{supplied} in {model}");
    }
    // The hop is the answer's leg: no wait for a callee's worker in it.
    assert!(
        model.contains("one hop = CLIENT end - its SERVER end"),
        "{model}"
    );
    // compute, one worker, spends time outside its spans between jobs: its
    // handoff, a fraction of its 13 ms spans. The services with many workers get none.
    let handoff = handoff_median_ms(&model);
    println!("compute's handoff: median {handoff:.3} ms");
    assert!((0.3..2.0).contains(&handoff), "{model}");
    assert_eq!(model.matches("\n    handoff: ").count(), 1, "{model}");
    let baseline = predict(dir.path(), "baseline");
    check_requests("baseline 30/s", &baseline, "baseline");
    // Load ×1.5: shipping (3 workers, 50 ms, prefetch 3) at ρ ≈ 0.8, where an ack's
    // round trip per message and the schedule's own bursts both show.
    let more = predict(dir.path(), "rate_x1.5");
    check_requests("rate x1.5 45/s", &more, "rate_x1.5");
    let events = measured_shipping("rate_x1.5");
    check(
        "rate x1.5 shipping events",
        &[
            ("mean", more.shipping[0], mean(&events), 0.20),
            ("p99", more.shipping[1], quantile(&events, 0.99), 0.20),
        ],
    );
    let double = predict(dir.path(), "rate_x2");
    check_requests("rate x2 60/s", &double, "rate_x2");
}

/// A handoff supplied at import replaces the estimate; a service given more than
/// one worker gets none (a request sent early need not have waited), nor do sampled traces.
#[test]
fn a_supplied_handoff_or_more_workers_replace_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let model = import_with(dir.path(), &["--set", "services.compute.handoff=2ms"]);
    assert_eq!(model.matches("\n    handoff: ").count(), 1, "{model}");
    assert!(
        model.contains("handoff: 2ms  # supplied at import"),
        "{model}"
    );
    let s = meshsim::scenario::load_str(&model, "model.yaml", &[]).unwrap();
    let compute = s.services.iter().find(|x| x.name == "compute").unwrap();
    assert_eq!(compute.handoff.as_ref().map(|d| d.mean()), Some(2e6));
    let model = import_with(dir.path(), &["--set", "services.compute.concurrency=2"]);
    assert!(!model.contains("handoff"), "{model}");
    // Sampled traces miss the jobs between two seen ones: no estimate, and it says why.
    let model = import_with(dir.path(), &["--sample-rate", "0.5"]);
    assert!(!model.contains("\n    handoff: "), "{model}");
    assert!(
        model.contains("handoff: not estimated: the traces are sampled"),
        "{model}"
    );
}
