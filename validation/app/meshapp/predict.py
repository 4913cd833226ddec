"""meshsim's side of the protocol: import the baseline's traces, fit, predict.

Run by testbed.py right after the first baseline and before any other
condition is measured. Reads DIR/baseline/otlp.jsonl; writes DIR/model.yaml
(`meshsim import --map`), DIR/fit/ (`meshsim fit`) and DIR/predicted/NAME.json
(`meshsim run --json` of the imported model with only `--set`), one per
condition of testbed.py's CONDITIONS: SEEDS runs as long as the testbed's (a
45 s run at a load past the knee, or of a consumer that cannot keep up, has a
backlog that grows with the run's length: the prediction is of the run the
testbed makes, transient included), whose mean results.py compares. A stopped
consumer's run goes on DRAIN_TAIL_S past the load (no arrivals), as the testbed
waits for its consumers to drain, so its drain time is predicted, not cut off.

No calibration beyond the import: what the traces cannot give (replicas,
workers, cores, prefetch) comes from validation/testbed-map.yaml, written
before any measurement from the testbed's own configuration. An open-loop
condition replays the load generator's planned send times (`arrival:
replay`): the schedule is an input known before the run (seed, rate,
duration), and one 45 s realisation of Poisson arrivals can be far from the
average of many (at load x1.5 the testbed's schedule puts shipping's p99 wait
at the 97th percentile of 200 realisations), so the prediction is of the
arrivals the testbed sends. The 10 seeds still vary everything else.

    python -m meshapp.predict DIR [CONDITION,...]   (MESHSIM: the meshsim binary)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from .loadgen import planned
from .testbed import CONDITIONS, TESTBED, load

MAP = Path(__file__).resolve().parents[2] / "testbed-map.yaml"
WARMUP_S = 5  # as results.py: the testbed's first 5 s are not measured either
SEEDS = 10  # replications per condition: a prediction is their mean
# A stopped consumer's run goes on this long after the load (results.py's window stays
# the load's): its backlog can drain after the last request, as on the testbed.
DRAIN_TAIL_S = 30


def load_s(cond, duration_s):
    """A condition's measured time under load: its run less the warmup."""
    return cond.get("duration_s", duration_s) - WARMUP_S


def sets_for(cond, workload, base_rate, duration_s, seed):
    """The --set arguments that make the imported model one condition."""
    w = f"workload.{workload}"
    duration = cond.get("duration_s", duration_s)
    if "users" in cond:
        sets = [f"{w}.users={cond['users']}", f"{w}.rate=null", f"{w}.arrival=null",
                f"{w}.think={{exponential: {{mean: {cond['think_ms']}ms}}}}"]
    else:
        times = planned(base_rate * cond.get("rate_factor", 1.0), duration, seed)
        listed = ", ".join(f"{round(t * 1e6)}us" for t in times)
        sets = [f"{w}.rate=null", f"{w}.arrival=replay", f"{w}.replay=[{listed}]"]
    if "api_replicas" in cond:
        sets.append(f"services.api.replicas={cond['api_replicas']}")
    failures = []
    if "slow" in cond:
        svc, factor = cond["slow"]
        failures.append(f"{{at: 0s, for: 1h, slow: {svc}, factor: {factor}}}")
    if "pause" in cond:
        svc, at, for_s = cond["pause"]
        failures.append(f"{{at: {at}s, for: {for_s}s, crash: {svc}}}")
    if failures:
        sets.append(f"failures=[{', '.join(failures)}]")
    measured_s = load_s(cond, duration_s)  # meshsim's duration follows warmup
    if "pause" in cond:
        # The load stops at the run's end and the testbed's consumer drains after it;
        # the replayed schedule sends nothing after its last time, so the model drains too.
        measured_s += DRAIN_TAIL_S
    return sets + [f"warmup={WARMUP_S}s", f"duration={measured_s:g}s"]


def main():
    out = Path(sys.argv[1])
    meshsim = os.environ.get("MESHSIM", "meshsim")
    traces, model = out / "baseline" / "otlp.jsonl", out / "model.yaml"
    subprocess.run([meshsim, "import", str(traces), "--map", str(MAP), "--out", str(model)],
                   check=True)
    subprocess.run([meshsim, "fit", str(model), str(traces), "--out", str(out / "fit")],
                   check=True, stdout=subprocess.DEVNULL)
    topo = load(TESTBED)
    base_rate = topo.raw["workload"]["rate_per_s"]
    workload = "api /api/order"
    (out / "predicted").mkdir(exist_ok=True)
    duration_s = json.loads((out / "baseline" / "meta.json").read_text())["duration_s"]
    wanted = sys.argv[2].split(",") if len(sys.argv) > 2 else list(CONDITIONS)
    for name, cond in CONDITIONS.items():
        if name not in wanted:
            continue
        sets = sets_for(cond, workload, base_rate, duration_s, topo.seed)
        runs = []
        for seed in range(1, SEEDS + 1):
            argv = [meshsim, "run", str(model), "--json", "--seed", str(seed),
                    "--out", str(out / "predicted" / "last-run")]  # its summary.json, run.json
            for s in sets:
                argv += ["--set", s]
            res = subprocess.run(argv, check=True, capture_output=True, text=True)
            runs.append(json.loads(res.stdout))
        doc = {"sets": sets, "load_s": load_s(cond, duration_s), "runs": runs}  # without the tail
        (out / "predicted" / f"{name}.json").write_text(json.dumps(doc) + "\n")
        shown = [x if len(x) < 120 else x[:100] + f"... ({x.count(',') + 1} times)]" for x in sets]
        print(f"predict: {name}: {SEEDS} seeds: {' '.join(shown)}", flush=True)


if __name__ == "__main__":
    main()
