"""Asks a Prometheus server holding meshsim exports (.ci/prometheus-check.sh)
what Grafana would ask, and compares its answers with timeseries.csv.

usage: prometheus-check.py URL DASHBOARD REFERENCE_DIR START RUN_NAME=START...

REFERENCE_DIR holds the reference run's timeseries.csv, exported with simulated
time 0 at START (epoch seconds). Each RUN_NAME=START is a run loaded too, whose
data every dashboard query is asked for. Standard library only.
"""

import csv
import json
import math
import sys
import urllib.parse
import urllib.request

# The exported bucket bounds (src/metrics/series.rs, LE_NS), in seconds.
LE = [0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1,
      0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 7.5, 10, 30]
STEPS = [10, 30, 60]  # simulated seconds: the ends of steps compared
failures = []


def query(url, expr, t):
    q = urllib.parse.urlencode({"query": expr, "time": f"{t:.3f}"})
    with urllib.request.urlopen(f"{url}/api/v1/query?{q}", timeout=10) as r:
        doc = json.load(r)
    if doc.get("status") != "success":
        raise SystemExit(f"query failed: {expr}: {doc}")
    return [(s["metric"], float(s["value"][1])) for s in doc["data"]["result"]]


def scalar(url, expr, t):
    result = [v for _, v in query(url, expr, t) if not math.isnan(v)]
    return result[0] if len(result) == 1 else None


def bucket(v):
    """The exported bucket (lo, hi] that holds v (seconds)."""
    lo = 0.0
    for hi in LE:
        if v <= hi:
            return lo, hi
        lo = hi
    return lo, math.inf


def bucket_width(v):
    lo, hi = bucket(v)
    return hi - lo


def row(step, figure, got, want, verdict):
    print(f"{step:>8}s  {figure:<44} {got:>12} {want:>15}  {verdict}")


def check(name, ok):
    if not ok:
        failures.append(name)
    return "ok" if ok else "MISMATCH"


def compare(url, ref_dir, start):
    rows = {}
    with open(f"{ref_dir}/timeseries.csv") as f:
        for r in csv.DictReader(f):
            rows[(float(r["time_s"]), r["component"], r["name"], r["metric"])] = float(r["value"])
    csv_at = lambda t, comp, name, metric: rows.get((float(t), comp, name, metric))
    series = "http_client_requests_seconds_bucket"
    print(f"{'step end':>9}  {'figure':<44} {'PromQL':>12} {'timeseries.csv':>15}  agreement")
    for step in STEPS:
        t = start + step
        for q, label in [(0.5, "p50_ms"), (0.99, "p99_ms")]:
            expr = f"histogram_quantile({q}, sum by (le) (rate({series}[1s])))"
            got = scalar(url, expr, t)
            want = csv_at(step, "workload", "client", label)
            ok = got is not None and want is not None
            ok = ok and abs(got - want / 1e3) <= bucket_width(want / 1e3)
            got_ms = "none" if got is None else f"{got * 1e3:.3f}"
            lo, hi = bucket(want / 1e3)
            figure = f"client {label} (csv's bucket: ({lo * 1e3:g}, {hi * 1e3:g}] ms)"
            row(step, figure, got_ms, want, check(f"{label} at {step}s within a bucket", ok))
        pairs = [
            ('sum(rate(http_client_requests_total{outcome="ok"}[1s]))', "ok_per_s"),
            ('sum(rate(http_client_requests_total{outcome!="ok"}[1s]))', "errors_per_s"),
        ]
        for expr, metric in pairs:
            got, want = scalar(url, expr, t), csv_at(step, "workload", "client", metric)
            ok = got is not None and abs(got - want) <= 0.01 * abs(want) + 1e-9
            row(step, f"client {metric}", f"{got:.3f}", want, check(f"{metric} at {step}s", ok))
        for svc in ["service-a", "service-b"]:
            expr = f'meshsim_service_utilization_ratio{{service="{svc}"}}'
            got, want = scalar(url, expr, t), csv_at(step, "service", svc, "utilization")
            ok = got is not None and abs(got - want) <= 1e-6
            verdict = check(f"{svc} utilization at {step}s", ok)
            row(step, f"{svc} utilization", f"{got:.6f}", want, verdict)
    # A wider window: rate over 10 steps against the mean of the csv's 10 rates.
    t = start + 30
    got = scalar(url, 'sum(rate(http_client_requests_total{outcome="ok"}[10s]))', t)
    want = sum(csv_at(s, "workload", "client", "ok_per_s") for s in range(21, 31)) / 10
    ok = got is not None and abs(got - want) <= 0.01 * want
    verdict = check("ok rate over 10 s", ok)
    row(30, "client ok_per_s, rate over [10s] / csv mean", f"{got:.3f}", f"{want:.3f}", verdict)


def dashboard(url, path, runs):
    doc = json.load(open(path))
    print(f"\n{'panel':<46} {'query ($__rate_interval = 5s)':<62} data at +30 s in")
    for panel in doc["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace("$__rate_interval", "5s")
            hits = [name for name, start in runs
                    if any(not math.isnan(v) for _, v in query(url, expr, start + 30))]
            short = expr if len(expr) <= 60 else expr[:57] + "..."
            print(f"{panel['title'][:45]:<46} {short:<62} {', '.join(hits) or 'none'}")
            check(f"query {expr} has data", bool(hits))


def main():
    url, dash, ref_dir, start = sys.argv[1:5]
    runs = [(r.split("=")[0], float(r.split("=")[1])) for r in sys.argv[5:]]
    compare(url, ref_dir, float(start))
    dashboard(url, dash, runs)
    if failures:
        print("\nFAILED: " + "; ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
