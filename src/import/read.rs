//! Inputs in, [`Spans`] out: the format's detection, the budget, and errors
//! that name the file, line and column. No file is opened here: a [`Reader`]
//! reads any `io::Read` (`cli::traces` opens the files).
//!
//! Every format is read by one streaming loop: a `serde_json::Deserializer`
//! over a `BufReader` (nothing holds the file's text), fed a document at a
//! time to the format's visitor, which converts each span as it is parsed. A
//! file may hold one document or several (the Collector's file exporter writes
//! JSON Lines: one `ExportTraceServiceRequest` a line); the loop does not care.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read};
use std::str::FromStr;

use flate2::bufread::MultiGzDecoder;
use serde::de::DeserializeSeed;

use super::collect::Collector;
use super::repair::repair;
use super::span::Spans;
use super::utf8::{NotUtf8, Utf8Checked};
use super::{jaeger, otlp, zipkin};

/// The input's format; `Auto` looks at the first bytes of each file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Auto,
    Otlp,
    Jaeger,
    Zipkin,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        match s {
            "auto" => Ok(Format::Auto),
            "otlp" => Ok(Format::Otlp),
            "jaeger" => Ok(Format::Jaeger),
            "zipkin" => Ok(Format::Zipkin),
            _ => Err(format!(
                "unknown trace format {s:?}: expected auto, otlp, jaeger or zipkin"
            )),
        }
    }
}

/// What an import may hold in memory. Past `max_spans` it keeps a sample of
/// whole traces (see [`super::collect`]) and says so in a note; past the
/// others it stops with an error.
///
/// With the defaults, the most an import holds is about 0.75 GiB whatever the
/// input's size: 448 MiB of spans (2^22 × 112 bytes; the `Vec` never grows
/// past it, as the limit is a power of two), 68 MiB more for the repairs at the
/// end (17 bytes a span), at most 64 MiB of names (plus about 40 bytes a
/// name for the table), about 130 MiB of spans waiting for their service
/// (2^18 × about 500 bytes), and 1.1 MiB of read buffers and 32 KiB of gzip
/// window. `examples/import_big.rs` measures it.
#[derive(Clone, Debug)]
pub struct Budget {
    /// Spans kept at once (each is 112 bytes).
    pub max_spans: usize,
    /// Spans held, as read, until their service is known: a Jaeger trace's
    /// spans before its `processes`, an OTLP resource's spans before its
    /// `resource`. Writers put those first, so this is rarely used at all.
    pub max_waiting: usize,
    /// Distinct service, operation and topic names, and their total bytes.
    pub max_names: usize,
    pub max_name_bytes: usize,
    /// The largest file read (its size on disk, compressed or not).
    pub max_file_bytes: u64,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            max_spans: 1 << 22,
            max_waiting: 1 << 18,
            max_names: 1 << 20,
            max_name_bytes: 64 << 20,
            max_file_bytes: 8 << 30,
        }
    }
}

/// Why an import failed: the file, and (where there is one) the line and
/// column, then what is wrong, naming the trace and span.
#[derive(Debug)]
pub struct ImportError {
    pub file: String,
    /// Line and column, 1-based, when the problem has a place in the file.
    pub at: Option<(usize, usize)>,
    pub message: String,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.at {
            Some((line, column)) => write!(f, "{}:{line}:{column}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ImportError {}

impl ImportError {
    /// An error without a place in the file.
    pub fn new(file: &str, message: impl Into<String>) -> ImportError {
        ImportError {
            file: file.to_string(),
            at: None,
            message: message.into(),
        }
    }

    fn io(file: &str, e: io::Error) -> ImportError {
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<NotUtf8>())
        {
            Some(n) => ImportError::new(file, n.to_string()),
            None => ImportError::new(file, format!("cannot read: {e}")),
        }
    }

    fn json(file: &str, e: serde_json::Error) -> ImportError {
        if e.is_io() {
            return ImportError::io(file, io::Error::from(e));
        }
        let text = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        let message = text.strip_suffix(&suffix).unwrap_or(&text).to_string();
        let at = (e.line() > 0).then_some((e.line(), e.column()));
        ImportError {
            file: file.to_string(),
            at,
            message,
        }
    }
}

/// Reads several inputs into one set of spans: [`Reader::finish`] then repairs
/// across all of them (a span seen in two files is one span).
pub struct Reader {
    c: Collector,
}

impl Reader {
    pub fn new(budget: Budget) -> Reader {
        Reader {
            c: Collector::new(budget),
        }
    }

    /// The budget this reader keeps to.
    pub fn budget(&self) -> &Budget {
        &self.c.budget
    }

    /// Reads one input named `name` in messages (a file, standard input, a test's bytes).
    pub fn read(
        &mut self,
        name: &str,
        input: impl Read,
        format: Format,
    ) -> Result<(), ImportError> {
        if self.c.out.files.len() >= u16::MAX as usize {
            return Err(ImportError::new(
                name,
                "more than 65,535 files in one import",
            ));
        }
        self.c.out.files.push(name.to_string());
        self.c.read_in_file = 0;
        let input = gunzipped(input).map_err(|e| ImportError::io(name, e))?;
        let mut input = BufReader::with_capacity(1 << 20, Utf8Checked::new(input));
        let format = match detect(&mut input).map_err(|e| ImportError::io(name, e))? {
            None => return Err(ImportError::new(name, "the file is empty")),
            Some(found) if format == Format::Auto => {
                found.map_err(|m| ImportError::new(name, m))?
            }
            Some(_) => format,
        };
        documents(&mut self.c, input, format).map_err(|e| ImportError::json(name, e))?;
        if self.c.read_in_file == 0 {
            return Err(ImportError::new(
                name,
                format!("no spans in this {} file", label(format)),
            ));
        }
        Ok(())
    }

    /// Repairs what needs every span (duplicates, missing parents, cycles,
    /// clock skew) and hands the spans on, with a note for each repair.
    pub fn finish(self) -> Spans {
        let mut c = self.c;
        let mut out = std::mem::take(&mut c.out);
        let r = repair(&mut out.spans, &out.files);
        c.no_service.note(
            "span without a service name (named unknown_service)",
            &mut out.notes,
        );
        c.shared.note(
            "Zipkin shared span (B3 one span per RPC: not supported, read as a duplicate)",
            &mut out.notes,
        );
        r.duplicate
            .note("span seen more than once (kept once)", &mut out.notes);
        r.orphan.note(
            "parent not among the spans read (made a root)",
            &mut out.notes,
        );
        r.cycle.note(
            "parent links forming a cycle (broken: a span made a root)",
            &mut out.notes,
        );
        r.skew.note(
            "span starting before its parent (clock skew: moved to start with it)",
            &mut out.notes,
        );
        if c.level > 0 {
            out.notes.push(sampled(&out, &c));
        }
        out
    }
}

fn sampled(out: &Spans, c: &Collector) -> super::span::Note {
    let traces = out.trace_count();
    super::span::Note {
        what: format!(
            "over the budget of {} spans: kept the traces whose id hash falls in 1/{} of the range \
             ({} traces, about {} read)",
            c.budget.max_spans,
            1u64 << c.level,
            traces,
            (traces as u64) << c.level
        ),
        count: c.read - out.spans.len() as u64,
        example: format!("{} of {} spans kept", out.spans.len(), c.read),
    }
}

fn label(format: Format) -> &'static str {
    match format {
        Format::Auto => "trace",
        Format::Otlp => "OTLP JSON",
        Format::Jaeger => "Jaeger JSON",
        Format::Zipkin => "Zipkin JSON",
    }
}

/// The input, decompressed as it is read when it starts with gzip's magic
/// bytes (1f 8b): `.json.gz` and `.jsonl.gz` need no `gunzip` first. A file of
/// several gzip members (`cat a.gz b.gz`) is read whole, as `gzip -d` reads it.
fn gunzipped<'a>(input: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut input = BufReader::with_capacity(64 << 10, input);
    let head = input.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(MultiGzDecoder::new(input)))
    } else {
        Ok(Box::new(input))
    }
}

/// Reads every document in the input, one after another.
fn documents(c: &mut Collector, input: impl Read, format: Format) -> Result<(), serde_json::Error> {
    let mut de = serde_json::Deserializer::from_reader(input);
    loop {
        match format {
            Format::Otlp => otlp::Document(c).deserialize(&mut de)?,
            Format::Jaeger => jaeger::Document(c).deserialize(&mut de)?,
            Format::Zipkin | Format::Auto => zipkin::Document(c).deserialize(&mut de)?,
        }
        // `end` says whether only whitespace is left; if not, another document follows.
        match de.end() {
            Ok(()) => return Ok(()),
            Err(e) if e.is_io() => return Err(e),
            Err(_) => {}
        }
    }
}

/// The format from the first bytes: None for an empty input, else the
/// format or why it is not known. Only a UTF-8 byte order mark is consumed.
fn detect(input: &mut impl BufRead) -> io::Result<Option<Result<Format, String>>> {
    if input.fill_buf()?.starts_with(b"\xef\xbb\xbf") {
        input.consume(3);
    }
    let mut buf = input.fill_buf()?;
    while !buf.is_empty() && buf.iter().all(u8::is_ascii_whitespace) {
        let n = buf.len();
        input.consume(n);
        buf = input.fill_buf()?;
    }
    let text = buf.trim_ascii_start();
    let Some(&first) = text.first() else {
        return Ok(None);
    };
    let key = first_key(text);
    Ok(Some(match (first, key) {
        (b'[', _) => Ok(Format::Zipkin),
        (b'{', Some(b"resourceSpans")) => Ok(Format::Otlp),
        (b'{', Some(b"data" | b"traceID" | b"spans" | b"processes")) => Ok(Format::Jaeger),
        _ => {
            let start = String::from_utf8_lossy(&text[..text.len().min(40)]).into_owned();
            Err(format!(
                "cannot tell the trace format from {start:?}: expected {{\"resourceSpans\" (OTLP), \
                 {{\"data\" (Jaeger) or [ (Zipkin); name it with --format"
            ))
        }
    }))
}

/// The first key of a JSON object starting at `text[0] == b'{'`.
fn first_key(text: &[u8]) -> Option<&[u8]> {
    let rest = text.get(1..)?.trim_ascii_start().strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    Some(&rest[..end])
}
