"""Runs the testbed (docs/VALIDATION.md): conditions, one after another, measured.

Starts epmd and an own RabbitMQ node once (record.py), then per condition:
the six services of testbed.json (api as `replicas` processes on their own
ports, compute pinned with taskset to a core no other process of the testbed
runs on), nginx (Debian's, its config, pid and logs
in the work directory, 127.0.0.1 only) in front of the api replicas, and the
load generator; waits for the consumers to drain; stops nginx and the services
by process-group id. Everything started is stopped, also on an error or a
signal. Per condition DIR/NAME/ gets requests.csv (the load generator's own
record), lag-SERVICE.csv (each consumer's), meta.json, and otlp.jsonl (every
service's spans: the baseline's are imported, the others kept for diagnosis).

The baseline is run again at once (DIR/baseline-check) until two runs in a row
agree on the mean latency within STEADY (at most --steady-tries more runs; an
earlier run that did not agree is kept as DIR/unsteady-baseline-N): a model
imported from a baseline the testbed has already left predicts nothing. Then
it runs --predict (e.g. "python -m meshapp.predict") on DIR/baseline, and only
then measures the others: the prediction is made before the measurement.

    python -m meshapp.testbed --out DIR [--conditions baseline,rate_x1.5,...]
        [--repeat-baseline 3] [--duration 45] [--predict CMD] [--nice -15] [--warm-up 20]
        [--steady-tries 3]
"""

import argparse
import json
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from .record import Processes, free_port, port_open, start_rabbitmq, wait_until
from .topology import load

TESTBED = Path(__file__).resolve().parent.parent / "testbed.json"

# What each condition changes. `rate_factor` scales the baseline rate; `users`
# and `think_ms` make a closed loop; `api_replicas`; `slow` multiplies one
# service's work; `pause` stops a consumer for (service, at_s, for_s).
CONDITIONS = {
    "baseline": {},
    "rate_x1.5": {"rate_factor": 1.5},
    "rate_x2": {"rate_factor": 2.0},
    "rate_x2.4": {"rate_factor": 2.4},
    "one_replica": {"api_replicas": 1},
    "slow_inventory": {"slow": ["inventory", 2.0]},
    "consumer_stop": {"pause": ["shipping", 20, 20], "duration_s": 60},
    "closed_20": {"users": 20, "think_ms": 500},
}


def nginx_conf(work: Path, listen: int, upstreams) -> Path:
    d = work / "nginx"
    d.mkdir(exist_ok=True)
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams)
    temp = "".join(f"  {k}_temp_path {d}/{k};\n" for k in
                   ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = d / "nginx.conf"
    conf.write_text(f"""user root;
worker_processes 1;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
{temp}  upstream api {{
{servers}    keepalive 64;
  }}
  server {{
    listen 127.0.0.1:{listen};
    location / {{
      proxy_pass http://api;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 30s;
    }}
  }}
}}
""")
    return conf


def service_argv(py, topo, name, ports, amqp, out, extra):
    opts = topo.raw.get("testbed", {}).get(name, {})
    argv = [py, "-m", "meshapp.service", "--testbed", "--name", name, "--ports",
            json.dumps(ports), "--amqp", amqp, "--out", str(out), "--collector", "-",
            "--topology", str(topo.path), "--concurrency", str(opts.get("concurrency", 1)),
            "--prefetch", str(opts.get("prefetch", 10))]
    if opts.get("cpu"):
        argv.append("--cpu")
    if "taskset" in opts:
        argv = ["taskset", "-c", str(opts["taskset"])] + argv
    return argv + extra


def start_services(procs, topo, cond, amqp, out, py):
    """The services of one condition; returns (api replica ports, names started)."""
    opts = topo.raw.get("testbed", {})
    n_api = cond.get("api_replicas", opts.get("api", {}).get("replicas", 1))
    ports = {name: free_port() for name in topo.services}
    api_ports = [free_port() for _ in range(n_api)]
    names = []
    for name in topo.services:
        extra = []
        if cond.get("slow", [None])[0] == name:
            extra += ["--work-factor", str(cond["slow"][1])]
        if name in {svc for svc, _ in topo.consumers}:
            extra += ["--lag-log", str(out / f"lag-{name}.csv")]
        copies = [(f"{name}-{i}", ["--port", str(p)]) for i, p in enumerate(api_ports)] \
            if name == "api" else [(name, [])]
        for proc_name, port_arg in copies:
            # each replica exports its own OTLP file: the service name stays `api`
            o = out / proc_name
            o.mkdir(exist_ok=True)
            procs.start(proc_name, service_argv(py, topo, name, ports, amqp, o, extra + port_arg))
            names.append((proc_name, o / f"{name}.ready"))
    wait_until("services", lambda: all(r.exists() for _, r in names), 60, procs.procs)
    return api_ports, [n for n, _ in names]


def loadgen_argv(py, topo, cond, url, out, duration):
    base = topo.raw["workload"]
    argv = [py, "-m", "meshapp.loadgen", "--url", url, "--duration", str(duration),
            "--seed", str(topo.seed), "--out", str(out / "requests.csv")]
    if "users" in cond:
        return argv + ["--users", str(cond["users"]), "--think-ms", str(cond["think_ms"])]
    return argv + ["--rate", str(base["rate_per_s"] * cond.get("rate_factor", 1.0))]


def probe_ms(rounds=5):
    """The machine's speed just before a run: the mean wall time (ms) of a fixed
    pure-Python loop. A virtual machine's vCPUs share a host: the same loop
    takes longer when the host is busy, whatever this machine's load."""
    total = 0.0
    for _ in range(rounds):
        t = time.perf_counter()
        x = 0
        for i in range(1_000_000):
            x += i
        total += time.perf_counter() - t
    return 1e3 * total / rounds


def drained(out, topo, timeout_s, still_s=3.0):
    """Waits until every consumer has handled as many messages as requests
    succeeded, and then until no consumer has handled one for `still_s`: a
    request that failed at nginx (its 30 s timeout) may have published all
    the same, and a backlog left behind would be the next condition's."""
    rows = (out / "requests.csv").read_text().splitlines()[1:]
    ok = sum(1 for r in rows if r.endswith(",200"))
    logs = [out / f"lag-{svc}.csv" for svc, _ in topo.consumers]
    deadline = time.monotonic() + timeout_s
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        counts = [len(p.read_text().splitlines()) if p.exists() else 0 for p in logs]
        if counts != last:
            last, since = counts, time.monotonic()
        elif all(c >= ok for c in counts) and time.monotonic() - since >= still_s:
            return True
        time.sleep(0.5)
    return False


def run_condition(procs, topo, name, cond, amqp, out, args):
    py = sys.executable
    out.mkdir(parents=True, exist_ok=True)
    duration = cond.get("duration_s", args.duration)
    api_ports, names = start_services(procs, topo, cond, amqp, out, py)
    gw = free_port()
    conf = nginx_conf(out, gw, api_ports)
    procs.start("nginx", ["nginx", "-p", str(conf.parent), "-e", str(conf.parent / "error.log"),
                          "-c", str(conf)])
    names.append("nginx")
    wait_until("nginx", lambda: port_open(gw), 20, procs.procs)
    meta = {"condition": name, "spec": cond, "duration_s": duration, "api_replicas": len(api_ports),
            "loadavg_before": os.getloadavg(), "probe_ms": round(probe_ms(), 3),
            "start_epoch": time.time()}
    url = f"http://127.0.0.1:{gw}/api/order"
    print(f"testbed: {name}: {cond or 'baseline'} for {duration} s", flush=True)
    load_proc = procs.start("loadgen", loadgen_argv(py, topo, cond, url, out, duration))
    if "pause" in cond:
        svc, at, for_s = cond["pause"]
        time.sleep(at)
        meta["pause_epoch"] = time.time()
        os.kill(procs.procs[svc].pid, signal.SIGUSR1)
        time.sleep(for_s)
        meta["resume_epoch"] = time.time()
        os.kill(procs.procs[svc].pid, signal.SIGUSR2)
    load_proc.wait(timeout=duration + 60)
    meta["loadavg_after"] = os.getloadavg()
    print("  " + (procs.logs / "loadgen.log").read_text().strip(), flush=True)
    if load_proc.returncode != 0:
        raise RuntimeError(f"{name}: the load generator failed (loadgen.log)")
    meta["drained"] = drained(out, topo, 90)
    procs.stop(names, timeout_s=120)  # SIGTERM: each service exports its spans, then exits
    for n in names + ["loadgen"]:
        procs.procs.pop(n, None)  # stopped: the next condition's checks look at its own
    # Every condition keeps its services' spans (the baseline's are what meshsim
    # imports; the others are there to find out why a prediction missed).
    with open(out / "otlp.jsonl", "w") as f:
        for d in sorted(out.glob("*/otlp-*.jsonl")):
            f.write(d.read_text())
    for d in [p for p in out.iterdir() if p.is_dir() and p.name != "nginx"]:
        shutil.rmtree(d)
    (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")


# Two baselines in a row agree when their mean latencies differ by at most this share.
STEADY = 0.05


def steady_baseline(procs, topo, amqp, args):
    """DIR/baseline, run again (DIR/baseline-check) until two runs in a row agree."""
    from .results import measured  # results imports this module's names inside functions

    base, check = args.out / "baseline", args.out / "baseline-check"
    run_condition(procs, topo, "baseline", CONDITIONS["baseline"], amqp, base, args)
    for attempt in range(1, args.steady_tries + 1):
        run_condition(procs, topo, "baseline", CONDITIONS["baseline"], amqp, check, args)
        a, b = measured(base)["mean_ms"], measured(check)["mean_ms"]
        if abs(b / a - 1) <= STEADY:
            print(f"testbed: the baseline is steady: mean {a:.1f} ms, then {b:.1f} ms", flush=True)
            return
        print(f"testbed: the baseline moved: mean {a:.1f} ms, then {b:.1f} ms; again", flush=True)
        base.rename(args.out / f"unsteady-baseline-{attempt}")
        check.rename(base)
    if args.steady_tries:
        print("testbed: the baseline did not settle; predicting from the last run", flush=True)


def plan(args):
    """(directory name, condition name) in order after the first baseline: the
    other conditions, then the baseline's repeats."""
    names = args.conditions.split(",")
    unknown = [n for n in names if n not in CONDITIONS]
    if unknown:
        raise SystemExit(f"testbed: unknown condition(s) {unknown}; known: {list(CONDITIONS)}")
    order = [(n, n) for n in names if n != "baseline"]
    order += [(f"baseline-{i}", "baseline") for i in range(2, args.repeat_baseline + 1)]
    return order


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--topology", type=Path, default=TESTBED)
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--repeat-baseline", type=int, default=3, help="baseline runs in all")
    ap.add_argument("--duration", type=float, help="seconds of load per condition")
    ap.add_argument("--predict", help="a command run after the baseline, given --out and "
                    "--conditions")
    ap.add_argument("--nice", type=int, default=0, help="as record.py's --nice")
    ap.add_argument("--warm-up", type=float, default=20.0,
                    help="seconds of unmeasured load at the baseline rate before the first run")
    ap.add_argument("--steady-tries", type=int, default=3,
                    help="baseline runs after the first, at most, until two in a row agree "
                    "(0: no check)")
    args = ap.parse_args()
    topo = load(args.topology)
    topo.path = args.topology
    args.duration = args.duration or topo.raw["workload"]["duration_s"]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    signal.signal(signal.SIGHUP, lambda *_: sys.exit(129))
    args.all_cores = isolate(topo)
    work = Path(tempfile.mkdtemp(prefix="testbed-"))
    procs = Processes(work, args.nice)
    try:
        amqp = start_rabbitmq(procs, work)
        if args.warm_up > 0:
            # A fresh testbed (a RabbitMQ node just booted, services just started) ran its
            # first baseline 8% slower than two more at the end of a full run (mean 99.9 ms
            # against 92.1 and 92.6): a run at the baseline's load, kept nowhere, first.
            print(f"testbed: warm-up at the baseline's load for {args.warm_up:g} s", flush=True)
            warm = argparse.Namespace(**{**vars(args), "duration": args.warm_up})
            run_condition(procs, topo, "baseline", CONDITIONS["baseline"], amqp,
                          work / "warm-up", warm)
        order = plan(args)
        if "baseline" in args.conditions.split(","):
            steady_baseline(procs, topo, amqp, args)
            if args.predict:
                predict(procs, work, args)
        for dirname, cond in order:
            run_condition(procs, topo, cond, CONDITIONS[cond], amqp, args.out / dirname, args)
    except BaseException:
        # The messages name logs in the work directory: keep them.
        procs.stop_all()
        print(f"testbed: logs kept in {work}", file=sys.stderr)
        raise
    procs.stop_all()
    shutil.rmtree(work, ignore_errors=True)


def isolate(topo):
    """Moves this harness, and so everything it starts, off the cores a service is
    pinned to (testbed.json's `taskset`): no other process of the testbed runs on
    them (processes outside it and the kernel still may). With the others free to
    run anywhere, compute's 12 ms of CPU took 12.9 to 15.8 ms of wall time and
    moved by up to 18% within one run (other processes ran on its core); with them
    on the other core, 12.0 to 12.6 ms. Returns the cores it had (the prediction
    gets them back), or None when nothing is pinned; exits when a pinned core is
    not this process's to give or none would be left for the rest."""
    pinned = set()
    for opts in topo.raw.get("testbed", {}).values():
        for part in str(opts.get("taskset", "")).split(","):
            if part:  # taskset -c's list: "1", "0,2", "2-3"
                lo, _, hi = part.partition("-")
                pinned |= set(range(int(lo), int(hi or lo) + 1))
    if not pinned:
        return None
    every = os.sched_getaffinity(0)
    rest = every - pinned
    if not pinned <= every or not rest:
        raise SystemExit(f"testbed: the pinned service(s) need cores {sorted(pinned)} and the "
                         f"rest of the testbed at least one more; this process may run on "
                         f"{sorted(every)} (testbed.json's `taskset`, or a machine with more cores)")
    os.sched_setaffinity(0, rest)
    print(f"testbed: cores {sorted(pinned)} for the pinned service(s), {sorted(rest)} for "
          "everything else", flush=True)
    return every


def predict(procs: Processes, work: Path, args):
    """The prediction, in a process group of its own like everything started
    here (a signal stops the meshsim it runs too); its output shown after."""
    argv = shlex.split(args.predict) + [str(args.out), args.conditions]
    if args.all_cores:  # nothing else runs while meshsim predicts
        argv = ["taskset", "-c", ",".join(map(str, sorted(args.all_cores)))] + argv
    code = procs.start("predict", argv).wait()
    del procs.procs["predict"]  # ended: not among the processes checked alive
    sys.stdout.write((work / "predict.log").read_text(errors="replace"))
    if code != 0:
        raise SystemExit(f"testbed: the prediction failed (exit {code}; predict.log)")


if __name__ == "__main__":
    main()
