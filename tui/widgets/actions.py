"""The action list: a role selector (hot seat) and what that role may do, with approval and timing."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList, Tab, Tabs
from textual.widgets.option_list import Option

from simulator.engine.view import DrillView
from simulator.format.commands import VERBS
from simulator.format.durations import format_duration
from simulator.format.scenario import Action, Scenario
from simulator.format.taxonomy import EVALUATOR, FACILITATOR
from tui.format import HANG, hang, short_role
from tui.widgets.picklist import PickList

DIALOG_VERBS = frozenset({"approve", "deny"})
"""Verbs taken through the approval dialog rather than the list."""


@dataclass(frozen=True)
class Choice:
    """One entry of the action list."""

    action: str
    title: str
    detail: str
    status: str = ""


def action_status(action: Action, view: DrillView) -> str:
    """Where a catalogue action stands: in effect, under way, awaiting approval, or nothing."""
    if any(a == action.id for _, a, _, _ in view.effective) and not action.repeatable:
        return "in effect"
    if any(a == action.id for a, _, _ in view.in_flight.values()):
        return "under way"
    if any(p.action == action.id for p in view.pending.values()):
        return "awaiting approval"
    return "in effect" if any(a == action.id for _, a, _, _ in view.effective) else ""


FACILITATOR_CHOICES = (
    Choice("fire_inject", "Fire a scripted inject now", "pick from the MSEL"),
    Choice("adhoc_inject", "Send an ad-hoc inject", "channel, roles, subject, body"),
    Choice("toggle_clock", "Pause / resume the clock (space)", ""),
    Choice("next_inject", "Jump to the next inject or question (n)", ""),
    Choice("end_drill", "End the drill for everyone (e)", ""),
    Choice("observe", "Write an observation (o)", "objective · strength or area for improvement"),
    Choice("open_questions", "Open questions (w)", "close one now: the team sees the expected answer"),
)
"""What the facilitator (white cell) can do from the action list."""

EVALUATOR_CHOICES = (
    Choice("observe", "Write an observation (o)", "objective · strength or area for improvement"),
    Choice("open_questions", "Open questions (w)", "what the team is being asked now"),
)
"""What an evaluator can do: observe (they see everything, and never steer)."""


def service_cuts(action: Action, scenario: Scenario) -> list[str]:
    """What ``action`` cuts for every user of a feature, in words ("turns off Atlas chat assistant
    (10,000 requests/s)"); empty when it turns off and throttles nothing."""
    cuts: list[str] = []
    for effect in action.effects:
        if effect.feature is None or effect.traffic_multiplier is None or effect.traffic_multiplier >= 1.0:
            continue
        feature = scenario.features[effect.feature]
        served = f"{feature.title} ({feature.traffic_rps:,.0f} requests/s)"
        cuts.append(f"turns off {served}" if effect.traffic_multiplier == 0.0
                    else f"throttles {served} to {effect.traffic_multiplier:.0%}")
    return cuts


def cut_consequence(action: Action, cuts: list[str]) -> str:
    """The confirmation's body: the action's own description, then the service it cuts."""
    said = f"{action.description}\n" if action.description else ""
    return f"{said}It {' and '.join(cuts)}."


def choices_for(role: str, scenario: Scenario, view: DrillView) -> list[Choice]:
    """Catalogue actions then built-in verbs that ``role`` may take (the white cell's controls
    for the facilitator, the observation for an evaluator; the open questions when there are any)."""
    if role in (FACILITATOR, EVALUATOR):
        listed = FACILITATOR_CHOICES if role == FACILITATOR else EVALUATOR_CHOICES
        return [c for c in listed if c.action != "open_questions" or scenario.questions]
    out: list[Choice] = []
    for a in scenario.actions:
        if role in {r.value for r in a.roles}:
            approval = f" · needs {short_role(a.approval.value)} approval" if a.approval and \
                a.approval.value != role else ""
            out.append(Choice(a.id, a.title, f"stage {a.stage} · {format_duration(a.latency)}{approval}",
                              action_status(a, view)))
    for verb in VERBS.values():
        if role in {r.value for r in verb.roles} and verb.id not in DIALOG_VERBS:
            done = "done" if verb.id in ("declare_incident", "resolve") and verb.id in view.taken else ""
            out.append(Choice(verb.id, verb.title, "", done))
    return out


def choice_line(choice: Choice, width: int = 0) -> Content:
    """An action list row: the title, then (indented) its status and its stage, latency and approval.

    Rows wrap rather than being cut (the list is narrow at 80 columns and the detail is what a
    player decides by), each line after the first under a hanging indent, so a wrapped title's
    last word ("question (n)") is not read as a row of its own. ``width``: the list's text width.
    """
    title = hang(choice.title, width)
    if not (choice.status or choice.detail):
        return Content(title)
    status = f"[{choice.status}]" if choice.status else ""
    below = hang(" ".join(part for part in (status, choice.detail) if part), width, HANG)
    row = Content(f"{title}\n{below}")
    start = len(title) + 1 + len(HANG)  # the status (or the detail) on the line below the title
    if status:
        status_end = start + below.index("]") + 1 - len(HANG)
        row = row.stylize("bold $text-success", start, status_end)
        start = status_end + 1  # the space between them stays plain
    return row.stylize("dim", start) if choice.detail else row


class ActionPanel(Vertical):
    """Role tabs (hot seat only) over the acting role's actions; Enter requests the highlighted one."""

    BORDER_TITLE = "Actions"

    class RoleChosen(Message):
        """The player switched the acting role."""

        def __init__(self, role: str) -> None:
            super().__init__()
            self.role = role

    class ActionRequested(Message):
        """The player asked for ``action`` as ``role`` (parameters are asked for next, if any)."""

        def __init__(self, role: str, action: str) -> None:
            super().__init__()
            self.role = role
            self.action = action

    def __init__(self, scenario: Scenario, roles: list[str], role: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario, self.roles, self.role = scenario, roles, role
        self._shown: tuple[object, ...] = ()
        self._last: DrillView | None = None
        """The view last shown (a resize wraps its rows again)."""
        self._followed: list[str] = []
        """Tabs activated to follow the acting role (their activation events are not choices)."""

    def compose(self) -> ComposeResult:
        tabs = Tabs(*[Tab(short_role(r), id=f"role-{r}") for r in self.roles], active=f"role-{self.role}",
                    id="role-tabs")
        tabs.display = len(self.roles) > 1
        yield tabs
        yield PickList(id="action-list")

    def show(self, view: DrillView, role: str) -> None:
        """List what ``role`` may do now, its rows wrapped to the list's width."""
        self._last = view
        choices = choices_for(role, self.scenario, view)
        options = self.query_one("#action-list", PickList)
        key = (role, options.size, tuple(choices))
        if key == self._shown:
            return
        same_role = role == self.role
        self._shown, self.role = key, role
        highlighted = options.highlighted if same_role else 0
        rows = self.rows(choices, options)
        options.set_options([Option(row, id=c.action) for c, row in zip(choices, rows, strict=True)])
        if choices:
            options.highlighted = min(highlighted or 0, len(choices) - 1)
        tabs = self.query_one(Tabs)
        if tabs.active != f"role-{role}":
            self._followed.append(f"role-{role}")
            tabs.active = f"role-{role}"
        self.border_title = ("White cell" if role == FACILITATOR else "Evaluator" if role == EVALUATOR
                             else f"Actions as {short_role(role)}")

    @staticmethod
    def rows(choices: list[Choice], options: PickList) -> list[Content]:
        """The rows wrapped to the list's width (:meth:`~tui.widgets.picklist.PickList.fitted`)."""
        return options.fitted(lambda width: [choice_line(c, width) for c in choices])

    def on_resize(self) -> None:
        """Wrap the rows again for the new width."""
        if self._last is not None:
            self.show(self._last, self.role)

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        """A role tab was chosen (by the player: the tabs following ``r`` are not a choice, or a
        quick ``r r r`` would bounce back to a role passed on the way)."""
        event.stop()
        if event.tab.id in self._followed:
            self._followed.remove(event.tab.id)
            return
        role = (event.tab.id or "").removeprefix("role-")
        if role and role != self.role:
            self.post_message(self.RoleChosen(role))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter (or a click) on an action."""
        event.stop()
        if event.option.id:
            self.post_message(self.ActionRequested(self.role, event.option.id))
