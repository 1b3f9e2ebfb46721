"""Drive programs in a real terminal: a private tmux server, keys in, screen text out."""

from __future__ import annotations

import itertools
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.tools import program
from tui.app import KEY_GRACE

TTX = Path(sys.executable).parent / "ttx"
"""The ``ttx`` of the virtualenv running the tests."""

EXITED = "EXITED"
"""What a pane started by :func:`sized_terminal` prints when its program has ended (the pane stays)."""

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


def sized_terminal(socket: str, cwd: Path, cols: int, rows: int, command: str) -> TmuxServer:
    """A private tmux server whose session ``drill`` runs ``command`` in a ``cols``×``rows`` window
    from ``cwd``; when the program ends the pane prints :data:`EXITED` and stays, so a test can read
    its last screen. Kill it after (:meth:`TmuxServer.kill`)."""
    term = TmuxServer(socket)
    # stty pins the size before the program asks for it (tmux may size the pty after the command starts).
    term.tmux("new-session", "-d", "-s", "drill", "-x", str(cols), "-y", str(rows), "-c", str(cwd),
              f"stty cols {cols} rows {rows}; {command}; echo {EXITED}; sleep 60", check=True)
    return term


def play_terminal(socket: str, cwd: Path, cols: int, rows: int, *args: str) -> TmuxServer:
    """``ttx play ARGS`` (default ``--seed 7``) in a ``cols``×``rows`` tmux window, cwd ``cwd``."""
    words = " ".join(shlex.quote(a) for a in (args or ("--seed", "7")))
    return sized_terminal(socket, cwd, cols, rows, f"{TTX} play {words}")


ASKS = "esc Later"
"""What the footer shows while a question dialog is open (Esc postpones the question)."""


CONFIRMS = "y Yes n No"
"""What the footer shows while a yes/no confirmation (the one ``e`` opens) is open."""


def footer(screen: str) -> str:
    """The key footer of ``screen``: its last two lines (it wraps to two at 80 and 100 columns)."""
    return " ".join(screen.rstrip().splitlines()[-2:])


def asks_a_question(screen: str) -> bool:
    """Whether ``screen`` shows a question dialog: its footer offers "esc Later"."""
    return ASKS in footer(screen)


def start_paused(term: TmuxServer) -> str:
    """Start a ``ttx play`` drill from its briefing and pause its clock, as a tester does before stepping
    through it with ``n``; the paused dashboard's screen."""
    term.wait_for("Start the drill")
    term.keys("Enter")
    term.wait_for("Signals (what you can observe)")
    term.keys("Space")
    return term.wait_for("PAUSED")


def settled_after(term: TmuxServer, before: str, within: float = 5.0) -> str:
    """The pane once it differs from ``before`` and two captures in a row agree (a capture can catch a
    frame half drawn), or what it shows after ``within`` seconds."""
    deadline = time.monotonic() + within
    last = term.screen()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        screen = term.screen()
        if screen != before and screen == last:
            return screen
        last = screen
    return last


def end_drill_in_terminal(term: TmuxServer, review: str = "Score", timeout: float = 20.0) -> str:
    """End a ``ttx play`` drill as a user does and return the review's screen once it shows ``review``.

    ``e`` ``y`` ends the drill; when that starts its hot wash, Esc postpones each hot-wash question as
    its dialog opens, and ``e`` ``y`` again ends the hot wash. Each key follows from what the pane
    shows once it has settled (a question dialog: Esc; the confirmation: ``y``, then the review or a
    hot-wash dialog follows; else ``e``): the next dialog opens a moment after the last one closes,
    and an ``e`` lost in between is pressed again."""
    deadline = time.monotonic() + 3 * timeout
    screen = term.screen()
    while review not in screen:
        assert time.monotonic() < deadline, f"the drill never reached {review!r}; it showed:\n{screen}"
        if asks_a_question(screen):
            time.sleep(KEY_GRACE)  # a dialog that opened by itself takes no keys at first
            term.keys("Escape")
            screen = settled_after(term, screen)
        elif CONFIRMS in footer(screen):
            term.keys("y")
            screen = term.wait_for(lambda s: review in s or asks_a_question(s), timeout=timeout)
        else:
            term.keys("e")
            screen = settled_after(term, screen)
    return screen
