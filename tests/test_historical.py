"""Real teams as the yardstick: every built-in replays its real incident's published timeline.

Each built-in records the real incident's published figures (``published:``) and ships a scripted
``historical`` policy (``scenarios/historical/<id>.yaml``) whose every step cites its source or is
labelled an assumption. Its run must land within a factor of 2 of the published figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.engine.events import Event, Kind
from simulator.engine.historical import first_signal_time
from simulator.engine.policies import HISTORICAL, Scripted, historical_path, load_policy
from simulator.engine.runner import run_named
from simulator.format.loader import builtin_ids, load_scenario
from simulator.format.scenario import PublishedTime, Scenario
from simulator.format.taxonomy import FACILITATOR

SCENARIOS = builtin_ids()
SEEDS = range(5)


def anchor(events: list[Event], scenario: Scenario, when: PublishedTime) -> float | None:
    """The run's time the published figure is counted from (``None``: that moment never came)."""
    if when.counted_from == "harm_start":
        return 0.0
    if when.counted_from == "first_signal":
        return first_signal_time(events, scenario)
    return next((e.t for e in events if e.kind == Kind.UPDATE_SENT and e.payload.get("audience") == "public"),
                None)


def lands_within_factor_2(measured: float | None, start: float | None, when: PublishedTime,
                          duration: float) -> bool:
    """Within a factor of 2 of the published range; a figure that falls after the drill's end is
    met by not happening inside the drill (the real team had not got there yet)."""
    low, high = when.window(2.0)
    if start is None:
        return False
    if measured is None:
        return start + low > duration
    return low <= measured - start <= high


@pytest.mark.parametrize("sid", SCENARIOS)
def test_every_builtin_records_the_real_incidents_published_figures(sid: str) -> None:
    """The scenario file says which real incident it is measured against, where the figures come
    from, how the real team found out (an inject of this drill) and when it contained the harm."""
    s = load_scenario(sid).scenario
    assert s.published is not None, f"{sid} has no published: record"
    assert s.published.incident and s.published.source
    assert s.inject(s.published.first_signal.inject) is not None
    assert s.published.contained is not None and s.published.contained.as_published


@pytest.mark.parametrize("sid", SCENARIOS)
def test_every_builtin_ships_a_valid_historical_policy_citing_each_step(sid: str) -> None:
    """``historical`` resolves to the scenario's own policy file, which validates against it; every
    step cites the public record (the incidents table of the authoring guide, from the project's
    domain reference) or is labelled an assumption."""
    s = load_scenario(sid).scenario
    assert historical_path(s).name == f"{sid}.yaml"
    policy = load_policy(HISTORICAL, s)
    assert isinstance(policy, Scripted) and policy.name == HISTORICAL
    for d in policy.spec.decisions:
        assert d.based_on.startswith(("Assumption:", "Public record (")), (
            f"{sid}: step {d.action} at {d.at or d.on_inject} cites no source: {d.based_on!r}")


@pytest.mark.parametrize("sid", SCENARIOS)
def test_the_historical_run_is_deterministic(sid: str) -> None:
    """Same scenario, seed and policy: the same events, bit for bit."""
    first = run_named(sid, HISTORICAL, 3).drill.events
    again = run_named(sid, HISTORICAL, 3).drill.events
    assert [e.to_dict() for e in first] == [e.to_dict() for e in again]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("sid", SCENARIOS)
def test_the_historical_run_lands_within_a_factor_of_2_of_the_published_figures(sid: str, seed: int) -> None:
    """The real team's first signal arrives on this seed, nothing is done before it, nothing is
    refused, and containment lands within a factor of 2 of the published figure (or, where the
    real team took longer than the drill lasts, not inside the drill). The facilitator closing a
    pausing question nobody answered is the white cell's housekeeping, not the team acting."""
    s = load_scenario(sid).scenario
    assert s.published is not None and s.published.contained is not None
    run = run_named(sid, HISTORICAL, seed)
    events = run.drill.events
    signal = first_signal_time(events, s)
    assert signal is not None, f"the real team's first signal ({s.published.first_signal.inject}) never came"
    first_command = min(e.t for e in events if e.kind == Kind.COMMAND and e.actor != FACILITATOR)
    assert first_command >= signal, "the real team acted before its first signal"
    assert [e.payload for e in events if e.kind == Kind.REFUSED] == []
    published_signal = s.published.first_signal.time
    if published_signal is not None:
        assert lands_within_factor_2(signal, 0.0, published_signal, s.duration)
    contained = s.published.contained
    start = anchor(events, s, contained)
    assert lands_within_factor_2(run.result.time_to_contain, start, contained, s.duration), (
        f"contained at {run.result.time_to_contain} from {start}; published {contained.as_published}")


def test_a_scenario_without_a_historical_policy_says_so(tmp_path: Path) -> None:
    """A scenario of one's own has no real team: ``--policy historical`` names the way out."""
    from simulator.format.starter import starter_scenario

    path = tmp_path / "mine.yaml"
    path.write_text(starter_scenario("mine", "mine.yaml"), encoding="utf-8")
    with pytest.raises(FileNotFoundError, match="no historical policy"):
        load_policy(HISTORICAL, load_scenario(str(path)).scenario)


def test_ttx_run_and_sweep_accept_the_historical_policy() -> None:
    """``ttx run ID --policy historical`` plays the real team; ``ttx sweep`` compares it."""
    import json

    from tests.test_cli import ttx

    run = ttx("run", "update-regression-abuse", "--policy", "historical", "--json")
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["policy"] == "historical"
    sweep = ttx("sweep", "update-regression-abuse", "--policy", "textbook", "--policy", "historical",
                "--runs", "3", "--workers", "1", "--json")
    assert sweep.returncode == 0, sweep.stderr
    assert set(json.loads(sweep.stdout)["policies"]) == {"textbook", "historical"}
