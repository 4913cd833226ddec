//! Regressions: outputs that must be trusted after a failure (issue 11, §3),
//! and the bounds of the command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Output, Stdio};
use std::time::{Duration, Instant};

use meshsim::report::sweep::csv_field;

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("meshsim")
}

use crate::common::meshsim;

fn scenario_path(name: &str) -> String {
    format!("{}/scenarios/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn data(name: &str) -> String {
    format!("{}/tests/it/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Every file of a folder and its subfolders, by relative path, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                let rel = e.path().strip_prefix(dir).unwrap().display().to_string();
                files.insert(rel, std::fs::read(e.path()).unwrap());
            }
        }
    }
    files
}

/// Staging and old folders beside the outputs in `parent`.
fn leftovers(parent: &Path) -> Vec<String> {
    std::fs::read_dir(parent)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".staging-") || n.contains(".old-"))
        .collect()
}

/// `<parent>/.<name>.staging-<pid>`: the folder a run builds its output in.
fn staging_of(out: &Path, pid: u32) -> PathBuf {
    let name = out.file_name().unwrap().to_string_lossy();
    out.with_file_name(format!(".{name}.staging-{pid}"))
}

/// Waits (spinning) until `path` exists or the child ends; false if it ended.
fn wait_for(path: &Path, child: &mut Child) -> bool {
    let started = Instant::now();
    while !path.exists() {
        if child.try_wait().unwrap().is_some() || started.elapsed() > Duration::from_secs(60) {
            return false;
        }
        std::hint::spin_loop();
    }
    true
}

/// `meshsim run` in the background, its output thrown away.
fn spawn_run(dir: &Path, args: &[&str]) -> Child {
    Process::new(bin())
        .current_dir(dir)
        .arg("run")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

/// A bad --out was found only after simulating ("File exists (os error 17)").
/// Now every command checks it first (an existing file, /dev/null, a path
/// under a file, a folder of someone else's files, a place that cannot be
/// written): with an hour to simulate, each returns at once (nothing
/// simulated: not even the seed line), exit 2, naming the path.
#[test]
fn bad_out_is_found_before_simulating() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("file"), "mine\n").unwrap();
    std::fs::create_dir(d.join("notes")).unwrap();
    std::fs::write(d.join("notes/todo.txt"), "mine\n").unwrap();
    let hour = data("regression-one-hour.yaml");
    let sweep_set = "services.server.replicas=4,5";
    // /proc: a place no one can write, root included (as CI runs).
    for out in [
        "file",
        "/dev/null",
        "file/sub",
        "notes",
        "/proc/meshsim-report",
    ] {
        let commands: [Vec<&str>; 4] = [
            vec!["run", &hour, "--out", out],
            vec!["sweep", &hour, "--set", sweep_set, "--out", out],
            vec!["compare", &hour, &hour, "--out", out],
            vec![
                "plan",
                &hour,
                "--vary",
                "services.server.replicas",
                "--out",
                out,
            ],
        ];
        for args in commands {
            let started = Instant::now();
            let o = meshsim(d, &args);
            let err = stderr(&o);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(&format!("cannot write to {out}")), "{err}");
            assert!(!err.contains("seed"), "nothing simulated: {err}");
            assert!(started.elapsed() < Duration::from_secs(20), "{args:?}");
        }
    }
    let o = meshsim(d, &["merge", "notes", "--out", "file"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot write to file: it is a file"));
    assert_eq!(std::fs::read(d.join("file")).unwrap(), b"mine\n");
    assert_eq!(
        snapshot(&d.join("notes")).len(),
        1,
        "the folder is untouched"
    );
    assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
}

/// Runs a 4-point sweep with 2 replications into `d/out`; returns sweep.csv.
fn sweep(d: &Path, out: &str, extra: &[&str]) -> Output {
    let mm1 = scenario_path("mm1.yaml");
    let mut args = vec![
        "sweep",
        &mm1,
        "--set",
        "duration=20s,21s,22s,23s",
        "--replications",
        "2",
        "--out",
        out,
    ];
    args.extend(extra);
    meshsim(d, &args)
}

/// Rewrites a point file through `edit`.
fn edit_point(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

/// `cp points/3.json points/2.json` gave point 3 twice and no point 2; a point
/// with 1 replication under `--replications 2` gave one row. Such files are
/// run again on resume (with a note) and are errors in merge, named.
#[test]
fn a_copied_point_file_is_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(sweep(d, "s", &[]).status.success());
    let whole = snapshot(&d.join("s"));
    let points = d.join("s/points");
    std::fs::copy(points.join("3.json"), points.join("2.json")).unwrap();
    let o = meshsim(d, &["merge", "s", "--out", "m"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("s/points/2.json: it holds point 3, not 2"),
        "{}",
        stderr(&o)
    );
    assert!(!d.join("m").exists());
    let o = sweep(d, "s", &[]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("points/2.json does not count: it holds point 3, not 2"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("1 to run, 3 already done"));
    assert_eq!(snapshot(&d.join("s")), whole, "point 2 is point 2 again");
    edit_point(&points.join("1.json"), |v| {
        v["runs"].as_array_mut().unwrap().truncate(1);
    });
    let o = sweep(d, "s", &[]);
    assert!(
        stderr(&o).contains("points/1.json does not count: it holds 1 replication(s), not 2"),
        "{}",
        stderr(&o)
    );
    assert_eq!(snapshot(&d.join("s")), whole, "two rows for point 1 again");
    let csv = String::from_utf8(whole["sweep.csv"].clone()).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).map(|l| &l[..4]).collect();
    assert_eq!(
        rows,
        [
            "0,0,", "0,1,", "1,0,", "1,1,", "2,0,", "2,1,", "3,0,", "3,1,"
        ]
    );
}

/// merge of shards that overlap took the first file it found. Overlapping
/// identical files are fine; two different files for one point are an error
/// naming both.
#[test]
fn overlapping_shards_that_disagree_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(sweep(d, "all", &[]).status.success());
    assert!(sweep(d, "half", &["--shard", "0/2"]).status.success());
    let o = meshsim(d, &["merge", "all", "half", "--out", "m"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let whole = snapshot(&d.join("all"));
    let merged = snapshot(&d.join("m"));
    for f in ["sweep.csv", "sweep.json", "sweep.html"] {
        assert_eq!(merged[f], whole[f], "{f}");
    }
    edit_point(&d.join("half/points/2.json"), |v| {
        v["runs"][0]["ok"] = serde_json::json!(1);
    });
    let before = snapshot(&d.join("m"));
    let o = meshsim(d, &["merge", "all", "half", "--out", "m"]);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("all/points/2.json and half/points/2.json hold different results for point 2"),
        "{err}"
    );
    assert_eq!(
        snapshot(&d.join("m")),
        before,
        "the old merge is left whole"
    );
}

/// Parses one line of RFC 4180 CSV.
fn cells(line: &str) -> Vec<String> {
    let (mut out, mut cur, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, line.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Asserts no cell of a CSV starts a formula, unless it is a number.
fn assert_no_formula(csv: &str) {
    for line in csv.lines() {
        for cell in cells(line) {
            let number = cell.parse::<f64>().is_ok() && !cell.starts_with('+');
            assert!(
                number || !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "{cell:?} in {line}"
            );
        }
    }
}

/// A service named `=HYPERLINK("http://evil","x")` landed as a formula in
/// timeseries.csv and in sweep.csv's header. Text cells that begin with
/// = + - @ tab or CR now get a leading ' and quotes; numbers stay numbers.
#[test]
fn csv_cells_are_neutralised() {
    assert_eq!(
        csv_field(r#"=HYPERLINK("http://evil","x")"#),
        r#""'=HYPERLINK(""http://evil"",""x"")""#
    );
    for (cell, written) in [
        ("+go", "\"'+go\""),
        ("-2+3", "\"'-2+3\""),
        ("@evil", "\"'@evil\""),
        ("\tx", "\"'\tx\""),
        ("\rx", "\"'\rx\""),
        ("-1.5", "-1.5"),
        ("-12", "-12"),
        ("-1.5e-3", "-1.5e-3"),
        ("-", "\"'-\""),
        ("a,b", "\"a,b\""),
        ("plain", "plain"),
    ] {
        assert_eq!(csv_field(cell), written, "{cell:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let yaml = data("regression-csv-injection.yaml");
    let o = meshsim(d, &["run", &yaml, "--out", "run"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let series = std::fs::read_to_string(d.join("run/timeseries.csv")).unwrap();
    assert_no_formula(&series);
    let names: Vec<String> = series.lines().map(|l| cells(l)[2].clone()).collect();
    for name in ["'@evil", "'-2+3", r#"'=HYPERLINK("http://evil","x")"#] {
        assert!(names.iter().any(|n| n == name), "{name}");
    }
    let o = meshsim(
        d,
        &["sweep", &yaml, "--set", "duration=3s,4s", "--out", "s"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let csv = std::fs::read_to_string(d.join("s/sweep.csv")).unwrap();
    assert_no_formula(&csv);
    let header = cells(csv.lines().next().unwrap());
    assert!(header.contains(&"'@evil.p99_ms".to_string()), "{header:?}");
    assert!(
        header.contains(&r#"'=HYPERLINK("http://evil","x").utilization"#.to_string()),
        "{header:?}"
    );
}

/// `meshsim check /dev/zero` read 2 GB. Files past the size limit of a
/// scenario (4 MiB) are refused after reading at most the limit, named.
#[test]
fn dev_zero_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let big = d.join("big.yaml");
    std::fs::write(&big, "#".repeat(4 * 1024 * 1024 + 1)).unwrap();
    let big = big.to_str().unwrap();
    for args in [
        vec!["check", "/dev/zero"],
        vec!["run", "/dev/zero"],
        vec!["sweep", "/dev/zero", "--set", "duration=1s,2s"],
        vec!["check", big],
    ] {
        let o = meshsim(d, &args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            err.contains(&format!(
                "{}: the file is larger than 4194304 bytes",
                args[1]
            )),
            "{err}"
        );
    }
}

/// `run --threads 100000` started threads until the OS refused: --threads is
/// 1 to 1024, for run, sweep and plan.
#[test]
fn threads_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mm1 = scenario_path("mm1.yaml");
    for threads in ["100000", "0", "1025"] {
        for args in [
            vec!["run", &mm1, "--replications", "2"],
            vec!["sweep", &mm1, "--set", "duration=20s,30s"],
            vec!["plan", &mm1, "--vary", "services.server.replicas"],
        ] {
            let mut args = args.clone();
            args.extend(["--threads", threads]);
            let o = meshsim(dir.path(), &args);
            assert_eq!(o.status.code(), Some(2), "{args:?}");
            assert!(
                stderr(&o).contains("a number of threads from 1 to 1024"),
                "{}",
                stderr(&o)
            );
        }
    }
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}

/// A run stopped by SIGTERM or SIGINT while simulating left `.tmp` files, and
/// one stopped while writing a half-new report. Now it removes its staging
/// folder and exits 143 or 130: the old report is left byte for byte.
#[cfg(unix)]
#[test]
fn sigterm_leaves_the_old_report() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mm1 = scenario_path("mm1.yaml");
    let o = meshsim(d, &["run", &mm1, "--set", "duration=20s", "--out", "r"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let old = snapshot(&d.join("r"));
    let hour = data("regression-one-hour.yaml");
    for (signal, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let mut child = spawn_run(d, &[&hour, "--out", "r"]);
        assert!(wait_for(&staging_of(&d.join("r"), child.id()), &mut child));
        std::thread::sleep(Duration::from_millis(200));
        // SAFETY: a signal to our own child, which has not been waited for.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "signal {signal}");
        assert_eq!(snapshot(&d.join("r")), old, "signal {signal}");
        assert!(leftovers(d).is_empty(), "{:?}", leftovers(d));
    }
}

/// A report folder without run.json (wall time: it differs from run to run).
fn without_run_json(mut files: BTreeMap<String, Vec<u8>>) -> BTreeMap<String, Vec<u8>> {
    files.remove("run.json");
    files
}

/// A pseudo-random share in [0, 1): the kill test's schedule, the same every time.
fn share(state: &mut u64) -> f64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    (*state >> 11) as f64 / (1u64 << 53) as f64
}

/// (from the staging folder's appearance to the end, from the first file
/// written to the end) of one run into `out`.
fn writing_times(d: &Path, args: &[&str], out: &Path) -> (Duration, Duration) {
    let mut child = spawn_run(d, args);
    let staging = staging_of(out, child.id());
    assert!(wait_for(&staging, &mut child));
    let appeared = Instant::now();
    assert!(wait_for(&staging.join("summary.json"), &mut child));
    let writing = Instant::now();
    while child.try_wait().unwrap().is_none() {
        std::hint::spin_loop();
    }
    (appeared.elapsed(), writing.elapsed())
}

/// The kill test. A run killed while writing left new summary.json beside old
/// report.html, timeseries.csv and traces.json (5 of 27 kills). Now, killed
/// (SIGKILL) at 20 moments — half spread over the whole run, half over the
/// writing of its files — the folder is the old report byte for byte, or the
/// new one whole; and the next run leaves no staging folder behind.
#[test]
fn a_report_killed_while_written_is_old_or_new() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (mm1, r) = (scenario_path("mm1.yaml"), d.join("r"));
    let args = |seed: &str, out: &str| -> Vec<String> {
        [&mm1, "--set", "duration=20s", "--seed", seed, "--out", out]
            .map(String::from)
            .to_vec()
    };
    let run = |seed: u64, out: &str| {
        let a = args(&seed.to_string(), out);
        let mut refs = vec!["run"];
        refs.extend(a.iter().map(String::as_str));
        let o = meshsim(d, &refs);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    let mut complete = BTreeMap::new();
    for seed in 1..=3u64 {
        run(seed, &format!("ref{seed}"));
        complete.insert(
            seed,
            without_run_json(snapshot(&d.join(format!("ref{seed}")))),
        );
    }
    run(1, "r");
    let a = args("2", "r");
    let (whole, writing) = writing_times(d, &a.iter().map(String::as_str).collect::<Vec<_>>(), &r);
    // Old report: killed before writing, while writing; new: killed while
    // removing the old one, or after the end.
    let (mut current, mut state, mut outcomes) = (2u64, 11u64, [0u32; 4]);
    for k in 0..20 {
        let seed = current % 3 + 1;
        let before = snapshot(&r);
        let a = args(&seed.to_string(), "r");
        let mut child = spawn_run(d, &a.iter().map(String::as_str).collect::<Vec<_>>());
        let staging = staging_of(&r, child.id());
        let mut alive = wait_for(&staging, &mut child);
        let span = if k % 2 == 0 {
            whole
        } else {
            alive = alive && wait_for(&staging.join("summary.json"), &mut child);
            writing.mul_f64(1.2)
        };
        let at = Instant::now() + span.mul_f64(share(&mut state));
        while alive && Instant::now() < at {
            std::hint::spin_loop();
        }
        let _ = child.kill();
        child.wait().unwrap();
        let after = snapshot(&r);
        let staged = staging.join("summary.json").exists();
        if after == before {
            outcomes[usize::from(staged)] += 1;
            continue;
        }
        assert_eq!(without_run_json(after.clone()), complete[&seed], "kill {k}");
        let info: serde_json::Value = serde_json::from_slice(&after["run.json"]).unwrap();
        assert_eq!(info["seed"], seed, "kill {k}");
        current = seed;
        outcomes[if staged { 2 } else { 3 }] += 1;
    }
    eprintln!(
        "kill test: run {whole:?} from staging, writing {writing:?}; of 20 kills, old report: {} before writing, {} while writing; new report: {} while removing the old, {} after the end",
        outcomes[0], outcomes[1], outcomes[2], outcomes[3]
    );
    assert_eq!(outcomes.iter().sum::<u32>(), 20);
    run(current % 3 + 1, "r");
    let mut names: Vec<String> = std::fs::read_dir(d)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["r", "ref1", "ref2", "ref3"], "no staging left");
}
