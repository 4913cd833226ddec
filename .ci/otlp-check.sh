#!/usr/bin/env bash
# traces.otlp.json (run --export-traces otlp, docs/REPORTS.md) parsed by the
# OpenTelemetry project's protobuf classes (opentelemetry-proto from PyPI, in
# .ci/venv): a run with a gateway, retries and Kafka (ecommerce), and a 20-way
# fan-out with hedges (tail-at-scale). Needs MESHSIM (a meshsim binary).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$CI_DIR/.."
py="$(venv)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
meshsim="${MESHSIM:?set MESHSIM to a meshsim binary}"
for check in ecommerce:SERVER,CLIENT,PRODUCER,CONSUMER tail-at-scale:SERVER,CLIENT; do
  scenario="${check%%:*}"
  "$meshsim" run "scenarios/$scenario.yaml" --set duration=15s --trace-sample 0.2 \
    --export-traces otlp --out "$out/$scenario" >/dev/null
  "$py" .ci/otlp-check.py "$out/$scenario/traces.otlp.json" "${check#*:}"
done
