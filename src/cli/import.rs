//! `meshsim import FILE...`: traces in, a scenario out. Reads the files
//! (`traces::read_files`), prints what was read and the notes to standard
//! error, infers the graph (`import::infer`), writes the scenario text, loads
//! it through the scenario loader (so what is written always loads), then
//! writes it to `--out` atomically (a temporary file renamed) or to standard
//! output. Values the traces cannot give may be supplied with
//! `--set services.X.KEY=V` and `--map FILE`; a service name the traces do not
//! have is an error with the closest name.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::{EXIT_OK, traces};
use crate::import::{self, Format, Graph, INFERRED_CONSUMER_KEYS, INFERRED_KEYS, Options};
use crate::scenario::error::closest;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// Trace files: OTLP JSON (or JSON Lines), Jaeger JSON, Zipkin v2 JSON; gzip or not.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The files' format (auto: each file's own, from its first bytes).
    #[arg(long, default_value = "auto")]
    pub format: Format,
    /// Where to write the scenario (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The sampling ratio of traces that do not say theirs (0 < R ≤ 1): rates are scaled by 1/R.
    #[arg(long, default_value_t = 1.0, value_name = "R")]
    pub sample_rate: f64,
    /// A value the traces cannot give: services.X.replicas=2 (any key of a service
    /// but its endpoints and consumers), or a consumer's: services.X.consumes.TOPIC.prefetch=8.
    #[arg(long = "set", value_name = "services.X.KEY=VALUE")]
    pub set: Vec<String>,
    /// A YAML file of such values: `services: {X: {replicas: 2, concurrency: 8, cores: 1,
    /// consumes: {TOPIC: {prefetch: 8}}}}`.
    #[arg(long, value_name = "FILE")]
    pub map: Option<PathBuf>,
}

type Supplied = IndexMap<String, IndexMap<String, (String, String)>>;

/// Runs the import; Err is a message for standard error and exit 2.
pub fn import(args: &ImportArgs) -> Result<u8, String> {
    if !(args.sample_rate > 0.0 && args.sample_rate <= 1.0) {
        return Err(format!(
            "error: --sample-rate {}: expected a ratio above 0 and at most 1 (0.1 = one trace in ten kept)\n",
            args.sample_rate
        ));
    }
    let mut supplied = Supplied::new();
    if let Some(map) = &args.map {
        read_map(map, &mut supplied)?;
    }
    for s in &args.set {
        parse_set(s, &mut supplied)?;
    }
    let spans =
        traces::read_files(&args.files, args.format).map_err(|e| format!("error: {e}\n"))?;
    let files = args
        .files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>();
    if spans.spans.is_empty() {
        return Err(format!(
            "error: {}: no spans found\n  expected: OTLP, Jaeger or Zipkin JSON with at least one span\n  help: is this the export you meant? (--format says which reader to use)\n",
            files.join(", ")
        ));
    }
    let summary = import::summary(&spans);
    eprint!("{summary}");
    let graph = import::infer(&spans);
    if graph.handlers.is_empty() {
        return Err(format!(
            "error: {}: no SERVER or CONSUMER span among {} spans: nothing to model\n  expected: spans of kind SERVER (2) or CONSUMER (5)\n  help: instrument the services' servers, or check the spans' kind\n",
            files.join(", "),
            spans.spans.len()
        ));
    }
    check_services(&graph, &supplied)?;
    let options = Options {
        name: name_of(args.out.as_deref()),
        header: header(&files, &summary),
        sample_rate: args.sample_rate,
        supplied,
    };
    let text = import::scenario(&graph, &options);
    let source = args
        .out
        .as_ref()
        .map_or("the imported scenario".into(), |p| p.display().to_string());
    let loaded = crate::scenario::load_str(&text, &source, &[]).map_err(|e| {
        format!(
            "{}the imported scenario does not load (a value supplied with --set or --map, or a bug in meshsim import); nothing was written\n",
            e.render()
        )
    })?;
    eprint!("{}", crate::scenario::render_warnings(&loaded, &text));
    write(args.out.as_deref(), &text, &loaded)
}

/// The scenario to `out` (atomically) or to standard output.
fn write(out: Option<&Path>, text: &str, loaded: &crate::scenario::Scenario) -> Result<u8, String> {
    match out {
        Some(path) => {
            super::output::write_atomic(path, text.as_bytes())?;
            eprintln!(
                "wrote {}: {}, {}, {}",
                path.display(),
                super::count(loaded.services.len(), "service"),
                super::count(loaded.endpoints.len(), "endpoint"),
                super::count(loaded.workloads.len(), "workload")
            );
        }
        None => print!("{text}"),
    }
    Ok(EXIT_OK)
}

/// The scenario's name: `--out`'s file stem, else "imported".
fn name_of(out: Option<&Path>) -> String {
    let stem = out.and_then(|p| p.file_stem()).map(|s| {
        s.to_string_lossy()
            .chars()
            .filter(|c| !c.is_control())
            .collect::<String>()
    });
    match stem {
        Some(s) if !s.trim().is_empty() => s.trim().to_string(),
        _ => "imported".into(),
    }
}

fn header(files: &[String], summary: &str) -> Vec<String> {
    let command: Vec<String> = std::env::args().skip(1).collect();
    let mut lines = vec![
        format!("command: meshsim {}", command.join(" ")),
        format!("read: {}", files.join(", ")),
    ];
    lines.extend(summary.lines().map(|l| format!("  {l}")));
    lines
}

/// `services.X.KEY=VALUE` into `supplied`.
fn parse_set(text: &str, supplied: &mut Supplied) -> Result<(), String> {
    let bad = |why: &str| {
        format!(
            "error: --set {text}: {why}\n  expected: services.SERVICE.KEY=VALUE, like services.orders.replicas=2\n"
        )
    };
    let (path, value) = text.split_once('=').ok_or_else(|| bad("no '='"))?;
    let path = path.trim();
    let (service, key) = path
        .strip_prefix("services.")
        .and_then(|rest| rest.split_once('.'))
        .ok_or_else(|| bad("import takes a service's own keys only"))?;
    let own = !key.contains('.') || key.starts_with("consumes.");
    if service.is_empty() || key.is_empty() || !own {
        return Err(bad(
            "import takes a service's own keys only, or a consumer's as services.SERVICE.consumes.TOPIC.KEY",
        ));
    }
    add(
        supplied,
        service,
        key,
        value.trim(),
        &format!("--set {text}"),
    )
}

fn add(
    supplied: &mut Supplied,
    service: &str,
    key: &str,
    value: &str,
    from: &str,
) -> Result<(), String> {
    if INFERRED_KEYS.contains(&key) {
        return Err(format!(
            "error: {from}: '{key}' is what the traces give; supply what they cannot (replicas, concurrency, cores, queue, ...; a consumer's prefetch as consumes.TOPIC.prefetch)\n"
        ));
    }
    if key.starts_with("consumes.") {
        match import::consumer_key(key) {
            Some((topic, k)) if !topic.is_empty() && !k.is_empty() => {
                if INFERRED_CONSUMER_KEYS.contains(&k) {
                    return Err(format!(
                        "error: {from}: a consumer's '{k}' is what the traces give; supply what they cannot (prefetch, retry, dead_letter, ...)\n"
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "error: {from}: expected consumes.TOPIC.KEY, like consumes.orders.prefetch\n"
                ));
            }
        }
    }
    if value.is_empty() || value.contains('\n') {
        return Err(format!(
            "error: {from}: expected one YAML value on one line\n"
        ));
    }
    supplied
        .entry(service.to_string())
        .or_default()
        .insert(key.to_string(), (value.to_string(), from.to_string()));
    Ok(())
}

/// `--map FILE`: `services: {X: {KEY: VALUE, ...}}`.
fn read_map(path: &Path, supplied: &mut Supplied) -> Result<(), String> {
    let (text, source) = super::read_text(path)?;
    let tree = crate::scenario::node::parse(&text, &source)
        .map_err(|p| p.render(Some(&text)))?
        .to_json();
    let bad = |why: String| {
        format!(
            "error: {source}: {why}\n  expected: services: {{SERVICE: {{replicas: 2, concurrency: 8, cores: 1}}}}\n"
        )
    };
    let serde_json::Value::Object(top) = &tree else {
        return Err(bad("not a mapping".into()));
    };
    if let Some(k) = top.keys().find(|k| *k != "services") {
        return Err(bad(format!("unknown key '{k}'")));
    }
    let Some(serde_json::Value::Object(services)) = top.get("services") else {
        return Err(bad("no 'services' mapping".into()));
    };
    for (service, keys) in services {
        let serde_json::Value::Object(keys) = keys else {
            return Err(bad(format!("services.{service} is not a mapping")));
        };
        for (key, value) in keys {
            let leaves = if key == "consumes" {
                consumer_leaves(value).ok_or_else(|| {
                    bad(format!(
                        "services.{service}.consumes: expected {{TOPIC: {{prefetch: 8}}}}"
                    ))
                })?
            } else {
                vec![(key.clone(), value)]
            };
            for (key, value) in leaves {
                let v = serde_json::to_string(value).unwrap_or_default();
                let from = format!("{source}: services.{service}.{key}");
                add(supplied, service, &key, &v, &from)?;
            }
        }
    }
    Ok(())
}

/// `consumes: {TOPIC: {KEY: VALUE}}` as (`consumes.TOPIC.KEY`, VALUE); None if not that shape.
fn consumer_leaves(topics: &serde_json::Value) -> Option<Vec<(String, &serde_json::Value)>> {
    let serde_json::Value::Object(topics) = topics else {
        return None;
    };
    let mut leaves = Vec::new();
    for (topic, keys) in topics {
        let serde_json::Value::Object(keys) = keys else {
            return None;
        };
        leaves.extend(
            keys.iter()
                .map(|(k, v)| (format!("consumes.{topic}.{k}"), v)),
        );
    }
    Some(leaves)
}

/// Every supplied service must be one the traces have.
fn check_services(g: &Graph, supplied: &Supplied) -> Result<(), String> {
    for (service, keys) in supplied {
        if g.services.iter().any(|(s, _)| s == service) {
            check_topics(g, service, keys)?;
            continue;
        }
        let from = keys.values().next().map_or("", |v| v.1.as_str());
        let names: Vec<&str> = g.services.iter().map(|(s, _)| s.as_str()).collect();
        return Err(unknown(from, "service", service, "in the traces", &names));
    }
    Ok(())
}

/// Every `consumes.TOPIC.KEY` supplied for `service` must name a topic it consumes.
fn check_topics(
    g: &Graph,
    service: &str,
    keys: &IndexMap<String, (String, String)>,
) -> Result<(), String> {
    let topics: Vec<&str> = g
        .handlers
        .iter()
        .filter(|h| h.consumer && h.service == service)
        .map(|h| h.name.as_str())
        .collect();
    for (key, (_, from)) in keys {
        match import::consumer_key(key) {
            Some((topic, _)) if !topics.contains(&topic) => {
                let what = format!("consumed by '{service}' in the traces");
                return Err(unknown(from, "topic", topic, &what, &topics));
            }
            _ => {}
        }
    }
    Ok(())
}

/// "no WHAT 'NAME' WHERE", the names there are and the closest of them.
fn unknown(from: &str, what: &str, name: &str, place: &str, names: &[&str]) -> String {
    let hint = match closest(name, names.iter().copied()) {
        Some(c) => format!("  help: did you mean '{c}'?\n"),
        None => String::new(),
    };
    let expected = if names.is_empty() {
        "none: it consumes no topic".to_string()
    } else {
        format!("one of {}", names.join(", "))
    };
    format!("error: {from}: no {what} '{name}' {place}\n  expected: {expected}\n{hint}")
}
