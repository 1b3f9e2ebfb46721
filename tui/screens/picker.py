"""The scenario picker: each built-in scenario with its length, roles and summary."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Label, OptionList
from textual.widgets.option_list import Option

from simulator.format.durations import clock
from simulator.format.scenario import Scenario


def scenario_line(scenario: Scenario) -> Content:
    """A picker row: title, id, length, roles, summary."""
    return Content.assemble((scenario.title, "bold"), (f"  {scenario.id} · {clock(scenario.duration)} · "
                                                       f"{len(scenario.roles)} roles", "dim"),
                            "\n", scenario.summary)


class PickerScreen(Screen[str]):
    """Choose a scenario; returns its id."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "choose", "Play this scenario", id="picker.choose", priority=True)]

    def __init__(self, scenarios: list[Scenario]) -> None:
        super().__init__()
        self.scenarios = scenarios

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label("Choose a drill", classes="dialog-title")
            yield OptionList(*[Option(scenario_line(s), id=s.id) for s in self.scenarios], id="scenario-list")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Start on the first scenario."""
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def action_choose(self) -> None:
        """Play the highlighted scenario."""
        option = self.query_one(OptionList).highlighted_option
        if option is not None and option.id is not None:
            self.dismiss(option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter or a click on a scenario."""
        if event.option.id is not None:
            self.dismiss(event.option.id)
