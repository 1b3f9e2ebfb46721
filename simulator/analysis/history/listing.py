"""``ttx history``'s table read straight from a SQLite file's covering index, with the stdlib ``sqlite3``.

Importing SQLAlchemy costs more than listing 10,000 drills, so for a SQLite history named by a path (the
embedded default, ``--db FILE``, ``$TTX_DB``) the table is read without it: one read-only connection, the
schema version checked, one query of :class:`~.rows.Listed`'s columns, which the ``drills_listed`` index
covers. The filters and the order are the SQLAlchemy store's (:meth:`~.rows.Filters.conditions`,
:data:`~.rows.NEWEST_FIRST`), rendered as SQL text here.

The migrations stay the authority on the schema: this reads only a database at :data:`LISTING_SCHEMA`.
Anything else (another version, no ``ttx_schema``, a file that is missing, locked, corrupt or not a
database) gives ``None``, and the caller opens the history with :func:`~.store.open_history`, which
migrates an older schema, refuses a newer one, and words every failure.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from simulator.analysis.history.rows import NEWEST_FIRST, Filters, Listed

LISTING_SCHEMA = 3
"""The schema version this reading knows: the ``drills`` table as migration 3 left it, with its listing index
(which covers the parent since then).
A test holds it equal to ``SCHEMA_VERSION``, so a new migration comes back here to check the query."""

TABLE = "drills"
"""The table the drills are listed from (a test holds it to the SQLAlchemy definition's name)."""

SQL_TESTS = {"is null": "{} IS NULL", "lower =": "lower({}) = lower(?)", "=": "{} = ?", ">=": "{} >= ?"}
"""Each :class:`~.rows.Condition` test as SQL text (``{}``: the column)."""

READ: dict[str, Callable[[Any], Any]] = {"played_at": datetime.fromisoformat, "scenario_known": bool}
"""How a listed column's SQLite value becomes :class:`~.rows.Listed`'s (the others are read as stored);
neither column is ever NULL."""


def sqlite_datetime(moment: datetime) -> str:
    """A time as SQLAlchemy stores a ``DateTime`` in SQLite (``2026-01-31 09:00:00.000000``), so that a
    comparison of the stored text orders as the times do."""
    return moment.isoformat(sep=" ", timespec="microseconds")


def listing_query(filters: Filters, limit: int | None) -> tuple[str, list[Any]]:
    """The SQL text and parameters that read the matching drills' :class:`~.rows.Listed` columns, newest
    first (with ``limit``: only so many)."""
    where, params = [], []
    for c in filters.conditions():
        where.append(SQL_TESTS[c.test].format(c.column))
        if c.test != "is null":
            params.append(sqlite_datetime(c.value) if isinstance(c.value, datetime) else c.value)
    order = ", ".join(f"{name} DESC" if descending else name for name, descending in NEWEST_FIRST)
    sql = (f"SELECT {', '.join(Listed._fields)} FROM {TABLE}"
           + (f" WHERE {' AND '.join(where)}" if where else "") + f" ORDER BY {order}")
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


def quick_listing(path: Path, filters: Filters, limit: int | None = None) -> list[Listed] | None:
    """What :meth:`History.listing <.store.History.listing>` gives (oldest first), read from the SQLite file
    at ``path`` without SQLAlchemy; ``None`` when this cannot read it as it is (see the module's doc).

    It never waits for a lock: while another program writes, the store's reading (which waits, and says
    so when it gives up) is the one to use.
    """
    if not path.is_file():
        return None
    sql, params = listing_query(filters, limit)
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=0, isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        conn.execute("BEGIN")  # one snapshot: the version checked is the version read
        found = conn.execute("SELECT max(version) FROM ttx_schema").fetchone()
        if found is None or found[0] != LISTING_SCHEMA:
            return None
        rows = conn.execute(sql, params).fetchall()
    except sqlite3.Error:
        return None
    finally:
        conn.close()
    rows.reverse()
    if not rows:
        return []
    columns = [list(map(READ[name], values)) if name in READ else values
               for name, values in zip(Listed._fields, zip(*rows, strict=True), strict=True)]
    return list(map(Listed, *columns))
