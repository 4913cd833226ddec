#!/usr/bin/env bash
# The teaching notebook, executed as a student would run it (packages from PyPI,
# in .ci/venv): every cell runs and every chart displays. Needs MESHSIM.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$CI_DIR/.."
python="$(venv)"
MESHSIM="${MESHSIM:?set MESHSIM to a meshsim binary}" "$python" notebooks/execute.py
