"""Headless runs: a policy drives a drill as fast as possible; replay re-derives a run from its journal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simulator.commands import Command
from simulator.engine import Drill
from simulator.events import SESSION_KINDS, Event, Kind
from simulator.journal import Journal, read_journal, write_journal
from simulator.loader import LoadedScenario, load_scenario
from simulator.policies import Policy, load_policy
from simulator.scoring import Result, score
from simulator.view import DrillView

_baselines: dict[tuple[str, int, float], float] = {}


def baseline_harm(loaded: LoadedScenario, seed: int, until: float | None = None) -> float:
    """Severity-weighted harm of the do-nothing run on this seed, up to ``until`` (default: the end).

    A drill the facilitator ends early is compared with doing nothing over the same stretch.
    Cached per scenario content, seed and horizon.
    """
    end = loaded.scenario.duration if until is None else min(until, loaded.scenario.duration)
    key = _baseline_key(loaded, seed, end)
    if key not in _baselines:
        drill = Drill(loaded.scenario, seed)
        drill.advance_to(end)
        if end < loaded.scenario.duration:
            drill.submit(Command(role="facilitator", action="end_drill"))
        _baselines[key] = drill.truth.weighted_harm
    return _baselines[key]


def _baseline_key(loaded: LoadedScenario, seed: int, end: float) -> tuple[str, int, float]:
    return (loaded.content_hash or loaded.scenario.id, seed, round(end, 3))


def new_drill(loaded: LoadedScenario, seed: int | None) -> Drill:
    """A drill of a loaded scenario, carrying its hash and source for the journal header."""
    return Drill(loaded.scenario, seed, content_hash=loaded.content_hash, source=loaded.label)


def finish(drill: Drill, loaded: LoadedScenario, policy: str | None) -> Result:
    """Score a finished drill and record the result as its last event."""
    result = score(drill, baseline_harm(loaded, drill.seed, until=drill.now), policy)
    drill.record_result(result.to_dict())
    return result


@dataclass
class Run:
    """A finished headless run."""

    drill: Drill
    result: Result


def run_policy(loaded: LoadedScenario, policy: Policy, seed: int | None = None) -> Run:
    """Play a whole drill with ``policy`` deciding, as fast as possible."""
    drill = new_drill(loaded, seed)
    view = DrillView(seat=None)
    drill.listeners.append(view.apply)
    view.extend(drill.events)
    wakes = sorted(policy.wake_times())
    tick = loaded.scenario.tick
    while not drill.finished:
        view.now = drill.now
        for command in policy.decide(view):
            drill.submit(command)
        upcoming = [w for w in wakes if w > drill.now]
        step = (int(drill.now // tick) + 1) * tick
        drill.advance_to(min([step, *upcoming]))
    return Run(drill, finish(drill, loaded, policy.name))


def idle_run(loaded: LoadedScenario, seed: int) -> Run:
    """The do-nothing run, scored; its drill doubles as the seed's baseline (simulated once, not twice).

    Gives the same events and result as ``run_policy(loaded, Idle(), seed)``.
    """
    drill = new_drill(loaded, seed)
    drill.run_to_end()
    _baselines.setdefault(_baseline_key(loaded, seed, loaded.scenario.duration), drill.truth.weighted_harm)
    return Run(drill, finish(drill, loaded, "idle"))


def run_named(scenario: str, policy: str = "textbook", seed: int | None = None,
              journal: str | Path | None = None) -> Run:
    """Load a scenario and a policy by name or path, run, and optionally write the journal."""
    loaded = load_scenario(scenario)
    run = run_policy(loaded, load_policy(policy, loaded.scenario), seed)
    if journal is not None:
        write_journal(journal, run.drill.header(run.result.policy), run.drill.events)
    return run


@dataclass
class ReplayReport:
    """How a replayed journal compares with the original."""

    matches: bool
    events: int
    first_difference: str | None
    recorded: Result | None
    replayed: Result


def replay(journal: Journal, loaded: LoadedScenario) -> ReplayReport:
    """Re-submit the journal's commands at their sim times and compare every event and the result."""
    original = [e for e in journal.events if e.kind != Kind.RESULT]
    drill = rebuild(journal, loaded)
    drill.run_to_end()
    replayed = finish(drill, loaded, journal.header.get("policy"))
    produced = [e for e in drill.events if e.kind != Kind.RESULT]
    difference = _first_difference(original, produced)
    recorded_events = [e for e in journal.events if e.kind == Kind.RESULT]
    recorded = Result.from_dict(recorded_events[-1].payload) if recorded_events else None
    same_result = recorded is None or recorded.to_dict() == replayed.to_dict()
    if difference is None and not same_result:
        difference = "the recorded result differs from the re-derived one"
    return ReplayReport(difference is None, len(original), difference, recorded, replayed)


def rebuild(journal: Journal, loaded: LoadedScenario) -> Drill:
    """A drill with the journal's commands and session notes re-applied at their sim times.

    It stands at the last of them; the caller runs it on (to the end, or live after a crash).
    """
    drill = new_drill(loaded, int(journal.header["seed"]))
    for event in journal.events:
        if event.kind in (Kind.COMMAND, Kind.REFUSED) and event.actor is not None:
            drill.advance_to(event.t)
            drill.submit(command_of(event))
        elif event.kind in SESSION_KINDS:
            drill.advance_to(event.t)
            drill.note(event.kind, event.actor, event.payload, to=event.to, hidden=event.hidden)
    return drill


def command_of(event: Event) -> Command:
    """The command a journaled ``command`` or ``refused`` event records."""
    assert event.actor is not None
    return Command(role=event.actor, action=str(event.payload["action"]),
                   params=dict(event.payload.get("params") or {}), player=event.payload.get("player"))


def _first_difference(a: list[Event], b: list[Event]) -> str | None:
    for left, right in zip(a, b, strict=False):
        if left.to_json() != right.to_json():
            return f"event #{left.seq} differs:\n  journal: {left.to_json()}\n  replay:  {right.to_json()}"
    if len(a) != len(b):
        return f"the journal has {len(a)} events, the replay {len(b)}"
    return None


def load_journal_scenario(path: str | Path, scenario: str | None = None) -> tuple[Journal, LoadedScenario]:
    """Read a journal and load the scenario it was recorded with (or ``scenario`` if given)."""
    journal = read_journal(path)
    source = scenario or str(journal.header.get("scenario_source") or journal.header["scenario"])
    if source.startswith("builtin:"):
        source = source.removeprefix("builtin:")
    elif scenario is None and not Path(source).is_file():
        source = str(journal.header["scenario"])
    try:
        return journal, load_scenario(source)
    except FileNotFoundError:
        if scenario is not None:
            raise
        recorded = journal.header.get("scenario_source") or journal.header["scenario"]
        raise FileNotFoundError(
            f"{path}: recorded with the scenario {recorded}, which is not there now (and "
            f"'{journal.header['scenario']}' is not a built-in); put the file back, or give it to "
            "ttx replay / ttx report with --scenario PATH") from None
