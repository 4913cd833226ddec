"""The application's topology, read from topology.json.

One file says which services exist, what each endpoint does (work, calls,
an optional call, a parallel pair, a publish) and what each consumer does, in
meshsim's vocabulary. The services run it, the README's table is computed from
it and the check compares the recorded traces with it.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from .dist import Dist

TOPOLOGY = Path(__file__).resolve().parent.parent / "topology.json"


@dataclass
class Step:
    kind: str  # "work" | "call" | "parallel" | "publish"
    work: Dist | None = None
    target: str | None = None  # "SERVICE METHOD /path" for a call, a topic for a publish
    probability: float = 1.0
    branches: list = field(default_factory=list)  # the Steps of a parallel block


def _step(raw) -> Step:
    if "work" in raw:
        return Step("work", work=Dist(raw["work"]))
    if "call" in raw:
        p = float(raw.get("probability", 1.0))
        if not 0.0 < p <= 1.0:
            raise ValueError(f"probability out of (0, 1]: {raw}")
        return Step("call", target=raw["call"], probability=p)
    if "parallel" in raw:
        return Step("parallel", branches=[_step(b) for b in raw["parallel"]])
    if "publish" in raw:
        return Step("publish", target=raw["publish"])
    raise ValueError(f"unknown step {raw}")


def split_target(target: str):
    """'frontend GET /checkout' -> ('frontend', 'GET', '/checkout')."""
    service, method, path = target.split(" ", 2)
    return service, method, path


@dataclass
class Topology:
    raw: dict
    seed: int
    entry: str
    endpoints: dict  # (service, "METHOD /path") -> [Step]
    consumers: dict  # (service, topic) -> [Step]

    @property
    def services(self):
        return list(self.raw["services"])

    def work_of(self, steps):
        """The one work distribution of a handler (each handler has exactly one)."""
        works = [s.work for s in steps if s.kind == "work"]
        assert len(works) == 1, "each handler draws its exclusive work once"
        return works[0]


def load(path=TOPOLOGY) -> Topology:
    raw = json.loads(Path(path).read_text())
    endpoints, consumers = {}, {}
    for name, svc in raw["services"].items():
        for route, ep in svc.get("endpoints", {}).items():
            endpoints[(name, route)] = [_step(s) for s in ep["steps"]]
        for c in svc.get("consumes", []):
            consumers[(name, c["topic"])] = [_step(s) for s in c["steps"]]
    return Topology(raw, int(raw["seed"]), raw["entry"], endpoints, consumers)
