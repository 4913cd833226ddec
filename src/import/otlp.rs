//! OTLP/JSON, as the OpenTelemetry specification defines it.
//!
//! One `ExportTraceServiceRequest` a document: `resourceSpans[]`, each with a
//! `resource` (its `service.name` attribute names the service) and
//! `scopeSpans[]` (the older `instrumentationLibrarySpans[]` too), each with
//! `spans[]`. Ids are hex strings (not base64, unlike protobuf's own JSON
//! mapping); times are nanoseconds as numbers or strings; `kind` and
//! `status.code` are integers or their enum names. Each span is converted as
//! soon as its object ends; only the current resource's attributes are kept
//! (and the spans of a resource whose `resource` comes after its spans, until
//! it does).

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer};

use super::collect::{Collector, RawSpan, Spelling};
use super::fields::{Each, StrInto, U64Into, Val, ValInto, map_seed, skip};
use super::span::{Kind, Status};

const SPELLING: Spelling = Spelling {
    trace: "traceId",
    span: "spanId",
    parent: "parentSpanId",
    start: "startTimeUnixNano",
    end: "endTimeUnixNano",
};

/// One `ExportTraceServiceRequest`.
pub(crate) struct Document<'c>(pub &'c mut Collector);

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Field {
    // ExportTraceServiceRequest
    ResourceSpans,
    // ResourceSpans
    Resource,
    #[serde(alias = "instrumentationLibrarySpans")]
    ScopeSpans,
    // Resource, Span
    Attributes,
    // ScopeSpans
    Spans,
    // Span, Link
    TraceId,
    SpanId,
    ParentSpanId,
    Name,
    Kind,
    StartTimeUnixNano,
    EndTimeUnixNano,
    Links,
    Status,
    // KeyValue
    Key,
    Value,
    // Status
    Code,
    // AnyValue
    StringValue,
    IntValue,
    DoubleValue,
    BoolValue,
    #[serde(other)]
    Other,
}

map_seed!(
    Document<'_>,
    "an OTLP ExportTraceServiceRequest object",
    |self, map| {
        let mut resource = Resource {
            c: self.0,
            attrs: RawSpan::default(),
            has_attrs: false,
            span: RawSpan::default(),
            tag: Tag::default(),
            pending: Vec::new(),
        };
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::ResourceSpans => map.next_value_seed(Each(&mut resource))?,
                _ => skip(&mut map)?,
            }
        }
        Ok(())
    }
);

/// The state of one `resourceSpans` element, and the buffers reused for its spans.
struct Resource<'c> {
    c: &'c mut Collector,
    /// The resource's attributes (only `service.name` is used).
    attrs: RawSpan,
    has_attrs: bool,
    span: RawSpan,
    tag: Tag,
    /// Spans read before the resource (kept until it comes).
    pending: Vec<RawSpan>,
}

impl Resource<'_> {
    fn push<E: de::Error>(&mut self, raw: &mut RawSpan) -> Result<(), E> {
        raw.service.clone_from(&self.attrs.service);
        self.c.push(raw, &SPELLING).map_err(E::custom)
    }

    fn end_span<E: de::Error>(&mut self) -> Result<(), E> {
        let mut raw = std::mem::take(&mut self.span);
        let done = if self.has_attrs {
            self.push(&mut raw)
        } else {
            let what = "spans read before their resource's `resource` (its service.name)";
            self.c
                .room_to_wait(self.pending.len(), what)
                .map_err(|e| E::custom(format!("span {:?} of trace {:?}: {e}", raw.id, raw.trace)))
                .map(|()| self.pending.push(raw.clone()))
        };
        self.span = raw;
        done
    }
}

map_seed!(
    &mut Resource<'_>,
    "an OTLP ResourceSpans object",
    |self, map| {
        self.attrs.clear();
        self.has_attrs = false;
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Resource => {
                    map.next_value_seed(Attrs {
                        to: &mut self.attrs,
                        tag: &mut self.tag,
                    })?;
                    self.has_attrs = true;
                }
                Field::ScopeSpans => map.next_value_seed(Each(&mut Scope(self)))?,
                _ => skip(&mut map)?,
            }
        }
        self.has_attrs = true;
        for mut raw in std::mem::take(&mut self.pending) {
            self.push(&mut raw)?;
        }
        Ok(())
    }
);

/// A key and value read from an attribute.
#[derive(Default)]
struct Tag {
    key: String,
    val: Val,
}

/// An object whose `attributes` are applied to a span (or to a resource).
struct Attrs<'a> {
    to: &'a mut RawSpan,
    tag: &'a mut Tag,
}

map_seed!(Attrs<'_>, "an OTLP Resource object", |self, map| {
    while let Some(key) = map.next_key::<Field>()? {
        match key {
            Field::Attributes => map.next_value_seed(Each(&mut Attr {
                to: self.to,
                tag: self.tag,
            }))?,
            _ => skip(&mut map)?,
        }
    }
    Ok(())
});

/// One `KeyValue` attribute, applied to a span.
struct Attr<'a> {
    to: &'a mut RawSpan,
    tag: &'a mut Tag,
}

map_seed!(&mut Attr<'_>, "an OTLP KeyValue object", |self, map| {
    self.tag.key.clear();
    self.tag.val.clear();
    while let Some(key) = map.next_key::<Field>()? {
        match key {
            Field::Key => map.next_value_seed(StrInto(&mut self.tag.key))?,
            Field::Value => map.next_value_seed(AnyValue(&mut self.tag.val))?,
            _ => skip(&mut map)?,
        }
    }
    self.to.tag(&self.tag.key, &self.tag.val);
    Ok(())
});

/// An `AnyValue`: the scalar kinds are read, arrays, lists and bytes skipped.
struct AnyValue<'a>(&'a mut Val);

map_seed!(AnyValue<'_>, "an OTLP AnyValue object", |self, map| {
    while let Some(key) = map.next_key::<Field>()? {
        match key {
            Field::StringValue | Field::IntValue | Field::DoubleValue | Field::BoolValue => {
                map.next_value_seed(ValInto(self.0))?
            }
            _ => skip(&mut map)?,
        }
    }
    Ok(())
});

/// One `scopeSpans` element.
struct Scope<'a, 'c>(&'a mut Resource<'c>);

map_seed!(
    &mut Scope<'_, '_>,
    "an OTLP ScopeSpans object",
    |self, map| {
        while let Some(key) = map.next_key::<Field>()? {
            match key {
                Field::Spans => map.next_value_seed(Each(&mut SpanSeed(self.0)))?,
                _ => skip(&mut map)?,
            }
        }
        Ok(())
    }
);

/// One span.
struct SpanSeed<'a, 'c>(&'a mut Resource<'c>);

map_seed!(&mut SpanSeed<'_, '_>, "an OTLP Span object", |self, map| {
    let r = &mut *self.0;
    let s = &mut r.span;
    s.clear();
    while let Some(key) = map.next_key::<Field>()? {
        match key {
            Field::TraceId => map.next_value_seed(StrInto(&mut s.trace))?,
            Field::SpanId => map.next_value_seed(StrInto(&mut s.id))?,
            Field::ParentSpanId => map.next_value_seed(StrInto(&mut s.parent))?,
            Field::Name => map.next_value_seed(StrInto(&mut s.name))?,
            Field::Kind => map.next_value_seed(KindInto(s))?,
            Field::StartTimeUnixNano => map.next_value_seed(U64Into(&mut s.start_ns))?,
            Field::EndTimeUnixNano => map.next_value_seed(U64Into(&mut s.end_ns))?,
            Field::Attributes => map.next_value_seed(Each(&mut Attr {
                to: s,
                tag: &mut r.tag,
            }))?,
            Field::Links => map.next_value_seed(Each(&mut Link {
                to: s,
                id: &mut r.tag.key,
            }))?,
            Field::Status => map.next_value_seed(StatusInto(s))?,
            _ => skip(&mut map)?,
        }
    }
    r.end_span()
});

/// One link: the first link's span id is kept.
struct Link<'a> {
    to: &'a mut RawSpan,
    id: &'a mut String,
}

map_seed!(&mut Link<'_>, "an OTLP Link object", |self, map| {
    self.id.clear();
    while let Some(key) = map.next_key::<Field>()? {
        match key {
            Field::SpanId => map.next_value_seed(StrInto(self.id))?,
            _ => skip(&mut map)?,
        }
    }
    if self.to.link.is_empty() {
        self.to.link.clone_from(self.id);
    }
    Ok(())
});

map_seed!(StatusInto<'_>, "an OTLP Status object", |self, map| {
    let mut code = Val::default();
    while let Some(key) = map.next_key::<Field>()? {
        match key {
            Field::Code => map.next_value_seed(ValInto(&mut code))?,
            _ => skip(&mut map)?,
        }
    }
    let name = code
        .as_str()
        .map(|s| s.strip_prefix("STATUS_CODE_").unwrap_or(s));
    self.0.status = match (code.as_i64(), name) {
        (Some(1), _) | (_, Some("OK")) => Status::Ok,
        (Some(2), _) | (_, Some("ERROR")) => Status::Error,
        _ => Status::Unset,
    };
    Ok(())
});

/// `status`: code 0–2 or its enum name.
struct StatusInto<'a>(&'a mut RawSpan);

/// `kind`: 0–5 or its enum name (`SPAN_KIND_SERVER`).
struct KindInto<'a>(&'a mut RawSpan);

impl<'de> DeserializeSeed<'de> for KindInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        let mut v = Val::default();
        ValInto(&mut v).deserialize(d)?;
        match (v.as_str(), v.as_i64()) {
            (Some(s), _) => self.0.set_kind(s),
            (None, Some(n)) => match n {
                0 | 1 => self.0.kind = Kind::Internal,
                2 => self.0.kind = Kind::Server,
                3 => self.0.kind = Kind::Client,
                4 => self.0.kind = Kind::Producer,
                5 => self.0.kind = Kind::Consumer,
                _ => self.0.bad_kind = Some(n.to_string()),
            },
            (None, None) => self.0.kind = Kind::Internal,
        }
        Ok(())
    }
}
