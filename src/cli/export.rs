//! `run --export-traces FORMAT` and `--max-traces N`: the run's sampled traces
//! written for a tracing system (and for `meshsim import`), beside traces.json.

use super::staging::Staging;
use crate::model::trace::{MAX_TRACES_LIMIT, SPAN_BYTES, SPANS_PER_TRACE, Traces};
use crate::scenario::Scenario;

/// The formats `run --export-traces` writes (zipkin and jaeger could follow).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TraceExport {
    /// OTLP/JSON, one ExportTraceServiceRequest: traces.otlp.json.
    Otlp,
}

impl TraceExport {
    /// The file it writes in the run's folder.
    pub fn file_name(self) -> &'static str {
        match self {
            TraceExport::Otlp => "traces.otlp.json",
        }
    }
}

/// `--max-traces N`: from 1 to [`MAX_TRACES_LIMIT`].
pub fn parse_max_traces(s: &str) -> Result<u32, String> {
    match s.parse::<u32>() {
        Ok(n) if (1..=MAX_TRACES_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a number of traces from 1 to {MAX_TRACES_LIMIT} (each trace kept may hold {SPANS_PER_TRACE} spans of {SPAN_BYTES} bytes while the run lasts)"
        )),
    }
}

/// The flags that cannot go together: an export needs the traces, which
/// `--json` does not record.
pub fn check(json: bool, export: Option<TraceExport>) -> Result<(), String> {
    match export {
        Some(_) if json => Err(
            "error: --export-traces writes beside the full report, which --json leaves out\n  \
             suggestion: drop --json (summary.json is written either way)\n"
                .into(),
        ),
        _ => Ok(()),
    }
}

/// Writes the export into the staged output, streamed, and says what it holds.
pub fn write(
    stage: &Staging,
    format: TraceExport,
    s: &Scenario,
    seed: u64,
    traces: &Traces,
) -> Result<(), String> {
    let name = format.file_name();
    let m = match format {
        TraceExport::Otlp => stage.write_with(name, |w| {
            crate::report::otlp::write_otlp(s, seed, traces, w)
        })?,
    };
    let mut note = format!(
        "meshsim: {name}: {} traces, {} spans",
        m.traces,
        m.spans.len()
    );
    if m.traces_left_out > 0 || m.spans_left_out > 0 {
        note.push_str(&format!(
            " ({} traces left out: unfinished at the end or cut short; {} spans whose parent was not recorded)",
            m.traces_left_out, m.spans_left_out
        ));
    }
    eprintln!("{note}");
    Ok(())
}
