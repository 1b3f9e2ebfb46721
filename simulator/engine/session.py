"""The session interface a client drives — implemented locally (engine in process) and remotely (server).

A client never touches the engine: it sends intents (:class:`Command`, clock controls) and
receives events, which it folds into its :class:`DrillView`. ``LocalSession`` is the hot seat
(``ttx play``); the multiplayer client implements the same protocol over a websocket.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from simulator.engine.clock import DrillClock, Pacer
from simulator.engine.drill import Drill
from simulator.engine.events import Event, Kind
from simulator.engine.journal import write_journal
from simulator.engine.runner import finish, new_drill
from simulator.engine.scoring import Result
from simulator.engine.view import DrillView
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario
from simulator.format.scenario import Scenario

EventHandler = Callable[[Event], None]


class Session(Protocol):
    """What a drill client needs, wherever the engine runs."""

    scenario: Scenario
    seat: str | None
    """The role this client plays; ``None`` for the hot seat (all roles); ``"facilitator"``."""
    view: DrillView
    clock: DrillClock
    """The client's picture of the drill clock (authoritative only in a local session)."""

    def subscribe(self, handler: EventHandler) -> None:
        """Call ``handler`` with every event this seat receives, after the view has folded it."""
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
        """Jump forward to the next inject (or the end)."""
        ...

    async def end(self) -> None:
        """End the drill now; everyone lands on the review."""
        ...

    async def close(self) -> None:
        """Release the session."""
        ...


class LocalSession:
    """The hot seat: engine, clock and pacer in this process, every role at one keyboard."""

    def __init__(self, loaded: LoadedScenario, seed: int | None = None, speed: float = 1.0,
                 seat: str | None = None) -> None:
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.seat = seat
        self.drill: Drill = new_drill(loaded, seed)
        self.view = DrillView(seat=seat)
        self.clock = DrillClock(speed=speed)
        self.result: Result | None = None
        self._handlers: list[EventHandler] = []
        self._pending: list[Event] = []
        self.drill.listeners.append(self._pending.append)
        self._pending.extend(self.drill.events)
        self.pacer = Pacer(self.drill, self.clock, on_advance=self._deliver)
        self._deliver()

    @property
    def journal_header(self) -> dict[str, object]:
        """Header for this session's journal."""
        return self.drill.header(policy="human")

    def save_journal(self, path: str | Path) -> Path:
        """Write the journal of this drill so far (all events, the hidden truth included) to ``path``."""
        write_journal(path, self.journal_header, self.drill.events)
        return Path(path)

    def subscribe(self, handler: EventHandler) -> None:
        self._handlers.append(handler)

    def _deliver(self) -> None:
        """Fold new events into the view, score a finished drill, then tell subscribers."""
        if self.drill.finished and self.result is None:
            self.result = finish(self.drill, self.loaded, "human")
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
        self.clock.resume()
        self.pacer.start()
        self.pacer.wake()

    async def submit(self, command: Command) -> Event:
        self.pacer.sync()
        event = self.drill.submit(command)
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
        """Advance event by event until a new inject arrives or the drill ends."""
        self.pacer.sync()
        seen = len(self.drill.events)
        while not self.drill.finished:
            self.drill.advance_to(min(self.drill.next_event_time() + 0.001, self.scenario.duration))
            if any(e.kind == Kind.INJECT for e in self.drill.events[seen:]):
                break
            seen = len(self.drill.events)
        self.clock.jump(self.drill.now)
        self._deliver()
        self.pacer.wake()

    async def end(self) -> None:
        await self.submit(Command(role="facilitator", action="end_drill"))

    async def close(self) -> None:
        await self.pacer.stop()
