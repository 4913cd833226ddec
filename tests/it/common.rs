//! Helpers shared by the integration tests.

use meshsim::metrics::{Collector, Summary, summarize};
use meshsim::scenario::{self, Override, Scenario};

/// Loads YAML text, panicking with the rendered problems if it is invalid.
pub fn load(yaml: &str) -> Scenario {
    scenario::load_str(yaml, "test.yaml", &[]).unwrap_or_else(|e| panic!("{}", e.render()))
}

/// Loads a scenario file from scenarios/, with overrides.
pub fn load_file(name: &str, set: &[&str]) -> Scenario {
    let path = format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("scenario file");
    let overrides: Vec<Override> = set.iter().map(|s| Override::parse(s).unwrap()).collect();
    scenario::load_str(&text, &path, &overrides).unwrap_or_else(|e| panic!("{}", e.render()))
}

/// Runs a scenario with its own seed.
pub fn run(s: &Scenario) -> (Summary, Collector) {
    let out = meshsim::model::run(s, s.seed, &mut |_, _| {});
    let summary = summarize(s, s.seed, &out.collector);
    assert_conserved(&summary);
    (summary, out.collector)
}

/// Nothing vanishes: every request sent is ok, failed, timed out, rejected or in
/// flight; every message published is handled, dead-lettered, lost or in flight, per group.
pub fn assert_conserved(s: &Summary) {
    for (topic, t) in &s.topics {
        for (group, g) in &t.groups {
            assert_eq!(
                t.published,
                g.handled + g.dead_lettered + g.lost + g.in_flight,
                "{topic}/{group} lost messages: {g:?}"
            );
        }
    }
    for (name, w) in &s.workload {
        assert_eq!(
            w.sent,
            w.ok + w.failed + w.timed_out + w.rejected + w.in_flight,
            "workload {name} lost requests: {w:?}"
        );
    }
}

/// Asserts |sim − theory| / theory ≤ tol, with a readable message.
pub fn assert_close(what: &str, sim: f64, theory: f64, tol: f64) {
    let rel = (sim - theory).abs() / theory.abs();
    assert!(
        rel <= tol,
        "{what}: simulated {sim:.5}, theory {theory:.5}, error {:.2}% > {:.1}%",
        rel * 100.0,
        tol * 100.0
    );
}

/// Runs the built `meshsim` in `dir` with `args`.
pub fn meshsim(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("meshsim")
        .unwrap()
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap()
}

/// reference-sync.yaml shortened to 20 s (2 s warmup), written as `dir/ref.yaml`.
pub fn short_reference_sync(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("ref.yaml");
    let source = format!(
        "{}/scenarios/reference-sync.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(source)
        .unwrap()
        .replace("duration: 60s", "duration: 20s")
        .replace("warmup: 5s", "warmup: 2s");
    std::fs::write(&path, text).unwrap();
    path
}

/// The JSON a command printed, after checking that it exited 0 (else its stderr is shown).
pub fn json_of_success(out: &std::process::Output) -> serde_json::Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}
