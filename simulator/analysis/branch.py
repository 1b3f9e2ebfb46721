"""A forked drill beside its parent: both results and harm from the fork point on, and the decisions
one made that the other did not. The report and the review's "this branch vs the original" read it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from simulator.analysis.aar import AfterAction, Branch, analyse
from simulator.engine.events import Event, Kind
from simulator.engine.journal import ForkPoint, Journal, JournalError, read_journal
from simulator.format.durations import clock
from simulator.format.loader import LoadedScenario


def decisions_after(events: list[Event], at: float) -> list[tuple[str, str, float]]:
    """Accepted commands at or after ``at`` as (role, action, time)."""
    return [(e.actor or "", str(e.payload.get("action")), e.t) for e in events
            if e.kind == Kind.COMMAND and e.t >= at]


def differing(mine: list[tuple[str, str, float]], theirs: list[tuple[str, str, float]]) -> list[str]:
    """Decisions in ``mine`` beyond what ``theirs`` has of the same role and action (times ignored)."""
    left = Counter((role, action) for role, action, _ in theirs)
    out = []
    for role, action, t in mine:
        if left[(role, action)] > 0:
            left[(role, action)] -= 1
        else:
            out.append(f"{clock(t)} {role}: {action}")
    return out


def compare(branch: AfterAction, events: list[Event], parent: AfterAction, parent_events: list[Event],
            point: ForkPoint) -> Branch:
    """The branch beside its parent from ``point`` on."""
    s = parent.series
    later = [i for i, t in enumerate(s.harm_t) if t >= point.at]
    mine, theirs = decisions_after(events, point.at), decisions_after(parent_events, point.at)
    return Branch(point.parent, point.at, parent.result, [s.harm_t[i] for i in later],
                  [s.harm_total[i] for i in later], differing(mine, theirs), differing(theirs, mine))


def branch_of(aar: AfterAction, journal: Journal, parent_path: str | Path,
              loaded: LoadedScenario | None) -> Branch | None:
    """Compare a fork with its parent journal at ``parent_path``; ``None`` if it is no fork or the
    parent cannot be read (the report then says which file it looked for)."""
    point = ForkPoint.from_header(journal.header)
    if point is None:
        return None
    try:
        parent_journal = read_journal(parent_path)
        parent = analyse(parent_journal, loaded, parent_path)
    except (JournalError, ValueError, OSError):
        return None
    return compare(aar, journal.events, parent, parent_journal.events, point)


def parent_beside(journal: Journal, path: str | Path) -> Path | None:
    """Where a fork's parent journal would be: beside the fork, under the name its header records."""
    point = ForkPoint.from_header(journal.header)
    return None if point is None else Path(path).with_name(point.parent)
