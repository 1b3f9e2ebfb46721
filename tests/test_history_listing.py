"""``ttx history``'s quick listing: a SQLite history's table read with the stdlib ``sqlite3``, no SQLAlchemy.

It must list exactly what the SQLAlchemy store lists, for any drills and any filters, and leave every
database it does not know (another schema version, a file that is not a ttx history, a locked or corrupt
one) to the store, which migrates, refuses or explains.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simulator.analysis.history as history_package
from simulator.analysis.history import PEOPLE, SCHEMA_VERSION, Filters, Listed, drills, open_history
from simulator.analysis.history.listing import LISTING_SCHEMA, TABLE, listing_query, quick_listing
from simulator.cli import main


def drill_values(i: int, **given: Any) -> dict[str, Any]:
    """A drills row (the ``i``-th: its own id) with every required column set; ``given`` overrides them."""
    values: dict[str, Any] = {
        "id": hashlib.sha256(str(i).encode()).hexdigest(), "played_at": datetime(2026, 3, 1, 9),
        "recorded_at": datetime(2026, 3, 1, 10), "team": "Red", "scenario_id": "jailbreak-wave",
        "scenario_title": "Jailbreak wave", "scenario_hash": None, "scenario_known": True, "seed": 7,
        "policy": PEOPLE, "mode": "hot seat", "source": "play", "participants": "—", "players": [],
        "roles": [], "duration": 3600.0, "ended_at": 3600.0, "score": 80.0, "time_to_detect": 120.0,
        "time_to_escalate": None, "time_to_contain": 900.0, "time_to_first_update": None,
        "harm_volume": 10, "idle_harm_volume": None, "weighted_harm": 1.0, "baseline_weighted_harm": 2.0,
        "harm_averted": 0.5, "collateral": 0.0, "resurgences": 0, "expectations_met": 0,
        "expectations_late": 0, "expectations_missed": 0, "expectations_open": 0, "discussion": None,
        "strengths": [], "improvements": [], "notes": [], "journal_path": None, "journal_bytes": 1,
        "parent": None, "ttx_version": "0.1.0",
    }
    return values | given


@contextmanager
def history_file(rows: list[dict[str, Any]]) -> Iterator[Path]:
    """A SQLite history (the current schema) holding ``rows``, for the length of the ``with``."""
    with tempfile.TemporaryDirectory(prefix="ttx-listing-") as tmp:
        path = Path(tmp) / "history.sqlite"
        with open_history(str(path)) as history:
            if rows:
                with history.engine.begin() as conn:
                    conn.execute(drills.insert(), rows)
        yield path


MOMENTS = st.one_of(
    st.sampled_from([datetime(2026, 1, 5, 9), datetime(2026, 1, 5, 9, 0, 1), datetime(2026, 2, 1)]),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2099, 12, 31)),
)
"""When drills were played: a few shared moments (ties, which the order breaks by id) and any other."""

TEAMS = st.sampled_from([None, "Red", "red", "RED", "Blue", "Équipe", "équipe"])
SCENARIOS = st.sampled_from(["jailbreak-wave", "retired-drill"])
POLICIES = st.sampled_from([PEOPLE, "textbook", "idle"])
TIMES = st.none() | st.floats(min_value=0, max_value=1e6, allow_nan=False)

DRILLS = st.lists(st.fixed_dictionaries({
    "played_at": MOMENTS, "team": TEAMS, "scenario_id": SCENARIOS, "policy": POLICIES,
    "scenario_known": st.booleans(), "score": st.floats(min_value=0, max_value=100, allow_nan=False),
    "time_to_detect": TIMES, "time_to_contain": TIMES,
    "harm_averted": st.floats(min_value=-1, max_value=1, allow_nan=False),
    "parent": st.none() | st.sampled_from(["ab" * 32, "cd" * 32]),
}), max_size=25)

FILTERS = st.builds(Filters, team=st.none() | TEAMS.filter(bool), scenario=st.none() | SCENARIOS,
                    since=st.none() | MOMENTS, policy=st.none() | POLICIES, no_team=st.booleans())


@settings(max_examples=80, deadline=None)
@given(found=DRILLS, filters=FILTERS, limit=st.none() | st.integers(min_value=1, max_value=10))
def test_the_quick_listing_lists_exactly_what_the_store_lists(found: list[dict[str, Any]], filters: Filters,
                                                              limit: int | None) -> None:
    """For any drills and any filters (team in any case or none, scenario, since, policy, a limit), reading
    the SQLite file with sqlite3 gives the same lines, in the same order, as the SQLAlchemy store."""
    with history_file([drill_values(i, **d) for i, d in enumerate(found)]) as path:
        with open_history(str(path), create=False) as history:
            expected = history.listing(filters, limit=limit)
        assert quick_listing(path, filters, limit) == expected


def test_the_quick_listing_reads_the_table_and_schema_the_migrations_define() -> None:
    """It reads the SQLAlchemy definition's table at the schema version the migrations reach: a new
    migration fails this test until the quick listing is checked against it and ``LISTING_SCHEMA`` raised
    (until then it would leave every database to the store: slower, still right)."""
    assert drills.name == TABLE
    assert LISTING_SCHEMA == SCHEMA_VERSION, "a migration changed the schema: check listing.py reads it"


@pytest.mark.parametrize("limit", [None, 20])
def test_the_whole_listing_is_read_from_the_covering_index_alone(limit: int | None) -> None:
    """``ttx history`` (with or without ``--limit``): SQLite answers from the ``drills_listed`` index, never
    touching the rows, which hold the players, findings and notes too."""
    sql, params = listing_query(Filters(), limit)
    with history_file([drill_values(1)]) as path, sqlite3.connect(path) as conn:
        plan = " / ".join(str(step[-1]) for step in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))
    assert "SCAN drills USING COVERING INDEX drills_listed" in plan, plan


def as_version_1(path: Path) -> None:
    """Take a history back to what the first release left behind (schema v1, no listing index)."""
    with sqlite3.connect(path) as conn:
        conn.execute("DROP INDEX drills_listed")
        conn.execute("CREATE INDEX drills_by_date ON drills (played_at)")
        conn.execute("DELETE FROM ttx_schema WHERE version > 1")


@pytest.mark.parametrize("kind", ["older schema", "newer schema", "no ttx_schema", "not a database",
                                  "missing", "locked"])
def test_the_quick_listing_leaves_a_database_it_does_not_know_to_the_store(kind: str, tmp_path: Path) -> None:
    """An older or newer schema, a SQLite file of something else, a corrupt file, no file, a file another
    program is writing: the quick listing returns ``None`` (the store then migrates, refuses or says why),
    and the file is as it was (or still not there)."""
    with history_file([drill_values(1)]) as made:
        path = tmp_path / "history.sqlite"
        path.write_bytes(made.read_bytes())
    holder = None
    if kind == "older schema":
        as_version_1(path)
    elif kind == "newer schema":
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO ttx_schema VALUES (?, 'from the future', '2030-01-01', '9.0.0')",
                         (SCHEMA_VERSION + 1,))
    elif kind == "no ttx_schema":
        with sqlite3.connect(path) as conn:
            conn.execute("DROP TABLE ttx_schema")
    elif kind == "not a database":
        path.write_bytes(b"\x00garbage, not SQLite\x00" * 500)
    elif kind == "missing":
        path.unlink()
    else:
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
    before = path.read_bytes() if path.exists() else None
    try:
        assert quick_listing(path, Filters()) is None
    finally:
        if holder is not None:
            holder.execute("ROLLBACK")
            holder.close()
    assert (path.read_bytes() if path.exists() else None) == before


def test_ttx_history_on_a_version_1_history_migrates_it_and_lists_its_drills(
        private_history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The quick listing does not know schema v1, so ``ttx history`` opens it through the store, which
    migrates it; the next listing is the quick one, and both print the same table."""
    with history_file([drill_values(1, team="Blue")]) as made:
        private_history.write_bytes(made.read_bytes())
    as_version_1(private_history)
    assert quick_listing(private_history, Filters()) is None
    assert main(["history"]) == 0
    first = capsys.readouterr()
    assert quick_listing(private_history, Filters()) is not None
    assert main(["history"]) == 0
    assert capsys.readouterr() == first and "Blue" in first.out


def test_a_version_2_history_gets_the_listing_index_with_the_parent_and_lists_its_branches(
        private_history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Schema v2's listing index did not cover the parent, so the quick listing leaves a v2 history to the
    store, which migrates it (the index rebuilt); then the quick listing reads the branch mark from the
    covering index again."""
    parent = drill_values(1)
    branch_row = drill_values(2, parent=parent["id"], played_at=datetime(2026, 3, 2, 9))
    with history_file([parent, branch_row]) as made:
        private_history.write_bytes(made.read_bytes())
    columns = ", ".join(name for name in Listed._fields if name != "parent")
    with sqlite3.connect(private_history) as conn:
        conn.execute("DROP INDEX drills_listed")
        conn.execute(f"CREATE INDEX drills_listed ON drills ({columns})")
        conn.execute("DELETE FROM ttx_schema WHERE version > 2")
    assert quick_listing(private_history, Filters()) is None
    assert main(["history"]) == 0
    out = capsys.readouterr().out
    [branch] = [line for line in out.splitlines() if "↳" in line]
    assert branch.startswith(branch_row["id"][:10]) and branch.endswith(f"↳ branch of {parent['id'][:10]}")
    listed = quick_listing(private_history, Filters())
    assert listed is not None and [r.parent for r in listed] == [None, parent["id"]]


def test_every_name_of_the_history_package_resolves_to_its_parts() -> None:
    """The package loads its SQLAlchemy parts when one of their names is first used; each name it lists
    is there, as the object its part defines."""
    from simulator.analysis import recording
    from simulator.analysis.history import database, entries, reopening, rows, store

    parts = (database, store, entries, reopening, rows, recording)
    for name in history_package.__all__:
        value = getattr(history_package, name)
        assert any(vars(part).get(name) is value for part in parts), name
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        getattr(history_package, "nothing_here")  # noqa: B009
