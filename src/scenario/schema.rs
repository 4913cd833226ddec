//! The JSON Schema (draft-07) of the scenario format, as strict as draft-07 can say.
//!
//! The structs of [`super::raw`] derive their schema; this module gives the
//! schema of the values kept as written (durations, rates, fractions,
//! distributions, replica counts), the names, and the transforms that say what
//! a derived struct cannot: a step or a failure is exactly one kind. Patterns
//! accept what [`super::units`] accepts; ranges are those [`super::resolve`]
//! enforces. What only resolution can know (does a call name an endpoint that
//! exists?) is left to `meshsim check`, and so are a few odd spellings it reads
//! that the patterns refuse (`-0s`, a fraction written as the string `"1e-1"`).

use std::borrow::Cow;
use std::marker::PhantomData;

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::{Map, Value, json};

use super::dist::MAX_EMPIRICAL;
use super::raw::{
    Acks, Bandwidth, CallSize, Cores, Distribution, Duration, Fraction, Rate, RawScenario,
    Replicas, SizeDistribution, Users,
};
use super::resolve::limits;

/// The schema of the scenario format, pretty-printed.
pub fn json() -> String {
    let mut settings = SchemaSettings::draft07();
    // schemars marks integer widths with formats (uint32, double) that draft-07
    // does not define and strict validators refuse; the ranges say it instead.
    settings
        .transforms
        .push(Box::new(RecursiveTransform(|s: &mut Schema| {
            s.remove("format");
        })));
    let schema = settings
        .into_generator()
        .into_root_schema_for::<RawScenario>();
    serde_json::to_string_pretty(&schema).expect("a schema always serialises") + "\n"
}

/// A decimal number as `str::parse::<f64>` reads it, without exponent.
const NUMBER: &str = r"\+?([0-9]+(\.[0-9]*)?|\.[0-9]+)";
/// A decimal number above zero, without a sign.
const ABOVE_ZERO: &str = r"(0*[1-9][0-9]*(\.[0-9]*)?|0*\.0*[1-9][0-9]*)";
/// The units of [`super::units`].
const UNIT: &str = "(ns|us|µs|μs|ms|s|m|min|h)";
/// The size units of [`super::bytes`].
const SIZE_UNIT: &str = "(B|kB|KB|MB|GB|TB|KiB|MiB|GiB|TiB)";
/// Rust's `char::is_control`: C0, DEL and C1.
const CONTROL: &str = r"\u0000-\u001f\u007f-\u009f";

/// Gives a type a fixed schema.
macro_rules! fixed_schema {
    ($name:ident, $schema:expr) => {
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                Schema::try_from($schema).expect("an object")
            }
        }
    };
}

fixed_schema!(
    Duration,
    json!({
        "description": "A duration with a unit: 250us, 5ms, 1.5s, 2m, 1h. A bare number is an error.",
        "type": "string",
        "pattern": format!(r"^\s*{NUMBER}\s*{UNIT}\s*$"),
    })
);

/// A duration above zero (a run's length, a period, a distribution's mean).
pub struct PositiveDuration;
fixed_schema!(
    PositiveDuration,
    json!({
        "description": "A duration above zero, with a unit: 250us, 5ms, 1.5s, 2m, 1h.",
        "type": "string",
        "pattern": format!(r"^\s*\+?{ABOVE_ZERO}\s*{UNIT}\s*$"),
    })
);

fixed_schema!(
    Rate,
    json!({
        "description": "A rate: 10000/s, 600/m, 5/100ms.",
        "type": "string",
        // The count may have an exponent (1e4/s); the window has no sign (5/100ms).
        "pattern": format!(r"^\s*{NUMBER}([eE][+-]?[0-9]+)?\s*/\s*{ABOVE_ZERO}?\s*{UNIT}\s*$"),
    })
);

fixed_schema!(
    Fraction,
    json!({
        "description": "A fraction: 99.9% or 0.999, from 0 to 100%.",
        "anyOf": [
            {"type": "number", "minimum": 0, "maximum": 1},
            {"type": "string", "pattern": r"^\s*\+?(0*100(\.0*)?|0*[0-9]{1,2}(\.[0-9]*)?|\.[0-9]+)\s*%\s*$"},
            {"type": "string", "pattern": r"^\s*\+?(0*1(\.0*)?|0+(\.[0-9]*)?|0*\.[0-9]+)\s*$"}
        ]
    })
);

fixed_schema!(
    Replicas,
    json!({
        "description": "A replica count (all in the first data center) or a count per data center, at least one in all.",
        "anyOf": [
            {"type": "integer", "minimum": 1, "maximum": limits::REPLICAS},
            {
                "type": "object",
                "additionalProperties": {"type": "integer", "minimum": 0, "maximum": limits::REPLICAS},
                "not": {"type": "object", "additionalProperties": {"const": 0}}
            }
        ]
    })
);

fixed_schema!(
    Cores,
    json!({
        "description": "CPU cores per replica, shared by its runnable work: 2, 0.5, or 500m (thousandths of a core).",
        "anyOf": [
            {"type": "number", "exclusiveMinimum": 0, "maximum": limits::CORES},
            {"type": "string", "pattern": format!(r"^\s*(\+?{ABOVE_ZERO}|0*[1-9][0-9]*\s*m)\s*$")}
        ]
    })
);

fixed_schema!(
    Users,
    json!({
        "description": "A number of users, at least one.",
        "type": "integer",
        "minimum": 1,
        "maximum": limits::USERS,
    })
);

/// A ramp's end: a rate (open workload) or a number of users, maybe none (closed).
pub struct RampTo;
impl JsonSchema for RampTo {
    fn schema_name() -> Cow<'static, str> {
        "RampTo".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A rate (10000/s) in an open workload; a number of users (200) in a closed one.",
            "anyOf": [
                g.subschema_for::<Rate>(),
                {"type": "integer", "minimum": 0, "maximum": limits::USERS}
            ]
        })
    }
}

fixed_schema!(
    Acks,
    json!({
        "description": "0 (do not wait), 1 (the leader appended) or all (min_insync_replicas appended).",
        "enum": [0, 1, "all"]
    })
);

/// A name of the user's (service, endpoint, topic, workload, consumer group).
pub struct Name;
fixed_schema!(
    Name,
    json!({
        "description": "1 to 100 characters, without dots, control characters or spaces at either end.",
        "type": "string",
        "minLength": 1,
        "maxLength": 100,
        "pattern": format!(r"^[^.\s{CONTROL}]([^.{CONTROL}]*[^.\s{CONTROL}])?$"),
    })
);

/// `service.endpoint`.
pub struct EndpointRef;
fixed_schema!(
    EndpointRef,
    json!({
        "description": "An endpoint as service.endpoint, like inventory.reserve.",
        "type": "string",
        "pattern": r"^[^.]+\.[^.]+$",
    })
);

/// A map keyed by the user's names.
pub struct NameMap<T>(PhantomData<T>);

impl<T: JsonSchema> JsonSchema for NameMap<T> {
    fn schema_name() -> Cow<'static, str> {
        format!("NameMap_{}", T::schema_name()).into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "propertyNames": g.subschema_for::<Name>(),
            "additionalProperties": g.subschema_for::<T>(),
        })
    }
}

impl JsonSchema for Distribution {
    fn schema_name() -> Cow<'static, str> {
        "Distribution".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let duration = g.subschema_for::<Duration>().to_value();
        let positive = g.subschema_for::<PositiveDuration>().to_value();
        let itself = g.subschema_for::<Distribution>().to_value();
        distribution(
            "A distribution of durations: a bare duration (constant), or one family with its parameters",
            [duration, positive, itself],
        )
    }
}

/// A size in bytes with a unit.
pub struct Size;
fixed_schema!(
    Size,
    json!({
        "description": "A size with a unit: 512B, 2KB (2,000 bytes), 1.5MB, 1GB, or 64KiB, 1MiB (1,048,576 bytes). A bare number is an error.",
        "type": "string",
        "pattern": format!(r"^\s*{NUMBER}\s*{SIZE_UNIT}\s*$"),
    })
);

/// A size above zero (a distribution's mean or scale).
pub struct PositiveSize;
fixed_schema!(
    PositiveSize,
    json!({
        "description": "A size above zero, with a unit: 512B, 2KB, 1MiB.",
        "type": "string",
        "pattern": format!(r"^\s*\+?{ABOVE_ZERO}\s*{SIZE_UNIT}\s*$"),
    })
);

impl JsonSchema for SizeDistribution {
    fn schema_name() -> Cow<'static, str> {
        "SizeDistribution".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let size = g.subschema_for::<Size>().to_value();
        let positive = g.subschema_for::<PositiveSize>().to_value();
        let itself = g.subschema_for::<SizeDistribution>().to_value();
        distribution(
            "A distribution of sizes in bytes: a bare size (constant), or one family with its parameters (sizes where a distribution of durations has durations)",
            [size, positive, itself],
        )
    }
}

impl JsonSchema for CallSize {
    fn schema_name() -> Cow<'static, str> {
        "CallSize".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let dist = g.subschema_for::<SizeDistribution>().to_value();
        json_schema!({
            "description": "A message's size: a distribution of sizes (the request's; the answer has none), or {request, response}, each a distribution of sizes.",
            "oneOf": [
                dist,
                {
                    "type": "object",
                    "properties": {"request": dist, "response": dist},
                    "minProperties": 1,
                    "additionalProperties": false
                }
            ]
        })
    }
}

fixed_schema!(
    Bandwidth,
    json!({
        "description": "A bandwidth above zero: bits per second (100Mbit/s, 1Gbit/s; also bit/s, kbit/s, Tbit/s) or bytes per second (10MB/s, 1GiB/s).",
        "type": "string",
        "pattern": format!(r"^\s*\+?{ABOVE_ZERO}\s*(bit/s|kbit/s|Kbit/s|Mbit/s|Gbit/s|Tbit/s|{SIZE_UNIT}/s)\s*$"),
    })
);

/// The schema of a distribution, given its scalar, its positive scalar and itself.
fn distribution(what: &str, [scalar, positive, itself]: [Value; 3]) -> Schema {
    let number = json!({"type": "number", "exclusiveMinimum": 0});
    let scale_shape = keys(&[("scale", &positive), ("shape", &number)]);
    let samples = json!({"oneOf": [
        {"type": "array", "minItems": 1, "maxItems": MAX_EMPIRICAL, "items": scalar},
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1000,
            "propertyNames": {"pattern": r"^p0*(100(\.0*)?|[0-9]{1,2}(\.[0-9]*)?|\.[0-9]+)$"},
            "additionalProperties": scalar
        }
    ]});
    let families = [
        ("constant", scalar.clone()),
        ("exponential", keys(&[("mean", &positive)])),
        ("uniform", keys(&[("min", &scalar), ("max", &scalar)])),
        ("normal", keys(&[("mean", &positive), ("stddev", &scalar)])),
        (
            "lognormal",
            json!({"oneOf": [
                keys(&[("median", &positive), ("p99", &positive)]),
                keys(&[("mu", &json!({"type": "number"})), ("sigma", &number)])
            ]}),
        ),
        ("gamma", keys(&[("shape", &number), ("mean", &positive)])),
        ("pareto", scale_shape.clone()),
        ("weibull", scale_shape),
        (
            "mixture",
            json!({
                "type": "array",
                "minItems": 1,
                "maxItems": 64,
                "items": keys(&[("weight", &number), ("dist", &itself)])
            }),
        ),
        ("empirical", samples.clone()),
        ("percentiles", samples),
    ];
    let mut one_of = vec![scalar];
    one_of.extend(
        families
            .into_iter()
            .map(|(name, params)| keys(&[(name, &params)])),
    );
    json_schema!({
        "description": format!("{what}: {{constant}}, {{exponential: {{mean}}}}, {{uniform: {{min, max}}}}, {{normal: {{mean, stddev}}}}, {{lognormal: {{median, p99}}}} or {{lognormal: {{mu, sigma}}}}, {{gamma: {{shape, mean}}}}, {{pareto: {{scale, shape}}}}, {{weibull: {{scale, shape}}}}, {{mixture: [{{weight, dist}}]}}, {{empirical: [samples]}} or {{empirical: {{p50: .., p99: ..}}}}."),
        "oneOf": one_of,
    })
}

/// `mtbf` or `mttr`: a duration above zero (an exponential's mean) or a
/// distribution written as a map.
pub struct RandomDuration;

impl JsonSchema for RandomDuration {
    fn schema_name() -> Cow<'static, str> {
        "RandomDuration".into()
    }
    fn json_schema(g: &mut SchemaGenerator) -> Schema {
        let positive = g.subschema_for::<PositiveDuration>().to_value();
        let dist = g.subschema_for::<Distribution>().to_value();
        json_schema!({
            "description": "A duration above zero, the mean of an exponential (10m), or a distribution written as a map ({constant: 10m}, {lognormal: {median: 20s, p99: 3m}}).",
            "anyOf": [positive, {"allOf": [{"type": "object"}, dist]}],
        })
    }
}

/// An object with exactly these keys, each required.
fn keys(fields: &[(&str, &Value)]) -> Value {
    let properties: Map<String, Value> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), (*v).clone()))
        .collect();
    let required: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// One kind of a struct that must be exactly one kind: its key, the keys it
/// also needs, and the keys it may have.
struct Kind {
    key: &'static str,
    needs: &'static [&'static str],
    may: &'static [&'static str],
}

const CALL_KEYS: &[&str] = &[
    "timeout",
    "deadline",
    "fanout",
    "hedge",
    "retry",
    "circuit_breaker",
    "propagate_deadline",
    "probability",
    "size",
];
/// A step other than a branch may be taken with a probability.
const MAYBE: &[&str] = &["probability"];

/// A step is exactly one of work, call, parallel (of calls) or publish; only a
/// call has a call policy.
pub(super) fn step_kinds(schema: &mut Schema) {
    let kind = |key, may| Kind {
        key,
        needs: &[],
        may,
    };
    exactly_one_kind(
        schema,
        &[
            kind("work", MAYBE),
            kind("call", CALL_KEYS),
            kind("parallel", MAYBE),
            kind("publish", &["probability", "size"]),
            kind("branch", &[]),
        ],
    );
    // A publish's size is one distribution (a message has no answer).
    let size = json!({"$ref": "#/definitions/SizeDistribution"});
    schema
        .pointer_mut("/oneOf/3/properties")
        .and_then(Value::as_object_mut)
        .expect("the publish kind")
        .insert("size".into(), size);
    // parallel: a non-empty list of steps that are calls.
    let parallel = schema
        .pointer_mut("/oneOf/2/properties/parallel")
        .and_then(Value::as_object_mut)
        .expect("the parallel kind");
    let step = parallel.remove("items").expect("parallel lists steps");
    parallel.insert("minItems".into(), json!(1));
    parallel.insert(
        "items".into(),
        json!({"allOf": [step, {"type": "object", "properties": {"call": {"type": "string"}}, "required": ["call"], "not": {"properties": {"probability": true}, "required": ["probability"]}}]}),
    );
}

/// A failure is exactly one kind, in a window (`at`, `for`) or at random
/// (`mtbf`, `mttr`), with the keys of that kind only; `random` is a crash.
pub(super) fn failure_kinds(schema: &mut Schema) {
    let kind = |key, needs, may| Kind { key, needs, may };
    const REPLICAS: &[&str] = &["replicas"];
    exactly_one_kind(
        schema,
        &[
            kind("crash", &["at", "for"], REPLICAS),
            kind("crash", &["mtbf", "mttr"], REPLICAS),
            kind("random", &["mtbf", "mttr"], REPLICAS),
            kind("slow", &["at", "for", "factor"], &[]),
            kind("slow", &["mtbf", "mttr", "factor"], &[]),
            kind("errors", &["at", "for", "rate"], &[]),
            kind("errors", &["mtbf", "mttr", "rate"], &[]),
            kind("latency", &["at", "for", "extra"], &[]),
            kind("latency", &["mtbf", "mttr", "extra"], &[]),
            kind("partition", &["at", "for"], &[]),
            kind("partition", &["mtbf", "mttr"], &[]),
            kind("datacenter_down", &["at", "for"], &[]),
            kind("datacenter_down", &["mtbf", "mttr"], &[]),
            kind("broker_node", &["at", "for"], &[]),
            kind("broker_node", &["mtbf", "mttr"], &[]),
        ],
    );
    // Name the random variants apart from the windows of the same kind.
    let variants = schema.get_mut("oneOf").and_then(Value::as_array_mut);
    for v in variants.into_iter().flatten() {
        let random = v["required"]
            .as_array()
            .is_some_and(|r| r.contains(&json!("mtbf")));
        if random && v["title"] != "random" {
            let title = format!("{} (random)", v["title"].as_str().unwrap_or_default());
            v["title"] = json!(title);
        }
    }
}

/// Rewrites a derived struct schema as a oneOf of its kinds.
fn exactly_one_kind(schema: &mut Schema, kinds: &[Kind]) {
    let Some(Value::Object(properties)) = schema.remove("properties") else {
        panic!("a struct schema has properties");
    };
    schema.remove("additionalProperties");
    let property = |k: &str| properties.get(k).cloned().expect("a field of the struct");
    let variants: Vec<Value> = kinds
        .iter()
        .map(|kind| {
            let required: Vec<&str> = [kind.key].iter().chain(kind.needs).copied().collect();
            let mut props: Map<String, Value> = required
                .iter()
                .map(|k| (k.to_string(), non_null(property(k))))
                .collect();
            props.extend(kind.may.iter().map(|k| (k.to_string(), property(k))));
            json!({
                "type": "object",
                "title": kind.key,
                "properties": props,
                "required": required,
                "additionalProperties": false,
            })
        })
        .collect();
    schema.insert("oneOf".into(), Value::Array(variants));
}

/// The schema of an `Option` field without its `null`: a key that must be given.
fn non_null(mut v: Value) -> Value {
    let Some(obj) = v.as_object_mut() else {
        return v;
    };
    if let Some(Value::Array(types)) = obj.get_mut("type") {
        types.retain(|t| t != "null");
        if let [one] = types.as_slice() {
            let one = one.clone();
            obj.insert("type".into(), one);
        }
    }
    if let Some(Value::Array(options)) = obj.remove("anyOf") {
        let mut options: Vec<Value> = options
            .into_iter()
            .filter(|o| *o != json!({"type": "null"}))
            .collect();
        match options.pop() {
            Some(Value::Object(only)) if options.is_empty() => obj.extend(only),
            Some(last) => {
                options.push(last);
                obj.insert("anyOf".into(), Value::Array(options));
            }
            None => {}
        }
    }
    v
}

/// A ramp block (or none) whose `to` has this JSON type.
fn ramp_to(kind: &str) -> Value {
    json!({"anyOf": [
        {"type": "null"},
        {"type": "object", "properties": {"to": {"type": kind}}}
    ]})
}

/// A workload is open (`rate`) or closed (`users` and `think`), never both. In an
/// open one, `arrival: ramp` goes with a `ramp` block and only then (`bursty`,
/// `schedule`, `replay` alike; a replay has no `rate`); a closed one has no arrival
/// process and may ramp its users.
pub(super) fn arrival_blocks(schema: &mut Schema) {
    let mut rules: Vec<Value> = ["ramp", "bursty", "schedule", "replay"]
        .iter()
        .map(|k| {
            json!({
                "if": {"properties": {"arrival": {"const": k}}, "required": ["arrival"]},
                "then": {"properties": {*k: {"not": {"type": "null"}}}, "required": [k]},
                "else": {"properties": {*k: {"type": "null"}}}
            })
        })
        .collect();
    rules.push(json!({
        "if": {"properties": {"arrival": {"const": "replay"}}, "required": ["arrival"]},
        "then": {"properties": {"rate": false}},
        "else": {"required": ["rate"]}
    }));
    let closed = json!({
        "required": ["users", "think"],
        "properties": {
            "users": true, "think": true,
            "rate": false, "arrival": false, "bursty": false, "schedule": false,
            "replay": false, "ramp": ramp_to("integer")
        }
    });
    let open = json!({
        "properties": {
            "rate": true, "think": false,
            "ramp": ramp_to("string")
        },
        "allOf": rules
    });
    schema.insert(
        "if".into(),
        json!({"properties": {"users": {"not": {"type": "null"}}}, "required": ["users"]}),
    );
    schema.insert("then".into(), closed);
    schema.insert("else".into(), open);
}
