"""The drill briefing: what players are told before the clock starts, roles, objectives, controls."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Button, Footer, Markdown

from simulator.durations import clock
from simulator.scenario import Scenario
from tui.format import role_name

CONTROLS = """\
| key | does |
|---|---|
| `space` | run / pause the clock; `1` `2` `3` set 1×, 10×, 60×; `n` jumps to the next inject |
| `r` | switch the acting role (hot seat); `enter` on an action takes it |
| `u` | write a stakeholder update (know / suspect / doing) |
| `a` | decide pending approvals; `e` ends the drill early; `?` shows every key |
"""


def briefing_markdown(scenario: Scenario, seat: str | None) -> str:
    """The briefing page as Markdown."""
    roles = "\n".join(f"- **{role_name(r.value)}** (`{r.value}`)" for r in scenario.roles)
    objectives = "\n".join(f"- {o}" for o in scenario.objectives) or "- Contain the harm; keep people told."
    seat_line = ("You hold every role at this keyboard (hot seat)." if seat is None
                 else f"You play **{role_name(seat)}**.")
    return (f"# {scenario.title}\n\n*{scenario.summary}*\n\n{scenario.briefing.strip()}\n\n"
            f"## Roles in play\n\n{seat_line}\n\n{roles}\n\n## Objectives\n\n{objectives}\n\n"
            f"## Controls\n\nThe drill lasts {clock(scenario.duration)} of simulated time.\n\n{CONTROLS}")


class BriefingScreen(Screen[None]):
    """Read the briefing, then start the drill with Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start", "Start the drill", id="briefing.start")]

    class StartRequested(Message):
        """The players are ready; start the clock."""

    def __init__(self, scenario: Scenario, seat: str | None) -> None:
        super().__init__()
        self.scenario, self.seat = scenario, seat

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="briefing"):
            yield Markdown(briefing_markdown(self.scenario, self.seat), id="briefing-text")
        with Center(id="briefing-start"):
            yield Button("Start the drill (enter)", variant="primary", id="start", compact=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Focus the briefing text: arrows scroll it, Enter starts."""
        self.query_one("#briefing", VerticalScroll).focus()

    def action_start(self) -> None:
        """Ask the app to start the drill."""
        self.post_message(self.StartRequested())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Mouse start."""
        self.action_start()
