"""SSH seat benchmark: key press → screen update, on loopback.

Runs ``ttx host --ssh`` as a subprocess, logs in to an SSH seat from this process (asyncssh, a
100×30 pty), waits for the seat's dashboard, then presses keys one at a time on an idle screen and
measures, per press, the wall time from writing the key to the first screen bytes arriving back
(what the player perceives as the response) and to the end of that update (no more bytes for
``--quiet`` ms, which is then subtracted). The path measured is the whole seat: SSH encryption
both ways, the pty, the seat's ``ttx join`` process (Textual) and its redraw. Keys, on the
briefing with the lobby (the screen a player sees until the drill starts; nothing else redraws
it): Down and Up in turn (the briefing scrolls a line: the common small update), Tab (the focus
moves; this screen restyles a lot for it) and ``d`` (light/dark: the whole screen is restyled).
The same presses on the same ``ttx join`` in a local pseudo-terminal (no SSH), interleaved with
the SSH ones so both see the same machine load, give the baseline: the difference is what the SSH
seat adds. ``--screen dashboard`` presses them on the dashboard instead: the facilitator (this
process) starts the drill and pauses it, and Down/Up move in the action list. Before the presses,
each seat's CPU with nobody typing (``--idle`` seconds). CPU per press is the seat's CPU over the
presses, idle moments between them included. Prints one JSON object.

    python tests/benchmarks/bench_ssh.py [--presses 200] [--quiet 40] [--keys arrows,tab,d]
                                         [--screen briefing|dashboard] [--idle 10] [--port P --ssh-port Q]
                                         [--timeout 1800]

The host and the local seat run in sessions of their own and are ended with their process groups
when the run ends, on SIGTERM or SIGINT, and after ``--timeout`` seconds.

Target (issue 11): key press → screen update p99 < 50 ms on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import os
import signal
import statistics
import struct
import sys
import tempfile
import termios
import time
from collections import deque
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from simulator.team.remote import RemoteSession  # noqa: E402
from tests.ssh_client import log_in  # noqa: E402

CODE = "BENCH3"
KEYS = (("arrows", (b"\x1b[B", b"\x1b[A")), ("tab", (b"\t",)), ("d", (b"d",)))
"""What is pressed: Down and Up in turn, Tab, light/dark."""


async def start_host(folder: Path, port: int = 0,
                     ssh_port: int = 0) -> tuple[asyncio.subprocess.Process, str, int, str]:
    """``ttx host --ssh`` in its own process (on free ports unless given); returns it, its websocket
    URL, its SSH port and the facilitator token."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", "host", "jailbreak-wave", "--port", str(port),
        "--ssh", str(ssh_port), "--code", CODE, "--journal", str(folder / "drill.jsonl"), "--linger", "0",
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, start_new_session=True)
    assert proc.stdout is not None
    url = token = ""
    ssh = 0
    while not (url and ssh and token):
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line:
            raise SystemExit("ttx host exited early")
        if "listening on " in line:
            url = line.split("listening on ")[1].strip()
        if line.startswith("SSH seats: port "):
            ssh = int(line.split("port ")[1].split(",")[0])
        if line.startswith("facilitator token:"):
            token = line.split(": ", 1)[1].strip()
    return proc, url, ssh, token


async def start_paused(url: str, token: str) -> RemoteSession:
    """Start the drill as the facilitator and pause it at once: every seat moves to its dashboard,
    whose clock then stands still (only the header's real-time clock moves, once a second)."""
    facilitator = await RemoteSession.open(url, name="bench-facilitator", facilitator_token=token)
    await facilitator.start()
    await facilitator.pause()
    return facilitator


class LocalPty:
    """The baseline: the same ``ttx join`` dashboard on a pseudo-terminal of this machine, no SSH."""

    def __init__(self) -> None:
        self.arrivals: deque[float] = deque(maxlen=256)
        self.received = 0
        self.last_data = 0.0
        self.text = bytearray()
        self.master = -1
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self, url: str) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "TMUX")}
        env.update(TERM="xterm-256color", TTX_CODE=CODE)
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simulator.cli", "join", url, "--name=baseline", "--role=ml",
            stdin=slave, stdout=slave, stderr=slave, start_new_session=True, env=env)
        os.close(slave)
        os.set_blocking(self.master, False)
        asyncio.get_running_loop().add_reader(self.master, self._read)
        await self.wait_for(b"Waiting for the facilitator")

    async def wait_for(self, text: bytes, timeout: float = 60.0) -> None:
        """Wait until ``text`` has been written to the terminal (in one piece, between escapes)."""
        deadline = time.monotonic() + timeout
        while text not in self.text:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{text!r} did not show on the local pty")
            await asyncio.sleep(0.05)

    def _read(self) -> None:
        try:
            data = os.read(self.master, 65536)
        except OSError:
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
            return
        self.last_data = time.perf_counter()
        self.arrivals.append(self.last_data)
        self.received += len(data)
        if len(self.text) < 1 << 20:
            self.text += data

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def first_since(self, moment: float) -> float:
        return min(t for t in self.arrivals if t >= moment)

    async def stop(self) -> None:
        if self.proc is not None:
            await end_group(self.proc)
        if self.master >= 0:
            os.close(self.master)
            self.master = -1


async def end_group(proc: asyncio.subprocess.Process) -> None:
    """End ``proc`` and its process group (it was started in a session of its own): SIGTERM, then
    SIGKILL after 5 s. Nothing this benchmark started outlives it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 5.0)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values) * 1000, 2),
            "p99_ms": round(percentile(values, 0.99) * 1000, 2), "max_ms": round(max(values) * 1000, 2)}


async def presses(terminal: Any, keys: tuple[bytes, ...], count: int, quiet: float) -> dict[str, list[float]]:
    """Press ``keys`` in turn, ``count`` presses, each on an idle screen: times to the first bytes
    and to the update's end (a press that changes nothing within 2 s is left out)."""
    firsts: list[float] = []
    settled: list[float] = []
    for i in range(count):
        await settle(terminal, 0.15)
        before = terminal.received
        sent = time.perf_counter()
        terminal.type(keys[i % len(keys)])
        while terminal.received == before and time.perf_counter() - sent < 2.0:
            await asyncio.sleep(0.0005)
        if terminal.received == before:
            continue
        firsts.append(terminal.first_since(sent) - sent)
        await settle(terminal, quiet)
        settled.append(terminal.last_data - sent)
    return {"first_bytes": firsts, "update_done": settled}


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=200, help="presses of each key")
    parser.add_argument("--quiet", type=float, default=40.0, help="ms without bytes that ends an update")
    parser.add_argument("--keys", default="arrows,tab,d", help="which of arrows, tab, d (default all)")
    parser.add_argument("--screen", choices=("briefing", "dashboard"), default="briefing",
                        help="press keys on the briefing, or on the dashboard of a started, paused drill "
                             "(arrows move in the action list there)")
    parser.add_argument("--idle", type=float, default=10.0,
                        help="seconds to measure each seat's CPU with nobody typing, before the presses")
    parser.add_argument("--port", type=int, default=0, help="the host's websocket port (0: a free one)")
    parser.add_argument("--ssh-port", type=int, default=0, help="the host's SSH port (0: a free one)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="seconds after which the run stops, ending what it started (default 1800)")
    return parser.parse_args()


async def main(args: argparse.Namespace) -> None:
    chosen = [(name, keys) for name, keys in KEYS if name in args.keys.split(",")]
    results: dict[str, list[float]] = {}
    cpu: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        proc, url, port, token = await start_host(Path(folder), args.port, args.ssh_port)
        local = LocalPty()
        facilitator: RemoteSession | None = None
        try:
            conn, screen, _ = await log_in(port, "bench", [CODE, "ic"])
            started = time.perf_counter()
            await screen.wait_for("Waiting for the facilitator", timeout=60)
            first_screen = time.perf_counter() - started
            await local.start(url)
            if args.screen == "dashboard":
                facilitator = await start_paused(url, token)
                await screen.wait_for("No mitigations yet", timeout=60)
                await local.wait_for(b"No mitigations yet")
            screen.drawing = False  # from here on only timestamps: drawing would slow the reader
            terminals = {"ssh": (screen, {"seat": children(proc.pid)[0], "host": proc.pid}),
                         "local_pty": (local, {"seat": local.pid})}
            idle = {where: await idle_cpu(pids["seat"], args.idle) for where, (_, pids) in terminals.items()}
            for _ in range(2):  # interleaved, so both see the same load
                for name, keys in chosen:
                    for where, (terminal, pids) in terminals.items():
                        await measure(f"{where}_{name}", terminal, pids, keys, args, results, cpu)
            conn.close()
        finally:
            if facilitator is not None:
                await facilitator.close()
            await local.stop()
            await end_group(proc)
    print(json.dumps({"screen": args.screen, "presses_per_key": args.presses,
                      "login_to_lobby_s": round(first_screen, 2),
                      **{name: summary(values) for name, values in results.items()},
                      **{name: round(ms, 1) for name, ms in sorted(cpu.items())},
                      **{f"{where}_seat_idle_cpu_percent": percent for where, percent in idle.items()},
                      "load_average": os.getloadavg()}, indent=2))


async def measure(label: str, terminal: Any, pids: dict[str, int], keys: tuple[bytes, ...],
                  args: argparse.Namespace, results: dict[str, list[float]], cpu: dict[str, float]) -> None:
    """Half of one key's presses on one terminal: latencies into ``results``, CPU per press into ``cpu``."""
    before = {what: cpu_seconds(pid) for what, pid in pids.items()}
    got = await presses(terminal, keys, args.presses // 2, args.quiet / 1000)
    for what, pid in pids.items():
        spent = (cpu_seconds(pid) - before[what]) * 1000 / args.presses
        cpu[f"{label}_{what}_cpu_ms_per_press"] = cpu.get(f"{label}_{what}_cpu_ms_per_press", 0.0) + spent
    for what, values in got.items():
        results.setdefault(f"{label}_{what}", []).extend(values)


async def idle_cpu(pid: int, seconds: float) -> float:
    """Percent of one core a seat's process uses over ``seconds`` with nobody typing."""
    before = cpu_seconds(pid)
    await asyncio.sleep(seconds)
    return round(100 * (cpu_seconds(pid) - before) / seconds, 2)


async def settle(terminal: Any, quiet: float) -> None:
    """Wait until no bytes have arrived for ``quiet`` seconds."""
    while time.perf_counter() - terminal.last_data < quiet:
        await asyncio.sleep(quiet / 4)


async def bounded() -> None:
    """:func:`main` until it ends, SIGTERM or SIGINT arrives, or ``--timeout`` passes: each ends it
    the same way, through its cleanup (the host, its SSH seats and the local seat are ended)."""
    args = arguments()
    task = asyncio.ensure_future(main(args))
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    try:
        await asyncio.wait_for(task, args.timeout)
    except (TimeoutError, asyncio.CancelledError):
        raise SystemExit("bench_ssh: stopped (timeout or signal); what it started has been ended") from None


if __name__ == "__main__":
    asyncio.run(bounded())
