"""At 80×24 a dialog is never covered: notices wait while one is open. Keys in through Pilot,
screens out."""

from __future__ import annotations

from pathlib import Path

from textual.widgets._toast import Toast

from simulator.engine.session import LocalSession
from simulator.format.loader import LoadedScenario
from tests.conftest import take
from tui.app import DrillApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.dialogs import ComposerScreen

SMALL = (80, 24)


def drill_app(flagship: LoadedScenario, tmp_path: Path) -> DrillApp:
    """The flagship at seed 7, clock paused, frozen wall clock, saving into ``tmp_path``."""
    return DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)


def toasts(app: DrillApp) -> list[str]:
    """The notices the screen on top shows, oldest first."""
    return [str(t.render()) for t in app.screen.query(Toast)]


async def test_a_notice_on_screen_waits_while_a_dialog_is_open_then_shows_again(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """ML blocks known prompts ("Requested … in effect at 0:15:00") and opens the update form at once:
    the notice covered the form's lower right corner, its Send and Cancel buttons. Now the form opens
    clear, and the notice shows again when the form closes."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await pilot.press("enter", "r")
        await take(app, pilot, "block-list")
        assert any("Block known jailbreak prompts" in t for t in toasts(app))

        await pilot.press("u")
        await pilot.pause()
        assert isinstance(app.screen, ComposerScreen)
        assert toasts(app) == [], "nothing covers the form"

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert any("Block known jailbreak prompts" in t for t in toasts(app))


async def test_a_notice_raised_while_a_dialog_is_open_shows_when_it_closes(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """What happens while the player writes an update (an action in effect, a message) is told once
    the form closes, for the notice's full time; the two newest show, as ever."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await pilot.press("enter", "u")
        await pilot.pause()
        for n in range(1, 4):
            app.notify(f"notice {n}", title="Test", timeout=30)
        await pilot.pause()
        assert toasts(app) == [], "nothing covers the form"

        await pilot.press("escape")
        await pilot.pause()
        shown = toasts(app)
    assert len(shown) == 2 and "notice 2" in shown[0] and "notice 3" in shown[1], shown


async def test_clearing_the_notices_drops_those_waiting_too(flagship: LoadedScenario, tmp_path: Path) -> None:
    """A screen that opens clear of notices (the review, a question) stays clear after a dialog closes."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await pilot.press("enter", "u")
        await pilot.pause()
        app.notify("stale", title="Test", timeout=30)
        await pilot.pause()
        app.clear_notifications()
        await pilot.press("escape")
        await pilot.pause()
        assert toasts(app) == []

