//! `--set PATH=VALUE`: Helm-style overrides applied to the YAML tree before it
//! is checked, so an override is validated exactly like the file.
//!
//! Paths are dotted keys; list items with a `name` are addressed by it
//! (`workload.checkout.rate`), others by index (`steps[1]` or `steps.1`).
//! The value is YAML (`8`, `5000/s`, `{exponential: {mean: 4ms}}`). A missing
//! key of the format is added (its validity is then checked like any key); a
//! missing named item, index, or key of a map of user names (a service, an
//! endpoint, a topic) is an error with the closest name.

use super::error::{Location, Problem};
use super::node::{self, Item, Key, Node, Seg, YamlPath};

/// One parsed `--set` argument.
#[derive(Clone, Debug)]
pub struct Override {
    pub text: String,
    pub path: Vec<String>,
    pub value: String,
}

impl Override {
    /// Parses `a.b[2].c=value`.
    pub fn parse(text: &str) -> Result<Override, String> {
        let (path, value) = text.split_once('=').ok_or_else(|| {
            format!("--set '{text}': expected PATH=VALUE, like services.orders.replicas=8")
        })?;
        let mut segs = Vec::new();
        for part in path.trim().split('.') {
            let (head, rest) = part.split_once('[').unwrap_or((part, ""));
            if head.is_empty() && rest.is_empty() {
                return Err(format!("--set '{text}': empty segment in path '{path}'"));
            }
            if !head.is_empty() {
                segs.push(head.to_string());
            }
            for idx in rest.split('[').filter(|s| !s.is_empty()) {
                segs.push(idx.trim_end_matches(']').to_string());
            }
        }
        Ok(Override {
            text: text.to_string(),
            path: segs,
            value: value.to_string(),
        })
    }

    fn location(&self) -> Location {
        Location::file(&format!("--set {}", self.text))
    }
}

/// Applies overrides in order.
pub fn apply(root: &mut Item, overrides: &[Override]) -> Result<(), Problem> {
    for o in overrides {
        let mut value = node::parse(&o.value, "--set").map_err(|p| {
            Problem::new(
                YamlPath::root(),
                format!("the value '{}' is not valid YAML: {}", o.value, p.message),
            )
            .at(o.location())
        })?;
        set_location(&mut value, &o.location());
        set(root, &o.path, value, YamlPath::root(), o)?;
    }
    Ok(())
}

fn set_location(item: &mut Item, loc: &Location) {
    item.location = loc.clone();
    match &mut item.node {
        Node::Seq(items) => items.iter_mut().for_each(|i| set_location(i, loc)),
        Node::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
            k.location = loc.clone();
            set_location(v, loc);
        }),
        _ => {}
    }
}

fn set(
    here: &mut Item,
    path: &[String],
    value: Item,
    at: YamlPath,
    o: &Override,
) -> Result<(), Problem> {
    let Some((seg, rest)) = path.split_first() else {
        *here = value;
        return Ok(());
    };
    let fail = |p: YamlPath, msg: String| Problem::new(p, msg).at(o.location());
    match &mut here.node {
        Node::Map(entries) => {
            let next = at.key(seg);
            let i = match entries.iter().position(|(k, _)| k.name == *seg) {
                Some(i) => i,
                None if names_user_items(&at) => {
                    let names: Vec<&str> = entries.iter().map(|(k, _)| k.name.as_str()).collect();
                    let what = user_item_kind(&at);
                    let p = fail(next.clone(), format!("no {what} named '{seg}' in '{at}'"))
                        .expected(if names.is_empty() {
                            format!("a {what} written in the file (there is none)")
                        } else {
                            format!("one of {}", names.join(", "))
                        })
                        .suggest(seg, names.iter().copied());
                    return Err(p);
                }
                None => {
                    let empty = Item {
                        node: Node::Map(Vec::new()),
                        location: o.location(),
                    };
                    entries.push((
                        Key {
                            name: seg.clone(),
                            location: o.location(),
                        },
                        empty,
                    ));
                    entries.len() - 1
                }
            };
            set(&mut entries[i].1, rest, value, next, o)
        }
        Node::Seq(items) => {
            let i = match seg.parse::<usize>() {
                Ok(i) if i < items.len() => i,
                Ok(i) => {
                    return Err(fail(
                        at.clone(),
                        format!(
                            "index {i} is past the end of the list ({} items)",
                            items.len()
                        ),
                    ));
                }
                Err(_) => {
                    let names: Vec<String> = items.iter().filter_map(item_name).collect();
                    match items
                        .iter()
                        .position(|it| item_name(it).as_deref() == Some(seg))
                    {
                        Some(i) => i,
                        None => {
                            let p = fail(at.clone(), format!("no item named '{seg}' in this list"))
                                .expected(format!("one of {}", names.join(", ")))
                                .suggest(seg, names.iter().map(String::as_str));
                            return Err(p);
                        }
                    }
                }
            };
            set(&mut items[i], rest, value, at.index(i), o)
        }
        Node::Null => {
            here.node = Node::Map(Vec::new());
            set(here, path, value, at, o)
        }
        _ => Err(fail(
            at.clone(),
            format!("'{at}' is a single value; it has no '{seg}' inside"),
        )),
    }
}

/// The maps whose keys are names the user chose (services, endpoints,
/// topics, replicas per data center): `--set` may change what such a map
/// holds but never adds to it, so a misspelt name is an error, not a new
/// empty service. Every other map is a struct of the format, whose unknown
/// keys the typed stage refuses.
fn names_user_items(at: &YamlPath) -> bool {
    let keys: Vec<Option<&str>> =
        at.0.iter()
            .map(|s| match s {
                Seg::Key(k) => Some(k.as_str()),
                Seg::Index(_) => None,
            })
            .collect();
    matches!(
        keys.as_slice(),
        [Some("services")]
            | [Some("services"), Some(_), Some("endpoints")]
            | [Some("services"), Some(_), Some("replicas")]
            | [Some("gateway"), Some("replicas")]
            | [Some("broker"), Some("topics")]
    )
}

fn user_item_kind(at: &YamlPath) -> &'static str {
    match at.0.last() {
        Some(Seg::Key(k)) if k == "services" => "service",
        Some(Seg::Key(k)) if k == "endpoints" => "endpoint",
        Some(Seg::Key(k)) if k == "topics" => "topic",
        _ => "data center",
    }
}

fn item_name(item: &Item) -> Option<String> {
    match &item.get(&[Seg::Key("name".into())])?.node {
        Node::Str(s) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(text: &str) -> Item {
        node::parse(text, "t.yaml").unwrap()
    }

    #[test]
    fn sets_by_name_index_and_new_key() {
        let mut t = tree("services:\n  a: {replicas: 1}\nworkload:\n  - {name: w, rate: 1/s}\n");
        let sets = [
            "services.a.replicas=8",
            "workload.w.rate=5/s",
            "workload[0].timeout=1s",
            "services.a.queue=3",
        ]
        .map(|s| Override::parse(s).unwrap());
        apply(&mut t, &sets).unwrap();
        let json = t.to_json();
        assert_eq!(json["services"]["a"]["replicas"], 8);
        assert_eq!(json["services"]["a"]["queue"], 3);
        assert_eq!(json["workload"][0]["rate"], "5/s");
        assert_eq!(json["workload"][0]["timeout"], "1s");
    }

    #[test]
    fn missing_named_item_is_an_error_with_suggestion() {
        let mut t = tree("workload:\n  - {name: checkout, rate: 1/s}\n");
        let err = apply(
            &mut t,
            &[Override::parse("workload.chekout.rate=2/s").unwrap()],
        )
        .unwrap_err();
        assert!(err.message.contains("chekout"));
        assert_eq!(err.help.as_deref(), Some("did you mean 'checkout'?"));
    }

    #[test]
    fn misspelt_service_is_an_error_not_a_new_service() {
        let mut t = tree("services:\n  service-b: {replicas: {dc1: 1}, endpoints: {get: {}}}\n");
        for bad in [
            "services.serviceb.replicas=6",
            "services.service-b.replicas.dc9=2",
            "services.service-b.endpoints.gett.steps=[]",
        ] {
            let err = apply(&mut t, &[Override::parse(bad).unwrap()]).unwrap_err();
            assert!(err.message.starts_with("no "), "{}", err.message);
            assert!(err.help.is_some(), "{bad}: {err:?}");
        }
        assert_eq!(t.to_json()["services"].as_object().unwrap().len(), 1);
    }
}
