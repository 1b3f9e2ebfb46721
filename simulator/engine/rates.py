"""Rate curves over sim time: feature traffic, harmful fractions, fading mitigations, and their integrals."""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence

from simulator.format.scenario import (
    BassFraction,
    ConstantFraction,
    HarmfulFraction,
    LogisticFraction,
    TrafficPoint,
)

HOUR = 3600.0


class Shape:
    """A piecewise-linear traffic multiplier over time, flat beyond its ends (1.0 when empty)."""

    __slots__ = ("factors", "times")

    def __init__(self, points: Sequence[TrafficPoint]) -> None:
        self.times = [p.at for p in points]
        self.factors = [p.factor for p in points]

    def __call__(self, t: float) -> float:
        times, factors = self.times, self.factors
        if not times:
            return 1.0
        i = bisect_left(times, t)
        if i == 0:
            return factors[0]
        if i == len(times):
            return factors[-1]
        span = times[i] - times[i - 1]
        w = (t - times[i - 1]) / span if span > 0 else 1.0
        return factors[i - 1] + w * (factors[i] - factors[i - 1])


def traffic_factor(shape: Sequence[TrafficPoint], t: float) -> float:
    """Multiplier on base traffic at ``t``: linear between shape points, flat beyond the ends."""
    return Shape(shape)(t)


def harmful_fraction(curve: HarmfulFraction, t: float) -> float:
    """The fraction of outputs that are harmful at ``t`` with no mitigation."""
    if isinstance(curve, ConstantFraction):
        return curve.value
    if isinstance(curve, LogisticFraction):
        x = -curve.growth_per_hour * (t - curve.midpoint) / HOUR
        return curve.floor + (curve.ceiling - curve.floor) / (1.0 + math.exp(min(x, 700.0)))
    return _bass(curve, t)


def _bass(curve: BassFraction, t: float) -> float:
    """Bass diffusion: share of adopters F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t})."""
    p, q = curve.p_per_hour, curve.q_per_hour
    decay = math.exp(-(p + q) * max(t, 0.0) / HOUR)
    return curve.ceiling * (1.0 - decay) / (1.0 + (q / p) * decay)


def fading(multiplier: float, half_life: float | None, since: float) -> float:
    """A mitigation's multiplier ``since`` seconds after it took effect; fades toward 1 with ``half_life``."""
    if half_life is None:
        return multiplier
    return 1.0 - (1.0 - multiplier) * float(0.5 ** (since / half_life))


def integrate(f: Callable[[float], float], t0: float, t1: float, panels: int = 2) -> float:
    """Composite Simpson integral of a smooth ``f`` over ``[t0, t1]`` (cost is fixed, not rate-dependent)."""
    if t1 <= t0:
        return 0.0
    h = (t1 - t0) / (2 * panels)
    total = f(t0) + f(t1)
    for i in range(1, 2 * panels):
        total += (4.0 if i % 2 else 2.0) * f(t0 + i * h)
    return total * h / 3.0
