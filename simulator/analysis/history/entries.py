"""Recording a drill: its history entry from the after-action facts, a journal file, or a drill as it ends.

A row is built from the same :class:`~simulator.analysis.aar.AfterAction` the review and ``ttx report``
show (:func:`entry_of`), with the journal itself stored beside it (compressed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.analysis.history.reopening import reopen_file
from simulator.analysis.history.rows import (
    MODES,
    PEOPLE,
    DrillEntry,
    DrillRow,
    HistoryError,
    NoHistory,
    Recorded,
    sha256,
    utc_now,
)
from simulator.analysis.history.store import History, open_history

if TYPE_CHECKING:  # `ttx history` lists drills without importing the engine
    from simulator.analysis.aar import AfterAction, RoleFigures
    from simulator.analysis.recording import Target

# --- building a row from the after-action facts ---------------------------------------------------


def entry_of(aar: AfterAction, journal: bytes, *, team: str | None, source: str,
             played_at: datetime | None = None, path: str | Path | None = None,
             scenario_known: bool = True, header: dict[str, Any] | None = None) -> DrillEntry:
    """The history entry of a drill: its after-action facts (what the report says) and its journal.

    ``played_at`` defaults to now (a drill recorded as it ends); ``header`` is the journal's, for the
    scenario hash, the ttx version and a fork's parent.
    """
    from simulator.analysis.metrics import measures
    from simulator.analysis.report import participants_line

    r, head = aar.result, header or {}
    counts = {s: sum(1 for x in aar.expectations if x.status == s) for s in ("met", "late", "missed", "open")}
    values: dict[str, Any] = {
        **measures(aar),
        "id": sha256(journal), "played_at": played_at or utc_now(), "recorded_at": utc_now(),
        "team": team or None, "scenario_id": aar.scenario_id, "scenario_title": aar.title,
        "scenario_hash": head.get("scenario_hash") or None, "scenario_known": scenario_known,
        "seed": aar.seed, "policy": _policy(aar.policy), "mode": MODES.get(str(aar.policy), "bot"),
        "source": source, "participants": participants_line(aar),
        "players": [{"name": p.name, "roles": list(p.roles)} for p in aar.players],
        "roles": list(aar.roles), "duration": aar.duration, "ended_at": aar.ended_at,
        "harm_volume": r.harm_volume, "idle_harm_volume": aar.idle_harm_volume,
        "baseline_weighted_harm": r.baseline_weighted_harm, "resurgences": r.resurgences,
        **{f"expectations_{s}": n for s, n in counts.items()},
        "discussion": _discussion(aar),
        "strengths": [{"area": f.area, "text": f.text} for f in aar.strengths],
        "improvements": [{"area": f.area, "text": f.text, "action": f.action, "owner": f.owner}
                         for f in aar.improvements],
        "notes": [n for n in [aar.rederived, *aar.notes] if n],
        "journal_path": str(Path(path).resolve()) if path is not None else None,
        "journal_bytes": len(journal), "parent": _parent(head),
        "ttx_version": str(head.get("version") or "?"),
    }
    parts = [{"name": c.name, "value": c.value, "weight": c.weight, "points": c.points, "why": c.why}
             for c in r.breakdown]
    rows = ([_figure("role", i, f) for i, f in enumerate(aar.participants)]
            + [_figure("player", i, f) for i, f in enumerate(aar.players)])
    return DrillEntry(values, parts, rows, journal)


def _policy(policy: str | None) -> str:
    if policy in MODES:
        return PEOPLE
    return str(policy) if policy else "unknown"


def _discussion(aar: AfterAction) -> Any:
    """The discussion figures (questions, answers, alignment) when the after-action facts have them."""
    import dataclasses

    found = getattr(aar, "discussion", None)
    if found is None:
        return None
    if dataclasses.is_dataclass(found) and not isinstance(found, type):
        return dataclasses.asdict(found)
    if isinstance(found, list):
        return [dataclasses.asdict(x) if dataclasses.is_dataclass(x) and not isinstance(x, type) else x
                for x in found]
    return found


def _parent(header: dict[str, Any]) -> str | None:
    """A fork's parent journal, as the history names drills (its sha256 in hex)."""
    fork = header.get("fork")
    parent = fork.get("parent_sha256") if isinstance(fork, dict) else None
    return str(parent).removeprefix("sha256:") if parent else None


def _figure(kind: str, position: int, f: RoleFigures) -> dict[str, Any]:
    return {"kind": kind, "name": f.name, "position": position, "roles": list(f.roles),
            "first_action": f.first_action, "actions": f.actions, "refusals": f.refusals,
            "approvals": f.approvals, "peak_load": f.peak_load, "peak_load_at": f.peak_load_at,
            "joined": f.joined}


def played_at(header: dict[str, Any], path: str | Path | None) -> datetime:
    """When a journal's drill was played: the header's date if it records one, else the file's mtime."""
    for key in ("date", "started_at", "created", "ended_at"):
        value = header.get(key)
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return moment.astimezone(UTC).replace(tzinfo=None, microsecond=0) if moment.tzinfo else moment
    if path is not None and Path(path).exists():
        return datetime.fromtimestamp(Path(path).stat().st_mtime, UTC).replace(tzinfo=None, microsecond=0)
    return utc_now()


# --- recording journals ------------------------------------------------------------------------


def record_journal(history: History, path: str | Path, *, team: str | None = None,
                   source: str = "import", scenario: str | None = None) -> Recorded:
    """Record a journal file (``ttx history add``, ``ttx host`` at the end); the same file twice is one drill.

    A journal whose scenario cannot be found is recorded from its header (and marked so); its date is the
    header's if it has one, else the file's modification time.

    Raises:
        JournalError: not a readable journal.
        HistoryError: it cannot be scored (no result, no scenario) or the database refused it.
    """
    opened = reopen_file(path, scenario)
    data = Path(path).read_bytes()
    header = opened.journal.header
    entry = entry_of(opened.aar, data, team=team, source=source, played_at=played_at(header, path),
                     path=path, scenario_known=opened.loaded is not None, header=header)
    return history.record(entry)


@dataclass(frozen=True)
class Remembered:
    """What recording a drill as it ended gave: the record, the team's run before it, or why neither."""

    recorded: Recorded | None
    """``None``: not recorded (the history could not be used, or the target only reads it)."""
    previous: DrillRow | None
    problem: str | None = None
    """One line: why the history could not be used (a drill not recorded has its journal saved instead)."""


def remember(target: Target, entry: DrillEntry) -> Remembered:
    """Record a drill and find the last run of the same scenario by the same team before it. Never raises:
    a history that cannot be used is reported in ``problem``, and the drill goes on to its review.

    A target that only reads (a team seat: the host records the drill) records nothing and never creates
    the database. A team drill given no team name is compared with the last run by any team. A branch
    (a rewind) is compared with no last run: its review puts it beside the drill it was forked from.
    """
    values = entry.values
    team, before = target.team or None, values["played_at"]
    any_team = team is None and values.get("mode") == MODES["team"]
    recorded: Recorded | None = None
    try:
        with open_history(target.url, create=target.record) as history:
            if target.record:
                recorded = history.record(entry)
                team, before = recorded.row.team, recorded.row.played_at
            previous = (history.last_run(values["scenario_id"], team, exclude=entry.id, before=before,
                                         any_team=any_team)
                        if values.get("policy") == PEOPLE and values.get("parent") is None else None)
    except NoHistory:
        return Remembered(None, None)
    except HistoryError as exc:
        return Remembered(None, None, str(exc))
    return Remembered(recorded, previous)
