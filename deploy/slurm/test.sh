#!/usr/bin/env bash
# Sweeps on a real Slurm (issue 16): a single-node controller and daemon on this
# machine run README.md's job array (deploy/slurm/sweep.sbatch, scaled down) and
# the dependent merge (deploy/slurm/submit.sh), exactly as written; the merged
# sweep must be byte-identical to the same sweep run locally without shards.
#
#   bash deploy/slurm/test.sh            # MESHSIM=/path/to/meshsim to skip the build
#
# Scaled down: 4 array tasks instead of 32 (`submit.sh --array=0-3`, which
# overrides the script's #SBATCH --array) and the scenario copied with duration
# 1s and warmup 200ms (the grid and replications are the README's: 99 points × 5). The node is declared with
# 4 × 8 CPUs (SlurmdParameters=config_overrides) so that the README's
# --cpus-per-task=8 fits four tasks at once on this machine's cores.
# Installs slurm-wlm and munge with apt-get if missing (Debian 12, as root).
# Everything runs on localhost in a temporary folder; /etc/slurm is not touched.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
SHARDS=4
WAIT=${SLURM_TEST_TIMEOUT:-300}        # seconds, for each wait below
CTLD_PORT=${SLURMCTLD_PORT:-16817}
SLURMD_PORT=${SLURMD_PORT:-16818}

say() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

if [[ -z "${MESHSIM:-}" ]]; then
  cargo build --release --locked --quiet
  MESHSIM="$repo/target/release/meshsim"
fi
MESHSIM=$(realpath "$MESHSIM")
test -x "$MESHSIM" || fail "no meshsim binary at $MESHSIM"

if ! command -v slurmctld >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
  # The packages may start their own daemons (systemd); this test uses its own.
fi

for port in "$CTLD_PORT" "$SLURMD_PORT"; do
  if ss -Hltn "sport = :$port" | grep -q .; then fail "port $port is in use (set SLURMCTLD_PORT/SLURMD_PORT)"; fi
done

T=$(mktemp -d /tmp/meshsim-slurm.XXXXXX)
chmod 755 "$T"
pids=()
cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [[ $rc -ne 0 ]]; then
    for log in "$T"/log/*.log; do [[ -f $log ]] && { echo "--- $log (last 20 lines)"; tail -n 20 "$log"; }; done
  fi
  rm -rf "$T"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$T"/{munge,run,state,spool,log,bin,work}

# munge, with a key of its own and a socket in the temporary folder.
dd if=/dev/urandom of="$T/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$T/munge/munge.key"
chmod 700 "$T/munge"
munged --force --foreground --key-file="$T/munge/munge.key" --socket="$T/run/munge.sock" \
  --pid-file="$T/munge/munged.pid" --seed-file="$T/munge/munged.seed" \
  --log-file="$T/log/munged.log" >"$T/log/munged.stderr.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [[ -S "$T/run/munge.sock" ]] && break; sleep 0.1; done
munge --socket="$T/run/munge.sock" -n | unmunge --socket="$T/run/munge.sock" >/dev/null \
  || fail "munge does not answer"

cpus=$((SHARDS * 8))
export SLURM_CONF="$T/slurm.conf"
cat > "$SLURM_CONF" <<CONF
ClusterName=meshsimtest
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$T/run/munge.sock
StateSaveLocation=$T/state
SlurmdSpoolDir=$T/spool
SlurmctldPidFile=$T/slurmctld.pid
SlurmdPidFile=$T/slurmd.pid
SlurmctldLogFile=$T/log/slurmctld.log
SlurmdLogFile=$T/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
MinJobAge=600
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF

slurmctld -D -i -f "$SLURM_CONF" >"$T/log/slurmctld.stderr.log" 2>&1 &
pids+=($!)
slurmd -D -N localhost -f "$SLURM_CONF" >"$T/log/slurmd.stderr.log" 2>&1 &
pids+=($!)

say "waiting for the node to be idle"
deadline=$((SECONDS + WAIT))
until [[ "$(sinfo -h -n localhost -o %t 2>/dev/null)" == idle ]]; do
  (( SECONDS < deadline )) || fail "the node is not idle after ${WAIT}s: $(sinfo 2>&1)"
  sleep 1
done
sinfo --version
sinfo

# The work folder: the README's files where it runs them from, the scenario shortened.
W="$T/work"
mkdir -p "$W/scenarios" "$W/deploy/slurm"
cp deploy/slurm/sweep.sbatch deploy/slurm/submit.sh "$W/deploy/slurm/"
sed -e 's/^duration: 60s$/duration: 1s/' -e 's/^warmup: 5s$/warmup: 200ms/' \
  scenarios/reference-sync.yaml > "$W/scenarios/reference-sync.yaml"
grep -q '^duration: 1s$' "$W/scenarios/reference-sync.yaml" || fail "could not shorten the scenario"
ln -s "$MESHSIM" "$T/bin/meshsim"
export PATH="$T/bin:$PATH"

# The files the test submits must be the ones README.md shows.
python3 - "$repo/README.md" deploy/slurm/sweep.sbatch deploy/slurm/submit.sh <<'PY' || fail "README.md does not show deploy/slurm/*.sbatch|submit.sh verbatim"
import sys
readme = open(sys.argv[1]).read()
for f in sys.argv[2:]:
    if "```sh\n" + open(f).read() + "```" not in readme:
        sys.exit(f"{f} is not in README.md verbatim")
PY

say "submitting (deploy/slurm/submit.sh)"
cd "$W"
out=$(bash deploy/slurm/submit.sh --array="0-$((SHARDS - 1))")
echo "$out"
jobid=$(sed -n 's/^sweep array \([0-9]*\), merge \([0-9]*\)$/\1/p' <<<"$out")
mergeid=$(sed -n 's/^sweep array \([0-9]*\), merge \([0-9]*\)$/\2/p' <<<"$out")
[[ -n $jobid && -n $mergeid ]] || fail "no job ids in: $out"
squeue -o '%.12i %.10T %.28E %j'

say "waiting for the array $jobid and the merge $mergeid"
deadline=$((SECONDS + WAIT))
state() { scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort | uniq -c | tr -s ' ' | paste -sd, -; }
while squeue -h -j "$jobid,$mergeid" 2>/dev/null | grep -q .; do
  (( SECONDS < deadline )) || { squeue; fail "jobs not finished after ${WAIT}s"; }
  if squeue -h -j "$mergeid" -o %r 2>/dev/null | grep -q DependencyNeverSatisfied; then
    for f in slurm-"$jobid"_*.out; do echo "--- $f"; cat "$f"; done
    fail "a task of the array $jobid failed: the merge $mergeid will never run"
  fi
  sleep 2
done
echo "array $jobid:$(state "$jobid")"
echo "merge $mergeid:$(state "$mergeid")"
scontrol -o show job "$jobid" | grep -o 'JobId=[0-9]* ArrayJobId=[0-9]* ArrayTaskId=[0-9]*\|JobState=[A-Z_]*\|ExitCode=[0-9:]*' | paste -d' ' - - - | sed 's/^/  /'
scontrol -o show job "$mergeid" | grep -o 'JobState=[A-Z_]*\|ExitCode=[0-9:]*' | paste -sd' ' | sed 's/^/  /'

for f in slurm-"$jobid"_*.out; do echo "--- $f"; cat "$f"; done
f=slurm-$mergeid.out
echo "--- $f ($(wc -l <"$f") lines; the table's first 3 and the last 2)"
head -n 3 "$f"; echo "…"; tail -n 2 "$f"
[[ "$(state "$jobid")" == *COMPLETED* && "$(state "$jobid")" != *,* ]] || fail "array $jobid did not complete"
[[ "$(state "$mergeid")" == *COMPLETED* ]] || fail "merge $mergeid did not complete"

say "the same sweep locally, no shards"
# sweep.sbatch's own command, without --threads, --shard and --out.
cmd=$(sed -n '/^meshsim sweep/,/[^\\]$/p' deploy/slurm/sweep.sbatch | sed 's/\\$//' | tr '\n' ' ' \
  | sed -E 's/--(threads|shard|out) [^ ]+//g; s/ +/ /g; s/ $//')
echo "$cmd --out local"
eval "$cmd --out local" 2>&1 | tail -n 1

say "cmp merged (Slurm) against local"
status=0
for f in sweep.csv sweep.json sweep.html; do
  if cmp "results/$f" "local/$f"; then
    echo "identical: $f ($(wc -c <"local/$f") bytes)"
  else
    status=1
  fi
done
[[ $status -eq 0 ]] || fail "the merged sweep differs from the local one"
echo "PASS: Slurm array of $SHARDS shards + merge = local sweep, byte for byte"
