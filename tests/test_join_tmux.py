"""`ttx host` and two `ttx join` dashboards in a real terminal (tmux), a facilitator scripted from here.

A private inject shows only in its role's pane; the ML engineer asks (keys) to take the model
offline, the incident commander's pane pops the approval dialog and approves (keys), the ML pane
shows the action under way; when the facilitator ends the drill, both panes show the review.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.commands import AdhocParams
from simulator.remote import RemoteSession

pytestmark = [pytest.mark.tmux, pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")]

TTX = Path(sys.executable).parent / "ttx"
CODE = "K7Q2MD"
HOST, IC, ML = 0, 1, 2
"""tmux windows of the session: the host, the incident commander, the ML engineer."""


class Terminals:
    """A private tmux server (its own ``-L`` socket); one window (one pane) per program, 100×30 each."""

    def __init__(self, cwd: Path) -> None:
        self.socket = f"ttx-join-{os.getpid()}"
        self.cwd = cwd

    def tmux(self, *args: str) -> str:
        """Run a tmux command on this server."""
        out = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=10)
        assert out.returncode == 0, out.stderr
        return out.stdout

    def launch(self, window: int, *args: str) -> None:
        """Run ``ttx ARGS`` in window ``window`` at a pinned 100×30 size."""
        ttx = " ".join(shlex.quote(a) for a in (str(TTX), *args))
        command = f"stty cols 100 rows 30; exec {ttx}"
        if window == HOST:
            self.tmux("new-session", "-d", "-s", "drill", "-x", "100", "-y", "31", "-c", str(self.cwd),
                      command)
        else:
            self.tmux("new-window", "-d", "-t", f"drill:{window}", "-c", str(self.cwd), command)

    def screen(self, window: int) -> str:
        """What window ``window`` shows now."""
        return self.tmux("capture-pane", "-p", "-t", f"drill:{window}")

    def keys(self, window: int, *keys: str) -> None:
        """Type tmux key names into window ``window``."""
        self.tmux("send-keys", "-t", f"drill:{window}", *keys)

    def wait_for(self, window: int, text: str, timeout: float = 20.0) -> str:
        """Poll the window until ``text`` shows; fail with its last screen."""
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen(window)
            if text in screen:
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared in window {window}; it showed:\n{screen}")


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[Terminals]:
    made = Terminals(tmp_path)
    try:
        yield made
    finally:
        subprocess.run(["tmux", "-L", made.socket, "kill-server"], capture_output=True, timeout=10)


async def test_two_dashboards_a_private_inject_and_an_approval_across_terminals(terminals: Terminals):
    t = terminals
    t.launch(HOST, "host", "jailbreak-wave", "--port", "0", "--code", CODE, "--journal", "drill.jsonl",
             "--linger", "5")
    banner = await asyncio.to_thread(t.wait_for, HOST, "facilitator token:")
    url = banner.split("listening on ")[1].split()[0]
    token = banner.split("facilitator token: ")[1].split()[0]
    t.launch(IC, "join", url, "--code", CODE, "--role", "ic", "--name", "Dana")
    t.launch(ML, "join", url, "--code", CODE, "--role", "ml", "--name", "Max")
    await asyncio.to_thread(t.wait_for, IC, "Max ●")
    lobby = await asyncio.to_thread(t.wait_for, ML, "Waiting for the facilitator")
    assert "Dana ●" in lobby and "Max ● ← you" in lobby

    fac = await RemoteSession.open(url, name="Lee", facilitator_token=token, timeout=5.0)
    try:
        await fac.start()
        for window in (IC, ML):
            await asyncio.to_thread(t.wait_for, window, "Signals (what you can observe)")

        await fac.fire_inject("confidence-drop")
        await asyncio.to_thread(t.wait_for, ML, "Guard classifier mean confidence")
        await fac.adhoc_inject(AdhocParams(channel="chat", to=["ic"], subject="Board wants a call"))
        ic_screen = await asyncio.to_thread(t.wait_for, IC, "Board wants a call")
        assert "Guard classifier mean confidence" not in ic_screen, "ml's private inject stays out"
        assert "Board wants a call" not in t.screen(ML)
        assert "Run/Pause" not in ic_screen, "players have no clock keys"

        t.keys(ML, "x", "Down", "Down", "Enter")
        dialog = await asyncio.to_thread(t.wait_for, IC, "approve “Take the assistant offline”")
        assert "asked by ML" in dialog
        t.keys(IC, "y")
        under_way = await asyncio.to_thread(t.wait_for, ML, "⧗ Take the assistant offline")
        assert "ETA" in under_way
        await asyncio.to_thread(t.wait_for, IC, "⧗ Take the assistant offline")

        await fac.end()
        for window in (IC, ML):
            await asyncio.to_thread(t.wait_for, window, "Score ")
    finally:
        await fac.close()
