"""A team seat (``ttx join``) and the history: its review shows the team's last run from the player's own
history, which it only reads; the host records the team drill, once. With ``--record`` a player keeps a
copy in a history of their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from simulator.analysis.history import open_history, record_journal
from simulator.analysis.recording import Target
from simulator.format.loader import LoadedScenario
from tests import test_join_tui
from tests.conftest import end_through_hot_wash, until
from tests.drills import journal
from tests.test_join_tui import CODE, SIZE, Drill, showing
from tui.app import DrillApp
from tui.screens.review import ReviewScreen

drill = test_join_tui.drill
"""The flagship hosted on a free loopback port (the fixture of ``tests/test_join_tui.py``)."""


@pytest.fixture
def players_history(tmp_path: Path, flagship: LoadedScenario) -> str:
    """The player's history, holding the Red team's previous drill of the flagship (a slow one)."""
    url = str(tmp_path / "mine.sqlite")
    with open_history(url) as history:
        record_journal(history, journal(flagship, tmp_path / "before.jsonl", policy="idle", people=True),
                       team="Red")
    return url


async def seat_review(drill: Drill, tmp_path: Path, history: Target) -> tuple[DrillApp, str | None]:
    """Dana holds ic; the facilitator starts and ends the drill. Dana's app once the history answered,
    and the review's last-run line (``None``: not shown)."""
    ic = await drill.player("ic", "Dana")
    app = DrillApp(ic, save_dir=tmp_path, wall=lambda: 0.0, history=history)
    async with app.run_test(size=SIZE) as pilot:
        fac = await drill.facilitator()
        await fac.start()
        await fac.wait_until(lambda s: s.view.now > 60)
        await end_through_hot_wash(fac)
        await until(pilot, lambda: showing(app, ReviewScreen, "#review-headline")
                    and app.recorded is not None)
        line = app.screen.query_one("#last-run", Static)
        shown = str(line.render()) if line.display else None
    return app, shown


def drills_in(url: str) -> list[Any]:
    """The drills a history holds."""
    with open_history(url, create=False) as history:
        return history.drills()


async def test_a_seats_review_shows_the_teams_last_run_and_records_nothing(
        drill: Drill, tmp_path: Path, players_history: str) -> None:
    """Without ``--team`` the last run is any team's; the seat reads the history and adds nothing to it
    (the host records the drill: a seat's copy would be the same drill twice in a shared history)."""
    app, shown = await seat_review(drill, tmp_path, Target(players_history, None, record=False))
    assert shown is not None and shown.startswith("Your last run of this drill (")
    assert "team Red" in shown
    assert app.recorded is not None and app.recorded.recorded is None and app.recorded.problem is None
    assert [row.team for row in drills_in(players_history)] == ["Red"]


async def test_a_seat_with_record_keeps_the_team_drill_in_the_players_history(
        drill: Drill, tmp_path: Path, players_history: str) -> None:
    """``ttx join --record --team Red``: the drill is filed as a team drill recorded by the seat."""
    _, shown = await seat_review(drill, tmp_path, Target(players_history, "Red", record=True))
    assert shown is not None and "team Red" in shown
    rows = drills_in(players_history)
    assert [(r.team, r.mode, r.source) for r in rows][-1] == ("Red", "team", "join") and len(rows) == 2


async def test_a_seat_with_no_history_yet_creates_none(drill: Drill, tmp_path: Path) -> None:
    """Reading never creates a database; with nothing recorded the review has no last-run line."""
    missing = tmp_path / "nowhere" / "history.sqlite"
    app, shown = await seat_review(drill, tmp_path, Target(str(missing), None, record=False))
    assert shown is None and app.recorded is not None and app.recorded.problem is None
    assert not missing.parent.exists()


def test_join_offers_the_history_options_and_refuses_a_bad_db_before_connecting() -> None:
    out = subprocess.run([sys.executable, "-m", "simulator.cli", "join", "--help"], capture_output=True,
                         text=True, timeout=60).stdout
    assert all(option in out for option in ("--team", "--record", "--db"))
    bad = subprocess.run([sys.executable, "-m", "simulator.cli", "join", "ws://127.0.0.1:9", "--name", "Dana",
                          "--code", CODE, "--role", "ic", "--db", "mysql://db/ttx"],
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2
    assert bad.stderr.startswith("ttx join: error: mysql://…: ttx keeps its history in SQLite or PostgreSQL")
