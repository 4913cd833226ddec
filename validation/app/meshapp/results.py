"""Predicted vs measured, per condition: validation/RESULTS.md (docs/VALIDATION.md).

Measured figures come from the load generator's own requests.csv (requests
sent after the 5 s warmup, as meshsim's summary counts them) and, for the
lag, from the consumer's own log of (published_at, done_at). Predicted
figures come from DIR/predicted/NAME.json (predict.py). The testbed's own
noise is the spread of the repeated baselines: mean ± t(0.975, n-1)·s, the
range one more run falls in 95% of the time.

    python -m meshapp.results DIR --out validation/RESULTS.md [--smoke BOUNDS]
"""

import argparse
import json
import math
import statistics
from pathlib import Path

WARMUP_S = 5.0
DRAINED_LAG = 10  # a group has drained when its lag is back at or below this
T975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57}
GOALS = {"throughput_per_s": 0.05, "mean_ms": 0.10, "p50_ms": 0.10, "p99_ms": 0.20,
         "lag_peak": 0.20}
METRICS = ["throughput_per_s", "mean_ms", "p50_ms", "p99_ms", "error_share"]


def quantile(xs, q):
    """Linear interpolation between order statistics (as meshapp.check)."""
    if not xs:
        return math.nan
    pos = q * (len(xs) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


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
    return m


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


def predicted(summary, cond):
    (w,) = summary["workload"].values()
    window = summary["duration_s"] - summary["warmup_s"]
    bad = w["failed"] + w["timed_out"] + w["rejected"]
    p = {"throughput_per_s": w["ok"] / window, "mean_ms": w["latency_ms"]["mean"],
         "p50_ms": w["latency_ms"]["p50"], "p99_ms": w["latency_ms"]["p99"],
         "error_share": bad / max(1, w["sent"])}
    if "pause" in cond:
        svc, at, for_s = cond["pause"]
        (topic,) = summary["topics"].values()
        g = topic["groups"][svc]
        series, step = g["lag"], g["series_step_s"]
        after = [i for i, v in enumerate(series) if i * step >= at + for_s and v <= DRAINED_LAG]
        p["lag_peak"] = g["max_lag"]
        p["drain_s"] = after[0] * step - (at + for_s) if after else math.nan
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
        summary = json.loads(pred.read_text())
        m, p = measured(run), predicted(summary, cond)
        rho = summary["services"].get("compute", {}).get("utilization")
        label = f"{name} (ρ {rho:.2f})" if isinstance(rho, (int, float)) else name
        for k in METRICS + [k for k in ("lag_peak", "drain_s") if k in p]:
            err = p[k] - m[k] if k == "error_share" else rel(p[k], m[k])
            out.append((label, k, p[k], m[k], err, GOALS.get(k), m["loadavg"]))
    return out


def markdown(d: Path, rows):
    lines = ["| condition | metric | predicted | measured | error | goal | met |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- |"]
    for label, k, p, m, err, goal, _ in rows:
        e = f"{100 * err:+.2f} pt" if k == "error_share" else f"{100 * err:+.1f}%"
        g = f"±{100 * goal:.0f}%" if goal else ""
        met = "" if not goal or math.isnan(err) else ("yes" if abs(err) <= goal else "**no**")
        lines.append(f"| {label} | {k} | {fmt(p, k)} | {fmt(m, k)} | {e} | {g} | {met} |")
    reps = sorted(p for p in d.glob("baseline*") if (p / "meta.json").exists())
    if len(reps) > 1:
        lines += ["", f"The testbed's own noise: {len(reps)} baseline runs, mean ± the 95% range "
                  "of one run (t·s).", "", "| metric | mean | ± 95% | relative |",
                  "| --- | ---: | ---: | ---: |"]
        for k, (mean, half) in noise([measured(p) for p in reps]).items():
            r = f"±{100 * half / mean:.1f}%" if mean else ""
            lines.append(f"| {k} | {fmt(mean, k)} | {fmt(half, k)} | {r} |")
    loads = sorted({round(r[6], 1) for r in rows})
    lines += ["", f"Load average (1 min) at the start of each run: {', '.join(map(str, loads))}."]
    return "\n".join(lines) + "\n"


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
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(text)
        tmp.replace(args.out)
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
