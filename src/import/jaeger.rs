//! Jaeger JSON: what Jaeger's query API returns and its UI downloads.
//!
//! `{"data": [trace…]}`, each trace `{traceID, spans[], processes{}}`, each
//! span with `references[]` (`CHILD_OF` → the parent, `FOLLOWS_FROM` → a link),
//! `startTime` and `duration` in microseconds, `tags[]` (`span.kind`, `error`,
//! `http.status_code`, `otel.status_code`, …) and a `processID` naming its
//! service in `processes`. The UI's download is a bare trace object whose
//! spans carry their `process` inline and whose references nest the whole
//! referenced span (`references[].span`): only its `spanID` is taken, so a
//! nested span is never read twice. A trace's `processes` usually follow its
//! spans, so a trace's spans wait (one trace at a time) until they come.

use serde::Deserialize;
use serde::de::{self, MapAccess};

use super::collect::{Collector, RawSpan, Spelling};
use super::fields::{Each, StrInto, U64Into, Val, ValInto, map_seed, skip};

const SPELLING: Spelling = Spelling {
    trace: "traceID",
    span: "spanID",
    parent: "references[].spanID",
    start: "startTime",
    end: "duration",
};

#[derive(Deserialize)]
#[serde(field_identifier)]
enum Field {
    #[serde(rename = "data")]
    Data,
    #[serde(rename = "traceID")]
    TraceId,
    #[serde(rename = "spans")]
    Spans,
    #[serde(rename = "processes")]
    Processes,
    #[serde(rename = "spanID")]
    SpanId,
    #[serde(rename = "operationName")]
    OperationName,
    #[serde(rename = "references")]
    References,
    #[serde(rename = "startTime")]
    StartTime,
    #[serde(rename = "duration")]
    Duration,
    #[serde(rename = "tags")]
    Tags,
    #[serde(rename = "processID")]
    ProcessId,
    #[serde(rename = "process")]
    Process,
    #[serde(rename = "refType")]
    RefType,
    #[serde(rename = "key")]
    Key,
    #[serde(rename = "value")]
    Value,
    #[serde(rename = "serviceName")]
    ServiceName,
    #[serde(other)]
    Other,
}

/// One document: `{"data": [trace…]}`, or a single trace object.
pub(crate) struct Document<'c>(pub &'c mut Collector);

map_seed!(Document<'_>, "a Jaeger JSON object", |self, map| {
    let mut trace = Trace::new(self.0);
    let mut bare = false;
    while let Some(key) = map.next_key::<Field>()? {
        match key {
            Field::Data => map.next_value_seed(Each(&mut trace))?,
            Field::TraceId | Field::Spans | Field::Processes => {
                bare = true;
                trace.field(key, &mut map)?;
            }
            _ => skip(&mut map)?,
        }
    }
    if bare { trace.end() } else { Ok(()) }
});

/// The state of one trace, and the buffers reused for its spans.
struct Trace<'c> {
    c: &'c mut Collector,
    /// The trace's own `traceID`, for spans that do not repeat it.
    id: String,
    /// processID → service name, once `processes` has been read.
    processes: Option<Vec<(String, String)>>,
    /// Spans read before `processes`, with their processID.
    pending: Vec<(String, RawSpan)>,
    span: RawSpan,
    process_id: String,
    start_us: Option<u64>,
    duration_us: Option<u64>,
    key: String,
    val: Val,
}

impl<'c> Trace<'c> {
    fn new(c: &'c mut Collector) -> Trace<'c> {
        Trace {
            c,
            id: String::new(),
            processes: None,
            pending: Vec::new(),
            span: RawSpan::default(),
            process_id: String::new(),
            start_us: None,
            duration_us: None,
            key: String::new(),
            val: Val::default(),
        }
    }

    fn field<'de, A: MapAccess<'de>>(&mut self, key: Field, map: &mut A) -> Result<(), A::Error> {
        match key {
            Field::TraceId => map.next_value_seed(StrInto(&mut self.id)),
            Field::Spans => map.next_value_seed(Each(&mut SpanSeed(self))),
            Field::Processes => {
                let mut processes = Vec::new();
                map.next_value_seed(Processes(&mut processes))?;
                self.processes = Some(processes);
                Ok(())
            }
            _ => skip(map),
        }
    }

    /// The trace object has ended: its waiting spans get their services.
    fn end<E: de::Error>(&mut self) -> Result<(), E> {
        let processes = self.processes.take().unwrap_or_default();
        for (pid, mut raw) in std::mem::take(&mut self.pending) {
            let service = processes
                .iter()
                .find(|(p, _)| *p == pid)
                .map_or("", |(_, s)| s);
            raw.service.clear();
            raw.service.push_str(service);
            self.c.push(&raw, &SPELLING).map_err(E::custom)?;
        }
        self.id.clear();
        Ok(())
    }

    /// A span object has ended.
    fn end_span<E: de::Error>(&mut self) -> Result<(), E> {
        let s = &mut self.span;
        if s.trace.is_empty() {
            s.trace.clone_from(&self.id);
        }
        (s.start_ns, s.end_ns) = super::fields::times_from_micros(self.start_us, self.duration_us);
        if s.service.is_empty() {
            if let Some(processes) = &self.processes {
                let found = processes.iter().find(|(p, _)| *p == self.process_id);
                s.service.push_str(found.map_or("", |(_, s)| s));
            } else {
                let what = "spans read before their trace's `processes`";
                self.c
                    .room_to_wait(self.pending.len(), what)
                    .map_err(|e| E::custom(format!("trace {:?}: {e}", s.trace)))?;
                self.pending.push((self.process_id.clone(), s.clone()));
                return Ok(());
            }
        }
        self.c.push(s, &SPELLING).map_err(E::custom)
    }
}

map_seed!(&mut Trace<'_>, "a Jaeger trace object", |self, map| {
    self.processes = None;
    while let Some(key) = map.next_key::<Field>()? {
        self.field(key, &mut map)?;
    }
    self.end()
});

/// `processes`: processID → `{serviceName, tags}`.
struct Processes<'a>(&'a mut Vec<(String, String)>);

map_seed!(Processes<'_>, "a Jaeger processes object", |self, map| {
    while let Some(pid) = map.next_key::<String>()? {
        let mut service = String::new();
        map.next_value_seed(Process(&mut service))?;
        self.0.push((pid, service));
    }
    Ok(())
});

/// A process: its `serviceName`.
struct Process<'a>(&'a mut String);

map_seed!(Process<'_>, "a Jaeger process object", |self, map| {
    while let Some(key) = map.next_key::<Field>()? {
        match key {
            Field::ServiceName => map.next_value_seed(StrInto(self.0))?,
            _ => skip(&mut map)?,
        }
    }
    Ok(())
});

/// One span.
struct SpanSeed<'a, 'c>(&'a mut Trace<'c>);

map_seed!(
    &mut SpanSeed<'_, '_>,
    "a Jaeger span object",
    |self, map| {
        let t = &mut *self.0;
        t.span.clear();
        t.process_id.clear();
        (t.start_us, t.duration_us) = (None, None);
        let s = &mut t.span;
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::TraceId => map.next_value_seed(StrInto(&mut s.trace))?,
                Field::SpanId => map.next_value_seed(StrInto(&mut s.id))?,
                Field::OperationName => map.next_value_seed(StrInto(&mut s.name))?,
                Field::References => {
                    let mut r = Reference {
                        to: s,
                        kind: &mut t.key,
                        id: &mut t.val.text,
                    };
                    map.next_value_seed(Each(&mut r))?
                }
                Field::StartTime => map.next_value_seed(U64Into(&mut t.start_us))?,
                Field::Duration => map.next_value_seed(U64Into(&mut t.duration_us))?,
                Field::Tags => map.next_value_seed(Each(&mut Tag {
                    to: s,
                    key: &mut t.key,
                    val: &mut t.val,
                }))?,
                Field::ProcessId => map.next_value_seed(StrInto(&mut t.process_id))?,
                Field::Process => map.next_value_seed(Process(&mut s.service))?,
                _ => skip(&mut map)?,
            }
        }
        t.end_span()
    }
);

/// One reference: the first `CHILD_OF` is the parent, the first `FOLLOWS_FROM` a link.
struct Reference<'a> {
    to: &'a mut RawSpan,
    kind: &'a mut String,
    id: &'a mut String,
}

map_seed!(
    &mut Reference<'_>,
    "a Jaeger reference object",
    |self, map| {
        self.kind.clear();
        self.id.clear();
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::RefType => map.next_value_seed(StrInto(self.kind))?,
                Field::SpanId => map.next_value_seed(StrInto(self.id))?,
                _ => skip(&mut map)?, // traceID, and the UI's nested `span`
            }
        }
        let to = if self.kind == "FOLLOWS_FROM" {
            &mut self.to.link
        } else {
            &mut self.to.parent
        };
        if to.is_empty() {
            to.clone_from(self.id);
        }
        Ok(())
    }
);

/// One tag: `{key, type, value}`.
struct Tag<'a> {
    to: &'a mut RawSpan,
    key: &'a mut String,
    val: &'a mut Val,
}

map_seed!(&mut Tag<'_>, "a Jaeger tag object", |self, map| {
    self.key.clear();
    self.val.clear();
    while let Some(key) = map.next_key::<Field>()? {
        match key {
            Field::Key => map.next_value_seed(StrInto(self.key))?,
            Field::Value => map.next_value_seed(ValInto(self.val))?,
            _ => skip(&mut map)?,
        }
    }
    self.to.tag(self.key, self.val);
    Ok(())
});
