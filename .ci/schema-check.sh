#!/usr/bin/env bash
# The JSON Schema against a real validator (ajv, strict draft-07): it compiles,
# every example and every file of tests/schema/valid/ validates, and every file
# of tests/schema/invalid/ is rejected. `cargo test` checks that `meshsim check`
# agrees on the same files. Needs MESHSIM (a meshsim binary).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$CI_DIR/.."
node_tools
ajv=("$CI_DIR/node/node_modules/.bin/ajv" --spec=draft7 --strict=true)
schema="$(mktemp --suffix=.json)" valid="$(mktemp)" invalid="$(mktemp)"
trap 'rm -f "$schema" "$valid" "$invalid"' EXIT
"${MESHSIM:?set MESHSIM to a meshsim binary}" schema >"$schema"
"${ajv[@]}" compile -s "$schema"
# ajv prints "FILE passed test" or "FILE failed test" for each file.
status=0
"${ajv[@]}" test -s "$schema" -d "scenarios/*.yaml" -d "tests/schema/valid/*.yaml" --valid \
  >"$valid" 2>&1 || status=1
"${ajv[@]}" test -s "$schema" -d "tests/schema/invalid/*.yaml" --invalid >"$invalid" 2>&1 || status=1
echo "schema check: $(grep -c ' passed test' "$valid") valid files accepted," \
  "$(grep -c ' passed test' "$invalid") invalid files rejected"
if ((status)); then
  cat "$valid" "$invalid" | grep -A30 ' failed test' >&2
  echo "schema check: FAILED" >&2
  exit 1
fi
