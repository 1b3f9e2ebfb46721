"""TUI benchmark (run by hand: ``python tests/benchmarks/bench_tui.py``); prints JSON.

Launches ``ttx play`` on a 100×30 pseudo-terminal (no tmux in between, so nothing else draws)
and measures:

- launch → first frame: until the briefing's start button has been written to the terminal;
- launch → dashboard: Enter is sent as soon as the briefing shows, until the dashboard is written
  (what a player waits before they can act);
- idle CPU of the ``ttx`` process over 10 s with the clock running at 1×, and with it paused.

``--compare DIR [RUNS]`` launches this tree and another checkout (``git archive REV | tar -x -C DIR``)
in turn instead, RUNS pairs (default 9), each with its own ``PYTHONPATH``, so both see the same load,
and prints both trees' launch → first frame and → dashboard medians. Write both trees' bytecode first
(``python -m compileall -q simulator tui scenarios`` in each): this machine's shell sets
``PYTHONDONTWRITEBYTECODE``, and compiling on every launch would be measured too.
"""

from __future__ import annotations

import fcntl
import json
import os
import pty
import select
import signal
import statistics
import struct
import sys
import termios
import time
from pathlib import Path

TTX = Path(sys.executable).parent / "ttx"
RUNS = 5
IDLE_SECONDS = 10.0


HERE = Path(__file__).resolve().parents[2]
PLAY = ("import sys; from simulator.cli import main; sys.argv = ['ttx', 'play', '--seed', '7']; "
        "sys.exit(main())")
"""``ttx play --seed 7`` from whichever tree ``PYTHONPATH`` names (``--compare``)."""


class Drill:
    """``ttx play`` on its own pseudo-terminal; everything it writes is kept."""

    def __init__(self, tree: Path | None = None) -> None:
        """``tree``: run that checkout's ``ttx play`` (first on ``PYTHONPATH``), else the installed one."""
        self.started = time.monotonic()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            if tree is not None:
                os.environ["PYTHONPATH"] = str(tree)
                os.execv(sys.executable, [sys.executable, "-c", PLAY])
            os.execv(str(TTX), [str(TTX), "play", "--seed", "7"])
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.output = b""

    def read(self, seconds: float) -> None:
        """Drain the terminal for ``seconds`` (an app blocked on a full pty would look idle)."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([self.fd], [], [], min(left, 0.05))
            if ready:
                self.output += os.read(self.fd, 1 << 16)

    def wait_for(self, text: bytes, timeout: float = 30.0) -> float:
        """Read until ``text`` was written; returns seconds since launch."""
        deadline = time.monotonic() + timeout
        mark = len(self.output)
        while time.monotonic() < deadline:
            self.read(0.01)
            if text in self.output[max(0, mark - len(text)):]:
                return time.monotonic() - self.started
        raise TimeoutError(f"{text!r} never appeared")

    def type(self, keys: bytes) -> None:
        """Send keys as a player types them."""
        os.write(self.fd, keys)

    def cpu_seconds(self) -> float:
        """User + system CPU seconds used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def idle_cpu(self) -> float:
        """CPU share (percent of one core) over ``IDLE_SECONDS`` with nobody typing."""
        before, t0 = self.cpu_seconds(), time.monotonic()
        self.read(IDLE_SECONDS)
        return 100 * (self.cpu_seconds() - before) / (time.monotonic() - t0)

    def kill(self) -> None:
        """Stop the app."""
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        os.close(self.fd)


def compare(other: Path, runs: int) -> None:
    """Launch → first frame and → dashboard of this tree and ``other``, launched in turn."""
    trees = {"this": HERE, "other": other.resolve()}
    first_frame: dict[str, list[float]] = {name: [] for name in trees}
    dashboard: dict[str, list[float]] = {name: [] for name in trees}
    for i in range(runs):
        for name, tree in (list(trees.items()) if i % 2 == 0 else list(trees.items())[::-1]):
            drill = Drill(tree)
            first_frame[name].append(drill.wait_for(b"Start the drill"))
            drill.type(b"\r")
            dashboard[name].append(drill.wait_for(b"Signals (what you can observe)"))
            drill.kill()
    print(json.dumps({name: {"tree": str(tree), "pairs": runs,
                             "launch_to_first_frame_s": round(statistics.median(first_frame[name]), 3),
                             "launch_to_dashboard_s": round(statistics.median(dashboard[name]), 3)}
                      for name, tree in trees.items()}, indent=2))


def main() -> None:
    if sys.argv[1:2] == ["--compare"]:
        compare(Path(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 9)
        return
    first_frame, dashboard = [], []
    for _ in range(RUNS):
        drill = Drill()
        first_frame.append(drill.wait_for(b"Start the drill"))
        drill.type(b"\r")
        dashboard.append(drill.wait_for(b"Signals (what you can observe)"))
        drill.kill()
    drill = Drill()
    drill.wait_for(b"Start the drill")
    drill.type(b"\r")
    drill.wait_for(b"Signals (what you can observe)")
    drill.read(2.0)
    running = drill.idle_cpu()
    drill.type(b" ")
    drill.wait_for(b"PAUSED")
    paused = drill.idle_cpu()
    drill.kill()
    print(json.dumps({
        "runs": RUNS,
        "launch_to_first_frame_s": {"median": round(statistics.median(first_frame), 3),
                                    "max": round(max(first_frame), 3)},
        "launch_to_dashboard_s": {"median": round(statistics.median(dashboard), 3),
                                  "max": round(max(dashboard), 3)},
        "idle_cpu_percent_at_1x": round(running, 2),
        "idle_cpu_percent_paused": round(paused, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
