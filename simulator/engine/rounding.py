"""``round(x, digits)`` for the engine's hot paths: the same floats, bit for bit, at a fraction of the cost.

CPython's ``round(x, 6)`` prints ``x`` to a correctly rounded decimal string and parses it back
(~0.3–0.6 µs, a few thousand instructions); a run rounds hundreds of readings, loads and times, and
a journal thousands. Here the decimal rounding is done in binary, exactly, whenever that is provably
the same:

- ``a = |x| · 10^digits`` is within half an ulp of the exact product (one correctly rounded
  multiplication), so rounding ``a`` to the nearest integer ``k`` gives the exact product's
  rounding unless that product lies within the error of a tie (``k + ½``). Such values, and
  anything not finite or too large to hold ``k`` exactly, go to the builtin ``round``.
- ``k / 10^digits`` is one correctly rounded division of two exact doubles (``10^digits`` is exact
  up to 10²²): the double nearest the decimal ``k · 10^-digits``, which is what ``round`` parses.
- The sign is put back with ``copysign``, so ``-0.0000001`` rounds to ``-0.0`` as ``round`` does.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

LARGEST = 4e15
"""Past this ``|x| · 10^digits`` the integer ``k`` and the fraction are left to the builtin (< 2^52)."""
SLACK = 4.5e-16
"""Relative error bound of ``a`` (2^-51, twice the half-ulp it can be off by): a fraction this near
a tie goes to the builtin."""

ARRAY_FROM = 48
"""From this many values on, :func:`round_all` works on the array (below, NumPy's per-call cost is more)."""

_copysign = math.copysign
_SCALES = {digits: 10.0 ** digits for digits in range(16)}


def round_to(x: float, digits: int) -> float:
    """``round(x, digits)`` (``0 <= digits <= 15``), the same float bit for bit."""
    scale = _SCALES[digits]
    a = abs(x) * scale
    if a < LARGEST:
        k = a // 1.0
        fraction = a - k  # exact: k <= a < k + 1 (Sterbenz for a >= 1; k = 0 below)
        if abs(fraction - 0.5) > a * SLACK:
            if fraction > 0.5:
                k += 1.0
            return _copysign(k / scale, x)
    return round(x, digits)


def round_all(values: Any, digits: int) -> list[float]:
    """``[round(v, digits) for v in values]`` for floats (an array or a list): one by one for a few,
    with a handful of array operations for many."""
    if len(values) < ARRAY_FROM:
        plain = values.tolist() if isinstance(values, np.ndarray) else values
        return [round_to(v, digits) for v in plain]
    x = np.asarray(values, dtype=np.float64)
    scale = _SCALES[digits]
    with np.errstate(all="ignore"):  # inf and NaN are sent to the builtin below
        a = np.abs(x) * scale
        k = np.floor(a)
        fraction = a - k
        near_tie = ~(np.abs(fraction - 0.5) > a * SLACK) | ~(a < LARGEST)
    out: list[float] = np.copysign((k + (fraction > 0.5)) / scale, x).tolist()
    if near_tie.any():
        plain = x.tolist()
        for i in near_tie.nonzero()[0].tolist():
            out[i] = round(plain[i], digits)
    return out
