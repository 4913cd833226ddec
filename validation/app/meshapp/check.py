"""Checks recorded traces against what the application was coded to do.

Reads the merged OTLP/JSON lines (plain or gzip) and checks: the services are
exactly topology.json's; every span kind the topology implies is there
(SERVER, CLIENT, PRODUCER, CONSUMER); every parent is in the file; each trace
has one root, the entry endpoint's SERVER span; each call's CLIENT span is the
parent of the callee's SERVER span; the optional call happens in its
probability's share of the traces (within 3 points); PRODUCER spans carry
messaging.system and messaging.destination and each has one CONSUMER child per
consuming service; each endpoint's exclusive work (its span's duration minus
the union of its children's intervals) has p50 and p99 within 10% of the coded
distribution's. Also that the Zipkin and Jaeger files hold the same span ids.
Prints a table; exits 1 if a check fails.

    python -m meshapp.check --dir tests/data/traces
"""

import argparse
import gzip
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

from .topology import load, split_target

KINDS = {1: "INTERNAL", 2: "SERVER", 3: "CLIENT", 4: "PRODUCER", 5: "CONSUMER"}


def open_text(path: Path):
    if not path.exists() and Path(str(path) + ".gz").exists():
        path = Path(str(path) + ".gz")
    return gzip.open(path, "rt") if path.suffix == ".gz" else open(path)


def attrs(span) -> dict:
    out = {}
    for a in span.get("attributes", []):
        v = a["value"]
        out[a["key"]] = next(iter(v.values())) if v else None
    return out


def read_otlp(path: Path):
    spans = []
    with open_text(path) as f:
        for line in f:
            doc = json.loads(line)
            for rs in doc["resourceSpans"]:
                service = attrs(rs["resource"])["service.name"]
                for ss in rs["scopeSpans"]:
                    for s in ss["spans"]:
                        s["service"] = service
                        s["start"] = int(s["startTimeUnixNano"])
                        s["end"] = int(s["endTimeUnixNano"])
                        s["attrs"] = attrs(s)
                        spans.append(s)
    return spans


def union_ns(intervals) -> int:
    total, cur_s, cur_e = 0, None, None
    for s, e in sorted(intervals):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s
    return total


def quantile(sorted_xs, q):
    """The q-quantile by linear interpolation between order statistics."""
    if not sorted_xs:
        return float("nan")
    h = (len(sorted_xs) - 1) * q
    lo = int(h)
    hi = min(lo + 1, len(sorted_xs) - 1)
    return sorted_xs[lo] + (h - lo) * (sorted_xs[hi] - sorted_xs[lo])


class Checks:
    def __init__(self):
        self.failed = 0

    def __call__(self, ok, what):
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        self.failed += 0 if ok else 1


def endpoint_of(span):
    """('service', 'METHOD /route') of a SERVER span, ('service', topic) of a CONSUMER."""
    if span["kind"] == 2:
        return span["service"], span["name"]
    return span["service"], span["attrs"].get("messaging.destination")


def check(directory: Path, topo) -> int:
    ok = Checks()
    spans = read_otlp(directory / "otlp.jsonl")
    by_id = {s["spanId"]: s for s in spans}
    children = defaultdict(list)
    for s in spans:
        if s.get("parentSpanId"):
            children[s["parentSpanId"]].append(s)
    traces = defaultdict(list)
    for s in spans:
        traces[s["traceId"]].append(s)
    print(f"{len(spans)} spans in {len(traces)} traces")

    ok(len(by_id) == len(spans), "every span id once")
    ok(sorted({s["service"] for s in spans}) == sorted(topo.services),
       f"services are exactly {sorted(topo.services)}")
    kinds = Counter(KINDS[s["kind"]] for s in spans)
    wanted = ("SERVER", "CLIENT", "PRODUCER", "CONSUMER")
    ok(all(kinds[k] for k in wanted), f"span kinds {dict(kinds)}")
    orphans = [s for s in spans if s.get("parentSpanId") and s["parentSpanId"] not in by_id]
    ok(not orphans, f"every parent is in the file ({len(orphans)} missing)")
    entry_service, method, path = split_target(topo.entry)
    roots = [s for s in spans if not s.get("parentSpanId")]
    ok(len(roots) == len(traces) and all(
        r["service"] == entry_service and r["kind"] == 2 and r["name"] == f"{method} {path}"
        for r in roots), f"one root a trace, the entry {topo.entry}")

    check_calls(ok, topo, spans, by_id, children, len(traces))
    check_messaging(ok, topo, spans, children)
    check_work(ok, topo, spans, children)
    check_other_formats(ok, directory, by_id)
    return ok.failed


def check_calls(ok, topo, spans, by_id, children, n_traces):
    """Each CLIENT span's one child is the callee's SERVER span; call shares per step."""
    servers = [s for s in spans if s["kind"] == 2]
    bad = [s for s in servers if s.get("parentSpanId") and by_id[s["parentSpanId"]]["kind"] != 3]
    ok(not bad, "every non-root SERVER span's parent is a CLIENT span")
    calls = Counter()  # (caller, callee endpoint) -> count
    for s in servers:
        if s.get("parentSpanId"):
            client = by_id[s["parentSpanId"]]
            caller = by_id.get(client.get("parentSpanId"))
            calls[(endpoint_of(caller), endpoint_of(s))] += 1
    for (svc, route), steps in topo.endpoints.items():
        n = sum(1 for s in servers if endpoint_of(s) == (svc, route))
        flat = [b for st in steps for b in (st.branches if st.kind == "parallel" else [st])]
        for st in flat:
            if st.kind != "call":
                continue
            callee, m, p = split_target(st.target)
            seen = calls[((svc, route), (callee, f"{m} {p}"))]
            share = seen / n if n else 0.0
            ok(abs(share - st.probability) <= 0.03,
               f"{svc} {route} -> {st.target}: {seen}/{n} = {share:.3f} (coded {st.probability})")
    check_parallel(ok, topo, spans, children)


def check_parallel(ok, topo, spans, children):
    """The two calls of a parallel step overlap in time in (nearly) every request."""
    for (svc, route), steps in topo.endpoints.items():
        for st in steps:
            if st.kind != "parallel":
                continue
            targets = {split_target(b.target)[0] for b in st.branches}
            n = overlap = 0
            for s in spans:
                if s["kind"] != 2 or endpoint_of(s) != (svc, route):
                    continue
                cl = [c for c in children[s["spanId"]] if c["kind"] == 3 and any(
                    g["service"] in targets for g in children[c["spanId"]])]
                if len(cl) == len(targets):
                    n += 1
                    overlap += max(c["start"] for c in cl) < min(c["end"] for c in cl)
            ok(n > 0 and overlap == n, f"{svc} {route}: parallel pair overlaps in {overlap}/{n}")


def check_messaging(ok, topo, spans, children):
    producers = [s for s in spans if s["kind"] == 4]
    consumers_of = defaultdict(set)
    for (svc, topic) in topo.consumers:
        consumers_of[topic].add(svc)
    good = 0
    for p in producers:
        a = p["attrs"]
        got = sorted(c["service"] for c in children[p["spanId"]] if c["kind"] == 5)
        topic = str(a.get("messaging.destination", "")).split(",")[0]
        if a.get("messaging.system") == "rabbitmq" and got == sorted(consumers_of[topic]):
            good += 1
    ok(producers and good == len(producers),
       f"PRODUCER spans with messaging.system, messaging.destination and one CONSUMER child a "
       f"consuming service: {good}/{len(producers)}")


def check_work(ok, topo, spans, children):
    work = defaultdict(list)  # endpoint -> exclusive ms
    for s in spans:
        if s["kind"] in (2, 5):
            kids = [(c["start"], c["end"]) for c in children[s["spanId"]]]
            clipped = [(max(a, s["start"]), min(b, s["end"])) for a, b in kids if b > a]
            work[endpoint_of(s)].append((s["end"] - s["start"] - union_ns(clipped)) / 1e6)
    coded = dict(topo.endpoints)
    coded.update(topo.consumers)
    heads = ("n", "coded p50", "seen p50", "coded p99", "seen p99")
    print(f"{'endpoint':34} {heads[0]:>5} " + " ".join(f"{h:>9}" for h in heads[1:]))
    for key, steps in coded.items():
        d = topo.work_of(steps)
        xs = sorted(work.get(key, []))
        c50, c99 = d.quantile(0.5) * 1e3, d.quantile(0.99) * 1e3
        s50, s99 = quantile(xs, 0.5), quantile(xs, 0.99)
        print(f"{key[0] + ' ' + key[1]:34} {len(xs):5} {c50:9.2f} {s50:9.2f} {c99:9.2f} {s99:9.2f}")
        ok(abs(s50 / c50 - 1) <= 0.10 and abs(s99 / c99 - 1) <= 0.10,
           f"{key[0]} {key[1]}: exclusive work p50 {s50 / c50 - 1:+.1%}, p99 {s99 / c99 - 1:+.1%}")


def check_other_formats(ok, directory, by_id):
    with open_text(directory / "zipkin.json") as f:
        zipkin = {s["id"] for s in json.load(f)}
    ok(zipkin == set(by_id), f"zipkin.json holds the same {len(zipkin)} span ids")
    with open_text(directory / "jaeger.json") as f:
        jaeger = {s["spanID"] for t in json.load(f)["data"] for s in t["spans"]}
    ok(jaeger == set(by_id), f"jaeger.json holds the same {len(jaeger)} span ids")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", type=Path, required=True)
    ap.add_argument("--topology", type=Path)
    args = ap.parse_args()
    topo = load(args.topology) if args.topology else load()
    failed = check(args.dir, topo)
    print("all checks passed" if not failed else f"{failed} checks failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
