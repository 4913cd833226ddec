//! One run's report material: its charts and `timeseries.csv`, built from the
//! summary and the collected series.

use std::fmt::Write as _;

use super::charts::{Band, Chart, Line, VerdictPanel};
use crate::engine::time::{as_millis, as_secs};
use crate::metrics::{Collector, Summary};
use crate::scenario::Scenario;

/// What the report of one run is made of.
pub struct RunData<'a> {
    pub scenario: &'a Scenario,
    pub summary: &'a Summary,
    pub collector: &'a Collector,
    /// The scenario file as the user wrote it.
    pub yaml: &'a str,
    pub file: &'a str,
}

/// A chart with the file name of its PNG.
pub struct NamedChart {
    pub file: &'static str,
    pub chart: Chart,
}

pub const CDF_POINTS: usize = 400;
pub const BREAKER_STATES: &[&str] = &["closed", "half-open", "open"];

impl RunData<'_> {
    /// Times of the series' points, in seconds.
    /// Times of the points charted, in seconds: a last step shorter than half
    /// a step is left off the charts (its rates would be noise); it stays in
    /// timeseries.csv.
    fn times(&self) -> Vec<f64> {
        let series = &self.collector.series;
        let mut times: Vec<f64> = series.times.iter().map(|&t| as_secs(t)).collect();
        let last = times.len().saturating_sub(1);
        if times.len() > 1 && series.step_secs(last) < as_secs(series.step) / 2.0 {
            times.pop();
        }
        times
    }

    /// The warmup and every failure window, to shade on charts over time.
    pub fn bands(&self) -> Vec<Band> {
        let mut bands = Vec::new();
        if self.summary.warmup_s > 0.0 {
            bands.push(Band {
                from: 0.0,
                to: self.summary.warmup_s,
                warmup: true,
            });
        }
        let end = as_secs(self.collector.end);
        for f in &self.summary.failures {
            bands.push(Band {
                from: f.start_s,
                to: f.end_s.unwrap_or(end),
                warmup: false,
            });
        }
        bands
    }

    /// Latency CDFs: each workload's requests and each consumer group's events.
    pub fn cdf_lines(&self, prefix: &str, color: &mut usize, dashed: bool) -> Vec<Line> {
        let mut lines = Vec::new();
        for (w, st) in self
            .scenario
            .workloads
            .iter()
            .zip(&self.collector.workloads)
        {
            lines.push(Line {
                label: format!("{prefix}{} (request)", w.name),
                points: st.latency.cdf(CDF_POINTS),
                color: *color,
                dashed,
                steps: false,
            });
            *color += 1;
        }
        for (t, topic) in self.collector.topics.iter().enumerate() {
            let consumers = self.scenario.consumers.iter().filter(|c| c.topic == t);
            for (c, g) in consumers.zip(&topic.groups) {
                let name = &self
                    .scenario
                    .broker
                    .as_ref()
                    .expect("topics need a broker")
                    .topics[t]
                    .name;
                lines.push(Line {
                    label: format!("{prefix}{name} → {} (event)", c.group),
                    points: g.latency.cdf(CDF_POINTS),
                    color: *color,
                    dashed,
                    steps: false,
                });
                *color += 1;
            }
        }
        lines
    }

    pub fn cdf_chart(&self) -> Chart {
        let mut c = Chart::new(
            "Latency CDF (successful requests; events to the end of their handling)",
            "latency, ms (log scale)",
            "share at or below",
        );
        c.log_x = true;
        c.legend_lower_right = true;
        c.y_range = Some((0.0, 1.0));
        c.lines = self.cdf_lines("", &mut 0, false);
        c.x_targets.push((
            as_millis(self.scenario.slo.sync_p99),
            format!(
                "sync p99 target {} ms",
                as_millis(self.scenario.slo.sync_p99)
            ),
        ));
        if !self.collector.topics.is_empty() {
            c.x_targets.push((
                as_millis(self.scenario.slo.event_p99),
                format!(
                    "event p99 target {} ms",
                    as_millis(self.scenario.slo.event_p99)
                ),
            ));
        }
        c
    }

    /// Every chart of the run, in the report's order (empty ones left out).
    pub fn charts(&self) -> Vec<NamedChart> {
        let times = self.times();
        let series = &self.collector.series;
        let bands = || self.bands();
        let mut out = vec![NamedChart {
            file: "latency_cdf",
            chart: self.cdf_chart(),
        }];

        let mut lat = Chart::new(
            "Request latency over time (p50 dashed, p99 solid)",
            "simulated time, s",
            "latency, ms",
        );
        lat.bands = bands();
        for (i, (w, ws)) in self
            .scenario
            .workloads
            .iter()
            .zip(&series.workloads)
            .enumerate()
        {
            let pick = |f: fn(&crate::metrics::series::WorkloadPoint) -> u64| -> Vec<(f64, f64)> {
                ws.points
                    .iter()
                    .zip(&times)
                    .filter(|(p, _)| p.ok > 0)
                    .map(|(p, &t)| (t, as_millis(f(p))))
                    .collect()
            };
            lat.lines.push(Line {
                label: format!("{} p99", w.name),
                points: pick(|p| p.p99_ns),
                color: i,
                dashed: false,
                steps: false,
            });
            lat.lines.push(Line {
                label: format!("{} p50", w.name),
                points: pick(|p| p.p50_ns),
                color: i,
                dashed: true,
                steps: false,
            });
        }
        lat.targets.push((
            as_millis(self.scenario.slo.sync_p99),
            format!("p99 target {} ms", as_millis(self.scenario.slo.sync_p99)),
        ));
        out.push(NamedChart {
            file: "latency_over_time",
            chart: lat,
        });

        let mut thr = Chart::new(
            "Throughput and errors over time (by the client's answer)",
            "simulated time, s",
            "requests per second",
        );
        thr.bands = bands();
        for (i, (w, ws)) in self
            .scenario
            .workloads
            .iter()
            .zip(&series.workloads)
            .enumerate()
        {
            let rate = |f: fn(&crate::metrics::series::WorkloadPoint) -> u64| -> Vec<(f64, f64)> {
                ws.points
                    .iter()
                    .zip(&times)
                    .enumerate()
                    .map(|(k, (p, &t))| (t, f(p) as f64 / series.step_secs(k)))
                    .collect()
            };
            thr.lines.push(Line {
                label: format!("{} ok/s", w.name),
                points: rate(|p| p.ok),
                color: 2 * i,
                dashed: false,
                steps: false,
            });
            thr.lines.push(Line {
                label: format!("{} errors/s", w.name),
                points: rate(|p| p.errors),
                color: 2 * i + 3,
                dashed: true,
                steps: false,
            });
        }
        out.push(NamedChart {
            file: "throughput",
            chart: thr,
        });

        if !self.scenario.consumers.is_empty() {
            let mut ev = Chart::new(
                "Event latency over time, publish to handled (p50 dashed, p99 solid)",
                "simulated time, s",
                "latency, ms",
            );
            ev.bands = bands();
            let mut color = 0;
            for (t, topic) in self.collector.topics.iter().enumerate() {
                let consumers = self.scenario.consumers.iter().filter(|c| c.topic == t);
                let name = &self.scenario.broker.as_ref().expect("broker").topics[t].name;
                for (c, g) in consumers.zip(&topic.groups) {
                    let pick = |f: fn(&(u64, u64)) -> u64| -> Vec<(f64, f64)> {
                        g.latency_series
                            .iter()
                            .zip(&times)
                            .filter(|(p, _)| p.1 > 0)
                            .map(|(p, &t)| (t, as_millis(f(p))))
                            .collect()
                    };
                    ev.lines.push(Line {
                        label: format!("{name} → {} p99", c.group),
                        points: pick(|p| p.1),
                        color,
                        dashed: false,
                        steps: false,
                    });
                    ev.lines.push(Line {
                        label: format!("{name} → {} p50", c.group),
                        points: pick(|p| p.0),
                        color,
                        dashed: true,
                        steps: false,
                    });
                    color += 1;
                }
            }
            ev.targets.push((
                as_millis(self.scenario.slo.event_p99),
                format!(
                    "event p99 target {} ms",
                    as_millis(self.scenario.slo.event_p99)
                ),
            ));
            out.push(NamedChart {
                file: "event_latency_over_time",
                chart: ev,
            });
            let mut lag = Chart::new(
                "Consumer lag over time (messages not yet handled, per group)",
                "simulated time, s",
                "messages",
            );
            lag.bands = bands();
            let mut color = 0;
            for (t, topic) in self.collector.topics.iter().enumerate() {
                let consumers = self.scenario.consumers.iter().filter(|c| c.topic == t);
                let name = &self.scenario.broker.as_ref().expect("broker").topics[t].name;
                for (c, g) in consumers.zip(&topic.groups) {
                    lag.lines.push(Line {
                        label: format!("{name} → {}", c.group),
                        points: g
                            .series
                            .iter()
                            .zip(&times)
                            .map(|(&(l, _), &t)| (t, l as f64))
                            .collect(),
                        color,
                        dashed: false,
                        steps: false,
                    });
                    color += 1;
                }
            }
            out.push(NamedChart {
                file: "consumer_lag",
                chart: lag,
            });
        }

        let mut util = Chart::new(
            "Utilisation per service (busy workers / workers of serving replicas)",
            "simulated time, s",
            "utilisation",
        );
        util.bands = bands();
        util.y_range = Some((0.0, 1.05));
        for (i, (svc, pts)) in self
            .scenario
            .services
            .iter()
            .zip(&series.services)
            .enumerate()
        {
            let mean = self.summary.services[i].utilization;
            util.lines.push(Line {
                label: format!("{} (mean {:.2})", svc.name, mean),
                points: pts
                    .iter()
                    .zip(&times)
                    .map(|(p, &t)| (t, p.utilization))
                    .collect(),
                color: i,
                dashed: false,
                steps: false,
            });
        }
        out.push(NamedChart {
            file: "utilization",
            chart: util,
        });

        let breakers: Vec<usize> = (0..series.calls.len())
            .filter(|&site| {
                !self.collector.calls[site].breaker_transitions.is_empty()
                    || series.calls[site].iter().any(|p| p.breaker != 0)
            })
            .collect();
        if !breakers.is_empty() {
            let mut br = Chart::new(
                "Circuit breaker state over time",
                "simulated time, s",
                "state",
            );
            br.bands = bands();
            br.y_range = Some((-0.1, 2.3));
            br.y_names = Some(BREAKER_STATES);
            for (i, &site) in breakers.iter().enumerate() {
                let mut points = vec![(0.0, 0.0)];
                for &(t, state) in &self.collector.calls[site].breaker_transitions {
                    let y = BREAKER_STATES.iter().position(|&s| s == state).unwrap_or(0);
                    points.push((as_secs(t), y as f64));
                }
                let last = points.last().map_or(0.0, |p| p.1);
                points.push((as_secs(self.collector.end), last));
                br.lines.push(Line {
                    label: self.scenario.call_sites[site].key.clone(),
                    points,
                    color: i,
                    dashed: false,
                    steps: true,
                });
            }
            out.push(NamedChart {
                file: "breakers",
                chart: br,
            });
        }
        out
    }

    /// The SLO verdicts as a picture.
    pub fn verdict_panel(&self, combined: Option<&serde_json::Value>) -> VerdictPanel {
        VerdictPanel {
            rows: combined
                .map_or_else(|| verdicts(self.summary), verdicts_combined)
                .into_iter()
                .map(|v| (v.name.to_string(), v.actual, v.target, v.pass, v.label))
                .collect(),
        }
    }
}

/// One SLO verdict, as the report shows it.
pub struct Verdict {
    pub name: &'static str,
    pub key: &'static str,
    /// The figure as text ("25.6 ms", "99.985%").
    pub actual: String,
    /// The figure exactly as summary.json has it.
    pub value: Option<f64>,
    pub target: String,
    /// None: nothing to measure, or (with replications) inconclusive.
    pub pass: Option<bool>,
    pub label: &'static str,
}

fn label(pass: Option<bool>, measured: bool) -> &'static str {
    match (pass, measured) {
        (Some(true), _) => "PASS",
        (Some(false), _) => "FAIL",
        (None, false) => "NO DATA",
        (None, true) => "INCONCLUSIVE",
    }
}

/// The three SLO verdicts of a summary. `pass` is None when there was nothing
/// to measure (no events): the summary counts that as a pass.
pub fn verdicts(s: &Summary) -> Vec<Verdict> {
    let slo = &s.slo;
    let nothing_sent = s.workload.values().all(|w| w.sent == 0);
    let ms = |v: Option<f64>| v.map_or("no data".to_string(), |v| format!("{v} ms"));
    let rows = [
        (
            "Synchronous p99",
            "sync_p99",
            slo.sync_p99.actual_ms,
            slo.sync_p99.pass,
            ms(slo.sync_p99.actual_ms),
            format!("< {} ms", slo.sync_p99.target_ms),
        ),
        (
            "Event p99",
            "event_p99",
            slo.event_p99.actual_ms,
            slo.event_p99.pass,
            ms(slo.event_p99.actual_ms),
            format!("< {} ms", slo.event_p99.target_ms),
        ),
        (
            "Availability",
            "availability",
            slo.availability.actual,
            slo.availability.pass,
            slo.availability
                .actual
                .map_or("no data".to_string(), |a| format!("{}%", percent(a))),
            format!("≥ {}%", percent(slo.availability.target)),
        ),
    ];
    rows.into_iter()
        .map(|(name, key, value, pass, actual, target)| {
            // Nothing measured and passed: no data (no events). Nothing
            // measured and failed (every request failed): a failure.
            let pass = if value.is_none() && (pass || nothing_sent) {
                None
            } else {
                Some(pass)
            };
            Verdict {
                name,
                key,
                actual,
                value,
                target,
                pass,
                label: label(pass, false),
            }
        })
        .collect()
}

/// The verdicts of runs with replications (summary.json's combined form):
/// the mean with its 95% interval, and pass, fail or inconclusive.
pub fn verdicts_combined(v: &serde_json::Value) -> Vec<Verdict> {
    [
        ("Synchronous p99", "sync_p99", "actual_ms", "target_ms"),
        ("Event p99", "event_p99", "actual_ms", "target_ms"),
        ("Availability", "availability", "actual", "target"),
    ]
    .into_iter()
    .map(|(name, key, field, target_field)| {
        let slo = &v["slo"][key];
        let ci = &v["ci95"]["slo"][key][field];
        let value = slo[field].as_f64();
        let availability = key == "availability";
        let show = |x: f64| {
            if availability {
                format!("{}%", percent(x))
            } else {
                let s = format!("{x:.3}");
                format!("{} ms", s.trim_end_matches('0').trim_end_matches('.'))
            }
        };
        let actual = match (value, ci[0].as_f64(), ci[1].as_f64()) {
            (Some(m), Some(lo), Some(hi)) => {
                format!("{} (95%: {} to {})", show(m), show(lo), show(hi))
            }
            (Some(m), _, _) => show(m),
            _ => "no data".into(),
        };
        let target = slo[target_field].as_f64().unwrap_or(0.0);
        let target = if availability {
            format!("≥ {}%", percent(target))
        } else {
            format!("< {target} ms")
        };
        let pass = match slo["verdict"].as_str() {
            Some("pass") if value.is_some() => Some(true),
            Some("fail") => Some(false),
            _ => None,
        };
        Verdict {
            name,
            key,
            actual,
            value,
            target,
            pass,
            label: label(pass, value.is_some()),
        }
    })
    .collect()
}

/// 0.99985 → "99.985" (the shortest form that is exact for six decimals).
pub fn percent(x: f64) -> String {
    let s = format!("{:.4}", x * 100.0);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

/// `timeseries.csv`: tidy, one row per time and series:
/// `time_s,component,name,metric,value`.
pub fn timeseries_csv(s: &Scenario, c: &Collector) -> Vec<u8> {
    let series = &c.series;
    let mut out = String::from("time_s,component,name,metric,value\n");
    let mut row = |t: f64, component: &str, name: &str, metric: &str, value: f64| {
        let _ = writeln!(out, "{t},{component},{},{metric},{value}", csv_field(name));
    };
    for (k, &end) in series.times.iter().enumerate() {
        let t = as_secs(end);
        let secs = series.step_secs(k);
        for (w, ws) in s.workloads.iter().zip(&series.workloads) {
            let p = &ws.points[k];
            row(t, "workload", &w.name, "sent_per_s", p.sent as f64 / secs);
            row(t, "workload", &w.name, "ok_per_s", p.ok as f64 / secs);
            row(
                t,
                "workload",
                &w.name,
                "errors_per_s",
                p.errors as f64 / secs,
            );
            if p.ok > 0 {
                row(t, "workload", &w.name, "p50_ms", as_millis(p.p50_ns));
                row(t, "workload", &w.name, "p99_ms", as_millis(p.p99_ns));
            }
        }
        for (svc, pts) in s.services.iter().zip(&series.services) {
            let p = &pts[k];
            row(
                t,
                "service",
                &svc.name,
                "utilization",
                round6(p.utilization),
            );
            row(t, "service", &svc.name, "queue", p.queue as f64);
            row(t, "service", &svc.name, "replicas", f64::from(p.replicas));
            row(
                t,
                "service",
                &svc.name,
                "provisioned",
                f64::from(p.provisioned),
            );
            row(t, "service", &svc.name, "ok_per_s", p.ok as f64 / secs);
            row(
                t,
                "service",
                &svc.name,
                "failed_per_s",
                p.failed as f64 / secs,
            );
        }
        for (site, pts) in s.call_sites.iter().zip(&series.calls) {
            let p = &pts[k];
            row(
                t,
                "call",
                &site.key,
                "attempts_per_s",
                p.attempts as f64 / secs,
            );
            row(t, "call", &site.key, "errors_per_s", p.errors as f64 / secs);
            row(
                t,
                "call",
                &site.key,
                "retries_per_s",
                p.retries as f64 / secs,
            );
            row(
                t,
                "call",
                &site.key,
                "short_circuited_per_s",
                p.short_circuited as f64 / secs,
            );
            row(t, "call", &site.key, "breaker_state", f64::from(p.breaker));
            if p.p99_ns > 0 {
                row(t, "call", &site.key, "p50_ms", as_millis(p.p50_ns));
                row(t, "call", &site.key, "p99_ms", as_millis(p.p99_ns));
            }
        }
        for (ti, topic) in c.topics.iter().enumerate() {
            let name = &s.broker.as_ref().expect("broker").topics[ti].name;
            row(
                t,
                "topic",
                name,
                "published_per_s",
                series.published[ti][k] as f64 / secs,
            );
            let consumers = s.consumers.iter().filter(|c| c.topic == ti);
            for (consumer, g) in consumers.zip(&topic.groups) {
                // Dots cannot be in names: `topic.group` is unambiguous.
                let group = format!("{name}.{}", consumer.group);
                let (lag, handled) = g.series[k];
                row(t, "group", &group, "lag", lag as f64);
                row(t, "group", &group, "handled_per_s", handled as f64 / secs);
                let (p50, p99) = g.latency_series[k];
                if p99 > 0 {
                    row(t, "group", &group, "p50_ms", as_millis(p50));
                    row(t, "group", &group, "p99_ms", as_millis(p99));
                }
            }
        }
    }
    out.into_bytes()
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// A CSV field, quoted when it must be (RFC 4180).
pub fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
