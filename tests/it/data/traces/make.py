#!/usr/bin/env python3
"""Writes the reader fixtures: the same seven spans as OTLP/JSON (one document
and JSON Lines), Jaeger JSON (the query API's form and the UI's download) and
Zipkin v2 JSON. Run from this folder: python3 make.py"""
import copy
import json

T = 1_700_000_000_000_000  # µs
A = "0af7651916cd43dd8448eb211c80319c"
B = "5b8efff798038103d269b633813fc60c"

# id, trace, parent, service, name, kind, start µs, end µs, attributes, status, link
SPANS = [
    ("b7ad6b7169203331", A, "", "gateway", "GET /checkout", "server", 0, 45000,
     {"http.route": "/checkout", "http.status_code": 200, "sampler.type": "probabilistic",
      "sampler.param": 0.5}, "ok", None),
    ("00f067aa0ba902b7", A, "b7ad6b7169203331", "gateway", "POST", "client", 1000, 31000,
     {"http.status_code": 500}, "unset", None),
    ("53995c3f42cd8ad8", A, "b7ad6b7169203331", "gateway", "render", "internal", 32000, 44000,
     {}, "unset", None),
    ("1d7a9bd4b37a5e32", A, "00f067aa0ba902b7", "orders", "POST /orders", "server", 2000, 30000,
     {"http.route": "/orders", "http.status_code": 500}, "error", None),
    ("4c3e0b7a1fa8e2d1", A, "1d7a9bd4b37a5e32", "orders", "orders publish", "producer", 20000, 21000,
     {"messaging.system": "kafka", "messaging.destination.name": "orders"}, "unset", None),
    ("9f2c7e3d5a1b4c6e", A, "4c3e0b7a1fa8e2d1", "billing", "orders process", "consumer", 25000, 40000,
     {"messaging.system": "kafka", "messaging.destination.name": "orders"}, "unset", None),
    ("2e8a6c4b0d9f1357", B, "", "emails", "orders process", "consumer", 26000, 36000,
     {"messaging.system": "kafka", "messaging.destination.name": "orders"}, "unset",
     (A, "4c3e0b7a1fa8e2d1")),
]
KINDS = ["internal", "server", "client", "producer", "consumer"]
SERVICES = ["gateway", "orders", "billing", "emails"]


def otlp_value(v, ints_as_numbers):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": v if ints_as_numbers else str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    return {"stringValue": v}


def otlp_span(s, variant):
    sid, trace, parent, _, name, kind, start, end, attrs, status, link = s
    ns = lambda us: (T + us) * 1000
    span = {
        "traceId": trace,
        "spanId": sid,
        "parentSpanId": parent,
        "flags": 257,
        "name": name,
        # The document writes kinds as integers (1 internal … 5 consumer), the lines as enum names.
        "kind": KINDS.index(kind) + 1 if variant == "doc" else "SPAN_KIND_" + kind.upper(),
        "startTimeUnixNano": str(ns(start)) if variant == "doc" else ns(start),
        "endTimeUnixNano": str(ns(end)) if variant == "doc" else ns(end),
        "attributes": [{"key": k, "value": otlp_value(v, variant != "doc")} for k, v in attrs.items()],
        "droppedAttributesCount": 0,
        "events": [],
        "links": [],
        "status": {},
    }
    if link:
        span["links"] = [{"traceId": link[0], "spanId": link[1], "attributes": [], "flags": 257}]
    code = {"unset": 0, "ok": 1, "error": 2}[status]
    if code:
        span["status"] = {"code": code} if variant == "doc" else {"code": "STATUS_CODE_" + status.upper()}
    if status == "error":
        span["status"]["message"] = "internal error"
    return span


def otlp_resource(service, spans, variant, old=False):
    scope = {"scope": {"name": "opentelemetry.instrumentation.aiohttp_server", "version": "0.48b0"},
             "spans": [otlp_span(s, variant) for s in spans]}
    resource = {"attributes": [
        {"key": "telemetry.sdk.language", "value": {"stringValue": "python"}},
        {"key": "service.name", "value": {"stringValue": service}},
    ]}
    key = "instrumentationLibrarySpans" if old else "scopeSpans"
    if old:
        scope["instrumentationLibrary"] = scope.pop("scope")
    return {"resource": resource, key: [scope], "schemaUrl": "https://opentelemetry.io/schemas/1.11.0"}


def by_service(service):
    return [s for s in SPANS if s[3] == service]


def write_otlp():
    doc = {"resourceSpans": [
        otlp_resource("gateway", by_service("gateway"), "doc"),
        otlp_resource("orders", by_service("orders"), "doc", old=True),
        otlp_resource("billing", by_service("billing"), "doc"),
        otlp_resource("emails", by_service("emails"), "doc"),
    ]}
    with open("otlp.json", "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    lines = [
        {"resourceSpans": [otlp_resource("gateway", by_service("gateway"), "lines")]},
        {"resourceSpans": [otlp_resource("orders", by_service("orders"), "lines"),
                           otlp_resource("billing", by_service("billing"), "lines")]},
        {"resourceSpans": [otlp_resource("emails", by_service("emails"), "lines")]},
    ]
    with open("otlp.jsonl", "w") as f:
        for line in lines:
            f.write(json.dumps(line, separators=(",", ":")) + "\n")


def jaeger_tag(k, v):
    t = "bool" if isinstance(v, bool) else "int64" if isinstance(v, int) else \
        "float64" if isinstance(v, float) else "string"
    return {"key": k, "type": t, "value": v}


def jaeger_span(s):
    sid, trace, parent, service, name, kind, start, end, attrs, status, link = s
    refs = []
    if parent:
        refs.append({"refType": "CHILD_OF", "traceID": trace, "spanID": parent})
    if link:
        refs.append({"refType": "FOLLOWS_FROM", "traceID": link[0], "spanID": link[1]})
    tags = [jaeger_tag(k, v) for k, v in attrs.items()]
    tags.append(jaeger_tag("span.kind", kind))
    if status == "ok":
        tags.append(jaeger_tag("otel.status_code", "OK"))
    if status == "error":
        tags += [jaeger_tag("otel.status_code", "ERROR"), jaeger_tag("error", True),
                 jaeger_tag("otel.status_description", "internal error")]
    return {"traceID": trace, "spanID": sid, "operationName": name, "references": refs,
            "startTime": T + start, "duration": end - start, "tags": tags, "logs": [],
            "processID": "p%d" % (SERVICES.index(service) + 1), "warnings": None}


def jaeger_trace(trace):
    spans = [jaeger_span(s) for s in SPANS if s[1] == trace]
    used = sorted({s["processID"] for s in spans})
    processes = {p: {"serviceName": SERVICES[int(p[1:]) - 1],
                     "tags": [jaeger_tag("telemetry.sdk.language", "python")]} for p in used}
    return {"traceID": trace, "spans": spans, "processes": processes, "warnings": None}


def jaeger_ui_trace(trace):
    """The UI's trace model: processes inline, each reference holding its span."""
    t = jaeger_trace(trace)
    by_id = {}
    for s in t["spans"]:
        s["process"] = copy.deepcopy(t["processes"][s["processID"]])
        s["relativeStartTime"] = s["startTime"] - min(x["startTime"] for x in t["spans"])
        s["depth"] = 0
        s["hasChildren"] = any(r["spanID"] == s["spanID"] for x in t["spans"] for r in x["references"])
        s["childSpanIds"] = [x["spanID"] for x in t["spans"]
                             if any(r["spanID"] == s["spanID"] and r["refType"] == "CHILD_OF"
                                    for r in x["references"])]
        by_id[s["spanID"]] = s
    for s in t["spans"]:  # in order, so a nested parent already holds its own parent
        for r in s["references"]:
            if r["spanID"] in by_id:
                r["span"] = copy.deepcopy(by_id[r["spanID"]])
    start = min(s["startTime"] for s in t["spans"])
    t.update({"traceName": "gateway: GET /checkout", "startTime": start,
              "endTime": max(s["startTime"] + s["duration"] for s in t["spans"]),
              "services": [{"name": SERVICES[int(p[1:]) - 1], "numberOfSpans": 1} for p in t["processes"]]})
    t["duration"] = t["endTime"] - start
    return t


def write_jaeger():
    doc = {"data": [jaeger_trace(A), jaeger_trace(B)], "total": 0, "limit": 0, "offset": 0, "errors": None}
    with open("jaeger.json", "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    doc = {"data": [jaeger_ui_trace(A), jaeger_ui_trace(B)]}
    with open("jaeger-ui.json", "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def write_zipkin():
    out = []
    for s in SPANS:
        sid, trace, parent, service, name, kind, start, end, attrs, status, link = s
        span = {"traceId": trace, "id": sid}
        if parent:
            span["parentId"] = parent
        if kind != "internal":
            span["kind"] = kind.upper()
        span.update({"name": name, "timestamp": T + start, "duration": end - start,
                     "localEndpoint": {"serviceName": service},
                     "tags": {k: str(v) for k, v in attrs.items()}})
        if status == "ok":
            span["tags"]["otel.status_code"] = "OK"
        if status == "error":
            span["tags"]["otel.status_code"] = "ERROR"
            span["tags"]["error"] = "internal error"
        out.append(span)
    with open("zipkin.json", "w") as f:
        json.dump(out, f, indent=2)
        f.write("\n")


write_otlp()
write_jaeger()
write_zipkin()
