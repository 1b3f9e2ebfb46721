"""Where the history database is, its schema and migrations, and connecting to it (SQLite or PostgreSQL).

One SQLAlchemy Core code path serves both. The schema is versioned by :data:`MIGRATIONS` and the
``ttx_schema`` table; a database written by a newer ttx is refused, never touched.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    event,
    func,
    inspect,
    select,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from simulator import __version__
from simulator.analysis.history.rows import DrillRow, HistoryError, Listed, NoHistory, utc_now
from simulator.analysis.recording import DB_FILE, ENV_VAR, sqlite_path, url_problem

BUSY_TIMEOUT = 5.0
"""Seconds a SQLite writer waits for another program's lock before giving up."""

CONNECT_TIMEOUT = 5
"""Seconds to wait for a PostgreSQL server to answer."""


# --- where the database is ---------------------------------------------------------------------


def resolve_url(given: str | None = None) -> str:
    """The database URL from ``--db`` (``given``), else ``$TTX_DB``, else the embedded default.

    A plain path means a SQLite file; ``postgresql://`` uses the psycopg driver.

    Raises:
        HistoryError: the URL is not one SQLAlchemy understands, or names a database it has no driver for.
    """
    path = sqlite_path(given)
    if path is not None:
        return f"sqlite:///{path}"
    text = (given or os.environ.get(ENV_VAR) or "").strip()
    problem = url_problem(text)
    if problem is not None:
        raise HistoryError(problem)
    try:
        url = make_url(text)
    except ArgumentError:
        raise HistoryError(f"{text!r} is not a database URL (expected a file path, sqlite:///PATH or "
                           "postgresql://USER@HOST:PORT/DB)") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise HistoryError(f"{shown(url)}: ttx keeps its history in SQLite or PostgreSQL, not "
                           f"{url.get_backend_name()}")
    return url.render_as_string(hide_password=False)


def shown(url: str | URL) -> str:
    """A URL fit for a message: the password hidden, a SQLite URL shown as its file path."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        return parsed.database
    return parsed.render_as_string(hide_password=True)


# --- the schema --------------------------------------------------------------------------------

metadata = MetaData()

schema_table = Table(
    "ttx_schema", metadata,
    Column("version", Integer, primary_key=True),
    Column("description", String(200), nullable=False),
    Column("applied_at", DateTime, nullable=False),
    Column("ttx_version", String(40), nullable=False),
)
"""One row per migration applied; the highest ``version`` is the database's schema."""

drills = Table(
    "drills", metadata,
    Column("id", String(64), primary_key=True, doc="sha256 of the journal's bytes"),
    Column("played_at", DateTime, nullable=False, doc="when the drill ended (UTC)"),
    Column("recorded_at", DateTime, nullable=False),
    Column("team", String(120)),
    Column("scenario_id", String(200), nullable=False),
    Column("scenario_title", Text, nullable=False),
    Column("scenario_hash", String(100)),
    Column("scenario_known", Boolean, nullable=False, doc="false: recorded from the journal header alone"),
    Column("seed", BigInteger, nullable=False),
    Column("policy", String(200), nullable=False, doc="'people', or the bot policy that played"),
    Column("mode", String(20), nullable=False, doc="hot seat, team, bot"),
    Column("source", String(20), nullable=False, doc="play, host, run, import"),
    Column("participants", Text, nullable=False, doc="the report's participants line"),
    Column("players", JSON, nullable=False),
    Column("roles", JSON, nullable=False),
    Column("duration", Float, nullable=False),
    Column("ended_at", Float, nullable=False),
    Column("score", Float, nullable=False),
    Column("time_to_detect", Float),
    Column("time_to_escalate", Float),
    Column("time_to_contain", Float),
    Column("time_to_first_update", Float),
    Column("harm_volume", BigInteger, nullable=False),
    Column("idle_harm_volume", BigInteger),
    Column("weighted_harm", Float, nullable=False),
    Column("baseline_weighted_harm", Float, nullable=False),
    Column("harm_averted", Float, nullable=False),
    Column("collateral", Float, nullable=False),
    Column("resurgences", Integer, nullable=False),
    Column("expectations_met", Integer, nullable=False),
    Column("expectations_late", Integer, nullable=False),
    Column("expectations_missed", Integer, nullable=False),
    Column("expectations_open", Integer, nullable=False),
    Column("discussion", JSON),
    Column("strengths", JSON, nullable=False),
    Column("improvements", JSON, nullable=False),
    Column("notes", JSON, nullable=False),
    Column("journal_path", Text),
    Column("journal_bytes", BigInteger, nullable=False),
    Column("parent", String(100), doc="sha256 of the journal this one was forked from"),
    Column("ttx_version", String(40), nullable=False, doc="the ttx that wrote the journal"),
)
"""One row per drill: the after-action report's headline figures, ready to list, compare and trend."""

Index("drills_by_team_scenario", drills.c.team, drills.c.scenario_id, drills.c.played_at)

listed_index = Index("drills_listed", drills.c.played_at,
                     *(drills.c[name] for name in Listed._fields if name != "played_at"))
"""Covers what ``ttx history`` lists (:class:`~simulator.analysis.history.rows.Listed`): it is read from the
index, newest first, without touching the rows (which hold the players, findings and notes too)."""

components = Table(
    "score_components", metadata,
    Column("drill_id", String(64), ForeignKey("drills.id"), primary_key=True),
    Column("name", String(60), primary_key=True),
    Column("value", JSON),
    Column("weight", Float, nullable=False),
    Column("points", Float, nullable=False),
    Column("why", Text, nullable=False),
)
"""Every score component of every drill (the breakdown)."""

figures = Table(
    "role_figures", metadata,
    Column("drill_id", String(64), ForeignKey("drills.id"), primary_key=True),
    Column("kind", String(10), primary_key=True, doc="role or player"),
    Column("name", String(200), primary_key=True),
    Column("position", Integer, nullable=False, doc="order in the report (roles in play, players as joined)"),
    Column("roles", JSON, nullable=False),
    Column("first_action", Float),
    Column("actions", Integer, nullable=False),
    Column("refusals", Integer, nullable=False),
    Column("approvals", Integer, nullable=False),
    Column("peak_load", Float, nullable=False),
    Column("peak_load_at", Float),
    Column("joined", Float),
)
"""Per-role and per-player figures of every drill."""

journals = Table(
    "journals", metadata,
    Column("drill_id", String(64), ForeignKey("drills.id"), primary_key=True),
    Column("encoding", String(10), nullable=False),
    Column("body", LargeBinary, nullable=False),
)
"""The journal itself (zlib), so a drill can be reopened, compared and re-reported without its file."""


references = Table(
    "bot_references", metadata,
    Column("scenario_hash", String(100), primary_key=True, doc="the scenario file's content hash"),
    Column("seed", BigInteger, primary_key=True),
    Column("policy", String(200), primary_key=True),
    Column("ttx_version", String(40), primary_key=True, doc="the engine that played it"),
    Column("measures", JSON, nullable=False, doc="every metric of the run"),
    Column("computed_at", DateTime, nullable=False),
)
"""A cache of bot runs the trends use as a yardstick: a bot on a seed of a scenario file, with a given ttx,
always scores the same, so it is played once."""


@dataclass(frozen=True)
class Migration:
    """One step of the schema: applied once, in order, recorded in ``ttx_schema``."""

    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=[drills, components, figures, journals, references])


def _listing_index_v2(conn: Connection) -> None:
    listed_index.create(conn, checkfirst=True)  # a new database has it from v1 (the tables as they are now)
    conn.exec_driver_sql("DROP INDEX IF EXISTS drills_by_date")  # v1's, led by the same column


def _listing_parent_v3(conn: Connection) -> None:
    conn.exec_driver_sql("DROP INDEX IF EXISTS drills_listed")  # v2's, without the parent
    listed_index.create(conn)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "drills, score components, role figures, journals and bot references", _create_v1),
    Migration(2, "an index covering what ttx history lists (replaces drills_by_date)", _listing_index_v2),
    Migration(3, "the listing index covers a branch's parent too (ttx history marks branches)",
              _listing_parent_v3),
)
"""The schema's history. A change appends a migration (ALTER/CREATE in its ``apply``) and updates the
tables above to match; never edit a released one. Version 1 creates the tables as they are now, so each
later step must also hold on a database it made (``checkfirst``)."""

SCHEMA_VERSION = MIGRATIONS[-1].version
"""The schema this ttx writes."""


ROW_COLUMNS = [drills.c[f.name] for f in fields(DrillRow)]
"""The columns a :class:`DrillRow` is read from (not the findings and notes)."""

LISTED_COLUMNS = [drills.c[name] for name in Listed._fields]
"""The columns a :class:`Listed` line is read from (all in :data:`listed_index`)."""


# --- connecting and migrating ------------------------------------------------------------------


def explain(exc: SQLAlchemyError, url: str, doing: str) -> str:
    """A database failure as one line that says what happened and what to do."""
    where = shown(url)
    original = getattr(exc, "orig", None)
    reason = (str(original if original is not None else exc).strip().splitlines() or ["?"])[0]
    if make_url(url).get_backend_name() == "sqlite":
        lowered = reason.lower()
        if "locked" in lowered or "busy" in lowered:
            return (f"cannot {doing} the history {where}: another program holds its lock (database is "
                    f"locked); try again when it is done")
        if "not a database" in lowered or "malformed" in lowered or "disk image" in lowered:
            return (f"the history {where} is not a readable SQLite database ({reason}); nothing was "
                    "changed: move the file aside (ttx starts a new history there) or point --db elsewhere")
        if "readonly" in lowered or "read-only" in lowered or "unable to open" in lowered:
            return f"cannot {doing} the history {where}: {reason} (check the folder and its permissions)"
    if (isinstance(exc, DBAPIError) and exc.connection_invalidated) or "connect" in reason.lower():
        return f"cannot connect to the history database {where}: {reason}"
    return f"cannot {doing} the history {where}: {reason}"


def connect(url: str, *, create: bool, busy_timeout: float = BUSY_TIMEOUT) -> Engine:
    """An engine for a resolved URL (:func:`resolve_url`); with ``create``, a missing SQLite file's folder
    is made (the file is made by the first write).

    Raises:
        NoHistory: the SQLite file does not exist and ``create`` is false.
        HistoryError: the path is a folder, its folder cannot be made, or there is no driver.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_file(parsed, create)
    return _engine(url, busy_timeout)


def _sqlite_file(url: URL, create: bool) -> None:
    path = url.database
    if not path or path == ":memory:":
        return
    file = Path(path)
    if file.is_dir():
        raise HistoryError(f"the history {path} is a folder; give a file (e.g. {file / DB_FILE})")
    if file.exists():
        return
    if not create:
        raise NoHistory(f"no drills recorded yet (no history at {path}); ttx play records the drills "
                        "people play, ttx history add JOURNAL imports saved ones")
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HistoryError(f"cannot create the history folder {file.parent}: {exc.strerror or exc}") from None


@functools.lru_cache(maxsize=8)
def _engine(url: str, busy_timeout: float) -> Engine:
    """The process's engine for a database: kept from one :func:`~.store.open_history` to the next (closing
    a history closes its connections, not the engine), so a ``ttx play`` that records drill after drill
    compiles its statements once, not once per drill (SQLAlchemy caches them per engine)."""
    from sqlalchemy import create_engine

    parsed = make_url(url)
    try:
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(parsed, connect_args={"timeout": busy_timeout})
            _explicit_sqlite_transactions(engine)
            return engine
        return create_engine(parsed, connect_args={"connect_timeout": CONNECT_TIMEOUT}, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise HistoryError(f"no driver for {shown(parsed)}: {exc}") from None


def _explicit_sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, begin transactions: DDL is then transactional and a
    writer takes the lock up front (``BEGIN IMMEDIATE``), so two writers wait for each other."""
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("ttx_write") else "BEGIN")


def migrate(engine: Engine, url: str) -> int:
    """Apply the migrations this database has not had; returns its schema version.

    Raises:
        HistoryError: written by a newer ttx, or a database of something else.
    """
    with engine.connect() as conn:
        version = _version(conn, url)
    if version >= SCHEMA_VERSION:
        return version
    with engine.connect() as conn:
        conn = conn.execution_options(ttx_write=True)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7155031)")  # one migrator at a time
            version = _version(conn, url)
            schema_table.create(conn, checkfirst=True)
            for step in MIGRATIONS:
                if step.version > version:
                    step.apply(conn)
                    conn.execute(schema_table.insert().values(
                        version=step.version, description=step.description, applied_at=utc_now(),
                        ttx_version=__version__))
                    version = step.version
    return version


def _version(conn: Connection, url: str) -> int:
    """The database's schema version (0: empty)."""
    names = set(inspect(conn).get_table_names())
    if schema_table.name not in names:
        if names:
            raise HistoryError(f"{shown(url)} is not a ttx history (it has tables {', '.join(sorted(names))} "
                               "but no ttx_schema); nothing was changed: point --db elsewhere")
        return 0
    version = int(conn.execute(select(func.max(schema_table.c.version))).scalar() or 0)
    if version > SCHEMA_VERSION:
        newest = conn.execute(select(schema_table.c.ttx_version)
                              .where(schema_table.c.version == version)).scalar()
        raise HistoryError(f"the history {shown(url)} was written by a newer ttx ({newest}, schema "
                           f"v{version}; this is ttx {__version__}, schema v{SCHEMA_VERSION}): upgrade ttx "
                           "to use it; nothing was changed")
    return version

