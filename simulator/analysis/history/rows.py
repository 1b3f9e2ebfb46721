"""What the history holds about a drill, as plain values: rows, filters, errors and how times are shown.

Nothing here touches a database (or imports SQLAlchemy): :mod:`.database` maps these to tables,
:mod:`.store` reads and writes them.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

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
    parent: str | None
    """For a branch (a rewind of a drill): the id of the drill it was forked from."""

    @property
    def by(self) -> str:
        """Who played, as :attr:`DrillRow.by` says it."""
        if self.policy != PEOPLE:
            return f"bot: {self.policy}" + (f" ({self.team})" if self.team else "")
        return self.team or "—"


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


EPOCH = datetime(1970, 1, 1)
"""The Unix epoch as the history stores times (naive UTC)."""

SECOND = timedelta(seconds=1)


def local(moment: datetime) -> str:
    """A stored (naive UTC) time in this machine's time zone, to the minute (``ttx history`` shows one
    per drill: kept to a ``localtime`` call and a format)."""
    return "{:04d}-{:02d}-{:02d} {:02d}:{:02d}".format(*time.localtime((moment - EPOCH) // SECOND)[:5])


def utc_now() -> datetime:
    """Now, as the history stores times (naive UTC, whole seconds)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def sha256(data: bytes) -> str:
    """A journal's id."""
    return hashlib.sha256(data).hexdigest()


class Condition(NamedTuple):
    """One test a drill must pass to match :class:`Filters`: its ``column``, the ``test``, the ``value``.

    The tests are ``is null``, ``=``, ``>=`` and ``lower =`` (the column and the value equal in lower case,
    both lowered by the database: SQLite folds only ASCII letters, so a team named ``Équipe`` is found as
    ``Équipe`` or ``ÉQUIPE``, not lost to a Python-lowered ``équipe``); the SQLAlchemy store and the quick
    listing (:mod:`.listing`) each render them, so both mean the same.
    """

    column: str
    test: str
    value: Any = None


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

    def conditions(self) -> list[Condition]:
        """What a drill's row must hold to match, column by column: the team in any case, the scenario id,
        played at ``since`` or later, the policy."""
        out: list[Condition] = []
        if self.no_team:
            out.append(Condition("team", "is null"))
        elif self.team is not None:
            out.append(Condition("team", "lower =", self.team))
        if self.scenario is not None:
            out.append(Condition("scenario_id", "=", self.scenario))
        if self.since is not None:
            out.append(Condition("played_at", ">=", self.since))
        if self.policy is not None:
            out.append(Condition("policy", "=", self.policy))
        return out


NEWEST_FIRST: tuple[tuple[str, bool], ...] = (("played_at", True), ("id", False))
"""The order drills are read in, as (column, descending): newest first, ties by id, so a ``limit`` keeps the
most recent and every reading of the same drills lists them in the same order."""


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

