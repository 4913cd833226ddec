#!/usr/bin/env bash
# The HTML report in a real browser: run a scenario, load report.html in headless
# Chromium (no console error, nothing fetched from elsewhere), and check that the
# screenshot is not blank. Needs MESHSIM (a meshsim binary); installs Chromium.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$CI_DIR/.."
apt_install chromium fonts-liberation
node_tools
python="$(venv)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
"${MESHSIM:?set MESHSIM to a meshsim binary}" run scenarios/reference-sync.yaml --out "$out/run" >/dev/null
mkdir -p "${SCREENSHOTS:=$out/shots}"
node "$CI_DIR/node/browser.js" "$SCREENSHOTS" "$out/run/report.html"
"$python" "$CI_DIR/not-blank.py" "$SCREENSHOTS"/*.png
echo "browser check: ok"
