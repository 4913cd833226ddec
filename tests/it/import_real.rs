//! The readers on real traces: `tests/data/traces/`, recorded from the
//! application in `validation/app/` with the OpenTelemetry SDK and written by
//! three real exporters (see that folder's README). The same 3,113 traces in
//! OTLP JSON Lines, Zipkin v2 and Jaeger JSON, all gzip-compressed.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use meshsim::cli::traces::read_files;
use meshsim::import::{Format, Kind, NO_NAME, Spans};

const TRACES: usize = 3_113;
const SPANS: usize = 39_242;
/// SERVER, CLIENT, PRODUCER, CONSUMER, as the README counts them.
const BY_KIND: [(Kind, usize); 4] = [
    (Kind::Server, 16_508),
    (Kind::Client, 13_395),
    (Kind::Producer, 3_113),
    (Kind::Consumer, 6_226),
];

fn path(file: &str) -> String {
    format!("{}/tests/data/traces/{file}", env!("CARGO_MANIFEST_DIR"))
}

/// Each recorded file, read once for all the tests here.
fn recorded(file: &'static str) -> &'static Spans {
    static OTLP: OnceLock<Spans> = OnceLock::new();
    static ZIPKIN: OnceLock<Spans> = OnceLock::new();
    static JAEGER: OnceLock<Spans> = OnceLock::new();
    let cell = match file {
        "otlp.jsonl.gz" => &OTLP,
        "zipkin.json.gz" => &ZIPKIN,
        "jaeger.json.gz" => &JAEGER,
        _ => panic!("no recording {file}"),
    };
    cell.get_or_init(|| read_files(&[path(file)], Format::Auto).unwrap_or_else(|e| panic!("{e}")))
}

const FILES: [&str; 3] = ["otlp.jsonl.gz", "zipkin.json.gz", "jaeger.json.gz"];

/// A span with its names resolved: what every format must agree on.
#[derive(Debug, PartialEq)]
struct Seen<'a> {
    parent: Option<u64>,
    service: &'a str,
    name: &'a str,
    kind: Kind,
    start_ns: u64,
    end_ns: u64,
    http_status: u16,
    destination: &'a str,
    system: &'a str,
}

fn by_id(s: &Spans) -> BTreeMap<(u128, u64), Seen<'_>> {
    s.spans
        .iter()
        .map(|x| {
            let seen = Seen {
                parent: x.parent,
                service: s.names.get(x.service),
                name: s.names.get(x.name),
                kind: x.kind,
                start_ns: x.start_ns,
                end_ns: x.end_ns,
                http_status: x.http_status,
                destination: s.names.get(x.destination),
                system: s.names.get(x.system),
            };
            ((x.trace, x.id), seen)
        })
        .collect()
}

#[test]
fn every_recording_has_the_traces_and_spans_the_readme_counts() {
    for file in FILES {
        let s = recorded(file);
        assert!(s.notes.is_empty(), "{file}: {:?}", s.notes);
        let traces: BTreeSet<u128> = s.spans.iter().map(|x| x.trace).collect();
        assert_eq!((traces.len(), s.spans.len()), (TRACES, SPANS), "{file}");
        for (kind, n) in BY_KIND {
            let got = s.spans.iter().filter(|x| x.kind == kind).count();
            assert_eq!(got, n, "{file}: {kind:?} spans");
        }
        let roots: Vec<_> = s.spans.iter().filter(|x| x.parent.is_none()).collect();
        assert_eq!(roots.len(), TRACES, "{file}: one root a trace");
        assert!(
            roots
                .iter()
                .all(|r| s.names.get(r.service) == "gateway" && r.kind == Kind::Server),
            "{file}: the gateway's SERVER span is each trace's root"
        );
    }
}

#[test]
fn the_three_formats_give_the_same_spans() {
    let otlp = by_id(recorded("otlp.jsonl.gz"));
    for file in ["zipkin.json.gz", "jaeger.json.gz"] {
        let other = by_id(recorded(file));
        assert_eq!(other.len(), otlp.len(), "{file}");
        for (key, want) in &otlp {
            let got = other
                .get(key)
                .unwrap_or_else(|| panic!("{file}: no span {:x}/{:016x}", key.0, key.1));
            // Zipkin and Jaeger write µs: a start truncated, an end from a truncated duration.
            let near = |a: u64, b: u64| a.abs_diff(b) < 2_000;
            assert!(
                near(got.start_ns, want.start_ns) && near(got.end_ns, want.end_ns),
                "{file}: span {:016x}: {got:?} against OTLP's {want:?}",
                key.1
            );
            let got = Seen {
                start_ns: want.start_ns,
                end_ns: want.end_ns,
                ..*got
            };
            assert_eq!(&got, want, "{file}: span {:016x}", key.1);
        }
    }
}

#[test]
fn start_and_end_agree_within_one_microsecond() {
    let otlp = by_id(recorded("otlp.jsonl.gz"));
    for file in ["zipkin.json.gz", "jaeger.json.gz"] {
        let worst = by_id(recorded(file))
            .iter()
            .map(|(k, got)| {
                let want = &otlp[k];
                let start = got.start_ns.abs_diff(want.start_ns);
                let end = got.end_ns.abs_diff(want.end_ns);
                start.max(end)
            })
            .max();
        assert!(worst < Some(1_000), "{file}: worst {worst:?} ns");
    }
}

#[test]
fn the_instrumentations_quirks_come_through_as_data() {
    for file in FILES {
        let s = recorded(file);
        let mut names: BTreeMap<(Kind, &str, &str), usize> = BTreeMap::new();
        for x in &s.spans {
            let dest = if x.destination == NO_NAME {
                "-"
            } else {
                s.names.get(x.destination)
            };
            *names
                .entry((x.kind, s.names.get(x.name), dest))
                .or_default() += 1;
        }
        // CLIENT spans are named just "GET"; the callee is their child's service.
        assert_eq!(
            names.get(&(Kind::Client, "GET", "-")),
            Some(&13_395),
            "{file}"
        );
        // aio-pika writes "exchange, routing key", the key empty for a fanout.
        assert_eq!(
            names.get(&(Kind::Producer, "orders, send", "orders,")),
            Some(&3_113),
            "{file}: {names:?}"
        );
        assert_eq!(
            names.get(&(Kind::Consumer, "orders receive", "orders")),
            Some(&6_226),
            "{file}: {names:?}"
        );
        // SERVER spans are named by http.route.
        let routes: BTreeSet<&str> = names
            .keys()
            .filter(|k| k.0 == Kind::Server)
            .map(|k| k.1)
            .collect();
        let want = [
            "/api/checkout",
            "/checkout",
            "/quote",
            "/stock",
            "/suggest",
            "/verify",
        ];
        assert_eq!(routes, BTreeSet::from(want), "{file}");
        let rabbit = s.names.find("rabbitmq").expect("messaging.system");
        assert!(
            s.spans
                .iter()
                .filter(|x| matches!(x.kind, Kind::Producer | Kind::Consumer))
                .all(|x| x.system == rabbit),
            "{file}"
        );
        assert!(
            s.spans
                .iter()
                .filter(|x| matches!(x.kind, Kind::Server | Kind::Client))
                .all(|x| x.http_status == 200),
            "{file}: every answer was 200"
        );
    }
}

#[test]
fn each_producer_span_has_one_consumer_child_per_queue() {
    for file in FILES {
        let s = recorded(file);
        let mut consumers: BTreeMap<(u128, u64), Vec<&str>> = BTreeMap::new();
        for x in s.spans.iter().filter(|x| x.kind == Kind::Consumer) {
            let parent = x.parent.expect("a consumer's parent is its producer");
            consumers
                .entry((x.trace, parent))
                .or_default()
                .push(s.names.get(x.service));
        }
        let producers: Vec<_> = s
            .spans
            .iter()
            .filter(|x| x.kind == Kind::Producer)
            .collect();
        assert_eq!(consumers.len(), producers.len(), "{file}");
        for p in producers {
            let mut got = consumers[&(p.trace, p.id)].clone();
            got.sort_unstable();
            assert_eq!(got, ["email", "shipping"], "{file}");
        }
    }
}

#[test]
fn a_gzipped_file_reads_as_its_text_does() {
    use std::io::Read;
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path("zipkin.json.gz")).unwrap())
        .read_to_end(&mut text)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("zipkin.json");
    std::fs::write(&plain, &text).unwrap();
    let from_text = read_files(&[&plain], Format::Zipkin).unwrap();
    assert_eq!(
        format!("{:?}", by_id(&from_text)),
        format!("{:?}", by_id(recorded("zipkin.json.gz")))
    );
}
