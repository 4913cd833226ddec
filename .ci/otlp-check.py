"""traces.otlp.json read by the OpenTelemetry project's own protobuf classes.

Parses the file with protobuf's json_format into
opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest, which rejects
unknown fields and wrong types, then checks what the proto holds: every span's
ids, kind and times, each parent in the file, and the span counts by kind,
which it prints. Usage: otlp-check.py FILE

OTLP/JSON spells ids in hex where protobuf's JSON mapping has base64, so
json_format reads a 32-character hex id as 24 bytes of base64: the ids are
checked by spelling those bytes back (base64) and reading that as hex.
"""

import base64
import collections
import re
import sys

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span


HEX = re.compile(r"^[0-9a-f]+$")


def hex_id(raw, chars):
    """The id as OTLP/JSON spelled it: lowercase hex of `chars` characters."""
    text = base64.b64encode(raw).decode()
    assert len(text) == chars and HEX.match(text), f"not {chars} hex digits: {text}"
    assert text.strip("0"), "an all-zero id"
    return text


def main(path, expected_kinds):
    with open(path, encoding="utf-8") as f:
        request = json_format.Parse(f.read(), ExportTraceServiceRequest())
    kinds = collections.Counter()
    ids = set()
    n = 0
    parents = []
    services = []
    for rs in request.resource_spans:
        names = [a.value.string_value for a in rs.resource.attributes if a.key == "service.name"]
        assert len(names) == 1 and names[0], "each resource names its service"
        services.append(names[0])
        for ss in rs.scope_spans:
            assert ss.scope.name == "meshsim", ss.scope.name
            for s in ss.spans:
                trace, span = hex_id(s.trace_id, 32), hex_id(s.span_id, 16)
                assert s.kind in (Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT,
                                  Span.SPAN_KIND_PRODUCER, Span.SPAN_KIND_CONSUMER), s
                assert s.end_time_unix_nano >= s.start_time_unix_nano >= 1767225600 * 10**9, s
                kinds[Span.SpanKind.Name(s.kind)] += 1
                ids.add((trace, span))
                n += 1
                if s.parent_span_id:
                    parents.append((trace, hex_id(s.parent_span_id, 16)))
    assert n > 0, "no spans"
    assert len(ids) == n, f"{n - len(ids)} span ids written twice"
    want = {f"SPAN_KIND_{k}" for k in expected_kinds.split(",")}
    assert want <= set(kinds), f"expected spans of kinds {sorted(want)}, got {dict(kinds)}"
    missing = sum(1 for p in parents if p not in ids)
    assert missing == 0, f"{missing} spans name a parent not in the file"
    assert len(set(services)) == len(services), "one resource per service"
    print(f"{path}: {len(ids)} spans in {len(services)} services, "
          + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
          + f"; every one of the {len(parents)} parents present")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
