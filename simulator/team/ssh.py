"""SSH seats: players reach a drill with the ``ssh`` they already have, and get the ``ttx join`` dashboard.

``ttx host … --ssh 2222`` serves SSH beside the websocket. ``ssh -p 2222 dana@drill-host`` is asked,
in the SSH login itself (keyboard-interactive), for the join code and a role; ``ic@…`` names the
role and is asked for a name; ``facilitator@…`` is asked for the facilitator token, ``evaluator@…``
for the evaluator token. Only after
that does the connection get a session, and the session is a real ``ttx join`` process of its
own in a pseudo-terminal sized like the player's (resizes follow), joined to the drill over the
websocket like any other seat. So one seat's crash, slowness or flood touches only that seat; the
drill server never renders a screen; and this module stays in the team layer (it spawns the
``ttx join`` command, it does not import the TUI).

A dropped SSH connection is a dropped seat, not a lost one: this module keeps the token of every
seat it opened (in memory, never on disk), and logging in again the same way — same name, same
role, the join code — rejoins that seat with its token, as a dropped websocket does; a session
still open for the seat (a half-dead connection) is closed. The seat token itself is accepted in
place of the join code too.

What an SSH login may do is narrow: keyboard-interactive only (no keys, so a client's public
keys are never asked for), one shell session per connection with a pty (no commands, no
subsystems such as sftp, no forwarding of ports, agents or X11), and nothing of the client's
environment reaches the seat but the terminal type, COLORTERM and the locale, each checked. The
seat inherits the host's ``TTX_`` settings (its history database, say), never the host's secrets.
Wrong codes and tokens are answered ever more slowly per address; connections per address and
seats in all are capped.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import re
import signal
import struct
import sys
import termios
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import asyncssh

from simulator.format.taxonomy import EVALUATOR, FACILITATOR, OBSERVERS, role_named, role_near
from simulator.team.keyfiles import beside, check_private, create_private
from simulator.team.limits import AddressBuckets
from simulator.team.server import DrillServer

HOST_KEY_FILE = "ttx-ssh-host-key"
"""The SSH host key (Ed25519, OpenSSH format, mode 0600), beside the journal."""
MAX_SEATS = 32
"""SSH seats open at once (each is a process of its own)."""
MAX_CONNECTIONS = 64
"""SSH connections at once, logged in or not."""
MAX_PER_ADDRESS = 8
"""SSH connections at once from one address."""
CONNECTS_PER_SECOND = 2.0
"""New SSH connections per second from one address (each costs a key exchange), in bursts of
:data:`CONNECT_BURST`; past it the server hangs up before the key exchange."""
CONNECT_BURST = 10.0
"""New SSH connections one address may open at once."""
LOGIN_SECONDS = 90.0
"""Time to answer the login questions."""
TRIES_PER_CONNECTION = 3
"""Wrong join codes or tokens one connection may give before it is refused for good."""
SLOWEST_ANSWER = 30.0
"""The longest an answer from an address with many wrong codes waits."""
FORGET_FAILURES = 600.0
"""Seconds without a wrong answer after which an address starts afresh."""
NAME_CHARS = 40
SEAT_TICKET = "TTX_SEAT_TICKET"
"""The environment variable that hands a seat's ``ttx join`` its ticket (see :meth:`DrillServer.vouch`)."""
SEAT_FD = "TTX_SEAT_FD"
"""The environment variable naming the pipe a seat's ``ttx join`` reports its token on."""
SEAT_VARIABLES = frozenset({"TTX_CODE", "TTX_TOKEN", "TTX_FACILITATOR_TOKEN", "TTX_EVALUATOR_TOKEN",
                            SEAT_FD, SEAT_TICKET})
"""What a seat's ``ttx join`` reads as who it is and how it reports back: only ever the seat's own
(from its login), never the host's (a host started with ``TTX_FACILITATOR_TOKEN`` set must not make
a player's seat the facilitator's). Any other ``TTX_`` name ending in ``_TOKEN``, ``_CODE`` or
``_TICKET`` is kept from the seat too (see :func:`seat_environment`)."""
HOST_TERMINAL = frozenset({"TERM", "COLORTERM", "COLUMNS", "LINES", "TMUX", "TMUX_PANE", "NO_COLOR"})
"""The host's terminal settings, which say nothing about the player's terminal."""
_TERM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
_LOCALE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
Challenge = tuple[str, str, str, list[tuple[str, bool]]]
"""A keyboard-interactive challenge: name, instructions, language, prompts (text, echoed?)."""
_CONTROLLING_TTY = ("import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
                    "os.execv(sys.argv[1], sys.argv[1:])")
"""Run in the seat's new session before ``ttx join``: make the pty its controlling terminal, so
the kernel sends it SIGWINCH on a resize and SIGHUP when the player hangs up."""


TERMINAL_RESTORE = (b"\x1b[<u"  # the kitty keyboard protocol off
                    b"\x1b[?1000l\x1b[?1003l\x1b[?1015l\x1b[?1006l\x1b[?1016l"  # mouse reports off
                    b"\x1b[?2004l\x1b[?2048l\x1b[?1004l"  # bracketed paste, resize and focus reports off
                    b"\x1b[?7h\x1b[0m\x1b[?1049l\x1b[?25h")  # wrap, colours, main screen, cursor
"""What a seat's TUI turns on, turned off: a seat the host hangs up (a Ctrl-C of ``ttx host`` after
the review) is killed before its TUI can undo its terminal modes, and the player's terminal was left
on the alternate screen with the cursor hidden and every mouse move typed as escape codes."""


@dataclass(frozen=True)
class Credential:
    """What a secret typed at the login is: the join code, the facilitator or evaluator token, or a
    seat's token."""

    kind: Literal["code", "facilitator", "evaluator", "token"]
    seat: str | None = None
    """The seat a token holds (a role, ``facilitator`` or ``evaluator``)."""
    name: str | None = None
    """The name of the player a token was issued to."""


@dataclass(frozen=True)
class Gate:
    """What SSH logins are checked against: the drill server, which knows the drill's secrets (by
    hash), its roles, and the wrong answers and lock-outs of every address, websocket and SSH alike."""

    identify: Callable[[str, str], Credential | None]
    """What a secret typed at ``address`` is (``identify(address, secret)``); a wrong one counts
    towards that address's lock-out."""
    locked_for: Callable[[str], float]
    """Seconds an address must still wait before its next answer is checked."""
    vouch: Callable[[str], str]
    """A ticket for a seat serving a login from an address: the seat's connections count there."""
    unvouch: Callable[[str], None]
    """Forget a ticket (the login has ended)."""
    roles: tuple[str, ...]
    title: str


def drill_gate(server: DrillServer) -> Gate:
    """The gate of a drill server: it asks the server about the join code, the facilitator and
    evaluator tokens and players' tokens, so a wrong code over SSH counts towards the same lock-out
    as one over a websocket."""
    def identify(address: str, secret: str) -> Credential | None:
        found: Credential | None = None
        if server.admits_code(secret):
            found = Credential("code")
        elif server.admits_facilitator(secret):
            found = Credential("facilitator")
        elif server.admits_evaluator(secret):
            found = Credential("evaluator")
        elif (player := server.player_with_token(secret)) is not None:
            found = Credential("token", player.seat, player.name)
        if found is None:
            server.secret_refused(address)
        else:
            server.secret_accepted(address)
        return found

    scenario = server.drill.scenario
    return Gate(identify, server.locked_for, server.vouch, server.unvouch,
                tuple(r.value for r in scenario.roles), scenario.title)


def host_key(journal: str | Path) -> asyncssh.SSHKey:
    """The SSH host key beside ``journal``, made on first use (so players' known_hosts stays right).

    Raises:
        KeyFileError: the key file there is not private.
    """
    path = beside(journal, HOST_KEY_FILE)
    if not path.exists():
        create_private(path, asyncssh.generate_private_key("ssh-ed25519").export_private_key())
    check_private(path)
    return asyncssh.read_private_key(path)


@dataclass(frozen=True)
class SeatRequest:
    """A logged-in player's seat: who, where, and the secret ``ttx join`` gets (in its environment)."""

    seat: str
    name: str
    secret: dict[str, str]
    """``TTX_CODE``, ``TTX_TOKEN``, ``TTX_FACILITATOR_TOKEN`` or ``TTX_EVALUATOR_TOKEN``: never on a
    command line."""

    @property
    def key(self) -> tuple[str, str]:
        """What a rejoin is recognised by: the seat and the name."""
        return self.seat, self.name.casefold()


@dataclass
class Failures:
    """Wrong answers per address, and how long the next answer from there waits."""

    counts: dict[str, tuple[int, float]] = field(default_factory=dict)

    def delay(self, address: str) -> float:
        count, last = self.counts.get(address, (0, 0.0))
        if count == 0 or time.monotonic() - last > FORGET_FAILURES:
            return 0.0
        return float(min(SLOWEST_ANSWER, 0.5 * 2 ** (count - 1)))

    def failed(self, address: str) -> int:
        count, last = self.counts.get(address, (0, 0.0))
        if time.monotonic() - last > FORGET_FAILURES:
            count = 0
        self.counts[address] = (count + 1, time.monotonic())
        return count + 1

    def forgive(self, address: str) -> None:
        self.counts.pop(address, None)


def seat_environment(host: Mapping[str, str], client: Mapping[str, str], term: str,
                     seat: Mapping[str, str]) -> dict[str, str]:
    """A seat's ``ttx join`` environment: the host's, ``TTX_`` settings included (the history it
    records to, ``TTX_DB``, is the one the host was started with), less the host's terminal and any
    seat secret of the host's (:data:`SEAT_VARIABLES`); from the player's SSH client only the checked
    terminal type, ``COLORTERM`` and locale (never a ``TTX_`` setting); then ``seat``, the seat's own
    secret, report pipe and ticket."""
    env = {k: v for k, v in host.items() if k not in HOST_TERMINAL and not _seat_secret(k)}
    if client.get("COLORTERM") in ("truecolor", "24bit"):
        env["COLORTERM"] = client["COLORTERM"]
    for name in ("LANG", "LC_ALL", "LC_CTYPE"):
        if _LOCALE.fullmatch(client.get(name, "")):
            env[name] = client[name]
    env.update(TERM=term, **seat)
    return env


def _seat_secret(name: str) -> bool:
    """Whether a host variable names a seat's secret (see :data:`SEAT_VARIABLES`)."""
    secret_like = name.startswith("TTX_") and name.endswith(("_TOKEN", "_CODE", "_TICKET"))
    return name in SEAT_VARIABLES or secret_like


class SshSeats:
    """The SSH server of a drill: logins checked against its gate, one ``ttx join`` per seat.

    ``url`` is where the seats' ``ttx join`` reaches the drill server (on this machine), with
    ``pin`` when that is ``wss://``.
    """

    def __init__(self, gate: Gate, url: str, key: asyncssh.SSHKey, *, pin: str | None = None,
                 workdir: Path | None = None, log: Callable[[str], None] | None = None,
                 max_seats: int = MAX_SEATS, max_per_address: int = MAX_PER_ADDRESS) -> None:
        self.gate, self.url, self.key, self.pin = gate, url, key, pin
        self.workdir = workdir or Path.cwd()
        """Where the seats run (a review's Save writes there: beside the journal)."""
        self.log = log or (lambda text: print(f"ttx host: ssh: {text}", file=sys.stderr, flush=True))
        """Where logins, their addresses and repeated wrong answers are reported (the host's stderr)."""
        self.max_seats, self.max_per_address = max_seats, max_per_address
        self.fingerprint: str = key.get_fingerprint("sha256")
        """``SHA256:…``, as ``ssh`` shows it on first connect."""
        self.tokens: dict[tuple[str, str], str] = {}
        """Tokens of the seats opened over SSH, by (seat, name): how a dropped player rejoins."""
        self.live: dict[tuple[str, str], Terminal] = {}
        self.failures = Failures()
        self.arrivals = AddressBuckets(CONNECTS_PER_SECOND, CONNECT_BURST)
        """New connections per address (see :data:`CONNECTS_PER_SECOND`)."""
        self.connections: dict[str, int] = {}
        """Open SSH connections per address."""
        self.logins: set[Login] = set()
        """Every open SSH connection (logged in or not), to close them all on :meth:`stop`."""
        self.port: int | None = None
        """The port listened on, once started."""
        self._acceptor: asyncssh.SSHAcceptor | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0 picks a free port); returns the port."""
        self._acceptor = await asyncssh.create_server(
            lambda: Login(self), host, port, server_host_keys=[self.key], server_version="ttx",
            encoding=None, allow_pty=True, agent_forwarding=False, x11_forwarding=False, allow_scp=False,
            gss_kex=False, gss_auth=False, login_timeout=LOGIN_SECONDS, keepalive_interval=15.0,
            keepalive_count_max=4)
        self.port = self._acceptor.get_port()
        return self.port

    async def stop(self) -> None:
        """Stop listening and hang up every seat (each ``ttx join`` ends)."""
        if self._acceptor is not None:
            self._acceptor.close()
            await self._acceptor.wait_closed()
        seats = list(self.live.values())
        await asyncio.gather(*(seat.hang_up("the drill host is shutting down") for seat in seats))
        for login in list(self.logins):
            if login.conn is not None:
                login.conn.close()

    async def check(self, address: str, secret: str) -> Credential | None:
        """What ``secret`` is, after the wait wrong answers from ``address`` have earned: this
        back-off, or the drill server's lock-out of the address if longer (an answer that would
        wait more than :data:`SLOWEST_ANSWER` for it is refused unchecked)."""
        wait = max(self.failures.delay(address), self.gate.locked_for(address))
        if wait > SLOWEST_ANSWER:
            return None
        if wait:
            await asyncio.sleep(wait)
        found = self.gate.identify(address, secret) if 0 < len(secret) <= 256 else None
        if found is None:
            count = self.failures.failed(address)
            if count in (5, 25, 125) or count % 500 == 0:
                self.log(f"{count} wrong join codes or tokens from {address}; each answer from there now "
                          f"waits {self.failures.delay(address):.0f} s")
        else:
            self.failures.forgive(address)
        return found

    def seat_for(self, credential: Credential, secret: str, seat: str, name: str) -> SeatRequest:
        """The seat a login opens: a rejoin with the kept token when this seat was open before."""
        if credential.kind == "token":
            request = SeatRequest(seat, name, {"TTX_TOKEN": secret})
            self.tokens[request.key] = secret
            return request
        kept = self.tokens.get((seat, name.casefold()))
        if kept is not None:
            return SeatRequest(seat, name, {"TTX_TOKEN": kept})
        if credential.kind == "facilitator":
            return SeatRequest(seat, name, {"TTX_FACILITATOR_TOKEN": secret})
        if credential.kind == "evaluator":
            return SeatRequest(seat, name, {"TTX_EVALUATOR_TOKEN": secret})
        return SeatRequest(seat, name, {"TTX_CODE": secret.strip().upper()})

    def command(self, request: SeatRequest) -> list[str]:
        """The ``ttx join`` a seat runs (no secret in it: that goes in the environment)."""
        args = [sys.executable, "-c", _CONTROLLING_TTY, sys.executable, "-m", "simulator.cli", "join",
                self.url, f"--name={request.name}"]
        if request.seat not in OBSERVERS and "TTX_CODE" in request.secret:
            args.append(f"--role={request.seat}")
        if self.pin is not None:
            args.append(f"--pin={self.pin}")
        return args


class Login(asyncssh.SSHServer):
    """One SSH connection: the login conversation, then at most one seat."""

    def __init__(self, seats: SshSeats) -> None:
        self.seats = seats
        self.conn: asyncssh.SSHServerConnection | None = None
        self.address = "?"
        self.username = ""
        self.stage = "secret"
        self.credential: Credential | None = None
        self.secret = ""
        self.seat: str | None = None
        self.retries = 0
        self.wrong = 0
        """Wrong secrets given on this connection."""
        self.request: SeatRequest | None = None
        self.opened = False

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        self.seats.logins.add(self)
        peer = conn.get_extra_info("peername")
        self.address = str(peer[0]) if peer else "?"
        counts = self.seats.connections
        counts[self.address] = counts.get(self.address, 0) + 1
        if (sum(counts.values()) > MAX_CONNECTIONS or counts[self.address] > self.seats.max_per_address
                or not self.seats.arrivals.take(self.address)):
            conn.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.seats.logins.discard(self)
        counts = self.seats.connections
        counts[self.address] = counts.get(self.address, 1) - 1
        if counts[self.address] <= 0:
            counts.pop(self.address, None)

    def begin_auth(self, username: str) -> bool:
        self.username = username
        if self.conn is not None:
            self.conn.send_auth_banner(f"ttx drill: {_printable(self.seats.gate.title)}\r\n")
        return True

    def kbdint_auth_supported(self) -> bool:
        return True

    def get_kbdint_challenge(self, username: str, lang: str, submethods: str) -> Challenge | bool:
        if self.wrong >= TRIES_PER_CONNECTION:
            return False
        self.stage, self.credential, self.seat, self.retries = "secret", None, None, 0
        locked = self.seats.gate.locked_for(self.address)
        wait = (f"Too many wrong join codes from your address: locked out for {locked:.0f} s more. "
                if locked > 0 else "") + self._wrong_text(username)
        if username == FACILITATOR:
            return _ask(f"{wait}Log in as the facilitator.", ("Facilitator token: ", False))
        if username == EVALUATOR:
            return _ask(f"{wait}Log in as an evaluator.", ("Evaluator token: ", False))
        return _ask(f"{wait}Give the join code from the facilitator (or your seat token to rejoin).",
                    ("Join code: ", False))

    def _wrong_text(self, username: str) -> str:
        """Why the login asks again, after a wrong secret: what was wrong, where the right one is,
        and how many tries this connection has left (the player's ``ssh`` otherwise only repeats
        the prompt, then says "Permission denied")."""
        if self.wrong == 0:
            return ""
        left = TRIES_PER_CONNECTION - self.wrong
        tries = f"{left} {'try' if left == 1 else 'tries'} left. "
        if username == FACILITATOR:
            return f"Wrong facilitator token (use the one ttx host printed). {tries}"
        if username == EVALUATOR:
            return f"Wrong evaluator token (use the one ttx host printed). {tries}"
        return f"Wrong join code (ask the facilitator for the code ttx host printed). {tries}"

    async def validate_kbdint_response(self, username: str, responses: Sequence[str]) -> Any:
        answer = responses[0] if responses else ""
        if self.stage == "secret":
            return await self._secret(username, answer)
        if self.stage == "role":
            return self._role(answer.strip().lower())
        return self._name(answer.strip())

    async def _secret(self, username: str, answer: str) -> Any:
        credential = await self.seats.check(self.address, answer.strip())
        if credential is None or (username in OBSERVERS and credential.kind != username):
            self.wrong += 1
            return False
        self.credential, self.secret = credential, answer.strip()
        if credential.kind == "token":
            assert credential.seat is not None and credential.name is not None
            return self._done(credential.seat, credential.name)
        if credential.kind in OBSERVERS:
            self.seat = credential.kind
        elif username.lower() in self.seats.gate.roles:
            self.seat = username.lower()
        if self.seat is None:
            return self._ask_role("")
        if username.lower() in (*OBSERVERS, self.seat) or not _good_name(username):
            return self._ask_name("")
        return self._done(self.seat, username)

    def _role(self, answer: str) -> Any:
        named = role_named(answer)
        answer = named.value if named is not None else answer
        if answer not in self.seats.gate.roles:
            near = role_near(answer, self.seats.gate.roles)
            hint = f" Did you mean {near.value}?" if near is not None else ""
            return self._retry(lambda: self._ask_role(f"{_printable(answer)!r} is not a role in play.{hint}"))
        self.seat = answer
        return self._done(answer, self.username) if _good_name(self.username) else self._ask_name("")

    def _name(self, answer: str) -> Any:
        if not _good_name(answer):
            return self._retry(lambda: self._ask_name(f"A name is 1 to {NAME_CHARS} printable characters."))
        assert self.seat is not None
        return self._done(self.seat, answer)

    def _ask_role(self, why: str) -> Any:
        self.stage = "role"
        roles = ", ".join(self.seats.gate.roles)
        return _ask(f"{why} Roles in play: {roles}.".strip(), (f"Role ({roles}): ", True))

    def _ask_name(self, why: str) -> Any:
        self.stage = "name"
        return _ask(f"{why} Your name is shown to the team.".strip(), ("Your name: ", True))

    def _retry(self, ask: Callable[[], Any]) -> Any:
        self.retries += 1
        return False if self.retries > 3 else ask()

    def _done(self, seat: str, name: str) -> bool:
        if len(self.seats.live) >= self.seats.max_seats and (seat, name.casefold()) not in self.seats.live:
            self.seats.log(f"refused a login from {self.address}: all {self.seats.max_seats} SSH seats "
                            "are taken")
            return False
        assert self.credential is not None
        self.request = self.seats.seat_for(self.credential, self.secret, seat, name)
        token = " with its seat's token" if "TTX_TOKEN" in self.request.secret else ""
        self.seats.log(f"{_printable(name)} ({seat}) logged in from {self.address}{token}")
        return True

    def session_requested(self) -> Terminal | bool:
        if self.request is None or self.opened:
            return False  # one seat per connection
        self.opened = True
        return Terminal(self.seats, self.request, self.address)


class Terminal(asyncssh.SSHServerSession[bytes]):
    """An SSH seat: the player's terminal bridged to a pty where ``ttx join`` runs."""

    def __init__(self, seats: SshSeats, request: SeatRequest, address: str = "?") -> None:
        self.seats, self.request = seats, request
        self.address = address
        """The player's address: the seat's connections to the drill server count against it."""
        self.ticket: str | None = None
        """While the seat runs: the drill server's ticket for ``address`` (in the seat's environment)."""
        self.chan: asyncssh.SSHServerChannel[bytes] | None = None
        self.term = "xterm-256color"
        self.size = (80, 24, 0, 0)
        self.has_pty = False
        self.master: int | None = None
        self.process: asyncio.subprocess.Process | None = None
        self.pending = bytearray()
        """Keys the seat has not read yet (the SSH channel is paused meanwhile)."""
        self._reading = False
        self._gone = False
        """The player's connection has closed."""
        self._output_done: asyncio.Future[None] | None = None
        self._done: asyncio.Task[None] | None = None

    def connection_made(self, chan: asyncssh.SSHServerChannel[bytes]) -> None:
        self.chan = chan

    def pty_requested(self, term_type: str, term_size: tuple[int, int, int, int],
                      term_modes: Mapping[int, int]) -> bool:
        self.has_pty = True
        self.term = term_type if _TERM.fullmatch(term_type or "") else "xterm-256color"
        self.size = term_size
        return True

    def shell_requested(self) -> bool:
        return True

    def exec_requested(self, command: str) -> bool:
        return False

    def subsystem_requested(self, subsystem: str) -> bool:
        return False

    def session_started(self) -> None:
        assert self.chan is not None
        if not self.has_pty:
            self.chan.write(b"ttx: an SSH seat is a dashboard and needs a terminal: connect with ssh -t\r\n")
            self.chan.exit(1)
            return
        self._done = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        """Replace any session this seat still has, run ``ttx join`` on a pty, relay until it ends."""
        old = self.seats.live.get(self.request.key)
        self.seats.live[self.request.key] = self
        if old is not None:
            await old.hang_up("this seat was opened from another SSH connection")
        status = 1
        self.ticket = self.seats.gate.vouch(self.address)
        try:
            status = await self._spawn_and_wait()
        except OSError as exc:
            self._write(f"ttx: cannot start the seat: {exc.strerror or exc}\r\n".encode())
        finally:
            self.seats.gate.unvouch(self.ticket)
            if self.seats.live.get(self.request.key) is self:
                del self.seats.live[self.request.key]
        if self.chan is not None and not self.chan.is_closing():
            self.chan.exit(status)

    async def _spawn_and_wait(self) -> int:
        master, slave = os.openpty()
        report_r, report_w = os.pipe()
        try:
            self.master = master
            self._set_size(self.size)
            os.set_blocking(master, False)
            self.process = await asyncio.create_subprocess_exec(
                *self.seats.command(self.request), stdin=slave, stdout=slave, stderr=slave,
                start_new_session=True, pass_fds=(report_w,), cwd=self.seats.workdir,
                env=self._environment(report_w))
        except BaseException:
            os.close(master)
            os.close(report_r)
            self.master = None
            raise
        finally:
            os.close(slave)
            os.close(report_w)
        loop = asyncio.get_running_loop()
        reported = loop.create_task(self._remember_token(report_r))
        self._output_done = output_done = loop.create_future()
        self._start_reading()
        if self._gone:
            await self.hang_up(None)
        status = await self.process.wait()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(output_done), 2.0)
        self._close_master()
        await reported
        return status if status >= 0 else 128 - status

    async def _remember_token(self, fd: int) -> None:
        """Keep the token ``ttx join`` reports once it has joined: a dropped player rejoins with it."""
        report = await _read_report(fd)
        if isinstance(report.get("token"), str):
            self.seats.tokens[self.request.key] = report["token"]

    def _environment(self, report_fd: int) -> dict[str, str]:
        """The seat's environment (see :func:`seat_environment`), with this seat's secret and ticket."""
        seat = {**self.request.secret, SEAT_FD: str(report_fd)}
        if self.ticket is not None:
            seat[SEAT_TICKET] = self.ticket
        client = self.chan.get_environment() if self.chan is not None else {}
        return seat_environment(os.environ, client, self.term, seat)

    # --- bytes both ways ------------------------------------------------------------------

    def _start_reading(self) -> None:
        if self.master is not None and not self._reading:
            asyncio.get_running_loop().add_reader(self.master, self._from_seat)
            self._reading = True

    def _stop_reading(self) -> None:
        if self.master is not None and self._reading:
            asyncio.get_running_loop().remove_reader(self.master)
        self._reading = False

    def _from_seat(self) -> None:
        """Screen output of the seat, to the player (paused while the SSH channel is backed up)."""
        assert self.master is not None
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""  # EIO: the seat closed its terminal
        if not data:
            self._stop_reading()
            if self._output_done is not None and not self._output_done.done():
                self._output_done.set_result(None)
            return
        self._write(data)

    def _write(self, data: bytes) -> None:
        if self.chan is not None and not self.chan.is_closing():
            self.chan.write(data)

    def pause_writing(self) -> None:
        self._stop_reading()

    def resume_writing(self) -> None:
        self._start_reading()

    def data_received(self, data: bytes, datatype: int | None) -> None:
        """Keys from the player, to the seat; the channel pauses while the seat has not read them."""
        self.pending += data
        self._flush_keys()

    def _flush_keys(self) -> None:
        if self.master is None:
            self.pending.clear()
            return
        loop = asyncio.get_running_loop()
        while self.pending:
            try:
                sent = os.write(self.master, self.pending)
            except BlockingIOError:
                break
            except OSError:
                self.pending.clear()
                break
            del self.pending[:sent]
        loop.remove_writer(self.master)
        if self.pending and self.chan is not None:
            self.chan.pause_reading()
            loop.add_writer(self.master, self._flush_keys)
        elif self.chan is not None:
            self.chan.resume_reading()

    def terminal_size_changed(self, width: int, height: int, pixwidth: int, pixheight: int) -> None:
        """The player's terminal was resized: so is the seat's (the kernel tells it with SIGWINCH)."""
        self.size = (width, height, pixwidth, pixheight)
        if self.master is not None:
            self._set_size(self.size)

    def _set_size(self, size: tuple[int, int, int, int]) -> None:
        width, height, pixwidth, pixheight = size
        if self.master is not None and width > 0 and height > 0:
            winsize = struct.pack("HHHH", min(height, 1000), min(width, 1000), pixwidth & 0xFFFF,
                                  pixheight & 0xFFFF)
            fcntl.ioctl(self.master, termios.TIOCSWINSZ, winsize)

    def eof_received(self) -> bool:
        return True

    def break_received(self, msec: int) -> bool:
        return True

    def signal_received(self, signal: str) -> None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        """The player went away (or was dropped): hang the seat up; the token lets them rejoin."""
        self.chan = None
        self._gone = True
        if self._output_done is not None and not self._output_done.done():
            self._output_done.set_result(None)  # no one is left to show the last output to
        if self.process is not None and self.process.returncode is None:
            asyncio.get_running_loop().create_task(self.hang_up(None))

    async def hang_up(self, why: str | None) -> None:
        """End this seat: tell the player why (if still there), close the channel, end ``ttx join``."""
        if why and self.chan is not None and not self.chan.is_closing():
            self.chan.write(TERMINAL_RESTORE + f"\r\nttx: {why}.\r\n".encode())
            self.chan.exit(0)
        self.chan = None
        process = self.process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGHUP)
        try:
            await asyncio.wait_for(process.wait(), 3.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()

    def _close_master(self) -> None:
        if self.master is not None:
            self._stop_reading()
            asyncio.get_running_loop().remove_writer(self.master)
            os.close(self.master)
            self.master = None


async def _read_report(fd: int) -> dict[str, Any]:
    """The seat's report (``ttx join`` writes its token there once joined), read to its end."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=4096)
    transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                                os.fdopen(fd, "rb", buffering=0))
    data = b""
    try:
        while len(data) < 4096 and (chunk := await reader.read(4096)):
            data += chunk
    finally:
        transport.close()
    try:
        report = json.loads(data or b"{}")
    except ValueError:
        return {}
    return report if isinstance(report, dict) else {}


def _ask(instructions: str, *prompts: tuple[str, bool]) -> Challenge:
    """A keyboard-interactive challenge: the instructions shown, then each prompt (echoed or not)."""
    return "", instructions, "", list(prompts)


def _good_name(name: str) -> bool:
    """A name the team can read: 1-40 printable characters (no controls, escapes or bidi overrides)."""
    return 0 < len(name.strip()) <= NAME_CHARS and name.isprintable()


def _printable(text: str) -> str:
    return "".join(c for c in text if c.isprintable())[:80]
