"""At 80×24 a dialog is never covered: notices wait while one is open, and the question dialog
scrolls its body so its buttons stay in view. Keys in through Pilot, screens out."""

from __future__ import annotations

from pathlib import Path

from textual.geometry import Region
from textual.widgets import Button, Input
from textual.widgets._toast import Toast

from simulator.engine.session import LocalSession
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario
from tests.conftest import take
from tui.app import DrillApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.dialogs import ComposerScreen
from tui.screens.discussion import QuestionScreen

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


def within(inner: Region, outer: Region) -> bool:
    """Whether ``inner`` lies wholly inside ``outer``."""
    return outer.contains_region(inner)


async def test_the_question_dialog_keeps_its_buttons_in_view_and_scrolls_its_body(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """The flagship's "who is on point" question, two minutes after the declaration, has four long
    options: at 80×24 its Submit and Later buttons fell below the dialog's edge. Now the body scrolls
    under them (tab reaches the note below the fold) and the buttons stay in view."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter")
        await app.submit(Command(role="ic", action="declare_incident", params={"commander": "ic"}))
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        assert app.screen.question.question == "who-is-on-point"
        dialog = app.screen.query_one("#question-dialog").region
        for button in app.screen.query(Button):
            assert within(button.region, dialog), f"{button.id} is cut off: {button.region} in {dialog}"

        app.screen.query_one("#answer-note", Input).focus()
        await pilot.pause()
        assert within(app.screen.query_one("#answer-note", Input).region, dialog), "the body scrolled to it"
        assert all(within(b.region, dialog) for b in app.screen.query(Button))
