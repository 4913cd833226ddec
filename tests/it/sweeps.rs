//! Sweeps, replications, sharding, resuming and the planner.

use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use meshsim::metrics::replicate::replication_seed;
use meshsim::metrics::stats::estimate;
use meshsim::metrics::summarize;
use meshsim::sweep::{Sweep, parse_axis};
use meshsim::validate::mmc_mean;

use crate::common::load;

fn scenario_path(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

use crate::common::meshsim;

fn outputs(dir: &Path) -> Vec<Vec<u8>> {
    ["sweep.csv", "sweep.json", "sweep.html"]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap_or_else(|_| panic!("{f} in {dir:?}")))
        .collect()
}

/// 200 experiments, each the 95% interval of the mean response over 5
/// replications of an M/M/1 (ρ = 0.5): about 95% of them contain 1/(μ − λ).
#[test]
fn confidence_intervals_cover_the_analytic_mean() {
    let s = load(
        "name: t\nseed: 1\nduration: 10s\nwarmup: 1s\nservices:\n  s:\n    queue: 100000\n    endpoints:\n      x: {steps: [{work: {exponential: {mean: 1ms}}}]}\nworkload:\n  - {name: w, target: s.x, rate: 500/s}\n",
    );
    let theory = 2.0;
    let covered = (0..200u64)
        .filter(|&e| {
            let means: Vec<f64> = (0..5)
                .map(|r| {
                    let seed = replication_seed(e, r);
                    let out = meshsim::model::run(&s, seed, &mut |_, _| {});
                    summarize(&s, seed, &out.collector).workload["w"]
                        .latency_ms
                        .mean
                })
                .collect();
            let ci = estimate(&means);
            ci.lo() <= theory && theory <= ci.hi()
        })
        .count();
    let share = covered as f64 / 200.0;
    assert!((0.90..=0.99).contains(&share), "coverage {share}");
}

/// M/M/4 from ρ = 0.1 to 0.95: every point within 3% of Erlang C, and the
/// theory line is in sweep.html.
#[test]
fn mmc_sweep_tracks_erlang_c() {
    let text = std::fs::read_to_string(scenario_path("mmc.yaml")).unwrap();
    let rates = "400/s..3600/s:9,3800/s";
    let axes = vec![
        parse_axis(&format!("workload.requests.rate={rates}")).unwrap(),
        parse_axis("duration=2000s").unwrap(),
    ];
    let sweep = Sweep::new(&text, "mmc.yaml", axes.clone(), 1, None).unwrap();
    let all: Vec<usize> = (0..sweep.points.len()).collect();
    let points = sweep.run(&all, &|_| {});
    assert_eq!(points.len(), 10);
    for p in &points {
        let lambda: f64 = p.params[0].1.trim_end_matches("/s").parse().unwrap();
        let theory = 1e3 * mmc_mean(4, lambda, 1000.0);
        assert_eq!(
            p.theory_mean_ms.map(|t| (t * 1e9).round()),
            Some((theory * 1e9).round())
        );
        let sim = p.runs[0].mean_ms.unwrap();
        assert!(
            (sim - theory).abs() / theory <= 0.03,
            "ρ = {}: simulated {sim}, Erlang C {theory}",
            lambda / 4000.0
        );
    }
    let html = String::from_utf8(meshsim::report::sweep::html("mmc", &axes, &points)).unwrap();
    assert!(
        html.contains("stroke-dasharray=\"6 4\"") && html.contains("theory"),
        "a dashed theory line"
    );
    assert!(
        html.contains("target p99 200 ms"),
        "the p99 target is named"
    );
}

/// Outputs are byte-identical with 1 thread and with 2; shards merged equal
/// the single sweep; a bad path, an empty range, a bad shard exit 2.
#[test]
fn sweeps_are_deterministic_sharded_and_checked() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scenario = scenario_path("mm1.yaml");
    let args = |out: &str, extra: &[&str]| {
        let mut v = vec![
            "sweep",
            scenario.as_str(),
            "--set",
            "workload.requests.rate=200/s,500/s,800/s",
            "--set",
            "duration=20s,40s",
            "--replications",
            "2",
            "--out",
        ];
        v.push(Box::leak(out.to_string().into_boxed_str()));
        v.extend_from_slice(extra);
        v.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    let run = |a: Vec<String>| {
        let refs: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = meshsim(d, &refs);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(args("one", &["--threads", "1"]));
    run(args("two", &["--threads", "2"]));
    assert_eq!(
        outputs(&d.join("one")),
        outputs(&d.join("two")),
        "threads change nothing"
    );
    for k in 0..3 {
        run(args(&format!("shard{k}"), &["--shard", &format!("{k}/3")]));
    }
    let o = meshsim(
        d,
        &["merge", "shard0", "shard1", "shard2", "--out", "merged"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        outputs(&d.join("one")),
        outputs(&d.join("merged")),
        "shards merged = one sweep"
    );
    let o = meshsim(d, &["merge", "shard0", "shard1", "--out", "partial"]);
    assert_eq!(o.status.code(), Some(2), "a missing shard is reported");
    let csv = String::from_utf8(outputs(&d.join("one"))[0].clone()).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + 6 * 2,
        "one row per point and replication"
    );
    for (bad, says) in [
        (vec!["--set", "services.server.replicaz=1,2"], "replicaz"),
        (vec!["--set", "services.server.replicas=5..2"], "empty"),
        (
            vec!["--set", "services.server.replicas=1,2", "--shard", "3/3"],
            "--shard",
        ),
    ] {
        let mut a = vec!["sweep", scenario.as_str()];
        a.extend(bad);
        let o = meshsim(d, &a);
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(says), "{err}");
    }
}

/// A sweep killed midway and run again skips what it finished and ends with
/// the same outputs as a sweep never interrupted.
#[test]
fn a_killed_sweep_resumes_to_the_same_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let scenario = scenario_path("mm1.yaml");
    let args = |out: &str| -> Vec<String> {
        [
            "sweep",
            &scenario,
            "--set",
            "workload.requests.rate=100/s..900/s:24",
            "--set",
            "duration=400s",
            "--threads",
            "1",
            "--out",
            out,
        ]
        .map(String::from)
        .to_vec()
    };
    let bin = assert_cmd::cargo::cargo_bin("meshsim");
    let mut child = Process::new(&bin)
        .current_dir(d)
        .args(args("resumed"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let points = d.join("resumed").join("points");
    let started = Instant::now();
    let count = || {
        std::fs::read_dir(&points).map_or(0, |r| {
            r.filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".json")
            })
            .count()
        })
    };
    while count() < 6 && started.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let finished = count() - 1;
    assert!(
        finished < 24,
        "killed midway ({finished} of 24 points done)"
    );
    assert!(!d.join("resumed").join("sweep.csv").exists());
    let o = Command::new(&bin)
        .current_dir(d)
        .args(args("resumed"))
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("already done"));
    let o = Command::new(&bin)
        .current_dir(d)
        .args(args("whole"))
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(outputs(&d.join("resumed")), outputs(&d.join("whole")));
}

/// The planner finds the fewest service-b replicas for reference-sync, and
/// shows that one fewer fails.
#[test]
fn planner_finds_the_cheapest_passing_configuration() {
    let dir = tempfile::tempdir().unwrap();
    crate::common::short_reference_sync(dir.path());
    let o = meshsim(
        dir.path(),
        &[
            "plan",
            "ref.yaml",
            "--vary",
            "services.service-b.replicas",
            "--max",
            "12",
        ],
    );
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let best: u32 = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("services.service-b.replicas = "))
        .and_then(|v| v.parse().ok())
        .expect(&out);
    // B needs λ·E[S] ≈ 41.8 busy workers of 8 per replica: at least 6 replicas.
    assert_eq!(best, 6, "{out}");
    assert!(
        out.contains("one fewer on services.service-b.replicas")
            && out
                .lines()
                .any(|l| l.contains("one fewer") && !l.trim_end().ends_with("pass")),
        "{out}"
    );
    let plan: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("reports/reference-sync-plan/plan.json")).unwrap(),
    )
    .unwrap();
    assert!(plan["trials"].as_array().unwrap().len() >= 3);
}

/// compare runs the scenarios under one seed: the same arrivals for both.
#[test]
fn compare_uses_common_random_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        scenario_path("reference-sync.yaml"),
        scenario_path("reference-async.yaml"),
    );
    let o = meshsim(dir.path(), &["compare", &a, &b, "--out", "cmp"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("cmp/compare.json")).unwrap())
            .unwrap();
    let sent = &doc["figures"]["requests sent"];
    assert_eq!(sent[0], sent[1], "identical arrivals: {doc}");
    let p99 = &doc["figures"]["sync p99 ms"];
    assert!(p99[1].as_f64().unwrap() < p99[0].as_f64().unwrap(), "{doc}");
    assert!(
        dir.path()
            .join("cmp/0-reference-sync.summary.json")
            .exists()
    );
}
