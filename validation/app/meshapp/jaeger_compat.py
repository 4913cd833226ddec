"""Lets opentelemetry-exporter-jaeger-thrift 1.21 import under a current SDK.

That exporter, the last Jaeger thrift exporter released, imports seven
environment-variable names that later SDKs dropped from
opentelemetry.sdk.environment_variables. They are plain strings (each name is
its own value), so they are put back before the import; its translator and
thrift encoder then run unchanged. Import this module before
opentelemetry.exporter.jaeger.thrift.
"""

import opentelemetry.sdk.environment_variables as _env

for _name in (
    "OTEL_EXPORTER_JAEGER_AGENT_HOST",
    "OTEL_EXPORTER_JAEGER_AGENT_PORT",
    "OTEL_EXPORTER_JAEGER_AGENT_SPLIT_OVERSIZED_BATCHES",
    "OTEL_EXPORTER_JAEGER_ENDPOINT",
    "OTEL_EXPORTER_JAEGER_PASSWORD",
    "OTEL_EXPORTER_JAEGER_TIMEOUT",
    "OTEL_EXPORTER_JAEGER_USER",
):
    if not hasattr(_env, _name):
        setattr(_env, _name, _name)
