"""``ttx watch``: a recorded drill played back in the dashboard, for the debrief.

The same app as a live drill, on a :class:`~simulator.engine.playback.Playback` session: the hidden
truth on, the clock at 1×/10×/60×, ``[``/``]`` (and ``n``) jump between decisions, injects and
alerts, ``g`` seeks to a time, and a timeline under the dashboard highlights where the playback is.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, OptionList
from textual.widgets.option_list import Option

from simulator.engine.playback import Playback, Point
from simulator.format.durations import clock, parse_duration
from tui.app import DrillApp
from tui.screens.briefing import BriefingScreen

POINT_STYLE = {"decision": "bold $text-accent", "inject": "bold", "alert": "bold $text-warning",
               "in effect": "$text-success", "stage": "$text-success",
               "question": "bold $text-primary", "end": "dim"}
"""How each kind of point is drawn in the timeline."""


def point_row(point: Point) -> Content:
    """One timeline row: time, kind, what happened."""
    return Content.assemble((clock(point.t), "dim"), "  ", (f"{point.kind:<9}", POINT_STYLE[point.kind]),
                            " ", point.text)


class WatchTimeline(OptionList):
    """Every point of the recording; the highlighted row is where the playback stands. Enter seeks."""

    def __init__(self, points: list[Point]) -> None:
        options = [Option(point_row(p), id=str(i)) for i, p in enumerate(points)]
        super().__init__(*options, id="watch-timeline")
        self.border_title = "Timeline ([ ] jump, enter seeks, g goes to a time)"


class SeekScreen(ModalScreen[float | None]):
    """Ask for a sim time to seek to (``1h10m``, ``45m``)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="seek.cancel")]

    def __init__(self, end: float) -> None:
        super().__init__()
        self.end = end

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Go to a time between 0:00:00 and {clock(self.end)} (e.g. 45m, 1h10m):",
                        classes="dialog-title")
            yield Input(placeholder="1h10m", id="seek-time")
            yield Label("", id="seek-error")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Type the time straight away."""
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Seek, or say what a time looks like."""
        try:
            t = parse_duration(event.value)
        except ValueError:
            self.query_one("#seek-error", Label).update("Write a time like 45m or 1h10m.")
            return
        self.dismiss(t)

    def action_cancel(self) -> None:
        """Close without seeking."""
        self.dismiss(None)


NOT_FOR_RECORDINGS = frozenset({"observe", "open_questions", "compose_update", "approvals", "next_role"})
"""App actions that decide a live drill: a recording hides them (its decisions were taken). ``e``
stays: in a recording it goes to the end, its review."""


class WatchApp(DrillApp):
    """A recorded drill in the dashboard, with seeking."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *DrillApp.BINDINGS,
        Binding("right_square_bracket", "jump(1)", "Next point", id="watch.next", key_display="]"),
        Binding("left_square_bracket", "jump(-1)", "Previous", id="watch.previous", key_display="["),
        Binding("g", "seek", "Go to time", id="watch.seek"),
    ]

    def __init__(self, playback: Playback) -> None:
        super().__init__(playback)
        self.playback = playback
        self.timeline: WatchTimeline | None = None

    def watching(self) -> bool:
        """Still on the recording (not on a drill forked from it with ``w`` on the review)."""
        return self.session is self.playback

    def briefing(self) -> BriefingScreen:
        """The recording's briefing: the scenario, and the playback's keys (not the hot seat's)."""
        if not self.watching():
            return super().briefing()
        return BriefingScreen(self.playback.scenario, self.playback.seat, recording=True)

    def quit_question(self) -> str | None:
        """A recording is a file already: ``q`` closes it at once, on the dashboard or its review
        (a drill forked from it asks as any drill does)."""
        return None if self.watching() else super().quit_question()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Jumping and seeking belong to the recording; what steers or decides a drill does not (its
        footer listed "o Observe" and "w Questions", which a recording cannot take)."""
        if action in ("jump", "seek"):
            return self.watching()
        if action in NOT_FOR_RECORDINGS and self.watching():
            return False
        return super().check_action(action, parameters)

    def reset(self) -> None:
        """Leaving the recording for a fork of it: no timeline any more."""
        super().reset()
        self.timeline = None

    async def enter_dashboard(self) -> None:
        """The dashboard, with the timeline under it (while watching the recording)."""
        await super().enter_dashboard()
        if self.dashboard is not None and self.timeline is None and self.watching():
            self.timeline = WatchTimeline(self.playback.points)
            await self.dashboard.mount(self.timeline, before=self.dashboard.query_one(Footer))
            self.show_position()

    def render_view(self) -> None:
        """Redraw the dashboard, then move the timeline's highlight to where the playback stands."""
        super().render_view()
        self.show_position()

    def show_position(self) -> None:
        """Highlight the last point at or before the playback time."""
        if self.timeline is None or not self.timeline.is_attached or not self.watching():
            return
        index = self.playback.current()
        if index is not None and self.timeline.highlighted != index:
            self.timeline.highlighted = index

    def action_jump(self, direction: int) -> None:
        """Jump to the next or previous decision, inject or alert."""
        if self.playback.jump(int(direction)) is None:
            self.notify("No further point that way.", timeout=2)

    def action_seek(self) -> None:
        """Ask for a time and go there."""
        def chosen(t: float | None) -> None:
            if t is not None:
                self.playback.seek(t)

        self.push_screen(SeekScreen(self.playback.stops_at), chosen)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a timeline row seeks to it."""
        if event.option_list is self.timeline and event.option.id is not None:
            self.playback.seek(self.playback.points[int(event.option.id)].t)


def run_watch(playback: Playback) -> None:
    """Play ``playback`` in this terminal until the viewer quits."""
    WatchApp(playback).run()
