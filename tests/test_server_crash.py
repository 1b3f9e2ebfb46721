"""`ttx host` as a real process: killed with SIGKILL mid-drill and resumed from its journal, nothing
acknowledged is lost and the result is the one an uninterrupted run of the same commands gives."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from simulator.engine.events import Event, Kind
from simulator.engine.journal import read_journal
from simulator.engine.replay import command_of, replay
from simulator.engine.runner import finish, new_drill
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario
from simulator.team.remote import ConnectionLost, RemoteSession
from simulator.team.server import DrillServer
from tests.conftest import end_through_hot_wash

REPO = Path(__file__).resolve().parent.parent
CODE = "K7Q2MD"


class Host:
    """``python -m simulator.cli host …`` in a subprocess, with what its banner said."""

    def __init__(self, proc: asyncio.subprocess.Process, banner: list[str]) -> None:
        self.proc, self.banner = proc, banner
        line = next(b for b in banner if "listening on " in b)
        self.url = line.split("listening on ")[1].strip()
        self.port = int(self.url.rsplit(":", 1)[1])
        self.token = next((b.split(": ", 1)[1] for b in banner if b.startswith("facilitator token:")), None)

    @classmethod
    async def start(cls, *args: str, until: str) -> Host:
        """Start ``ttx host ARGS`` and read its banner up to the line starting with ``until``."""
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simulator.cli", "host", *args, cwd=REPO,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        banner: list[str] = []
        while not banner or not banner[-1].startswith(until):
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 30)
            if not line:
                assert proc.stderr is not None
                raise AssertionError("ttx host exited: " + (await proc.stderr.read()).decode())
            banner.append(line.decode().rstrip("\n"))
        return cls(proc, banner)

    async def kill(self) -> None:
        """SIGKILL the host (no chance to flush or say goodbye) and reap it."""
        self.proc.kill()
        await asyncio.wait_for(self.proc.wait(), 10)


async def _acked(session: RemoteSession, command: Command, acked: list[Event]) -> Event | None:
    """Submit; keep the accepted command event if the server acknowledged it."""
    try:
        event = await session.submit(command)
    except (ConnectionLost, TimeoutError):
        return None
    if event.kind == Kind.COMMAND:
        acked.append(event)
    return event


async def _reconnected(sessions: list[RemoteSession], before: dict[str, int]) -> None:
    """Wait until every session has reconnected once more than ``before`` counted."""
    for session in sessions:
        await session.wait_until(lambda s: s.reconnects > before[s.name], timeout=20)


async def test_a_killed_server_resumes_from_its_journal_and_loses_nothing_acknowledged(
        tmp_path: Path, flagship: LoadedScenario) -> None:
    journal = tmp_path / "drill.jsonl"
    host = await Host.start("jailbreak-wave", "--port", "0", "--journal", str(journal), "--seed", "11",
                            "--code", CODE, "--speed", "300", "--linger", "0.2", until="facilitator token:")
    assert host.token is not None
    opts = {"reconnect_for": 30.0, "timeout": 5.0}
    fac = await RemoteSession.open(host.url, name="Lee", facilitator_token=host.token, **opts)
    ic = await RemoteSession.open(host.url, name="Dana", role="ic", code=CODE, **opts)
    ml = await RemoteSession.open(host.url, name="Max", role="ml", code=CODE, **opts)
    comms = await RemoteSession.open(host.url, name="Sam", role="comms", code=CODE, **opts)
    everyone = [fac, ic, ml, comms]
    acked: list[Event] = []

    async def crash_and_resume(torn: bool = False) -> None:
        nonlocal host
        before = {s.name: s.reconnects for s in everyone}
        await host.kill()
        if torn:
            with open(journal, "a", encoding="utf-8") as f:
                f.write('{"t": 99999.0, "seq": 99')
        host = await Host.start("--resume", str(journal), "--port", str(host.port), "--linger", "0.2",
                                until="facilitator token:")
        await _reconnected(everyone, before)
        assert fac.clock_state is not None and fac.clock_state.paused, "resumed drills wait, paused"
        last = read_journal(journal).events[-1]
        assert fac.clock.now() >= last.t - 0.01
        await fac.resume()

    try:
        await fac.start()
        await _acked(ic, Command(role="ic", action="declare_incident"), acked)
        await _acked(ml, Command(role="ml", action="take-offline"), acked)
        await ic.chat("bridge open")
        await crash_and_resume()

        await ic.wait_until(lambda s: bool(s.view.pending))
        request = next(iter(ic.view.pending))
        await _acked(ic, Command(role="ic", action="approve", params={"request": request}), acked)
        burst = [Command(role="ml", action="block-list"), Command(role="ic", action="set_severity",
                                                                    params={"level": "sev1"}),
                 Command(role="comms", action="send_update", params={"audience": "internal", "know": "k"}),
                 Command(role="ic", action="escalate", params={"to": "exec"})]
        seats = {"ml": ml, "ic": ic, "comms": comms}
        in_flight = [asyncio.ensure_future(_acked(seats[c.role], c, acked)) for c in burst]
        await asyncio.sleep(0.003)
        await crash_and_resume(torn=True)
        await asyncio.gather(*in_flight)

        await _acked(ml, Command(role="ml", action="investigate"), acked)
        await _acked(comms, Command(role="comms", action="send_update",
                                    params={"audience": "executives", "doing": "offline"}), acked)
        await crash_and_resume()

        await _acked(ic, Command(role="ic", action="start_watch"), acked)
        await end_through_hot_wash(fac)
        for seat in everyone:
            await seat.wait_until(lambda s: s.view.result is not None, timeout=20)
        assert await asyncio.wait_for(host.proc.wait(), 20) == 0
    finally:
        for seat in everyone:
            await seat.close()
        if host.proc.returncode is None:
            await host.kill()

    final = read_journal(journal)
    by_seq = {e.seq: e for e in final.events}
    assert len(acked) >= 6
    resumed = [e for e in final.events if e.kind == Kind.SESSION_NOTE and e.payload.get("event") == "resumed"]
    assert len(resumed) == 3
    print(f"acked {len(acked)}: {[(e.seq, e.actor, e.payload['action']) for e in acked]}; resumed at "
          f"{[e.payload['at_seq'] for e in resumed]}; {len(final.events)} events")
    for event in acked:
        assert by_seq[event.seq].to_json() == event.to_json(), "every acknowledged command is journaled"
    report = replay(final, flagship)
    assert report.matches, report.first_difference

    uninterrupted = new_drill(flagship, 11)
    for event in final.events:
        if event.kind in (Kind.COMMAND, Kind.REFUSED) and event.actor is not None:
            uninterrupted.advance_to(event.t)
            uninterrupted.submit(command_of(event))
    uninterrupted.run_to_end()
    recorded = next(e.payload for e in final.events if e.kind == Kind.RESULT)
    assert finish(uninterrupted, flagship, "team").to_dict() == recorded
    for seat in (ic, ml, comms):
        assert seat.view.result == recorded


async def test_join_headless_prints_only_this_seats_events_until_the_review(tmp_path: Path) -> None:
    host = await Host.start("jailbreak-wave", "--port", "0", "--journal", str(tmp_path / "d.jsonl"),
                            "--code", CODE, "--linger", "0.2", until="facilitator token:")
    assert host.token is not None
    joiner = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", "join", host.url, "--code", CODE, "--role", "comms",
        "--name", "Sam", "--headless", cwd=REPO, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    fac = await RemoteSession.open(host.url, name="Lee", facilitator_token=host.token)
    try:
        await fac.wait_until(lambda s: s.lobby is not None
                             and any(p.role == "comms" for p in s.lobby.players))
        await fac.start()
        await fac.fire_inject("press-inquiry")
        await fac.fire_inject("legal-question")
        await end_through_hot_wash(fac)
        out, err = await asyncio.wait_for(joiner.communicate(), 20)
    finally:
        await fac.close()
        if joiner.returncode is None:
            joiner.kill()
        await asyncio.wait_for(host.proc.wait(), 20)
    text = out.decode()
    assert joiner.returncode == 0, err.decode()
    assert text.startswith("joined as comms (Sam)")
    assert "inject facilitator → comms: [press]" in text
    assert "legal-question" not in text and "Is this a reportable" not in text
    assert "result engine: score" in text


async def test_join_hands_the_connected_session_to_the_tui_entry_point(tmp_path: Path,
                                                                      flagship: LoadedScenario) -> None:
    """``ttx join`` awaits ``tui.app.run_drill_async(session)`` with a connected RemoteSession (a
    stand-in TUI here, first on the path; tests/test_join_tui.py drives the real one)."""
    fake = tmp_path / "tui"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "app.py").write_text(
        "async def run_drill_async(session, history=None):\n"
        "    print('TUI', type(session).__name__, session.seat, session.scenario.id, session.view.title,\n"
        "          flush=True)\n")
    server = DrillServer.host(flagship, tmp_path / "d.jsonl", code=CODE, facilitator_token="f")
    port = await server.start("127.0.0.1", 0)
    try:
        joiner = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simulator.cli", "join", f"ws://127.0.0.1:{port}", "--code", CODE,
            "--role", "legal", "--name", "Ash", cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(joiner.communicate(), 30)
    finally:
        await server.stop()
    assert joiner.returncode == 0, err.decode()
    assert out.decode().strip() == "TUI RemoteSession legal jailbreak-wave Jailbreak wave"
