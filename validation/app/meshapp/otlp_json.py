"""A SpanExporter that writes OTLP/JSON, one ExportTraceServiceRequest a line.

The Python SDK ships no OTLP/JSON file exporter, but it ships the encoder that
its OTLP exporters use (opentelemetry-exporter-otlp-proto-common's
encode_spans, which builds the protobuf ExportTraceServiceRequest). This module
turns that message into JSON with protobuf's json_format and then applies the
three places where OTLP/JSON differs from protobuf's default JSON mapping
(opentelemetry-proto, docs/specification.md, "JSON Protobuf Encoding"):

- traceId, spanId and parentSpanId (also in links) are lowercase hex strings,
  not base64;
- enum values are integers (kind 1-5, status.code 0-2);
- field names are lowerCamelCase (json_format's default).

64-bit integers (startTimeUnixNano, intValue) stay decimal strings, as the
mapping and the Collector's file exporter write them. Each export() appends
one line: the Collector file exporter's JSON Lines form.
"""

import base64
import json
import threading

from google.protobuf.json_format import MessageToDict
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _hex_ids(node):
    """Rewrite every base64 id in the dict tree as lowercase hex, in place."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)


def to_otlp_json(spans) -> dict:
    """ReadableSpans -> an ExportTraceServiceRequest as an OTLP/JSON dict."""
    doc = MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    _hex_ids(doc)
    return doc


class OtlpJsonLinesExporter(SpanExporter):
    """Appends one OTLP/JSON ExportTraceServiceRequest per batch to a file."""

    def __init__(self, path):
        self._lock = threading.Lock()
        self._file = open(path, "a", encoding="utf-8")

    def export(self, spans) -> SpanExportResult:
        if not spans:
            return SpanExportResult.SUCCESS
        line = json.dumps(to_otlp_json(spans), separators=(",", ":"))
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self):
        with self._lock:
            self._file.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
