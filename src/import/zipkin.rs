//! Zipkin v2 JSON: a list of spans (what `/api/v2/spans` accepts), or a list
//! of traces, each a list of spans (what `/api/v2/traces` returns).
//!
//! A span has `traceId` (16 or 32 hex digits), `id`, `parentId`, `kind`
//! (SERVER, CLIENT, PRODUCER, CONSUMER; absent for internal work), `name`,
//! `localEndpoint.serviceName`, `timestamp` and `duration` in microseconds,
//! and `tags` (string values: `error`, `http.status_code`, `otel.status_code`,
//! …). Zipkin has no links. A `shared` span (B3's one span per RPC, whose
//! server side reuses the client's id) cannot be told apart from its client
//! span by id: it is counted and read as a duplicate.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use super::collect::{Collector, RawSpan, Spelling};
use super::fields::{StrInto, U64Into, Val, ValInto, map_seed, skip};

const SPELLING: Spelling = Spelling {
    trace: "traceId",
    span: "id",
    parent: "parentId",
    start: "timestamp",
    end: "duration",
};

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Field {
    TraceId,
    Id,
    ParentId,
    Kind,
    Name,
    Timestamp,
    Duration,
    LocalEndpoint,
    Tags,
    Shared,
    ServiceName,
    #[serde(other)]
    Other,
}

/// One document: `[span…]` or `[[span…]…]`.
pub(crate) struct Document<'c>(pub &'c mut Collector);

impl<'de> DeserializeSeed<'de> for Document<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let mut reader = Reader {
            c: self.0,
            span: RawSpan::default(),
            duration_us: None,
            key: String::new(),
            val: Val::default(),
        };
        d.deserialize_seq(List(&mut reader))
    }
}

struct Reader<'c> {
    c: &'c mut Collector,
    span: RawSpan,
    duration_us: Option<u64>,
    key: String,
    val: Val,
}

/// A list whose elements are spans or lists of spans.
struct List<'a, 'c>(&'a mut Reader<'c>);

impl<'de> Visitor<'de> for List<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of Zipkin spans")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Element(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// A span, or a trace (a list of spans).
struct Element<'a, 'c>(&'a mut Reader<'c>);

impl<'de> DeserializeSeed<'de> for Element<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Element<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a Zipkin span object or a list of them")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        List(self.0).visit_seq(seq)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        span(self.0, map)
    }
}

fn span<'de, A: MapAccess<'de>>(r: &mut Reader, mut map: A) -> Result<(), A::Error> {
    let s = &mut r.span;
    s.clear();
    r.duration_us = None;
    let mut shared = false;
    while let Some(key) = map.next_key::<Field>()? {
        match key {
            Field::TraceId => map.next_value_seed(StrInto(&mut s.trace))?,
            Field::Id => map.next_value_seed(StrInto(&mut s.id))?,
            Field::ParentId => map.next_value_seed(StrInto(&mut s.parent))?,
            Field::Kind => {
                map.next_value_seed(StrInto(&mut r.key))?;
                s.set_kind(&r.key);
            }
            Field::Name => map.next_value_seed(StrInto(&mut s.name))?,
            Field::Timestamp => map.next_value_seed(U64Into(&mut s.start_ns))?,
            Field::Duration => map.next_value_seed(U64Into(&mut r.duration_us))?,
            Field::LocalEndpoint => map.next_value_seed(Endpoint(&mut s.service))?,
            Field::Tags => map.next_value_seed(Tags {
                to: s,
                key: &mut r.key,
                val: &mut r.val,
            })?,
            Field::Shared => shared = map.next_value::<Option<bool>>()?.unwrap_or(false),
            _ => skip(&mut map)?,
        }
    }
    (s.start_ns, s.end_ns) = super::fields::times_from_micros(s.start_ns, r.duration_us);
    if shared {
        let file = r.c.file().to_string();
        r.c.shared
            .add(|| format!("{file}: span {:?} of trace {:?}", s.id, s.trace));
    }
    r.c.push(s, &SPELLING).map_err(de::Error::custom)
}

/// `localEndpoint`: its `serviceName`.
struct Endpoint<'a>(&'a mut String);

map_seed!(Endpoint<'_>, "a Zipkin endpoint object", |self, map| {
    while let Some(key) = map.next_key::<Field>()? {
        match key {
            Field::ServiceName => map.next_value_seed(StrInto(self.0))?,
            _ => skip(&mut map)?,
        }
    }
    Ok(())
});

/// `tags`: an object of string values.
struct Tags<'a> {
    to: &'a mut RawSpan,
    key: &'a mut String,
    val: &'a mut Val,
}

map_seed!(Tags<'_>, "a Zipkin tags object", |self, map| {
    while map.next_key_seed(StrInto(self.key))?.is_some() {
        map.next_value_seed(ValInto(self.val))?;
        self.to.tag(self.key, self.val);
    }
    Ok(())
});
