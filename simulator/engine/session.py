"""The session a drill client drives — implemented locally (engine in process) and remotely (server).

A client never touches the engine: it sends intents (:class:`Command`, clock controls) and
receives events, which it folds into its :class:`DrillView`. ``LocalSession`` is the hot seat
(``ttx play``); :class:`simulator.team.remote.RemoteSession` is one seat of a team drill
(``ttx join``). Both implement :class:`Session` in domain types only — a lobby, a link status,
notices, the drill's record for the review — so the TUI needs no wire frames and no probing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from simulator.engine.events import Event, Kind
from simulator.engine.journal import ForkPoint, Journal, write_journal

if TYPE_CHECKING:  # the engine (NumPy, SimPy) is imported when a LocalSession is built, not with the
    # protocol; the scenario format and the commands (pydantic) too, so the briefing draws first
    from simulator.engine.baseline import DoNothing
    from simulator.engine.clock import DrillClock
    from simulator.engine.drill import Drill
    from simulator.engine.historical import RealTeam
    from simulator.engine.scoring import Result
    from simulator.engine.view import DrillView
    from simulator.format.commands import Command
    from simulator.format.loader import LoadedScenario
    from simulator.format.scenario import Scenario

EventHandler = Callable[[Event], None]
ChangeHandler = Callable[[], None]

HOT_SEAT = "human"
"""The journal header's ``policy`` for a hot-seat drill (``ttx play``): people at one keyboard."""


class Link(StrEnum):
    """How this client reaches the drill."""

    LOCAL = "local"
    """The engine runs in this process (the hot seat)."""
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    """The connection dropped; the client is trying again (the header says RECONNECTING…)."""
    LOST = "lost"
    """Reconnecting was given up."""


@dataclass(frozen=True)
class SeatHolder:
    """One person in the lobby."""

    player: str
    name: str
    role: str
    connected: bool


@dataclass(frozen=True)
class LobbyState:
    """Who holds which role in a team drill, and whether the drill has started."""

    roles: tuple[str, ...]
    players: tuple[SeatHolder, ...]
    started: bool


@dataclass(frozen=True)
class Notice:
    """Something the server told this seat outside the event stream (a refusal, a warning)."""

    text: str
    title: str = "Server"
    severity: Literal["information", "warning", "error"] = "warning"
    """How a terminal notification shows it."""
    seconds: float = 6.0
    """How long a terminal shows it (longer for a problem that lasts, such as why reconnecting fails)."""


@dataclass(frozen=True)
class DrillRecord:
    """An ended drill, complete: what the after-action review and the saved journal are made of."""

    header: dict[str, Any]
    events: list[Event]
    """Every event, the hidden truth included."""
    result: Result
    do_nothing: DoNothing | None = field(default=None)
    """The do-nothing run on the same seed (``None`` when it could not be had)."""
    parent: Path | None = None
    """A fork's parent journal on this machine, to compare the branch with (``None``: no fork, or unknown)."""
    real_team: RealTeam | None = field(default=None)
    """The real team's run (the scenario's historical policy) on the same seed (``None``: none)."""

    @property
    def journal(self) -> Journal:
        """The record as a journal (what ``ttx report`` reads from a file)."""
        return Journal(self.header, self.events)


def journal_name(folder: Path, scenario_id: str, seed: object) -> Path:
    """Where a hot-seat drill's journal is saved in ``folder``: a dated name
    (``ttx-<scenario>-seed<seed>-<YYYYmmdd-HHMMSS>.jsonl``) that no file there has yet, so saving a
    branch never writes over its parent or another drill saved in the same second."""
    stem = f"ttx-{scenario_id}-seed{seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = folder / f"{stem}.jsonl", 1
    while path.exists() or path.with_suffix(".md").exists():
        n += 1
        path = folder / f"{stem}-{n}.jsonl"
    return path


class Session(Protocol):
    """What a drill client needs, wherever the engine runs."""

    scenario: Scenario
    seat: str | None
    """The role this client plays; ``None`` for the hot seat (all roles); ``"facilitator"``."""
    view: DrillView
    clock: DrillClock
    """The client's picture of the drill clock (authoritative only in a local session)."""
    team: bool
    """Whether this is one seat of a team drill (lobby, chat, a server that may drop)."""
    lobby: LobbyState | None
    """A team drill's lobby (``None`` in the hot seat, or before the first lobby arrived)."""
    join_code: str | None
    """The join code, for the facilitator to hand out (``None`` for everyone else)."""
    fork: ForkPoint | None
    """Where this drill branched from a journal (``ttx play --from``), or ``None``."""

    @property
    def link(self) -> Link:
        """How this client reaches the drill right now."""
        ...

    @property
    def started(self) -> bool | None:
        """Whether the drill's clock has been started (``None``: not known yet)."""
        ...

    def subscribe(self, handler: EventHandler) -> None:
        """Call ``handler`` with every event this seat receives, after the view has folded it."""
        ...

    def on_change(self, handler: ChangeHandler) -> None:
        """Call ``handler`` when the lobby, the clock, the link or the notices change."""
        ...

    def take_notices(self) -> list[Notice]:
        """The notices that arrived since the last call (each is given once)."""
        ...

    def review(self) -> DrillRecord | None:
        """The ended drill, complete, once everything the review needs is here; ``None`` before."""
        ...

    def save(self, path: str | Path) -> Path:
        """Write this drill's journal to ``path`` (the whole drill once it has ended)."""
        ...

    def fork_at(self, at: float, folder: Path) -> Session | None:
        """A new hot-seat drill forked from this one at ``at`` ("try again from here": see
        :func:`~simulator.engine.fork.fork`);
        ``None`` where that is not offered (a team seat: the review belongs to the team)."""
        ...

    async def start(self) -> None:
        """Begin the drill (the clock starts running)."""
        ...

    async def submit(self, command: Command) -> Event:
        """Send an intent; returns the accepted ``command`` event or a ``refused`` one."""
        ...

    async def pause(self) -> None:
        """Stop the clock."""
        ...

    async def resume(self) -> None:
        """Let the clock run."""
        ...

    async def set_speed(self, speed: float) -> None:
        """Change the clock's speed (sim seconds per wall second)."""
        ...

    async def next_inject(self) -> None:
        """Jump forward to the next inject or question asked (or the end); an open question keeps its
        own closing time."""
        ...

    async def end(self) -> None:
        """End the drill now; everyone lands on the review."""
        ...

    async def close(self) -> None:
        """Release the session."""
        ...


class LocalSession:
    """The hot seat: engine, clock and pacer in this process, every role at one keyboard."""

    team = False
    lobby: LobbyState | None = None
    join_code: str | None = None

    def __init__(self, loaded: LoadedScenario, seed: int | None = None, speed: float = 1.0,
                 seat: str | None = None, drill: Drill | None = None) -> None:
        """A hot-seat drill of ``loaded`` on ``seed``, or going on from ``drill`` (a fork)."""
        from simulator.engine.clock import DrillClock, Pacer
        from simulator.engine.runner import new_drill
        from simulator.engine.view import DrillView

        self.loaded = loaded
        self.scenario = loaded.scenario
        self.seat = seat
        self.drill: Drill = new_drill(loaded, seed) if drill is None else drill
        self.fork = self.drill.fork
        self.view = DrillView(seat=seat)
        self.clock = DrillClock(speed=speed, sim=self.drill.now)
        self.result: Result | None = None
        self.saved: Path | None = None
        """Where :meth:`save` last wrote the journal."""
        self.parent: Path | None = None
        """The parent journal of a drill forked with :meth:`fork_at`."""
        self._started = False
        self._handlers: list[EventHandler] = []
        self._pending: list[Event] = []
        self.drill.listeners.append(self._pending.append)
        self._pending.extend(self.drill.events)
        self.pacer = Pacer(self.drill, self.clock, on_advance=self._deliver)
        self._deliver()

    @property
    def link(self) -> Link:
        """Always local."""
        return Link.LOCAL

    @property
    def started(self) -> bool:
        """Whether :meth:`start` has been called."""
        return self._started

    @property
    def journal_header(self) -> dict[str, object]:
        """Header for this session's journal."""
        return self.drill.header(policy=HOT_SEAT)

    def save(self, path: str | Path) -> Path:
        """Write the journal of this drill so far (all events, the hidden truth included) to ``path``."""
        write_journal(path, self.journal_header, self.drill.events)
        self.saved = Path(path)
        return self.saved

    def fork_at(self, at: float, folder: Path) -> LocalSession:
        """This drill forked at ``at``; its journal is saved in ``folder`` first if it was not."""
        from simulator.engine.fork import fork
        from simulator.engine.journal import read_journal

        if self.saved is None or not self.saved.is_file():
            self.save(journal_name(folder, self.scenario.id, self.drill.seed))
        assert self.saved is not None
        branch = fork(read_journal(self.saved), self.loaded, at, self.saved)
        forked = LocalSession(self.loaded, speed=self.clock.speed, seat=self.seat, drill=branch)
        forked.parent = self.saved
        return forked

    def review(self) -> DrillRecord | None:
        """The whole drill, its do-nothing baseline and the real team's run, once it has ended and been
        scored."""
        from simulator.engine import historical
        from simulator.engine.baseline import for_drill
        from simulator.engine.scoring import Result

        if self.result is None:
            return None
        events = list(self.drill.events)
        recorded = next(e.payload for e in reversed(events) if e.kind == Kind.RESULT)
        idle = for_drill(self.scenario, self.drill.seed, self.drill.now, key=self.loaded.content_hash)
        real = historical.for_drill(self.loaded, self.drill.seed, self.drill.now)
        return DrillRecord(dict(self.journal_header), events, Result.from_dict(recorded), idle, self.parent,
                           real_team=real)

    def subscribe(self, handler: EventHandler) -> None:
        self._handlers.append(handler)

    def on_change(self, handler: ChangeHandler) -> None:
        """Nothing outside the event stream changes in the hot seat."""

    def take_notices(self) -> list[Notice]:
        """The hot seat has no server to send notices."""
        return []

    def _deliver(self) -> None:
        """Fold new events into the view, score a finished drill, then tell subscribers."""
        if self.drill.finished and self.result is None:
            from simulator.engine.runner import finish

            self.result = finish(self.drill, self.loaded, HOT_SEAT)
        batch, self._pending[:] = list(self._pending), []
        for event in batch:
            self.view.apply(event)
            if self.seat is None and event.kind == Kind.RESULT:
                self.view.result = dict(event.payload)
        self.view.now = max(self.view.now, self.drill.now)
        for event in batch:
            for handler in self._handlers:
                handler(event)

    async def start(self) -> None:
        self._started = True
        self.clock.resume()
        self.pacer.start()
        self.pacer.wake()

    async def submit(self, command: Command) -> Event:
        """Take a command now; an accepted answer closes its question at once (one player answers
        for every role at the hot seat)."""
        from simulator.format.commands import ANSWER

        self.pacer.sync()
        event = self.drill.submit(command)
        if command.action == ANSWER.id and event.kind == Kind.COMMAND:
            from simulator.engine.runner import close_answered

            self.drill.submit(close_answered(str(command.params["question"])))
        self.pacer.hold()
        self._deliver()
        self.pacer.wake()
        return event

    async def pause(self) -> None:
        self.clock.pause()
        self.pacer.sync()
        self.pacer.wake()

    async def resume(self) -> None:
        self.clock.resume()
        self.pacer.wake()

    async def set_speed(self, speed: float) -> None:
        self.pacer.sync()
        self.clock.set_speed(speed)
        self.pacer.wake()

    async def next_inject(self) -> None:
        """Advance event by event until a new inject arrives, a question is asked or the drill ends
        (:meth:`Drill.skip_to_next_inject`)."""
        self.pacer.sync()
        self.drill.skip_to_next_inject()
        self.clock.jump(self.drill.now)
        self._deliver()
        self.pacer.wake()

    async def end(self) -> None:
        from simulator.format.commands import Command

        await self.submit(Command(role="facilitator", action="end_drill"))

    async def close(self) -> None:
        await self.pacer.stop()
