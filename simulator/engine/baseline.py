"""The do-nothing baseline: the same scenario and seed with nobody acting, simulated once and cached.

Scoring (harm averted), the after-action report (the do-nothing curve, the do-nothing volume) and a
team seat's review all compare a drill with this run, so it lives here once. A drill the facilitator
ended early is compared with doing nothing over the same stretch (``until``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from simulator.engine.drill import Drill
from simulator.format.commands import Command
from simulator.format.scenario import Scenario

CACHE_SIZE = 256
"""Baselines kept per process (a sweep visits each seed once; a report asks for two horizons)."""


@dataclass(frozen=True)
class HarmPoint:
    """The do-nothing run at one monitoring tick: sim time, harmful outputs so far, harmful rate (/s)."""

    t: float
    total: int
    rate: float


@dataclass(frozen=True)
class Baseline:
    """What the do-nothing run did, up to ``until``."""

    seed: int
    until: float
    weighted_harm: float
    """Severity-weighted harm (what harm averted is measured against)."""
    harm_volume: int
    """Harmful outputs emitted."""
    ticks: tuple[tuple[float, ...], tuple[int, ...], tuple[float, ...]] = field(default=((), (), ()))
    """Every tick's time, harmful outputs so far and harmful rate."""

    @property
    def curve(self) -> tuple[HarmPoint, ...]:
        """The hidden harm readings, one per tick (the report's and review's do-nothing curve)."""
        return tuple(HarmPoint(t, total, rate) for t, total, rate in zip(*self.ticks, strict=True))


@dataclass(frozen=True)
class DoNothing:
    """The do-nothing run a drill is compared with: its whole curve, and its volume to the drill's end."""

    curve: tuple[HarmPoint, ...]
    """Hidden harm readings of the do-nothing run over the scenario's whole duration."""
    harm_volume: int
    """Its harmful outputs up to when this drill ended (as the score compares them)."""


_cache: OrderedDict[tuple[str, int, float], Baseline] = OrderedDict()


def do_nothing(scenario: Scenario, seed: int, until: float | None = None, *, key: str = "") -> Baseline:
    """The do-nothing run of ``scenario`` on ``seed`` up to ``until`` (default: the end), cached.

    ``key`` names the scenario's content (its sha256) so that two edits of one id never share a
    baseline; without it the scenario id is used.
    """
    end = scenario.duration if until is None else min(until, scenario.duration)
    cache_key = (key or scenario.id, seed, round(end, 3))
    if cache_key in _cache:
        _cache.move_to_end(cache_key)
        return _cache[cache_key]
    drill = Drill(scenario, seed, record_ticks=False, render_text=False, discuss=False, injects=False)
    drill.advance_to(end)
    if end < scenario.duration:
        drill.submit(Command(role="facilitator", action="end_drill"))
    return remember(cache_key, of_drill(drill, end))


def for_drill(scenario: Scenario, seed: int, ended_at: float, *, key: str = "") -> DoNothing:
    """What a drill that ended at ``ended_at`` is compared with (two cached runs at most)."""
    whole = do_nothing(scenario, seed, key=key)
    return DoNothing(whole.curve, do_nothing(scenario, seed, ended_at, key=key).harm_volume)


def of_drill(drill: Drill, until: float) -> Baseline:
    """The baseline figures of a drill in which nobody acted (an idle run doubles as its own baseline)."""
    times, rates, totals = drill.truth.curve()
    ticks = (tuple(times.tolist()), tuple(totals.tolist()), tuple(np.round(rates, 6).tolist()))
    return Baseline(drill.seed, until, drill.truth.weighted_harm, drill.truth.harm_volume, ticks)


def remember(cache_key: tuple[str, int, float], baseline: Baseline) -> Baseline:
    """Keep ``baseline`` under ``cache_key``, dropping the least recently used past :data:`CACHE_SIZE`."""
    _cache[cache_key] = baseline
    _cache.move_to_end(cache_key)
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return baseline
