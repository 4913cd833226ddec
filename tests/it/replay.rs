//! `arrival: replay` (docs/SCENARIO.md, "Workloads"): the listed send times and
//! nothing else, whatever the seed; equal times are a burst queued in order.
//! Bad lists are exit 2 with the line and the YAML path.

use crate::common::{assert_conserved, load, run};
use crate::errors::{bad, names_line_and_path};

fn scenario(times: &str, warmup: &str) -> String {
    format!(
        "name: replay\nduration: 1s\nwarmup: {warmup}\nservices:\n  api:\n    concurrency: 1\n    endpoints:\n      get: {{steps: [{{work: 10ms}}]}}\nworkload:\n  - name: w\n    target: api.get\n    arrival: replay\n    replay: [{times}]\n"
    )
}

/// Every 20 ms from 0 to 1.98 s: 100 times; with a 0.5 s warmup and 1 s measured,
/// the measured sends are the 50 in [0.5 s, 1.5 s), each served alone in 10 ms,
/// and those from 1.5 s on fall after the run.
#[test]
fn the_listed_times_are_sent_whatever_the_seed() {
    let times: Vec<String> = (0..100).map(|i| format!("{}ms", 20 * i)).collect();
    let yaml = scenario(&times.join(", "), "500ms");
    let mut seen = Vec::new();
    for seed in [1, 2] {
        let s = load(&yaml.replace("name: replay\n", &format!("name: replay\nseed: {seed}\n")));
        let (summary, _) = run(&s);
        assert_conserved(&summary);
        let w = &summary.workload["w"];
        assert_eq!((w.sent, w.ok), (50, 50), "seed {seed}");
        assert!((w.latency_ms.p99 - 10.0).abs() < 0.01, "{:?}", w.latency_ms);
        seen.push(w.latency_ms.mean);
    }
    assert_eq!(seen[0], seen[1], "the same sends whatever the seed");
    assert!((seen[0] - 10.0).abs() < 0.01, "{seen:?}");
}

/// Three sends at one instant to one worker: 10, 20 and 30 ms; a time past the
/// end of the run is not sent.
#[test]
fn equal_times_are_a_burst_served_in_turn() {
    let s = load(&scenario("100ms, 100ms, 100ms, 5s", "0s"));
    let (summary, _) = run(&s);
    assert_conserved(&summary);
    let w = &summary.workload["w"];
    assert_eq!((w.sent, w.ok), (3, 3));
    assert!(
        (w.latency_ms.mean - 20.0).abs() < 0.02,
        "{:?}",
        w.latency_ms
    );
    assert!((w.latency_ms.max - 30.0).abs() < 0.03, "{:?}", w.latency_ms);
}

#[test]
fn bad_replay_lists_name_the_line_and_path() {
    let e = bad(
        "rate: 100/s",
        "arrival: replay\n    replay: [0s, 20ms, 10ms]",
    );
    names_line_and_path(&e, 19, "workload[0].replay[2]");
    assert!(e.contains("replay times must not go back"), "{e}");
    let e = bad(
        "rate: 100/s",
        "rate: 100/s\n    arrival: replay\n    replay: [0s]",
    );
    assert!(
        e.contains("workload[0].rate") && e.contains("the replay list gives the times"),
        "{e}"
    );
    let e = bad("rate: 100/s", "rate: 100/s\n    replay: [0s]");
    assert!(
        e.contains("workload[0].replay") && e.contains("'replay' is set but arrival is not replay"),
        "{e}"
    );
    let e = bad("rate: 100/s", "arrival: replay\n    replay: [0s, soon]");
    assert!(e.contains("workload[0].replay[1]"), "{e}");
    let e = bad("rate: 100/s", "arrival: replay");
    assert!(
        e.contains("workload[0].arrival") && e.contains("arrival replay needs a 'replay' block"),
        "{e}"
    );
    let e = bad("rate: 100/s", "users: 3\n    think: 1s\n    replay: [0s]");
    assert!(e.contains("'replay' shapes open arrivals"), "{e}");
}
