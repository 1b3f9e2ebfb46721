"""`ttx host` says what happens between its banner and the end: joins, the start, refusals, the end,
and that it keeps serving the review for ``--linger`` seconds."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.engine.events import Event, Kind
from simulator.format.loader import LoadedScenario
from simulator.team.remote import RemoteError, RemoteSession
from simulator.team.server import DrillServer
from tests.conftest import end_through_hot_wash

CODE = "K7Q2MD"


async def read_until(stream: asyncio.StreamReader, text: str, seen: list[str]) -> str:
    """Read lines into ``seen`` until one contains ``text`` (fail after 30 s with what came)."""
    async def scan() -> str:
        while True:
            raw = await stream.readline()
            assert raw, f"the host exited before printing {text!r}:\n" + "".join(seen)
            seen.append(raw.decode())
            if text in seen[-1]:
                return seen[-1]
    return await asyncio.wait_for(scan(), 30)


async def test_the_host_logs_joins_the_start_refusals_and_the_end_then_says_it_lingers(
        tmp_path: Path) -> None:
    """Dana joins as IC, Lee as facilitator; a wrong join code is refused; Lee starts and ends the
    drill. The host prints a line for each, then the result, then that it serves the review 1 s more."""
    host = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", "host", "jailbreak-wave", "--port", "0", "--code", CODE,
        "--journal", str(tmp_path / "drill.jsonl"), "--speed", "60", "--linger", "1",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert host.stdout is not None
    out: list[str] = []
    sessions: list[RemoteSession] = []
    try:
        await read_until(host.stdout, "join code:", out)
        url = "".join(out).split("listening on ")[1].split()[0]
        token = (await read_until(host.stdout, "facilitator token:", out)).split(": ")[1].strip()
        sessions.append(await RemoteSession.open(url, name="Dana", role="ic", code=CODE))
        await read_until(host.stdout, "Dana (ic) joined", out)
        with pytest.raises(RemoteError):
            await RemoteSession.open(url, name="Eve", role="ml", code="WRONG1")
        assert "wrong join code" in await read_until(host.stdout, "refused a join from 127.0.0.1", out)
        fac = await RemoteSession.open(url, name="Lee", facilitator_token=token)
        sessions.append(fac)
        await read_until(host.stdout, "Lee (facilitator) joined", out)
        await fac.start()
        assert "clock running at 60×" in await read_until(host.stdout, "Lee started the drill", out)
        await end_through_hot_wash(fac)
        await read_until(host.stdout, "drill ended: the facilitator ended it", out)
        await read_until(host.stdout, "drill over", out)
        await read_until(host.stdout, "serving the review to the players for 1 s more (--linger)", out)
    finally:
        for session in sessions:
            await session.close()
        try:
            await asyncio.wait_for(host.wait(), 30)
        finally:
            if host.returncode is None:  # a failed step must not leave the host running
                host.kill()
                await host.wait()
    assert host.returncode == 0


async def test_the_server_tells_its_watchers_each_event_once_it_is_durable(tmp_path: Path,
                                                                           flagship: LoadedScenario) -> None:
    """The hook ``ttx host`` logs from: every journaled event, after the fsync, in order."""
    server = DrillServer.host(flagship, tmp_path / "drill.jsonl", seed=7, code=CODE,
                              facilitator_token="secret", speed=60.0)
    seen: list[Event] = []
    server.watchers.append(seen.append)
    port = await server.start("127.0.0.1", 0)
    player = await RemoteSession.open(f"ws://127.0.0.1:{port}", name="Dana", role="ic", code=CODE)
    try:
        for _ in range(200):  # the join is fsynced in a worker thread: give it a moment
            if any(e.kind == Kind.PLAYER_JOINED for e in seen):
                break
            await asyncio.sleep(0.05)
        joined = [e for e in seen if e.kind == Kind.PLAYER_JOINED]
        assert [e.payload["name"] for e in joined] == ["Dana"]
        assert [e.seq for e in seen] == sorted(e.seq for e in seen)
    finally:
        await player.close()
        await server.stop()


def test_the_host_builds_every_command_model_before_it_serves() -> None:
    """Command models are built lazily (``ttx validate`` never needs them); a host built each one at
    its first command, a stall of milliseconds for the player who sent it. In a fresh interpreter,
    after the host's ``settle_heap`` every model is complete and frozen out of the collector."""
    probe = ("import gc\n"
             "from simulator.cli.team import settle_heap\n"
             "from simulator.format import commands\n"
             "models, pending = [], [commands.Command, commands.Params]\n"
             "while pending:\n"
             "    m = pending.pop(); models.append(m); pending.extend(m.__subclasses__())\n"
             "before = sum(m.__pydantic_complete__ for m in models)\n"
             "settle_heap()\n"
             "after = sum(m.__pydantic_complete__ for m in models)\n"
             "print(len(models), before, after, gc.get_freeze_count() > 0)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    count, before, after, frozen = out.split()
    assert int(count) > 10 and int(before) < int(count)
    assert int(after) == int(count) and frozen == "True"
