"""The real team's run: a built-in scenario's ``historical`` policy on a drill's seed, simulated once, cached.

"You vs the real team" in every review and report sets a drill beside this run and beside the
do-nothing run (:mod:`simulator.engine.baseline`) on the same seed. Like the do-nothing run, a drill
the facilitator ended early is compared over the same stretch: its harm is counted to the same time.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace

from simulator.engine.baseline import HarmPoint
from simulator.engine.events import Event, Kind
from simulator.engine.policies import HISTORICAL, historical_path, load_policy
from simulator.engine.runner import run_policy
from simulator.format.loader import LoadedScenario
from simulator.format.scenario import Scenario
from simulator.format.yamlsafe import FileProblems

CACHE_SIZE = 64
"""Historical runs kept per process (a report asks for two horizons of one seed)."""


@dataclass(frozen=True)
class RealTeam:
    """What the real team's timeline did on this seed: the figures a review sets beside the team's."""

    time_to_detect: float | None
    """When the historical policy declared (``None``: the real team never did in the drill)."""
    time_to_contain: float | None
    """When its run was contained (``None``: not within the drill)."""
    first_signal: float | None
    """When the inject standing for the real team's first signal fired."""
    harm_volume: int
    """Harmful outputs up to when the compared drill ended (the same stretch; the whole run's
    in the cache)."""
    curve: tuple[HarmPoint, ...]
    """Hidden harm readings over the whole run, one per tick."""


_cache: OrderedDict[tuple[str, int, float], RealTeam] = OrderedDict()


def has_historical(scenario: Scenario) -> bool:
    """Whether the library ships a historical policy for this scenario's id."""
    try:
        historical_path(scenario)
    except FileNotFoundError:
        return False
    return True


def for_drill(loaded: LoadedScenario, seed: int, ended_at: float) -> RealTeam | None:
    """The real team's run a drill on ``seed`` that ended at ``ended_at`` is compared with.

    ``None`` when the scenario has no historical policy, or when its policy no longer fits an
    edited copy of the scenario (an action it names is gone).
    """
    whole = _run(loaded, seed, None)
    if whole is None:
        return None
    if ended_at >= loaded.scenario.duration:
        return whole
    stretch = _run(loaded, seed, ended_at)
    assert stretch is not None
    return replace(whole, harm_volume=stretch.harm_volume)


def first_signal_time(events: list[Event], scenario: Scenario) -> float | None:
    """When the inject standing for the real team's first signal fired in a run (``None``: it did not)."""
    if scenario.published is None:
        return None
    wanted = scenario.published.first_signal.inject
    return next((e.t for e in events if e.kind == Kind.INJECT and e.payload.get("inject") == wanted), None)


def _run(loaded: LoadedScenario, seed: int, until: float | None) -> RealTeam | None:
    """The historical policy's run to ``until`` (default: the end), cached by content hash and seed."""
    scenario = loaded.scenario
    end = scenario.duration if until is None else min(until, scenario.duration)
    key = (loaded.content_hash or scenario.id, seed, round(end, 3))
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    if not has_historical(scenario):
        return None
    try:
        policy = load_policy(HISTORICAL, scenario)
    except FileProblems:
        return None
    run = run_policy(loaded, policy, seed, until=end)
    curve = tuple(HarmPoint(e.t, int(e.payload["total"]), float(e.payload["rate"]))
                  for e in run.drill.events if e.kind == Kind.HARM)
    figures = RealTeam(run.result.time_to_detect, run.result.time_to_contain,
                       first_signal_time(run.drill.events, scenario), run.result.harm_volume, curve)
    _cache[key] = figures
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return figures
