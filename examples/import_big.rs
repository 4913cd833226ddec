//! The trace readers' memory budget on a large export (issue 14): writes a
//! JSON Lines file of OTLP requests (about 1 GiB unless told), reads it with
//! `meshsim::cli::traces::read_files_with`, and prints the time and the peak resident
//! memory (`VmHWM` in /proc/self/status). Not a test: run it by hand,
//!
//! ```text
//! cargo run --release --example import_big -- [MiB] [path] [max_spans]
//! ```
//!
//! (defaults 1024, /tmp/meshsim-import-big.jsonl, deleted afterwards, and the
//! default budget's `max_spans`; a smaller one shows the sampling of whole traces).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Instant;

use meshsim::cli::traces::read_files_with;
use meshsim::import::{Budget, Format, summary};

/// Spans a trace: a root and its children, each in its own service's request.
const PER_TRACE: u64 = 20;
const SERVICES: [&str; 5] = ["gateway", "orders", "billing", "stock", "email"];

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mib: u64 = args.next().map_or(1024, |a| a.parse().expect("MiB"));
    let path = args
        .next()
        .unwrap_or_else(|| "/tmp/meshsim-import-big.jsonl".to_string());
    let budget = Budget {
        max_spans: args
            .next()
            .map_or(Budget::default().max_spans, |a| a.parse().expect("spans")),
        ..Budget::default()
    };
    let started = Instant::now();
    let (bytes, spans) = write(&path, mib << 20)?;
    let wrote = started.elapsed();
    println!(
        "wrote {path}: {:.2} GiB, {spans} spans in {:.1} s",
        bytes as f64 / (1u64 << 30) as f64,
        wrote.as_secs_f64()
    );
    let started = Instant::now();
    let max_spans = budget.max_spans;
    let read = read_files_with(&[&path], Format::Auto, budget);
    let took = started.elapsed();
    std::fs::remove_file(&path)?;
    let read = read.unwrap_or_else(|e| panic!("{e}"));
    println!(
        "read in {:.1} s ({:.0} MB/s); kept {} spans, budget {}; peak RSS {}",
        took.as_secs_f64(),
        bytes as f64 / 1e6 / took.as_secs_f64(),
        read.spans.len(),
        max_spans,
        peak_rss()
    );
    print!("{}", summary(&read));
    Ok(())
}

/// Writes traces until `target` bytes, one trace's `ExportTraceServiceRequest`
/// a line (a `resourceSpans` element a span); returns the bytes and spans written.
fn write(path: &str, target: u64) -> std::io::Result<(u64, u64)> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let (mut bytes, mut spans, mut line) = (0u64, 0u64, String::new());
    let mut trace = 0u64;
    while bytes < target {
        trace += 1;
        line.clear();
        line.push_str(r#"{"resourceSpans":["#);
        for i in 0..PER_TRACE {
            if i > 0 {
                line.push(',');
            }
            resource(trace, i, &mut line);
        }
        line.push_str("]}\n");
        out.write_all(line.as_bytes())?;
        bytes += line.len() as u64;
        spans += PER_TRACE;
    }
    out.flush()?;
    Ok((bytes, spans))
}

/// The `resourceSpans` element holding span `i` of trace `t`.
fn resource(t: u64, i: u64, line: &mut String) {
    use std::fmt::Write;
    let service = SERVICES[(i % SERVICES.len() as u64) as usize];
    let start = 1_700_000_000_000_000_000 + t * 20_000_000 + i * 100_000;
    let parent = if i == 0 {
        String::new()
    } else {
        format!("{:016x}", t << 8 | 1)
    };
    let kind = if i == 0 || i % 2 == 1 { 2 } else { 3 };
    write!(
        line,
        r#"{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"{service}"}}}}]}},"scopeSpans":[{{"scope":{{"name":"example"}},"spans":[{{"traceId":"{t:032x}","spanId":"{:016x}","parentSpanId":"{parent}","name":"GET /{service}/{}","kind":{kind},"startTimeUnixNano":"{start}","endTimeUnixNano":"{}","attributes":[{{"key":"http.route","value":{{"stringValue":"/{service}/{}"}}}},{{"key":"http.status_code","value":{{"intValue":"200"}}}}],"status":{{}}}}]}}]}}"#,
        t << 8 | (i + 1),
        i % 3,
        start + 5_000_000 - i * 100_000,
        i % 3,
    )
    .expect("a String");
}

/// The process's peak resident set (`VmHWM`), as /proc/self/status gives it.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown (no /proc/self/status)".to_string())
}
