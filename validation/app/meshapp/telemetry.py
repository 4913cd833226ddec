"""The OpenTelemetry SDK of one service, with its three exporters.

Every span goes to three real exporters at once, so the three files hold the
same spans with the same ids:
- OTLP/JSON lines, through the SDK's own OTLP encoder (otlp_json.py);
- Zipkin v2 JSON, through opentelemetry-exporter-zipkin-json, POSTed to the
  local collector (collector.py);
- Jaeger thrift, through opentelemetry-exporter-jaeger-thrift's HTTP
  collector client, POSTed to the same local collector (decoded by convert.py).

The Jaeger exporter was last released for SDK 1.21; jaeger_compat.py lets it
import under the current SDK.
"""

from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

from . import jaeger_compat  # noqa: F401  (before the Jaeger exporter's import)
from .otlp_json import OtlpJsonLinesExporter

from opentelemetry.exporter.jaeger.thrift import JaegerExporter  # noqa: E402
from opentelemetry.exporter.zipkin.json import Protocol, ZipkinExporter  # noqa: E402

_BATCH = 512  # spans per export call, as BatchSpanProcessor's default
_MAX_SPANS = 1_000_000  # a bound on what one service holds in memory


class ExportAtShutdown(SpanProcessor):
    """Holds ended spans in memory and exports them, in batches, at shutdown.

    BatchSpanProcessor exports from a thread while the service runs; in
    CPython that thread takes the GIL from the event loop for the length of
    each encode (tens of ms for a batch of 512 spans into three formats), which
    would show up in the recorded spans as extra "work". Holding the spans
    until the load has stopped keeps the recording free of its own cost. The
    exporters and their encoders are the same; only the moment differs.
    """

    def __init__(self, exporters):
        self._exporters = exporters
        self._spans = []
        self._dropped = 0

    def on_start(self, span, parent_context=None):
        pass

    def on_end(self, span):
        if len(self._spans) < _MAX_SPANS:
            self._spans.append(span)
        else:
            self._dropped += 1

    def shutdown(self):
        for exporter in self._exporters:
            for i in range(0, len(self._spans), _BATCH):
                exporter.export(self._spans[i : i + _BATCH])
            exporter.shutdown()
        if self._dropped:
            print(f"dropped {self._dropped} spans past {_MAX_SPANS}", flush=True)
        self._spans = []

    def force_flush(self, timeout_millis=30000):
        return True


def setup(service: str, otlp_path, collector_url) -> TracerProvider:
    """Installs the global TracerProvider of `service` and its exporters
    (OTLP/JSON only when `collector_url` is None, as the testbed runs it)."""
    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    trace.set_tracer_provider(provider)  # the Jaeger exporter reads the service name from it
    exporters = [OtlpJsonLinesExporter(otlp_path)]
    if collector_url:
        exporters += [
            ZipkinExporter(version=Protocol.V2, endpoint=f"{collector_url}/zipkin/{service}"),
            JaegerExporter(collector_endpoint=f"{collector_url}/jaeger/{service}"),
        ]
    provider.add_span_processor(ExportAtShutdown(exporters))
    return provider
