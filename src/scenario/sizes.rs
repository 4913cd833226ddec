//! Resolution of message sizes (on calls, publishes and workloads) and of a
//! link's bandwidth. Part of [`super::resolve`].
//!
//! Each size gets a stream of its own, named after what sends the message, so
//! adding a size anywhere changes no other draw:
//! `service/<svc>/endpoint/<ep>/call/<svc2>.<ep2>/request_size` (and
//! `response_size`; a second call of one step list to the same endpoint adds
//! `#2`), `service/<svc>/endpoint/<ep>/publish/<topic>/size`,
//! `workload/<name>/request_size` and `response_size`.

use std::collections::BTreeSet;

use serde_json::Value;

use super::bytes;
use super::dist::{self, SIZE};
use super::error::Problem;
use super::node::YamlPath;
use super::raw::{Bandwidth, CallSize};
use super::resolve::Resolver;
use super::spec::{MAX_SIZES, MessageSize, Sizes};
use crate::engine::Dist;

/// Every size distribution of the scenario, in the order met.
#[derive(Default)]
pub(super) struct SizeTable {
    pub(super) sizes: Vec<MessageSize>,
    /// Their stream names, to make each unique without a scan.
    names: BTreeSet<String>,
}

impl SizeTable {
    fn add(
        &mut self,
        r: &mut Resolver,
        path: &YamlPath,
        dist: Dist,
        stream: String,
    ) -> Option<u32> {
        if self.sizes.len() >= MAX_SIZES {
            r.push(
                Problem::new(path.clone(), "too many sizes in one scenario").expected(format!(
                    "at most {MAX_SIZES} sizes on calls, publishes and workloads"
                )),
            );
            return None;
        }
        // A stream name used twice (one step list calling one endpoint twice) gets a suffix.
        let mut name = stream.clone();
        let mut n = 2;
        while self.names.contains(&name) {
            name = format!("{stream}#{n}");
            n += 1;
        }
        self.names.insert(name.clone());
        self.sizes.push(MessageSize { dist, stream: name });
        Some((self.sizes.len() - 1) as u32)
    }
}

/// A distribution of sizes at `path`.
fn size_dist(r: &mut Resolver, v: &Value, path: &YamlPath) -> Option<Dist> {
    r.with_problems(|out| dist::parse_as(&SIZE, v, path, out))
}

/// A call's (or a workload's) sizes: one distribution is the request's;
/// `{request, response}` names both. `stream` is the prefix of their streams.
pub(super) fn call_sizes(
    r: &mut Resolver,
    t: &mut SizeTable,
    v: Option<&CallSize>,
    path: &YamlPath,
    stream: &str,
) -> Sizes {
    let Some(CallSize(v)) = v else {
        return Sizes::default();
    };
    let parts = v
        .as_object()
        .filter(|o| o.keys().any(|k| k == "request" || k == "response"));
    let Some(parts) = parts else {
        return Sizes {
            request: size_dist(r, v, path)
                .and_then(|d| t.add(r, path, d, format!("{stream}/request_size"))),
            response: None,
        };
    };
    for k in parts.keys().filter(|k| *k != "request" && *k != "response") {
        r.push(
            Problem::new(path.key(k), format!("unknown key '{k}'"))
                .expected("request and response, each a distribution of sizes")
                .suggest(k, ["request", "response"]),
        );
    }
    let mut one = |key: &str| {
        let p = path.key(key);
        let d = size_dist(r, parts.get(key)?, &p)?;
        t.add(r, &p, d, format!("{stream}/{key}_size"))
    };
    Sizes {
        request: one("request"),
        response: one("response"),
    }
}

/// A publish's message size.
pub(super) fn publish_size(
    r: &mut Resolver,
    t: &mut SizeTable,
    v: Option<&CallSize>,
    path: &YamlPath,
    stream: &str,
) -> Option<u32> {
    let v = &v?.0;
    if v.get("request").is_some() || v.get("response").is_some() {
        r.push(
            Problem::new(path.clone(), "a message has one size, and no answer")
                .expected("a distribution of sizes, like 2KB or {exponential: {mean: 2KB}}"),
        );
        return None;
    }
    let d = size_dist(r, v, path)?;
    t.add(r, path, d, format!("{stream}/size"))
}

/// A link's bandwidth in bytes per second.
pub(super) fn bandwidth(r: &mut Resolver, v: Option<&Bandwidth>, path: &YamlPath) -> Option<f64> {
    bytes::bandwidth(&v?.0).map_err(|b| r.push(b.at(path))).ok()
}
