//! The scenario format: YAML text in, a validated [`Scenario`] or a list of
//! located problems out.
//!
//! The pipeline is `node::parse` (the one place YAML is parsed) -> `--set`
//! overrides on the tree -> typed [`raw`] structs -> [`resolve`]. Each stage
//! reports problems with the file, line, column and YAML path.

// Problems are returned on the cold path of loading a file; their size does not matter.
#![allow(clippy::result_large_err)]

mod branches;
pub mod broker;
pub mod bytes;
mod callgraph;
mod closed;
pub mod dist;
pub mod error;
mod failure_times;
mod failures;
pub mod node;
pub mod overrides;
pub mod policy;
pub mod raw;
mod raw_broker;
mod raw_policy;
mod replay;
pub mod resolve;
pub mod schema;
mod services;
mod sizes;
pub mod spec;
mod steps;
pub mod topology;
pub mod units;
pub mod warnings;
mod workloads;

pub use error::{Location, Problem};
pub use overrides::Override;
pub use spec::Scenario;

use node::{Item, Node, Seg, YamlPath};
use raw::RawScenario;

/// Why a scenario could not be loaded: every problem found, and the text to quote.
#[derive(Debug)]
pub struct LoadError {
    pub problems: Vec<Problem>,
    pub text: Option<String>,
}

impl LoadError {
    pub fn render(&self) -> String {
        error::render_all(&self.problems, self.text.as_deref())
    }
    fn one(problem: Problem, text: &str) -> LoadError {
        LoadError {
            problems: vec![problem],
            text: Some(text.to_string()),
        }
    }
}

/// Loads a scenario from bytes (a file's content); `source` names it in messages.
pub fn load_bytes(
    bytes: &[u8],
    source: &str,
    overrides: &[Override],
) -> Result<Scenario, LoadError> {
    let text = std::str::from_utf8(bytes).map_err(|e| LoadError {
        problems: vec![
            Problem::new(
                YamlPath::root(),
                format!(
                    "the file is not UTF-8 text (invalid byte at offset {})",
                    e.valid_up_to()
                ),
            )
            .at(Location::file(source))
            .expected("a YAML text file"),
        ],
        text: None,
    })?;
    load_str(text, source, overrides)
}

/// Loads a scenario from YAML text.
pub fn load_str(text: &str, source: &str, overrides: &[Override]) -> Result<Scenario, LoadError> {
    let raw = load_raw(text, source, overrides)?;
    let (raw, tree) = raw;
    let mut scenario = resolve::resolve(&raw).map_err(|mut problems| {
        for p in &mut problems {
            if p.location.source.is_empty() {
                p.location = tree.locate(&p.path.0);
            }
        }
        LoadError {
            problems,
            text: Some(text.to_string()),
        }
    })?;
    scenario.warnings = warnings::warnings(&scenario)
        .into_iter()
        .map(|p| {
            let location = tree.locate(&p.path.0);
            p.at(location)
        })
        .collect();
    Ok(scenario)
}

/// The warnings of a loaded scenario, rendered with the lines they are about.
pub fn render_warnings(s: &Scenario, text: &str) -> String {
    s.warnings
        .iter()
        .map(|w| w.render_warning(Some(text)) + "\n")
        .collect()
}

/// Parses, applies overrides and deserialises into raw structs.
pub fn load_raw(
    text: &str,
    source: &str,
    overrides: &[Override],
) -> Result<(RawScenario, Item), LoadError> {
    let mut tree = node::parse(text, source).map_err(|p| LoadError::one(p, text))?;
    match &tree.node {
        Node::Map(_) => {}
        Node::Null => {
            return Err(LoadError::one(
                Problem::new(YamlPath::root(), "the scenario is empty")
                    .at(Location::file(source))
                    .expected("a mapping with at least name, duration, services and workload")
                    .help("start from one of the files in scenarios/"),
                text,
            ));
        }
        _ => {
            return Err(LoadError::one(
                Problem::new(YamlPath::root(), "the scenario is not a mapping")
                    .at(tree.location.clone())
                    .expected("a mapping with at least name, duration, services and workload"),
                text,
            ));
        }
    }
    overrides::apply(&mut tree, overrides).map_err(|p| LoadError::one(p, text))?;
    let json = tree.to_json();
    match serde_path_to_error::deserialize::<_, RawScenario>(json) {
        Ok(raw) => Ok((raw, tree)),
        Err(e) => Err(LoadError::one(typed_problem(&e, &tree), text)),
    }
}

/// Turns a serde error into a problem with a path, a location and a suggestion.
fn typed_problem(e: &serde_path_to_error::Error<serde_json::Error>, tree: &Item) -> Problem {
    let path = YamlPath(
        e.path()
            .iter()
            .filter_map(|s| match s {
                serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
                serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
                serde_path_to_error::Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
                serde_path_to_error::Segment::Unknown => None,
            })
            .collect(),
    );
    let inner = e.inner().to_string();
    let message = inner.replace('`', "'");
    let (message, candidates) = split_expected(&message);
    let wrong = message.split('\'').nth(1).unwrap_or("").to_string();
    let is_unknown_key = message.starts_with("unknown field");
    let location = if is_unknown_key {
        tree.locate_key(&path.0)
    } else {
        tree.locate(&path.0)
    };
    let message = message
        .replace("unknown field", "unknown key")
        .replace("missing field", "missing key");
    // "invalid value: integer '-3', expected u32": say what a count may be.
    let key = match path.0.last() {
        Some(Seg::Key(k)) => k.as_str(),
        _ => "",
    };
    let range = |rust: &str| integer_range(key, rust);
    let (message, candidates) = match candidates.as_deref().and_then(range) {
        Some(range) => (
            message.replace("invalid value: integer", "out of range:"),
            Some(range),
        ),
        None => (message, candidates),
    };
    let mut p = Problem::new(path, message).at(location);
    if let Some(c) = &candidates {
        p = p.expected(c.clone());
        let names: Vec<&str> = c
            .trim_start_matches("one of ")
            .split(", ")
            .map(|s| s.trim_matches('\''))
            .collect();
        p = p.suggest(&wrong, names);
    }
    p
}

/// serde's name of an integer type -> what the user may write.
fn integer_range(key: &str, rust: &str) -> Option<String> {
    use resolve::limits;
    let documented = match key {
        "queue" => Some(u64::from(limits::QUEUE)),
        "concurrency" => Some(u64::from(limits::CONCURRENCY)),
        "fanout" => Some(u64::from(limits::FANOUT)),
        _ => None,
    };
    if let Some(max) = documented {
        return Some(format!("a whole number from 0 to {max}"));
    }
    let max = match rust {
        "u8" => u64::from(u8::MAX),
        "u16" => u64::from(u16::MAX),
        "u32" => u64::from(u32::MAX),
        "u64" | "usize" => u64::MAX,
        _ => return None,
    };
    Some(format!(
        "a whole number from 0 to {max} (docs/SCENARIO.md gives each key's own limit)"
    ))
}

/// "unknown field 'x', expected one of 'a', 'b'" -> ("unknown field 'x'", Some("one of a, b")).
fn split_expected(msg: &str) -> (String, Option<String>) {
    match msg.split_once(", expected ") {
        Some((head, tail)) => (head.to_string(), Some(tail.replace('\'', ""))),
        None => (msg.to_string(), None),
    }
}
