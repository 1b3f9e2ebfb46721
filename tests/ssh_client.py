"""A player's SSH client for tests and benchmarks: asyncssh logs in, pyte shows what the terminal shows."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

import asyncssh
import pyte


class Answers(asyncssh.SSHClient):
    """Answers the login's keyboard-interactive questions from a script, and records them."""

    def __init__(self, answers: Sequence[str]) -> None:
        self.answers = list(answers)
        self.asked: list[str] = []
        """Every prompt (and its instructions) the server showed, in order."""

    def kbdint_auth_requested(self) -> str:
        return ""

    def kbdint_challenge_received(self, name: str, instructions: str, lang: str,
                                  prompts: Sequence[tuple[str, bool]]) -> list[str] | None:
        """The next scripted answers; ``None`` (give up) once they run out."""
        self.asked += [instructions, *(text for text, _ in prompts)]
        if len(self.answers) < len(prompts):
            return None
        return [self.answers.pop(0) for _ in prompts]


class Screen(asyncssh.SSHClientSession[bytes]):
    """The player's terminal: bytes from the seat drawn on a pyte screen."""

    def __init__(self, width: int, height: int) -> None:
        self.screen = pyte.Screen(width, height)
        self.stream = pyte.ByteStream(self.screen)
        self.received = 0
        """Bytes received so far."""
        self.tail = b""
        """The last 4 KiB received, as sent (the terminal modes a pyte screen does not keep)."""
        self.last_data = 0.0
        """``time.perf_counter()`` when the last bytes arrived."""
        self.arrivals: deque[float] = deque(maxlen=256)
        """When recent bytes arrived (``time.perf_counter()``)."""
        self.drawing = True
        """Draw what arrives on :attr:`screen` (a benchmark turns it off to time only)."""
        self.changed = asyncio.Event()
        self.closed = asyncio.Event()
        self.exit_status: int | None = None
        self.chan: asyncssh.SSHClientChannel[bytes] | None = None

    def connection_made(self, chan: asyncssh.SSHClientChannel[bytes]) -> None:
        self.chan = chan

    def data_received(self, data: bytes, datatype: int | None) -> None:
        self.last_data = time.perf_counter()
        self.arrivals.append(self.last_data)
        self.received += len(data)
        self.tail = (self.tail + data)[-4096:]
        if self.drawing:
            self.stream.feed(data)
        self.changed.set()

    def exit_status_received(self, status: int) -> None:
        self.exit_status = status

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()
        self.changed.set()

    def first_since(self, moment: float) -> float:
        """When the first bytes after ``moment`` arrived."""
        return min(t for t in self.arrivals if t >= moment)

    def text(self) -> str:
        """What the terminal shows, line by line."""
        return "\n".join(self.screen.display)

    def resize(self, width: int, height: int) -> None:
        """Resize the terminal, as the player dragging the window would."""
        assert self.chan is not None
        self.screen.resize(height, width)
        self.chan.change_terminal_size(width, height)

    def type(self, keys: str | bytes) -> None:
        assert self.chan is not None
        self.chan.write(keys.encode() if isinstance(keys, str) else keys)

    async def wait_for(self, check: str | Callable[[str], bool], timeout: float = 30.0) -> str:
        """Wait until the screen shows ``check`` (text, or a predicate on the text); fail with the screen."""
        holds = (lambda text: check in text) if isinstance(check, str) else check
        deadline = time.monotonic() + timeout
        while not holds(self.text()):
            left = deadline - time.monotonic()
            if left <= 0 or (self.closed.is_set() and not holds(self.text())):
                raise AssertionError(f"{check!r} never showed; the screen:\n{self.text()}")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), min(left, 0.5))
        return self.text()


async def connect(port: int, username: str, answers: Sequence[str], host_key: Any = None,
                  **options: Any) -> tuple[asyncssh.SSHClientConnection, Answers]:
    """Log in to the SSH seats on ``port`` as ``username`` answering ``answers`` (no session yet).

    ``host_key`` (the server's public key) is the only one trusted; without it any key is.
    """
    answerer = Answers(answers)
    known: Any = ([host_key], [], []) if host_key is not None else None
    conn, _ = await asyncssh.create_connection(
        lambda: answerer, "127.0.0.1", port, username=username, known_hosts=known, client_keys=None,
        agent_path=None, password=None, preferred_auth="keyboard-interactive", **options)
    return conn, answerer


async def log_in(port: int, username: str, answers: Sequence[str], host_key: Any = None,
                 width: int = 100, height: int = 30, **options: Any
                 ) -> tuple[asyncssh.SSHClientConnection, Screen, Answers]:
    """Log in (see :func:`connect`) and open the terminal, ``width`` × ``height``."""
    conn, answerer = await connect(port, username, answers, host_key, **options)
    screen = Screen(width, height)
    await conn.create_session(lambda: screen, term_type="xterm-256color", term_size=(width, height),
                              encoding=None)
    return conn, screen, answerer
