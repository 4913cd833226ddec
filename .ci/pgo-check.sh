#!/usr/bin/env bash
# The profile-guided build (benches/pgo.sh, README "Performance") on a fresh
# machine: it installs rustup's llvm-tools if they are missing, builds, and its
# binary gives the same summary, byte for byte, and the same exit code as a
# plain build (MESHSIM, here the test profile's: opt-level 3 with debug
# assertions) on every example, every scenario of tests/it/data/ and
# benches/wide-tree.yaml. About 5 minutes on two cores.
set -euo pipefail
plain="$(realpath "${MESHSIM:?set MESHSIM to a meshsim binary}")"
source "$(dirname "$0")/lib.sh"
cd "$CI_DIR/.."
bash benches/pgo.sh
pgo="$PWD/target/pgo/meshsim"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
n=0
for f in scenarios/*.yaml tests/it/data/*.yaml benches/wide-tree.yaml; do
  a=0 b=0
  "$plain" run "$f" --json --out "$work/a" >"$work/a.json" 2>"$work/a.err" || a=$?
  "$pgo" run "$f" --json --out "$work/b" >"$work/b.json" 2>"$work/b.err" || b=$?
  # 0 is a finished run (its verdicts are in the summary), 3 an overloaded one.
  if { [ "$a" != 0 ] && [ "$a" != 3 ]; } || [ ! -s "$work/a.json" ]; then
    echo "pgo check: the plain build failed on $f (exit $a):" >&2
    cat "$work/a.err" >&2
    exit 1
  fi
  if [ "$a" != "$b" ] || ! cmp -s "$work/a.json" "$work/b.json"; then
    echo "pgo check: $f differs (exit $a against $b):" >&2
    diff "$work/a.json" "$work/b.json" | head -20 >&2 || true
    cat "$work/b.err" >&2
    exit 1
  fi
  n=$((n + 1))
done
echo "pgo check: $n summaries identical to the plain build's"
