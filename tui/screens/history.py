"""The drill history browser: every recorded drill in a table, newest first; Enter opens its review."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label

from simulator.analysis.history import SHORT_ID, DrillRow, local
from simulator.analysis.metrics import BY_NAME

COLUMNS = ("id", "date", "team", "scenario", "score", "detect", "contain", "averted")
"""The browser's columns (``ttx history``'s, newest first)."""


def cells(row: DrillRow) -> list[str | Text]:
    """One drill as a table row; a drill whose scenario is gone is marked ``(?)``, a branch (a rewind,
    not a fresh attempt) ``↳ branch of ID`` as ``ttx history`` marks it."""
    detect, contain = BY_NAME["time_to_detect"], BY_NAME["time_to_contain"]
    scenario = (row.scenario_id + ("" if row.scenario_known else " (?)")
                + (f" ↳ branch of {row.parent[:SHORT_ID]}" if row.parent else ""))
    return [row.short, local(row.played_at), row.by, scenario, Text(f"{row.score:.1f}", justify="right"),
            Text(detect.text(row.time_to_detect), justify="right"),
            Text(contain.text(row.time_to_contain), justify="right"),
            Text(f"{row.harm_averted:.0%}", justify="right")]


class HistoryScreen(Screen[None]):
    """Browse recorded drills; choosing one asks the app to open its after-action review."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open its review", id="history.open", priority=True)]

    class DrillChosen(Message):
        """The player chose a drill to review."""

        def __init__(self, drill_id: str) -> None:
            super().__init__()
            self.drill_id = drill_id

    def __init__(self, rows: list[DrillRow], where: str) -> None:
        """Show ``rows`` (any order: the table lists them newest first) from the history at ``where``."""
        super().__init__()
        self.rows = sorted(rows, key=lambda r: (r.played_at, r.id), reverse=True)
        self.where = where

    def compose(self) -> ComposeResult:
        with Vertical(id="history"):
            yield Label(f"Drill history · {len(self.rows)} drill(s) · {self.where}", classes="dialog-title")
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Fill the table, newest drill first, and focus it."""
        table = self.query_one(DataTable)
        table.add_columns(*COLUMNS)
        for row in self.rows:
            table.add_row(*cells(row), key=row.id)
        table.focus()

    def action_open(self) -> None:
        """Open the highlighted drill."""
        table = self.query_one(DataTable)
        if self.rows and 0 <= table.cursor_row < len(self.rows):
            self.post_message(self.DrillChosen(self.rows[table.cursor_row].id))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """A click on a drill."""
        if event.row_key.value is not None:
            self.post_message(self.DrillChosen(str(event.row_key.value)))
