"""Watching a recorded drill: its journal played back on a clock, the hidden truth on, nothing to decide.

``ttx watch JOURNAL`` puts a :class:`Playback` where a live drill's session would be: the dashboard
folds the journal's events as the playback clock passes them, can run at 1×/10×/60×, pause, seek
to any time and jump between the moments worth discussing (decisions, injects, alerts). Seeking
back folds the view again from the start, so what the screen shows at T is always exactly what a
facilitator saw at T. Decisions are refused: a recording cannot change (fork it to try another).
"""

from __future__ import annotations

import asyncio
import contextlib
from bisect import bisect_right
from dataclasses import dataclass
from pathlib import Path

from simulator.engine import historical
from simulator.engine.baseline import for_drill
from simulator.engine.clock import DrillClock
from simulator.engine.events import Event, Kind
from simulator.engine.journal import ForkPoint, Journal, write_journal
from simulator.engine.payloads import describe
from simulator.engine.scoring import Result
from simulator.engine.session import (
    ChangeHandler,
    DrillRecord,
    EventHandler,
    Link,
    LobbyState,
    Notice,
    Session,
)
from simulator.engine.view import DrillView
from simulator.format.commands import Command
from simulator.format.durations import clock
from simulator.format.loader import LoadedScenario
from simulator.format.taxonomy import FACILITATOR

POINT_KINDS = {Kind.COMMAND: "decision", Kind.INJECT: "inject", Kind.ALERT: "alert",
               Kind.ACTION_EFFECTIVE: "in effect", Kind.STAGE_DECLARED: "stage",
               Kind.QUESTION_ASKED: "question", Kind.DRILL_ENDED: "end"}
"""Event kinds a watcher can jump between, and what to call them."""

FRAME = 0.25
"""Wall seconds between playback steps while running."""


@dataclass(frozen=True)
class Point:
    """A moment worth jumping to: a decision, an inject, an alert, an action taking effect, a
    question asked, the end."""

    t: float
    seq: int
    kind: str
    text: str


class Playback:
    """A recorded drill as a read-only session: a clock over the journal's events."""

    team = False
    lobby: LobbyState | None = None
    join_code: str | None = None

    def __init__(self, journal: Journal, loaded: LoadedScenario, source: str | Path,
                 speed: float = 10.0) -> None:
        self.journal, self.loaded, self.source = journal, loaded, Path(source)
        self.scenario = loaded.scenario
        self.seat: str | None = FACILITATOR
        self.fork: ForkPoint | None = None
        """A recording plays from its start, whatever it branched from."""
        self.events = [e for e in journal.events if e.kind != Kind.RESULT]
        self.times = [e.t for e in self.events]
        self.stops_at = self.times[-1] if self.times else 0.0
        """Where the recording stops (before the scenario's end for a drill cut short)."""
        results = [e for e in journal.events if e.kind == Kind.RESULT]
        self.result = Result.from_dict(results[-1].payload) if results else None
        self.points = points_of(self.events)
        self.clock = DrillClock(speed=speed)
        self.view = DrillView(seat=self.seat)
        self.shown = 0
        """How many of :attr:`events` the view has folded."""
        self._handlers: list[EventHandler] = []
        self._changes: list[ChangeHandler] = []
        self._notices: list[Notice] = []
        self._task: asyncio.Task[None] | None = None

    # --- the Session protocol -------------------------------------------------------------

    @property
    def link(self) -> Link:
        """A recording is local."""
        return Link.LOCAL

    @property
    def started(self) -> bool:
        """A recording has always started."""
        return True

    def subscribe(self, handler: EventHandler) -> None:
        self._handlers.append(handler)

    def on_change(self, handler: ChangeHandler) -> None:
        """``handler`` runs after a seek (the view was folded again) and when the recording ends."""
        self._changes.append(handler)

    def take_notices(self) -> list[Notice]:
        notices, self._notices = self._notices, []
        return notices

    def review(self) -> DrillRecord | None:
        """The drill's record once playback has reached the end of a scored journal."""
        if self.result is None or self.shown < len(self.events):
            return None
        idle = for_drill(self.scenario, self.result.seed, self.stops_at, key=self.loaded.content_hash)
        point = ForkPoint.from_header(self.journal.header)
        parent = self.source.with_name(point.parent) if point is not None else None
        real = historical.for_drill(self.loaded, self.result.seed, self.stops_at)
        return DrillRecord(dict(self.journal.header), list(self.journal.events), self.result, idle,
                           parent if parent is not None and parent.is_file() else None, real_team=real)

    def save(self, path: str | Path) -> Path:
        """Write the recording (unchanged) to ``path``."""
        write_journal(path, self.journal.header, self.journal.events)
        return Path(path)

    def fork_at(self, at: float, folder: Path) -> Session:
        """The recording forked at ``at``, to play from there at this keyboard."""
        from simulator.engine.fork import fork
        from simulator.engine.session import LocalSession

        forked = LocalSession(self.loaded, drill=fork(self.journal, self.loaded, at, self.source))
        forked.parent = self.source
        return forked

    async def start(self) -> None:
        self.clock.resume()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._play())

    async def submit(self, command: Command) -> Event:
        """Refused: a recording's decisions are what they were."""
        reason = (f"this is a recording of {self.source.name}; to try another decision, fork it: "
                  f"ttx play --from {self.source.name} --at {clock(self.clock.now())}")
        return Event(t=self.view.now, seq=0, kind=Kind.REFUSED, actor=command.role,
                     payload={"action": command.action, "params": command.params, "reason": reason},
                     to=(command.role,))

    async def pause(self) -> None:
        self.clock.pause()

    async def resume(self) -> None:
        if self.clock.now() >= self.stops_at:
            self.seek(0.0)
        self.clock.resume()

    async def set_speed(self, speed: float) -> None:
        self.clock.set_speed(speed)

    async def next_inject(self) -> None:
        """Jump to the next moment worth discussing (decision, inject, alert, question asked …)."""
        self.jump(+1)

    async def end(self) -> None:
        """Jump to the end of the recording."""
        self.seek(self.stops_at)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # --- watching -------------------------------------------------------------------------

    def seek(self, t: float) -> None:
        """Show the drill as it stood at sim time ``t`` (clamped to the recording); the clock keeps
        running or stays paused."""
        t = min(max(t, 0.0), self.stops_at)
        if t < self.view.now or t < self.clock.now():
            self.view, self.shown = DrillView(seat=self.seat), 0
        self.clock.set(t, self.clock.speed, self.clock.paused)
        self._fold_to(t, tell=False)
        self._changed()

    def jump(self, direction: int) -> Point | None:
        """Seek to the next (``+1``) or previous (``-1``) point; ``None`` when there is none."""
        now = self.clock.now()
        if direction > 0:
            target = next((p for p in self.points if p.t > now + 1e-6), None)
        else:
            target = next((p for p in reversed(self.points) if p.t < now - 1e-6), None)
        if target is not None:
            self.seek(target.t)
        return target

    def current(self) -> int | None:
        """Index in :attr:`points` of the last point at or before the playback time."""
        index = bisect_right([p.t for p in self.points], self.clock.now()) - 1
        return index if index >= 0 else None

    def _fold_to(self, t: float, tell: bool = True) -> None:
        upto = bisect_right(self.times, t)
        batch = self.events[self.shown:upto]
        for event in batch:
            self.view.apply(event)
        self.shown = upto
        self.view.now = max(self.view.now, min(t, self.stops_at))
        if self.shown == len(self.events) and self.result is not None:
            self.view.result = self.result.to_dict()
            self.view.ended = True
        if tell:
            for event in batch:
                for handler in self._handlers:
                    handler(event)

    async def _play(self) -> None:
        while True:
            now = min(self.clock.now(), self.stops_at)
            self._fold_to(now)
            if now >= self.stops_at and not self.clock.paused:
                self.clock.set(self.stops_at, self.clock.speed, paused=True)
                if self.result is None:
                    self._notices.append(Notice(f"The recording stops at {clock(self.stops_at)} (a drill cut "
                                                "short, or a crash): nothing after it was journaled.",
                                                title="End of the recording", severity="information"))
                self._changed()
            await asyncio.sleep(FRAME)

    def _changed(self) -> None:
        for handler in self._changes:
            handler()


NOT_OUTCOMES = frozenset({Kind.COMMAND, Kind.TICK, Kind.HARM})
"""Event kinds that are never what a command did (the next command, the clock's readings)."""


def decision_text(events: list[Event], index: int) -> str:
    """A command as the review's timeline words it: what it did (the event the engine wrote right
    after it: ``ic answered who-pulls-the-bot: ic (50% sure)``, ``escalated to exec``), with who did it
    in front when that does not already say; the bare command (``ic: answer``) when nothing followed."""
    command = events[index]
    after = events[index + 1] if index + 1 < len(events) else None
    if after is None or after.kind in NOT_OUTCOMES or after.t != command.t:
        return describe(command)
    text = describe(after)
    actor = command.actor or ""
    return text if not actor or text.startswith(actor + " ") else f"{actor}: {text}"


def points_of(events: list[Event]) -> list[Point]:
    """The moments a watcher can jump between, in order."""
    out: list[Point] = []
    for i, e in enumerate(events):
        kind = POINT_KINDS.get(e.kind)
        if kind is None:
            continue
        p = e.payload
        if kind == "decision":
            out.append(Point(e.t, e.seq, kind, decision_text(events, i)))
            continue
        text = {"inject": str(p.get("subject", p.get("inject"))),
                "alert": f"alert: {p.get('title', p.get('signal'))}", "in effect": str(p.get("title", "")),
                "stage": f"stage {p.get('stage')} declared done",
                "question": f"question: {p.get('prompt', p.get('question'))}", "end": "drill ended"}[kind]
        out.append(Point(e.t, e.seq, kind, text))
    return out
