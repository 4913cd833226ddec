"""What the model takes as fixed, measured in every condition: each service's
mean span (SERVER, or CONSUMER for a consumer) in the condition's own traces
(DIR/NAME/otlp.jsonl, kept by testbed.py) against the baseline's, from which
meshsim imported it. A service whose spans shorten or lengthen with the load
(CPU contention, a busier event loop, a warmer cache) is one the prediction
cannot follow: a section of RESULTS.md (results.py).
"""

import statistics
from pathlib import Path

from .check import read_otlp

KINDS = {2: "SERVER", 5: "CONSUMER", "SPAN_KIND_SERVER": "SERVER",
         "SPAN_KIND_CONSUMER": "CONSUMER"}


def span_means(path: Path):
    """{service: mean ms} over the SERVER and CONSUMER spans of one OTLP JSON Lines file."""
    durations = {}
    for s in read_otlp(path):
        if s.get("kind") in KINDS:
            durations.setdefault(s["service"], []).append((s["end"] - s["start"]) / 1e6)
    return {svc: statistics.fmean(xs) for svc, xs in durations.items()}


def section(d: Path, names):
    """Markdown lines: per condition, each service's mean span and its change from the baseline."""
    base_path = d / "baseline" / "otlp.jsonl"
    if not base_path.exists():
        return []
    base = span_means(base_path)
    services = sorted(base)
    lines = ["", "Each service's mean span (ms) in each condition's own traces, and its change "
             "from the baseline's, which the model keeps (docs/VALIDATION.md):", "",
             "| condition | " + " | ".join(services) + " |",
             "| --- |" + " ---: |" * len(services)]
    for name in names:
        path = d / name / "otlp.jsonl"
        if not path.exists():
            continue
        means = base if name == "baseline" else span_means(path)
        cells = []
        for svc in services:
            m = means.get(svc)
            change = "" if name == "baseline" or m is None else f" ({100 * (m / base[svc] - 1):+.1f}%)"
            cells.append("–" if m is None else f"{m:.2f}{change}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines
