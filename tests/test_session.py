"""The hot-seat session and its real-time clock: sim time follows the wall clock, pauses, speeds up."""

from __future__ import annotations

import asyncio

from simulator.engine.clock import DrillClock
from simulator.engine.drill import Drill
from simulator.engine.events import Kind
from simulator.engine.session import LocalSession
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario
from tests.conftest import end_through_hot_wash


class FakeWall:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_clock_is_paused_until_resumed_and_keeps_sim_time_across_pauses() -> None:
    wall = FakeWall()
    clock = DrillClock(speed=10.0, wall=wall)
    wall.t += 5
    assert clock.now() == 0.0
    clock.resume()
    wall.t += 3
    assert clock.now() == 30.0
    clock.pause()
    wall.t += 50
    assert clock.now() == 30.0
    clock.resume()
    clock.set_speed(60.0)
    wall.t += 1
    assert clock.now() == 90.0


async def test_local_session_runs_in_real_time_and_applies_commands_at_the_current_sim_time(
        flagship: LoadedScenario) -> None:
    """At 600× sim time runs on while the wall clock does; a command lands at the sim time it came at
    (bounded by the wall time slept and the clock read after, not by a guess at how fast the machine is)."""
    session = LocalSession(flagship, seed=3, speed=600.0)
    seen: list[str] = []
    session.subscribe(lambda e: seen.append(e.kind.value))
    await session.start()
    await asyncio.sleep(0.3)
    accepted = await session.submit(Command(role="ic", action="declare_incident"))
    after = session.clock.now()
    assert accepted.kind == Kind.COMMAND
    assert accepted.t == session.drill.now, "applied at the drill's current time"
    assert 0.25 * 600 <= accepted.t <= after + 0.001, "0.3 s of wall time at 600× is 180 sim seconds"
    assert session.view.declared_at == accepted.t
    assert "tick" in seen and "incident_declared" in seen
    await session.pause()
    paused_at = session.drill.now
    await asyncio.sleep(0.2)
    assert session.pacer.sync() == paused_at
    await session.close()


async def test_next_inject_jumps_to_the_next_inject_and_end_scores_the_drill(
        flagship: LoadedScenario) -> None:
    whole = Drill(flagship.scenario, seed=3)
    whole.run_to_end()
    first = next(e for e in whole.events if e.kind == Kind.INJECT)
    session = LocalSession(flagship, seed=3)
    await session.next_inject()
    assert session.view.injects and session.view.injects[-1].inject == first.payload["inject"]
    assert session.clock.now() == session.drill.now == first.t + 0.001
    await end_through_hot_wash(session)
    assert session.view.ended and session.view.result is not None
    assert session.result is not None and session.result.time_to_contain is None
    await session.close()


async def test_a_drill_ended_early_is_compared_with_doing_nothing_over_the_same_stretch(
        flagship: LoadedScenario) -> None:
    """Ending at 0:30 without acting averts nothing; it is not scored against a full idle run."""
    session = LocalSession(flagship, seed=4)
    session.drill.advance_to(30 * 60)
    await end_through_hot_wash(session)
    assert session.result is not None
    assert session.result.harm_averted == 0.0
    assert session.result.baseline_weighted_harm == session.result.weighted_harm > 0
    await session.close()
