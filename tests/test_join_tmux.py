"""`ttx host` and two `ttx join` dashboards in a real terminal (tmux), a facilitator scripted from here.

A private inject shows only in its role's pane; the ML engineer asks (keys) to take the model
offline, the incident commander's pane pops the approval dialog and approves (keys), the ML pane
shows the action under way; when the facilitator ends the drill, both panes show the review.
"""

from __future__ import annotations

import asyncio
import os
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.format.commands import AdhocParams
from simulator.team.remote import RemoteSession
from tests.conftest import end_through_hot_wash
from tests.tmux import TmuxServer
from tui.app import KEY_GRACE

pytestmark = pytest.mark.tmux  # skipped without tmux outside CI, failed in CI (tests/tools.py)

TTX = Path(sys.executable).parent / "ttx"
CODE = "K7Q2MD"
HOST, IC, ML = 0, 1, 2
"""tmux windows of the session: the host, the incident commander, the ML engineer."""


class Terminals(TmuxServer):
    """A private tmux server (its own ``-L`` socket); one window (one pane) per program, 100×30 each."""

    def __init__(self, cwd: Path) -> None:
        super().__init__(f"ttx-join-{os.getpid()}")
        self.cwd = cwd

    def launch(self, window: int, *args: str) -> None:
        """Run ``ttx ARGS`` in window ``window`` at a pinned 100×30 size."""
        ttx = " ".join(shlex.quote(a) for a in (str(TTX), *args))
        command = f"stty cols 100 rows 30; exec {ttx}"
        if window == HOST:
            self.tmux("new-session", "-d", "-s", "drill", "-x", "100", "-y", "31", "-c", str(self.cwd),
                      command, check=True)
        else:
            self.tmux("new-window", "-d", "-t", f"drill:{window}", "-c", str(self.cwd), command, check=True)

    def window_screen(self, window: int) -> str:
        """What window ``window`` shows now."""
        return self.screen(f"drill:{window}")

    def window_keys(self, window: int, *keys: str) -> None:
        """Type tmux key names into window ``window``."""
        self.keys(*keys, target=f"drill:{window}")

    def window_wait(self, window: int, text: str, timeout: float = 20.0) -> str:
        """Poll window ``window`` until ``text`` shows; fail with its last screen."""
        return self.wait_for(text, f"drill:{window}", timeout)


@pytest.fixture
def terminals(tmp_path: Path) -> Iterator[Terminals]:
    made = Terminals(tmp_path)
    try:
        yield made
    finally:
        made.kill()


async def test_two_dashboards_a_private_inject_and_an_approval_across_terminals(terminals: Terminals) -> None:
    t = terminals
    t.launch(HOST, "host", "jailbreak-wave", "--port", "0", "--code", CODE, "--journal", "drill.jsonl",
             "--linger", "5")
    banner = await asyncio.to_thread(t.window_wait, HOST, "facilitator token:")
    url = banner.split("listening on ")[1].split()[0]
    token = banner.split("facilitator token: ")[1].split()[0]
    t.launch(IC, "join", url, "--code", CODE, "--role", "ic", "--name", "Dana")
    t.launch(ML, "join", url, "--code", CODE, "--role", "ml", "--name", "Max")
    await asyncio.to_thread(t.window_wait, IC, "Max ●")
    lobby = await asyncio.to_thread(t.window_wait, ML, "Waiting for the facilitator")
    assert "Dana ●" in lobby and "Max ● ← you" in lobby

    fac = await RemoteSession.open(url, name="Lee", facilitator_token=token, timeout=5.0)
    try:
        await fac.start()
        for window in (IC, ML):
            await asyncio.to_thread(t.window_wait, window, "Signals (what you can observe)")

        await fac.fire_inject("confidence-drop")
        await asyncio.to_thread(t.window_wait, ML, "Guard classifier mean confidence")
        await fac.adhoc_inject(AdhocParams(channel="chat", to=["ic"], subject="Board wants a call"))
        ic_screen = await asyncio.to_thread(t.window_wait, IC, "Board wants a call")
        assert "Guard classifier mean confidence" not in ic_screen, "ml's private inject stays out"
        assert "Board wants a call" not in t.window_screen(ML)
        assert "Run/Pause" not in ic_screen, "players have no clock keys"

        t.window_keys(ML, "x", "Down", "Down", "Enter")
        dialog = await asyncio.to_thread(t.window_wait, IC, "approve “Take the assistant offline”")
        assert "asked by ML" in dialog
        await asyncio.sleep(KEY_GRACE)  # it opened by itself: it takes keys once a person could read it
        t.window_keys(IC, "y")
        under_way = await asyncio.to_thread(t.window_wait, ML, "⧗ Take the assistant offline")
        assert "ETA" in under_way
        await asyncio.to_thread(t.window_wait, IC, "⧗ Take the assistant offline")

        await end_through_hot_wash(fac)
        for window in (IC, ML):
            await asyncio.to_thread(t.window_wait, window, "Score ")
    finally:
        await fac.close()


async def test_a_player_who_closes_the_terminal_and_runs_the_join_command_again_is_back_in_the_seat(
        terminals: Terminals) -> None:
    """Max closes his terminal (the window goes, ``ttx join`` gets its SIGHUP) and runs the banner's
    join command again in a new one: the lobby shows one "Max ●", not "Max ○ away, Max ●"."""
    t = terminals
    t.launch(HOST, "host", "jailbreak-wave", "--port", "0", "--code", CODE, "--journal", "drill.jsonl",
             "--linger", "1")
    banner = await asyncio.to_thread(t.window_wait, HOST, "facilitator token:")
    url = banner.split("listening on ")[1].split()[0]
    join_max = ("join", url, f"--code={CODE}", "--role=ml", "--name=Max")
    t.launch(IC, "join", url, "--code", CODE, "--role", "ic", "--name", "Dana")
    t.launch(ML, *join_max)
    await asyncio.to_thread(t.window_wait, IC, "Max ●")
    t.tmux("kill-window", "-t", f"drill:{ML}", check=True)
    await asyncio.to_thread(t.window_wait, IC, "Max ○ away")
    t.launch(ML, *join_max)
    await asyncio.to_thread(t.window_wait, ML, "Max ● ← you")
    lobby = await asyncio.to_thread(t.window_wait, IC, "Max ●")
    assert "○ away" not in lobby and lobby.count("Max") == 1
    await asyncio.to_thread(t.window_wait, HOST, "Max (ml) rejoined")
