//! metrics.om: the OpenMetrics export of a reference run, checked for what
//! Prometheus relies on: well-formed lines, cumulative monotone counters,
//! consistent histograms, and the same totals as summary.json.

use std::collections::BTreeMap;

use crate::common::{meshsim, short_reference_sync};

/// One sample line: (series: name and labels, value, timestamp in s).
fn parse(line: &str) -> (String, f64, f64) {
    let (series, rest) = match line.rfind('}') {
        Some(i) => (&line[..=i], line[i + 1..].trim()),
        None => line.split_once(' ').expect("name value ts"),
    };
    let mut parts = rest.split(' ');
    let value = parts.next().unwrap().parse().expect("value");
    let ts = parts.next().expect("timestamp").parse().expect("ts");
    assert_eq!(parts.next(), None, "{line}");
    (series.to_string(), value, ts)
}

#[test]
fn metrics_om_is_cumulative_consistent_and_matches_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = short_reference_sync(dir.path());
    let yaml = yaml.to_str().unwrap();
    let args = |out: &str, om: &str| {
        let a = [
            "run",
            yaml,
            "--out",
            out,
            "--metrics",
            om,
            "--trace-sample",
            "0",
        ];
        a.map(String::from)
    };
    for (out, om) in [("a", "a.om"), ("b", "b.om")] {
        let a = args(out, om);
        let o = meshsim(
            dir.path(),
            &a.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let read = |p: &str| std::fs::read(dir.path().join(p)).unwrap();
    let bytes = read("a.om");
    assert_eq!(bytes, read("b.om"), "two runs, two different exports");
    assert_eq!(
        bytes,
        read("a/metrics.om"),
        "--metrics and metrics.om differ"
    );
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.ends_with("\n# EOF\n"));
    assert!(text.starts_with("# TYPE http_client_requests_seconds histogram\n"));

    // Every sample, by series, in file order.
    let mut series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    let mut counters = Vec::new();
    for line in text.lines().filter(|l| *l != "# EOF") {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            if let Some(name) = rest.strip_suffix(" counter") {
                counters.push(format!("{name}_total"));
            }
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let (key, value, ts) = parse(line);
        series.entry(key).or_default().push((ts, value));
    }
    assert!(counters.len() >= 6, "{counters:?}");
    let start = 1_767_225_600.0; // the default --metrics-start
    for (key, points) in &series {
        let first = points[0].0;
        assert!(
            first > start && first <= start + 1.0,
            "{key} starts at {first}"
        );
        assert!(
            points.windows(2).all(|w| w[1].0 > w[0].0),
            "{key}: time goes back"
        );
        let name = key.split('{').next().unwrap();
        if counters.iter().any(|c| c == name) || key.contains("_bucket") || key.contains("_count") {
            assert!(
                points.windows(2).all(|w| w[1].1 >= w[0].1),
                "{key} decreases"
            );
        }
    }
    // Histogram: buckets cumulative in le, +Inf = _count, and the count is the
    // summary's ok requests (both count what was sent after warmup).
    let count = &series["http_client_requests_seconds_count{workload=\"client\"}"];
    let inf = &series["http_client_requests_seconds_bucket{workload=\"client\",le=\"+Inf\"}"];
    assert_eq!(count, inf);
    let le_005 = &series["http_client_requests_seconds_bucket{workload=\"client\",le=\"0.05\"}"];
    assert!(le_005.iter().zip(inf).all(|(a, b)| a.1 <= b.1));
    let summary: serde_json::Value =
        serde_json::from_slice(&read("a/summary.json")).expect("summary");
    let w = &summary["workload"]["client"];
    let last = |key: &str| series[key].last().unwrap().1;
    assert_eq!(count.last().unwrap().1, w["ok"].as_f64().unwrap());
    for outcome in ["ok", "failed", "timed_out", "rejected"] {
        let key =
            format!("http_client_requests_total{{workload=\"client\",outcome=\"{outcome}\"}}");
        assert_eq!(last(&key), w[outcome].as_f64().unwrap(), "{outcome}");
    }
    let in_flight = last("meshsim_requests_in_flight{workload=\"client\"}");
    assert_eq!(in_flight, w["in_flight"].as_f64().unwrap());
    // The mean latency: _sum / _count, as summary.json has it (ms, rounded).
    let sum = last("http_client_requests_seconds_sum{workload=\"client\"}");
    let mean_ms = sum / count.last().unwrap().1 * 1e3;
    let want = w["latency_ms"]["mean"].as_f64().unwrap();
    assert!(
        (mean_ms / want - 1.0).abs() < 0.005,
        "mean {mean_ms} vs {want}"
    );
}

#[test]
fn metrics_start_moves_every_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = short_reference_sync(dir.path());
    let yaml = yaml.to_str().unwrap();
    let run = |start: &str, om: &str| {
        let args = [
            "run",
            yaml,
            "--json",
            "--metrics",
            om,
            "--metrics-start",
            start,
        ];
        let o = meshsim(dir.path(), &args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        std::fs::read_to_string(dir.path().join(om)).unwrap()
    };
    let a = run("2026-01-01T00:00:00Z", "a.om");
    let b = run("1767225600", "b.om");
    let c = run("2026-01-01T01:00:00+02:00", "c.om");
    assert_eq!(a, b);
    let first_ts = |t: &str| parse(t.lines().find(|l| !l.starts_with('#')).unwrap()).2;
    assert_eq!(first_ts(&a) - first_ts(&c), 3600.0);
    let o = meshsim(
        dir.path(),
        &["run", yaml, "--json", "--metrics-start", "soon"],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("RFC 3339"));
}

/// The samples of one series of an export, by its exact name and labels.
fn samples(text: &str, series: &str) -> Vec<f64> {
    let prefix = format!("{series} ");
    let lines = text.lines().filter(|l| l.starts_with(&prefix));
    lines.map(|l| parse(l).1).collect()
}

#[test]
fn lag_and_breaker_state_follow_the_series() {
    // ecommerce.yaml (Kafka), shortened.
    let s = crate::common::load_file("ecommerce.yaml", &["duration=20s"]);
    let (_, c) = crate::common::run(&s);
    let text = String::from_utf8(meshsim::report::metrics::metrics_om(&s, &c, 0)).unwrap();
    let topic = &s.broker.as_ref().unwrap().topics[s.consumers[0].topic].name;
    let group = &s.consumers[0].group;
    let key = format!("kafka_consumergroup_lag_sum{{consumergroup=\"{group}\",topic=\"{topic}\"}}");
    let lags: Vec<f64> = c.topics[s.consumers[0].topic].groups[0]
        .series
        .iter()
        .map(|&(l, _)| l as f64)
        .collect();
    assert_eq!(samples(&text, &key), lags);
    assert!(lags.iter().any(|&l| l > 0.0), "no lag to compare");
    // kafka-exporter's per-partition lag adds up to the group's, at every step.
    let partitions = s.broker.as_ref().unwrap().topics[s.consumers[0].topic].partitions;
    let mut sum = vec![0.0; lags.len()];
    for p in 0..partitions {
        let key = format!(
            "kafka_consumergroup_lag{{consumergroup=\"{group}\",partition=\"{p}\",topic=\"{topic}\"}}"
        );
        let xs = samples(&text, &key);
        assert_eq!(xs.len(), lags.len(), "{key}");
        sum.iter_mut().zip(&xs).for_each(|(a, x)| *a += x);
    }
    assert_eq!(sum, lags);
    assert!(!text.contains("rabbitmq_queue_messages"));
    // No breaker in ecommerce: the family is there, empty.
    assert!(text.contains("# TYPE resilience4j_circuitbreaker_state gauge\n"));
    assert!(!text.contains("resilience4j_circuitbreaker_state{"));
    assert_eq!(text.matches("# TYPE ").count(), 18);
    let first = text.lines().find(|l| !l.starts_with('#')).unwrap();
    assert_eq!(
        parse(first).2,
        1.0,
        "simulated time 0 at epoch 0: the first step ends at 1 s"
    );
}

#[test]
fn every_breaker_is_in_exactly_one_state() {
    let path = format!(
        "{}/scenarios/cascading-failure.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let yaml = std::fs::read_to_string(path).unwrap().replace(
        "          - call: payments.charge\n",
        "          - call: payments.charge\n            timeout: 300ms\n            \
         circuit_breaker: {sliding_window_size: 50, minimum_number_of_calls: 20, \
         slow_call_duration_threshold: 250ms, slow_call_rate_threshold: 50%, \
         wait_duration_in_open_state: 5s}\n",
    );
    let s = crate::common::load(&yaml);
    let (_, c) = crate::common::run(&s);
    let text = String::from_utf8(meshsim::report::metrics::metrics_om(&s, &c, 0)).unwrap();
    let site = s
        .call_sites
        .iter()
        .position(|cs| cs.key.ends_with("payments.charge"))
        .unwrap();
    let name = &s.call_sites[site].key;
    let state = |st: &str| {
        samples(
            &text,
            &format!("resilience4j_circuitbreaker_state{{name=\"{name}\",state=\"{st}\"}}"),
        )
    };
    let (closed, half, open) = (state("closed"), state("half-open"), state("open"));
    assert_eq!(closed.len(), c.series.times.len());
    for (k, p) in c.series.calls[site].iter().enumerate() {
        assert_eq!(closed[k] + half[k] + open[k], 1.0);
        assert_eq!([closed[k], half[k], open[k]][usize::from(p.breaker)], 1.0);
    }
    assert!(open.contains(&1.0), "the breaker never opened");
}

/// Micrometer's server histogram per service and endpoint: its count is the
/// endpoint's ok executions in summary.json, and its mean the summary's.
#[test]
fn server_histograms_add_up_to_the_endpoints() {
    let s = crate::common::load_file("reference-sync.yaml", &["duration=20s"]);
    let (sum, c) = crate::common::run(&s);
    let text = String::from_utf8(meshsim::report::metrics::metrics_om(&s, &c, 0)).unwrap();
    let mut checked = 0;
    for (svc, ss) in &sum.services {
        for (ep, es) in &ss.endpoints {
            let labels = format!("{{service=\"{svc}\",uri=\"{ep}\"}}");
            let count = samples(
                &text,
                &format!("http_server_requests_seconds_count{labels}"),
            );
            let total = samples(&text, &format!("http_server_requests_seconds_sum{labels}"));
            let inf = format!(
                "http_server_requests_seconds_bucket{{service=\"{svc}\",uri=\"{ep}\",le=\"+Inf\"}}"
            );
            assert_eq!(samples(&text, &inf), count, "{inf}");
            assert!(count.windows(2).all(|w| w[0] <= w[1]), "monotone");
            assert_eq!(*count.last().unwrap(), es.ok as f64, "{svc}.{ep}");
            let mean_ms = total.last().unwrap() / count.last().unwrap() * 1e3;
            let rel = (mean_ms - es.latency_ms.mean).abs() / es.latency_ms.mean;
            assert!(
                rel < 0.005,
                "{svc}.{ep}: {mean_ms} against {}",
                es.latency_ms.mean
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 3, "gateway route, A and B");
}
