"""Reopening a drill as it was played: from the journal the history keeps, or from a journal file."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.analysis.history.rows import DrillRow, HistoryError, local

if TYPE_CHECKING:  # `ttx history` lists drills without importing the engine
    from simulator.analysis.aar import AfterAction
    from simulator.analysis.history.store import History
    from simulator.engine.journal import Journal
    from simulator.format.loader import LoadedScenario

@dataclass(frozen=True)
class Reopened:
    """A drill as it was played: its journal, its scenario (if it can be found), its after-action facts."""

    label: str
    """How tables name it: the short id, or the journal's file name."""
    journal: Journal
    loaded: LoadedScenario | None
    aar: AfterAction
    row: DrillRow | None = None
    """Its history row (``None`` for a journal file not read from the history)."""


def reopen(history: History, drill_id: str) -> Reopened:
    """A recorded drill, rebuilt from the journal the history stores (its file is not needed).

    Raises:
        HistoryError: no such drill, or its journal cannot be scored.
    """
    from simulator.engine.journal import JournalError, parse_journal

    row = history.get(drill_id)
    try:
        journal = parse_journal(history.journal(row.id).decode("utf-8"), f"drill {row.short}")
    except (JournalError, UnicodeDecodeError) as exc:
        raise HistoryError(f"drill {row.short}: its stored journal cannot be read ({exc})") from None
    loaded, aar = _analysed(journal, None, f"drill {row.short}")
    return Reopened(row.short, journal, loaded, replace(aar, date=local(row.played_at) + " (history)"), row)


def reopen_file(path: str | Path, scenario: str | None = None) -> Reopened:
    """A journal file, analysed as ``ttx report`` does.

    Raises:
        JournalError: not a readable journal.
        HistoryError: it has no result and its scenario cannot be found to re-derive one.
    """
    from simulator.engine.journal import read_journal

    journal = read_journal(path)
    loaded, aar = _analysed(journal, path, str(path), scenario)
    return Reopened(Path(path).name, journal, loaded, aar)


def _analysed(journal: Journal, path: str | Path | None, where: str,
              scenario: str | None = None) -> tuple[LoadedScenario | None, AfterAction]:
    """The journal's scenario (``None`` when it cannot be found) and after-action facts."""
    from simulator.analysis.aar import analyse
    from simulator.engine.replay import load_recorded_scenario
    from simulator.format.yamlsafe import FileProblems

    try:
        loaded: LoadedScenario | None = load_recorded_scenario(journal, scenario, where=where)
    except (FileNotFoundError, FileProblems):
        loaded = None
    try:
        return loaded, analyse(journal, loaded, path)
    except ValueError as exc:
        raise HistoryError(f"{where}: cannot be scored: {exc}") from None


