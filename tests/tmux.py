"""Drive programs in a real terminal: a private tmux server, keys in, screen text out."""

from __future__ import annotations

import itertools
import subprocess
import time
from collections.abc import Callable

from tests.tools import program

_SERVERS = itertools.count(1)
"""Numbers each server of a test process: a test never reuses a socket an earlier one killed."""


class TmuxServer:
    """A tmux server on its own ``-L`` socket, so tests never touch a user's sessions.

    Each instance gets a socket of its own (``socket`` plus a number): on a loaded machine a
    killed server can still be going away when the next test starts one under the same name,
    and its ``new-session`` then fails, leaving an empty pane."""

    def __init__(self, socket: str, target: str = "drill") -> None:
        self.socket = f"{socket}-{next(_SERVERS)}"
        self.target = target
        """Pane a call addresses when it names none (``session``, ``session:window`` or ``…:w.p``)."""

    def tmux(self, *args: str, check: bool = False) -> str:
        """Run a tmux command on this server; with ``check``, fail on a non-zero exit."""
        out = subprocess.run([program("tmux") or "tmux", "-L", self.socket, *args], capture_output=True,
                             text=True, timeout=10)
        assert not check or out.returncode == 0, out.stderr
        return out.stdout

    def screen(self, target: str | None = None, history: bool = False) -> str:
        """What the pane shows now (with ``history``, also the scrollback, lines joined)."""
        extra = ["-J", "-S", "-500"] if history else []
        return self.tmux("capture-pane", "-p", *extra, "-t", target or self.target)

    def keys(self, *keys: str, target: str | None = None) -> None:
        """Type tmux key names (``Enter``, ``Down``, ``y`` …) into the pane."""
        self.tmux("send-keys", "-t", target or self.target, *keys)

    def wait_for(self, check: str | Callable[[str], bool], target: str | None = None,
                 timeout: float = 20.0, history: bool = False) -> str:
        """Poll the pane until ``check`` (text it must show, or a predicate) holds; fail with its screen."""
        holds = (lambda screen: check in screen) if isinstance(check, str) else check
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen(target, history)
            if holds(screen):
                return screen
            time.sleep(0.1)
        raise AssertionError(f"{check!r} never held in {target or self.target}; it showed:\n{screen}")

    def kill(self) -> None:
        """Stop the server and everything running in it."""
        self.tmux("kill-server", check=False)
