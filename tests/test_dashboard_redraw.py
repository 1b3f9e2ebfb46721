"""The dashboard redraws only what changed: a key press, a war-room line or the clock's twice-a-second
redraw leave the other panels (and the screen's layout) alone, so a seat answers a key quickly."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.widget import Widget

from simulator.engine.session import LocalSession
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario
from tui.app import DrillApp
from tui.widgets.picklist import PickList

SIZE = (100, 30)


@contextmanager
def redraws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[tuple[str, bool]]]:
    """Count the widgets asking to be redrawn, by (widget id or class, with a layout pass)."""
    asked: Counter[tuple[str, bool]] = Counter()
    refresh = Widget.refresh

    def counted(self: Widget, *regions: object, repaint: bool = True, layout: bool = False,
                recompose: bool = False) -> Widget:
        asked[(self.id or type(self).__name__, layout)] += 1
        return refresh(self, *regions, repaint=repaint, layout=layout, recompose=recompose)  # type: ignore[arg-type]

    with monkeypatch.context() as patched:
        patched.setattr(Widget, "refresh", counted)
        yield asked


async def test_only_the_chat_redraws_for_a_war_room_line_and_nothing_for_an_unchanged_clock(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Paused, with the wall clock standing still: the header's redraw finds its line unchanged and
    draws nothing; a war-room line redraws the chat log, not the signals, their labels or the header."""
    session = LocalSession(flagship, seed=7)
    app = DrillApp(session, wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "n", "n")
        await pilot.pause()
        with redraws(monkeypatch) as asked:
            app.show_header()
            app.show_header()
        assert not asked, "nothing on the clock line or its countdowns changed"
        with redraws(monkeypatch) as asked:
            await session.submit(Command(role="ml", action="message", params={"text": "on it", "to": []}))
            await pilot.pause()
        assert set(asked) == {("chat-log", True)}, asked


async def test_moving_in_the_action_list_repaints_the_two_options_and_nothing_else(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """↓ in the action list asks for the option left and the option reached to be repainted (one
    line each here), not the whole list, the panels around it or the layout."""
    session = LocalSession(flagship, seed=7)
    app = DrillApp(session, wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "down")
        await pilot.pause()
        actions = app.screen.query_one("#action-list", PickList)
        repainted: list[tuple[int, int]] = []
        refresh_lines = PickList.refresh_lines

        def recorded(self: PickList, y_start: int, line_count: int = 1) -> None:
            repainted.append((y_start, line_count))
            refresh_lines(self, y_start, line_count)

        with redraws(monkeypatch) as asked:
            monkeypatch.setattr(PickList, "refresh_lines", recorded)
            await pilot.press("down")
            await pilot.pause()
        assert actions.highlighted == 2
        assert repainted == [(2, 1), (3, 1)], "the first option takes two lines, the next ones one each"
        assert asked == Counter({("action-list", False): 2}), asked
