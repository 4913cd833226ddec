//! The one shape every trace format is read into.
//!
//! OTLP, Jaeger and Zipkin each spell a span differently (ids in hex or base64,
//! times in nanoseconds or microseconds, the kind as a number, a tag or a
//! string); the readers turn each into a [`Span`], and everything after them
//! (the graph, the fits, the scenario written) knows only this type. Strings
//! that repeat across spans (service and operation names, topics) are
//! interned once into a [`Names`] table, so a span is a few dozen bytes
//! whatever its format.

use indexmap::IndexSet;

/// An interned string: an index into [`Names`].
pub type Name = u32;

/// No name (an attribute the span does not have).
pub const NO_NAME: Name = u32::MAX;

/// What a span is in its trace, as OpenTelemetry's `SpanKind` says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    #[default]
    Internal,
    /// Handles a request (`SERVER`): an endpoint's job.
    Server,
    /// Sends a request (`CLIENT`): one call.
    Client,
    /// Publishes a message (`PRODUCER`).
    Producer,
    /// Handles a message (`CONSUMER`).
    Consumer,
}

/// How the span ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Status {
    #[default]
    Unset,
    Ok,
    Error,
}

/// One span, format-free.
#[derive(Clone, Debug)]
pub struct Span {
    /// The trace id (128 bits; 64-bit ids are zero-extended).
    pub trace: u128,
    pub id: u64,
    /// The parent span's id, None for a root.
    pub parent: Option<u64>,
    /// The span a consumer's span is linked to (OTLP `links`, Jaeger
    /// `FOLLOWS_FROM`), when that is how it names its producer.
    pub link: Option<u64>,
    pub service: Name,
    /// The operation: `http.route` when the span has one, else the span's name.
    pub name: Name,
    pub kind: Kind,
    /// Unix time in nanoseconds (microseconds × 1000 for Jaeger and Zipkin).
    pub start_ns: u64,
    pub end_ns: u64,
    /// Error status, or an HTTP status code ≥ 500.
    pub status: Status,
    /// `http.status_code` / `http.response.status_code`, 0 if none.
    pub http_status: u16,
    /// `messaging.destination(.name)`: the topic or queue; NO_NAME if none.
    pub destination: Name,
    /// `messaging.system` (kafka, rabbitmq): NO_NAME if none.
    pub system: Name,
    /// The sampling ratio the trace was recorded at, when the span says
    /// (`sampler.param` with `sampler.type` probabilistic), else None.
    pub sample_ratio: Option<f64>,
    /// Which of [`Spans::files`] the span was read from (for messages).
    pub file: u16,
}

impl Span {
    pub fn duration_ns(&self) -> u64 {
        self.end_ns.saturating_sub(self.start_ns)
    }
}

/// Interned strings, in first-seen order (so output is deterministic). Each
/// string is kept once: the set's entries are both the table and the index.
#[derive(Debug, Default)]
pub struct Names {
    strings: IndexSet<Box<str>>,
}

impl Names {
    /// The name of `s`, adding it if new.
    pub fn intern(&mut self, s: &str) -> Name {
        if let Some(n) = self.strings.get_index_of(s) {
            return n as Name;
        }
        self.strings.insert_full(Box::from(s)).0 as Name
    }

    /// The name of `s` if it has been interned.
    pub fn find(&self, s: &str) -> Option<Name> {
        self.strings.get_index_of(s).map(|n| n as Name)
    }

    /// The string of `n` ("" for NO_NAME).
    pub fn get(&self, n: Name) -> &str {
        self.strings.get_index(n as usize).map_or("", |s| s)
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }
}

/// What a reader hands on: the spans, their names, and what it had to repair
/// or drop (each count is reported, with the first trace and span id as an example).
#[derive(Debug, Default)]
pub struct Spans {
    pub spans: Vec<Span>,
    pub names: Names,
    pub notes: Vec<Note>,
    /// The files read, in order ([`Span::file`] indexes this).
    pub files: Vec<String>,
}

impl Spans {
    /// How many distinct traces the spans belong to.
    pub fn trace_count(&self) -> usize {
        let mut traces: Vec<u128> = self.spans.iter().map(|s| s.trace).collect();
        traces.sort_unstable();
        traces.dedup();
        traces.len()
    }
}

/// Something the input got wrong that the import repaired or skipped.
#[derive(Clone, Debug)]
pub struct Note {
    /// What happened, e.g. "span seen twice (kept once)".
    pub what: String,
    pub count: u64,
    /// The first one: file, trace id and span id in hex, as the input spells them.
    pub example: String,
}

#[cfg(test)]
mod tests {
    /// The memory budget (`read::Budget`) counts on this size.
    #[test]
    fn a_span_is_112_bytes() {
        assert_eq!(std::mem::size_of::<super::Span>(), 112);
    }
}
