"""The harm model: every stream's expected harmful outputs and every feature's traffic, integrated exactly.

Between two change points (an action taking effect is the only thing that changes the rates) the
rates are fixed functions of time, so a whole run of monitoring intervals is integrated at once
with array operations: one row per interval, split at traffic-shape breakpoints. What the drill
draws from these integrals (Poisson counts) and what it has drawn so far (the :class:`Ledger`)
live here too; the drill decides when.
"""

from __future__ import annotations

import math
import weakref
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.engine.rates import (
    GAUSS_NODES,
    GAUSS_WEIGHTS,
    fading,
    fading_at,
    fraction_at,
    fraction_integral,
    fraction_integral_one,
    fractions_at,
    refine,
)
from simulator.format.scenario import Action, Effect, HarmStream, Scenario

Floats = npt.NDArray[np.float64]


@dataclass
class Mitigation:
    """A catalogue action in effect."""

    action: Action
    since: float
    features: frozenset[str]
    """Features whose legitimate traffic it blocks a share of."""


@dataclass(frozen=True, slots=True)
class Factor:
    """A product of multipliers on one rate: a constant part and the fading ones.

    Each fading multiplier is ``(multiplier, half_life, since)``.
    """

    constant: float = 1.0
    fading: tuple[tuple[float, float, float], ...] = ()

    def times(self, multiplier: float, half_life: float | None, since: float) -> Factor:
        """This factor times one more mitigation's multiplier."""
        if half_life is None:
            return Factor(self.constant * multiplier, self.fading)
        return Factor(self.constant, (*self.fading, (multiplier, half_life, since)))

    def at(self, t: float) -> float:
        """The product at one time."""
        out = self.constant
        for multiplier, half_life, since in self.fading:
            out *= fading(multiplier, half_life, t - since)
        return out

    def at_nodes(self, t: list[float]) -> list[float]:
        """The product at each time in ``t``, as :meth:`over` computes it (Python floats)."""
        out = [self.constant] * len(t)
        exp2 = math.exp2
        for multiplier, half_life, since in self.fading:  # fading_one, inlined
            gap = 1.0 - multiplier
            out = [o * (1.0 - gap * exp2(-(x - since) / half_life)) for o, x in zip(out, t, strict=True)]
        return out

    def over(self, t: Floats) -> Floats:
        """The product at every time in ``t`` (the constant times each fading multiplier in turn)."""
        if not self.fading:
            return np.full_like(t, self.constant)
        out: Floats | None = None
        for multiplier, half_life, since in self.fading:
            fade = fading_at(multiplier, half_life, since, t)
            out = fade * self.constant if out is None else out * fade
        assert out is not None
        return out

    def times_over(self, values: Floats, t: Floats) -> Floats:
        """``values * self.over(t)``, the same bits, without building a constant array."""
        if not self.fading:
            return values * self.constant
        return values * self.over(t)


@dataclass(frozen=True, slots=True)
class Integrals:
    """Integrals over consecutive intervals: one array entry per interval."""

    harm: dict[str, Floats]
    """Expected harmful outputs per stream."""
    legit: Floats
    """Requests the features would serve with no mitigation (all features)."""
    served: Floats
    """Requests served after traffic mitigations (all features)."""
    blocked: Floats
    """Legitimate requests not served or refused because of mitigations."""

    @property
    def expected(self) -> Floats:
        """Expected harmful outputs, all streams (summed stream by stream, in scenario order, from 0)."""
        total: Floats | float = 0.0
        for lam in self.harm.values():
            total = total + lam
        return total if isinstance(total, np.ndarray) else np.zeros_like(self.legit)


@dataclass(frozen=True, slots=True)
class Integral:
    """:class:`Integrals` over one interval, as Python floats."""

    harm: dict[str, float]
    legit: float
    served: float
    blocked: float

    @property
    def expected(self) -> float:
        """Expected harmful outputs, all streams (summed as :attr:`Integrals.expected` sums them)."""
        total = 0.0
        for lam in self.harm.values():
            total = total + lam
        return total


class HarmModel:
    """Rates of every stream and feature under the mitigations in effect, and their exact integrals."""

    def __init__(self, scenario: Scenario, ticks: tuple[int, int] | None = None) -> None:
        """``ticks``: the monitoring tick and the drill's end (ms), whose ticks' quadrature nodes and
        the rates at them are worked out once per scenario (:class:`NodeGrid`)."""
        self.scenario = scenario
        self.mitigations: list[Mitigation] = []
        self._shapes = {fid: (np.array([p.at for p in f.shape], dtype=np.float64),
                              np.array([p.factor for p in f.shape], dtype=np.float64))
                        for fid, f in scenario.features.items()}
        self._shape_lists = {fid: shape_lists(times.tolist(), factors.tolist())
                             for fid, (times, factors) in self._shapes.items()}
        points = [t for times, _ in self._shapes.values() for t in times.tolist()]
        self._breakpoints_list: list[float] = sorted(set(points))
        self.breakpoints = np.array(self._breakpoints_list, dtype=np.float64)
        """Every feature's traffic-shape points, s (where a piece's traffic may bend)."""
        self._traffic: dict[str, Factor] = {}
        self._stream: dict[str, Factor] = {}
        self._refused: dict[str, float] = {}
        self._latest_one: tuple[float, float, Integral] | None = None
        """The latest one-interval integral (a command's rate and the flush after it ask for the
        same interval); dropped when the mitigations change."""
        self._grid = None if ticks is None else node_grid(self, *ticks)
        self._replan()

    # --- mitigations ------------------------------------------------------------------------

    def take_effect(self, action: Action, now: float) -> None:
        """An action's effects start now (a repeatable one replaces its earlier application)."""
        if action.repeatable:
            self.mitigations = [m for m in self.mitigations if m.action.id != action.id]
        self.mitigations.append(Mitigation(action, now, self._features_of(action.effects)))
        self._replan()

    def in_effect(self, action_id: str) -> bool:
        """Whether the action is among the mitigations in effect."""
        return any(m.action.id == action_id for m in self.mitigations)

    def _features_of(self, effects: list[Effect]) -> frozenset[str]:
        out = set()
        for e in effects:
            if e.feature is not None:
                out.add(e.feature)
            if e.stream is not None:
                out.add(self.scenario.streams[e.stream].feature)
        return frozenset(out)

    def _replan(self) -> None:
        """Fold the mitigations into one factor per feature's traffic and per stream's harmful fraction."""
        self._latest_one = None
        self._traffic = {fid: Factor() for fid in self.scenario.features}
        self._stream = {sid: Factor() for sid in self.scenario.streams}
        self._refused = {fid: 1.0 for fid in self.scenario.features}
        for m in self.mitigations:
            for e in m.action.effects:
                if e.feature is not None and e.traffic_multiplier is not None:
                    self._traffic[e.feature] = self._traffic[e.feature].times(
                        e.traffic_multiplier, e.half_life, m.since)
                if e.stream is not None and e.harmful_multiplier is not None:
                    self._stream[e.stream] = self._stream[e.stream].times(
                        e.harmful_multiplier, e.half_life, m.since)
            for fid in m.features:
                self._refused[fid] *= 1.0 - m.action.blocked_fraction

    def stream_multiplier(self, stream_id: str, t: float) -> float:
        """How much the mitigations in effect scale the stream's harmful fraction at ``t``."""
        return self._stream[stream_id].at(t)

    # --- rates and integrals ----------------------------------------------------------------

    def shape(self, feature_id: str, t: Floats) -> Floats:
        """The feature's traffic multiplier at every time in ``t`` (linear between shape points)."""
        times, factors = self._shapes[feature_id]
        if times.size == 0:
            return np.ones_like(t)
        return np.interp(t, times, factors)

    def legit_rate(self, t: float) -> float:
        """Requests per second all features would serve at ``t`` with no mitigation."""
        at = np.array([t])
        return float(sum(f.traffic_rps * self.shape(fid, at)[0]
                         for fid, f in self.scenario.features.items()))

    def integrate(self, bounds: Floats) -> Integrals:
        """Integrals over each ``bounds[i]..bounds[i+1]`` under the mitigations in effect.

        Intervals are split at traffic-shape breakpoints; each piece is integrated in closed form
        when only the harmful fraction varies on it, and by Gauss–Legendre otherwise. Which way a
        piece is integrated depends only on the piece, so the result for an interval never depends
        on which other intervals are integrated with it.
        """
        inside = self._breakpoints_list
        pieces, starts = bounds, None
        if inside and bisect_right(inside, float(bounds[0])) < bisect_left(inside, float(bounds[-1])):
            pieces, first_pieces = refine(bounds, self.breakpoints)
            if first_pieces.size < pieces.size - 1:
                starts = first_pieces
        t0, t1 = pieces[:-1], pieces[1:]
        width = t1 - t0
        quadrature = _Quadrature(self, t0, t1, width, None if self._grid is None else self._grid.rows(pieces))

        def per_interval(values: Floats) -> Floats:
            return values if starts is None else np.add.reduceat(values, starts)

        legit: Floats | float = 0.0
        served: Floats | float = 0.0
        blocked: Floats | float = 0.0
        flat: dict[str, npt.NDArray[np.bool_]] = {}
        for fid, feature in self.scenario.features.items():
            shaped = self.shape(fid, pieces)
            s0, s1 = shaped[:-1], shaped[1:]
            flat[fid] = s0 == s1
            piece_legit = feature.traffic_rps * (s0 + s1) / 2 * width
            factor = self._traffic[fid]
            piece_served = (factor.constant * piece_legit if not factor.fading
                            else quadrature.of(factor.times_over(quadrature.level(fid), quadrature.nodes)))
            feature_legit, feature_served = per_interval(piece_legit), per_interval(piece_served)
            legit = legit + feature_legit
            served = served + feature_served
            refused = 1.0 - self._refused[fid]
            blocked = blocked + ((feature_legit - feature_served) + feature_served * refused)
        harm = {sid: per_interval(self._stream_integral(sid, stream, t0, t1, quadrature,
                                                        flat[stream.feature]))
                for sid, stream in self.scenario.streams.items()}
        assert isinstance(legit, np.ndarray) and isinstance(served, np.ndarray)
        assert isinstance(blocked, np.ndarray)
        return Integrals(harm, legit, served, blocked)

    def integrate_one(self, t0: float, t1: float) -> Integral:
        """:meth:`integrate` over the one interval ``t0..t1``, in Python floats: the same operations
        in the same order, so the same bits, without NumPy's per-call cost on one-element arrays
        (the part of a tick before a change point, the rate at a command)."""
        latest = self._latest_one
        if latest is not None and latest[0] == t0 and latest[1] == t1:
            return latest[2]
        one = self._integrate_one(t0, t1)
        self._latest_one = (t0, t1, one)
        return one

    def _integrate_one(self, t0: float, t1: float) -> Integral:
        inside = self._breakpoints_list
        if inside and t0 < inside[-1] and inside[bisect_right(inside, t0)] < t1:
            whole = self.integrate(np.array([t0, t1]))
            return Integral({sid: float(lam[0]) for sid, lam in whole.harm.items()},
                            float(whole.legit[0]), float(whole.served[0]), float(whole.blocked[0]))
        half, mid = (t1 - t0) / 2, (t1 + t0) / 2
        nodes = [mid + half * g for g in GAUSS_NODES_LIST]
        legit = served = blocked = 0.0
        shapes: dict[str, tuple[float, float, list[float]]] = {}
        for fid, feature in self.scenario.features.items():
            s0, s1, *at_nodes = self._shape_list(fid, [t0, t1, *nodes])
            shapes[fid] = (s0, s1, at_nodes)
            piece_legit = feature.traffic_rps * (s0 + s1) / 2 * (t1 - t0)
            factor = self._traffic[fid]
            piece_served = (factor.constant * piece_legit if not factor.fading
                            else _gauss(half, self._traffic_one(fid, at_nodes, nodes)))
            legit = legit + piece_legit
            served = served + piece_served
            refused = 1.0 - self._refused[fid]
            blocked = blocked + ((piece_legit - piece_served) + piece_served * refused)
        harm = {}
        for sid, stream in self.scenario.streams.items():
            fid, curve = stream.feature, stream.harmful_fraction
            factor, traffic = self._stream[sid], self._traffic[fid]
            s0, s1, at_nodes = shapes[fid]
            if not (factor.fading or traffic.fading) and s0 == s1:
                level = self.scenario.features[fid].traffic_rps * s0 * traffic.constant * factor.constant
                harm[sid] = level * fraction_integral_one(curve, t0, t1)
            else:
                values = [a * x * f for a, x, f in zip(self._traffic_one(fid, at_nodes, nodes),
                                                       fractions_at(curve, nodes), factor.at_nodes(nodes),
                                                       strict=True)]
                harm[sid] = _gauss(half, values)
        return Integral(harm, legit, served, blocked)

    def _shape_list(self, fid: str, t: list[float]) -> list[float]:
        """:meth:`shape` at each time in ``t``, as Python floats (:func:`interp_one` at each)."""
        times, factors, slopes = self._shape_lists[fid]
        if not times:
            return [1.0] * len(t)
        return [interp_one(x, times, factors, slopes) for x in t]

    def _traffic_one(self, fid: str, shape: list[float], t: list[float]) -> list[float]:
        """Requests per second the feature serves at each time in ``t`` after traffic mitigations, given
        the shape there (Python floats, as the array path computes them)."""
        rps = self.scenario.features[fid].traffic_rps
        return [rps * s * f for s, f in zip(shape, self._traffic[fid].at_nodes(t), strict=True)]

    def level(self, fid: str, t: Floats) -> Floats:
        """Requests per second the feature would serve at every time in ``t`` with no mitigation."""
        return self.scenario.features[fid].traffic_rps * self.shape(fid, t)

    def fraction(self, sid: str, t: Floats) -> Floats:
        """The stream's harmful fraction at every time in ``t`` with no mitigation."""
        return fraction_at(self.scenario.streams[sid].harmful_fraction, t)

    def _stream_integral(self, sid: str, stream: HarmStream, t0: Floats, t1: Floats,
                         quadrature: _Quadrature, flat: npt.NDArray[np.bool_]) -> Floats:
        """Expected harmful outputs of one stream on each piece."""
        fid, curve = stream.feature, stream.harmful_fraction
        factor, traffic = self._stream[sid], self._traffic[fid]
        fades = bool(factor.fading or traffic.fading)
        exact: Floats | None = None
        if not fades and flat.any():
            level = (self.scenario.features[fid].traffic_rps * self.shape(fid, t0)
                     * traffic.constant * factor.constant)
            exact = level * fraction_integral(curve, t0, t1)
            if flat.all():
                return exact
        nodes = quadrature.nodes
        served = traffic.times_over(quadrature.level(fid), nodes)
        numeric = quadrature.of(factor.times_over(served * quadrature.fraction(sid), nodes))
        return numeric if exact is None else np.where(flat, exact, numeric)


def shape_lists(times: list[float], factors: list[float]) -> tuple[list[float], list[float], list[float]]:
    """A traffic shape's points and the slope of each segment, as :func:`interp_one` takes them."""
    slopes = [_divide(factors[i + 1] - factors[i], times[i + 1] - times[i]) for i in range(len(times) - 1)]
    return times, factors, slopes


def _divide(a: float, b: float) -> float:
    """``a / b`` as IEEE floats divide (two points at one time: an infinite or NaN slope, as in NumPy)."""
    if b == 0.0:
        return math.nan if a == 0.0 else math.copysign(math.inf, a)
    return a / b


def interp_one(x: float, times: list[float], factors: list[float], slopes: list[float]) -> float:
    """``np.interp(x, times, factors)`` at one time, in Python floats: NumPy's algorithm step by step
    (the segment's slope times the distance from its start, plus its start's value; the ends held
    flat; a time on a point gives that point's value), so the same bits."""
    j = bisect_right(times, x) - 1
    if j < 0:
        return factors[0]
    if j >= len(times) - 1:
        return factors[-1]
    if times[j] == x:
        return factors[j]
    value = slopes[j] * (x - times[j]) + factors[j]
    if value != value:  # NaN from an infinite slope: NumPy tries from the segment's other end
        value = slopes[j] * (x - times[j + 1]) + factors[j + 1]
        if value != value and factors[j] == factors[j + 1]:
            value = factors[j]
    return value


GAUSS_NODES_LIST: list[float] = GAUSS_NODES.tolist()
GAUSS_WEIGHTS_LIST: list[float] = GAUSS_WEIGHTS.tolist()


def _gauss(half: float, values: list[float]) -> float:
    """:meth:`_Quadrature.of` on one piece: summed node by node, in the same order."""
    total = values[0] * GAUSS_WEIGHTS_LIST[0]
    for value, weight in zip(values[1:], GAUSS_WEIGHTS_LIST[1:], strict=True):
        total = total + value * weight
    return half * total


def _nodes(t0: Floats, t1: Floats, width: Floats) -> tuple[Floats, Floats]:
    """Gauss–Legendre nodes of each piece ``t0[i]..t1[i]`` (one row per piece) and half each width."""
    half = width / 2
    mid = (t1 + t0) / 2
    return mid[:, None] + half[:, None] * GAUSS_NODES[None, :], half


GRID_PIECES = 50_000
"""Most pieces a scenario's node grid holds (a longer drill integrates every plan afresh)."""


class NodeGrid:
    """The quadrature nodes of every monitoring tick of a scenario (split at traffic breakpoints),
    with each feature's traffic and each stream's harmful fraction at them, worked out once.

    Neither depends on the seed or the mitigations, and a plan integrates whole ticks, so every
    plan (and every run of the scenario) takes its rows from here: the same operations on the
    same numbers as working them out, so the same bits, without the C library's transcendental
    per node (:func:`~simulator.engine.rates.libm`) plan after plan over the same ticks.
    """

    def __init__(self, pieces: Floats) -> None:
        self.pieces = pieces
        """Piece boundaries, s."""
        self.nodes, self.half = _nodes(pieces[:-1], pieces[1:], pieces[1:] - pieces[:-1])
        self._levels: dict[str, Floats] = {}
        self._fractions: dict[str, Floats] = {}

    def rows(self, pieces: Floats) -> tuple[NodeGrid, int, int] | None:
        """Where a plan's pieces are on the grid: ``(grid, first row, leading pieces not on it)``
        (the first piece may start at a change point inside a tick); ``None`` if they are not."""
        if pieces.size < 2:
            return None
        at = int(self.pieces.searchsorted(pieces[1]))
        stop = at + pieces.size - 1
        if stop > self.pieces.size or not np.array_equal(self.pieces[at:stop], pieces[1:]):
            return None
        if at > 0 and self.pieces[at - 1] == pieces[0]:
            return self, at - 1, 0
        return self, at, 1

    def level(self, fid: str, model: HarmModel) -> Floats:
        """The feature's unmitigated traffic at every node (:meth:`HarmModel.level` of a model of
        this grid's scenario: it reads only the scenario's curves)."""
        known = self._levels.get(fid)
        if known is None:
            known = self._levels[fid] = model.level(fid, self.nodes)
        return known

    def fraction(self, sid: str, model: HarmModel) -> Floats:
        """The stream's unmitigated harmful fraction at every node (:meth:`HarmModel.fraction`)."""
        known = self._fractions.get(sid)
        if known is None:
            known = self._fractions[sid] = model.fraction(sid, self.nodes)
        return known


GRIDS_KEPT = 16
"""Scenarios whose node grid is kept per process."""
_grids: dict[int, tuple[weakref.ref[Scenario], tuple[int, int], NodeGrid | None]] = {}


def node_grid(model: HarmModel, tick_ms: int, end_ms: int) -> NodeGrid | None:
    """The node grid of ``model``'s scenario, ticks of ``tick_ms`` up to ``end_ms`` (shared while
    the scenario lives; ``None`` when it would hold more than :data:`GRID_PIECES` pieces).

    The boundaries are built as a plan builds them (whole milliseconds, the last one the end, then
    seconds), so a plan's are the same floats.
    """
    scenario, key = model.scenario, (tick_ms, end_ms)
    kept = _grids.get(id(scenario))
    if kept is not None and kept[0]() is scenario and kept[1] == key:
        return kept[2]
    ticks = -(-end_ms // tick_ms)
    grid: NodeGrid | None = None
    if ticks < GRID_PIECES:
        ends = np.arange(0, ticks + 1, dtype=np.int64) * tick_ms
        ends[-1] = min(int(ends[-1]), end_ms)
        pieces = ends / 1000
        if model.breakpoints.size and pieces.size > 1:
            pieces, _ = refine(pieces, model.breakpoints)
        if pieces.size <= GRID_PIECES:
            grid = NodeGrid(pieces)
    if len(_grids) >= GRIDS_KEPT:
        _grids.clear()
    _grids[id(scenario)] = (weakref.ref(scenario), key, grid)
    return grid


class _Quadrature:
    """8-point Gauss–Legendre on each piece ``t0[i]..t1[i]`` (``width`` is ``t1 - t0``); nothing is
    computed until a piece is integrated numerically. ``on_grid`` (see :meth:`NodeGrid.rows`):
    the rows of the pieces that are whole ticks are taken from the scenario's node grid."""

    def __init__(self, model: HarmModel, t0: Floats, t1: Floats, width: Floats,
                 on_grid: tuple[NodeGrid, int, int] | None) -> None:
        self._model = model
        self._t0, self._t1, self._width = t0, t1, width
        self._on_grid = on_grid
        self._nodes: Floats | None = None
        self.half: Floats
        """Half of each piece's width (set with the nodes)."""

    @property
    def nodes(self) -> Floats:
        """The nodes, one row per piece (computed on first use)."""
        if self._nodes is None:
            if self._on_grid is None:
                self._nodes, self.half = _nodes(self._t0, self._t1, self._width)
            else:
                grid, first, own = self._on_grid
                stop = first + self._t0.size - own
                if own:
                    nodes, half = _nodes(self._t0[:own], self._t1[:own], self._width[:own])
                    self._nodes = np.concatenate((nodes, grid.nodes[first:stop]))
                    self.half = np.concatenate((half, grid.half[first:stop]))
                else:
                    self._nodes, self.half = grid.nodes[first:stop], grid.half[first:stop]
        return self._nodes

    def _rows(self, on_grid: Floats, work_out: Callable[[Floats], Floats]) -> Floats:
        """Values at the nodes: the grid's rows, after working out those of pieces not on it."""
        assert self._on_grid is not None
        _, first, own = self._on_grid
        rows = on_grid[first:first + self._t0.size - own]
        return np.concatenate((work_out(self.nodes[:own]), rows)) if own else rows

    def level(self, fid: str) -> Floats:
        """The feature's unmitigated traffic at the nodes."""
        if self._on_grid is None:
            return self._model.level(fid, self.nodes)
        return self._rows(self._on_grid[0].level(fid, self._model), lambda t: self._model.level(fid, t))

    def fraction(self, sid: str) -> Floats:
        """The stream's unmitigated harmful fraction at the nodes."""
        if self._on_grid is None:
            return self._model.fraction(sid, self.nodes)
        return self._rows(self._on_grid[0].fraction(sid, self._model), lambda t: self._model.fraction(sid, t))

    def of(self, values: Floats) -> Floats:
        """The integral on each piece of a function given at :attr:`nodes`.

        Summed node by node in node order (a running sum along each row: not a matrix product nor
        a pairwise ``sum``, whose summation order may depend on the shape), so a piece's integral is
        the same in any batch, and the same as :func:`_gauss` gives for one piece.
        """
        total: Floats = np.add.accumulate(values * GAUSS_WEIGHTS, axis=1)[:, -1]
        return self.half * total


Closed = tuple[Any, Any, Any, Any, int, int]
"""Intervals closed together: boundaries, expected harmful rates, legitimate and blocked requests
(arrays or lists), and the range ``start..stop-1`` of them that was closed (boundaries
``start..stop``)."""

Ticked = tuple[npt.NDArray[np.int64], Floats, npt.NDArray[np.int64], int, int]
"""Ticks closed together: end times (ms), harmful rates, harmful outputs so far, and the range."""


class Ledger:
    """What the drill has drawn so far: harmful outputs per stream, collateral, and the rate history.

    The rate history is one entry per closed interval (a tick, or the part of a tick before a change
    point): what containment is scored on. Closing intervals only keeps references to the arrays
    they were read ahead in (a commit makes no copies); the history is joined when it is read.
    """

    def __init__(self, harm_by_stream: dict[str, int], weights: dict[str, float]) -> None:
        self.weights = weights
        self._streams = list(harm_by_stream)
        self._by_stream = dict(harm_by_stream)
        self._row: tuple[npt.NDArray[np.int64], int] | None = None
        self._volume = sum(harm_by_stream.values())
        self._closed: list[Closed] = []
        self._joined: tuple[Floats, Floats, Floats] | None = None
        self._sums: dict[tuple[int, int], float] = {}
        """(column, intervals closed) → the exact sum of that column of the closed intervals."""
        self.ticks: list[Ticked] = []
        """Per commit: the plan's tick end times (ms), harmful rates, harmful outputs so far, and
        which of them were committed."""

    @property
    def harm_by_stream(self) -> dict[str, int]:
        """Harmful outputs emitted so far, per stream."""
        if self._row is not None:
            rows, i = self._row
            self._by_stream = dict(zip(self._streams, rows[i].tolist(), strict=True))
            self._row = None
        return self._by_stream

    def emitted(self, by_stream: npt.NDArray[np.int64], row: int, total: int) -> None:
        """The harmful outputs so far are now row ``row`` of ``by_stream`` (one column per stream),
        ``total`` of them."""
        self._row = (by_stream, row)
        self._volume = total

    @property
    def harm_volume(self) -> int:
        """Harmful outputs emitted so far, all streams."""
        return self._volume

    @property
    def weighted_harm(self) -> float:
        """Severity-weighted harmful outputs so far (exact: whole counts times each stream's weight)."""
        return sum(self.weights[sid] * n for sid, n in self.harm_by_stream.items())

    @property
    def legit_total(self) -> float:
        """Legitimate requests so far (an exact sum: the same however the intervals were closed)."""
        return self._exact_sum(LEGIT)

    @property
    def legit_blocked(self) -> float:
        """Legitimate requests mitigations blocked or refused so far (an exact sum)."""
        return self._exact_sum(BLOCKED)

    def _exact_sum(self, column: int) -> float:
        """The exact sum (``math.fsum``: correctly rounded, whatever the order) of one column of
        the closed intervals, kept until another interval closes."""
        key = (column, len(self._closed))
        known = self._sums.get(key)
        if known is None:
            parts = (_values(c[column], c[4], c[5]) for c in self._closed)
            known = self._sums[key] = math.fsum(chain.from_iterable(parts))
        return known

    def close(self, bounds: Any, rates: Any, legit: Any, blocked: Any, start: int, stop: int) -> None:
        """Keep closed intervals ``start..stop-1``: their boundaries (``bounds[start..stop]``),
        expected harmful rates, legitimate traffic and what mitigations blocked of it."""
        self._closed.append((bounds, rates, legit, blocked, start, stop))
        self._joined = None

    def intervals(self) -> tuple[Floats, Floats, Floats]:
        """Start, end and expected harmful rate of every closed interval, in time order."""
        if self._joined is None:
            if not self._closed:
                return np.zeros(0), np.zeros(0), np.zeros(0)
            t0 = np.concatenate([c[0][c[4]:c[5]] for c in self._closed]).astype(np.float64)
            t1 = np.concatenate([c[0][c[4] + 1:c[5] + 1] for c in self._closed]).astype(np.float64)
            rates = np.concatenate([c[1][c[4]:c[5]] for c in self._closed]).astype(np.float64)
            self._joined = (t0, t1, rates)
        return self._joined

    def current_rate(self) -> float:
        """The latest closed interval's expected harmful outputs per second."""
        if not self._closed:
            return 0.0
        latest = self._closed[-1]
        return float(latest[1][latest[5] - 1])

    def worst_rate_since(self, t: float) -> float:
        """The highest expected harmful rate of the intervals ending after ``t``."""
        _, t1, rates = self.intervals()
        later = rates[t1 > t]
        return float(later.max()) if later.size else 0.0

    def curve(self) -> tuple[Floats, Floats, npt.NDArray[np.int64]]:
        """Every tick's end time, harmful rate and harmful outputs so far."""
        if not self.ticks:
            return np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int64)
        ends = np.concatenate([e[a:b] for e, _, _, a, b in self.ticks])
        rates = np.concatenate([r[a:b] for _, r, _, a, b in self.ticks])
        totals = np.concatenate([n[a:b] for _, _, n, a, b in self.ticks])
        return ends / 1000, rates, totals


LEGIT, BLOCKED = 2, 3
"""Where a closed interval keeps its legitimate traffic and what mitigations blocked of it."""


def _values(values: Any, start: int, stop: int) -> list[float]:
    """``values[start:stop]`` as Python floats (an array's or a list's)."""
    part = values[start:stop]
    return part.tolist() if isinstance(part, np.ndarray) else list(part)


def time_to_contain(t0: Floats, t1: Floats, rates: Floats, threshold: float,
                    watch: float) -> float | None:
    """Earliest time from which the harmful rate stays at or under ``threshold`` for ``watch`` seconds."""
    good = rates <= threshold
    if not good.any():
        return None
    index = np.arange(rates.size)
    run_start = np.maximum.accumulate(np.where(good & ~np.concatenate(([False], good[:-1])), index, 0))
    held = good & (t1 - t0[run_start] >= watch)
    first = np.flatnonzero(held)
    return float(t0[run_start[first[0]]]) if first.size else None


def quiet_since(t0: Floats, t1: Floats, rates: Floats, threshold: float) -> float | None:
    """Start of the last unbroken run of intervals at or under ``threshold``, if it lasts to the
    last interval (the harm was still below the threshold when the drill ended); otherwise None."""
    good = rates <= threshold
    if not good.size or not good[-1]:
        return None
    above = np.flatnonzero(~good)
    return float(t0[above[-1] + 1]) if above.size else float(t0[0])
