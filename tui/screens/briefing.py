"""The drill briefing: what players are told before the clock starts, roles, objectives, controls."""

from __future__ import annotations

from collections.abc import Sequence, Sized
from typing import TYPE_CHECKING, ClassVar, Protocol

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Vertical, VerticalScroll
from textual.css.model import Selector, SelectorType
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.message import Message
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Markdown, Static

from simulator.engine.session import Link, LobbyState
from simulator.format.hms import clock
from simulator.format.taxonomy import EVALUATOR, FACILITATOR, Role
from tui.format import role_name
from tui.team import lobby_content
from tui.widgets.footer import DrillFooter

if TYPE_CHECKING:  # a fork's view (its payload types: ~15 ms) loads with the drill, not the briefing
    from simulator.engine.journal import ForkPoint
    from simulator.engine.view import DrillView

CONTROLS = """\
| key | does |
|---|---|
| `space` | run / pause the clock; `1` `2` `3` set 1×, 10×, 60×; `n` jumps to the next inject or question |
| `r` | switch the acting role (hot seat); `enter` on an action takes it |
| `u` | write a stakeholder update (know / suspect / doing) |
| `a` | decide pending approvals; `e` ends the drill early; `?` shows every key |
"""

PLAYER_CONTROLS = """\
| key | does |
|---|---|
| `enter` | take the highlighted action; one needing another role's approval goes to their terminal |
| `a` | decide requests waiting for your approval (the dialog also opens by itself) |
| `c` | chat: the war room or a direct message to a role (`enter` sends) |
| `u` | write a stakeholder update; `i` `x` `p` move between panels; `?` shows every key |

The facilitator runs the clock; the review opens for everyone when the drill ends.
"""

FACILITATOR_CONTROLS = """\
| key | does |
|---|---|
| `enter` | (here) start the drill for everyone |
| `space` `1` `2` `3` `n` | pause / resume, 1×, 10×, 60×, jump to the next inject or question |
| white cell list | fire a scripted inject early, send an ad-hoc inject to chosen roles |
| `e` | end the drill for everyone; `t` hides or shows the hidden truth; `c` reads the chat |
| `o` `w` | write an observation (objective, strength or area for improvement); the open questions |
"""

EVALUATOR_CONTROLS = """\
| key | does |
|---|---|
| `o` | write an observation: the objective, a strength or an area for improvement, what you saw |
| `w` | the open discussion questions; every answer arrives as a notice and in the feed (`i`) |
| `t` | hide or show the hidden truth; `c` reads the chat; `?` shows every key |

You see everything the facilitator sees and cannot steer: the facilitator runs the clock.
"""

QUESTION_CONTROLS = """
Discussion questions arrive like injects and open a dialog: pick the answer, set how sure you are
(`←` `→` in steps of 5 %), add a note if you like; `enter` sends it, `esc` answers later (`w` lists
the open questions). The expected answer and why show when the question closes.
"""


WATCH_CONTROLS = """\
| key | does |
|---|---|
| `space` | play / pause the recording; `1` `2` `3` set 1×, 10×, 60× |
| `]` `[` | jump to the next or previous decision, inject, alert or action taking effect (`n` too) |
| `g` | go to a time (`45m`, `1h10m`); `enter` on a timeline row goes there |
| `?` | every key; `q` closes the recording (nothing to save: it is a file already) |

Decisions cannot be taken here: the recording says what was decided. Its review (at the end) forks
it with `w` to play on from a moment.
"""


class Briefed(Protocol):
    """What the briefing shows of a scenario: a validated :class:`~simulator.format.scenario.Scenario`,
    or the :class:`~simulator.format.brief.Brief` read from a built-in before it is validated."""

    @property
    def title(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def briefing(self) -> str: ...
    @property
    def roles(self) -> Sequence[Role]: ...
    @property
    def objectives(self) -> Sequence[str]: ...
    @property
    def duration(self) -> float: ...
    @property
    def questions(self) -> Sized: ...


def briefing_markdown(scenario: Briefed, seat: str | None, team: bool = False,
                      recording: bool = False) -> str:
    """The briefing page as Markdown (``team``: a seat of a team drill rather than the hot seat;
    ``recording``: ``ttx watch`` playing a journal back, whose keys are the playback's)."""
    roles = "\n".join(f"- **{role_name(r.value)}** (`{r.value}`)" for r in scenario.roles)
    objectives = "\n".join(f"- {o}" for o in scenario.objectives) or "- Contain the harm; keep people told."
    seat_line = ("You are watching a recording of this drill, as the facilitator saw it, the hidden "
                 "truth on." if recording else
                 "You hold every role at this keyboard (hot seat)." if seat is None
                 else "You are the **facilitator** (white cell): you see everything, the truth included."
                 if seat == FACILITATOR else
                 "You are an **evaluator**: you see everything and write observations; you do not steer."
                 if seat == EVALUATOR else f"You play **{role_name(seat)}**.")
    controls = (WATCH_CONTROLS if recording else CONTROLS if not team
                else FACILITATOR_CONTROLS if seat == FACILITATOR
                else EVALUATOR_CONTROLS if seat == EVALUATOR else PLAYER_CONTROLS)
    if scenario.questions and seat not in (FACILITATOR, EVALUATOR) and not recording:
        controls += QUESTION_CONTROLS
    return (f"# {scenario.title}\n\n*{scenario.summary}*\n\n{scenario.briefing.strip()}\n\n"
            f"## Roles in play\n\n{seat_line}\n\n{roles}\n\n## Objectives\n\n{objectives}\n\n"
            f"## Controls\n\nThe drill lasts {clock(scenario.duration)} of simulated time.\n\n{controls}")


def so_far_markdown(view: DrillView, fork: ForkPoint) -> str:
    """A forked drill's "what you know so far": the injects, alerts and decisions before T."""
    lines = [f"## Forked from {fork.parent} at {clock(fork.at)}: what you know so far", "",
             "Everything up to this moment happened as in that drill, what it did by itself at this "
             "moment included (an inject, an action taking effect), but not the decisions taken at it: "
             "the clock waits, paused, for yours (`space` runs it).", ""]
    state = ["not declared"] if view.declared_at is None else [
        f"declared at {clock(view.declared_at)}", f"commander {view.commander or '—'}"]
    if view.severity:
        state.append(f"severity {view.severity.upper()}")
    if view.classification:
        state.append(f"classified as {view.classification}")
    lines.append(f"- **Incident**: {', '.join(state)}")
    if view.alerts:
        lines.append("- **Alerts**: " + ", ".join(f"{view.signal_titles.get(sid, sid)} at {clock(t)}"
                                                  for t, sid in view.alerts))
    if view.effective:
        lines.append("- **In effect**: " + ", ".join(f"{title} ({clock(t)})"
                                                     for t, _, title, _ in view.effective))
    if view.in_flight:
        lines.append("- **Under way**: " + ", ".join(f"{title} (ETA {clock(eta)})"
                                                     for _, title, eta in view.in_flight.values()))
    if view.pending:
        lines.append("- **Awaiting approval**: " + ", ".join(p.title for p in view.pending.values()))
    lines += ["", "| time | inject |", "|---|---|"]
    lines += [f"| {clock(i.t)} | {i.subject} |" for i in view.injects] or ["| — | none yet |"]
    return "\n".join(lines) + "\n\n"


FOCUS_STATES = frozenset({"focus", "blur", "focus-within"})
"""The pseudo-classes that change when a widget gains or loses focus."""


def fits(selector: Selector, node: DOMNode) -> bool:
    """Whether ``selector``'s name (a type, ``#id``, ``.class`` or ``*``) fits ``node``, leaving its
    pseudo-classes aside."""
    match selector.type:
        case SelectorType.TYPE:
            return selector.name in {cls.__name__ for cls in type(node).__mro__}
        case SelectorType.ID:
            return selector.name == node.id
        case SelectorType.CLASS:
            return node.has_class(selector.name)
    return True  # ``*``, or a kind of selector this does not know: it may fit


def focus_styles(stylesheet: Stylesheet, node: DOMNode) -> tuple[bool, bool]:
    """Whether a rule could style ``node`` itself, and whether one could style something inside it,
    by whether ``node`` has focus.

    That is a rule with ``:focus``, ``:blur`` or ``:focus-within`` on a selector whose name fits
    ``node``: its last selector (``#briefing:focus``) for the node itself, another one
    (``#briefing:focus Markdown``) for what is inside. It errs towards yes: the other parts of a
    compound selector (``VerticalScroll.tall:focus``) are not checked.
    """
    itself = inside = False
    for rule in stylesheet.rules:
        for selector_set in rule.selector_set:
            *ancestors, last = selector_set.selectors
            itself = itself or reads_focus(last, node)
            inside = inside or any(reads_focus(selector, node) for selector in ancestors)
    return itself, inside


def reads_focus(selector: Selector, node: DOMNode) -> bool:
    """Whether ``selector`` asks for a focus state and its name fits ``node``."""
    return not selector.pseudo_classes.isdisjoint(FOCUS_STATES) and fits(selector, node)


MORE_BELOW = "↓ more below (↓ / PgDn / mouse wheel)"
"""The line above Start while the briefing has more below the fold."""


class BriefingText(VerticalScroll):
    """The briefing's text; when it is taller than the terminal the line above Start says so.

    ↓ and ↑ move it a whole line at once, without the smooth-scroll animation a scrolling
    container has by default: a terminal can only show whole lines, so the animation's in-between
    positions (one every frame for ~40 ms) showed nothing new but each was a repaint of the whole
    text, which an SSH seat sends to the player in full (issue 11, key press → update).

    Tab to Start and back restyles neither the container nor the text inside it unless a rule asks:
    none styles either by whether the container has focus, yet Textual restyles a widget's whole
    subtree when its focus changes, here some seventy Markdown blocks on every Tab (two thirds of
    its CPU), and a restyle of the container repaints its scrollbar, a second update to send.
    """

    def watch_has_focus(self, _has_focus: bool) -> None:
        """Restyle for the new focus state what a rule styles by it: the container, or all inside."""
        itself, inside = focus_styles(self.app.stylesheet, self)
        if inside:
            super().watch_has_focus(_has_focus)
        elif itself:
            self.app.stylesheet.update_nodes([self], animate=True)

    def action_scroll_down(self) -> None:
        """One line down, in one step."""
        if not self.allow_vertical_scroll:
            raise SkipAction()
        self.scroll_down(animate=False)

    def action_scroll_up(self) -> None:
        """One line up, in one step."""
        if not self.allow_vertical_scroll:
            raise SkipAction()
        self.scroll_up(animate=False)

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Scrolling changes whether more is below."""
        super().watch_scroll_y(old, new)
        self.show_more()

    def on_resize(self) -> None:
        """A new size changes whether everything fits."""
        self.call_after_refresh(self.show_more)

    shown = False
    """Whether the text has been laid out on the terminal once (then ``BriefingScreen.Shown`` is posted)."""

    def watch_virtual_size(self) -> None:
        """The text finished rendering (the Markdown arrives after the first layout)."""
        self.call_after_refresh(self.show_more)
        if not self.shown:
            self.shown = True
            self.call_after_refresh(self.screen.post_message, BriefingScreen.Shown())

    def show_more(self) -> None:
        """Say that more is below (roles, objectives, controls) until the reader reaches the end."""
        more = self.screen.query("#briefing-more")
        if more:
            below = self.max_scroll_y - self.scroll_y > 0
            line = more.first(Static)
            text = MORE_BELOW if below else ""
            if line.content != text:  # a scroll that does not reach the end changes nothing here
                line.update(text, layout=False)  # one line of fixed size: no layout pass needed


class StartButton(Button, inherit_bindings=False):
    """Start, for the mouse; with focus it leaves Enter to the screen, which does the same (starts the
    drill, or opens a player's dashboard) and keeps its label in the footer, so Tab onto the button
    changes no key and the footer is not rebuilt (a layout pass of the screen, sent to an SSH seat)."""


class BriefingScreen(Screen[None]):
    """Read the briefing, then start the drill with Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "start", "Start the drill", id="briefing.start"),
        Binding("enter", "open_dashboard", "Open the dashboard", id="briefing.open")]

    focused: Reactive[Widget | None] = Reactive(None, repaint=False)
    """The focused widget, as on any screen, except that a change does not repaint the whole screen:
    the widgets losing and gaining focus repaint themselves, and a whole screen is every cell of it
    sent to an SSH seat on every Tab."""

    class StartRequested(Message):
        """The players are ready; start the clock."""

    class Shown(Message):
        """The briefing has been drawn on the terminal for the first time (its text laid out at its size)."""

    def __init__(self, scenario: Briefed, seat: str | None, *, team: bool = False,
                 join_code: str | None = None, lobby: LobbyState | None = None,
                 so_far: str = "", recording: bool = False) -> None:
        """``team``: a seat of a team drill (shows ``lobby``); ``join_code``: shown to the facilitator;
        ``so_far``: a forked drill's "what you know so far" (Markdown), shown first; ``recording``:
        ``ttx watch`` plays a journal back (its keys, not the hot seat's)."""
        super().__init__()
        self.scenario, self.seat, self.team, self.join_code = scenario, seat, team, join_code
        self.lobby, self.so_far, self.recording = lobby, so_far, recording
        self.link = Link.CONNECTED

    def compose(self) -> ComposeResult:
        if self.team:
            yield Static(lobby_content(self.lobby, self.scenario, self.seat, self.join_code, self.link),
                         id="lobby")
        with BriefingText(id="briefing"):
            yield Markdown(self.so_far + briefing_markdown(self.scenario, self.seat, self.team,
                                                           self.recording), id="briefing-text")
        label = ("Play the recording (enter)" if self.recording else
                 "Start the drill (enter)" if not self.team else
                 "Start the drill for everyone (enter)" if self.seat == FACILITATOR else
                 "Open the dashboard (enter)")
        with Vertical(id="briefing-start"):
            yield Static("", id="briefing-more")
            with Center():
                yield StartButton(label, variant="primary", id="start", compact=True)
        yield DrillFooter()  # wraps rather than cutting keys off (the watch keys at 100 columns)

    def show_lobby(self, lobby: LobbyState | None, link: Link = Link.CONNECTED) -> None:
        """Redraw who holds which role and whether the drill has started (or that the link is down).

        Before the screen is composed (a lobby frame can arrive while a loaded terminal is still
        building it) only the state is kept: compose draws it.
        """
        self.lobby, self.link = lobby, link
        if self.team:
            for panel in self.query("#lobby").results(Static):
                panel.update(lobby_content(lobby, self.scenario, self.seat, self.join_code, link))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """One label for enter: a team player opens the dashboard, everyone else starts the drill."""
        follows = self.team and self.seat != FACILITATOR
        if action == "start":
            return not follows
        if action == "open_dashboard":
            return follows
        return True

    def action_open_dashboard(self) -> None:
        """A team player: look at the dashboard (the facilitator runs the clock)."""
        self.action_start()

    def on_mount(self) -> None:
        """Focus the briefing text: arrows scroll it, Enter starts."""
        self.query_one("#briefing", VerticalScroll).focus()
        self.call_after_refresh(self.query_one(BriefingText).show_more)

    def action_start(self) -> None:
        """Ask the app to start the drill."""
        self.post_message(self.StartRequested())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Mouse start."""
        self.action_start()
