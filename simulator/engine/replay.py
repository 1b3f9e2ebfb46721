"""Replaying a journal: re-submit its commands at their sim times and compare what the engine produces.

This is the one place that says whether a journal re-derives: ``ttx replay`` (the whole run), the
after-action report (a journal cut short must be the start of its replay) and ``ttx host --resume``
(the recovered drill must reproduce every journaled event) all call :func:`first_difference`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.engine.drill import Drill
from simulator.engine.events import SESSION_KINDS, Event, Kind
from simulator.engine.journal import Journal, read_journal
from simulator.engine.runner import finish, new_drill, play_out
from simulator.engine.scoring import Result
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario, load_scenario


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
                   params=dict(event.payload.get("params") or {}), player=event.payload.get("player"),
                   player_id=event.payload.get("player_id"))


def first_difference(recorded: Sequence[Event], replayed: Sequence[Event], *,
                     prefix: bool = False) -> str | None:
    """Where two event lists first differ, in words; ``None`` when they agree.

    With ``prefix`` the recorded list may stop early (a drill cut short, a crash): it must be the
    start of the replayed one, event for event.
    """
    for left, right in zip(recorded, replayed, strict=False):
        if left.to_json() != right.to_json():
            return f"event #{left.seq} differs:\n  journal: {left.to_json()}\n  replay:  {right.to_json()}"
    if len(recorded) > len(replayed) or (len(recorded) < len(replayed) and not prefix):
        return f"the journal has {len(recorded)} events, the replay {len(replayed)}"
    return None


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
    play_out(drill)
    replayed = finish(drill, loaded, journal.header.get("policy"))
    produced = [e for e in drill.events if e.kind != Kind.RESULT]
    difference = first_difference(original, produced)
    recorded_events = [e for e in journal.events if e.kind == Kind.RESULT]
    recorded = Result.from_dict(recorded_events[-1].payload) if recorded_events else None
    same_result = recorded is None or recorded.to_dict() == _as_recorded(replayed.to_dict(), recorded)
    if difference is None and not same_result:
        difference = "the recorded result differs from the re-derived one"
    return ReplayReport(difference is None, len(original), difference, recorded, replayed)


LEGACY_NEVER_CONTAINED = "never contained"
"""The containment reason before it said why (journals written until then record only this)."""


def _as_recorded(replayed: dict[str, Any], recorded: Result) -> dict[str, Any]:
    """The replayed result in the words of the recorded one's ttx: a journal from before the containment
    reason said why (``never contained``) replays as it did; every figure is still compared."""
    part = next((c for c in recorded.breakdown if c.name == "containment"), None)
    mine = replayed["breakdown"].get("containment")
    if (part is None or part.why != LEGACY_NEVER_CONTAINED or mine is None
            or not str(mine["why"]).startswith(LEGACY_NEVER_CONTAINED + ": ")):
        return replayed
    return {**replayed, "breakdown": {**replayed["breakdown"],
                                      "containment": {**mine, "why": LEGACY_NEVER_CONTAINED}}}


def load_journal_scenario(path: str | Path, scenario: str | None = None) -> tuple[Journal, LoadedScenario]:
    """Read a journal and load the scenario it was recorded with (or ``scenario`` if given)."""
    journal = read_journal(path)
    return journal, load_recorded_scenario(journal, scenario, where=path)


def load_recorded_scenario(journal: Journal, scenario: str | None = None,
                           where: str | Path = "the journal") -> LoadedScenario:
    """Load the scenario a journal's header names (its source file, else the built-in of that id).

    Raises:
        FileNotFoundError: neither is there (the message names ``where`` and says what to do).
        FileProblems: the scenario file no longer loads.
    """
    source = scenario or str(journal.header.get("scenario_source") or journal.header["scenario"])
    if source.startswith("builtin:"):
        source = source.removeprefix("builtin:")
    elif scenario is None and not Path(source).is_file():
        source = str(journal.header["scenario"])
    try:
        return load_scenario(source)
    except FileNotFoundError:
        if scenario is not None:
            raise
        recorded = journal.header.get("scenario_source") or journal.header["scenario"]
        raise FileNotFoundError(
            f"{where}: recorded with the scenario {recorded}, which is not there now (and "
            f"'{journal.header['scenario']}' is not a built-in); put the file back, or give it to "
            "ttx replay / ttx report with --scenario PATH") from None
