"""Real-time pacing: sim time anchored to the wall clock, pausable and speed-changeable, driven from asyncio.

Not ``simpy.rt.RealtimeEnvironment``: its ``step()`` blocks the event loop with ``time.sleep``
and pause/resume drifts. Here a plain environment is advanced to "now" whenever the loop wakes:
at the next scheduled sim event, on a speed change, or when a player acts.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # a clock needs no engine imported: the drill is handed in
    from simulator.engine.drill import Drill

SPEEDS = (1.0, 10.0, 60.0)
"""Speeds a drill can run at (sim seconds per wall second)."""


class DrillClock:
    """Maps wall time to sim time. Starts paused at ``sim`` seconds."""

    def __init__(self, speed: float = 1.0, sim: float = 0.0,
                 wall: Callable[[], float] = time.monotonic) -> None:
        self._wall = wall
        self.speed = speed
        """Sim seconds per wall second."""
        self.paused = True
        self._anchor_sim = sim
        self._anchor_wall = wall()

    def now(self) -> float:
        """Current sim time."""
        if self.paused:
            return self._anchor_sim
        return self._anchor_sim + (self._wall() - self._anchor_wall) * self.speed

    def _reanchor(self) -> None:
        self._anchor_sim, self._anchor_wall = self.now(), self._wall()

    def pause(self) -> None:
        """Stop sim time."""
        self._reanchor()
        self.paused = True

    def resume(self) -> None:
        """Let sim time run again from where it stopped."""
        self._reanchor()
        self.paused = False

    def set_speed(self, speed: float) -> None:
        """Change speed without a jump in sim time."""
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._reanchor()
        self.speed = speed

    def jump(self, sim: float) -> None:
        """Move sim time forward to ``sim`` (never backward)."""
        self._anchor_sim, self._anchor_wall = max(self.now(), sim), self._wall()

    def set(self, sim: float, speed: float, paused: bool) -> None:
        """Take over another clock's state (a remote client mirroring the server's clock)."""
        self.speed, self.paused = speed, paused
        self._anchor_sim, self._anchor_wall = sim, self._wall()

    def wall_until(self, sim: float) -> float:
        """Wall seconds until sim time reaches ``sim`` (infinite while paused)."""
        if self.paused:
            return math.inf
        return max(0.0, (sim - self.now()) / self.speed)


class Pacer:
    """Advances a drill to the clock's "now" from an asyncio task; wake it after any change.

    ``on_advance`` is called after each advance (for views and broadcasting).
    """

    def __init__(self, drill: Drill, clock: DrillClock, on_advance: Callable[[], None] | None = None,
                 max_sleep: float = 0.5) -> None:
        self.drill = drill
        self.clock = clock
        self.on_advance = on_advance
        self.max_sleep = max_sleep
        """Longest wait between advances, so the shown clock keeps moving (wall seconds)."""
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._holding = False
        """Whether the clock is paused because the drill is held (a pausing question, the hot wash)."""

    def start(self) -> None:
        """Start the pacing task on the running loop."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the pacing task."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def wake(self) -> None:
        """Re-plan now (after pause, resume, a speed change, a jump or a command)."""
        self._wake.set()

    def sync(self) -> float:
        """Advance the drill to the clock's now and return that sim time."""
        self.drill.advance_to(self.clock.now())
        self.hold()
        if self.on_advance is not None:
            self.on_advance()
        return self.drill.now

    def hold(self) -> None:
        """Stop the clock at the drill's time while the drill is held; let it run again after."""
        if self.drill.held and not self.clock.paused:
            self.clock.set(self.drill.now, self.clock.speed, paused=True)
            self._holding = True
        elif self._holding and not self.drill.held:
            self._holding = False
            if self.clock.paused:
                self.clock.resume()

    async def _run(self) -> None:
        while not self.drill.finished:
            self.sync()
            if self.drill.finished:
                break
            upcoming = self.drill.next_event_time()
            delay = min(self.max_sleep, self.clock.wall_until(upcoming))
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
        self.sync()
