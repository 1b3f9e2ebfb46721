"""Twenty ``kill -9`` + ``--resume`` cycles of a real ``ttx host`` under a steady stream of commands
from three seats: not one acknowledged command is lost, and the journal still replays exactly.

Each ``ttx host`` is its own process, killed with SIGKILL mid-stream. To keep twenty restarts to
seconds, the processes are forked from a parent that has already imported what ``ttx host``
needs (it never opens the journal), instead of paying Python's start-up twenty times.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import re
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from simulator.engine.events import Event, Kind
from simulator.engine.journal import read_journal
from simulator.engine.replay import replay
from simulator.format.loader import LoadedScenario
from simulator.team.remote import ConnectionLost, RemoteSession
from tests.conftest import end_through_hot_wash

REPO = Path(__file__).resolve().parent.parent
CODE = "K7Q2MD"
CYCLES = 20
FORKER = r"""
import json, os, signal, sys
from simulator.cli import main
import simulator.team.server, simulator.engine.replay, websockets.asyncio.server  # warm imports

def reaped(*_):
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        print(f"exited {pid} {os.waitstatus_to_exitcode(status)}", flush=True)

signal.signal(signal.SIGCHLD, reaped)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.close(0)
        try:
            code = main(["host", *json.loads(line)])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        sys.stdout.flush()
        os._exit(code)
    print(f"forked {pid}", flush=True)
"""


class Forker:
    """A parent process that forks one ``ttx host`` after another and reports their exits."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.pid = 0
        self.url = ""
        self.exits: dict[int, int] = {}

    @classmethod
    async def start(cls) -> Forker:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-c", FORKER, cwd=REPO,
                                                    stdin=asyncio.subprocess.PIPE,
                                                    stdout=asyncio.subprocess.PIPE)
        return cls(proc)

    async def _line(self) -> str:
        assert self.proc.stdout is not None
        raw = await asyncio.wait_for(self.proc.stdout.readline(), 30)
        assert raw, "the forking parent exited"
        line = raw.decode().rstrip("\n")
        for pid, code in re.findall(r"exited (\d+) (-?\d+)", line):
            self.exits[int(pid)] = int(code)
        return re.sub(r"exited \d+ -?\d+", "", line)

    async def host(self, *args: str) -> list[str]:
        """Fork ``ttx host ARGS``; returns its banner (up to the facilitator token line)."""
        assert self.proc.stdin is not None
        self.proc.stdin.write((json.dumps(list(args)) + "\n").encode())
        await self.proc.stdin.drain()
        banner: list[str] = []
        while not banner or not banner[-1].startswith("facilitator token:"):
            line = await self._line()
            if line.startswith("forked "):
                self.pid = int(line.split()[1])
            else:
                banner.append(line)
            if "listening on " in line:
                self.url = line.split("listening on ")[1].strip()
        return banner

    async def kill(self) -> None:
        """``kill -9`` the current host and wait until it is gone (its journal lock with it), as an
        operator's restart script would: a host started before the kernel has torn the old one down
        finds the journal still locked ("in use by another ttx host")."""
        os.kill(self.pid, signal.SIGKILL)
        await self.exit_code()

    async def exit_code(self) -> int:
        """Wait for the current host to exit by itself; its exit code."""
        while self.pid not in self.exits:
            await self._line()
        return self.exits[self.pid]

    async def close(self) -> None:
        """Kill the current host if it still runs, and the forking parent."""
        if self.pid and self.pid not in self.exits:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        self.proc.kill()
        await asyncio.wait_for(self.proc.wait(), 10)


def _back(reconnects: int) -> Callable[[RemoteSession], bool]:
    """The seat has reconnected since it had ``reconnects``."""
    return lambda s: s.reconnects > reconnects and s.connected


async def _stream(seat: RemoteSession, acked: list[Event], stop: asyncio.Event) -> None:
    """Post war-room messages as fast as acks come back, keeping every acknowledged one (a command
    in flight at a crash may or may not have applied: only acknowledged ones are promised)."""
    for n in itertools.count():
        if stop.is_set():
            return
        try:
            ack = await seat.chat(f"{seat.name} {n}")
        except (ConnectionLost, TimeoutError):
            await asyncio.sleep(0.02)
            continue
        if ack.accepted and ack.event is not None:
            acked.append(Event.from_dict(ack.event))
        await asyncio.sleep(0.005)


async def test_twenty_crashes_under_a_command_stream_lose_no_acknowledged_command(
        tmp_path: Path, flagship: LoadedScenario) -> None:
    journal = tmp_path / "drill.jsonl"
    forker = await Forker.start()
    banner = await forker.host("jailbreak-wave", "--port", "0", "--journal", str(journal), "--seed", "3",
                               "--code", CODE, "--speed", "20", "--linger", "0.2")
    token = banner[-1].split(": ", 1)[1]
    port = forker.url.rsplit(":", 1)[1]
    opts = {"reconnect_for": 30.0, "timeout": 5.0}
    fac = await RemoteSession.open(forker.url, name="Lee", facilitator_token=token, **opts)
    seats = [await RemoteSession.open(forker.url, name=name, role=role, code=CODE, **opts)
             for name, role in (("Dana", "ic"), ("Max", "ml"), ("Sam", "comms"))]
    everyone = [fac, *seats]
    acked: list[Event] = []
    stop = asyncio.Event()
    rng = random.Random(11)
    streams = [asyncio.ensure_future(_stream(seat, acked, stop)) for seat in seats]
    try:
        await fac.start()
        for cycle in range(CYCLES):
            await asyncio.sleep(rng.uniform(0.05, 0.3))
            before = {s.name: s.reconnects for s in everyone}
            await forker.kill()
            if cycle % 5 == 4:
                await asyncio.sleep(0.05)
                with open(journal, "a", encoding="utf-8") as f:
                    f.write('{"t": 99999.0, "seq": 99')  # a write torn by the crash
            await forker.host("--resume", str(journal), "--port", port, "--code", CODE, "--linger", "0.2")
            for seat in everyone:
                await seat.wait_until(_back(before[seat.name]), timeout=20)
            await fac.resume()
        await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*streams)
        await end_through_hot_wash(fac)
        for seat in everyone:
            await seat.wait_until(lambda s: s.view.result is not None, timeout=20)
        assert await asyncio.wait_for(forker.exit_code(), 20) == 0
    finally:
        stop.set()
        for seat in everyone:
            await seat.close()
        await forker.close()

    final = read_journal(journal)
    by_seq = {e.seq: e for e in final.events}
    resumed = [e for e in final.events if e.kind == Kind.SESSION_NOTE and e.payload.get("event") == "resumed"]
    print(f"{CYCLES} kill -9 + resume cycles: {len(acked)} commands acknowledged, {len(final.events)} events")
    assert len(resumed) == CYCLES and len(acked) >= 5 * CYCLES
    lost = [e.seq for e in acked if e.seq not in by_seq or by_seq[e.seq].to_json() != e.to_json()]
    assert lost == [], f"{len(lost)} acknowledged commands are not in the journal as acknowledged"
    assert replay(final, flagship).matches
