"""The engine's fast decimal rounding gives exactly what the builtin ``round`` gives."""

from __future__ import annotations

import math
import random
import struct

import numpy as np
import pytest

from simulator.engine.rounding import round_all, round_to


def bits(x: float) -> bytes:
    """A float's bytes (tells ``0.0`` from ``-0.0``)."""
    return struct.pack("d", x)


def awkward_values() -> list[float]:
    """Readings, loads and times of every size, decimal ties and near-ties, signed zeros and the
    values the builtin has to take (infinite, NaN, too large to scale)."""
    rng = random.Random(7)
    values = [rng.uniform(-1, 1) * 10 ** rng.uniform(-12, 17) for _ in range(20_000)]
    values += [struct.unpack("d", struct.pack("Q", rng.getrandbits(64)))[0] for _ in range(5_000)]
    for k in range(-5_000, 5_000):
        values += [k / 1e6 + 5e-7, k / 1e4 + 5e-5, k * 0.5e-6, k * 0.5e-4, k / 1e6, k * 0.0015]
    return [*values, 0.0, -0.0, 1e-7, -1e-7, 5e-7, -5e-7, 2.5e-5, 1.00005, 1e300, 5e-324, -5e-324,
            math.inf, -math.inf, 4e9 + 0.5e-6]


@pytest.mark.parametrize("digits", [3, 4, 6])
def test_round_to_and_round_all_give_the_builtins_bits(digits: int) -> None:
    values = awkward_values()
    expected = [bits(round(v, digits)) for v in values]
    assert [bits(round_to(v, digits)) for v in values] == expected
    assert [bits(r) for r in round_all(np.array(values), digits)] == expected
    assert [bits(r) for r in round_all(values[:10], digits)] == expected[:10]


def test_nan_stays_nan() -> None:
    assert math.isnan(round_to(math.nan, 6))
    assert math.isnan(round_all(np.full(100, math.nan), 6)[0])
