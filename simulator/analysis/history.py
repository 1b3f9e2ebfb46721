"""The drill history: one row per drill (keyed by its journal's sha256), in SQLite or a shared PostgreSQL.

What a row holds is what the after-action report says: it is built from the same
:class:`~simulator.analysis.aar.AfterAction` (:func:`entry_of`), with the journal itself stored beside it
(compressed) so any drill can be compared, trended or reopened without its file. One SQLAlchemy Core code
path serves both databases. The schema is versioned by :data:`MIGRATIONS` and the ``ttx_schema`` table; a
database written by a newer ttx is refused, never touched.
"""

from __future__ import annotations

import calendar
import contextlib
import hashlib
import os
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

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
    delete,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError

from simulator import __version__
from simulator.analysis.recording import ENV_VAR, Target, url_problem

if TYPE_CHECKING:  # `ttx history` lists drills without importing the engine
    from simulator.analysis.aar import AfterAction, RoleFigures
    from simulator.engine.journal import Journal
    from simulator.format.loader import LoadedScenario

DB_FILE = "history.sqlite"
"""The embedded database's file name in the user data dir."""

BUSY_TIMEOUT = 5.0
"""Seconds a SQLite writer waits for another program's lock before giving up."""

CONNECT_TIMEOUT = 5
"""Seconds to wait for a PostgreSQL server to answer."""

PEOPLE = "people"
"""The ``policy`` of a drill people played (hot seat or team), as opposed to a bot's name."""

MODES = {"human": "hot seat", "team": "team"}
"""Journal header policy → how people played it; any other policy is a bot."""

SHORT_ID = 10
"""Characters of the sha256 the tables show; any unique prefix of 4 or more selects a drill."""


class HistoryError(Exception):
    """The history database cannot be used as asked; the message is one line and says what to do."""


class NoHistory(HistoryError):
    """Nothing has been recorded yet: the embedded database file does not exist (reading never creates it)."""


# --- where the database is ---------------------------------------------------------------------


def default_path() -> Path:
    """The embedded database: ``history.sqlite`` in the platform's user data dir for ttx."""
    from platformdirs import user_data_path

    return user_data_path("ttx", appauthor=False) / DB_FILE


def resolve_url(given: str | None = None) -> str:
    """The database URL from ``--db`` (``given``), else ``$TTX_DB``, else the embedded default.

    A plain path means a SQLite file; ``postgresql://`` uses the psycopg driver.

    Raises:
        HistoryError: the URL is not one SQLAlchemy understands, or names a database it has no driver for.
    """
    text = (given or os.environ.get(ENV_VAR) or "").strip()
    if not text:
        return f"sqlite:///{default_path()}"
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
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
Index("drills_by_date", drills.c.played_at)

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


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "drills, score components, role figures, journals and bot references", _create_v1),
)
"""The schema's history. A change appends a migration (ALTER/CREATE in its ``apply``) and updates the
tables above to match; never edit a released one."""

SCHEMA_VERSION = MIGRATIONS[-1].version
"""The schema this ttx writes."""


# --- what one drill holds ----------------------------------------------------------------------


@dataclass(frozen=True)
class Player:
    """A named player and the roles they held."""

    name: str
    roles: tuple[str, ...]


@dataclass(frozen=True)
class DrillRow:
    """One recorded drill as the history lists, compares and trends it."""

    id: str
    played_at: datetime
    """UTC, naive."""
    recorded_at: datetime
    team: str | None
    scenario_id: str
    scenario_title: str
    scenario_hash: str | None
    scenario_known: bool
    seed: int
    policy: str
    mode: str
    source: str
    participants: str
    players: tuple[Player, ...]
    roles: tuple[str, ...]
    duration: float
    ended_at: float
    score: float
    time_to_detect: float | None
    time_to_escalate: float | None
    time_to_contain: float | None
    time_to_first_update: float | None
    harm_volume: int
    idle_harm_volume: int | None
    weighted_harm: float
    baseline_weighted_harm: float
    harm_averted: float
    collateral: float
    resurgences: int
    expectations_met: int
    expectations_late: int
    expectations_missed: int
    expectations_open: int
    journal_path: str | None
    journal_bytes: int
    parent: str | None
    ttx_version: str

    @property
    def short(self) -> str:
        """The id as tables show it."""
        return self.id[:SHORT_ID]

    @property
    def by(self) -> str:
        """Who played: the team (or "people"), or ``bot: NAME``."""
        if self.policy != PEOPLE:
            return f"bot: {self.policy}" + (f" ({self.team})" if self.team else "")
        return self.team or "—"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: dates as ISO 8601 UTC, players as objects."""
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["played_at"] = iso(self.played_at)
        out["recorded_at"] = iso(self.recorded_at)
        out["players"] = [{"name": p.name, "roles": list(p.roles)} for p in self.players]
        out["roles"] = list(self.roles)
        return out


class Listed(NamedTuple):
    """One line of ``ttx history``: only what the table shows, read without building a whole row."""

    id: str
    played_at: datetime
    team: str | None
    policy: str
    scenario_id: str
    scenario_known: bool
    score: float
    time_to_detect: float | None
    time_to_contain: float | None
    harm_averted: float

    @property
    def by(self) -> str:
        """Who played, as :attr:`DrillRow.by` says it."""
        if self.policy != PEOPLE:
            return f"bot: {self.policy}" + (f" ({self.team})" if self.team else "")
        return self.team or "—"


ROW_COLUMNS = [drills.c[f.name] for f in fields(DrillRow)]
"""The columns a :class:`DrillRow` is read from (not the findings and notes)."""

LISTED_COLUMNS = [drills.c[name] for name in Listed._fields]


@dataclass(frozen=True)
class ComponentRow:
    """One score component of a recorded drill."""

    name: str
    value: Any
    weight: float
    points: float
    why: str


@dataclass(frozen=True)
class FigureRow:
    """Per-role (``kind`` role) or per-player (``kind`` player) figures of a recorded drill."""

    kind: str
    name: str
    roles: tuple[str, ...]
    first_action: float | None
    actions: int
    refusals: int
    approvals: int
    peak_load: float
    peak_load_at: float | None
    joined: float | None


@dataclass(frozen=True)
class DrillDetail:
    """Everything recorded about one drill (``ttx history show``)."""

    row: DrillRow
    components: list[ComponentRow]
    figures: list[FigureRow]
    strengths: list[dict[str, str]]
    improvements: list[dict[str, str]]
    notes: list[str]
    discussion: Any


@dataclass(frozen=True)
class DrillEntry:
    """A drill ready to record: its row's values, its components and figures, and the journal's bytes."""

    values: dict[str, Any]
    components: list[dict[str, Any]]
    figures: list[dict[str, Any]]
    journal: bytes

    @property
    def id(self) -> str:
        """The journal's sha256."""
        return str(self.values["id"])


@dataclass(frozen=True)
class Recorded:
    """The outcome of recording one drill."""

    row: DrillRow
    new: bool
    """False: the same journal was already in the history (nothing was duplicated)."""
    changes: tuple[str, ...] = ()
    """What an import of a known drill filled in (its team, its journal file)."""

    def line(self) -> str:
        """One line for the terminal."""
        r = self.row
        what = "recorded" if self.new else "already recorded"
        extra = f"; {', '.join(self.changes)}" if self.changes else ""
        unknown = "" if r.scenario_known else " (scenario not found: recorded from the journal header)"
        return (f"{what} {r.short}: {r.scenario_id}, {r.by}, score {r.score:.1f}, "
                f"{local(r.played_at)}{extra}{unknown}")


def iso(moment: datetime) -> str:
    """A stored (naive UTC) time as ISO 8601 with ``Z``."""
    return moment.replace(microsecond=0).isoformat() + "Z"


def local(moment: datetime) -> str:
    """A stored (naive UTC) time in this machine's time zone, to the minute."""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(calendar.timegm(moment.timetuple())))


def utc_now() -> datetime:
    """Now, as the history stores times (naive UTC, whole seconds)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def sha256(data: bytes) -> str:
    """A journal's id."""
    return hashlib.sha256(data).hexdigest()


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


# --- the database ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """Which drills a listing or a trend covers (``None``: any)."""

    team: str | None = None
    scenario: str | None = None
    since: datetime | None = None
    policy: str | None = None
    """``people``, or a bot policy's name."""
    no_team: bool = False
    """Only drills recorded without a team (``team`` is then ignored)."""


@dataclass
class History:
    """An open history database. Use :func:`open_history`; close it (or use it as a context manager)."""

    engine: Engine
    url: str
    _closed: bool = field(default=False, repr=False)

    def __enter__(self) -> History:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the connections."""
        if not self._closed:
            self._closed = True
            self.engine.dispose()

    @property
    def where(self) -> str:
        """The database, for messages (a file path, or the URL without its password)."""
        return shown(self.url)

    # --- writing ------------------------------------------------------------------------------

    def record(self, entry: DrillEntry) -> Recorded:
        """Add a drill; a journal already recorded is not duplicated (its missing team or file is filled in).

        Raises:
            HistoryError: the database cannot be written (locked, read-only, gone).
        """
        with self._guard("record a drill in"):
            known = self._find(entry.id)
            if known is not None:
                return self._refresh(known, entry)
            try:
                with self._writing() as conn:
                    conn.execute(drills.insert(), [entry.values])
                    for table, rows in ((components, entry.components), (figures, entry.figures)):
                        if rows:
                            conn.execute(table.insert(), [{"drill_id": entry.id, **r} for r in rows])
                    conn.execute(journals.insert(), [{"drill_id": entry.id, "encoding": "zlib",
                                                      "body": zlib.compress(entry.journal, 6)}])
            except IntegrityError:  # recorded by someone else in the meantime (a shared database)
                again = self._find(entry.id)
                if again is None:
                    raise
                return self._refresh(again, entry)
            row = self._find(entry.id)
            assert row is not None
            return Recorded(row, new=True)

    def _refresh(self, known: DrillRow, entry: DrillEntry) -> Recorded:
        """Fill in what a repeated record knows and the first one did not: the team, the journal's file."""
        changes: dict[str, Any] = {}
        said: list[str] = []
        team = entry.values.get("team")
        if team and not known.team:
            changes["team"] = team
            said.append(f"team set to {team}")
        elif team and team != known.team:
            said.append(f"team stays {known.team} (not {team})")
        path = entry.values.get("journal_path")
        if path and path != known.journal_path:
            changes["journal_path"] = path
        if changes:
            with self._writing() as conn:
                conn.execute(update(drills).where(drills.c.id == known.id).values(**changes))
            row = self._find(known.id)
            assert row is not None
            known = row
        return Recorded(known, new=False, changes=tuple(said))

    def remove(self, drill_id: str) -> DrillRow:
        """Delete a drill (its components, figures and journal too); returns what was removed."""
        with self._guard("remove a drill from"):
            row = self.get(drill_id)
            with self._writing() as conn:
                for table in (components, figures, journals):
                    conn.execute(delete(table).where(table.c.drill_id == row.id))
                conn.execute(delete(drills).where(drills.c.id == row.id))
            return row

    # --- reading ------------------------------------------------------------------------------

    def drills(self, filters: Filters | None = None, limit: int | None = None) -> list[DrillRow]:
        """Recorded drills, oldest first (with ``limit``: the most recent ``limit`` of them)."""
        return [_drill_row(r._mapping) for r in self._newest(ROW_COLUMNS, filters, limit)]

    def listing(self, filters: Filters | None = None, limit: int | None = None) -> list[Listed]:
        """What ``ttx history`` prints, oldest first: the same drills as :meth:`drills`, fewer columns."""
        return [Listed._make(r) for r in self._newest(LISTED_COLUMNS, filters, limit)]

    def _newest(self, columns: list[Any], filters: Filters | None, limit: int | None) -> list[Any]:
        """The rows of ``columns`` of the matching drills, oldest first (``limit``: the newest so many)."""
        query = (select(*columns).where(*_where(filters or Filters()))
                 .order_by(drills.c.played_at.desc(), drills.c.id))
        if limit is not None:
            query = query.limit(limit)
        with self._guard("read"), self.engine.connect() as conn:
            rows = list(conn.execute(query))
        rows.reverse()
        return rows

    def get(self, drill_id: str) -> DrillRow:
        """The drill whose id is or starts with ``drill_id`` (4 characters at least).

        Raises:
            HistoryError: no such drill, or the prefix is ambiguous (the candidates are named).
        """
        key = drill_id.strip().lower()
        if len(key) < 4 or any(c not in "0123456789abcdef" for c in key):
            raise HistoryError(f"{drill_id!r} is not a drill id (the hex id ttx history lists, 4 "
                               "characters or more)")
        with self._guard("read"), self.engine.connect() as conn:
            found = [_drill_row(m) for m in conn.execute(
                select(*ROW_COLUMNS).where(drills.c.id.like(f"{key}%")).limit(6)).mappings()]
        if not found:
            raise HistoryError(f"no drill {drill_id} in the history ({self.where}); ttx history lists them")
        if len(found) > 1:
            names = ", ".join(f"{r.short} ({r.scenario_id}, {local(r.played_at)})" for r in found[:5])
            raise HistoryError(f"{drill_id} could be any of {names}: give more of the id")
        return found[0]

    def detail(self, drill_id: str) -> DrillDetail:
        """Everything recorded about one drill."""
        row = self.get(drill_id)
        with self._guard("read"), self.engine.connect() as conn:
            extra = conn.execute(select(drills.c.strengths, drills.c.improvements, drills.c.notes,
                                        drills.c.discussion).where(drills.c.id == row.id)).one()
            parts = [ComponentRow(m["name"], m["value"], m["weight"], m["points"], m["why"])
                     for m in conn.execute(select(components).where(components.c.drill_id == row.id)
                                           .order_by(components.c.weight.desc(), components.c.name))
                     .mappings()]
            figs = [FigureRow(m["kind"], m["name"], tuple(m["roles"]), m["first_action"], m["actions"],
                              m["refusals"], m["approvals"], m["peak_load"], m["peak_load_at"], m["joined"])
                    for m in conn.execute(select(figures).where(figures.c.drill_id == row.id)
                                          .order_by(figures.c.kind.desc(), figures.c.position)).mappings()]
        return DrillDetail(row, parts, figs, list(extra.strengths), list(extra.improvements),
                           list(extra.notes), extra.discussion)

    def journal(self, drill_id: str) -> bytes:
        """The recorded journal's bytes (its sha256 is the drill's id)."""
        row = self.get(drill_id)
        with self._guard("read"), self.engine.connect() as conn:
            stored = conn.execute(select(journals.c.encoding, journals.c.body)
                                  .where(journals.c.drill_id == row.id)).one_or_none()
        if stored is None:
            raise HistoryError(f"drill {row.short} has no journal stored in {self.where}")
        data = zlib.decompress(stored.body) if stored.encoding == "zlib" else bytes(stored.body)
        if sha256(data) != row.id:
            raise HistoryError(f"drill {row.short}: the stored journal does not match its sha256 "
                               "(the database was altered)")
        return data

    def last_run(self, scenario_id: str, team: str | None, *, exclude: str | None = None,
                 before: datetime | None = None) -> DrillRow | None:
        """The most recent drill of this scenario people played as ``team`` (``None``: without a team)."""
        filters = Filters(team=team, scenario=scenario_id, policy=PEOPLE, no_team=team is None)
        query = select(*ROW_COLUMNS).where(*_where(filters))
        if exclude is not None:
            query = query.where(drills.c.id != exclude)
        if before is not None:
            query = query.where(drills.c.played_at <= before)
        query = query.order_by(drills.c.played_at.desc(), drills.c.id).limit(1)
        with self._guard("read"), self.engine.connect() as conn:
            found = conn.execute(query).mappings().first()
        return _drill_row(found) if found is not None else None

    def reference(self, scenario_hash: str, seed: int, policy: str) -> dict[str, float | None] | None:
        """A bot run's metrics from the cache (``None``: not played with this ttx yet)."""
        query = select(references.c.measures).where(
            references.c.scenario_hash == scenario_hash, references.c.seed == seed,
            references.c.policy == policy, references.c.ttx_version == __version__)
        with self._guard("read"), self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return dict(found) if found is not None else None

    def remember_reference(self, scenario_hash: str, seed: int, policy: str,
                           values: dict[str, float | None]) -> None:
        """Keep a bot run's metrics for the next trend. Best effort: a concurrent writer's copy is as
        good, and a history this user may only read just plays the bot again next time."""
        with contextlib.suppress(HistoryError), self._guard("write"), self._writing() as conn:
            conn.execute(references.insert().values(
                scenario_hash=scenario_hash, seed=seed, policy=policy, ttx_version=__version__,
                measures=values, computed_at=utc_now()))

    def count(self) -> int:
        """How many drills are recorded."""
        with self._guard("read"), self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(drills)).scalar_one())

    # --- plumbing -----------------------------------------------------------------------------

    def _find(self, drill_id: str) -> DrillRow | None:
        with self.engine.connect() as conn:
            found = conn.execute(select(*ROW_COLUMNS).where(drills.c.id == drill_id)).mappings().first()
        return _drill_row(found) if found is not None else None

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A write transaction (SQLite: ``BEGIN IMMEDIATE``, so two writers queue instead of deadlocking)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(ttx_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _guard(self, doing: str) -> Iterator[None]:
        try:
            yield
        except HistoryError:
            raise
        except SQLAlchemyError as exc:
            raise HistoryError(explain(exc, self.url, doing)) from None


def _where(f: Filters) -> list[Any]:
    out: list[Any] = []
    if f.no_team:
        out.append(drills.c.team.is_(None))
    elif f.team is not None:
        out.append(func.lower(drills.c.team) == f.team.lower())
    if f.scenario is not None:
        out.append(drills.c.scenario_id == f.scenario)
    if f.since is not None:
        out.append(drills.c.played_at >= f.since)
    if f.policy is not None:
        out.append(drills.c.policy == f.policy)
    return out


def _drill_row(m: Any) -> DrillRow:
    values = dict(m)
    values["players"] = tuple(Player(str(p["name"]), tuple(p["roles"])) for p in values["players"] or [])
    values["roles"] = tuple(values["roles"] or ())
    values["scenario_known"] = bool(values["scenario_known"])
    return DrillRow(**values)


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


def open_history(url: str | None = None, *, create: bool = True,
                 busy_timeout: float = BUSY_TIMEOUT) -> History:
    """Open (and, with ``create``, make) the history database, bringing its schema up to date.

    Args:
        url: A URL or SQLite path; ``None`` resolves ``$TTX_DB`` or the embedded default.
        create: Make the SQLite file if it is not there. Without it a missing file raises
            :class:`NoHistory`, so reading never leaves a file behind.
        busy_timeout: Seconds SQLite waits for another program's lock.

    Raises:
        NoHistory: nothing recorded yet (``create=False``).
        HistoryError: cannot connect, not a database, not a ttx history, or written by a newer ttx.
    """
    resolved = resolve_url(url)
    parsed = make_url(resolved)
    if parsed.get_backend_name() == "sqlite":
        _sqlite_file(parsed, create)
    engine = _engine(parsed, busy_timeout)
    history = History(engine, resolved)
    try:
        with history._guard("open"):
            migrate(engine, resolved)
    except BaseException:
        history.close()
        raise
    return history


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


def _engine(url: URL, busy_timeout: float) -> Engine:
    from sqlalchemy import create_engine

    try:
        if url.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": busy_timeout})
            _explicit_sqlite_transactions(engine)
            return engine
        return create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT}, pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise HistoryError(f"no driver for {shown(url)}: {exc}") from None


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


@dataclass(frozen=True)
class Remembered:
    """What recording a drill as it ended gave: the record, the team's run before it, or why neither."""

    recorded: Recorded | None
    previous: DrillRow | None
    problem: str | None = None
    """One line: why the drill could not be recorded (its journal is then saved to a file instead)."""


def remember(target: Target, entry: DrillEntry) -> Remembered:
    """Record a drill and find the last run of the same scenario by the same team before it. Never raises:
    a history that cannot be used is reported in ``problem``, and the drill goes on to its review."""
    try:
        with open_history(target.url) as history:
            recorded = history.record(entry)
            row = recorded.row
            previous = (history.last_run(row.scenario_id, row.team, exclude=row.id, before=row.played_at)
                        if row.policy == PEOPLE else None)
    except HistoryError as exc:
        return Remembered(None, None, str(exc))
    return Remembered(recorded, previous)


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


# --- reading times given on the command line ------------------------------------------------------


def since_value(text: str, now: datetime | None = None) -> datetime:
    """``--since``: a date (``2026-01-31``), a date and time, or a span back (``30d``, ``12w``, ``6h``).

    Raises:
        ValueError: none of those (the message shows the forms).
    """
    spans = {"h": 1 / 24, "d": 1, "w": 7}
    text = text.strip()
    if text[-1:].lower() in spans and text[:-1].isdigit():
        return (now or utc_now()) - timedelta(days=int(text[:-1]) * spans[text[-1].lower()])
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected a date like 2026-01-31 or a span like 30d or 12w, "
                         f"found {text!r}") from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment

