"""Where the drills played here are recorded: the ``--db`` / ``$TTX_DB`` database and the ``--team`` name.

Kept apart from :mod:`simulator.analysis.history` so that ``ttx play`` and ``ttx host`` can check their
options at start-up without importing SQLAlchemy; the database is opened when the drill ends.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ENV_VAR = "TTX_DB"
"""Environment variable naming the history database (a URL or a SQLite file path)."""

DB_FILE = "history.sqlite"
"""The embedded database's file name in the user data dir."""

BACKENDS = ("sqlite", "postgresql", "postgres")
"""URL schemes (before any ``+driver``) the history can live in."""


@dataclass(frozen=True)
class Target:
    """Where the drills played here are recorded, and as which team (``--db``, ``--team``)."""

    url: str | None = None
    """A URL or SQLite path; ``None``: ``$TTX_DB``, else the embedded default."""
    team: str | None = None
    record: bool = True
    """False: only read the history, for the team's last run (a team seat: the host records the drill)."""


def default_path() -> Path:
    """The embedded database: ``history.sqlite`` in the platform's user data dir for ttx."""
    from platformdirs import user_data_path

    return user_data_path("ttx", appauthor=False) / DB_FILE


def sqlite_path(given: str | None) -> Path | None:
    """The SQLite file a ``--db`` value (or ``$TTX_DB`` when ``given`` is ``None``) names as a plain path, or
    the embedded default when neither is set; ``None`` for a URL (``sqlite:///…``, ``postgresql://…``)."""
    text = (given or os.environ.get(ENV_VAR) or "").strip()
    if not text:
        return default_path()
    if "://" in text:
        return None
    return Path(text).expanduser().resolve()


def url_problem(given: str | None) -> str | None:
    """What is wrong with a ``--db`` value (or ``$TTX_DB`` when ``given`` is ``None``), in a sentence;
    ``None`` when it names a SQLite file or a SQLite / PostgreSQL URL. Connecting is not tried."""
    text = (given or os.environ.get(ENV_VAR) or "").strip()
    if "://" not in text:
        return None
    scheme = text.split("://", 1)[0].split("+", 1)[0].lower()
    if scheme in BACKENDS:
        return None
    shown = text.split("://", 1)[0] + "://…"
    return (f"{shown}: ttx keeps its history in SQLite or PostgreSQL, not {scheme or 'this'} (give a file "
            "path, sqlite:///PATH or postgresql://USER@HOST:PORT/DB)")
