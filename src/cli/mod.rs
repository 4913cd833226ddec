//! The command line: flags, reading scenario files, writing outputs, progress
//! bars. The only module that touches the disk or the terminal.

mod compare;
mod export;
mod fit;
mod import;
mod load;
mod output;
mod progress;
mod report;
mod signals;
mod staging;
mod sweep;
pub mod traces;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand};

use crate::engine::time::as_secs;
use crate::metrics::summarize;
use crate::report::{json, table};
use crate::scenario::Scenario;
pub use load::{load, read_bytes, read_text};
use staging::Staging;

/// Exit codes (README.md, "Using it").
pub const EXIT_OK: u8 = 0;
pub const EXIT_SLO_MISSED: u8 = 1;
pub const EXIT_BAD_INPUT: u8 = 2;
/// The run stopped early, its state past the memory budget; its report,
/// up to then and with FAIL verdicts, is written.
pub const EXIT_OVERLOADED: u8 = 3;

/// The most worker threads a command starts (`--threads`).
pub const MAX_THREADS: usize = 1024;

/// `--threads N`: from 1 to [`MAX_THREADS`].
fn parse_threads(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a number of threads from 1 to {MAX_THREADS}"
        )),
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "meshsim",
    version,
    about = "Deterministic discrete-event simulator of microservice communication"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Doc comments here are clap's --help text, printed as written: `<name>`
// and `[:N]` are for the reader of --help, not rustdoc's HTML or links.
#[allow(rustdoc::invalid_html_tags, rustdoc::broken_intra_doc_links)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario: summary.json, report.html, PNG charts, timeseries.csv, traces.json.
    Run(RunArgs),
    /// Parse and validate a scenario without simulating it.
    Check {
        scenario: PathBuf,
        /// Override a value by dotted path: services.orders.replicas=8
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
    },
    /// Print the JSON Schema (draft-07) of the scenario format.
    Schema,
    /// Infer a scenario from OTLP, Jaeger or Zipkin traces (docs/IMPORT.md).
    Import(import::ImportArgs),
    /// Run built-in models and compare them with queueing theory.
    Validate {
        /// Shorter runs (looser agreement), for a quick look.
        #[arg(long)]
        quick: bool,
    },
    /// Run a grid of parameter values: --set PATH=V1,V2,... or PATH=A..B[:N], cartesian.
    Sweep {
        scenario: PathBuf,
        /// A swept parameter: services.orders.replicas=2..8 or workload.w.rate=1000/s..5000/s:5
        #[arg(long = "set", value_name = "PATH=VALUES")]
        set: Vec<String>,
        /// Independent replications per point (seeds derived from the scenario's).
        #[arg(long, default_value_t = 1)]
        replications: usize,
        #[arg(long)]
        seed: Option<u64>,
        /// Run only shard I of N (0-based): the points whose index ≡ I mod N.
        #[arg(long, value_name = "I/N")]
        shard: Option<String>,
        /// Output folder (default: reports/<name>-sweep/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (default: every core; at most 1024).
        #[arg(long, value_parser = parse_threads)]
        threads: Option<usize>,
    },
    /// Combine the per-point results of sweep shards into sweep.csv/json/html.
    Merge {
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Where to write (default: the first folder).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run scenarios under one seed (the same arrivals) and show them side by side.
    Compare {
        #[arg(required = true, num_args = 2..)]
        scenarios: Vec<PathBuf>,
        /// Override a value in every scenario: workload.client.rate=12000/s
        #[arg(long = "set", value_name = "PATH=VALUE")]
        set: Vec<String>,
        /// Seed of all runs (default: the first scenario's).
        #[arg(long)]
        seed: Option<u64>,
        /// Output folder (default: reports/compare-<a>-vs-<b>/).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Simulate a scenario at the load seen in traces and compare, endpoint by endpoint.
    Fit(fit::FitArgs),
    /// Find the cheapest replica counts that meet every SLO with confidence.
    Plan {
        scenario: PathBuf,
        /// The replica counts to vary: services.X.replicas[,services.Y.replicas]
        #[arg(long, required = true)]
        vary: Vec<String>,
        /// What to minimise (replicas, the only one so far).
        #[arg(long, default_value = "replicas", value_parser = ["replicas"])]
        minimize: String,
        #[arg(long, default_value_t = 1)]
        min: u32,
        #[arg(long, default_value_t = 64)]
        max: u32,
        /// Replications per configuration; a pass needs the whole 95% interval inside the target.
        #[arg(long, default_value_t = 3)]
        replications: usize,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        out: Option<PathBuf>,
        /// Worker threads (default: every core; at most 1024).
        #[arg(long, value_parser = parse_threads)]
        threads: Option<usize>,
    },
}

// Doc comments here are clap's --help text, printed as written: `<name>`
// and `[:N]` are for the reader of --help, not rustdoc's HTML or links.
#[allow(rustdoc::invalid_html_tags)]
#[derive(clap::Args, Debug)]
struct RunArgs {
    scenario: PathBuf,
    /// Seed of every random stream (default: the scenario's `seed`, else 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Override a value by dotted path: services.orders.replicas=8
    #[arg(long = "set", value_name = "PATH=VALUE")]
    set: Vec<String>,
    /// Output folder (default: reports/<scenario name>/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Print summary.json to standard output instead of the table, and write
    /// only summary.json and run.json (no report, charts, series or traces).
    #[arg(long)]
    json: bool,
    /// Share of requests (sent after warmup) traced into traces.json.
    #[arg(long, default_value_t = 0.001, value_name = "SHARE")]
    trace_sample: f64,
    /// Also write the sampled traces for a tracing system: otlp writes
    /// traces.otlp.json (OTLP/JSON; docs/REPORTS.md has the mapping).
    #[arg(long, value_enum, value_name = "FORMAT")]
    export_traces: Option<export::TraceExport>,
    /// The most traces kept (default 2000, at most 20000): past it the sample
    /// is thinned evenly. Each one kept may hold 75 spans of 72 bytes.
    #[arg(long, value_name = "N", value_parser = export::parse_max_traces)]
    max_traces: Option<u32>,
    /// Step of the time series and charts over time (default 1s; coarser
    /// for runs longer than 3600 steps).
    #[arg(long, value_name = "DURATION", value_parser = report::parse_duration)]
    series_step: Option<crate::engine::Time>,
    /// Also write the time series in the OpenMetrics text format to FILE
    /// (every full report folder has them as metrics.om).
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
    /// The instant of simulated time 0 in the OpenMetrics export: RFC 3339
    /// or epoch seconds (default 2026-01-01T00:00:00Z).
    #[arg(long, value_name = "INSTANT", value_parser = crate::report::openmetrics::parse_start)]
    metrics_start: Option<i64>,
    /// Exit with 1 when a target is missed.
    #[arg(long)]
    fail_on_slo: bool,
    /// Independent replications: every figure becomes a mean with a 95% interval.
    #[arg(long)]
    replications: Option<usize>,
    /// Worker threads for replications (default: every core; at most 1024).
    #[arg(long, value_parser = parse_threads)]
    threads: Option<usize>,
}

impl RunArgs {
    /// The instant of simulated time 0 in metrics.om, in ms since the epoch.
    fn metrics_start_ms(&self) -> i64 {
        self.metrics_start
            .unwrap_or(crate::report::metrics::DEFAULT_START_MS)
    }

    /// Writes `--metrics FILE`, if asked.
    fn write_metrics(&self, s: &Scenario, out: &crate::model::RunOutput) -> Result<(), String> {
        let path = self.metrics.as_deref();
        report::write_metrics(path, s, &out.collector, self.metrics_start_ms())
    }

    /// What the run records for the reports (no traces with --json).
    fn options(&self) -> crate::model::RunOptions {
        crate::model::RunOptions {
            series_step: self.series_step,
            trace_sample: if self.json { 0.0 } else { self.trace_sample },
            max_traces: self.max_traces,
            // Only summary.json and run.json: nothing reads the latencies over time.
            skip_latency_series: self.json && self.metrics.is_none(),
            keep_attempt_records: false,
        }
    }

    /// Writes `--export-traces`, if asked, into the staged output.
    fn export(
        &self,
        stage: &Staging,
        s: &Scenario,
        seed: u64,
        out: &crate::model::RunOutput,
    ) -> Result<(), String> {
        match self.export_traces {
            Some(format) => export::write(stage, format, s, seed, &out.traces),
            None => Ok(()),
        }
    }

    /// Writes the run's files, then prints summary.json (--json) or the table.
    fn write_and_print(
        &self,
        stage: Staging,
        files: &[(String, Vec<u8>)],
        summary: &[u8],
        table: impl FnOnce() -> String,
    ) -> Result<(), String> {
        stage.write(files)?;
        stage.commit()?;
        if self.json {
            print!("{}", String::from_utf8_lossy(summary));
        } else {
            print!("{}", table());
        }
        Ok(())
    }

    /// The report's files for a run (none with --json); `combined`: the
    /// summary of replications, when `out` is replication 1 of them.
    fn report_files(
        &self,
        s: &Scenario,
        summary: &crate::metrics::Summary,
        out: &crate::model::RunOutput,
        combined: Option<(&serde_json::Value, usize)>,
    ) -> Result<Vec<(String, Vec<u8>)>, String> {
        if self.json {
            return Ok(Vec::new());
        }
        let yaml = read_bytes(&self.scenario)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let data = crate::report::run::RunData {
            scenario: s,
            summary,
            collector: &out.collector,
            yaml: &yaml,
            file: &self.scenario.display().to_string(),
        };
        let overrides: Vec<String> = self.set.iter().map(|o| format!("--set {o}")).collect();
        let start = self.metrics_start_ms();
        report::files(&data, &overrides.join(" "), &out.traces, combined, start)
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                EXIT_BAD_INPUT
            } else {
                EXIT_OK
            });
        }
    };
    signals::install();
    let code = match cli.command {
        Command::Run(args) => run(&args),
        Command::Check { scenario, set } => check(&scenario, &set),
        Command::Fit(args) => fit::fit(&args),
        Command::Import(args) => import::import(&args),
        Command::Schema => {
            print!("{}", schema());
            Ok(EXIT_OK)
        }
        Command::Validate { quick } => Ok(validate(quick)),
        Command::Sweep {
            scenario,
            set,
            replications,
            seed,
            shard,
            out,
            threads,
        } => sweep::sweep(&sweep::SweepArgs {
            scenario: &scenario,
            set: &set,
            replications,
            seed,
            shard: shard.as_deref(),
            out,
            threads,
        }),
        Command::Merge { dirs, out } => sweep::merge(&dirs, out),
        Command::Compare {
            scenarios,
            set,
            seed,
            out,
        } => compare::compare(&scenarios, &set, seed, out),
        Command::Plan {
            scenario,
            vary,
            minimize: _,
            min,
            max,
            replications,
            seed,
            out,
            threads,
        } => sweep::plan(&sweep::PlanArgs {
            scenario: &scenario,
            vary: &vary,
            min,
            max,
            replications,
            seed,
            out,
            threads,
        }),
    };
    match code {
        Ok(c) => ExitCode::from(c),
        Err(message) => {
            eprint!("{message}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// Colours on standard output: only on a terminal, and not with NO_COLOR set
/// (<https://no-color.org>) or TERM=dumb.
fn colour() -> bool {
    std::io::stdout().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var("TERM").map_or(true, |t| t != "dumb")
}

fn check(path: &Path, set: &[String]) -> Result<u8, String> {
    let s = load(path, set)?;
    println!(
        "{}: ok ({}, {}, {}, {})",
        path.display(),
        count(s.services.len(), "service"),
        count(s.endpoints.len(), "endpoint"),
        count(s.workloads.len(), "workload"),
        count(s.replicas() as usize, "replica")
    );
    Ok(EXIT_OK)
}

/// "1 workload", "3 workloads".
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

fn run(args: &RunArgs) -> Result<u8, String> {
    let s = load(&args.scenario, &args.set)?;
    let seed = args.seed.unwrap_or(s.seed);
    if !(0.0..=1.0).contains(&args.trace_sample) {
        return Err(format!(
            "error: --trace-sample must be a share between 0 and 1, not {}\n",
            args.trace_sample
        ));
    }
    export::check(args.json, args.export_traces)?;
    if args.series_step == Some(0) {
        return Err("error: --series-step must be longer than 0\n".into());
    }
    if matches!(args.replications, Some(0) | Some(10_001..)) {
        return Err("error: --replications must be between 1 and 10000\n".into());
    }
    // --out is checked before anything is simulated.
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| output::default_dir(&s.name));
    let stage = Staging::begin(&out_dir)?;
    if let Some(n @ 2..) = args.replications {
        return run_replications(args, &s, seed, n, stage);
    }
    eprintln!("meshsim: scenario {} seed {seed}", s.name);
    let options = args.options();
    let started = Instant::now();
    let mut bar = progress::Bar::new(std::io::stderr().is_terminal(), s.end());
    let result = crate::model::run_with(&s, seed, &options, &mut |t, events| bar.update(t, events));
    bar.finish();
    let wall = started.elapsed().as_secs_f64();
    let summary = summarize(&s, seed, &result.collector);
    let events = result.collector.events_processed;
    let info = json::RunInfo::new(&s.name, seed, wall, events, as_secs(s.end()));
    let summary_bytes = json::summary_json(&summary);
    let mut files = vec![
        ("summary.json".to_string(), summary_bytes.clone()),
        ("run.json".to_string(), json::run_json(&info)),
    ];
    files.extend(args.report_files(&s, &summary, &result, None)?);
    args.export(&stage, &s, seed, &result)?;
    args.write_metrics(&s, &result)?;
    args.write_and_print(stage, &files, &summary_bytes, || {
        table::render(&summary, colour())
    })?;
    eprintln!(
        "meshsim: {events} events in {wall:.3} s wall ({:.2} M events/s, {:.0}x real time); wrote {}",
        info.events_per_second / 1e6,
        info.speedup,
        out_dir.display()
    );
    if let Some(o) = &summary.overload {
        eprintln!("meshsim: {}", o.message);
        return Ok(EXIT_OVERLOADED);
    }
    Ok(if args.fail_on_slo && summary.slo.missed() {
        EXIT_SLO_MISSED
    } else {
        EXIT_OK
    })
}

/// `run --replications N`: N runs in parallel under derived seeds, combined.
fn run_replications(
    args: &RunArgs,
    s: &Scenario,
    seed: u64,
    n: usize,
    stage: Staging,
) -> Result<u8, String> {
    use crate::metrics::replicate::combine;
    eprintln!("meshsim: scenario {} seed {seed}, {n} replications", s.name);
    let out_dir = stage.target().to_path_buf();
    let started = Instant::now();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.threads.unwrap_or(0))
        .build()
        .map_err(|e| format!("error: cannot start worker threads: {e}\n"))?;
    let options = args.options();
    let (runs, first) =
        pool.install(|| crate::sweep::replicate_keeping_first(s, seed, n, &options));
    let wall = started.elapsed().as_secs_f64();
    let summaries: Vec<_> = runs.iter().map(|(s, _)| s.clone()).collect();
    let events: u64 = runs.iter().map(|(_, e)| e).sum();
    let mut combined = combine(&summaries);
    combined["seed"] = serde_json::Value::from(seed);
    let mut bytes = serde_json::to_vec_pretty(&combined).expect("json");
    bytes.push(b'\n');
    let info = json::RunInfo::new(&s.name, seed, wall, events, as_secs(s.end()) * n as f64);
    let mut files = vec![
        ("summary.json".to_string(), bytes.clone()),
        ("run.json".to_string(), json::run_json(&info)),
    ];
    files.extend(args.report_files(s, &summaries[0], &first, Some((&combined, n)))?);
    args.export(&stage, s, seed, &first)?;
    args.write_metrics(s, &first)?;
    args.write_and_print(stage, &files, &bytes, || {
        table::render_replications(&combined, colour())
    })?;
    eprintln!(
        "meshsim: {n} replications, {events} events in {wall:.3} s wall; wrote {}",
        out_dir.display()
    );
    if let Some(o) = summaries.iter().find_map(|s| s.overload.as_ref()) {
        eprintln!("meshsim: a replication stopped early: {}", o.message);
        return Ok(EXIT_OVERLOADED);
    }
    // Inconclusive misses a target as surely as fail: it was not shown met.
    let missed = ["sync_p99", "event_p99", "availability"].iter().any(|k| {
        !matches!(
            combined["slo"][k]["verdict"].as_str(),
            Some("pass" | "no_data")
        )
    });
    Ok(if args.fail_on_slo && missed {
        EXIT_SLO_MISSED
    } else {
        EXIT_OK
    })
}

/// The JSON Schema (draft-07) of the scenario format.
pub fn schema() -> String {
    crate::scenario::schema::json()
}

fn validate(quick: bool) -> u8 {
    let results = crate::validate::run_all(if quick { 0.1 } else { 1.0 });
    print!("{}", crate::validate::render(&results));
    if results.iter().all(|r| r.pass()) {
        EXIT_OK
    } else {
        EXIT_SLO_MISSED
    }
}
