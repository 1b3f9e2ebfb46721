"""A ``ttx join`` seat whose terminal goes away ends, and leaves the drill: a real ``ttx join`` (the
dashboard, and ``--headless``) on a pseudo-terminal of its own, joined to a real server on loopback.

The seat runs in a session of its own with no controlling terminal, as a benchmark's or a script's
seat does, so closing the terminal sends it no SIGHUP: it must notice the terminal hung up by
itself. (It used to keep running, its TUI's input thread spinning on end-of-file at ~60 % of a
core.) A SIGHUP ends it the same way. Either way the server sees the player leave at once, and the
exit status is 129, as for a shell whose terminal hung up.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import struct
import sys
import termios
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simulator.format.loader import LoadedScenario
from simulator.team.server import DrillServer

REPO = Path(__file__).resolve().parents[1]
CODE = "K7Q2MD"
SHOWN = {"dashboard": b"Waiting for the facilitator", "headless": b"joined as ml (Sam)"}
"""What each kind of seat writes to its terminal once it has joined."""


class Seat:
    """``ttx join`` as Sam (ML) on a 100x30 pseudo-terminal; this test holds the terminal's far end."""

    def __init__(self, proc: asyncio.subprocess.Process, master: int) -> None:
        self.proc, self.master = proc, master
        self.shown = bytearray()

    @classmethod
    async def start(cls, url: str, kind: str) -> Seat:
        master, slave = os.openpty()
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
        env.update(TERM="xterm-256color", TTX_CODE=CODE)
        headless = ["--headless"] if kind == "headless" else []
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simulator.cli", "join", url, "--name=Sam", "--role=ml", *headless,
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True, cwd=REPO, env=env)
        os.close(slave)
        os.set_blocking(master, False)
        return cls(proc, master)

    async def wait_for(self, text: bytes, timeout: float = 60.0) -> None:
        """Read the terminal until ``text`` has been written to it."""
        deadline = time.monotonic() + timeout
        while text not in self.shown:
            assert time.monotonic() < deadline, f"{text!r} never showed: {bytes(self.shown[-300:])!r}"
            try:
                self.shown += os.read(self.master, 65536)
            except BlockingIOError:
                await asyncio.sleep(0.05)

    def hang_up(self) -> None:
        """Close the terminal, as a closed window or a killed benchmark does (no SIGHUP: the seat
        has no controlling terminal)."""
        os.close(self.master)
        self.master = -1

    async def exit_status(self, timeout: float = 30.0) -> int:
        """The seat's exit status; fails if it is still running after ``timeout`` seconds (generous:
        it takes well under a second on an idle machine)."""
        try:
            return await asyncio.wait_for(self.proc.wait(), timeout)
        except TimeoutError:
            pytest.fail(f"the seat still runs {timeout:g} s after its terminal went away "
                        f"({_cpu_seconds(self.proc.pid):.1f} s of CPU so far)")

    async def end(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self.master >= 0:
            os.close(self.master)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.fixture
async def server(tmp_path: Path, flagship: LoadedScenario) -> AsyncIterator[tuple[DrillServer, str]]:
    """The flagship hosted on a free loopback port (seed 7), with its websocket URL."""
    drill = DrillServer.host(flagship, tmp_path / "drill.jsonl", seed=7, code=CODE,
                             facilitator_token="white-cell-secret")
    port = await drill.start("127.0.0.1", 0)
    yield drill, f"ws://127.0.0.1:{port}"
    await drill.stop()


async def _online(drill: DrillServer, timeout: float = 10.0) -> int:
    """Sam's open connections, once the server has settled (at most ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sam = [p for p in drill.players.values() if p.name == "Sam"]
        if sam and sam[0].online == 0:
            return 0
        await asyncio.sleep(0.05)
    return sum(p.online for p in drill.players.values() if p.name == "Sam")


@pytest.mark.parametrize("kind", ["dashboard", "headless"])
async def test_a_seat_whose_terminal_closes_ends_and_leaves_the_drill(
        server: tuple[DrillServer, str], kind: str) -> None:
    """Sam's terminal closes under a running seat: the seat ends within seconds and Sam is offline."""
    drill, url = server
    seat = await Seat.start(url, kind)
    try:
        await seat.wait_for(SHOWN[kind])
        assert [p.online for p in drill.players.values() if p.name == "Sam"] == [1]
        seat.hang_up()
        assert await seat.exit_status() == 128 + signal.SIGHUP
        assert await _online(drill) == 0
    finally:
        await seat.end()


@pytest.mark.parametrize("kind", ["dashboard", "headless"])
async def test_a_seat_sent_sighup_ends_and_leaves_the_drill(
        server: tuple[DrillServer, str], kind: str) -> None:
    """SIGHUP (an SSH seat's player hung up; a terminal window closed) ends the seat the same way,
    leaving the drill with a closed websocket rather than a dropped one."""
    drill, url = server
    seat = await Seat.start(url, kind)
    try:
        await seat.wait_for(SHOWN[kind])
        seat.proc.send_signal(signal.SIGHUP)
        assert await seat.exit_status() == 128 + signal.SIGHUP
        assert await _online(drill) == 0
    finally:
        await seat.end()


def test_a_seat_stuck_after_its_terminal_went_away_still_ends() -> None:
    """A seat was seen blocked for good in its TUI's shutdown after its terminal went away (the
    main thread waiting on a lock of Textual's output thread), its connection open, its player
    shown online. Once the terminal is gone a watchdog ends the process whatever it is doing: here
    a process whose main thread waits on a lock nobody releases still exits, with status 129."""
    import subprocess

    stuck = ("import threading\n"
             "from simulator.cli.team import leave_anyway\n"
             "leave_anyway(0.2)\n"
             "lock = threading.Lock(); lock.acquire(); lock.acquire()\n")
    done = subprocess.run([sys.executable, "-c", stuck], cwd=REPO, timeout=60, check=False)
    assert done.returncode == 129
