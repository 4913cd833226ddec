"""Distributions of work, written the way meshsim's scenarios write them.

Each one can draw a duration (seconds) from a seeded random.Random and give
its exact quantile, so the README's table of coded p50/p99 is computed from
the same parameters the services draw from.
"""

import math
import random
import re
from statistics import NormalDist

_UNITS_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}


def seconds(text):
    """'12ms' -> 0.012. A bare number is an error: every duration names its unit."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ns|us|µs|ms|s)\s*", str(text))
    if not m:
        raise ValueError(f"not a duration with a unit: {text!r}")
    return float(m.group(1)) * _UNITS_S[m.group(2)]


class Dist:
    """One family with its parameters, in seconds."""

    def __init__(self, spec):
        if isinstance(spec, str):
            spec = {"constant": spec}
        if len(spec) != 1:
            raise ValueError(f"a distribution names one family: {spec!r}")
        (self.family, p), = spec.items()
        self.spec = spec
        if self.family == "constant":
            self.value = seconds(p)
        elif self.family == "exponential":
            self.mean = seconds(p["mean"])
        elif self.family == "uniform":
            self.low, self.high = seconds(p["min"]), seconds(p["max"])
        elif self.family == "lognormal":
            # {median, p99}: mu = ln(median), sigma = ln(p99/median) / z(0.99)
            median, p99 = seconds(p["median"]), seconds(p["p99"])
            self.mu = math.log(median)
            self.sigma = math.log(p99 / median) / NormalDist().inv_cdf(0.99)
        elif self.family == "weibull":
            self.scale, self.shape = seconds(p["scale"]), float(p["shape"])
        else:
            raise ValueError(f"unknown family {self.family!r}")

    def draw(self, rng: random.Random) -> float:
        f = self.family
        if f == "constant":
            return self.value
        if f == "exponential":
            return rng.expovariate(1.0 / self.mean)
        if f == "uniform":
            return rng.uniform(self.low, self.high)
        if f == "lognormal":
            return rng.lognormvariate(self.mu, self.sigma)
        return rng.weibullvariate(self.scale, self.shape)

    def quantile(self, q: float) -> float:
        """The exact q-quantile, in seconds."""
        f = self.family
        if f == "constant":
            return self.value
        if f == "exponential":
            return -self.mean * math.log(1.0 - q)
        if f == "uniform":
            return self.low + q * (self.high - self.low)
        if f == "lognormal":
            return math.exp(self.mu + self.sigma * NormalDist().inv_cdf(q))
        return self.scale * (-math.log(1.0 - q)) ** (1.0 / self.shape)

    def mean_s(self) -> float:
        f = self.family
        if f == "constant":
            return self.value
        if f == "exponential":
            return self.mean
        if f == "uniform":
            return (self.low + self.high) / 2
        if f == "lognormal":
            return math.exp(self.mu + self.sigma**2 / 2)
        return self.scale * math.gamma(1.0 + 1.0 / self.shape)

    def describe(self) -> str:
        (family, p), = self.spec.items()
        if isinstance(p, dict):
            args = ", ".join(f"{k}: {v}" for k, v in p.items())
            return f"{family} {{{args}}}"
        return f"{family} {p}"
