"""What the local collector kept -> the committed Zipkin and Jaeger JSON files.

Zipkin: the exporter's POST bodies are already Zipkin v2 JSON arrays; they are
concatenated into one array, spans unchanged.

Jaeger: the exporter's POST bodies are jaeger.thrift Batches (a Process and its
Spans) in the binary protocol. They are decoded with the thrift classes that
opentelemetry-exporter-jaeger-thrift ships, then written in the form Jaeger's
query API returns (GET /api/traces -> {"data": [{traceID, spans, processes}]}),
following the rules of Jaeger's own thrift -> model -> JSON converters:
- traceID is high then low, 32 hex digits; spanID 16 hex digits;
- a span whose parentSpanId is set and not already referenced gets a CHILD_OF
  reference to it first; links (thrift references) keep their FOLLOWS_FROM;
- startTime and duration stay in microseconds;
- tags keep their thrift type as "string", "float64", "bool", "int64" or
  "binary" (base64);
- each trace lists its processes once as p1, p2, ... in order of first use.

    python -m meshapp.convert --work DIR --zipkin zipkin.json.gz --jaeger jaeger.json.gz
"""

import argparse
import base64
import gzip
import json
import struct
from pathlib import Path

_TAG_TYPES = {0: "string", 1: "float64", 2: "bool", 3: "int64", 4: "binary"}
_TAG_FIELDS = {0: "vStr", 1: "vDouble", 2: "vBool", 3: "vLong", 4: "vBinary"}
_REF_TYPES = {0: "CHILD_OF", 1: "FOLLOWS_FROM"}


def write_text(path: Path, text: str):
    """Writes `path`, gzip-compressed (level 9, no name or time) when it ends in .gz."""
    data = text.encode()
    if path.suffix == ".gz":
        with open(path, "wb") as raw, gzip.GzipFile("", "wb", 9, raw, mtime=0) as f:
            f.write(data)
    else:
        path.write_bytes(data)


def zipkin_spans(bodies: Path):
    spans = []
    with open(bodies, "rb") as f:
        for line in f:
            if line.strip():
                spans.extend(json.loads(line))
    return spans


def thrift_batches(path: Path):
    from . import jaeger_compat  # noqa: F401
    from opentelemetry.exporter.jaeger.thrift.gen.jaeger.ttypes import Batch
    from thrift.protocol.TBinaryProtocol import TBinaryProtocol
    from thrift.transport.TTransport import TMemoryBuffer

    data = path.read_bytes()
    at = 0
    while at < len(data):
        (n,) = struct.unpack_from(">I", data, at)
        batch = Batch()
        batch.read(TBinaryProtocol(TMemoryBuffer(data[at + 4 : at + 4 + n])))
        at += 4 + n
        yield batch


def _u64(x: int) -> int:
    return x & 0xFFFFFFFFFFFFFFFF


def _trace_id(high: int, low: int) -> str:
    return f"{_u64(high):016x}{_u64(low):016x}"


def _tags(tags):
    out = []
    for t in tags or []:
        value = getattr(t, _TAG_FIELDS[t.vType])
        if t.vType == 4:
            value = base64.b64encode(value).decode()
        out.append({"key": t.key, "type": _TAG_TYPES[t.vType], "value": value})
    return out


def _span(s, trace_id: str, process_id: str) -> dict:
    refs = [
        {"refType": _REF_TYPES[r.refType], "traceID": _trace_id(r.traceIdHigh, r.traceIdLow),
         "spanID": f"{_u64(r.spanId):016x}"}
        for r in s.references or []
    ]
    parent = f"{_u64(s.parentSpanId):016x}" if s.parentSpanId else None
    if parent and not any(r["spanID"] == parent and r["traceID"] == trace_id for r in refs):
        refs.insert(0, {"refType": "CHILD_OF", "traceID": trace_id, "spanID": parent})
    logs = [{"timestamp": log.timestamp, "fields": _tags(log.fields)} for log in s.logs or []]
    return {
        "traceID": trace_id,
        "spanID": f"{_u64(s.spanId):016x}",
        "flags": s.flags,
        "operationName": s.operationName,
        "references": refs,
        "startTime": s.startTime,
        "duration": s.duration,
        "tags": _tags(s.tags),
        "logs": logs,
        "processID": process_id,
        "warnings": None,
    }


def jaeger_json(batches) -> dict:
    traces = {}  # trace id -> {"spans": [...], "processes": {key: id}}
    for batch in batches:
        process = {"serviceName": batch.process.serviceName, "tags": _tags(batch.process.tags)}
        key = json.dumps(process, sort_keys=True)
        for s in batch.spans:
            tid = _trace_id(s.traceIdHigh, s.traceIdLow)
            t = traces.setdefault(tid, {"spans": [], "processes": {}})
            pid = t["processes"].setdefault(key, f"p{len(t['processes']) + 1}")
            t["spans"].append(_span(s, tid, pid))
    data = []
    for tid, t in traces.items():
        processes = {pid: json.loads(key) for key, pid in t["processes"].items()}
        t["spans"].sort(key=lambda s: (s["startTime"], s["spanID"]))
        data.append({"traceID": tid, "spans": t["spans"], "processes": processes, "warnings": None})
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True, help="the collector's directory")
    ap.add_argument("--zipkin", type=Path, required=True)
    ap.add_argument("--jaeger", type=Path, required=True)
    args = ap.parse_args()
    spans = zipkin_spans(args.work / "zipkin-bodies.jsonl")
    write_text(args.zipkin, json.dumps(spans, separators=(",", ":")) + "\n")
    doc = jaeger_json(thrift_batches(args.work / "jaeger-batches.bin"))
    write_text(args.jaeger, json.dumps(doc, separators=(",", ":")) + "\n")
    n = sum(len(t["spans"]) for t in doc["data"])
    print(f"convert: zipkin {len(spans)} spans; jaeger {len(doc['data'])} traces, {n} spans")


if __name__ == "__main__":
    main()
