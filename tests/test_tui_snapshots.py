"""What the screens look like at 100×30, flagship seed 7, clock paused, wall clock frozen.

Update after an intended change with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and
look at the SVGs under ``tests/__snapshots__/`` before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from textual.app import App
from textual.pilot import Pilot

from simulator.engine.session import LocalSession
from simulator.format.loader import load_scenario
from tests.conftest import end_in_tui
from tui.app import DrillApp

SIZE = (100, 30)


class SnapCompare(Protocol):
    """pytest-textual-snapshot's ``snap_compare`` fixture: run ``app``, press keys, diff the SVG."""

    def __call__(self, app: App[Any], press: Iterable[str] = ...,
                 terminal_size: tuple[int, int] = ...,
                 run_before: Callable[[Pilot[Any]], Awaitable[None]] | None = ...) -> bool: ...


def frozen_app(tmp_path: Path) -> DrillApp:
    """The flagship drill with nothing left to chance: fixed seed, paused clock, elapsed time 0:00:00."""
    session = LocalSession(load_scenario("jailbreak-wave"), seed=7)
    return DrillApp(session, wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)


def test_briefing(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """The briefing shows the scenario's story, the roles and objectives before the clock starts."""
    assert snap_compare(frozen_app(tmp_path), terminal_size=SIZE)


def test_dashboard_after_the_report_spike(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """At 0:28 the report-spike page is open in the feed; signals show the alert."""
    assert snap_compare(frozen_app(tmp_path), press=["enter", "n", "n", "i"], terminal_size=SIZE)


def test_review_of_a_drill_ended_at_the_first_alert(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """Ending at 0:28 without acting (the hot wash postponed and ended too): the review scores it and
    plots harm against doing nothing."""
    async def end_at_the_first_alert(pilot: Pilot[Any]) -> None:
        await pilot.press("enter", "n", "n")
        await end_in_tui(pilot)
        await pilot.pause()

    assert snap_compare(frozen_app(tmp_path), run_before=end_at_the_first_alert, terminal_size=SIZE)


def test_dashboard_in_the_light_theme(snap_compare: SnapCompare, tmp_path: Path) -> None:
    """`d` switches to the light theme; state colours (acting role, clock, ALERT, unread marks) use the
    theme's text-* shades, which stay readable on a light background (plain $accent was orange on grey)."""
    assert snap_compare(frozen_app(tmp_path), press=["d", "enter", "n", "n", "i"], terminal_size=SIZE)
