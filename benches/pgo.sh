#!/usr/bin/env bash
# A profile-guided release build of meshsim, for long runs:
#
#   bash benches/pgo.sh            -> target/pgo/meshsim
#
# 1. builds meshsim instrumented (rustc -Cprofile-generate) into target/pgo-gen/;
# 2. runs it on every example (scenarios/*.yaml) and benches/wide-tree.yaml
#    (`--json`, their own durations; about 10 s), which records how often each
#    branch and call is taken;
# 3. merges the counts with rustup's llvm-profdata (`rustup component add
#    llvm-tools` is run if it is missing) into target/pgo/meshsim.profdata;
# 4. builds again with -Cprofile-use into target/pgo-use/ and copies the
#    binary to target/pgo/meshsim.
#
# The compiler then lays out hot code together and cold code apart, and inlines
# by the counts. Results do not change: every example's summary.json is the
# same byte for byte as a plain build's (.ci/pgo-check.sh checks it in CI).
# Code the examples never run is treated as cold and optimised for size; a
# model unlike every example may run slower than with `cargo build --release`.
# Two builds: about 5 minutes on two cores. The flags go in
# CARGO_ENCODED_RUSTFLAGS, which replaces any RUSTFLAGS of your own.
# LLVM_PROFDATA names another llvm-profdata (its LLVM must be rustc's).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
host=$(rustc -vV | sed -n 's/^host: //p')
profdata=${LLVM_PROFDATA:-"$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata"}
if [ ! -x "$profdata" ] && [ -z "${LLVM_PROFDATA:-}" ] && command -v rustup >/dev/null; then
    rustup component add llvm-tools >&2 || true
fi
if [ ! -x "$profdata" ]; then
    echo "pgo.sh: $profdata not found: install rustup's llvm-tools" \
        "('rustup component add llvm-tools') or set LLVM_PROFDATA" >&2
    exit 1
fi
raw="$root/target/pgo/raw"
mkdir -p target/pgo
rm -rf "$raw"
CARGO_ENCODED_RUSTFLAGS="-Cprofile-generate=$raw" \
    cargo build --release --locked --quiet --target-dir target/pgo-gen
# Build scripts and proc macros ran instrumented too: keep only the runs below.
rm -rf "$raw"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for f in scenarios/*.yaml benches/wide-tree.yaml; do
    # Exit 3 is a run that overloaded: a result, not a failure.
    status=0
    target/pgo-gen/release/meshsim run "$f" --json --out "$out/run" \
        >/dev/null 2>"$out/err" || status=$?
    if [ "$status" != 0 ] && [ "$status" != 3 ]; then
        echo "pgo.sh: the instrumented build failed on $f (exit $status):" >&2
        cat "$out/err" >&2
        exit 1
    fi
done
"$profdata" merge -o target/pgo/meshsim.profdata "$raw"
# Cargo does not rebuild registry crates when the profile changes: start clean.
rm -rf target/pgo-use
CARGO_ENCODED_RUSTFLAGS="-Cprofile-use=$root/target/pgo/meshsim.profdata" \
    cargo build --release --locked --quiet --target-dir target/pgo-use
# A copy then a rename: a run of the old binary may still be going.
cp target/pgo-use/release/meshsim target/pgo/meshsim.new
mv -f target/pgo/meshsim.new target/pgo/meshsim
echo "pgo.sh: built target/pgo/meshsim"
