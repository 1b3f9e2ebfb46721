"""Rate curves over sim time: feature traffic, harmful fractions, fading mitigations, and their integrals.

The scalar functions (:func:`harmful_fraction`, :class:`Shape`) describe the curves; the array
functions integrate them over many intervals at once. Each harmful-fraction model has an exact
antiderivative (:func:`fraction_integral`), so an interval on which everything else is constant is
integrated in closed form however steep the curve; an interval where traffic changes linearly or a
mitigation fades is integrated by 8-point Gauss–Legendre between shape breakpoints, which is exact
for the piecewise-linear traffic itself and within ~1e-10 of the product on any scenario's curves.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

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


def fractions_at(curve: HarmfulFraction, t: list[float]) -> list[float]:
    """:func:`harmful_fraction` at each time in ``t`` (the same operations, so the same bits), the
    model told apart once rather than per time."""
    if isinstance(curve, ConstantFraction):
        return [curve.value] * len(t)
    if isinstance(curve, LogisticFraction):
        rate, midpoint, floor = -curve.growth_per_hour, curve.midpoint, curve.floor
        span, exp = curve.ceiling - curve.floor, math.exp
        return [floor + span / (1.0 + exp(min(rate * (x - midpoint) / HOUR, 700.0))) for x in t]
    return [_bass(curve, x) for x in t]


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


Array = npt.NDArray[np.float64]

GAUSS_NODES, GAUSS_WEIGHTS = np.polynomial.legendre.leggauss(8)
"""Gauss–Legendre nodes on [-1, 1] and their weights: exact for polynomials up to degree 15."""


def libm(fn: Callable[[float], float], x: Array) -> Array:
    """``fn`` (a ``math`` function) at every element of ``x``.

    NumPy's own ``exp``, ``exp2`` and ``log1p`` take SIMD paths on CPUs that have them (AVX-512)
    whose last bit differs from the C library's in ~5 % of values, so the same drill would draw from
    different means on different machines. Every transcendental of the harm model goes through the
    C library instead (the arrays here are tens of elements, where NumPy's per-call cost dominates
    anyway), so journals are the same on every machine and the one-interval path agrees to the bit.
    """
    x = np.asarray(x, dtype=np.float64)
    return np.fromiter(map(fn, x.ravel().tolist()), np.float64, x.size).reshape(x.shape)


def fraction_at(curve: HarmfulFraction, t: Array) -> Array:
    """:func:`harmful_fraction` at every time in ``t``."""
    if isinstance(curve, ConstantFraction):
        return np.full_like(t, curve.value)
    if isinstance(curve, LogisticFraction):
        x = np.minimum(-curve.growth_per_hour * (t - curve.midpoint) / HOUR, 700.0)
        return curve.floor + (curve.ceiling - curve.floor) / (1.0 + libm(math.exp, x))
    p, q = curve.p_per_hour, curve.q_per_hour
    decay = libm(math.exp, -(p + q) * np.maximum(t, 0.0) / HOUR)
    return curve.ceiling * (1.0 - decay) / (1.0 + (q / p) * decay)


def fraction_integral(curve: HarmfulFraction, t0: Array, t1: Array) -> Array:
    """∫ harmful fraction dt over each ``[t0, t1]``, in closed form (exact up to rounding)."""
    if isinstance(curve, ConstantFraction):
        return curve.value * (t1 - t0)
    if isinstance(curve, LogisticFraction):
        k = curve.growth_per_hour / HOUR
        rise = libm(_logaddexp0, k * (t1 - curve.midpoint)) - libm(_logaddexp0, k * (t0 - curve.midpoint))
        # a falling curve (ceiling under floor) near zero can round below it: never a negative count
        return np.maximum(curve.floor * (t1 - t0) + (curve.ceiling - curve.floor) * rise / k, 0.0)
    return _bass_antiderivative(curve, t1) - _bass_antiderivative(curve, t0)


def fraction_integral_one(curve: HarmfulFraction, t0: float, t1: float) -> float:
    """:func:`fraction_integral` over one interval in Python floats: the same operations in the same
    order, so the same bits (a single interval is too small to be worth NumPy's per-call cost)."""
    if isinstance(curve, ConstantFraction):
        return curve.value * (t1 - t0)
    if isinstance(curve, LogisticFraction):
        k = curve.growth_per_hour / HOUR
        rise = _logaddexp0(k * (t1 - curve.midpoint)) - _logaddexp0(k * (t0 - curve.midpoint))
        return curve.floor * (t1 - t0) + (curve.ceiling - curve.floor) * rise / k
    return _bass_antiderivative_one(curve, t1) - _bass_antiderivative_one(curve, t0)


def _logaddexp0(x: float) -> float:
    """``np.logaddexp(0.0, x)`` as NumPy computes it (``log1p`` of the smaller exponential)."""
    if x == 0.0:
        return 0.0 + LN2
    if -x > 0:
        return 0.0 + math.log1p(math.exp(x))
    return x + math.log1p(math.exp(-x))


LN2 = math.log(2.0)


def _bass_antiderivative_one(curve: BassFraction, t: float) -> float:
    """:func:`_bass_antiderivative` at one time, in Python floats."""
    s = (curve.p_per_hour + curve.q_per_hour) / HOUR
    r = curve.q_per_hour / curve.p_per_hour
    t = max(t, 0.0)
    u = math.exp(-s * t)
    if r == 0.0:
        return curve.ceiling * (t - (1.0 - u) / s)
    return curve.ceiling * (t + (1.0 + r) / (s * r) * (math.log1p(r * u) - math.log1p(r)))


def fading_one(multiplier: float, half_life: float | None, since: float, t: float) -> float:
    """:func:`fading_at` at one time, in Python floats."""
    if half_life is None:
        return multiplier
    return 1.0 - (1.0 - multiplier) * math.exp2(-(t - since) / half_life)


def _bass_antiderivative(curve: BassFraction, t: Array) -> Array:
    """∫₀ᵗ F with s = p + q, r = q/p, u = e^{−st}: c·(t + (1 + r)/(s·r)·ln((1 + r·u)/(1 + r)))."""
    s = (curve.p_per_hour + curve.q_per_hour) / HOUR
    r = curve.q_per_hour / curve.p_per_hour
    t = np.maximum(t, 0.0)
    u = libm(math.exp, -s * t)
    if r == 0.0:
        return curve.ceiling * (t - (1.0 - u) / s)
    return curve.ceiling * (t + (1.0 + r) / (s * r) * (libm(math.log1p, r * u) - math.log1p(r)))


def fading_at(multiplier: float, half_life: float | None, since: float, t: Array) -> Array:
    """:func:`fading` of a mitigation that took effect at ``since``, at every time in ``t``."""
    if half_life is None:
        return np.full_like(t, multiplier)
    # since - t is -(t - since) to the bit (rounding to nearest is symmetric), one operation fewer
    return 1.0 - (1.0 - multiplier) * libm(math.exp2, (since - t) / half_life)


def refine(bounds: Array, breakpoints: Array) -> tuple[Array, npt.NDArray[np.intp]]:
    """Split intervals ``bounds[i]..bounds[i+1]`` at the breakpoints inside them.

    Returns the refined boundaries and, for each original interval, the index of its first piece
    (for ``np.add.reduceat``). ``bounds`` must be strictly increasing; a breakpoint that is already
    a boundary (an hour mark on a minute tick) splits nothing.
    """
    inside = breakpoints[(breakpoints > bounds[0]) & (breakpoints < bounds[-1])]
    at = bounds.searchsorted(inside)
    new = bounds[at] != inside
    if not new.any():
        return bounds, np.arange(bounds.size - 1)
    refined = np.insert(bounds, at[new], inside[new])
    return refined, refined.searchsorted(bounds[:-1])
