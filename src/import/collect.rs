//! Where the readers hand their spans: one [`RawSpan`] in, one [`Span`] kept.
//!
//! A reader fills a `RawSpan` (strings as the file spells them, in buffers
//! reused from span to span) and calls [`Collector::push`], which checks the
//! ids and times, interns the names and keeps the span within the budget.
//! Past the budget it keeps an unbiased, deterministic sample of whole traces:
//! a trace is kept while the top `level` bits of a fixed hash of its id are
//! zero, and `level` goes up by one (half the traces) each time the kept spans
//! reach the budget. The same file therefore always gives the same sample.

use super::fields::Val;
use super::read::Budget;
use super::span::{Kind, NO_NAME, Name, Note, Span, Spans, Status};

/// A span as a reader found it, before its ids are parsed and names interned.
#[derive(Clone, Debug, Default)]
pub(crate) struct RawSpan {
    pub trace: String,
    pub id: String,
    /// Empty for a root.
    pub parent: String,
    /// The first linked span's id (empty if none).
    pub link: String,
    pub service: String,
    pub name: String,
    /// `http.route`, which names the operation when present.
    pub route: String,
    pub kind: Kind,
    /// A kind the reader did not know, as written.
    pub bad_kind: Option<String>,
    pub start_ns: Option<u64>,
    pub end_ns: Option<u64>,
    pub status: Status,
    /// An `error` tag, `otel.status_code` ERROR.
    pub error: bool,
    pub http_status: u16,
    pub destination: String,
    pub system: String,
    pub sampler_type: String,
    pub sampler_param: Option<f64>,
}

impl RawSpan {
    /// Empties every field, keeping the buffers.
    pub fn clear(&mut self) {
        for s in [
            &mut self.trace,
            &mut self.id,
            &mut self.parent,
            &mut self.link,
            &mut self.service,
            &mut self.name,
            &mut self.route,
            &mut self.destination,
            &mut self.system,
            &mut self.sampler_type,
        ] {
            s.clear();
        }
        self.kind = Kind::Internal;
        self.bad_kind = None;
        (self.start_ns, self.end_ns, self.sampler_param) = (None, None, None);
        (self.status, self.error, self.http_status) = (Status::Unset, false, 0);
    }

    /// Applies one tag or attribute that the import uses; others are ignored.
    pub fn tag(&mut self, key: &str, v: &Val) {
        let text = |to: &mut String| {
            if let Some(s) = v.as_str() {
                to.clear();
                to.push_str(s);
            }
        };
        match key {
            "service.name" => text(&mut self.service),
            "http.route" => text(&mut self.route),
            "http.status_code" | "http.response.status_code" => {
                self.http_status = v.as_i64().and_then(|c| u16::try_from(c).ok()).unwrap_or(0);
            }
            "messaging.destination" | "messaging.destination.name" => text(&mut self.destination),
            "messaging.system" => text(&mut self.system),
            "sampler.type" => text(&mut self.sampler_type),
            "sampler.param" => self.sampler_param = v.as_f64(),
            "span.kind" => self.set_kind(v.as_str().unwrap_or("")),
            "error" => self.error |= v.truthy(),
            "otel.status_code" => match v.as_str() {
                Some(s) if s.eq_ignore_ascii_case("ERROR") => self.error = true,
                Some(s) if s.eq_ignore_ascii_case("OK") => self.status = Status::Ok,
                _ => {}
            },
            _ => {}
        }
    }

    /// The kind as OTLP's enum names, Zipkin or Jaeger's `span.kind` spell it.
    pub fn set_kind(&mut self, s: &str) {
        let t = s.strip_prefix("SPAN_KIND_").unwrap_or(s);
        self.kind = match t.to_ascii_lowercase().as_str() {
            "server" => Kind::Server,
            "client" => Kind::Client,
            "producer" => Kind::Producer,
            "consumer" => Kind::Consumer,
            "internal" | "unspecified" | "" => Kind::Internal,
            _ => {
                self.bad_kind = Some(s.to_string());
                Kind::Internal
            }
        };
    }
}

/// How a format spells the fields a message may name.
pub(crate) struct Spelling {
    pub trace: &'static str,
    pub span: &'static str,
    pub parent: &'static str,
    pub start: &'static str,
    pub end: &'static str,
}

/// One kind of repair: how many, and the first one as an example.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub count: u64,
    pub example: String,
}

impl Tally {
    pub fn add(&mut self, example: impl FnOnce() -> String) {
        if self.count == 0 {
            self.example = example();
        }
        self.count += 1;
    }

    pub fn note(&self, what: &str, notes: &mut Vec<Note>) {
        if self.count > 0 {
            let (count, example) = (self.count, self.example.clone());
            notes.push(Note {
                what: what.to_string(),
                count,
                example,
            });
        }
    }
}

/// The spans read so far, across files, within the budget.
pub(crate) struct Collector {
    pub out: Spans,
    pub budget: Budget,
    /// Keep a trace while the top `level` bits of its hash are zero.
    pub level: u32,
    /// Spans read (kept or not), over all files and in the current one.
    pub read: u64,
    pub read_in_file: u64,
    name_bytes: usize,
    pub no_service: Tally,
    /// Zipkin spans marked `shared` (read as duplicates of their client span).
    pub shared: Tally,
}

impl Collector {
    pub fn new(budget: Budget) -> Collector {
        Collector {
            out: Spans::default(),
            budget,
            level: 0,
            read: 0,
            read_in_file: 0,
            name_bytes: 0,
            no_service: Tally::default(),
            shared: Tally::default(),
        }
    }

    /// The file being read, for messages.
    pub fn file(&self) -> &str {
        self.out.files.last().map_or("", String::as_str)
    }

    /// Whether a reader may hold one more span whose service is not known
    /// yet (`waiting` are held already), within [`Budget::max_waiting`].
    pub fn room_to_wait(&self, waiting: usize, what: &str) -> Result<(), String> {
        let n = self.budget.max_waiting;
        if waiting < n {
            return Ok(());
        }
        Err(format!(
            "more than {n} {what}, the budget for spans held until their service is known"
        ))
    }

    /// Whether the budget's sample keeps `trace`.
    pub fn keeps(&self, trace: u128) -> bool {
        self.level == 0 || trace_hash(trace) >> (64 - self.level) == 0
    }

    /// Checks, converts and keeps one span (unless the sample leaves its trace out).
    pub fn push(&mut self, raw: &RawSpan, sp: &Spelling) -> Result<(), String> {
        let at = || format!("span {:?} of trace {:?}", raw.id, raw.trace);
        let trace = hex_id(&raw.trace, 32).map_err(|e| format!("{}: {} {e}", at(), sp.trace))?;
        let id = hex_id(&raw.id, 16).map_err(|e| format!("{}: {} {e}", at(), sp.span))? as u64;
        if trace == 0 || id == 0 {
            return Err(format!("{}: an all-zero id is not valid", at()));
        }
        let parent =
            optional_id(&raw.parent).map_err(|e| format!("{}: {} {e}", at(), sp.parent))?;
        let link = optional_id(&raw.link).map_err(|e| format!("{}: link {e}", at()))?;
        let (start_ns, end_ns) = times(raw, sp).map_err(|e| format!("{}: {e}", at()))?;
        if let Some(k) = &raw.bad_kind {
            return Err(format!(
                "{}: kind {k:?} is not one of SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL",
                at()
            ));
        }
        self.read += 1;
        self.read_in_file += 1;
        if !self.keeps(trace) {
            return Ok(());
        }
        let span = Span {
            trace,
            id,
            parent,
            link,
            service: self.service(raw)?,
            name: self.intern(if raw.route.is_empty() {
                &raw.name
            } else {
                &raw.route
            })?,
            kind: raw.kind,
            start_ns,
            end_ns,
            status: status(raw),
            http_status: raw.http_status,
            destination: self.intern_some(&raw.destination)?,
            system: self.intern_some(&raw.system)?,
            // A share: above 0 and at most 1, else it says nothing.
            sample_ratio: raw
                .sampler_param
                .filter(|r| raw.sampler_type == "probabilistic" && *r > 0.0 && *r <= 1.0),
            file: (self.out.files.len() - 1) as u16,
        };
        self.out.spans.push(span);
        if self.out.spans.len() >= self.budget.max_spans {
            self.thin()?;
        }
        Ok(())
    }

    fn service(&mut self, raw: &RawSpan) -> Result<Name, String> {
        if raw.service.is_empty() {
            let file = self.file().to_string();
            self.no_service
                .add(|| format!("{file}: span {:?} of trace {:?}", raw.id, raw.trace));
            return self.intern("unknown_service");
        }
        self.intern(&raw.service)
    }

    fn intern_some(&mut self, s: &str) -> Result<Name, String> {
        if s.is_empty() {
            Ok(NO_NAME)
        } else {
            self.intern(s)
        }
    }

    fn intern(&mut self, s: &str) -> Result<Name, String> {
        let names = &mut self.out.names;
        if let Some(n) = names.find(s) {
            return Ok(n);
        }
        self.name_bytes += s.len();
        if names.len() >= self.budget.max_names || self.name_bytes > self.budget.max_name_bytes {
            return Err(format!(
                "more than {} distinct names ({} bytes) for services, operations and topics, \
                 the budget; the latest is {s:?}: do span names carry ids?",
                names.len(),
                self.name_bytes
            ));
        }
        Ok(names.intern(s))
    }

    /// Halves the traces kept until the spans are under the budget.
    fn thin(&mut self) -> Result<(), String> {
        while self.out.spans.len() >= self.budget.max_spans {
            if self.level == 48 {
                return Err(format!(
                    "one trace alone has more spans than the budget of {}",
                    self.budget.max_spans
                ));
            }
            self.level += 1;
            let level = self.level;
            self.out
                .spans
                .retain(|s| trace_hash(s.trace) >> (64 - level) == 0);
        }
        Ok(())
    }
}

/// The start and end in nanoseconds, both present and in order.
fn times(raw: &RawSpan, sp: &Spelling) -> Result<(u64, u64), String> {
    let (start, end) = (
        raw.start_ns.filter(|&t| t > 0),
        raw.end_ns.filter(|&t| t > 0),
    );
    let (Some(start), Some(end)) = (start, end) else {
        let missing = if start.is_none() { sp.start } else { sp.end };
        return Err(format!(
            "{missing} is missing (every span needs its start and end)"
        ));
    };
    if end < start {
        return Err(format!("{} {end} is before {} {start}", sp.end, sp.start));
    }
    Ok((start, end))
}

fn status(raw: &RawSpan) -> Status {
    if raw.error || raw.status == Status::Error || raw.http_status >= 500 {
        Status::Error
    } else {
        raw.status
    }
}

/// A parent or link id: None when empty or all zeros (how some writers say "none").
fn optional_id(s: &str) -> Result<Option<u64>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    let id = hex_id(s, 16)? as u64;
    Ok((id != 0).then_some(id))
}

/// Parses an id: hex of at most `digits` digits (shorter ones are
/// zero-extended; OTLP/JSON, Jaeger and Zipkin write hex), or the padded
/// base64 of exactly `digits / 2` bytes, which protobuf's own JSON mapping
/// writes (`json_format`, `protojson`). The two cannot be confused: padded
/// base64 of 8 or 16 bytes ends in `=`, which is not a hex digit.
pub(crate) fn hex_id(s: &str, digits: usize) -> Result<u128, String> {
    use base64::Engine;
    if s.is_empty() {
        return Err("is missing".to_string());
    }
    if s.len() <= digits && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(u128::from_str_radix(s, 16).expect("checked hex"));
    }
    let bytes = digits / 2;
    if s.ends_with('=') && s.len() == bytes.div_ceil(3) * 4 {
        let decoded = base64::engine::general_purpose::STANDARD.decode(s);
        if let Ok(b) = decoded.as_deref()
            && b.len() == bytes
        {
            return Ok(b.iter().fold(0u128, |id, &x| id << 8 | u128::from(x)));
        }
    }
    Err(format!(
        "{s:?} is not an id: expected at most {digits} hex digits (or the padded base64 of {bytes} bytes)"
    ))
}

/// A fixed hash of a trace id (splitmix64's finaliser over both halves), so
/// the sample does not depend on how the ids were generated.
pub(crate) fn trace_hash(trace: u128) -> u64 {
    let mut z = (trace as u64) ^ ((trace >> 64) as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// An id as messages show it: 32 hex digits, or 16 for a 64-bit trace id.
pub(crate) fn show_trace(t: u128) -> String {
    if t >> 64 == 0 {
        format!("{t:016x}")
    } else {
        format!("{t:032x}")
    }
}
