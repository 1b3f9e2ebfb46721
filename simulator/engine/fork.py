"""Forking a drill: the journal's decisions up to sim time T, then new ones ("what if we had …?").

A fork replays the parent journal's commands and session notes *before* T against the same
scenario and seed, so everything before T — the hidden truth included — is the parent's, event for
event; at T the drill is handed to new players or a new policy. The fork's journal header names its
parent (file name and sha256) and T, plus the parent's own ancestry, so a fork of a fork keeps the
whole chain and ``ttx replay`` can check each link that is still on disk.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from simulator.engine.drill import Drill
from simulator.engine.events import SESSION_KINDS, Event, Kind
from simulator.engine.journal import ForkPoint, Journal
from simulator.engine.replay import command_of
from simulator.engine.runner import new_drill
from simulator.format.durations import clock, parse_duration
from simulator.format.loader import LoadedScenario

SEQ = re.compile(r"#?(\d+)")
"""An event seq as ``--at`` takes it: ``#412`` or ``412``."""


class ForkError(ValueError):
    """A fork point that the journal cannot give (past its end, an unknown inject or seq …)."""


def file_sha256(path: str | Path) -> str:
    """``sha256:`` of a file's bytes."""
    return "sha256:" + hashlib.sha256(Path(path).read_bytes()).hexdigest()


def fork_time(journal: Journal, text: str) -> float:
    """Resolve ``--at``: a duration (``45m``, ``1h10m``), an inject id, or an event seq (``#412``).

    An inject id or a seq forks at that event's time: an inject fires again in the branch (the drill
    runs through T before handing over), a decision is the branch's to make again — or not.

    Raises:
        ForkError: the text names nothing in the journal, or a time outside it.
    """
    end = max((e.t for e in journal.events), default=0.0)
    inject = next((e for e in journal.events
                   if e.kind == Kind.INJECT and e.payload.get("inject") == text), None)
    if inject is not None:
        return inject.t
    seq = SEQ.fullmatch(text.strip())
    if seq is not None:
        event = next((e for e in journal.events if e.seq == int(seq.group(1))), None)
        if event is None:
            raise ForkError(f"--at {text}: the journal has no event #{seq.group(1)} "
                            f"(its events are #1 to #{len(journal.events)})")
        return event.t
    try:
        at = parse_duration(text)
    except ValueError:
        fired = sorted({str(e.payload.get("inject")) for e in journal.events if e.kind == Kind.INJECT})
        raise ForkError(f"--at {text}: expected a duration like 45m or 1h10m, an inject id of the journal "
                        f"({', '.join(fired) or 'none fired'}) or an event seq like #412") from None
    if at > end:
        raise ForkError(f"--at {text}: past the journal's end ({clock(end)}); "
                        f"fork at {clock(end)} or earlier")
    return at


def fork(journal: Journal, loaded: LoadedScenario, at: float, parent: str | Path) -> Drill:
    """A new drill that made the journal's decisions before ``at`` and stands at ``at``, paused.

    It runs through ``at`` before handing over, so what the drill does by itself at that moment (an
    inject firing, an action taking effect, an alert) has happened in it; the decisions taken at
    ``at`` in the parent are not made again.

    Raises:
        ForkError: ``at`` is outside the journal.
    """
    end = max((e.t for e in journal.events), default=0.0)
    if not 0.0 <= at <= end:
        raise ForkError(f"cannot fork at {clock(at)}: the journal runs from 0:00:00 to {clock(end)}")
    drill = new_drill(loaded, int(journal.header["seed"]))
    drill.fork = ForkPoint(Path(parent).name, file_sha256(parent), round(at, 3), ancestry(journal.header))
    for event in before(journal.events, at):
        if event.kind in (Kind.COMMAND, Kind.REFUSED) and event.actor is not None:
            drill.advance_to(event.t)
            drill.submit(command_of(event))
        elif event.kind in SESSION_KINDS:
            drill.advance_to(event.t)
            drill.note(event.kind, event.actor, event.payload, to=event.to, hidden=event.hidden)
    drill.advance_to(at)
    return drill


def before(events: list[Event], at: float) -> list[Event]:
    """The events strictly before sim time ``at`` (what a fork at ``at`` shares with its parent)."""
    return [e for e in events if e.t < at]


def ancestry(header: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The parent's own fork chain plus its fork point, oldest first (empty for an original drill)."""
    point = ForkPoint.from_header(header)
    if point is None:
        return ()
    own = {k: v for k, v in point.to_header().items() if k != "chain"}
    return (*point.chain, own)


def check_parent(journal: Journal, path: str | Path) -> str:
    """Check a fork against its parent when the parent file is beside it; say what was checked.

    Raises:
        ForkError: the parent is there but differs (its sha256, or the events before the fork point).
    """
    from simulator.engine.journal import read_journal

    point = ForkPoint.from_header(journal.header)
    if point is None:
        return ""
    parent = Path(path).with_name(point.parent)
    if not parent.is_file():
        return f"fork of {point.parent} at {clock(point.at)} (parent not found beside it: not checked)"
    if file_sha256(parent) != point.parent_sha256:
        raise ForkError(f"{parent}: the parent journal has changed since the fork was made (sha256 differs)")
    shared = [e.to_json() for e in before(read_journal(parent).events, point.at)]
    mine = [e.to_json() for e in before(journal.events, point.at)]
    if shared != mine:
        raise ForkError(f"{path}: its events before {clock(point.at)} are not its parent's ({point.parent})")
    return f"fork of {point.parent} at {clock(point.at)}: the {len(shared)} events before it match the parent"


def load_fork(path: str | Path, at_text: str, scenario: str | None = None) -> tuple[Drill, LoadedScenario]:
    """Read a journal, load its scenario and fork it at ``at_text`` (what ``--from J --at T`` does).

    ``scenario`` insists on a scenario file: without it, a scenario that changed since the journal
    was written (its sha256 differs) is refused, because the fork would not be the same drill.

    Raises:
        ForkError: no such point, another scenario, or a changed one without ``scenario``.
        JournalError, FileNotFoundError, FileProblems: the journal or its scenario cannot be read.
    """
    from simulator.engine.replay import load_journal_scenario

    journal, loaded = load_journal_scenario(path, scenario)
    recorded = str(journal.header.get("scenario", ""))
    if recorded != loaded.scenario.id:
        raise ForkError(f"{path} is a drill of '{recorded}', not of '{loaded.scenario.id}'")
    stamped = journal.header.get("scenario_hash")
    if scenario is None and stamped and stamped != loaded.content_hash:
        raise ForkError(f"{loaded.path} has changed since {path} was written (sha256 differs), so a fork "
                        "would not replay the same drill; give --scenario FILE to fork onto it anyway")
    return fork(journal, loaded, fork_time(journal, at_text), path), loaded
