#!/usr/bin/env bash
# The validation protocol (docs/VALIDATION.md), one command, as root on Debian 12:
#   bash validation/run.sh [--smoke] [--out DIR]
# Installs what it needs (nginx-light, rabbitmq-server, the venv of
# validation/app/requirements.txt), builds meshsim, then runs the testbed
# (meshapp.testbed): a baseline at 30 requests/s, whose traces meshsim imports
# and fits and from which it predicts every condition (meshapp.predict) before
# the testbed measures them; then writes validation/RESULTS.md (meshapp.results).
# Everything the testbed starts listens on 127.0.0.1 and is stopped by process
# (group) id, also on an error or a signal. Full protocol: about 13 minutes.
# --smoke: one baseline and one prediction (load x1.5), 30 s each, generous
# bounds; exits 1 when a bound fails. It writes no RESULTS.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
app="$here/app"
smoke=0
out=""
while (($#)); do
  case "$1" in
    --smoke) smoke=1 ;;
    --out) out="$2"; shift ;;
    *) echo "usage: bash validation/run.sh [--smoke] [--out DIR]" >&2; exit 2 ;;
  esac
  shift
done
# shellcheck source=../.ci/lib.sh
source "$root/.ci/lib.sh" # apt_install, venv
# Neither package's own service is used: the testbed runs its own nginx and node.
apt_install nginx-light rabbitmq-server
py="$(venv "$app/.venv" "$app/requirements.txt")"
if [[ -z "${MESHSIM:-}" ]]; then
  (cd "$root" && cargo build --release --locked --quiet)
  MESHSIM="$root/target/release/meshsim"
fi
export MESHSIM

if [[ -z "$out" ]]; then
  out="$(mktemp -d /tmp/validation-XXXXXX)"
fi
mkdir -p "$out"
out="$(cd "$out" && pwd)"
echo "validation: results in $out; load average $(cut -d' ' -f1-3 /proc/loadavg)"
cd "$app"
# The harness stops what it started on SIGTERM/SIGHUP/SIGINT (its finally); a
# signal to this script is passed on to it, and the script waits for its cleanup.
child=""
trap '[[ -n "$child" ]] && kill -TERM "$child" 2>/dev/null; wait "$child" 2>/dev/null; exit 143' TERM HUP INT
harness() {
  "$py" -m meshapp.testbed "$@" &
  child=$!
  wait "$child"
  child=""
}
if ((smoke)); then
  harness --out "$out" --conditions baseline,rate_x1.5 --repeat-baseline 1 --steady-tries 0 \
    --duration 30 --nice -15 --predict "$py -m meshapp.predict"
  "$py" -m meshapp.results "$out" --smoke throughput=0.1,mean=0.35,p50=0.35,p99=0.6
else
  harness --out "$out" --nice -15 --predict "$py -m meshapp.predict"
  "$py" -m meshapp.results "$out" --out "$here/RESULTS.md"
fi
