//! One run's report material: its charts and `timeseries.csv`, built from the
//! summary and the collected series.

use std::fmt::Write as _;

use super::charts::{Band, Chart, Line, VerdictPanel};
use super::sweep::csv_field;
use crate::engine::time::{as_millis, as_secs};
use crate::metrics::latency::round6;
use crate::metrics::series::WorkloadPoint;
use crate::metrics::{Collector, GroupStats, Summary};
use crate::scenario::Scenario;

pub use super::verdicts::{Verdict, percent, verdicts, verdicts_combined};

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

    /// Every consumer group, in scenario order: (topic name, group name, stats).
    pub fn groups(&self) -> Vec<(&str, &str, &GroupStats)> {
        groups(self.scenario, self.collector)
    }

    /// Latency CDFs: each workload's requests and each consumer group's events.
    pub fn cdf_lines(&self, prefix: &str, color: &mut usize, dashed: bool) -> Vec<Line> {
        let workloads = self
            .scenario
            .workloads
            .iter()
            .zip(&self.collector.workloads);
        let requests = workloads.map(|(w, st)| (format!("{} (request)", w.name), &st.latency));
        let groups = self.groups();
        let events = groups
            .iter()
            .map(|(topic, group, g)| (format!("{topic} → {group} (event)"), &g.latency));
        requests
            .chain(events)
            .map(|(label, latency)| {
                *color += 1;
                let line = Line::new(
                    format!("{prefix}{label}"),
                    latency.cdf(CDF_POINTS),
                    *color - 1,
                );
                if dashed { line.dashed() } else { line }
            })
            .collect()
    }

    pub fn cdf_chart(&self) -> Chart {
        let mut c = Chart::new(
            "Latency CDF (successful requests; events to the end of their handling)",
            "latency, ms (log scale)",
            "share at or below",
        );
        c.log_x = true;
        c.y_range = Some((0.0, 1.0));
        c.lines = self.cdf_lines("", &mut 0, false);
        let sync = as_millis(self.scenario.slo.sync_p99);
        c.x_targets.push((sync, format!("sync p99 {sync} ms")));
        if !self.collector.topics.is_empty() {
            let event = as_millis(self.scenario.slo.event_p99);
            c.x_targets.push((event, format!("event p99 {event} ms")));
        }
        c
    }

    /// A chart over simulated time, with the warmup and failures shaded.
    fn over_time(&self, title: &str, y_label: &str) -> Chart {
        let mut c = Chart::new(title, "simulated time, s", y_label);
        c.bands = self.bands();
        c
    }

    /// The end of the first step that began after the warmup: the first
    /// point a chart over time draws (a step inside the warmup counts nothing).
    fn first_measured(&self, times: &[f64]) -> f64 {
        let warmup = self.summary.warmup_s;
        let starts = std::iter::once(0.0).chain(times.iter().copied());
        starts
            .zip(times)
            .find(|(start, _)| *start >= warmup - 1e-9)
            .map_or(f64::INFINITY, |(_, &end)| end)
    }

    /// Every chart of the run, in the report's order (empty ones left out).
    pub fn charts(&self) -> Vec<NamedChart> {
        let times = self.times();
        let named = |file, chart| NamedChart { file, chart };
        let mut out = vec![
            named("latency_cdf", self.cdf_chart()),
            named("latency_over_time", self.latency_chart(&times)),
            named("throughput", self.throughput_chart(&times)),
        ];
        if !self.scenario.consumers.is_empty() {
            let (latency, lag) = self.event_charts(&times);
            out.push(named("event_latency_over_time", latency));
            out.push(named("consumer_lag", lag));
        }
        out.push(named("utilization", self.utilization_chart(&times)));
        if let Some(breakers) = self.breaker_chart() {
            out.push(named("breakers", breakers));
        }
        let first = self.first_measured(&times);
        for c in out.iter_mut().filter(|c| c.file != "latency_cdf") {
            start_after_warmup(&mut c.chart, self.summary.warmup_s, first);
        }
        out
    }

    fn latency_chart(&self, times: &[f64]) -> Chart {
        let series = &self.collector.series;
        let mut lat = self.over_time(
            "Request latency over time (p50 dashed, p99 solid)",
            "latency, ms",
        );
        for (i, (w, ws)) in self
            .scenario
            .workloads
            .iter()
            .zip(&series.workloads)
            .enumerate()
        {
            let points = ws.points.iter().map(|p| (p.ok > 0, p.p50_ns, p.p99_ns));
            lat.lines
                .extend(percentile_lines(&w.name, points, times, i));
        }
        let sync = as_millis(self.scenario.slo.sync_p99);
        lat.targets.push((sync, format!("sync p99 {sync} ms")));
        lat
    }

    fn throughput_chart(&self, times: &[f64]) -> Chart {
        let series = &self.collector.series;
        let mut thr = self.over_time(
            "Throughput and errors over time (by the client's answer)",
            "requests per second",
        );
        for (i, (w, ws)) in self
            .scenario
            .workloads
            .iter()
            .zip(&series.workloads)
            .enumerate()
        {
            let rate = |f: fn(&WorkloadPoint) -> u64| -> Vec<(f64, f64)> {
                ws.points
                    .iter()
                    .zip(times)
                    .enumerate()
                    .map(|(k, (p, &t))| (t, f(p) as f64 / series.step_secs(k)))
                    .collect()
            };
            thr.lines
                .push(Line::new(format!("{} ok/s", w.name), rate(|p| p.ok), 2 * i));
            let errors = Line::new(
                format!("{} errors/s", w.name),
                rate(|p| p.errors),
                2 * i + 3,
            );
            thr.lines.push(errors.dashed());
        }
        thr
    }

    /// Each consumer group's event latency, and its lag.
    fn event_charts(&self, times: &[f64]) -> (Chart, Chart) {
        let mut ev = self.over_time(
            "Event latency over time, publish to handled (p50 dashed, p99 solid)",
            "latency, ms",
        );
        let mut lag = self.over_time(
            "Consumer lag over time (messages not yet handled, per group)",
            "messages",
        );
        for (color, (topic, group, g)) in self.groups().iter().enumerate() {
            let name = format!("{topic} → {group}");
            let points = g
                .latency_series
                .iter()
                .map(|&(p50, p99)| (p99 > 0, p50, p99));
            ev.lines
                .extend(percentile_lines(&name, points, times, color));
            let lags = g
                .series
                .iter()
                .zip(times)
                .map(|(&(l, _), &t)| (t, l as f64));
            lag.lines.push(Line::new(name, lags.collect(), color));
        }
        let event = as_millis(self.scenario.slo.event_p99);
        ev.targets.push((event, format!("event p99 {event} ms")));
        (ev, lag)
    }

    fn utilization_chart(&self, times: &[f64]) -> Chart {
        let mut util = self.over_time(
            "Utilisation per service (busy workers / workers of serving replicas)",
            "utilisation",
        );
        util.y_range = Some((0.0, 1.05));
        for (i, (svc, pts)) in self
            .scenario
            .services
            .iter()
            .zip(&self.collector.series.services)
            .enumerate()
        {
            let mean = self.summary.services[i].utilization;
            let points = pts.iter().zip(times).map(|(p, &t)| (t, p.utilization));
            let label = format!("{} (mean {mean:.2})", svc.name);
            util.lines.push(Line::new(label, points.collect(), i));
        }
        util
    }

    /// The state of every breaker that ever left closed, as steps; none: no chart.
    fn breaker_chart(&self) -> Option<Chart> {
        let series = &self.collector.series;
        let breakers: Vec<usize> = (0..series.calls.len())
            .filter(|&site| {
                !self.collector.calls[site].breaker_transitions.is_empty()
                    || series.calls[site].iter().any(|p| p.breaker != 0)
            })
            .collect();
        if breakers.is_empty() {
            return None;
        }
        let mut br = self.over_time("Circuit breaker state over time", "state");
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
            let key = self.scenario.call_sites[site].key.clone();
            br.lines.push(Line::new(key, points, i).stepped());
        }
        Some(br)
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

/// Leaves out of a chart over time what lies inside the warmup: the points
/// before `first` (the first step after it), and the part of a state (steps)
/// before the warmup's end, where it then starts.
fn start_after_warmup(chart: &mut Chart, warmup: f64, first: f64) {
    for line in &mut chart.lines {
        if line.steps {
            let held = line.points.iter().rev().find(|p| p.0 <= warmup).copied();
            line.points.retain(|p| p.0 > warmup);
            if let Some((_, y)) = held.filter(|_| warmup > 0.0) {
                line.points.insert(0, (warmup, y));
            }
        } else {
            line.points.retain(|p| p.0 >= first - 1e-9);
        }
    }
}

/// A p99 line (solid) and a p50 line (dashed) over `times`, from per-step
/// (has data, p50 ns, p99 ns); steps without data are left out.
fn percentile_lines(
    name: &str,
    points: impl Iterator<Item = (bool, u64, u64)>,
    times: &[f64],
    color: usize,
) -> [Line; 2] {
    let (mut p50, mut p99) = (Vec::new(), Vec::new());
    for ((has, a, b), &t) in points.zip(times) {
        if has {
            p50.push((t, as_millis(a)));
            p99.push((t, as_millis(b)));
        }
    }
    [
        Line::new(format!("{name} p99"), p99, color),
        Line::new(format!("{name} p50"), p50, color).dashed(),
    ]
}

/// `timeseries.csv`: tidy, one row per time and series:
/// `time_s,component,name,metric,value`.
pub fn timeseries_csv(s: &Scenario, c: &Collector) -> Vec<u8> {
    let series = &c.series;
    let groups = groups(s, c);
    let mut out = String::from("time_s,component,name,metric,value\n");
    for (k, &end) in series.times.iter().enumerate() {
        let t = as_secs(end);
        let secs = series.step_secs(k);
        let per_s = |n: u64| n as f64 / secs;
        // Percentiles only for steps that had something to measure.
        let percentiles = |has: bool, p50: u64, p99: u64| {
            has.then(|| [("p50_ms", as_millis(p50)), ("p99_ms", as_millis(p99))])
                .into_iter()
                .flatten()
        };
        let mut rows =
            |component: &str, name: &str, metrics: &mut dyn Iterator<Item = (&str, f64)>| {
                let name = csv_field(name);
                for (metric, value) in metrics {
                    let _ = writeln!(out, "{t},{component},{name},{metric},{value}");
                }
            };
        for (w, ws) in s.workloads.iter().zip(&series.workloads) {
            let p = &ws.points[k];
            let counts = [
                ("sent_per_s", per_s(p.sent)),
                ("ok_per_s", per_s(p.ok)),
                ("errors_per_s", per_s(p.errors)),
            ];
            let all = counts
                .into_iter()
                .chain(percentiles(p.ok > 0, p.p50_ns, p.p99_ns));
            rows("workload", &w.name, &mut all.into_iter());
        }
        for (svc, pts) in s.services.iter().zip(&series.services) {
            let p = &pts[k];
            let metrics = [
                ("utilization", round6(p.utilization)),
                ("queue", p.queue as f64),
                ("replicas", f64::from(p.replicas)),
                ("provisioned", f64::from(p.provisioned)),
                ("ok_per_s", per_s(p.ok)),
                ("failed_per_s", per_s(p.failed)),
            ];
            rows("service", &svc.name, &mut metrics.into_iter());
        }
        for (site, pts) in s.call_sites.iter().zip(&series.calls) {
            let p = &pts[k];
            let counts = [
                ("attempts_per_s", per_s(p.attempts)),
                ("errors_per_s", per_s(p.errors)),
                ("retries_per_s", per_s(p.retries)),
                ("short_circuited_per_s", per_s(p.short_circuited)),
                ("breaker_state", f64::from(p.breaker)),
            ];
            let all = counts
                .into_iter()
                .chain(percentiles(p.p99_ns > 0, p.p50_ns, p.p99_ns));
            rows("call", &site.key, &mut all.into_iter());
        }
        for (ti, published) in series.published.iter().enumerate() {
            let name = &s.broker.as_ref().expect("topics need a broker").topics[ti].name;
            rows(
                "topic",
                name,
                &mut [("published_per_s", per_s(published[k]))].into_iter(),
            );
        }
        for (topic, group, g) in &groups {
            let ((lag, handled), (p50, p99)) = (g.series[k], g.latency_series[k]);
            let counts = [("lag", lag as f64), ("handled_per_s", per_s(handled))];
            let all = counts.into_iter().chain(percentiles(p99 > 0, p50, p99));
            // Dots cannot be in names: `topic.group` is unambiguous.
            rows("group", &format!("{topic}.{group}"), &mut all.into_iter());
        }
    }
    out.into_bytes()
}

/// Every consumer group, in scenario order: (topic name, group name, stats).
pub(crate) fn groups<'a>(
    s: &'a Scenario,
    c: &'a Collector,
) -> Vec<(&'a str, &'a str, &'a GroupStats)> {
    let mut out = Vec::new();
    for (t, topic) in c.topics.iter().enumerate() {
        let name = &s.broker.as_ref().expect("topics need a broker").topics[t].name;
        let consumers = s.consumers.iter().filter(|consumer| consumer.topic == t);
        for (consumer, g) in consumers.zip(&topic.groups) {
            out.push((name.as_str(), consumer.group.as_str(), g));
        }
    }
    out
}
