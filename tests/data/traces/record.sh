#!/usr/bin/env bash
# Re-records the traces in this directory: one command, from a clean clone, as
# root on Debian 12 (README.md here says what it runs and what it writes).
#   bash tests/data/traces/record.sh [--rate 50] [--duration 60] [--keep]
# Installs what it needs: rabbitmq-server (apt-get), a virtual environment
# validation/app/.venv with validation/app/requirements.txt (pip). Everything it
# starts listens on 127.0.0.1 and is stopped by process id (meshapp/record.py).
# Takes about two minutes after the installs: RabbitMQ's start, then a minute of load.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
app="$(cd "$here/../../../validation/app" && pwd)"
export DEBIAN_FRONTEND=noninteractive

apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "apt-get install ${missing[*]}" >&2
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# The package's own service is not started: record.py runs its own node.
apt_install rabbitmq-server

venv="$app/.venv"
if [[ ! -x "$venv/bin/python" ]] && ! python3 -m venv "$venv" >/dev/null 2>&1; then
  rm -rf "$venv"
  apt_install python3-venv # Debian's python3 makes virtual environments only with it
  python3 -m venv "$venv"
fi
if ! cmp -s "$app/requirements.txt" "$venv/requirements.txt"; then
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$app/requirements.txt"
  cp "$app/requirements.txt" "$venv/requirements.txt"
fi

cd "$app"
"$venv/bin/python" -m meshapp.record --dest "$here" "$@"
"$venv/bin/python" -m meshapp.check --dir "$here"
