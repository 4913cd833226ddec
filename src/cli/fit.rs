//! `meshsim fit SCENARIO TRACES...`: the files side of [`crate::fit`]. Reads
//! the scenario and the traces, runs the scenario at the observed load,
//! writes fit.json and fit.html into a staging folder swapped in whole, and
//! prints the table (or fit.json). Exit 1 past a `--fail-above` bound.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::staging::Staging;
use super::{EXIT_OK, EXIT_OVERLOADED, EXIT_SLO_MISSED, load, output, progress};
use crate::fit::{self, bounds};
use crate::import::{Format, observe};

// Doc comments here are clap's --help text, printed as written: `<name>`
// and `[:N]` are for the reader of --help, not rustdoc's HTML or links.
#[allow(rustdoc::invalid_html_tags)]
#[derive(clap::Args, Debug)]
pub struct FitArgs {
    pub scenario: PathBuf,
    /// Trace files: OTLP JSON (or JSON Lines), Jaeger JSON, Zipkin v2 JSON; gzip or not.
    #[arg(required = true)]
    pub traces: Vec<PathBuf>,
    /// The traces' format (default: each file's first bytes say).
    #[arg(long, default_value = "auto", value_parser = parse_format)]
    pub format: Format,
    /// Override a value by dotted path: services.orders.replicas=8
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub set: Vec<String>,
    /// Seed of the simulated run (default: the scenario's).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Output folder (default: reports/<scenario name>-fit/).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Exit 1 when an entry endpoint's error is past a bound: 20% (p50 and p99)
    /// or p50=10%,p99=20%,mean=15%,ks=0.1.
    #[arg(long, value_name = "BOUNDS")]
    pub fail_above: Option<String>,
    /// Print fit.json to standard output instead of the table.
    #[arg(long)]
    pub json: bool,
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

pub fn fit(args: &FitArgs) -> Result<u8, String> {
    let bounds = args.fail_above.as_deref().map(bounds::parse).transpose()?;
    let mut s = load(&args.scenario, &args.set)?;
    let seed = args.seed.unwrap_or(s.seed);
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| output::default_dir(&format!("{}-fit", s.name)));
    let stage = Staging::begin(&out_dir)?;
    let spans = super::traces::read_files(&args.traces, args.format)
        .map_err(|e| format!("error: {e}\n"))?;
    eprint!("meshsim: read {}", crate::import::summary(&spans));
    let observed = observe::observe(&spans);
    let file = args.scenario.display().to_string();
    let plan = fit::apply(&mut s, &observed, &file)?;
    eprintln!(
        "meshsim: scenario {} seed {seed}, simulating {}",
        s.name, plan.rule
    );
    let options = crate::model::RunOptions::default();
    let mut bar = progress::Bar::new(std::io::stderr().is_terminal(), s.end());
    let run = crate::model::run_with(&s, seed, &options, &mut |t, e| bar.update(t, e));
    bar.finish();
    let mut result = fit::compare(&s, &observed, &plan, &run.collector, seed);
    result.traces = args
        .traces
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    result.notes = spans
        .notes
        .iter()
        .map(|n| format!("{}: {} (e.g. {})", n.what, n.count, n.example))
        .collect();
    if let Some((_, why)) = &run.collector.overload {
        result.notes.push(format!("the run stopped early: {why}"));
    }
    if let Some(b) = &bounds {
        result.checks = b.check(&result.entries);
    }
    let json = crate::report::fit::json(&result);
    let files = vec![
        ("fit.json".to_string(), json.clone()),
        (
            "fit.html".to_string(),
            crate::report::fit_html::page(&result)?,
        ),
    ];
    stage.write(&files)?;
    stage.commit()?;
    if args.json {
        print!("{}", String::from_utf8_lossy(&json));
    } else {
        print!("{}", crate::report::fit::render(&result));
    }
    eprintln!("meshsim: wrote {}", out_dir.display());
    Ok(if run.collector.overload.is_some() {
        EXIT_OVERLOADED
    } else if result.failed() {
        EXIT_SLO_MISSED
    } else {
        EXIT_OK
    })
}
