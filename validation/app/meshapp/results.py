"""Predicted vs measured, per condition: validation/RESULTS.md (docs/VALIDATION.md).

Measured figures come from the load generator's own requests.csv (requests
sent after the 5 s warmup, as meshsim's summary counts them) and, for the
lag, from the consumer's own log of (published_at, done_at). Predicted
figures come from DIR/predicted/NAME.json (predict.py). The testbed's own
noise is the spread of the repeated baselines: mean ± t(0.975, n-1)·s, the
range one more run falls in 95% of the time.

    python -m meshapp.results DIR --out validation/RESULTS.md [--smoke BOUNDS]

--out also writes the chart beside it (RESULTS.svg, chart.py).
"""

import argparse
import json
import math
import statistics
from pathlib import Path

from .check import quantile  # linear interpolation between order statistics

WARMUP_S = 5.0
DRAINED_LAG = 10  # a group has drained when its lag is back at or below this
T975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57}
GOALS = {"throughput_per_s": 0.05, "mean_ms": 0.10, "p50_ms": 0.10, "p99_ms": 0.20,
         "lag_peak": 0.20}
METRICS = ["throughput_per_s", "mean_ms", "p50_ms", "p99_ms", "error_share"]


def measured(d: Path):
    meta = json.loads((d / "meta.json").read_text())
    rows = [r.split(",") for r in (d / "requests.csv").read_text().splitlines()[1:]]
    rows = [(float(s), float(lat), int(st)) for _, s, lat, st in rows if float(s) >= WARMUP_S]
    ok = sorted(lat * 1e3 for _, lat, st in rows if st == 200)
    window = meta["duration_s"] - WARMUP_S
    m = {"throughput_per_s": len(ok) / window, "mean_ms": statistics.fmean(ok) if ok else math.nan,
         "p50_ms": quantile(ok, 0.5), "p99_ms": quantile(ok, 0.99),
         "error_share": (len(rows) - len(ok)) / max(1, len(rows)),
         "loadavg": meta["loadavg_before"][0]}
    if "pause_epoch" in meta:
        m.update(lag(d / f"lag-{meta['spec']['pause'][0]}.csv", meta))
    for path in sorted(d.glob("lag-*.csv")):
        m.update(event_latency(path, meta["start_epoch"] + WARMUP_S))
    return m


def event_latency(path: Path, after_epoch):
    """A consumer's event latency (publish to the end of its handling), ms: mean and p99."""
    group = path.stem.removeprefix("lag-")
    lat = sorted((done - pub) * 1e3 for pub, done in
                 (map(float, line.split(",")) for line in path.read_text().splitlines())
                 if pub >= after_epoch)
    return {f"event_{group}_mean_ms": statistics.fmean(lat) if lat else math.nan,
            f"event_{group}_p99_ms": quantile(lat, 0.99)}


def lag(path: Path, meta):
    """Peak lag (published, not yet handled) and the time from resume until it drained."""
    events = []
    for line in path.read_text().splitlines():
        pub, done = map(float, line.split(","))
        events += [(pub, 1), (done, -1)]
    events.sort()
    level, peak, drained_at = 0, 0, math.nan
    for t, step in events:
        level += step
        peak = max(peak, level)
        if t > meta["resume_epoch"] and level <= DRAINED_LAG and math.isnan(drained_at):
            drained_at = t
    return {"lag_peak": peak, "drain_s": drained_at - meta["resume_epoch"]}


def predicted(doc, cond):
    """The mean over predict.py's replications of each figure."""
    runs = [predicted_one(s, cond, doc.get("load_s")) for s in doc.get("runs", [doc])]
    return {k: statistics.fmean(r[k] for r in runs) for k in runs[0]}


def predicted_one(summary, cond, load_s=None):
    (w,) = summary["workload"].values()
    window = load_s or summary["duration_s"]  # the load's time after the warmup (no drain tail)
    bad = w["failed"] + w["timed_out"] + w["rejected"]
    p = {"throughput_per_s": w["ok"] / window, "mean_ms": w["latency_ms"]["mean"],
         "p50_ms": w["latency_ms"]["p50"], "p99_ms": w["latency_ms"]["p99"],
         "error_share": bad / max(1, w["sent"])}
    (topic,) = summary["topics"].values()
    for group, g in topic["groups"].items():
        p[f"event_{group}_mean_ms"] = g["latency_ms"]["mean"]
        p[f"event_{group}_p99_ms"] = g["latency_ms"]["p99"]
    if "pause" in cond:
        svc, at, for_s = cond["pause"]
        g = topic["groups"][svc]
        series, step = g["lag"], g["series_step_s"]
        after = [i for i, v in enumerate(series) if i * step >= at + for_s and v <= DRAINED_LAG]
        p["lag_peak"] = g["max_lag"]
        # not drained by the run's end (its tail included): the run's end, a lower bound
        end = after[0] * step if after else len(series) * step
        p["drain_s"] = end - (at + for_s)
    return p


def noise(runs):
    """Per metric: (mean, half-width of the 95% range of one run), from repeated baselines."""
    out = {}
    for k in METRICS:
        xs = [r[k] for r in runs]
        if len(xs) > 1:
            out[k] = (statistics.fmean(xs), T975.get(len(xs) - 1, 2.0) * statistics.stdev(xs))
    return out


def rel(p, m):
    return (p - m) / m if m else math.nan


def fmt(x, k):
    if isinstance(x, float) and math.isnan(x):
        return "–"
    if k == "error_share":
        return f"{100 * x:.2f}%"
    if k in ("lag_peak",):
        return f"{x:.0f}"
    return f"{x:.1f}"


def rows_of(d: Path):
    """(condition, metric, predicted, measured, relative error, goal) for every measured run."""
    from .testbed import CONDITIONS

    out = []
    for name, cond in CONDITIONS.items():
        run, pred = d / name, d / "predicted" / f"{name}.json"
        if not (run / "meta.json").exists() or not pred.exists():
            continue
        doc = json.loads(pred.read_text())
        m, p = measured(run), predicted(doc, cond)
        # utilisation over the load's window, not over a drain tail without arrivals
        rho = statistics.fmean(s["services"]["compute"]["utilization"] * s["duration_s"]
                               / (doc.get("load_s") or s["duration_s"])
                               for s in doc.get("runs", [doc]))
        label = f"{name} (ρ {rho:.2f})" if isinstance(rho, (int, float)) else name
        extra = ["lag_peak", "drain_s"] + sorted(k for k in p if k.startswith("event_"))
        for k in METRICS + [k for k in extra if k in p and k in m]:
            err = p[k] - m[k] if k == "error_share" else rel(p[k], m[k])
            goal = 0.20 if k.startswith("event_") else GOALS.get(k)
            out.append((label, k, p[k], m[k], err, goal, m["loadavg"]))
    return out


def markdown(d: Path, rows):
    lines = ["# Validation results: meshsim predicted, then the testbed measured", "",
             "Written by `bash validation/run.sh` (docs/VALIDATION.md explains every column); "
             "ρ is the bottleneck's (compute's) utilisation in the prediction. Event latency: "
             "publish to the end of a consumer's handling.", "",
             "| condition | metric | predicted | measured | error | goal | met |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for label, k, p, m, err, goal, _ in rows:
        e = f"{100 * err:+.2f} pt" if k == "error_share" else f"{100 * err:+.1f}%"
        g = f"±{100 * goal:.0f}%" if goal else ""
        met = "" if not goal or math.isnan(err) else ("yes" if abs(err) <= goal else "**no**")
        lines.append(f"| {label} | {k} | {fmt(p, k)} | {fmt(m, k)} | {e} | {g} | {met} |")
    # The imported baseline and the repeats at the end (not baseline-check, chosen for agreeing).
    reps = [p for p in [d / "baseline", *sorted(d.glob("baseline-[0-9]*"))]
            if (p / "meta.json").exists()]
    if len(reps) > 1:
        lines += ["", f"The testbed's own noise: {len(reps)} baseline runs, mean ± the 95% range "
                  "of one run (t·s).", "", "| metric | mean | ± 95% | relative |",
                  "| --- | ---: | ---: | ---: |"]
        for k, (mean, half) in noise([measured(p) for p in reps]).items():
            r = f"±{100 * half / mean:.1f}%" if mean else ""
            lines.append(f"| {k} | {fmt(mean, k)} | {fmt(half, k)} | {r} |")
    lines += moved(d)
    from .drift import section
    from .testbed import CONDITIONS

    lines += section(d, list(CONDITIONS))
    kp, km = knee(rows)
    if not math.isnan(km):
        lines += ["", f"Saturation, the load where p99 passes 300 ms (the baseline's p99 is "
                  f"already near 200 ms): predicted ×{kp:.2f} of the baseline rate, measured "
                  f"×{km:.2f} ({100 * rel(kp, km):+.1f}%; goal ±10%)."]
    loads = sorted({round(r[6], 1) for r in rows})
    lines += ["", f"Load average (1 min) at the start of each run: {', '.join(map(str, loads))}."]
    probes = [(p.name, json.loads((p / "meta.json").read_text()).get("probe_ms"))
              for p in sorted(d.iterdir(), key=lambda p: p.stat().st_mtime)
              if (p / "meta.json").exists()]
    if any(ms for _, ms in probes):
        lines += ["", "The machine's speed before each run, in run order: the wall time of a "
                  "fixed Python loop (ms; the host's other tenants change it): "
                  + ", ".join(f"{n} {ms:.1f}" for n, ms in probes if ms) + "."]
    return "\n".join(lines) + "\n"


def moved(d: Path):
    """A line comparing the imported baseline with the repeats at the end of the run: a
    testbed whose speed moved between them ran the later conditions on another system."""
    from .testbed import STEADY

    ends = [p for p in d.glob("baseline-[0-9]*") if (p / "meta.json").exists()]
    if not (d / "baseline" / "meta.json").exists() or not ends:
        return []
    first = measured(d / "baseline")["mean_ms"]
    last = statistics.fmean(measured(p)["mean_ms"] for p in ends)
    change = last / first - 1
    steady = abs(change) <= STEADY
    verdict = ("within" if steady else "**past**") + f" the {100 * STEADY:.0f}% "
    meaning = ("the testbed kept the speed the model was imported from" if steady else
               "the testbed moved, so the later conditions ran on another system than the one "
               "imported, and their errors measure that as much as the model")
    return ["", f"The imported baseline's mean was {first:.1f} ms; the {len(ends)} at the end of "
            f"the run measured {last:.1f} ms ({100 * change:+.1f}%, {verdict}the protocol allows "
            f"between two baselines): {meaning}."]


def knee(rows, p99_ms=300.0):
    """The load (requests/s) where p99 passes `p99_ms`, predicted and measured, by linear
    interpolation between the open-loop rate conditions."""
    pts = {}
    for label, k, p, m, *_ in rows:
        name = label.split(" ")[0]
        if k == "p99_ms" and (name == "baseline" or name.startswith("rate_x")):
            factor = 1.0 if name == "baseline" else float(name.removeprefix("rate_x"))
            pts[factor] = (p, m)
    pts = sorted(pts.items())

    def cross(i):
        for (f0, a), (f1, b) in zip(pts, pts[1:]):
            if a[i] <= p99_ms < b[i]:
                return f0 + (f1 - f0) * (p99_ms - a[i]) / (b[i] - a[i])
        return math.nan

    return cross(0), cross(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir", type=Path)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--smoke", help="bounds that fail the run: throughput=0.1,mean=0.3,p99=0.5")
    args = ap.parse_args()
    rows = rows_of(args.dir)
    text = markdown(args.dir, rows)
    print(text)
    if args.out:
        from .chart import svg

        for path, data in ((args.out, text.encode()), (args.out.with_suffix(".svg"), svg(rows))):
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(data)
            tmp.replace(path)
    if args.smoke:
        bounds = {f"{k}_ms" if k in ("mean", "p50", "p99") else f"{k}_per_s"
                  if k == "throughput" else k: float(v)
                  for k, v in (b.split("=") for b in args.smoke.split(","))}
        bad = [(r[0], r[1], r[4]) for r in rows if r[1] in bounds and not abs(r[4]) <= bounds[r[1]]]
        for label, k, err in bad:
            print(f"smoke: FAIL {label} {k}: error {100 * err:+.1f}% past ±{100 * bounds[k]:.0f}%")
        if not rows or bad:
            raise SystemExit(1)
        print(f"smoke: ok ({len(rows)} figures within {args.smoke})")


if __name__ == "__main__":
    main()
