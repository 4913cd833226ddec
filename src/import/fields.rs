//! The small serde pieces the three readers share.
//!
//! The readers never build a document tree: each JSON object is walked by a
//! visitor that writes the few fields it wants into reused buffers and skips
//! the rest with `IgnoredAny`. These seeds are the leaves of that walk: a
//! string into a buffer, a number that may be written as a string, a scalar of
//! any type, and "every element of this array".

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A JSON string written into a reused buffer (`null` leaves it empty).
pub(crate) struct StrInto<'a>(pub &'a mut String);

impl<'de> DeserializeSeed<'de> for StrInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0.clear();
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrInto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.push_str(v);
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A non-negative integer written as a JSON number or as a decimal string
/// (protobuf's JSON mapping writes 64-bit integers as strings). `null` is None.
pub(crate) struct U64Into<'a>(pub &'a mut Option<u64>);

impl<'de> DeserializeSeed<'de> for U64Into<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for U64Into<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a non-negative integer (a number or a decimal string)")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        *self.0 = Some(v);
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        let v = u64::try_from(v).map_err(|_| E::custom(format!("{v} is negative")))?;
        self.visit_u64(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        if v.fract() != 0.0 || !(0.0..1.8e19).contains(&v) {
            return Err(E::custom(format!("{v} is not a non-negative integer")));
        }
        self.visit_u64(v as u64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let n = v
            .trim()
            .parse()
            .map_err(|_| E::custom(format!("{v:?} is not an integer")))?;
        self.visit_u64(n)
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        *self.0 = None;
        Ok(())
    }
}

/// A scalar of any JSON type, as a tag or attribute value. Arrays and objects
/// are skipped (no attribute the import uses is one).
#[derive(Clone, Debug, Default)]
pub(crate) struct Val {
    pub kind: ValKind,
    /// The text when `kind` is `Str`.
    pub text: String,
}

#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) enum ValKind {
    #[default]
    None,
    Str,
    Int(i64),
    Double(f64),
    Bool(bool),
}

impl Val {
    pub fn clear(&mut self) {
        self.kind = ValKind::None;
        self.text.clear();
    }

    pub fn as_str(&self) -> Option<&str> {
        (self.kind == ValKind::Str).then_some(self.text.as_str())
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.kind {
            ValKind::Int(i) => Some(i),
            ValKind::Double(d) if d.fract() == 0.0 => Some(d as i64),
            ValKind::Str => self.text.trim().parse().ok(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.kind {
            ValKind::Int(i) => Some(i as f64),
            ValKind::Double(d) => Some(d),
            ValKind::Str => self.text.trim().parse().ok(),
            _ => None,
        }
    }

    /// True unless the value says false (`false`, "false", 0).
    pub fn truthy(&self) -> bool {
        match self.kind {
            ValKind::Bool(b) => b,
            ValKind::Int(i) => i != 0,
            ValKind::Str => !self.text.eq_ignore_ascii_case("false"),
            _ => true,
        }
    }
}

/// Writes any JSON scalar into a [`Val`].
pub(crate) struct ValInto<'a>(pub &'a mut Val);

impl<'de> DeserializeSeed<'de> for ValInto<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0.clear();
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ValInto<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a value")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.0.kind = ValKind::Str;
        self.0.text.push_str(v);
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.0.kind = ValKind::Int(v);
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.0.kind = i64::try_from(v).map_or(ValKind::Double(v as f64), ValKind::Int);
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.0.kind = ValKind::Double(v);
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.0.kind = ValKind::Bool(v);
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

/// Every element of a JSON array, each read by `&mut S` (`null` is an empty array).
pub(crate) struct Each<'a, S>(pub &'a mut S);

impl<'de, S> DeserializeSeed<'de> for Each<'_, S>
where
    for<'b> &'b mut S: DeserializeSeed<'de, Value = ()>,
{
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, S> Visitor<'de> for Each<'_, S>
where
    for<'b> &'b mut S: DeserializeSeed<'de, Value = ()>,
{
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(&mut *self.0)?.is_some() {}
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
}

/// A span's (start, end) in ns from a start and a duration in µs (Jaeger's and
/// Zipkin's units); an end only with both.
pub(crate) fn times_from_micros(
    start_us: Option<u64>,
    duration_us: Option<u64>,
) -> (Option<u64>, Option<u64>) {
    let ns = |us: u64| us.saturating_mul(1000);
    let end = start_us
        .zip(duration_us)
        .map(|(t, d)| ns(t.saturating_add(d)));
    (start_us.map(ns), end)
}

/// Skips a value: the fields a reader does not use.
pub(crate) fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<IgnoredAny>().map(|_| ())
}

/// Implements `DeserializeSeed` (as a map) and `Visitor` for a seed type whose
/// `visit_map` is given.
macro_rules! map_seed {
    ($ty:ty, $what:literal, |$self:ident, $map:ident| $body:block) => {
        impl<'de> serde::de::DeserializeSeed<'de> for $ty {
            type Value = ();
            fn deserialize<D: serde::de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
                d.deserialize_map(self)
            }
        }
        impl<'de> serde::de::Visitor<'de> for $ty {
            type Value = ();
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str($what)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>($self, mut $map: A) -> Result<(), A::Error> {
                $body
            }
        }
    };
}
pub(crate) use map_seed;
