"""The drill app: briefing → dashboard → after-action review, driven through the ``Session`` protocol.

Widgets post intents (``ActionRequested``, ``CareRequested`` …); only this app calls the session, and
every screen re-renders from ``session.view`` when events arrive. Renders are coalesced: a burst of
events (a tick, several injects) costs one redraw, and nothing is dropped because the view keeps it all.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import App
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.notifications import Notify
from textual.screen import ModalScreen, Screen
from textual.timer import Timer

from simulator.engine.events import TRUTH, Event, Kind
from simulator.engine.session import Link, Session, journal_name
from simulator.format.hms import clock
from simulator.format.taxonomy import EVALUATOR, FACILITATOR, OBSERVERS
from tui.discussion import CLOSE_REASONS, QuestionDesk, answer_line, expected_text
from tui.format import short_role
from tui.heap import freeze_what_is_alive
from tui.keys import QUIT, THEME, toggle_theme
from tui.notices import WaitingNotices, notices_to_drop
from tui.screens.briefing import Briefed, BriefingScreen, so_far_markdown
from tui.team import sender_label
from tui.theme import ThemedApp

if TYPE_CHECKING:  # the history (SQLAlchemy) and the review (the engine: NumPy, SimPy) are imported when a
    # drill ends, not at start-up; the dashboard, the dialogs and the commands (pydantic) once the
    # briefing is on the terminal (the first frame needs only the briefing)
    from simulator.analysis.aar import AfterAction
    from simulator.analysis.history import Remembered
    from simulator.analysis.recording import Target
    from simulator.engine.session import DrillRecord
    from simulator.engine.view import PendingSeen, QuestionSeen
    from simulator.format.commands import Command
    from simulator.format.scenario import Scenario
    from tui.screens.dashboard import DashboardScreen
    from tui.screens.dialogs import UpdateDraft
    from tui.screens.discussion import AnswerDraft, ObservationDraft
    from tui.screens.review import ReviewScreen
    from tui.widgets.actions import ActionPanel
    from tui.widgets.chat import ChatPanel
    from tui.widgets.people import PeoplePanel

SessionFactory = Callable[[str], Session]
"""Builds a session for a scenario id (the picker's choice)."""


@dataclass(frozen=True)
class Opening:
    """A hot-seat drill whose engine is built once its briefing is on screen (``ttx play``).

    The briefing needs only what it shows of the scenario; the engine (NumPy, SimPy: ~0.2 s to
    import) is built right after the briefing's first frame, while the players read it, so the
    terminal shows the briefing sooner. For a built-in scenario that is its :class:`Brief`, read
    without validating, and ``build`` validates it too (pydantic: another ~0.1 s after the frame).
    """

    scenario: Briefed
    """The validated scenario, or a built-in's :class:`~simulator.format.brief.Brief`."""
    build: Callable[[], Session]
    """Builds the session (called once, after the first frame)."""

SHUTDOWN_GRACE = 3.0
"""Seconds a hot-seat app ended by SIGHUP or SIGTERM has to shut down before its process ends anyway."""
KEY_GRACE = 0.4
"""Wall seconds a dialog that opens by itself (a question asked, an approval requested) takes no
keys: they were typed for the dashboard before the player could see it (``n``, then ``x`` ``↓``
``enter`` answered a question that had just opened, scored with its calibration)."""

HEADER_INTERVAL = 0.5
"""Wall seconds between header clock redraws (the pacer wakes no more often either)."""

REVEALED = TRUTH
"""Hidden kinds kept for the review (and the truth toggle); never shown during play otherwise."""

STEERING = frozenset({"toggle_clock", "speed", "next_inject", "end_drill"})
"""App actions that steer the clock: the hot seat and the facilitator have them, team players and
evaluators not."""

HELD_IN_HOT_WASH = frozenset({"toggle_clock", "next_inject"})
"""Clock controls the hot wash has no use for (its clock has stopped): not offered while it runs."""


class ActionCommands(Provider):
    """The command palette (``ctrl+p``) over every role's actions: type "ml block" to find one."""

    def entries(self) -> list[tuple[str, str, str]]:
        """(role, action id, "ROLE: title [status]") for every action a role at this keyboard may
        take now, marked as the action list marks it ("Legal: Declare the incident [done]")."""
        from tui.widgets.actions import choices_for

        app = self.app
        if not isinstance(app, DrillApp) or app.dashboard is None or app.review is not None:
            return []
        session = app.live()
        return [(role, c.action, f"{short_role(role)}: {c.title}" + (f" [{c.status}]" if c.status else ""))
                for role in app.roles() for c in choices_for(role, session.scenario, session.view)]

    def request(self, role: str, action: str) -> Callable[[], None]:
        """The palette command: post the same intent the action list posts."""
        from tui.widgets.actions import ActionPanel

        def requested() -> None:
            self.app.post_message(ActionPanel.ActionRequested(role, action))

        return requested

    async def discover(self) -> Hits:
        """Everything, when nothing is typed yet."""
        for role, action, text in self.entries():
            yield DiscoveryHit(text, self.request(role, action), text=text)

    async def search(self, query: str) -> Hits:
        """Fuzzy-match the typed text against "ROLE: title"."""
        matcher = self.matcher(query)
        for role, action, text in self.entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), self.request(role, action), text=text)


class DrillApp(ThemedApp):
    """One drill from briefing to review. ``session`` may be local (hot seat) or remote (one seat)."""

    CSS_PATH = Path(__file__).with_name("ttx.tcss")
    TITLE = "ttx"
    COMMANDS = App.COMMANDS | {ActionCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "help", "Help", id="app.help", key_display="?",
                tooltip="Show every key of this screen"),
        THEME,
        QUIT,
    ]

    def __init__(self, session: Session | None = None, *, choose: SessionFactory | None = None,
                 scenarios: list[Scenario] | None = None, save_dir: Path | None = None,
                 wall: Callable[[], float] = time.monotonic, start_paused: bool = False,
                 history: Target | None = None, opening: Opening | None = None,
                 key_grace: float = 0.0) -> None:
        """Create the app.

        Args:
            session: The drill to play; ``None`` opens the picker (``choose`` and ``scenarios`` needed)
                or, with ``opening``, the briefing of a session built once that briefing shows.
            choose: Makes a session for the picked scenario id.
            scenarios: What the picker offers.
            save_dir: Where the review writes the journal and report.
            wall: Wall clock for the elapsed-time display (tests pass a frozen one).
            start_paused: Start the drill with the clock paused (tests and snapshots).
            history: Record the drill there when it ends (``ttx play``); ``None``: not recorded.
            opening: A hot-seat drill to brief first and build after the briefing's first frame.
            key_grace: Wall seconds (on ``wall``) a dialog that opens by itself ignores keys: the
                terminal commands pass :data:`KEY_GRACE`; 0 (the default, for tests that freeze
                ``wall`` and type at machine speed) takes every key at once.
        """
        super().__init__()
        self.opening = opening
        self.history = history
        self.recorded: Remembered | None = None
        """What the history said when the drill was last recorded (``None``: not yet, or not recorded)."""
        self._saved_journal: Path | None = None
        self.session: Session | None = None
        self.choose, self.scenarios = choose, scenarios or []
        self.save_dir = save_dir or Path.cwd()
        self.wall, self.start_paused, self.key_grace = wall, start_paused, key_grace
        self._held: tuple[ModalScreen[Any], float] | None = None
        """The dialog that opened by itself, and the wall time until which it takes no keys."""
        self.role = ""
        """The role at the keyboard (fixed to the seat in a team drill)."""
        self.truth_on = False
        """Training toggle: show the hidden harm rate live."""
        self.revealed: list[Event] = []
        self.dashboard: DashboardScreen | None = None
        self.review: AfterAction | None = None
        self._started_at: float | None = None
        self._render_pending = False
        self._prompted: set[int] = set()
        self._events_behind = 0
        """Remote events told but not yet handled on the app's queue (:meth:`queue_drill_event`)."""
        self._closed_behind: list[QuestionSeen] = []
        """Questions that closed while a dialog was open: how they came out shows when it closes."""
        self._discussion_hold = False
        """Whether the clock waits for the discussion: in the hot seat a question's dialog (or how one
        came out) opened and paused it (:meth:`hold_for_discussion`)."""
        self.desk = QuestionDesk(None)
        """The discussion questions at this keyboard: due, answered, their feed entries."""
        self.waiting_notices = WaitingNotices()
        """Notices kept back while a dialog is open (they covered its buttons at 80×24)."""
        self._timer: Timer | None = None
        self._told_lost = False
        self._was_started: bool | None = None
        """Team drills: whether the drill had started at the last lobby frame (``None``: none yet)."""
        self.saved = False
        """Whether the review's journal and report were saved (quitting an unsaved review asks first)."""
        self.cut_short: Path | None = None
        """Where the hot seat's drill was saved because the app ended without the players quitting it
        (its terminal closed, a signal): see :meth:`keep_cut_short`."""
        self._let_go = False
        """The players answered yes to quitting what was not saved."""
        self.shutdown_grace: float | None = None
        """Seconds a shutdown on SIGHUP or SIGTERM may take before the process ends anyway (``None``:
        no limit, as in tests, which share their process)."""
        self._end_for_good: threading.Timer | None = None
        self.ends_on_signals = False
        """``ttx play`` in a terminal (:func:`run_until_signalled`): SIGHUP and SIGTERM end this app
        the ordinary way, and a drill it ends unsaved is kept (:meth:`keep_cut_short`)."""
        if session is not None:
            self.attach(session)

    # --- lifecycle ----------------------------------------------------------------------

    def attach(self, session: Session) -> None:
        """Play ``session``: listen to its events and pick the first acting role."""
        self.session = session
        self.role = session.seat or session.scenario.roles[0].value
        self.truth_on = session.seat in OBSERVERS
        self.desk = QuestionDesk(session.seat)
        if session.link is Link.LOCAL:  # the engine runs in the app's own task: told in step
            session.subscribe(self.on_drill_event)
            session.on_change(self.on_session_change)
        else:  # told on the connection's reader task, where no screen can be built: queued for the app
            session.subscribe(self.queue_drill_event)
            session.on_change(self.queue_session_change)
        self._was_started = session.started if session.team else None

    def queue_drill_event(self, event: Event) -> None:
        """A remote session's event, handled on the app's own queue (:meth:`on_drill_event`); until it
        is, the app draws nothing (:attr:`_events_behind`), since the session's view is already past it."""
        self._events_behind += 1
        self.call_later(self.handle_queued_event, event)

    def handle_queued_event(self, event: Event) -> None:
        """One queued remote event, handled in the app's task."""
        self._events_behind -= 1
        self.on_drill_event(event)

    def queue_session_change(self) -> None:
        """A remote session's change, handled on the app's own queue (:meth:`on_session_change`)."""
        self.call_later(self.on_session_change)

    def team(self) -> Session | None:
        """The session when it is a seat of a team drill, or ``None`` in the hot seat."""
        session = self.session
        return session if session is not None and session.team else None

    def steers(self) -> bool:
        """Whether this keyboard steers the clock: the hot seat or the facilitator, never a team player."""
        session = self.live()
        return session.seat is None or session.seat == FACILITATOR

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Hide clock controls from team players, the role switch from single seats, the truth
        toggle from players (the facilitator sees the truth; the hot seat may train with it)."""
        if self.session is None:
            return True
        seat = self.session.seat
        if action in STEERING and not self.steers():
            return False
        if action == "next_role" and seat is not None:
            return False
        if action in ("compose_update", "approvals") and seat in OBSERVERS:
            return False
        if action == "observe" and seat not in OBSERVERS:
            return False
        if action == "open_questions" and not self.session.scenario.questions:
            return False
        if action in HELD_IN_HOT_WASH and self.session.view.hot_wash and not self.session.view.ended:
            return False
        from simulator.format.commands import VERBS  # loaded with the session: not before the first frame

        senders = {r.value for r in VERBS["send_update"].roles}
        if action == "compose_update" and not senders & set(self.roles()):
            return False
        return not (action == "toggle_truth" and seat not in (None, *OBSERVERS))

    def on_mount(self) -> None:
        """Open the briefing, or the picker when no scenario was given."""
        if self.ends_on_signals:
            import signal

            for ending in (signal.SIGHUP, signal.SIGTERM):
                asyncio.get_running_loop().add_signal_handler(ending, self.on_signal_to_end)
        self.screen_change_signal.subscribe(self, self.on_screen_changed, immediate=True)
        if self.session is not None:
            self.push_screen(self.briefing())
        elif self.opening is not None:
            self.push_screen(BriefingScreen(self.opening.scenario, None, team=False, join_code=None,
                                            lobby=None, so_far=""))
        else:
            from tui.screens.picker import PickerScreen

            self.push_screen(PickerScreen(self.scenarios), self.picked)

    def on_briefing_screen_shown(self, message: BriefingScreen.Shown) -> None:
        """The briefing is on the terminal: build the drill it briefs, if it is still to be built."""
        if self.session is None and self.opening is not None:
            self.build_opening()

    def build_opening(self) -> None:
        """Build the briefed hot-seat drill (nothing has started: the players are reading the briefing)."""
        assert self.opening is not None and self.session is None
        self.attach(self.opening.build())
        self.refresh_bindings()

    def picked(self, scenario_id: str | None) -> None:
        """The picker's choice: build its session and show the briefing."""
        if scenario_id is None or self.choose is None:
            return
        self.attach(self.choose(scenario_id))
        assert self.session is not None
        self.push_screen(self.briefing())

    def briefing(self) -> BriefingScreen:
        """The briefing for this seat (with the lobby in a team drill)."""
        session = self.live()
        team = self.team()
        so_far = so_far_markdown(session.view, session.fork) if session.fork is not None else ""
        return BriefingScreen(session.scenario, session.seat, team=team is not None,
                              join_code=team.join_code if team is not None else None,
                              lobby=team.lobby if team is not None else None, so_far=so_far)

    async def on_briefing_screen_start_requested(self, message: BriefingScreen.StartRequested) -> None:
        """Leave the briefing for the dashboard; start the clock (hot seat, facilitator)."""
        if self.session is None and self.opening is not None:  # started before the first frame was done
            self.build_opening()
        await self.enter_dashboard()

    async def enter_dashboard(self) -> None:
        """Show the dashboard. The hot seat starts its clock; the facilitator starts the drill for
        everyone (unless it is running); a team player just watches the drill the facilitator runs."""
        from tui.screens.dashboard import DashboardScreen

        if self.dashboard is not None:
            return
        session = self.live()
        team = self.team()
        self.dashboard = DashboardScreen(session.scenario, self.roles(), self.role, seat=session.seat)
        await self.switch_screen(self.dashboard)
        freeze_what_is_alive()  # the dashboard lives to the review: no full collection walks it again
        if team is None:
            await session.start()
            if self.start_paused or session.fork is not None:
                await session.pause()
        elif session.seat == FACILITATOR and not session.started:
            await session.start()
        self._started_at = self.wall()
        self._timer = self.set_interval(HEADER_INTERVAL, self.show_header)
        self.desk.catch_up(session.view)
        self.render_view()

    async def on_unmount(self) -> None:
        """Keep a hot-seat drill that ends unsaved without being quit, then stop the session's clock task."""
        self.keep_cut_short()
        if self.session is not None:
            await self.session.close()

    def keep_cut_short(self) -> None:
        """A hot-seat drill under way (or its unsaved review) when the app ends without the players
        having quit it (the terminal closed: SIGHUP; SIGTERM) is saved into the save folder, so an
        hour's drill is not lost with its terminal; :attr:`cut_short` says where."""
        from simulator.engine.session import LocalSession

        session = self.session
        if (self.ends_on_signals and isinstance(session, LocalSession) and self.dashboard is not None
                and not self._let_go and self._saved_journal is None):
            self._saved_journal = session.save(journal_name(self.save_dir, session.scenario.id,
                                                            session.drill.seed))
            self.cut_short = self._saved_journal

    def on_signal_to_end(self) -> None:
        """SIGHUP (the terminal closed) or SIGTERM: keep what the players did (:meth:`keep_cut_short`)
        at once, then end the app the ordinary way, and for good within :attr:`shutdown_grace`
        seconds: with its terminal gone, Textual's shutdown can wait forever on its output thread,
        and a process left behind on a closed terminal helps nobody."""
        import os
        import sys

        self.keep_cut_short()

        def end_for_good() -> None:
            if self.cut_short is not None:
                with contextlib.suppress(OSError):
                    print(cut_short_line(self), file=sys.stderr, flush=True)
            os._exit(1)

        if self.shutdown_grace is not None:
            self._end_for_good = threading.Timer(self.shutdown_grace, end_for_good)
            self._end_for_good.daemon = True
            self._end_for_good.start()
        self.exit(return_code=1)

    def live(self) -> Session:
        """The session (there is one once a scenario is chosen)."""
        assert self.session is not None, "no drill chosen yet"
        return self.session

    def roles(self) -> list[str]:
        """Roles this keyboard may act as: every role in play (hot seat) or the seat's."""
        session = self.live()
        return [session.seat] if session.seat else [r.value for r in session.scenario.roles]

    # --- events in, renders out ---------------------------------------------------------

    async def on_event(self, event: events.Event) -> None:
        """Drop a key typed into a dialog that opened by itself less than :data:`KEY_GRACE` ago: it was
        meant for the dashboard (see :meth:`hold_keys`)."""
        if isinstance(event, events.Key) and not event.is_forwarded and self.keys_held():
            event.stop()
            return
        await super().on_event(event)

    def hold_keys(self, dialog: ModalScreen[Any]) -> None:
        """``dialog`` just opened by itself: it takes no keys for the next :attr:`key_grace` seconds."""
        self._held = (dialog, self.wall() + self.key_grace) if self.key_grace > 0 else None

    def keys_held(self) -> bool:
        """Whether the dialog on screen opened by itself too recently to take keys."""
        held = self._held
        if held is None or held[0] is not self.screen:
            return False
        if self.wall() >= held[1]:
            self._held = None
            return False
        return True

    def dialog_open(self) -> bool:
        """Whether a dialog (any modal screen: a question, a form, help, the command palette) is on top."""
        return bool(self.screen_stack) and isinstance(self.screen_stack[-1], ModalScreen)

    def on_notify(self, event: Notify) -> None:
        """A new notice waits while a dialog is open (:class:`~tui.notices.WaitingNotices`); otherwise
        make room for it before the app shows it (at most two at once, see :mod:`tui.notices`), so
        they never stack over the screen and the footer's keys."""
        if self.dialog_open():
            self.waiting_notices.hold([event.notification])
            event.prevent_default()
            return
        self.make_room_for_notice()

    def make_room_for_notice(self) -> None:
        """Take down the notices a new one replaces (:func:`~tui.notices.notices_to_drop`)."""
        for old in notices_to_drop(self._notifications):
            self._unnotify(old, refresh=False)

    def on_screen_changed(self, screen: Screen[Any]) -> None:
        """A dialog opened: the notices on screen wait for it to close. The last dialog closed: the
        notices that waited show now (the screen below redraws its notices as it resumes)."""
        if self.dialog_open():
            shown = list(self._notifications)
            self.waiting_notices.hold(shown)
            for notice in shown:
                self._unnotify(notice, refresh=False)
            return
        for notice in self.waiting_notices.release():
            self.make_room_for_notice()
            self._notifications.add(notice)

    def clear_notifications(self) -> None:
        """Clear the notices shown and those waiting for a dialog to close."""
        self.waiting_notices.forget()
        super().clear_notifications()

    def on_drill_event(self, event: Event) -> None:
        """Session callback: keep the revealed truth, then schedule one redraw for the burst."""
        if event.kind in REVEALED:
            self.revealed.append(event)
        if event.kind == Kind.HOT_WASH:
            self.refresh_bindings()  # the clock controls go from the footer (HELD_IN_HOT_WASH)
        seat = self.live().seat  # the hot seat wrote every message itself: no pop-up for it
        if event.kind == Kind.MESSAGE and seat not in (None, event.actor) and self.dashboard is not None:
            to = event.payload.get("to") or []
            where = "War room" if not to else "Direct message"
            self.notify(f"{self.message_sender(event)}: {event.payload.get('text')}", title=where,
                        timeout=6)
        if self.dashboard is not None:
            self.notify_later(event)
            self.notify_discussion(event)
        self.schedule_render()

    def notify_later(self, event: Event) -> None:
        """The second notice for what took time: an action in effect, findings in, a watch ended."""
        p, who = event.payload, short_role(str(event.actor))
        if event.kind == Kind.ACTION_EFFECTIVE:
            self.notify(f"{p.get('title')} (stage {p.get('stage')}, {who}) is in effect since "
                        f"{clock(event.t)}.", title="In effect", timeout=5)
        elif event.kind == Kind.FINDINGS:
            count = len(p.get("factors") or [])
            self.notify(f"{count} contributing factor(s) found; the report went to {who} (injects) and "
                        "the incident panel lists them.", title="Investigation findings", timeout=8)
        elif event.kind == Kind.WATCH_ENDED:
            held = "held: harm stayed under the threshold" if p.get("passed") else \
                "FAILED: harm rose above the threshold"
            self.notify(f"The watch period {held}.", title="Watch period", timeout=6,
                        severity="information" if p.get("passed") else "warning")

    def notify_discussion(self, event: Event) -> None:
        """A question arrives like an inject (the feed, and its dialog when no other is open); the
        facilitator and evaluators see each answer arrive; a closed question shows the expected answer.

        The feed keeps all of it, so the facilitator's and evaluators' notices give way to an open
        dialog; a question for this keyboard waits for the dialog to close, then opens its own.
        Hot-wash questions, and those the drill's end closes, get no notice: the review follows, its
        Discussion panel says how each came out, and their notices would cover it.
        """
        from tui.screens.discussion import addressed

        if event.kind == Kind.HOT_WASH:
            self.notify_hot_wash([str(q) for q in event.payload.get("questions") or []])
            return
        view = self.live().view
        question = view.questions.get(str(event.payload.get("question")))
        if question is None:
            return
        busy = self.dialog_open()
        if event.kind == Kind.QUESTION_ASKED:
            self.desk.asked(question)
            if not self.desk.answers(question) and not busy:  # a question asked here opens its dialog
                self.notify(question.prompt, title=f"Question for {addressed(question)}", timeout=6)
        elif event.kind == Kind.ANSWER_GIVEN and self.desk.observer and not busy:
            self.notify(answer_line(question, {"t": event.t, **event.payload}), title="Answer", timeout=5)
        elif event.kind == Kind.QUESTION_CLOSED:
            review_follows = question.hot_wash or question.reason == "end"
            self.question_closed(question, quiet=review_follows or (busy and self.desk.observer))

    def notify_hot_wash(self, questions: list[str]) -> None:
        """The drill's time is up and its hot-wash questions are open: say what happens next, on the
        first hot-wash dialog's notice line when this keyboard answers one (a notice covered that
        dialog's buttons at 80×24 for 10 s), else in a notice."""
        if not self.desk.observer and any(self.asked_here(q) for q in questions):
            count = f"{len(questions)} question{'s' if len(questions) != 1 else ''}"
            self.desk.notice = (f"{count} before the review; clock stopped"
                                + ("; ctrl+e ends the hot wash." if self.steers() else "."))
            return
        then = ("e ends the hot wash and opens the review" if self.steers()
                else "the review opens when they are closed")
        self.notify(f"{len(questions)} hot-wash question(s) before the review; the clock has stopped "
                    f"({then}).", title="Hot wash", timeout=10)

    def asked_here(self, question_id: str) -> bool:
        """Whether this keyboard answers the scenario's question (the hot seat answers every one)."""
        question, seat = self.live().scenario.question(question_id), self.live().seat
        asked = [r.value for r in question.to] if question is not None else []
        return question is not None and (seat is None or not asked or seat in asked)

    def question_closed(self, question: QuestionSeen, quiet: bool = False) -> None:
        """Close its dialog if it is open here, and show how it came out (:meth:`show_closed`); while
        another dialog is open, once that dialog closes (a notice would cover it at 80×24);
        ``quiet``: the feed says it, no notice."""
        from tui.screens.discussion import QuestionScreen

        screen = self.screen
        if isinstance(screen, QuestionScreen) and screen.question.question == question.question:
            self.pop_screen()
        self.desk.took(question.question)
        if quiet:
            return
        if self.dialog_open():
            self._closed_behind.append(question)
            return
        self.show_closed(question)

    def show_closed(self, question: QuestionSeen) -> None:
        """How a closed question came out (the expected answer, why): in a dialog of its own when the
        hot seat's answer closed a question with an expected answer or a why, or the next question's
        dialog waits (a notice would cover it), else in a notice."""
        from tui.screens.discussion import QuestionClosedScreen

        taught = expected_text(question)
        outcome = taught or "It had no expected answer: the review shows every answer."
        echo = self.desk.you_answered(question.question)
        outcome = f"{echo}\n{outcome}" if echo else outcome
        reason = CLOSE_REASONS.get(question.reason, question.reason)
        next_waits = self.desk.next_due(self.live().view) is not None
        answered_here = self.live().seat is None and question.reason == "answered" and bool(taught)
        if next_waits or answered_here:
            self.push_screen(QuestionClosedScreen(reason, question.prompt, outcome, next_waits,
                                                  self.clock_note()))
            self.hold_for_discussion()
            return
        self.notify(f"{question.prompt}\n{outcome}", title=f"Question closed: {reason}", timeout=10)

    def sim_now(self) -> float:
        """The drill clock now (the live clock, not the last event's time), within the drill."""
        session = self.live()
        return session.view.now if session.view.ended else min(session.clock.now(), session.scenario.duration)

    def message_sender(self, event: Event) -> str:
        """Who wrote a message event, as the chat names them ("Dana (IC)" in a team drill)."""
        said = next((m for m in reversed(self.live().view.messages) if m["t"] == event.t
                     and m["from"] == event.actor and m["text"] == event.payload.get("text")), None)
        return sender_label(said) if said is not None else short_role(str(event.actor))

    def schedule_render(self) -> None:
        """One redraw for a burst of events or frames."""
        if not self._render_pending:
            self._render_pending = True
            self.call_later(self.render_view)

    def render_view(self) -> None:
        """Redraw the dashboard from the view, prompt for approvals, go to the review at the end."""
        self._render_pending = False
        if self.dashboard is None or not self.dashboard.is_mounted or self.review is not None:
            return  # not composed yet (a seat opening the dashboard mid-drill): enter_dashboard renders
        if self._events_behind:
            return  # a remote event still queued (the revealed truth, say): its handling renders again
        view = self.live().view
        self.dashboard.show(view, self.role, self.truth_curve() if self.truth_on else None,
                            questions=self.desk.feed(view))
        self.show_header()
        if self.reviewable():
            self.open_review()
        else:
            self.close_stale_approval()
            self.prompt_approvals()
            self.prompt_questions()

    def close_stale_approval(self) -> None:
        """Close an open approval dialog whose request was decided elsewhere (another holder of the role)."""
        from tui.screens.dialogs import ApprovalScreen

        screen = self.screen
        if isinstance(screen, ApprovalScreen) and screen.request not in self.live().view.pending:
            self.pop_screen()
            self.notify(f"Request #{screen.request} ({screen.title_text}) was decided elsewhere.",
                        title="Approval", timeout=5)

    def reviewable(self) -> bool:
        """The drill ended and the review has what it needs (a team seat waits for the reveal)."""
        return self.live().review() is not None

    def on_session_change(self) -> None:
        """Lobby, clock, link or notices changed (team drills): redraw, follow the start, tell the player."""
        session = self.live()
        if session.started is not None:
            self.follow_start(session.started)
        for notice in session.take_notices():
            self.notify(notice.text, title=notice.title, severity=notice.severity, timeout=notice.seconds)
        self.call_later(self.show_lobby)
        self.call_later(self.show_header)
        self.schedule_render()

    def follow_start(self, started: bool) -> None:
        """When the facilitator starts the drill, a player still on the briefing moves to the dashboard."""
        started_now = started and self._was_started is False
        if self._was_started is None or started:
            self._was_started = started
        if started_now and self.dashboard is None:
            self.call_later(self.enter_dashboard)

    def show_lobby(self) -> None:
        """Redraw the lobby on the briefing (when it is showing)."""
        team = self.team()
        if team is not None and isinstance(self.screen, BriefingScreen):
            self.screen.show_lobby(team.lobby, team.link)

    def truth_curve(self) -> list[tuple[float, float]]:
        """The hidden harmful rate (outputs/s) so far (the facilitator's view folds it itself)."""
        view = self.live().view
        if view.seat in OBSERVERS:
            return [(t, rate) for t, rate, _ in view.harm]
        return [(e.t, float(e.payload["rate"])) for e in self.revealed if e.kind == Kind.HARM]

    def show_header(self) -> None:
        """Redraw the clock line (twice a second at most)."""
        if self.dashboard is None or not self.dashboard.is_attached:
            return
        session = self.live()
        team = self.team()
        if session.link == Link.LOST and not self._told_lost:
            self._told_lost = True
            self.notify("Lost the connection to the drill server and could not reconnect. Quit (q) "
                        "and join again with the same code and role.",
                        title="Disconnected", severity="error", timeout=60)
        view, clock = session.view, session.clock
        link = None
        if team is not None and not view.ended:
            link = {Link.LOST: "DISCONNECTED", Link.RECONNECTING: "RECONNECTING…"}.get(session.link)
        # Without the server the clock is unknown: show the last time heard, not a guess.
        sim = view.now if view.ended or link else min(clock.now(), session.scenario.duration)
        elapsed = self.wall() - self._started_at if self._started_at is not None else 0.0
        header = self.dashboard.header
        if not header.is_attached:  # the dashboard is being taken down (quit, or the end of a test)
            return
        header.show(session.scenario.title, sim, session.scenario.duration, clock.speed, clock.paused,
                    elapsed, self.role if session.seat != FACILITATOR else None, link=link)
        self.dashboard.tick(view, sim)

    def open_review(self) -> None:
        """Reveal the truth: the after-action facts ``ttx report`` shows, in place of the dashboard."""
        from simulator.analysis.aar import facts
        from simulator.analysis.branch import branch_of
        from tui.screens.review import ReviewScreen

        session = self.live()
        record = session.review()
        assert record is not None
        self.review = facts(record.journal, session.scenario, record.result, record.do_nothing,
                            real_team=record.real_team)
        if record.parent is not None:
            self.review.branch = branch_of(self.review, record.journal, record.parent, None)
        if self._timer is not None:
            self._timer.stop()
        while len(self.screen_stack) > 2 and isinstance(self.screen, ModalScreen):
            self.pop_screen()
        self.clear_notifications()  # the drill's notices ("Hot wash", "Answer later") would cover the review
        self.switch_screen(ReviewScreen(self.review, session.scenario, can_rewind=not session.team))
        if self.history is not None:
            self.run_worker(self.remember(record, self.review, None), group="history")

    async def remember(self, record: DrillRecord, review: AfterAction, path: Path | None) -> None:
        """Record the drill in the history (off the event loop), then show the team's last run beside it.

        A history that cannot be used never costs the drill: its journal is saved to a file instead.
        """
        from simulator.analysis.history import entry_of, remember
        from simulator.engine.journal import journal_text

        assert self.history is not None
        target = self.history
        source = "join" if self.team() is not None else "play"

        def record_it() -> Remembered:
            data = journal_text(record.header, record.events).encode("utf-8")
            entry = entry_of(review, data, team=target.team, source=source, path=path, header=record.header)
            return remember(target, entry)

        self.remembered(await asyncio.to_thread(record_it))

    def remembered(self, outcome: Remembered) -> None:
        """Say what the history did; a failure saves the journal (``ttx history add`` records it later)."""
        self.recorded = outcome
        if outcome.problem is not None and self.history is not None and not self.history.record:
            self.notify(outcome.problem, title="History not read", severity="warning", timeout=10)
            return
        if outcome.problem is not None:
            journal = self._saved_journal or self.save_journal()
            self.notify(f"{outcome.problem}\nThe journal is saved: {journal} (ttx history add records it "
                        "later).", title="Not recorded in the history", severity="warning", timeout=20)
            return
        if outcome.recorded is not None and outcome.recorded.new:
            row = outcome.recorded.row
            team = f" (team {row.team})" if row.team else ""
            self.notify(f"Recorded as {row.short}{team}: ttx history lists it.", title="History", timeout=4)
        from tui.screens.review import ReviewScreen  # loaded with the review this outcome belongs to

        if outcome.previous is not None and isinstance(self.screen, ReviewScreen):
            self.screen.show_previous(outcome.previous)

    # --- intents -------------------------------------------------------------------------

    async def submit(self, command: Command) -> Event:
        """Send a command; say what happened (a refusal with the engine's reason)."""
        before, asked_before = set(self.live().view.in_flight), dict(self.live().view.pending)
        event = await self.live().submit(command)
        if event.kind == Kind.REFUSED:
            self.notify(f"{self.who(command.role)}: {self.action_title(command.action)} refused: "
                        f"{event.payload['reason']}", title="Refused", severity="error", timeout=8)
        elif command.action != "message" and not self.closed_by_answer(command):
            title, text = self.outcome(command, before, asked_before)  # (the chat shows a message: no notice)
            self.notify(text, title=title, timeout=5 if title == "Requested" else 3)
        self.render_view()
        return event

    def closed_by_answer(self, command: Command) -> bool:
        """Whether this answer closed its question at once (the hot seat): the closing notice says it all."""
        if command.action != "answer":
            return False
        question = self.live().view.questions.get(str(command.params.get("question")))
        return question is not None and not question.open

    @staticmethod
    def who(role: str) -> str:
        """The acting role as a notice names it (the white cell for the facilitator)."""
        return "White cell" if role == FACILITATOR else "Evaluator" if role == EVALUATOR else short_role(role)

    def outcome(self, command: Command, before: set[int], asked_before: dict[int, PendingSeen]
                ) -> tuple[str, str]:
        """(title, line) saying what an accepted command did; ``before``: requests in flight before it,
        ``asked_before``: the approval requests pending before it (what a decision was about).

        What takes time says when it takes effect ("requested — in effect at 1:12:00"), and a
        second notice comes when it does (:meth:`notify_later`).
        """
        from simulator.format.durations import format_duration

        who, view = self.who(command.role), self.live().view
        sure = command.params.get("confidence")
        said = f"{who} answered" + (f" ({sure} % sure)" if sure is not None else "")
        discussion = {"answer": ("Answered", f"{said}; the expected answer shows when the question closes"),
                      "observe": ("Noted", "Observation saved (hidden from players until the end)"),
                      "close_question": ("Closed", f"Question {command.params.get('question')} closed")}
        if command.action in discussion:
            return discussion[command.action]
        started = [(title, eta) for request, (_, title, eta) in view.in_flight.items()
                   if request not in before]
        if command.action in ("approve", "deny"):
            verb = "approved" if command.action == "approve" else "denied"
            then = "".join(f" — {title} {self.in_effect_at(eta)}" for title, eta in started)
            decided = asked_before.get(int(command.params["request"]))
            what = f": {decided.title}" if decided is not None and not then else ""
            return ("Decided", f"{who} {verb} request #{command.params['request']}{what}{then}")
        asked = [p for p in view.pending.values() if p.action == command.action and p.by == command.role]
        if asked:
            return ("Asked", f"{who} asked {short_role(asked[-1].approver)} to approve: {asked[-1].title}")
        if started:
            return ("Requested", f"{who}: {started[-1][0]} requested — {self.in_effect_at(started[-1][1])}")
        running = {"investigate": ("investigation started — findings at", view.investigating_until),
                   "start_watch": ("watch period started — it ends at", view.watch_until)}
        what, until = running.get(command.action, ("", None))
        if until is not None:
            return ("Started", f"{who}: {what} {clock(until)} (in {format_duration(until - view.now)})")
        if command.role == FACILITATOR and command.action in ("fire_inject", "adhoc_inject"):
            return ("Sent", self.inject_sent(command))
        return ("Done", f"{who}: {self.action_title(command.action)}")

    def in_effect_at(self, eta: float) -> str:
        """When an action under way takes effect, and how long that is from now."""
        from simulator.format.durations import format_duration

        return f"in effect at {clock(eta)} (in {format_duration(eta - self.live().view.now)})"

    def inject_sent(self, command: Command) -> str:
        """The white cell's notice for an inject: its subject and who it goes to."""
        from simulator.format.commands import AdhocParams

        if command.action == "adhoc_inject":
            adhoc = AdhocParams.model_validate(command.params)
            kind, subject, to = "Ad-hoc inject", adhoc.subject, [r.value for r in adhoc.to]
        else:
            wanted = str(command.params["inject"])
            seen = next((i for i in reversed(self.live().view.injects) if i.inject == wanted), None)
            kind = "Scripted inject"
            subject, to = (seen.subject, list(seen.to)) if seen is not None else (wanted, [])
        return f"{kind} “{subject}” sent to {', '.join(short_role(r) for r in to) or 'its roles'}"

    def action_title(self, action: str) -> str:
        """A catalogue action's, a verb's or a white-cell control's human title."""
        from simulator.format.commands import VERBS
        from tui.widgets.actions import FACILITATOR_CHOICES

        catalogue = self.live().scenario.action(action)
        if catalogue is not None:
            return catalogue.title
        controls = {c.action: c.title for c in FACILITATOR_CHOICES}
        return VERBS[action].title if action in VERBS else controls.get(action, action)

    async def on_action_panel_action_requested(self, message: ActionPanel.ActionRequested) -> None:
        """An action from the list: ask for parameters when it has any, then submit."""
        from simulator.format.commands import VERBS, Command
        from tui.screens.dialogs import ParamsScreen

        role, action = message.role, message.action
        verb = VERBS.get(action)
        if action == "observe":
            self.action_observe()
        elif action == "open_questions":
            self.action_open_questions()
        elif role == FACILITATOR:
            await self.facilitate(action)
        elif action == "send_update":
            self.action_compose_update()
        elif verb is not None and verb.params.model_fields:
            async def with_params(params: dict[str, object] | None) -> None:
                if params is not None:
                    await self.submit(Command(role=role, action=action, params=params))

            blank, hints = self.form_hints(action)
            self.push_screen(ParamsScreen(verb.title, role, verb.params, self.roles_in_play(), blank=blank,
                                          hints=hints), with_params)
        else:
            await self.take_or_confirm(Command(role=role, action=action))

    def form_hints(self, action: str) -> tuple[frozenset[str], dict[str, str]]:
        """(fields the form starts blank in spite of their default, a hint in each field) for a verb.

        The regulator's form offered "data protection authority" (the params model's default), wrong
        for an EU AI Act Art. 73 report: its authority starts blank, focused, the hint naming the
        scenario's clock that the notification meets.
        """
        if action != "notify_regulator":
            return frozenset(), {}
        clocks = [c.title for c in self.live().scenario.clocks if c.met_by == action]
        hint = f"the authority for: {'; '.join(clocks)}" if clocks else "e.g. the data protection authority"
        return frozenset({"authority"}), {"authority": hint}

    async def take_or_confirm(self, command: Command) -> None:
        """Submit a catalogue action, first asking (one key, ``t``) when it would cut service at once:
        it turns off or throttles a feature and nobody else approves it; resolving the incident asks
        the same way (it ends the response), unless the engine would refuse it (not declared, or
        resolved already): then the refusal says why at once."""
        from simulator.format.commands import VERBS
        from tui.screens.dialogs import CutServiceScreen

        action = self.live().scenario.action(command.action)
        consequence = self.cut_consequence(command.action)
        view = self.live().view
        if command.action == "resolve" and view.declared_at is not None and view.resolved_at is None:
            title, consequence = VERBS["resolve"].title, self.resolve_consequence()
        elif action is None or not consequence or (action.approval and action.approval.value != command.role):
            await self.submit(command)
            return
        else:
            title = action.title

        async def confirmed(yes: bool | None) -> None:
            if yes:
                await self.submit(command)

        self.push_screen(CutServiceScreen(f"{short_role(command.role)}: {title}?", consequence), confirmed)

    def resolve_consequence(self) -> str:
        """What resolving means, said before it is done (one Enter used to resolve, straight after
        declaring): the response is over from now on, and harm still flowing costs points."""
        view = self.live().view
        stages = f"{len(view.stages_done)} containment stage(s) done" if view.stages_done else \
            "no containment stage done yet"
        return (f"Resolving declares the response over at {clock(self.sim_now())} ({stages}): the score "
                "counts the incident resolved from then, resolving while harm continues costs points, "
                "and harm rising again counts as a resurgence.")

    def cut_consequence(self, action_id: str) -> str:
        """What taking (or approving) ``action_id`` cuts, in words; empty when it cuts no service."""
        from tui.widgets.actions import cut_consequence, service_cuts

        action = self.live().scenario.action(action_id)
        cuts = service_cuts(action, self.live().scenario) if action is not None else []
        return cut_consequence(action, cuts) if action is not None and cuts else ""

    async def facilitate(self, action: str) -> None:
        """The white cell's list: fire a scripted inject, send an ad-hoc one, steer the clock, end."""
        from simulator.format.commands import AdhocParams, Command
        from tui.screens.dialogs import InjectPickerScreen, ParamsScreen

        if action == "fire_inject":
            async def fire(inject: str | None) -> None:
                if inject is not None:
                    await self.submit(Command(role=FACILITATOR, action="fire_inject",
                                              params={"inject": inject}))

            fired = {i.inject for i in self.live().view.injects}
            self.push_screen(InjectPickerScreen(self.live().scenario, fired), fire)
        elif action == "adhoc_inject":
            async def send(params: dict[str, object] | None) -> None:
                if params is not None:
                    await self.submit(Command(role=FACILITATOR, action="adhoc_inject", params=params))

            self.push_screen(ParamsScreen("Ad-hoc inject", FACILITATOR, AdhocParams, self.roles_in_play()),
                             send)
        elif action == "toggle_clock":
            await self.action_toggle_clock()
        elif action == "next_inject":
            await self.action_next_inject()
        elif action == "end_drill":
            await self.action_end_drill()

    async def on_chat_panel_send_requested(self, message: ChatPanel.SendRequested) -> None:
        """A war-room or direct message, sent as the acting role (the ``message`` verb, journaled)."""
        from simulator.format.commands import Command

        await self.submit(Command(role=self.role, action="message",
                                  params={"text": message.text, "to": message.to}))

    def on_action_panel_role_chosen(self, message: ActionPanel.RoleChosen) -> None:
        """The role tabs changed who is acting."""
        self.role = message.role
        self.render_view()

    async def on_people_panel_care_requested(self, message: PeoplePanel.CareRequested) -> None:
        """Rotate or rest a responder, as the acting role."""
        from simulator.format.commands import Command

        await self.submit(Command(role=self.role, action=message.verb, params={"target": message.target}))

    async def on_review_screen_save_requested(self, message: ReviewScreen.SaveRequested) -> None:
        """Write the journal and its after-action report (the same as ``ttx report``) beside each other;
        the history (same journal, same sha256) learns where the file is."""
        from simulator.analysis.aar import facts
        from simulator.analysis.report import render

        session = self.live()
        record = session.review()
        assert self.review is not None and record is not None
        journal = self._saved_journal or self.save_journal()
        dated = facts(record.journal, session.scenario, record.result, record.do_nothing, path=journal,
                      real_team=record.real_team)
        report = journal.with_suffix(".md")
        report.write_text(render(dated, "md"), encoding="utf-8")
        self.saved = True
        self.notify(f"{journal}\n{report}", title="Saved", timeout=10)
        if self.history is not None:
            self.run_worker(self.remember(record, dated, journal), group="history")

    def save_journal(self) -> Path:
        """Write the drill's journal into the save folder under a dated name; returns its path."""
        session = self.live()
        seed = self.review.seed if self.review is not None else "x"
        self._saved_journal = session.save(journal_name(self.save_dir, session.scenario.id, seed))
        return self._saved_journal

    async def on_review_screen_rewind_requested(self, message: ReviewScreen.RewindRequested) -> None:
        """Try again from a moment of the timeline: a new drill forked at it, paused there (what the
        drill did by itself at that moment has happened, its decisions are the players': see
        :func:`~simulator.engine.fork.fork`)."""
        forked = self.live().fork_at(message.at, self.save_dir)
        if forked is None:
            return
        await self.live().close()
        self.reset()
        self.attach(forked)
        await self.switch_screen(self.briefing())
        self.notify(f"Forked at {clock(message.at)}, before the decisions taken then; the clock waits "
                    "there (space runs it).", title="Try again", timeout=6)

    def reset(self) -> None:
        """Forget the drill that ended (before attaching its fork)."""
        if self._timer is not None:
            self._timer.stop()
        self.revealed, self.dashboard, self.review = [], None, None
        self._started_at, self._timer, self._render_pending = None, None, False
        self._prompted, self._told_lost, self.saved = set(), False, False
        self._saved_journal, self.recorded = None, None  # the branch is saved and recorded on its own
        self._closed_behind, self._discussion_hold = [], False

    def roles_in_play(self) -> list[str]:
        """Every role in the scenario (choices for role parameters)."""
        return [r.value for r in self.live().scenario.roles]

    def prompt_approvals(self) -> None:
        """Open the approval dialog for the next request this keyboard decides and has not seen."""
        if self.dialog_open():
            return
        for pending in self.live().view.pending.values():
            if pending.request not in self._prompted and self.decides(pending.approver):
                self._prompted.add(pending.request)
                self.ask_approval(pending.request, by_itself=True)
                return

    def decides(self, approver: str) -> bool:
        """Whether this keyboard holds the approver's role."""
        seat = self.live().seat
        return seat is None or seat == approver

    def ask_approval(self, request: int, by_itself: bool = False) -> None:
        """Show the typed approval dialog; its answer becomes an approve or deny command; ``by_itself``:
        the request just came (nobody pressed ``a``), so the dialog holds keys a moment."""
        from simulator.format.commands import Command
        from tui.screens.dialogs import ApprovalScreen

        pending = self.live().view.pending.get(request)
        if pending is None:
            return

        async def decided(approved: bool | None) -> None:
            if approved is not None:
                await self.submit(Command(role=pending.approver, action="approve" if approved else "deny",
                                          params={"request": request}))

        dialog = ApprovalScreen(request, pending.title, pending.by, pending.approver,
                                self.cut_consequence(pending.action))
        self.push_screen(dialog, decided)
        if by_itself:
            self.hold_keys(dialog)

    def prompt_questions(self, postponed: bool = False) -> None:
        """Open the dialog for the first question due here, unless another dialog is open (it waits).

        ``postponed``: Esc just put a question off; the next dialog says it stays open (a notice
        would cover the dialog's right half at 80×24), or a notice does when no dialog follows.
        """
        from tui.screens.discussion import POSTPONED

        question = None
        if self.dashboard is not None and self.review is None and not self.dialog_open():
            question = self.desk.next_due(self.live().view)
        if question is not None:
            self.open_question(question, POSTPONED if postponed else "", by_itself=True)
        elif postponed:
            self.notify("It stays open: w lists the open questions.", title="Answer later", timeout=4)

    def on_dashboard_screen_resumed(self, message: DashboardScreen.Resumed) -> None:
        """A dialog closed: how the questions that closed behind it came out shows now, then a
        question that waited for it opens."""
        self.call_later(self.after_dialog)

    def after_dialog(self) -> None:
        """Show each question that closed behind the dialog just closed (a dialog of its own stops
        here: closing it comes back), then open the next question due."""
        while self._closed_behind and self.review is None and not self.dialog_open():
            self.show_closed(self._closed_behind.pop(0))
        self.prompt_questions()
        self.call_later(self.release_discussion)

    def hold_for_discussion(self) -> None:
        """A question's dialog, or how one came out, opened: in the hot seat the clock waits
        until the last of them closes (at 60× a question asked at 1:58:05 closed "no answers" 15 real
        seconds later, its dialog unseen, and the closed dialogs chained on a running clock); a team
        drill's clock is the facilitator's and goes on (:meth:`hold_clock`)."""
        if not self._discussion_hold:
            self.call_next(self._hold_for_discussion)

    async def _hold_for_discussion(self) -> None:
        """Pause the clock for the discussion, unless it waits already."""
        if not self._discussion_hold:
            self._discussion_hold = await self.hold_clock()

    async def release_discussion(self) -> None:
        """Run the clock the discussion paused once no dialog is open and no question waits for one."""
        if not self._discussion_hold or self.dialog_open():
            return
        if self.dashboard is not None and self.desk.next_due(self.live().view) is not None:
            return  # its dialog opens next and keeps the clock waiting
        self._discussion_hold = False
        await self.release_clock()
        self.show_header()

    def clock_note(self) -> str:
        """What a discussion dialog says about the clock (its footer's ``space``): it waits in the hot
        seat while the dialog is open, and goes on in a team drill."""
        if self.team() is None:
            return "The drill clock waits while this dialog is open."
        return "The drill clock goes on while this dialog is open: a team drill's clock is shared."

    def open_question(self, question: QuestionSeen, notice: str = "", by_itself: bool = False) -> None:
        """The answer dialog; its answer becomes an ``answer`` command as the role asked; ``notice``:
        the dialog's line about the question before; ``by_itself``: nobody chose it from the open
        questions, so it holds keys a moment (:data:`KEY_GRACE`).

        It opens clear of notices (an action's "Done", an inject, a put-off question's "Answer
        later"): at 80×24 they covered its options and buttons, and the feed keeps what they said.
        """
        from simulator.format.commands import Command
        from tui.screens.discussion import QuestionScreen

        self.clear_notifications()
        self.desk.opened(question.question)
        notice = notice or self.desk.take_notice()
        role = self.desk.role_for(question, self.role)

        async def answered(draft: AnswerDraft | None) -> None:
            if draft is not None:
                # said before it is sent: the hot seat's answer closes the question inside submit
                self.desk.answering(question, draft.params())
                event = await self.submit(Command(role=role, action="answer", params=draft.params()))
                if event.kind == Kind.COMMAND or "already answered" in str(event.payload.get("reason")):
                    self.desk.answered.add(question.question)
                else:
                    self.desk.said.pop(question.question, None)
            self.call_later(self.prompt_questions, draft is None)

        dialog = QuestionScreen(question, role, self.sim_now(), self.sim_now, notice, can_end=self.steers(),
                                clock_note=self.clock_note())
        self.push_screen(dialog, answered)
        if by_itself:
            self.hold_keys(dialog)
        self.hold_for_discussion()

    def action_open_questions(self) -> None:
        """The open questions: Enter answers one (a player), or closes it now (the facilitator)."""
        from tui.screens.discussion import OpenQuestionsScreen

        view = self.live().view
        listed = self.desk.open_list(view)
        if not listed:
            self.notify("No question is open now.", title="Questions", timeout=3)
            return
        seat = self.live().seat
        hint = ("enter closes one now (its expected answer goes to the team)" if seat == FACILITATOR
                else "the feed (i) shows each with its answers" if seat == EVALUATOR else "enter answers one")

        def chosen(question_id: str | None) -> None:
            question = view.questions.get(question_id or "")
            if question is None:
                return
            if seat == FACILITATOR:
                self.confirm_close(question)
            elif seat == EVALUATOR:
                self.notify("An evaluator observes: o writes an observation.", title="Questions", timeout=4)
            elif question.question in self.desk.answered:
                self.notify("You have answered it; the expected answer shows when it closes.",
                            title="Answered", timeout=4)
            else:
                self.open_question(question)

        self.push_screen(OpenQuestionsScreen(listed, self.sim_now(), hint), chosen)

    def confirm_close(self, question: QuestionSeen) -> None:
        """Facilitator: close a question now, after a confirmation."""
        from simulator.format.commands import Command
        from tui.screens.dialogs import ConfirmScreen

        async def confirmed(yes: bool | None) -> None:
            if yes:
                await self.submit(Command(role=FACILITATOR, action="close_question",
                                          params={"question": question.question}))

        count = len(question.answers)
        self.push_screen(ConfirmScreen(f"Close “{question.prompt}” now ({count} answer(s))? The team then "
                                       "sees the expected answer and why."), confirmed)

    def action_observe(self) -> None:
        """Facilitator or evaluator: write a time-stamped observation against an objective."""
        from simulator.format.commands import Command
        from tui.screens.discussion import ObservationScreen

        session = self.live()
        seat = session.seat
        if seat not in OBSERVERS:
            return

        async def written(draft: ObservationDraft | None) -> None:
            if draft is not None:
                await self.submit(Command(role=seat, action="observe", params=draft.params()))

        objectives = list(session.scenario.objectives)
        self.push_screen(ObservationScreen(objectives, self.sim_now(), seat), written)

    # --- key actions ---------------------------------------------------------------------

    async def action_toggle_clock(self) -> None:
        """Pause or run the clock."""
        session = self.live()
        await (session.resume() if session.clock.paused else session.pause())
        self.show_header()

    async def action_speed(self, speed: float) -> None:
        """Run at ``speed`` sim seconds per wall second; a paused clock stays paused (space runs it)."""
        session = self.live()
        await session.set_speed(float(speed))
        if session.clock.paused:
            self.notify(f"Speed {float(speed):g}× — the clock stays paused; space runs it.", title="Clock",
                        timeout=3)
        self.show_header()

    async def action_next_inject(self) -> None:
        """Jump the clock to the next inject or question asked (an open question keeps its own time)."""
        await self.live().next_inject()
        self.render_view()

    def action_next_role(self) -> None:
        """Hand the keyboard to the next role in play (hot seat)."""
        roles = self.roles()
        self.role = roles[(roles.index(self.role) + 1) % len(roles)] if self.role in roles else roles[0]
        self.render_view()

    def action_compose_update(self) -> None:
        """Open the update composer (senders: the roles that may send updates)."""
        from simulator.format.commands import VERBS, Command
        from tui.screens.dialogs import ComposerScreen

        allowed = {r.value for r in VERBS["send_update"].roles}
        senders = [r for r in self.roles() if r in allowed] or self.roles()

        async def composed(draft: UpdateDraft | None) -> None:
            if draft is not None:
                await self.submit(Command(role=draft.role, action="send_update", params=draft.params()))

        self.push_screen(ComposerScreen(senders, self.role), composed)

    def action_approvals(self) -> None:
        """Reopen the dialog for the oldest pending request this keyboard decides."""
        mine = [p for p in self.live().view.pending.values() if self.decides(p.approver)]
        if not mine:
            self.notify("No request is waiting for your approval.", timeout=3)
            return
        self.ask_approval(mine[0].request)

    def action_toggle_truth(self) -> None:
        """Training toggle: show or hide the hidden harm rate among the signals."""
        self.truth_on = not self.truth_on
        self.notify("Showing the hidden truth (training mode)" if self.truth_on else "Truth hidden",
                    timeout=3)
        self.render_view()

    async def action_end_drill(self) -> None:
        """End the drill early, after a confirmation. In the hot seat the clock waits while it asks
        (at 60× the question cost two minutes of harm) and runs again on "no"."""
        from tui.screens.dialogs import ConfirmScreen

        held = await self.hold_clock()

        async def confirmed(yes: bool | None) -> None:
            if yes:
                await self.live().end()
            elif held:
                await self.release_clock()

        self.push_screen(ConfirmScreen(self.end_question()), confirmed)

    def end_question(self) -> str:
        """What ``e`` asks: a drill with a hot wash still to come goes there first, not to the review."""
        everyone = " for everyone" if self.team() is not None else ""
        if self.hot_wash_ahead():
            return (f"End the drill{everyone} now? Its hot wash comes first (the clock stops), "
                    "then the review.")
        return f"End the drill{everyone} now and go to the review?"

    def hot_wash_ahead(self) -> bool:
        """The drill has hot-wash questions and has not reached them yet: ``e`` leads there first."""
        session = self.live()
        return not session.view.hot_wash and any(q.hot_wash for q in session.scenario.questions)

    async def action_quit(self) -> None:
        """Quit; while a drill runs, or its review is unsaved, ask first (``q`` used to lose it at once)."""
        from tui.screens.dialogs import QuitScreen

        if isinstance(self.screen, QuitScreen):
            return
        question = self.quit_question()
        if question is None:
            self.exit()
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._let_go = True
                self.exit()

        self.push_screen(QuitScreen(question), answered)

    def quit_question(self) -> str | None:
        """What quitting now would lose, as the question to ask (``None``: nothing, quit at once)."""
        if self.dashboard is None or self.session is None:
            return None
        if self.review is not None:
            here = " here (the host keeps its own journal)" if self.team() is not None else ""
            return None if self.saved else (f"Quit? The drill is not saved{here} — n, then s saves the "
                                            "journal and the report first.")
        if self.team() is not None:
            again = ("the facilitator token" if self.session.seat == FACILITATOR
                     else "the evaluator token" if self.session.seat == EVALUATOR
                     else "the same code and role")
            return f"Leave the drill? It goes on without you; join again with {again} to come back."
        then = "ends it, asks its hot wash, then opens" if self.hot_wash_ahead() else "ends it and opens"
        return (f"Quit? The drill is still running and nothing is saved — n, then e {then} the review, "
                "where s saves.")

    async def action_help(self) -> None:
        """Show every key of the current screen. In the hot seat a running clock waits while the
        help is open (harm at 60× would pile up behind it) and runs again when it closes; in a team
        drill the clock is the facilitator's and goes on."""
        from tui.screens.help import HelpScreen, binding_rows

        if isinstance(self.screen, HelpScreen):
            return
        held = await self.hold_clock()
        self.push_screen(HelpScreen(binding_rows(self.screen)), callback=self._after_help if held else None)

    async def _after_help(self, _: None) -> None:
        """Run the clock the help paused."""
        await self.release_clock()

    async def hold_clock(self) -> bool:
        """Pause a running hot-seat clock while a dialog asks or explains (a team drill's clock is the
        facilitator's and goes on); returns whether it was paused here."""
        session = self.session
        hold = (session is not None and self.team() is None and self.dashboard is not None
                and not session.view.ended and not session.clock.paused)
        if hold:
            assert session is not None
            await session.pause()
        return hold

    async def release_clock(self) -> None:
        """Run the clock :meth:`hold_clock` paused, unless the drill ended meanwhile or it runs already."""
        session = self.session
        if session is not None and not session.view.ended and session.clock.paused:
            await session.resume()

    def action_toggle_theme(self) -> None:
        """Switch between the light and the dark theme."""
        toggle_theme(self)


def run_drill(session: Session | Opening, save_dir: Path | None = None,
              history: Target | None = None) -> None:
    """Play ``session`` in this terminal until the players quit (``ttx play``: a loop of its own); an
    :class:`Opening` is built once its briefing is on screen."""
    if isinstance(session, Opening):
        app = DrillApp(opening=session, save_dir=save_dir, history=history, key_grace=KEY_GRACE)
    else:
        app = DrillApp(session, save_dir=save_dir, history=history, key_grace=KEY_GRACE)
    run_until_signalled(app)


def run_until_signalled(app: DrillApp) -> None:
    """Run a hot-seat app in this terminal; SIGHUP and SIGTERM end it the ordinary way (so a drill
    under way is saved, :meth:`DrillApp.keep_cut_short`), and where it was saved is said on stderr."""
    import sys

    app.ends_on_signals, app.shutdown_grace = True, SHUTDOWN_GRACE
    app.run()
    if app._end_for_good is not None:  # shut down in time: nothing to cut short
        app._end_for_good.cancel()
    if app.cut_short is not None:
        print(cut_short_line(app), file=sys.stderr)


def cut_short_line(app: DrillApp) -> str:
    """What ``ttx play`` says after its drill was saved without being quit: where, and how to go on."""
    import math

    from simulator.engine.session import LocalSession
    from simulator.format.durations import format_duration

    assert app.cut_short is not None and app.session is not None
    view = app.session.view
    if view.ended:
        return (f"ttx play: the review was not saved when ttx play ended; the drill is kept in "
                f"{app.cut_short} (ttx report {app.cut_short} writes its report)")
    last = app.session.drill.events[-1].t if isinstance(app.session, LocalSession) else view.now
    at = format_duration(math.ceil(last))  # a fork runs through T: every decision kept
    return (f"ttx play: ended at {clock(view.now)} without being quit; the drill so far is kept in "
            f"{app.cut_short}: ttx play --from {app.cut_short} --at {at} goes on from there")


async def run_drill_async(session: Session, save_dir: Path | None = None,
                          history: Target | None = None) -> None:
    """Play an already connected ``session`` inside the running event loop (``ttx join``).

    The loop that owns a remote session's websocket runs the app too (``App.run_async``), so
    frames from the server and keys from the player are handled side by side. ``history``: the
    player's history, read for the team's last run (recorded into only if it says so).
    """
    await DrillApp(session, save_dir=save_dir, history=history, key_grace=KEY_GRACE).run_async()


def run_picker(seed: int | None = None, speed: float = 1.0, save_dir: Path | None = None,
               history: Target | None = None) -> None:
    """Open the scenario picker over the built-in library, then play the chosen drill locally."""
    from simulator.engine.session import LocalSession
    from simulator.format.loader import builtin_ids, load_scenario

    loaded = {sid: load_scenario(sid) for sid in builtin_ids()}

    def choose(scenario_id: str) -> Session:
        return LocalSession(loaded[scenario_id], seed=seed, speed=speed)

    run_until_signalled(DrillApp(choose=choose, scenarios=[x.scenario for x in loaded.values()],
                                 save_dir=save_dir, history=history, key_grace=KEY_GRACE))
