"""The history in the TUI: a hot-seat drill is recorded as it ends, its review shows the team's last run,
a broken history costs nothing, and ``ttx history --tui`` opens any recorded drill's review."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Static

from simulator.analysis.aar import AfterAction
from simulator.analysis.history import PEOPLE, open_history, record_journal, sha256
from simulator.analysis.recording import Target
from simulator.engine.session import LocalSession
from simulator.format.loader import LoadedScenario
from tests.conftest import end_in_tui
from tests.drills import journal
from tui.app import DrillApp
from tui.history import HistoryApp
from tui.screens.history import HistoryScreen
from tui.screens.review import ReviewScreen

SIZE = (120, 34)


class Notes:
    """The notifications an app showed, as (title, message)."""

    def __init__(self, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.shown: list[tuple[str, str]] = []
        real = app.notify

        def notify(message: str, *, title: str = "", **kwargs: Any) -> None:
            self.shown.append((title, message))
            real(message, title=title, **kwargs)

        monkeypatch.setattr(app, "notify", notify)

    def titled(self, title: str) -> list[str]:
        """The messages shown under ``title``."""
        return [message for t, message in self.shown if t == title]


async def play_to_review(app: DrillApp, pilot: Any, *, skip: int = 0) -> ReviewScreen:
    """Start the drill, jump ``skip`` injects ahead, end it, and wait until the history has answered."""
    await pilot.press("enter")
    for _ in range(skip):
        await pilot.press("n")
    await end_in_tui(pilot)
    await until(pilot, lambda: app.recorded is not None or (app.history is None and app.review is not None))
    assert isinstance(app.screen, ReviewScreen)
    return app.screen


async def until(pilot: Any, done: Callable[[], bool], polls: int = 400) -> None:
    """Let the app run until ``done()`` holds (the history answers from a worker thread)."""
    for _ in range(polls):
        if done():
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise AssertionError("the app never got there")


def drill_app(flagship: LoadedScenario, save_dir: Path, history: Target | None) -> DrillApp:
    return DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=save_dir,
                    history=history)


@dataclass(frozen=True)
class FirstRun:
    """Team Red's first hot-seat drill of the flagship, played in the TUI to its review (three injects
    skipped, so the second run scores differently) and recorded as it ended."""

    history: Path
    """The history file it was recorded in, and nothing else; copy it before recording more."""
    review: AfterAction
    notices: list[str]
    """What the app said under the "History" title."""
    last_run_shown: bool
    """Whether its review showed a last run (the history was empty)."""


async def play_first_run(flagship: LoadedScenario, home: Path) -> FirstRun:
    """Play team Red's first drill in ``home``, recording into ``home / "h.sqlite"``."""
    target = Target(str(home / "h.sqlite"), "Red")
    app = drill_app(flagship, home, target)
    with pytest.MonkeyPatch.context() as monkeypatch:
        notes = Notes(app, monkeypatch)
        async with app.run_test(size=SIZE) as pilot:
            review = await play_to_review(app, pilot, skip=3)
            shown = review.query_one("#last-run", Static).display
    assert app.review is not None
    return FirstRun(Path(target.url or ""), app.review, notes.titled("History"), shown)


@pytest.fixture(scope="module")
def first_run(flagship: LoadedScenario, tmp_path_factory: pytest.TempPathFactory) -> FirstRun:
    """Team Red's first drill, played once for this module: a whole drill in the TUI is seconds of work,
    and the tests that need one only read it."""
    return asyncio.run(play_first_run(flagship, tmp_path_factory.mktemp("first-run")))


def test_a_hot_seat_drill_is_recorded_when_it_ends(first_run: FirstRun) -> None:
    """The drill's figures in the history are the review's; the review says nothing of a last run yet."""
    assert not first_run.last_run_shown
    with open_history(str(first_run.history)) as history:
        [row] = history.drills()
    assert (row.team, row.policy, row.mode, row.source) == ("Red", PEOPLE, "hot seat", "play")
    assert row.score == first_run.review.result.score
    assert row.time_to_detect == first_run.review.result.time_to_detect
    assert first_run.notices == [f"Recorded as {row.short} (team Red): ttx history lists it."]


async def test_the_review_shows_the_teams_last_run_of_this_drill_with_arrows(first_run: FirstRun,
                                                                             flagship: LoadedScenario,
                                                                             tmp_path: Path) -> None:
    """Team Red's second drill, recorded beside the first, shows the first's figures and which way
    the score went."""
    target = Target(str(tmp_path / "h.sqlite"), "Red")
    shutil.copyfile(first_run.history, tmp_path / "h.sqlite")
    second = drill_app(flagship, tmp_path, target)
    async with second.run_test(size=SIZE) as pilot:
        review = await play_to_review(second, pilot)
        line = review.query_one("#last-run", Static)
        shown, displayed = str(line.render()), line.display
    assert displayed and review.previous is not None
    assert shown.startswith("Your last run of this drill (")
    assert "team Red" in shown and "score " in shown and "detect " in shown and "contain " in shown
    assert second.review is not None
    before, after = first_run.review.result.score, second.review.result.score
    assert f"{before:.1f} → {after:.1f}" in shown
    assert ("▲" if after > before else "▼" if after < before else "= same") in shown


async def test_no_history_option_records_nothing(flagship: LoadedScenario, tmp_path: Path,
                                                 private_history: Path) -> None:
    app = drill_app(flagship, tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        await play_to_review(app, pilot)
    assert not private_history.exists()


@pytest.mark.parametrize("broken", ["a corrupt file", "a server that cannot be reached"])
async def test_a_broken_history_saves_the_journal_and_keeps_the_review(
        broken: str,
        flagship: LoadedScenario,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing is lost: the review stays, and the journal is written so ttx history add can record it."""
    url, says = "postgresql://ttx@127.0.0.1:1/ttx", "cannot connect to the history database"
    if broken == "a corrupt file":
        url, says = str(tmp_path / "broken.sqlite"), "is not a readable SQLite database"
        Path(url).write_bytes(b"not a database" * 100)
    save = tmp_path / "saved"
    save.mkdir()
    app = drill_app(flagship, save, Target(url, "Red"))
    notes = Notes(app, monkeypatch)
    async with app.run_test(size=SIZE) as pilot:
        await play_to_review(app, pilot)
        assert isinstance(app.screen, ReviewScreen)
    [warning] = notes.titled("Not recorded in the history")
    [saved] = save.glob("*.jsonl")
    assert says in warning and str(saved) in warning
    assert "ttx history add" in warning


async def test_saving_the_review_tells_the_history_where_the_journal_is(flagship: LoadedScenario,
                                                                        tmp_path: Path) -> None:
    target = Target(str(tmp_path / "h.sqlite"))
    app = drill_app(flagship, tmp_path, target)
    async with app.run_test(size=SIZE) as pilot:
        await play_to_review(app, pilot)
        first = app.recorded
        await pilot.press("s")
        await until(pilot, lambda: app.recorded is not first)
    [saved] = tmp_path.glob("*.jsonl")
    with open_history(target.url) as history:
        [row] = history.drills()
    assert row.journal_path == str(saved.resolve()) and row.id == sha256(saved.read_bytes())
    assert row.team is None


async def test_the_history_browser_opens_any_drills_review_and_goes_back(flagship: LoadedScenario,
                                                                         tmp_path: Path) -> None:
    url = str(tmp_path / "h.sqlite")
    slow = journal(flagship, tmp_path / "slow.jsonl", policy="hesitant", people=True)
    fast = journal(flagship, tmp_path / "fast.jsonl", people=True)
    with open_history(url) as history:
        for path in (slow, fast):
            record_journal(history, path, team="Red")
        rows = history.drills()
    app = HistoryApp(url, rows, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 2
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        assert isinstance(app.screen, ReviewScreen)
        newest = max(rows, key=lambda r: r.played_at)
        headline = str(app.screen.query_one("#review-headline", Static).render())
        assert f"Score {newest.score:.1f} / 100" in headline
        assert app.screen.previous is not None and app.screen.previous.id != newest.id
        await pilot.press("s")
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, HistoryScreen)
    exported = tmp_path / f"ttx-jailbreak-wave-seed7-{newest.short}.jsonl"
    assert sha256(exported.read_bytes()) == newest.id


def test_the_browser_marks_a_branch_as_ttx_history_does(tmp_path: Path, flagship: LoadedScenario) -> None:
    """A rewind listed like a fresh attempt; its scenario cell now says which drill it branched from."""
    from dataclasses import replace

    from tui.screens.history import cells

    with open_history(str(tmp_path / "h.sqlite")) as history:
        row = record_journal(history, journal(flagship, tmp_path / "a.jsonl", people=True)).row
    assert cells(row)[3] == "jailbreak-wave"
    assert cells(replace(row, parent="ab" * 32))[3] == "jailbreak-wave ↳ branch of ababababab"
