"""Rate integrals are exact: each harmful-fraction model in closed form, shaped traffic exactly.

A coarse tick on a steep curve used to be 1.4 % off (Simpson with two panels); each model is
checked here against its integral computed independently (a fine trapezoid, or by hand).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.engine.harm import HarmModel, Ledger, interp_one, shape_lists
from simulator.engine.rates import Shape, fraction_integral, harmful_fraction, refine
from simulator.engine.signals import poisson
from simulator.format.loader import LoadedScenario, load_scenario
from simulator.format.scenario import BassFraction, ConstantFraction, HarmfulFraction, LogisticFraction
from tests.conftest import MINIMAL, WriteScenario


def simpson(values: np.ndarray, step: float) -> float:
    """Composite Simpson's rule over equally spaced ``values`` (an odd number of them)."""
    return float(step / 3 * (values[0] + values[-1] + 4 * values[1:-1:2].sum() + 2 * values[2:-1:2].sum()))


def fine(curve: HarmfulFraction, t0: float, t1: float, n: int = 20_000) -> float:
    """The integral of the scalar curve by composite Simpson on ``n`` panels (independent of the closed
    forms; more accurate here than the 200,000-point trapezoid it replaced, at a tenth of the cost)."""
    t = np.linspace(t0, t1, n + 1)
    return simpson(np.array([harmful_fraction(curve, x) for x in t]), (t1 - t0) / n)


STEEP = [
    ConstantFraction(model="constant", value=0.07),
    LogisticFraction(model="logistic", floor=0.001, ceiling=0.4, growth_per_hour=40.0, midpoint="1h"),
    BassFraction(model="bass", ceiling=0.3, p_per_hour=0.05, q_per_hour=6.0),
    BassFraction(model="bass", ceiling=0.3, p_per_hour=0.5, q_per_hour=0.0),
]


@pytest.mark.parametrize("curve", STEEP, ids=["constant", "logistic", "bass", "bass-no-imitation"])
def test_each_fraction_model_integrates_exactly_over_a_coarse_tick(curve: HarmfulFraction) -> None:
    """A 30-minute tick across the steepest part of the curve: the closed form matches to 1e-9."""
    t0, t1 = np.array([2700.0, 0.0]), np.array([4500.0, 1800.0])
    exact = fraction_integral(curve, t0, t1)
    for got, a, b in zip(exact.tolist(), t0.tolist(), t1.tolist(), strict=True):
        assert got == pytest.approx(fine(curve, a, b), rel=1e-9)


def test_the_logistic_integral_by_hand() -> None:
    """floor·Δt + (ceiling − floor)·ln((1 + e^{k(t1−m)}) / (1 + e^{k(t0−m)})) / k."""
    curve = LogisticFraction(model="logistic", floor=0.01, ceiling=0.5, growth_per_hour=6.0, midpoint="30m")
    k = 6.0 / 3600
    by_hand = 0.01 * 600 + 0.49 * math.log((1 + math.exp(k * 600)) / (1 + math.exp(0))) / k
    got = float(fraction_integral(curve, np.array([1800.0]), np.array([2400.0]))[0])
    assert got == pytest.approx(by_hand, rel=1e-12)


def test_piecewise_linear_traffic_integrates_exactly_across_its_breakpoints(
        write_scenario: WriteScenario) -> None:
    """Traffic 50 → 150 → 50 requests/s with breakpoints inside the tick: the area of the trapezoids."""
    shaped = ("    traffic_rps: 50\n"
              "    shape: [{at: 10m, factor: 1.0}, {at: 20m, factor: 3.0}, {at: 40m, factor: 1.0}]\n")
    scenario = load_scenario(str(write_scenario(MINIMAL.replace("    traffic_rps: 50\n", shaped)))).scenario
    model = HarmModel(scenario)
    got = model.integrate(np.array([0.0, 900.0, 3600.0]))
    # 0–10m flat 50; 10–15m 50→100; 15–20m 100→150; 20–40m 150→50; 40–60m flat 50
    first = 50 * 600 + (50 + 100) / 2 * 300
    second = (100 + 150) / 2 * 300 + (150 + 50) / 2 * 1200 + 50 * 1200
    assert got.legit.tolist() == pytest.approx([first, second], rel=1e-12)
    assert got.harm["bad-advice"].tolist() == pytest.approx([0.02 * first, 0.02 * second], rel=1e-12)


def test_a_fading_mitigation_on_a_logistic_integrates_to_the_product(flagship: LoadedScenario) -> None:
    """Where no closed form exists (a fading block list on a growing stream) Gauss–Legendre is within 1e-9
    of a composite Simpson reference (20,000 panels: its own error is below 1e-12 here, smaller than the
    400,000-point trapezoid it replaced, at a twentieth of the rate evaluations)."""
    model = HarmModel(flagship.scenario)
    action = flagship.scenario.action("block-list")
    assert action is not None
    model.take_effect(action, 600.0)
    sid = next(e.stream for e in action.effects if e.stream is not None)
    stream = flagship.scenario.streams[sid]
    feature = flagship.scenario.features[stream.feature]
    shape = Shape(feature.shape)

    def rate(t: float) -> float:
        return (feature.traffic_rps * shape(t) * harmful_fraction(stream.harmful_fraction, t)
                * model.stream_multiplier(sid, t))

    t = np.linspace(900.0, 2700.0, 20_001)
    reference = simpson(np.array([rate(x) for x in t]), t[1] - t[0])
    got = float(model.integrate(np.array([900.0, 2700.0])).harm[sid][0])
    assert got == pytest.approx(reference, rel=1e-9)


@pytest.mark.parametrize("sid", ["jailbreak-wave", "sycophancy-drift", "cross-user-data-exposure",
                                 "update-regression-abuse", "rag-prompt-injection"])
def test_one_interval_in_python_floats_gives_the_same_bits_as_the_arrays(sid: str) -> None:
    """``integrate_one`` (the part of a tick before a change point, the rate at a command) equals
    ``integrate`` on the same interval to the last bit, with every catalogue action in effect in turn
    (fading ones too), across shape breakpoints and on both sides of them: journals depend on it."""
    scenario = load_scenario(sid).scenario
    model = HarmModel(scenario)
    rng = np.random.default_rng(3)
    starts = np.concatenate((rng.uniform(0, scenario.duration, 60),
                             [float(p.at) for f in scenario.features.values() for p in f.shape]))
    checked = 0
    for action in [None, *scenario.actions]:
        if action is not None:
            model.take_effect(action, float(rng.uniform(0, scenario.duration / 2)))
        for t0 in starts.tolist():
            for length in (0.001, 17.0, scenario.tick, 3 * scenario.tick):
                t1 = t0 + length
                one, whole = model.integrate_one(t0, t1), model.integrate(np.array([t0, t1]))
                assert (one.legit, one.served, one.blocked, one.expected) == (
                    float(whole.legit[0]), float(whole.served[0]), float(whole.blocked[0]),
                    float(whole.expected[0]))
                assert one.harm == {s: float(lam[0]) for s, lam in whole.harm.items()}
                checked += 1
    assert checked > 1000


def test_one_traffic_shape_value_in_python_floats_is_numpys_interpolation_to_the_bit() -> None:
    """``interp_one`` (a traffic shape at one time, for ``integrate_one``) gives ``np.interp``'s bits
    on random shapes: between points, on them, before the first and after the last, and on shapes of
    one point or with two points at one time."""
    rng = np.random.default_rng(11)
    checked = 0
    for k in [1, 2, 3, 5, 8] * 40:
        times = np.sort(rng.uniform(0, 20_000, k))
        if k > 2:
            times[1] = times[2]
        factors = rng.uniform(0, 3, k)
        xs = np.concatenate((rng.uniform(-500, 21_000, 200), times)).tolist()
        lists = shape_lists(times.tolist(), factors.tolist())
        expected = np.interp(xs, times, factors).tolist()
        got = [interp_one(x, *lists) for x in xs]
        assert [math.isnan(v) for v in got] == [math.isnan(v) for v in expected]
        assert [v for v in got if not math.isnan(v)] == [v for v in expected if not math.isnan(v)]
        checked += len(xs)
    assert checked > 40_000


def test_a_breakpoint_on_a_tick_boundary_splits_nothing_and_one_inside_splits_its_tick() -> None:
    """Ticks 0–60–120–180 s, breakpoints at 60 s (a boundary) and 150 s (inside the last tick):
    the pieces are the ticks with the last one cut at 150 s, and each tick starts at its first piece."""
    pieces, starts = refine(np.array([0.0, 60.0, 120.0, 180.0]), np.array([-5.0, 60.0, 150.0, 400.0]))
    assert (pieces.tolist(), starts.tolist()) == ([0.0, 60.0, 120.0, 150.0, 180.0], [0, 1, 2])
    untouched, every = refine(np.array([0.0, 60.0, 120.0]), np.array([60.0]))
    assert (untouched.tolist(), every.tolist()) == ([0.0, 60.0, 120.0], [0, 1])


@pytest.mark.parametrize("shape", [(1,), (3, 2), (16,), (17,), (40, 3)])
def test_a_handful_of_poisson_counts_drawn_one_by_one_are_the_array_draws(shape: tuple[int, ...]) -> None:
    """``signals.poisson`` draws small matrices one mean at a time: the same counts in the same
    order as ``Generator.poisson`` on the array, and the generator is left in the same state."""
    lam = np.random.default_rng(1).uniform(0, 3000, shape)
    mine, numpy_own = np.random.default_rng(9), np.random.default_rng(9)
    got = poisson(mine, lam)
    assert got.dtype == np.int64 and got.shape == shape
    assert got.tolist() == numpy_own.poisson(lam).tolist()
    assert mine.random() == numpy_own.random()


def test_a_logistic_falling_to_zero_never_integrates_to_a_negative_count() -> None:
    """A ceiling under the floor is a spread that dies out; near zero its integral used to round below
    zero, and the harm draw then failed (``lam < 0``) mid-drill."""
    curve = LogisticFraction(model="logistic", floor=1e-6, ceiling=0.0, growth_per_hour=3.0, midpoint="1h")
    t = np.arange(0.0, 12 * 3600.0, 7.0)
    assert fraction_integral(curve, t[:-1], t[1:]).min() >= 0.0


def test_a_ledger_closed_a_prefix_at_a_time_holds_the_same_history_as_one_closed_at_once() -> None:
    """The truth's ledger keeps references into the arrays intervals were read ahead in; closing
    them in several commits (and a part-tick in Python floats between) gives the same rate history,
    collateral and harm counts as closing the same intervals in one go."""
    bounds = np.linspace(0.0, 600.0, 11)
    rates, legit = np.arange(10.0), np.linspace(1.0, 2.0, 10)
    blocked = legit / 4
    by_stream = np.array([[1, 2], [3, 4], [5, 6]])
    weights = {"a": 1.0, "b": 2.0}
    whole, pieces = Ledger({"a": 0, "b": 0}, weights), Ledger({"a": 0, "b": 0}, weights)
    whole.close(bounds.tolist(), rates.tolist(), legit.tolist(), blocked.tolist(), 0, 10)
    whole.emitted(by_stream, 2, 11)
    for start, stop in [(0, 3), (3, 4), (4, 10)]:
        pieces.close(bounds, rates, legit, blocked, start, stop)
        pieces.emitted(by_stream, {3: 0, 4: 1, 10: 2}[stop], 11)
    assert [a.tolist() for a in pieces.intervals()] == [a.tolist() for a in whole.intervals()]
    assert (pieces.legit_total, pieces.legit_blocked) == (whole.legit_total, whole.legit_blocked)
    assert pieces.harm_by_stream == whole.harm_by_stream == {"a": 5, "b": 6}
    assert (pieces.harm_volume, pieces.weighted_harm, pieces.current_rate()) == (11, 17.0, 9.0)


@pytest.mark.parametrize("sid", ["jailbreak-wave", "sycophancy-drift", "cross-user-data-exposure",
                                 "update-regression-abuse", "biased-image-generation"])
def test_plans_on_the_node_grid_integrate_to_the_same_bits_as_plans_worked_out_afresh(sid: str) -> None:
    """A model with the scenario's node grid (the drill's: traffic and harmful fractions at every
    tick's nodes worked out once) integrates a plan — whole ticks, the first possibly starting at a
    change point inside a tick, the last possibly cut at the end — exactly as one without it, with
    every catalogue action in effect in turn (fading ones too): journals depend on it."""
    scenario = load_scenario(sid).scenario
    tick_ms, end_ms = round(scenario.tick * 1000), round(scenario.duration * 1000)
    gridded, fresh = HarmModel(scenario, (tick_ms, end_ms)), HarmModel(scenario)
    ticks = -(-end_ms // tick_ms)
    rng = np.random.default_rng(5)
    checked = 0
    for action in [None, *scenario.actions]:
        if action is not None:
            since = float(rng.uniform(0, scenario.duration / 2))
            gridded.take_effect(action, since)
            fresh.take_effect(action, since)
        for _ in range(12):
            first = int(rng.integers(1, ticks + 1))
            last = int(rng.integers(first, min(ticks, first + 300) + 1))
            ends = np.arange(first, last + 1, dtype=np.int64) * tick_ms
            ends[-1] = min(int(ends[-1]), end_ms)
            start = (first - 1) * tick_ms + (int(rng.integers(0, tick_ms)) if rng.random() < 0.5 else 0)
            bounds = np.empty(ends.size + 1)
            bounds[0], bounds[1:] = start, ends
            bounds /= 1000
            a, b = gridded.integrate(bounds), fresh.integrate(bounds)
            for x, y in [(a.legit, b.legit), (a.served, b.served), (a.blocked, b.blocked),
                         *((a.harm[s], b.harm[s]) for s in scenario.streams)]:
                assert x.tobytes() == y.tobytes()
            checked += 1
    assert checked >= 12
