"""An open history: recording and removing drills, listing and finding them (:func:`open_history`)."""

from __future__ import annotations

import contextlib
import operator
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from simulator import __version__
from simulator.analysis.history.database import (
    BUSY_TIMEOUT,
    LISTED_COLUMNS,
    ROW_COLUMNS,
    components,
    connect,
    drills,
    explain,
    figures,
    journals,
    migrate,
    references,
    resolve_url,
    shown,
)
from simulator.analysis.history.rows import (
    NEWEST_FIRST,
    PEOPLE,
    ComponentRow,
    DrillDetail,
    DrillEntry,
    DrillRow,
    FigureRow,
    Filters,
    HistoryError,
    Listed,
    Player,
    Recorded,
    local,
    sha256,
    utc_now,
)


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

        A new drill costs a read (is it known?) and one write transaction; what is returned is built from
        the entry, as :meth:`get` would read it back, not read again.

        Raises:
            HistoryError: the database cannot be written (locked, read-only, gone).
        """
        with self._guard("record a drill in"):
            known = self._find(entry.id)
            if known is not None:
                return self._refresh(known, entry)
            body = zlib.compress(entry.journal, 6)  # before the write lock is taken
            try:
                with self._writing() as conn:
                    conn.execute(drills.insert(), [entry.values])
                    for table, rows in ((components, entry.components), (figures, entry.figures)):
                        if rows:
                            conn.execute(table.insert(), [{"drill_id": entry.id, **r} for r in rows])
                    conn.execute(journals.insert(), [{"drill_id": entry.id, "encoding": "zlib",
                                                      "body": body}])
            except IntegrityError:  # recorded by someone else in the meantime (a shared database)
                again = self._find(entry.id)
                if again is None:
                    raise
                return self._refresh(again, entry)
            return Recorded(_drill_row({c.name: entry.values.get(c.name) for c in ROW_COLUMNS}), new=True)

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
        return list(map(Listed._make, self._newest(LISTED_COLUMNS, filters, limit)))

    def _newest(self, columns: list[Any], filters: Filters | None, limit: int | None) -> list[Any]:
        """The rows of ``columns`` of the matching drills, oldest first (``limit``: the newest so many)."""
        query = select(*columns).where(*_where(filters or Filters())).order_by(*_newest_first())
        if limit is not None:
            query = query.limit(limit)
        with self._guard("read"), self.engine.connect() as conn:
            rows = list(conn.execute(query).all())
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
                 before: datetime | None = None, any_team: bool = False) -> DrillRow | None:
        """The most recent drill of this scenario people played as ``team`` (``None``: without a team;
        with ``any_team``: as any team or none). Never a branch: a rewind of a drill is not a run of its
        own, so the run before the next attempt is the last fresh one."""
        filters = Filters(team=team, scenario=scenario_id, policy=PEOPLE,
                          no_team=team is None and not any_team)
        query = select(*ROW_COLUMNS).where(*_where(filters), drills.c.parent.is_(None))
        if exclude is not None:
            query = query.where(drills.c.id != exclude)
        if before is not None:
            query = query.where(drills.c.played_at <= before)
        query = query.order_by(*_newest_first()).limit(1)
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


TESTS: dict[str, Callable[[Any, Any], Any]] = {
    "is null": lambda column, _: column.is_(None),
    "lower =": lambda column, value: func.lower(column) == func.lower(value),
    "=": operator.eq,
    ">=": operator.ge,
}
"""Each :class:`~simulator.analysis.history.rows.Condition` test as a SQLAlchemy expression."""


def _where(f: Filters) -> list[Any]:
    return [TESTS[c.test](drills.c[c.column], c.value) for c in f.conditions()]


def _newest_first() -> list[Any]:
    return [drills.c[name].desc() if descending else drills.c[name] for name, descending in NEWEST_FIRST]


def _drill_row(m: Any) -> DrillRow:
    values = dict(m)
    values["players"] = tuple(Player(str(p["name"]), tuple(p["roles"])) for p in values["players"] or [])
    values["roles"] = tuple(values["roles"] or ())
    values["scenario_known"] = bool(values["scenario_known"])
    return DrillRow(**values)


def open_history(url: str | None = None, *, create: bool = True,
                 busy_timeout: float | None = None) -> History:
    """Open (and, with ``create``, make) the history database, bringing its schema up to date.

    Args:
        url: A URL or SQLite path; ``None`` resolves ``$TTX_DB`` or the embedded default.
        create: Make the SQLite file if it is not there. Without it a missing file raises
            :class:`NoHistory`, so reading never leaves a file behind.
        busy_timeout: Seconds SQLite waits for another program's lock (``None``: :data:`BUSY_TIMEOUT`).

    Raises:
        NoHistory: nothing recorded yet (``create=False``).
        HistoryError: cannot connect, not a database, not a ttx history, or written by a newer ttx.
    """
    resolved = resolve_url(url)
    wait = BUSY_TIMEOUT if busy_timeout is None else busy_timeout
    engine = connect(resolved, create=create, busy_timeout=wait)
    history = History(engine, resolved)
    try:
        with history._guard("open"):
            migrate(engine, resolved)
    except BaseException:
        history.close()
        raise
    return history


