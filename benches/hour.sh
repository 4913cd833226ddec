#!/usr/bin/env bash
# One simulated hour of reference-sync and reference-async, this tree's
# release build against another commit's, alternating, whole process.
#
#   benches/hour.sh [BASE [ROUNDS]]     (default: 4609e0d, 3 rounds)
#   PGO=1 benches/hour.sh ...            this tree built by benches/pgo.sh
#                                        (which trains on both references)
#
# BASE is checked out in a temporary worktree and built once into
# target/hour-base/. Each round runs both scenarios (this tree's
# scenarios/ files) with both builds in turn (`--set duration=3600s --json`,
# pinned to CPU 1 where there are at least two CPUs and `taskset` is
# installed). The end prints, per scenario, each build's median wall time,
# the ratio of the medians and the median of the pairs' ratios.
#
# 4609e0d is the code issue 13 was written against ("one simulated hour of
# reference-sync takes 31.7 s, reference-async 50.8 s" on that day's
# machine): its goals of 25 s and 35 s are ratios of 0.79 and 0.69 to it.
# Results need not match across commits that fixed bugs between them; the
# events counted are printed for each run.
set -euo pipefail
base=${1:-4609e0d}
rounds=${2:-3}
root=$(git rev-parse --show-toplevel)
cd "$root"
case "${PGO:-0}" in
1)
    bash benches/pgo.sh
    here=target/pgo/meshsim
    label="this tree (PGO)"
    ;;
0)
    CARGO_TARGET_DIR="$root/target" cargo build --release --quiet
    here=target/release/meshsim
    label="this tree"
    ;;
*)
    echo "hour.sh: PGO is 0 or 1, not '$PGO'" >&2
    exit 2
    ;;
esac
other=target/hour-base/release/meshsim
tree=$(mktemp -d)
out=$(mktemp -d)
cleanup() {
    git worktree remove --force "$tree" >/dev/null 2>&1 || true
    rm -rf "$tree" "$out"
    git worktree prune
}
trap cleanup EXIT
git worktree add --quiet --detach "$tree" "$base"
(cd "$tree" && CARGO_TARGET_DIR="$root/target/hour-base" cargo build --release --quiet)
pin=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then pin=(taskset -c 1); fi

# run BUILD SCENARIO: prints the wall seconds and the events counted, or
# the build's error and stops the script.
run() {
    local start end
    start=$(date +%s.%N)
    if ! ${pin[@]+"${pin[@]}"} "$1" run "scenarios/reference-$2.yaml" \
        --set duration=3600s --json --out "$out/run" >"$out/summary.json" 2>"$out/err"; then
        echo "hour.sh: $1 failed on reference-$2:" >&2
        cat "$out/err" >&2
        return 1
    fi
    end=$(date +%s.%N)
    printf '%.2f %s\n' "$(echo "$end - $start" | bc)" \
        "$(grep -o '"events_processed": *[0-9]*' "$out/summary.json" | grep -o '[0-9]*$')"
}

for i in $(seq "$rounds"); do
    for sc in sync async; do
        ra=$(run "$here" "$sc") || exit 1
        rb=$(run "$other" "$sc") || exit 1
        read -r a ea <<<"$ra"
        read -r b eb <<<"$rb"
        echo "round $i  reference-$sc  $label $a s ($ea events)  $base $b s ($eb events)"
        echo "$sc $a $b $(echo "$a / $b" | bc -l)" >>"$out/times"
    done
done

# median SCENARIO COLUMN: the median of that column's values for the scenario.
median() {
    awk -v sc="$1" -v col="$2" '$1 == sc { print $col }' "$out/times" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
for sc in sync async; do
    a=$(median "$sc" 2)
    b=$(median "$sc" 3)
    printf 'reference-%-5s  medians: %s %s s, %s %s s; ratio of the medians %.3f, median of the ratios %.3f\n' \
        "$sc" "$label" "$a" "$base" "$b" "$(echo "$a / $b" | bc -l)" "$(median "$sc" 4)"
done
