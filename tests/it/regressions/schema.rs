//! Regressions: the JSON Schema, CI and what a new user reads.
//!
//! The schema side (a real validator rejects every file of tests/schema/invalid/
//! and accepts every example) is checked by .ci/schema-check.sh with ajv; these
//! tests check the other side: `meshsim check` agrees with it on the same files.

use std::path::{Path, PathBuf};
use std::process::Command;

fn yaml_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    files
}

/// `meshsim check FILE`: exit code and stderr.
fn check(file: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_meshsim"))
        .arg("check")
        .arg(file)
        .output()
        .expect("meshsim runs");
    let code = out.status.code().expect("an exit code");
    (code, String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Each wrong input the schema must reject (15 classes found by hand, and more)
/// is also rejected by `check`, as bad input.
#[test]
fn schema_invalid_inputs_are_rejected_by_check() {
    let files = yaml_files("tests/schema/invalid");
    assert!(files.len() >= 15, "{} invalid inputs", files.len());
    for f in files {
        let (code, stderr) = check(&f);
        assert_eq!(code, 2, "{}: exit {code}\n{stderr}", f.display());
        assert!(stderr.contains("error"), "{}: {stderr}", f.display());
    }
}

/// Every example, and every file the schema must accept, passes `check`.
#[test]
fn schema_valid_inputs_and_examples_pass_check() {
    let files = [yaml_files("scenarios"), yaml_files("tests/schema/valid")].concat();
    assert!(files.len() > 12);
    for f in files {
        let (code, stderr) = check(&f);
        assert_eq!(code, 0, "{}: exit {code}\n{stderr}", f.display());
    }
}

/// Strict draft-07 validators refuse formats they do not know (schemars adds uint32, double…).
#[test]
fn schema_has_no_format_and_says_exactly_one_kind() {
    let schema: serde_json::Value = serde_json::from_str(&meshsim::cli::schema()).unwrap();
    fn formats(v: &serde_json::Value) -> usize {
        match v {
            serde_json::Value::Object(m) => {
                usize::from(m.get("format").is_some_and(|f| f.is_string()))
                    + m.values().map(formats).sum::<usize>()
            }
            serde_json::Value::Array(a) => a.iter().map(formats).sum(),
            _ => 0,
        }
    }
    assert_eq!(formats(&schema), 0);
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    let kinds = |def: &str| {
        schema["definitions"][def]["oneOf"]
            .as_array()
            .unwrap()
            .len()
    };
    // work, call, parallel, publish, branch.
    assert_eq!(kinds("RawStep"), 5);
    // Seven kinds, each as a window or at random, and the `random:` crash shorthand.
    assert_eq!(kinds("RawFailure"), 15);
    assert_eq!(kinds("Distribution"), 12);
}
