"""The append-only JSONL journal: a header line, then one line per event. The source of truth for replay."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from simulator.engine.events import Event


class JournalError(Exception):
    """A journal file is unreadable; the message names the line."""


@dataclass
class Journal:
    """A read journal."""

    header: dict[str, Any]
    events: list[Event]


def journal_text(header: dict[str, Any], events: Iterable[Event]) -> str:
    """A whole journal as the text :func:`write_journal` writes (the same bytes, so the same sha256)."""
    lines = [json.dumps(header, sort_keys=True, separators=(",", ":"))]
    lines += [event.to_json() for event in events]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ForkPoint:
    """Where a drill branched from: the parent journal and the sim time."""

    parent: str
    """The parent journal's file name."""
    parent_sha256: str
    """``sha256:`` of the parent journal's bytes (what ``ttx replay`` checks when it finds the file)."""
    at: float
    """Sim seconds: everything before is the parent's."""
    chain: tuple[dict[str, Any], ...] = ()
    """The parent's own ancestry, oldest first (a fork of a fork)."""

    def to_header(self) -> dict[str, Any]:
        """The journal header's ``fork`` entry."""
        return {"parent": self.parent, "parent_sha256": self.parent_sha256, "at": self.at,
                "chain": list(self.chain)}

    @classmethod
    def from_header(cls, header: dict[str, Any]) -> ForkPoint | None:
        """The fork point a journal header records, or ``None`` for a drill that is no fork."""
        entry = header.get("fork")
        if not isinstance(entry, dict):
            return None
        return cls(str(entry["parent"]), str(entry["parent_sha256"]), float(entry["at"]),
                   tuple(dict(link) for link in entry.get("chain", [])))


def write_journal(path: str | Path, header: dict[str, Any], events: Iterable[Event]) -> None:
    """Write a whole journal at once (headless runs)."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(journal_text(header, events))


class JournalWriter:
    """Appends events as they happen; :meth:`sync` makes them durable (flush + fsync)."""

    def __init__(self, path: str | Path, header: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self._file: IO[str] = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        if header is not None:
            self._file.write(json.dumps(header, sort_keys=True, separators=(",", ":")) + "\n")
            self.sync()

    def append(self, event: Event) -> None:
        """Append one event (buffered until :meth:`sync`)."""
        self._file.write(event.to_json() + "\n")

    def flush(self) -> int:
        """Hand appended lines to the OS without waiting for the disk; returns the descriptor to fsync.

        For group commit: flush here, ``os.fsync`` the descriptor elsewhere (a worker thread).
        """
        self._file.flush()
        return self._file.fileno()

    def sync(self) -> None:
        """Flush and fsync: everything appended so far survives a crash."""
        self._file.flush()
        os.fsync(self._file.fileno())

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run (nothing more can be appended)."""
        return self._file.closed

    def close(self) -> None:
        """Sync and close."""
        if not self._file.closed:
            self.sync()
            self._file.close()


def read_journal(path: str | Path) -> Journal:
    """Read a journal; a torn last line (a crash mid-write) is dropped, any other bad line is an error.

    Raises:
        JournalError: no such file, not text, no header, or a malformed line before the last.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise JournalError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise JournalError(f"{path}: is a directory; expected a journal file (.jsonl)") from None
    except UnicodeDecodeError:
        raise JournalError(f"{path}: not a ttx journal (not text; a journal is JSON lines)") from None
    except OSError as exc:
        raise JournalError(f"{path}: cannot read: {exc.strerror or exc}") from None
    return parse_journal(text, path)


def parse_journal(text: str, name: str | Path = "journal") -> Journal:
    """A journal from its text (``name`` is what error messages call it).

    Raises:
        JournalError: no header, or a malformed line before the last.
    """
    lines = text.splitlines()
    if not lines:
        raise JournalError(f"{name}: empty journal")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError:
        raise JournalError(f"{name}:1: not a ttx journal (the first line is not JSON; a journal starts "
                           "with the header line that ttx run --journal, ttx host or a saved review "
                           "writes)") from None
    if not isinstance(header, dict) or header.get("kind") != "header":
        raise JournalError(f"{name}:1: not a ttx journal (no header line)")
    events: list[Event] = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            events.append(Event.from_dict(json.loads(line)))
        except (json.JSONDecodeError, KeyError, ValueError) as exc:
            if number == len(lines):
                break
            raise JournalError(f"{name}:{number}: malformed event: {exc}") from None
    return Journal(header, events)
