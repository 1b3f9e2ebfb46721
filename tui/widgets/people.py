"""People and clocks: each role's load with rotate/rest, and regulatory/SLA countdowns."""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from simulator.engine.view import DrillView
from simulator.format.durations import clock
from tui.format import countdown, load_bar, role_name, short_role
from tui.widgets.picklist import PickList

WIDE = 36
"""Cells from which a load line names the role in full ("Incident commander", else "IC")."""


def load_line(role: str, load: float, wide: bool = True) -> Content:
    """A role's load bar, coloured by how tired they are; short role names when the panel is narrow."""
    colour = "$text-error" if load >= 0.7 else "$text-warning" if load >= 0.4 else "$text-success"
    name = f"{role_name(role):<19}" if wide else f"{short_role(role):<6}"
    return Content.assemble(name, (load_bar(load), colour), f" {load:.2f}")


def clock_lines(view: DrillView, now: float | None = None) -> list[Content]:
    """Every started clock: title and time left at ``now`` (the view's time if ``None``), or met/missed."""
    now = view.now if now is None else max(now, view.now)
    lines: list[Content] = []
    for c in view.clocks.values():
        state = (Content.styled(f"due in {countdown(c['due'] - now)}", "bold $text-warning")
                 if c["status"] == "running" else
                 Content.styled(c["status"].upper(),
                                "bold $text-success" if c["status"] == "met" else "bold $text-error"))
        lines.append(Content.assemble(c["title"], "\n  ", state, (f" (due {clock(c['due'])})", "dim")))
    return lines or [Content.styled("No clock running yet (they start on declaration).", "dim")]


class PeoplePanel(Vertical):
    """Responder loads (``o`` rotates, ``z`` rests the highlighted one) and the clocks."""

    BORDER_TITLE = "People & clocks"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("o", "rotate", "Rotate", id="people.rotate",
                tooltip="Hand the highlighted role to a fresh responder: load to 0, away for the handoff"),
        Binding("z", "rest", "Rest", id="people.rest",
                tooltip="Rest the highlighted role: its load falls, it is away while resting")]

    class CareRequested(Message):
        """The player asked to ``rotate`` or ``rest`` ``target``."""

        def __init__(self, verb: str, target: str) -> None:
            super().__init__()
            self.verb = verb
            self.target = target

    def __init__(self, roles: list[str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.roles = roles
        self.view: DrillView | None = None
        self._shown: tuple[object, ...] = ()
        self._clocks = ""

    def compose(self) -> ComposeResult:
        yield PickList(*[Option(load_line(r, 0.0), id=r) for r in self.roles], id="people-list")
        yield Static(id="clocks")

    def show(self, view: DrillView, now: float | None = None) -> None:
        """Redraw loads, and the clocks as they stand at sim time ``now``."""
        self.view = view
        wide = not self.size.width or self.size.width >= WIDE
        loads = tuple(round(view.loads.get(r, 0.0), 2) for r in self.roles)
        if (loads, wide) != self._shown:
            self._shown = (loads, wide)
            options = self.query_one("#people-list", OptionList)
            for role, load in zip(self.roles, loads, strict=True):
                options.replace_option_prompt(role, load_line(role, load, wide))
        clocks = Content("\n").join(clock_lines(view, now))
        if clocks.markup != self._clocks:
            self._clocks = clocks.markup
            self.query_one("#clocks", Static).update(clocks)

    def on_resize(self, event: events.Resize) -> None:
        """Name the roles in full or short for the new width."""
        if self.view is not None:
            self.show(self.view)

    def _target(self) -> str | None:
        """The highlighted responder's role."""
        option = self.query_one("#people-list", OptionList).highlighted_option
        return option.id if option else None

    def action_rotate(self) -> None:
        """Rotate the highlighted responder (the incident commander's call)."""
        if (target := self._target()) is not None:
            self.post_message(self.CareRequested("rotate", target))

    def action_rest(self) -> None:
        """Rest the highlighted responder."""
        if (target := self._target()) is not None:
            self.post_message(self.CareRequested("rest", target))
