"""The drill dashboard: header clock, signals, inject feed, incident panel, actions, people and clocks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import OptionList, TabbedContent, TabPane

from simulator.engine.view import DrillView, InjectSeen
from simulator.format.scenario import Scenario
from simulator.format.taxonomy import OBSERVERS
from tui.widgets.actions import ActionPanel
from tui.widgets.chat import ChatPanel
from tui.widgets.footer import DrillFooter
from tui.widgets.header import DrillHeader
from tui.widgets.incident import IncidentPanel
from tui.widgets.injects import InjectFeed
from tui.widgets.people import PeoplePanel
from tui.widgets.signals import SignalPlots

SPEED = Binding.Group("Speed", compact=True)
"""The three clock speeds share one footer entry."""

PANELS = Binding.Group("panels", compact=True)
"""Keys that move to the injects, actions and people panels."""


class DashboardScreen(Screen[None]):
    """Everything the team sees while the drill runs. Key actions go to the app, which owns the session."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "app.help", "Help", id="dashboard.help", key_display="?",
                tooltip="Show every key of this screen and how a drill flows"),
        Binding("space", "app.toggle_clock", "Run/Pause", id="clock.toggle",
                tooltip="Run or pause the drill clock"),
        Binding("1", "app.speed(1)", "1×", id="clock.speed1", group=SPEED,
                tooltip="Set the clock to 1× (a paused clock stays paused)"),
        Binding("2", "app.speed(10)", "10×", id="clock.speed10", group=SPEED, tooltip="Set the clock to 10×"),
        Binding("3", "app.speed(60)", "60×", id="clock.speed60", group=SPEED, tooltip="Set the clock to 60×"),
        Binding("n", "app.next_inject", "Next", id="clock.next",
                tooltip="Jump to the next inject or question"),
        Binding("r", "app.next_role", "Role", id="role.next",
                tooltip="Act as the next role (its actions fill the list)"),
        Binding("u", "app.compose_update", "Update", id="comms.update",
                tooltip="Write a stakeholder update: what we know, suspect and are doing"),
        Binding("a", "app.approvals", "Approvals", id="approval.open",
                tooltip="Decide the oldest request waiting for your approval"),
        Binding("e", "app.end_drill", "End", id="drill.end",
                tooltip="End the drill (after a confirmation): its hot wash if it has one, then the review"),
        Binding("t", "app.toggle_truth", "Truth", id="truth.toggle",
                tooltip="Show or hide the hidden harm rate among the signals (training)"),
        Binding("w", "app.open_questions", "Questions", id="questions.open",
                tooltip="The open discussion questions: answer one (or reopen one you put off with esc)"),
        Binding("o", "app.observe", "Observe", id="observe.open",
                tooltip="Write an observation: objective, strength or area for improvement, what you saw"),
        Binding("i", "focus_injects", "Injects", id="focus.injects", group=PANELS,
                tooltip="The inject feed: ↑/↓ read the pages, mail and posts that arrived"),
        Binding("x", "focus_actions", "Actions", id="focus.actions", group=PANELS,
                tooltip="The action list: ↑/↓ pick an action of the acting role, enter takes it"),
        Binding("m", "focus_incident", "Incident", id="focus.incident", group=PANELS,
                tooltip="The incident panel: ↑/↓ scroll it when it is longer than it is tall"),
        Binding("p", "focus_people", "People", id="focus.people", group=PANELS,
                tooltip="People and clocks: responder load, rotate or rest someone, regulatory clocks"),
        Binding("c", "focus_chat", "Chat", id="focus.chat", group=PANELS,
                tooltip="War room and direct messages: read, pick who to, type, enter sends"),
    ]

    def __init__(self, scenario: Scenario, roles: list[str], role: str, seat: str | None = None) -> None:
        """``roles``: who this keyboard may act as; ``seat``: the team-drill seat (``None``: hot seat)."""
        super().__init__()
        self.scenario, self.roles, self.role, self.seat = scenario, roles, role, seat
        in_play = [r.value for r in scenario.roles]
        self.header = DrillHeader(id="drill-header")
        """The clock line (the app redraws it twice a second)."""
        self.signals = SignalPlots(scenario, id="signals")
        self.injects = InjectFeed(id="injects")
        self.incident = IncidentPanel(id="incident")
        self.actions = ActionPanel(scenario, roles, role, id="actions")
        self.people = PeoplePanel(in_play, id="people")
        self.chat = ChatPanel(in_play, seat, can_send=seat not in OBSERVERS, id="chat")
        """The panels, kept so a redraw reaches each without searching the screen's widgets (a
        query walks and matches every widget: most of a twice-a-second redraw's cost)."""

    def compose(self) -> ComposeResult:
        yield self.header
        with Horizontal(id="dashboard"):
            with Vertical(id="left"):
                yield self.signals
                yield self.injects
            with Vertical(id="right"):
                yield self.incident
                with TabbedContent(id="tabs"):
                    with TabPane("Actions", id="tab-actions"):
                        yield self.actions
                    with TabPane("People & clocks", id="tab-people"):
                        yield self.people
                    with TabPane("Chat", id="tab-chat"):
                        yield self.chat
        yield DrillFooter()

    class Resumed(Message):
        """The dashboard is on top again (a dialog closed): a question waiting for its dialog may open."""

    def on_mount(self) -> None:
        """Start with the action list focused."""
        self.action_focus_actions()

    def on_screen_resume(self) -> None:
        """Tell the app a dialog closed."""
        self.post_message(self.Resumed())

    def show(self, view: DrillView, role: str, truth: Sequence[tuple[float, float]] | None,
             now: float | None = None, questions: Sequence[InjectSeen] = ()) -> None:
        """Redraw every panel from the view at sim time ``now`` (cheap panels skip work when nothing
        changed); ``questions``: the discussion questions' entries in the inject feed."""
        self.role = role
        self.signals.show(view.signals, view.alerting, truth)
        self.injects.show([*view.injects, *questions], role)
        self.incident.show(view, now)
        self.actions.show(view, role)
        self.people.show(view)
        self.chat.show(view.messages)

    def tick(self, view: DrillView, now: float) -> None:
        """The clock moved without an event: bring the countdowns up to ``now`` (not in panels
        already taken down, as when the app quits)."""
        for panel in (self.incident, self.people):
            if panel.is_attached:
                panel.show(view, now)

    def action_focus_injects(self) -> None:
        """Move to the inject feed and open the newest inject."""
        self.query_one("#inject-list", OptionList).focus()
        self.injects.read_newest()

    def action_focus_incident(self) -> None:
        """Move to the incident panel (↑/↓ scroll it)."""
        self.incident.focus()

    def action_focus_actions(self) -> None:
        """Show and move to the action list."""
        self.query_one(TabbedContent).active = "tab-actions"
        self.query_one("#action-list", OptionList).focus()

    def action_focus_chat(self) -> None:
        """Show the chat and move to its text line (or its log, for a seat that cannot talk)."""
        self.query_one(TabbedContent).active = "tab-chat"
        chat = self.query_one(ChatPanel)
        (chat.query_one("#chat-input") if chat.can_send else chat.query_one("#chat-log-box")).focus()

    def action_focus_people(self) -> None:
        """Show and move to the people list."""
        self.query_one(TabbedContent).active = "tab-people"
        self.query_one("#people-list", OptionList).focus()
