"""A line of the briefing scrolls in one step and repaints only what moved, so a seat answers ↓ and ↑
quickly: over SSH every repaint of the briefing is its whole visible text sent to the player."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Static

from simulator.engine.session import LocalSession
from simulator.format.loader import LoadedScenario
from tests.test_dashboard_redraw import SIZE, redraws
from tui.app import DrillApp
from tui.screens.briefing import MORE_BELOW


async def test_down_and_up_move_the_briefing_a_whole_line_in_one_step_without_a_layout_pass(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """↓ then ↑: the text goes to line 1 and back to 0 with no in-between positions (a smooth-scroll
    animation's frames show nothing new on a terminal, yet each repainted the whole text), and besides
    the text only its scrollbar is asked to repaint: the "more below" line, unchanged, is left alone
    rather than redrawn with a layout pass of the whole screen on every line."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        briefing = app.screen.query_one("#briefing", VerticalScroll)
        assert briefing.max_scroll_y > 1, "the flagship's briefing is taller than a 100×30 screen"
        positions: list[float] = []

        def moved(position: float) -> None:
            positions.append(position)

        app.watch(briefing, "scroll_y", moved, init=False)
        with redraws(monkeypatch) as asked:
            await pilot.press("down")
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()
            await pilot.press("up")
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()
        assert positions == [1, 0]
        assert set(asked) == {("ScrollBar", False)}, asked


async def test_the_more_below_line_still_goes_when_the_end_of_the_briefing_is_reached(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """The line above Start changes only when its text does: it says more is below until End brings
    the last line into view, then it is empty."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        more = app.screen.query_one("#briefing-more", Static)
        assert more.content == MORE_BELOW
        await pilot.press("down")
        await pilot.pause()
        assert more.content == MORE_BELOW
        await pilot.press("end")
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()
        await pilot.pause()
        assert more.content == ""
