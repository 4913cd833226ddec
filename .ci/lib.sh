# Helpers sourced by the scripts of .ci/: each installs what a check needs, once,
# on a fresh Debian 12 where CI runs as root (apt-get) with node 20 and npm.
# shellcheck shell=bash

CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export DEBIAN_FRONTEND=noninteractive

# apt_install PACKAGE...: installs the Debian packages that are missing.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "apt-get install ${missing[*]}" >&2
    # The checks start what they need themselves, on 127.0.0.1, and stop it by
    # process id: no package's own service (nginx on :80, a system RabbitMQ,
    # Prometheus) may start at install and run through the measurements.
    local policy=/usr/sbin/policy-rc.d ours=0
    if [[ ! -e "$policy" ]]; then
      printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && ours=1
    fi
    local rc=0
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
    if ((ours)); then rm -f "$policy"; fi
    return "$rc"
  fi
}

# venv [DIR REQS]: a virtual environment in DIR (default .ci/venv) with the packages
# of REQS (default .ci/requirements.txt); prints its python.
venv() {
  local dir="${1:-$CI_DIR/venv}" reqs="${2:-$CI_DIR/requirements.txt}"
  local py="$dir/bin/python"
  if [[ ! -x "$py" ]] && ! python3 -m venv "$dir" >/dev/null 2>&1; then
    # Debian's python3 makes virtual environments only with python3-venv.
    rm -rf "$dir"
    apt_install python3-venv
    python3 -m venv "$dir" >&2
  fi
  if ! cmp -s "$reqs" "$dir/requirements.txt"; then
    "$py" -m pip install --quiet --disable-pip-version-check -r "$reqs" >&2
    cp "$reqs" "$dir/requirements.txt"
  fi
  echo "$py"
}

# node_tools: .ci/node/node_modules from the committed package-lock.json.
node_tools() {
  local stamp="$CI_DIR/node/node_modules/.installed-lock.json"
  if ! cmp -s "$CI_DIR/node/package-lock.json" "$stamp"; then
    (cd "$CI_DIR/node" && npm ci --no-audit --no-fund --loglevel=error >&2)
    cp "$CI_DIR/node/package-lock.json" "$stamp"
  fi
}
