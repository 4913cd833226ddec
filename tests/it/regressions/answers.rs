//! Regressions: silent wrong answers, memory and time, messages.

use assert_cmd::Command;

fn meshsim(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("meshsim")
        .expect("the binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .expect("meshsim runs")
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `--set services.serviceb.replicas=6` added a phantom service with no
/// endpoints and left `service-b` as it was, in every command.
#[test]
fn set_with_a_misspelt_map_key_creates_no_phantom() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let out = out.to_str().unwrap();
    let sync = "scenarios/reference-sync.yaml";
    let runs: [Vec<&str>; 5] = [
        vec!["check", sync, "--set", "services.serviceb.replicas=6"],
        vec![
            "run",
            sync,
            "--set",
            "services.serviceb.replicas=6",
            "--out",
            out,
        ],
        vec![
            "sweep",
            sync,
            "--set",
            "services.serviceb.replicas=6,7",
            "--out",
            out,
        ],
        vec![
            "plan",
            sync,
            "--vary",
            "services.serviceb.replicas",
            "--out",
            out,
        ],
        vec![
            "compare",
            sync,
            sync,
            "--set",
            "services.serviceb.replicas=6",
            "--out",
            out,
        ],
    ];
    for args in &runs {
        let o = meshsim(args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains("no service named 'serviceb'"),
            "{args:?}: {err}"
        );
        assert!(err.contains("did you mean 'service-b'?"), "{args:?}: {err}");
    }
    assert!(!dir.path().join("o").exists(), "nothing written");
}
