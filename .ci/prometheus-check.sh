#!/usr/bin/env bash
# metrics.om in a real Prometheus (docs/PROMETHEUS.md): run the reference
# scenario and three others (Kafka lag, breakers, RabbitMQ) on separate days,
# lint the export with promtool, import it with `promtool tsdb
# create-blocks-from openmetrics`, start a Prometheus on 127.0.0.1 over the
# blocks, compare its PromQL answers with timeseries.csv, and ask every query of
# deploy/grafana/meshsim.json for data. Needs MESHSIM (a meshsim binary);
# installs Debian's prometheus (its service is never started: we run the binary).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$CI_DIR/.."
apt_install prometheus curl python3
out="$(mktemp -d)"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$out"
}
trap cleanup EXIT
meshsim="${MESHSIM:?set MESHSIM to a meshsim binary}"
day=86400
start=1767225600 # 2026-01-01T00:00:00Z, the default --metrics-start
"$meshsim" run scenarios/reference-sync.yaml --out "$out/ref" --trace-sample 0 >/dev/null 2>&1
run() { # NAME START SCENARIO [ARGS...]: a run's export only, at START
  local name="$1" at="$2" scenario="$3"
  shift 3
  "$meshsim" run "$scenario" --json --out "$out/$name" --metrics "$out/$name.om" \
    --metrics-start "$at" "$@" >/dev/null 2>&1
}
# cascading-failure.yaml contained as its comment says: a breaker on payments.charge.
sed '/^          - call: payments.charge$/a\
            timeout: 300ms\
            circuit_breaker: {sliding_window_size: 50, minimum_number_of_calls: 20, slow_call_duration_threshold: 250ms, slow_call_rate_threshold: 50%, wait_duration_in_open_state: 5s}' \
  scenarios/cascading-failure.yaml >"$out/contained.yaml"
run kafka $((start + day)) scenarios/ecommerce.yaml
run breakers $((start + 2 * day)) "$out/contained.yaml"
run rabbitmq $((start + 3 * day)) scenarios/reference-async.yaml --set broker.kind=rabbitmq \
  --set duration=30s

# promtool check metrics reads the Prometheus text format 0.0.4, not OpenMetrics:
# there a counter's family is named with _total and timestamps are integers
# (ms). As written, the file may draw only "<counter>_total no help text" (its
# HELP is under the OpenMetrics family name); the 0.0.4 rendering (TYPE/HELP
# of counters renamed, UNIT and EOF left out) must lint clean.
echo "promtool check metrics < metrics.om:"
lint="$(promtool check metrics <"$out/ref/metrics.om" 2>&1 || true)"
echo "$lint" | sed 's/^/  /'
counters="$(awk '$1 == "#" && $2 == "TYPE" && $4 == "counter" {print $3 "_total no help text"}' "$out/ref/metrics.om")"
if [[ -n "$(comm -23 <(echo "$lint" | sed '/^$/d' | sort) <(echo "$counters" | sort))" ]]; then
  echo "promtool check metrics: problems other than the OpenMetrics counter names" >&2
  exit 1
fi
awk '
  $1 == "#" && $2 == "TYPE" && $4 == "counter" { counter[$3] = 1; $3 = $3 "_total"; print; next }
  $1 == "#" && $2 == "HELP" && ($3 in counter) { $3 = $3 "_total"; print; next }
  $1 == "#" && ($2 == "UNIT" || $2 == "EOF") { next }
  $1 != "#" { n = split($NF, p, "."); $NF = p[1] substr((n == 2 ? p[2] : "") "000", 1, 3) }
  { print }
' "$out/ref/metrics.om" >"$out/ref.prom"
promtool check metrics <"$out/ref.prom"
echo "promtool check metrics < metrics.om in the 0.0.4 format: clean"

for f in "$out/ref/metrics.om" "$out"/{kafka,breakers,rabbitmq}.om; do
  promtool tsdb create-blocks-from openmetrics "$f" "$out/tsdb" | tail -n +2
done
printf 'global:\n  scrape_interval: 1m\nscrape_configs: []\n' >"$out/minimal.yml"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
prometheus --config.file="$out/minimal.yml" --storage.tsdb.path="$out/tsdb" \
  --storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" \
  >"$out/prometheus.log" 2>&1 &
pid=$!
url="http://127.0.0.1:$port"
for _ in $(seq 100); do
  curl -fs "$url/-/ready" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$out/prometheus.log" >&2; exit 1; }
  sleep 0.2
done
curl -fs "$url/-/ready" >/dev/null || { echo "prometheus did not get ready" >&2; exit 1; }
echo "prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') on $url, pid $pid"
python3 "$CI_DIR/prometheus-check.py" "$url" deploy/grafana/meshsim.json "$out/ref" "$start" \
  "reference-sync=$start" "kafka=$((start + day))" "breakers=$((start + 2 * day))" \
  "rabbitmq=$((start + 3 * day))"
echo "prometheus check: ok"
