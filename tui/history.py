"""``ttx history --tui``: browse the recorded drills and open any one's after-action review.

A review is rebuilt from the journal the history stores (the drill's file is not needed), with the
team's run before it beside it, exactly as the review at the end of a drill shows it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType

from simulator.analysis.history import (
    PEOPLE,
    DrillRow,
    HistoryError,
    Reopened,
    open_history,
    reopen,
    resolve_url,
    shown,
)
from tui.keys import QUIT, THEME, toggle_theme
from tui.screens.history import HistoryScreen
from tui.screens.review import ReviewScreen
from tui.theme import ThemedApp


@dataclass(frozen=True)
class Opened:
    """A drill reopened for review, and the team's run of the same drill before it."""

    drill: Reopened
    previous: DrillRow | None
    journal: bytes
    """The journal's bytes, as recorded (its sha256 is the drill's id)."""


def open_drill(url: str, drill_id: str) -> Opened:
    """Reopen a recorded drill and find the team's run before it (blocking: call it off the event loop).

    Raises:
        HistoryError: the history cannot be read, or the drill's journal cannot be scored.
    """
    with open_history(url, create=False) as history:
        drill = reopen(history, drill_id)
        row = drill.row
        assert row is not None
        previous = (history.last_run(row.scenario_id, row.team, exclude=row.id, before=row.played_at)
                    if row.policy == PEOPLE else None)
        data = history.journal(row.id)
    return Opened(drill, previous, data)


class HistoryApp(ThemedApp):
    """The history browser, then a drill's review; Escape goes back to the list."""

    CSS_PATH = Path(__file__).with_name("ttx.tcss")
    TITLE = "ttx history"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "list", "Back to the list", id="history.list"),
        THEME,
        QUIT,
    ]

    def __init__(self, url: str, rows: list[DrillRow], save_dir: Path | None = None) -> None:
        """Browse ``rows`` of the history at ``url``; a review's save key writes into ``save_dir``."""
        super().__init__()
        self.url, self.rows = resolve_url(url), rows
        self.save_dir = save_dir or Path.cwd()
        self.opened: Opened | None = None

    def on_mount(self) -> None:
        """Show the list."""
        self.push_screen(HistoryScreen(self.rows, shown(self.url)))

    def on_history_screen_drill_chosen(self, message: HistoryScreen.DrillChosen) -> None:
        """Reopen the chosen drill off the event loop, then show its review."""
        self.run_worker(self.review(message.drill_id), group="review", exclusive=True)

    async def review(self, drill_id: str) -> None:
        """Rebuild a drill's after-action facts from its stored journal and open its review."""
        try:
            opened = await asyncio.to_thread(open_drill, self.url, drill_id)
        except HistoryError as exc:
            self.notify(str(exc), title="Cannot open this drill", severity="error", timeout=10)
            return
        self.opened = opened
        scenario = opened.drill.loaded.scenario if opened.drill.loaded is not None else None
        if scenario is None:
            self.notify("Its scenario file is gone: the review shows what the journal alone gives.",
                        title="Scenario not found", severity="warning", timeout=8)
        await self.push_screen(ReviewScreen(opened.drill.aar, scenario, previous=opened.previous))

    def action_list(self) -> None:
        """Leave a review for the list."""
        if isinstance(self.screen, ReviewScreen):
            self.pop_screen()

    def on_review_screen_save_requested(self, message: ReviewScreen.SaveRequested) -> None:
        """Write the reviewed drill's journal (as recorded) and its report into the save folder."""
        from simulator.analysis.report import render

        if self.opened is None or self.opened.drill.row is None:
            return
        drill = self.opened.drill
        assert drill.row is not None
        stem = f"ttx-{drill.aar.scenario_id}-seed{drill.aar.seed}-{drill.row.short}"
        journal = self.save_dir / f"{stem}.jsonl"
        journal.write_bytes(self.opened.journal)
        report = journal.with_suffix(".md")
        report.write_text(render(drill.aar, "md"), encoding="utf-8")
        self.notify(f"{journal}\n{report}", title="Saved", timeout=10)

    def action_toggle_theme(self) -> None:
        """Switch between the light and the dark theme."""
        toggle_theme(self)


def run_history(url: str, rows: list[DrillRow], save_dir: Path | None = None) -> None:
    """Browse ``rows`` in this terminal until the user quits."""
    HistoryApp(url, rows, save_dir).run()
