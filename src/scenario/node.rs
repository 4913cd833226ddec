//! The YAML document as a tree of nodes with their line and column.
//!
//! This is the only place that calls the YAML parser ([`parse`]). The tree
//! serves three purposes: `--set` overrides are applied to it, it is turned
//! into JSON for typed deserialisation into [`super::raw`], and it maps any
//! YAML path back to the line and column where the user wrote it.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use super::error::{Location, Problem};

/// A YAML value.
#[derive(Clone, Debug)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Item>),
    Map(Vec<(Key, Item)>),
}

/// A value and where it was written.
#[derive(Clone, Debug)]
pub struct Item {
    pub node: Node,
    pub location: Location,
}

/// A mapping key and where it was written.
#[derive(Clone, Debug)]
pub struct Key {
    pub name: String,
    pub location: Location,
}

/// One step of a YAML path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into the document, displayed as `services.orders.endpoints.place.steps[1].call`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct YamlPath(pub Vec<Seg>);

impl YamlPath {
    pub fn root() -> Self {
        YamlPath(Vec::new())
    }
    pub fn key(&self, k: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_string()));
        p
    }
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }
}

impl fmt::Display for YamlPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => write!(f, "{k}")?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// Limits against hostile or absurd input, on top of the parser's own budget.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Values in a document (a 4 MiB file holds at most about 2 million), so
/// that the format's own limits (10,000 services, 100,000 samples) fit.
pub const MAX_NODES: usize = 2_500_000;
const MAX_ALIASES: usize = 1_000;
const MAX_DEPTH: usize = 64;

/// Parses YAML text into a located tree. The only call into the YAML crate.
pub fn parse(text: &str, source: &str) -> Result<Item, Problem> {
    if text.len() > MAX_FILE_BYTES {
        return Err(Problem::new(
            YamlPath::root(),
            format!(
                "the file is {} bytes; a scenario is at most {MAX_FILE_BYTES} bytes (4 MiB)",
                text.len()
            ),
        )
        .at(Location::file(source)));
    }
    let mut budget = serde_saphyr::Budget::default();
    budget.max_nodes = MAX_NODES;
    budget.max_aliases = MAX_ALIASES;
    budget.max_depth = MAX_DEPTH;
    let options = serde_saphyr::options! { budget: Some(budget), strict_booleans: true };
    match serde_saphyr::from_str_with_options::<Spanned<Node>>(text, options) {
        Ok(spanned) => Ok(Item {
            location: location_of(&spanned.referenced, source),
            node: spanned.value,
        }
        .with_source(source)),
        Err(e) => {
            let location = e
                .location()
                .map(|l| location_of(&l, source))
                .unwrap_or_else(|| Location::file(source));
            let message = clean_parser_message(&e.without_snippet().to_string());
            let path = path_near_line(text, location.line);
            Err(Problem::new(path, message)
                .at(location)
                .expected("a valid YAML document (see `meshsim schema`)"))
        }
    }
}

fn location_of(l: &serde_saphyr::Location, source: &str) -> Location {
    Location {
        source: source.to_string(),
        line: l.line() as usize,
        column: l.column() as usize,
    }
}

/// Drops the parser's own " at line L, column C" tail; we print locations ourselves.
fn clean_parser_message(msg: &str) -> String {
    let cut = msg.find(" at line ").unwrap_or(msg.len());
    let msg = &msg[..cut];
    if let Some(what) = msg.strip_prefix("budget breached: ") {
        return if what.contains("lias") {
            format!("the document uses too many aliases (at most {MAX_ALIASES})")
        } else if what.contains("epth") {
            format!("the document nests too deep (at most {MAX_DEPTH} levels)")
        } else {
            format!(
                "the document holds too many values (at most {MAX_NODES}, an alias counting each time it is used)"
            )
        };
    }
    if msg.starts_with("multiple YAML documents") {
        return "the file holds more than one YAML document ('---'); a scenario is one".into();
    }
    if msg.contains("recursive references") {
        return "an alias refers to the anchor it is inside (a recursive reference)".into();
    }
    msg.replace(", set DuplicateKeyPolicy in Options if acceptable", "")
}

/// Best-effort YAML path of the block-style entry on or above `line`, from
/// indentation alone (used when the document does not parse).
fn path_near_line(text: &str, line: usize) -> YamlPath {
    let mut stack: Vec<(usize, Seg)> = Vec::new();
    for raw in text.lines().take(line.max(1)) {
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let mut indent = raw.len() - trimmed.len();
        let mut body = trimmed;
        if let Some(rest) = trimmed.strip_prefix("- ") {
            while stack.last().is_some_and(|(i, _)| *i > indent) {
                stack.pop();
            }
            match stack.last_mut() {
                Some((i, Seg::Index(n))) if *i == indent => *n += 1,
                _ => stack.push((indent, Seg::Index(0))),
            }
            indent += 2;
            body = rest.trim_start();
        }
        let Some((key, _)) = body.split_once(':') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() || key.contains([' ', '{', '[', '"', '\'']) {
            continue;
        }
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        stack.push((indent, Seg::Key(key.to_string())));
    }
    YamlPath(stack.into_iter().map(|(_, s)| s).collect())
}

impl Item {
    /// The item at `path`, if present.
    pub fn get(&self, path: &[Seg]) -> Option<&Item> {
        let Some((first, rest)) = path.split_first() else {
            return Some(self);
        };
        self.child(first)?.get(rest)
    }

    fn child(&self, seg: &Seg) -> Option<&Item> {
        match (&self.node, seg) {
            (Node::Map(entries), Seg::Key(k)) => entries
                .iter()
                .find(|(key, _)| key.name == *k)
                .map(|(_, v)| v),
            (Node::Seq(items), Seg::Index(i)) => items.get(*i),
            _ => None,
        }
    }

    /// Where `path` was written: the value if it exists, else its key, else the
    /// deepest ancestor that exists.
    pub fn locate(&self, path: &[Seg]) -> Location {
        let mut here = self;
        for seg in path {
            if let (Node::Map(entries), Seg::Key(k)) = (&here.node, seg) {
                match entries.iter().find(|(key, _)| key.name == *k) {
                    Some((_, v)) => {
                        here = v;
                        continue;
                    }
                    None => return here.location.clone(),
                }
            }
            match here.child(seg) {
                Some(next) => here = next,
                None => return here.location.clone(),
            }
        }
        here.location.clone()
    }

    /// Where the key of the last segment of `path` was written (for unknown keys).
    pub fn locate_key(&self, path: &[Seg]) -> Location {
        if let Some((Seg::Key(k), parent)) = path.split_last()
            && let Some(Item {
                node: Node::Map(entries),
                ..
            }) = self.get(parent)
            && let Some((key, _)) = entries.iter().find(|(key, _)| key.name == *k)
        {
            return key.location.clone();
        }
        self.locate(path)
    }

    /// The tree as JSON, for typed deserialisation.
    pub fn to_json(&self) -> Value {
        match &self.node {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::from(*i),
            Node::Float(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Node::Str(s) => Value::String(s.clone()),
            Node::Seq(items) => Value::Array(items.iter().map(Item::to_json).collect()),
            Node::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any YAML value")
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        Ok(i64::try_from(v).map_or(Node::Float(v as f64), Node::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(s) = seq.next_element::<Spanned<Node>>()? {
            items.push(Item {
                node: s.value,
                location: bare_location(&s.referenced),
            });
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(k) = map.next_key::<Spanned<KeyText>>()? {
            let v = map.next_value::<Spanned<Node>>()?;
            entries.push((
                Key {
                    name: k.value.0,
                    location: bare_location(&k.referenced),
                },
                Item {
                    node: v.value,
                    location: bare_location(&v.referenced),
                },
            ));
        }
        Ok(Node::Map(entries))
    }
}

/// Locations inside the tree carry no file name until [`Item::with_source`].
fn bare_location(l: &serde_saphyr::Location) -> Location {
    location_of(l, "")
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

/// A mapping key: any scalar, as text.
struct KeyText(String);

impl<'de> Deserialize<'de> for KeyText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<KeyText, D::Error> {
        match Node::deserialize(d)? {
            Node::Str(s) => Ok(KeyText(s)),
            Node::Int(i) => Ok(KeyText(i.to_string())),
            Node::Float(f) => Ok(KeyText(f.to_string())),
            Node::Bool(b) => Ok(KeyText(b.to_string())),
            Node::Null => Ok(KeyText("null".into())),
            _ => Err(serde::de::Error::custom(
                "a mapping key must be a plain word",
            )),
        }
    }
}

impl Item {
    /// Stamps every location in the tree with the file name.
    pub fn with_source(mut self, source: &str) -> Item {
        self.stamp(source);
        self
    }

    fn stamp(&mut self, source: &str) {
        self.location.source = source.to_string();
        match &mut self.node {
            Node::Seq(items) => items.iter_mut().for_each(|i| i.stamp(source)),
            Node::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                k.location.source = source.to_string();
                v.stamp(source);
            }),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_paths_and_keys() {
        let text = "name: x\nservices:\n  a:\n    replicas: 2\n";
        let root = parse(text, "f.yaml").unwrap();
        let path = YamlPath::root().key("services").key("a").key("replicas");
        let loc = root.locate(&path.0);
        assert_eq!((loc.line, loc.column), (4, 15));
        let key = root.locate_key(&path.0);
        assert_eq!((key.line, key.column), (4, 5));
        assert_eq!(path.to_string(), "services.a.replicas");
    }

    #[test]
    fn syntax_errors_carry_a_nearby_path() {
        let text = "name: x\nservices:\n  a:\n    replicas: [2\n";
        let p = parse(text, "f.yaml").unwrap_err();
        assert_eq!(p.path.to_string(), "services.a.replicas");
        assert!(p.location.line >= 4);
    }
}
