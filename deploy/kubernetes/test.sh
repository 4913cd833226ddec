#!/usr/bin/env bash
# The Kubernetes Jobs' commands, without Kubernetes: runs the exact `sh -c` text of
# deploy/kubernetes/sweep-job.yaml once per completion index (JOB_COMPLETION_INDEX
# 0..completions-1, as the Indexed Job sets it) and then merge-job.yaml's, with the
# volumes' mount paths (/scenarios, /results) mapped to a temporary folder, and checks
# the merge is byte-identical to a local sweep. The scenario is copied with duration
# 1s. It checks the commands, the shard count and the paths, not the cluster, the
# image (Dockerfile) or the volumes.
#
#   bash deploy/kubernetes/test.sh            # MESHSIM=/path/to/meshsim to skip the build
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
if [[ -z "${MESHSIM:-}" ]]; then
  cargo build --release --locked --quiet
  MESHSIM="$repo/target/release/meshsim"
fi
MESHSIM=$(realpath "$MESHSIM")
if ! python3 -c 'import yaml' 2>/dev/null; then   # Debian 12, as root
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-yaml >/dev/null
fi
T=$(mktemp -d /tmp/meshsim-k8s.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$T"/{bin,scenarios,results}
ln -s "$MESHSIM" "$T/bin/meshsim"
export PATH="$T/bin:$PATH"
sed -e 's/^duration: 60s$/duration: 1s/' -e 's/^warmup: 5s$/warmup: 200ms/' \
  scenarios/reference-sync.yaml > "$T/scenarios/reference-sync.yaml"

python3 - <<'PY2' || { echo "FAIL: README.md does not show deploy/kubernetes/sweep-job.yaml verbatim" >&2; exit 1; }
import sys
sys.exit("```yaml\n" + open("deploy/kubernetes/sweep-job.yaml").read() + "```" not in open("README.md").read())
PY2

# completions, mount paths and the shell text of each Job (PyYAML folds the scalar as Kubernetes does).
mapfile -t job < <(python3 - "$T" <<'PY'
import sys, yaml
t = sys.argv[1]
def job(f):
    d = yaml.safe_load(open(f))
    spec = d["spec"]["template"]["spec"]
    c = spec["containers"][0]
    assert c["command"] == ["sh", "-c"], f
    assert c["image"] == "your-registry/meshsim:latest", f
    text = c["args"][0]
    for m in c["volumeMounts"]:
        text = text.replace(m["mountPath"] + "/", f"{t}/{m['name']}/")
    return d["spec"], text
s, sweep = job("deploy/kubernetes/sweep-job.yaml")
assert s["completionMode"] == "Indexed" and s["completions"] == s["parallelism"]
_, merge = job("deploy/kubernetes/merge-job.yaml")
print(s["completions"]); print(sweep); print(merge)
PY
)
[[ ${#job[@]} -eq 3 ]] || { echo "FAIL: could not read the Jobs" >&2; exit 1; }
completions=${job[0]} sweep=${job[1]} merge=${job[2]}
echo "completions: $completions"
echo "sweep: $sweep"
for ((i = 0; i < completions; i++)); do
  JOB_COMPLETION_INDEX=$i sh -c "$sweep" 2>&1 | tail -n 1
done
echo "merge: $merge"
sh -c "$merge" 2>&1 | tail -n 1
meshsim sweep "$T/scenarios/reference-sync.yaml" \
  --set services.service-b.replicas=4..12 --set workload.client.rate=5000/s..15000/s:11 \
  --replications 5 --out "$T/local" 2>&1 | tail -n 1
for f in sweep.csv sweep.json sweep.html; do
  cmp "$T/results/merged/$f" "$T/local/$f"
  echo "identical: $f"
done
echo "PASS: the Indexed Job's $completions shard commands + the merge Job's = local sweep"
