"""TUI benchmark (run by hand: ``python tests/benchmarks/bench_tui.py``); prints JSON.

Launches ``ttx play`` on a 100×30 pseudo-terminal (no tmux in between, so nothing else draws)
and measures:

- launch → first frame: until the briefing's start button has been written to the terminal;
- launch → dashboard: Enter is sent as soon as the briefing shows, until the dashboard is written
  (what a player waits before they can act);
- idle CPU of the ``ttx`` process over 10 s with the clock running at 1×, and with it paused.
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


class Drill:
    """``ttx play`` on its own pseudo-terminal; everything it writes is kept."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
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


def main() -> None:
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
