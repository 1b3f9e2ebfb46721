"""The drill server: one authoritative drill paced in real time, many websocket clients, a durable journal.

Clients send intents; the server checks the frame (rate, size, strict schema, bounded shape,
token, role), stamps the sim time, lets the engine decide, appends every new event to the
journal and fsyncs it, and only then fans the events out (per seat, see :func:`delivered`) and
acknowledges. So nothing a client has seen is missing from the journal, and ``--resume`` after
``kill -9`` rebuilds exactly the drill the clients knew. The fsync runs in a worker thread and
covers everything appended meanwhile (group commit), so the event loop never waits on the disk.

Nothing a client sends reaches the journal or another seat before it is validated to a bounded
shape (:mod:`simulator.team.protocol`); every frame out is strict JSON paged under the client's
limit (:mod:`simulator.team.outbox`); rates, caps and lock-outs are per player and per address
(:mod:`simulator.team.limits`).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import ssl
import time
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ValidationError
from pydantic_core import from_json
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from simulator.engine import historical
from simulator.engine.baseline import HarmPoint, for_drill
from simulator.engine.clock import DrillClock, Pacer
from simulator.engine.drill import Drill
from simulator.engine.events import SESSION_KINDS, Event, Kind
from simulator.engine.journal import Journal, JournalWriter
from simulator.engine.payloads import Inject, PlayerJoined, payload_of
from simulator.engine.replay import first_difference, load_journal_scenario, rebuild
from simulator.engine.runner import finish, new_drill
from simulator.format.commands import EVALUATOR_REFUSAL, Command
from simulator.format.loader import LoadedScenario
from simulator.format.taxonomy import EVALUATOR, FACILITATOR, OBSERVERS, Role
from simulator.team.limits import AddressBuckets, Bucket, Limits, Lockouts, address_key, is_loopback
from simulator.team.outbox import Outbox, Shared, pages, strict_json, wire_json
from simulator.team.protocol import (
    FACILITATOR_FRAMES,
    FRAME_LIMIT,
    HARD_FRAME_LIMIT,
    MAX_INT,
    OBSERVER_FRAMES,
    PAGE_LIMIT,
    SEAT_TICKET_HEADER,
    Ack,
    Act,
    AdhocInject,
    Alert,
    Authed,
    Chat,
    ClockState,
    CloseQuestion,
    End,
    Error,
    FireInject,
    Join,
    JoinEvaluator,
    JoinFacilitator,
    Lobby,
    LobbyChange,
    Observe,
    Pause,
    Reconnect,
    Resume,
    Seat,
    Skip,
    Speed,
    Start,
    Welcome,
    client_frames,
    lobby_order,
    printable,
)

__all__ = ["CODE_ALPHABET", "DrillServer", "Limits", "Outbox", "Player", "ResumeError", "delivered",
           "digest", "new_code", "new_token", "same_name"]

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""Join-code letters: no 0/O or 1/I/L to misread over a call (and never a leading ``-``)."""
CODE_PATTERN = re.compile(r"[A-Z0-9]{6,32}")
"""A join code the host chooses with ``--code``: 6 to 32 letters and digits."""
POLICY = "team"
"""What a team drill's journal header records as its policy."""
CLOSE_LIMIT = 2 * FRAME_LIMIT
"""A client frame this large closes the connection (1009) unread; up to it, one over
:data:`FRAME_LIMIT` gets an error reply. With at most 16 frames queued per connection, that
bounds what one connection can make the server hold."""
CLOSE_TIMEOUT = 2.0
"""Seconds a closing connection may take to answer the close before it is cut (a peer that never
answers cannot keep sockets open for long)."""
PAGE_BYTES = PAGE_LIMIT
"""Bytes of events per ``snapshot`` or ``reveal`` frame (see :data:`PAGE_LIMIT`)."""
REASON_LIMIT = 300
"""Characters of a refusal reason sent back or journaled (client text in it is escaped first)."""

log = logging.getLogger("ttx.host")


def new_code(length: int = 6) -> str:
    """A fresh join code, e.g. ``K7Q2MD``."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def new_token() -> str:
    """A fresh secret token (192 bits), never starting with ``-`` (no command line reads it as an option)."""
    while True:
        token = secrets.token_urlsafe(24)
        if not token.startswith("-"):
            return token


def digest(secret: str) -> str:
    """What the journal stores instead of a secret: its sha256."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


def _same(secret: str, stored: str) -> bool:
    return hmac.compare_digest(digest(secret), stored)


def _normal_code(code: str) -> str:
    """A join code as typed (any case, spaces) in the form it is hashed in."""
    return "".join(code.split()).upper()


def same_name(shown: str, given: str) -> bool:
    """Whether a join's ``given`` name is the player ``shown`` in the lobby, for taking a seat back.

    Names are compared as a person reads them, not byte for byte: Unicode compatibility forms are
    folded (NFKC: a full-width "Ｍａｘ" is "Max"), runs of spaces count as one and the ends are
    trimmed, and case is folded ("max" is "Max"). Case-folding because an SSH login name is
    usually lower case (``ssh max@drill-host``) while the same person typed "Max" in ``ttx join``,
    and the SSH server already keys seats by the case-folded name; two different people of one
    role whose names differ only in case are far rarer, and a live seat is never taken anyway.
    """
    return _name_key(shown) == _name_key(given)


def _name_key(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name).split()).casefold()


def _reason(text: str) -> str:
    """A refusal reason safe to send and journal: client text escaped, length bounded."""
    shown = printable(text)
    return shown if len(shown) <= REASON_LIMIT else shown[:REASON_LIMIT - 1] + "…"


class ResumeError(Exception):
    """A journal cannot be hosted or resumed; the message says why."""


@dataclass
class Player:
    """Someone who joined: a role (or the facilitator seat), the hash of their token, their budget."""

    id: str
    name: str
    seat: str
    token_hash: str
    online: int = 0
    """Open connections of this player."""
    offline_since: float | None = None
    """Monotonic time the last connection closed (``None`` while connected)."""
    bucket: Bucket | None = None
    """Frames this player may still send (shared by all their connections)."""


@dataclass(eq=False)
class Connection:
    """One websocket and what the server knows about it."""

    ws: ServerConnection
    outbox: Outbox
    bucket: Bucket
    address: str
    player: Player | None = None
    token_hash: str | None = None
    """The hash of the token this connection's player was welcomed with (a player rejoined by
    name has one token per rejoin; each works, on the connection it was given to)."""
    opened: float = field(default_factory=time.monotonic)
    flooding: int = 0
    """Frames dropped in the current flood (0: not flooding)."""
    unjoined_frames: int = 0
    """Frames received while not joined."""
    closing: bool = False
    timer: asyncio.TimerHandle | None = None
    """Closes the connection if it has not joined in time."""


@dataclass
class Seating:
    """Which roles have been claimed, and which events were forwarded to the incident commander.

    A private inject to a role nobody holds goes to the incident commander as well. Both are a
    fold of the journal, so a resumed server delivers exactly what the original did.
    """

    claimed: set[str] = field(default_factory=set)
    forwarded: set[int] = field(default_factory=set)

    def track(self, event: Event) -> None:
        """Fold one event (only who sits where and private injects matter)."""
        match payload_of(event):
            case PlayerJoined(role=role):
                self.claimed.add(str(role))
            case Inject() if (event.to and Role.IC.value not in event.to
                              and any(r not in self.claimed for r in event.to)):
                self.forwarded.add(event.seq)
            case _:
                pass


def delivered(event: Event, seat: str, seating: Seating, player: str | None = None) -> Event | None:
    """The copy of ``event`` the seat receives, or ``None`` if it may not see it.

    Secret hashes never leave the server; the result is shown to everyone (the review);
    injects to unfilled roles reach the incident commander; an evaluator sees what the facilitator sees;
    a refused command reaches only the player (id ``player``) who sent it, not the others in the role.
    """
    if seat in OBSERVERS:
        seat = FACILITATOR
    sender = _sender_only(event)
    if sender is not None and seat != FACILITATOR and sender != player:
        return None
    if event.kind == Kind.RESULT:
        return replace(event, hidden=False)
    if event.kind in SESSION_KINDS and any(k.endswith("_sha256") for k in event.payload):
        event = replace(event, payload={k: v for k, v in event.payload.items() if not k.endswith("_sha256")})
    if seat == Role.IC.value and event.seq in seating.forwarded and event.to is not None:
        event = replace(event, to=(*event.to, Role.IC.value))
    if event.kind == Kind.COMMAND and event.payload.get("action") == "message":
        audience = _message_audience(event)
        if audience != event.to:  # a war-room line's command stays the event itself (encoded once)
            event = replace(event, to=audience)
    return event if event.visible_to(seat) else None


def _sender_only(event: Event) -> str | None:
    """The id of the only player who may see ``event`` (besides the facilitator and evaluators): the
    sender of a refused command; else ``None``.

    A refusal carries the sender's parameters — a refused answer's choices (as private as an accepted
    answer's, hidden until the end), a refused direct message's text, a mistyped update — and changes
    nothing in the drill, so nobody else in the role needs it. A refusal journaled without a player id
    (a hot-seat journal, a team journal from before ids) reaches its role, as it always did.
    """
    if event.kind != Kind.REFUSED:
        return None
    sender = event.payload.get("player_id")
    return str(sender) if sender is not None else None


def _request_id(raw: str) -> int | None:
    """The ``id`` of a frame that failed validation, if it has a usable one (for the error reply)."""
    try:
        data = from_json(raw)
    except ValueError:
        return None
    rid = data.get("id") if isinstance(data, dict) else None
    return rid if type(rid) is int and 0 <= rid <= MAX_INT else None


def _message_audience(command: Event) -> tuple[str, ...] | None:
    """Who may read a ``message`` command: a direct message's sender and roles (its text is in the
    command as well as in the message event), everyone for the war room."""
    params = command.payload.get("params") or {}
    to = [str(r) for r in params.get("to") or []]
    return tuple(sorted({str(command.actor), *to})) if to else None


class DrillServer:
    """One live team drill. Create with :meth:`host` or :meth:`resume`, then :meth:`start`."""

    def __init__(self, loaded: LoadedScenario, drill: Drill, journal: JournalWriter, *, code: str,
                 code_hashes: Iterable[str], facilitator_hash: str, speed: float, published: int,
                 limits: Limits | None = None, evaluator_hash: str | None = None) -> None:
        self.loaded, self.drill, self.journal = loaded, drill, journal
        self.code = code
        """The join code the banner prints and the facilitator's lobby shows."""
        self.code_hashes = frozenset(code_hashes) | {digest(code)}
        """Hashes of every join code handed out for this drill (a resume may add one)."""
        self.facilitator_hash = facilitator_hash
        self.evaluator_hash = evaluator_hash
        """The hash of the evaluator token (``None``: this drill has no evaluator seat)."""
        self.limits = limits or Limits()
        self.clock = DrillClock(speed=speed, sim=drill.now)
        self.pacer = Pacer(drill, self.clock, on_advance=self._publish)
        self.players: dict[str, Player] = {}
        self._by_token: dict[str, Player] = {}
        self.connections: dict[Connection, None] = {}
        """Open connections, oldest first."""
        self.lockouts = Lockouts(self.limits)
        self._address_frames = AddressBuckets(*self.limits.address_frames())
        self._address_connects = AddressBuckets(*self.limits.address_connects())
        self._tickets: dict[str, str] = {}
        """Addresses of the SSH logins whose seats connect from loopback, by their ticket's hash."""
        self.seating = Seating()
        self.started = False
        self.done = asyncio.Event()
        """Set once the drill has ended and been scored."""
        self._scored = any(e.kind == Kind.RESULT for e in drill.events)
        self._unpublished: list[Event] = list(drill.events[published:])
        self._appended: list[Event] = []
        """Appended to the journal, not yet known durable."""
        self._durable = published
        """Events on disk and sent to the clients (snapshots go up to here)."""
        self._waiting: deque[tuple[int, Callable[[], None]]] = deque()
        self._commit_wanted = asyncio.Event()
        self._committer: asyncio.Task[None] | None = None
        self._server: Server | None = None
        self._lock: IO[bytes] | None = None
        """Held open with an exclusive lock: one server per journal."""
        self._scenario_json = {seat: _scenario_for(drill, seat) for seat in (FACILITATOR, "player")}
        self._reveal: list[str] | None = None
        self._told_paused = True
        """Whether the clock was paused in the last clock frame the seats got (a held drill pauses it)."""
        self._lobby_changes: dict[str, None] | None = None
        """Players whose lobby seat changed since the seats last heard (``None``: nothing changed;
        an empty dict: only whether the drill has started), sent with the next batch (see
        :meth:`_lobby_changed`)."""
        self.watchers: list[Callable[[Event], None]] = []
        """Called with every event once it is durable and sent (``ttx host`` logs joins, starts, ends)."""
        self.host_log: list[Callable[[str], None]] = []
        """Called with a line for what the journal does not keep: a refused join from a connection
        that never joined (bounded by the address's lock-out, so a flood cannot spam the host)."""
        for event in drill.events:
            self.seating.track(event)
        drill.listeners.append(self._on_event)

    # --- creating ---------------------------------------------------------------------------

    @classmethod
    def host(cls, loaded: LoadedScenario, journal_path: str | Path, *, seed: int | None = None,
             code: str | None = None, facilitator_token: str, speed: float = 1.0,
             limits: Limits | None = None, drill: Drill | None = None,
             evaluator_token: str | None = None) -> DrillServer:
        """A new drill in the lobby; the journal starts with the header and the hosting note.

        ``drill``: host this one instead (a fork, standing at its fork point with its past).
        ``evaluator_token``: admits evaluator seats (``None``: none); only its hash is journaled.

        Raises:
            ResumeError: the journal exists already, or ``code`` is not 6–32 letters and digits.
        """
        drill = new_drill(loaded, seed) if drill is None else drill
        code = _chosen_code(code) if code is not None else new_code()
        _check_servable(drill)
        if Path(journal_path).exists() and Path(journal_path).stat().st_size > 0:
            raise ResumeError(f"{journal_path} already exists; to continue that drill use --resume")
        lock = _lock(journal_path)
        journal = JournalWriter(journal_path, drill.header(POLICY))
        evaluator_hash = digest(evaluator_token) if evaluator_token is not None else None
        server = cls(loaded, drill, journal, code=code, code_hashes=(), speed=speed, published=0,
                     facilitator_hash=digest(facilitator_token), limits=limits,
                     evaluator_hash=evaluator_hash)
        server._lock = lock
        hosted: dict[str, Any] = {"event": "hosted", "code_sha256": digest(code),
                                  "facilitator_sha256": digest(facilitator_token), "speed": speed}
        if evaluator_hash is not None:
            hosted["evaluator_sha256"] = evaluator_hash
        drill.note(Kind.SESSION_NOTE, "server", hosted, hidden=True)
        server._publish()
        return server

    @classmethod
    def resume(cls, journal_path: str | Path, limits: Limits | None = None,
               code: str | None = None, evaluator_token: str | None = None) -> DrillServer:
        """Rebuild a drill from its journal after a crash: same events, same players, clock paused.

        The journal keeps only hashes of join codes, so the host passes the code again (``code``:
        it keeps working, and the facilitator's lobby shows it) or gets a fresh one that works
        beside every earlier code (:attr:`code_unchanged` says which). The evaluator token keeps
        working too; a journal hosted without one takes ``evaluator_token`` as its first
        (:attr:`evaluator_fresh` says so).

        Raises:
            ResumeError: the journal is not a team drill, or re-deriving it gives other events.
        """
        if not Path(journal_path).is_file():
            raise ResumeError(f"{journal_path}: no such journal (--resume takes the journal file a "
                              "ttx host wrote, e.g. drill.jsonl)")
        code = _chosen_code(code) if code is not None else None
        lock = _lock(journal_path)
        _drop_torn_line(Path(journal_path))
        journal, loaded = load_journal_scenario(journal_path)
        recorded = journal.events
        hostings = [i for i, e in enumerate(recorded)
                    if e.kind == Kind.SESSION_NOTE and e.payload.get("event") == "hosted"]
        if not hostings:
            lock.close()
            raise ResumeError(f"{journal_path}: not a team drill journal (no hosting note)")
        here = recorded[hostings[-1]:]  # a fork carries its parent's past; this drill starts at its own note
        hosted = here[0].payload
        try:
            drill = _rederive(journal_path, journal, loaded)
            _check_servable(drill)
        except ResumeError:
            lock.close()
            raise
        earlier = {str(e.payload["code_sha256"]) for e in here if e.kind == Kind.SESSION_NOTE
                   and e.payload.get("event") in ("hosted", "resumed") and "code_sha256" in e.payload}
        code = code or new_code()
        evaluators = [str(e.payload["evaluator_sha256"]) for e in here if e.kind == Kind.SESSION_NOTE
                      and e.payload.get("event") in ("hosted", "resumed") and "evaluator_sha256" in e.payload]
        fresh = not evaluators and evaluator_token is not None
        evaluator_hash = (evaluators[-1] if evaluators
                          else digest(evaluator_token) if evaluator_token is not None else None)
        server = cls(loaded, drill, JournalWriter(journal_path), code=code, code_hashes=earlier,
                     facilitator_hash=str(hosted["facilitator_sha256"]), speed=_last_speed(here),
                     published=len(recorded), limits=limits, evaluator_hash=evaluator_hash)
        server.code_unchanged = digest(code) in earlier
        server.evaluator_fresh = fresh
        server._lock = lock
        server._restore_players(here)
        server.started = any(e.kind == Kind.CLOCK_CHANGED and e.payload.get("reason") == "start"
                             for e in here)
        resumed: dict[str, Any] = {"event": "resumed", "at_seq": len(recorded), "code_sha256": digest(code)}
        if fresh and evaluator_hash is not None:
            resumed["evaluator_sha256"] = evaluator_hash
        server._note(Kind.SESSION_NOTE, "server", resumed, hidden=True)
        server._publish()
        return server

    code_unchanged = True
    """After :meth:`resume`: whether :attr:`code` is a code handed out before (else a fresh one)."""
    evaluator_fresh = False
    """After :meth:`resume`: whether the evaluator token is new (the journal had none before)."""

    @property
    def code_hash(self) -> str:
        """The hash of the join code shown now (:attr:`code`); see :meth:`admits_code` for every code."""
        return digest(self.code)

    def admits_code(self, code: str) -> bool:
        """Whether ``code`` (as typed: any case, spaces) is one of this drill's join codes."""
        return digest(_normal_code(code)) in self.code_hashes

    def admits_facilitator(self, token: str) -> bool:
        """Whether ``token`` is this drill's facilitator token."""
        return _same(token, self.facilitator_hash)

    def admits_evaluator(self, token: str) -> bool:
        """Whether ``token`` is this drill's evaluator token (a drill may have none)."""
        return self.evaluator_hash is not None and _same(token, self.evaluator_hash)

    def player_with_token(self, token: str) -> Player | None:
        """The player ``token`` was issued to, if any."""
        return self._by_token.get(digest(token))

    def locked_for(self, address: str) -> float:
        """Seconds ``address`` (as a socket gives it) must still wait before a join code or token from
        it is checked again: the lock-out wrong ones earned, over websocket and SSH together."""
        return self.lockouts.locked_for(address_key((address, 0)))

    def secret_refused(self, address: str) -> None:
        """A wrong join code or unknown token came from ``address`` (over SSH, say): count it like a
        websocket's, with the facilitator's alert when it starts a lock-out."""
        self._count_failure(address_key((address, 0)))

    def secret_accepted(self, address: str) -> None:
        """A right join code or token came from ``address``: its wrong ones are forgotten."""
        self.lockouts.succeeded(address_key((address, 0)))

    def vouch(self, address: str) -> str:
        """A ticket for a seat this host runs on behalf of a player at ``address`` (an SSH login):
        its connections, which come from loopback, count against that address (see
        :data:`SEAT_TICKET_HEADER`). :meth:`unvouch` when the login ends."""
        ticket = new_token()
        self._tickets[digest(ticket)] = address_key((address, 0))
        return ticket

    def unvouch(self, ticket: str) -> None:
        """The login a ticket stood for has ended: connections presenting it count as loopback again."""
        self._tickets.pop(digest(ticket), None)

    def _address_of(self, ws: ServerConnection) -> str:
        """Whose connection this is for the per-address limits: its peer address, or for an SSH
        seat's (from loopback, with a live ticket) the address of the SSH login it serves."""
        address = address_key(ws.remote_address)
        ticket = ws.request.headers.get(SEAT_TICKET_HEADER) if ws.request is not None else None
        if ticket is not None and is_loopback(ws.remote_address):
            return self._tickets.get(digest(ticket), address)
        return address

    def _restore_players(self, recorded: Iterable[Event]) -> None:
        now = time.monotonic()
        for event in recorded:
            p = event.payload
            if event.kind != Kind.PLAYER_JOINED or "token_sha256" not in p:
                continue
            known = self.players.get(str(p["player"]))
            if known is not None:  # rejoined by name: one more token for the same player
                self._by_token[str(p["token_sha256"])] = known
                continue
            player = self._new_player(str(p["player"]), str(p["name"]), str(p["role"]),
                                      str(p["token_sha256"]))
            player.offline_since = now

    def _new_player(self, pid: str, name: str, seat: str, token_hash: str) -> Player:
        player = Player(pid, name, seat, token_hash,
                        bucket=Bucket(self.limits.command_rate, self.limits.command_burst))
        self.players[pid] = player
        self._by_token[token_hash] = player
        return player

    # --- running ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 8765,
                    tls: ssl.SSLContext | None = None) -> int:
        """Listen on ``host:port`` (0 picks a free port), over TLS with ``tls``, and start pacing;
        returns the port."""
        self._server = await serve(self._serve, host, port, max_size=CLOSE_LIMIT, max_queue=16,
                                   compression=None, open_timeout=self.limits.join_timeout,
                                   close_timeout=CLOSE_TIMEOUT, logger=log, ssl=tls,
                                   process_request=self._opening)
        self._committer = asyncio.get_running_loop().create_task(self._commit_forever())
        self.pacer.start()
        self._publish()
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening, close every connection and the journal; a second call does nothing."""
        if self.journal.closed:
            return
        await self.pacer.stop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        if self._committer is not None:
            self._committer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._committer
            self._committer = None
        self._publish()
        self.journal.close()
        if self._lock is not None:
            self._lock.close()

    def _opening(self, ws: ServerConnection, request: Request) -> Response | None:
        """Refuse a new connection from an address opening them faster than
        :meth:`Limits.address_connects` allows (HTTP 429, before the websocket opens)."""
        if self._address_connects.take(self._address_of(ws)):
            return None
        return ws.respond(HTTPStatus.TOO_MANY_REQUESTS,
                          "too many new connections from your address; wait a few seconds\n")

    async def _serve(self, ws: ServerConnection) -> None:
        """One connection's life; nothing that happens on it reaches the host's stderr as a traceback."""
        try:
            await self._serve_connection(ws)
        except Exception as exc:  # a bug must cost one connection, never the drill or a traceback
            log.warning("ttx host: dropped a connection after an unexpected %s", type(exc).__name__)

    async def _serve_connection(self, ws: ServerConnection) -> None:
        conn = Connection(ws, Outbox(ws, self.limits.backlog, self.limits.outbox_bytes),
                          Bucket(self.limits.rate, self.limits.burst), self._address_of(ws))
        conn.outbox.on_overflow = lambda: self._drop(conn, 1008, "not reading; reconnect", abort=True)
        self._make_room(conn.address)
        self.connections[conn] = None
        loop = asyncio.get_running_loop()
        conn.timer = loop.call_later(self.limits.join_timeout, self._join_timed_out, conn)
        sender = loop.create_task(conn.outbox.run())
        try:
            async for raw in ws:
                self._receive(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            self.connections.pop(conn, None)
            if conn.timer is not None:
                conn.timer.cancel()
            sender.cancel()
            self._detach(conn)

    def _make_room(self, address: str) -> None:
        """Push out the oldest connections that have not joined, so a newcomer (a reconnect, say)
        always gets in while the unjoined stay within their caps per address and in total."""
        pending = [c for c in self.connections if c.player is None and not c.closing]
        same = [c for c in pending if c.address == address]
        if len(same) >= self.limits.pending_per_address:
            self._drop(same[0], 1013, "too many connections from your address have not joined", abort=True)
            pending.remove(same[0])
        if len(pending) >= self.limits.pending_total:
            self._drop(pending[0], 1013, "too many connections have not joined", abort=True)

    def _join_timed_out(self, conn: Connection) -> None:
        if conn.player is None and not conn.closing:
            conn.outbox.error(Error(code="join_timeout",
                                    message=f"join within {self.limits.join_timeout:g} s"))
            self._drop(conn, 1008, "join timeout")

    def _drop(self, conn: Connection, code: int, reason: str, abort: bool = False) -> None:
        """Close a connection (``abort``: at once, for a client that does not read)."""
        if conn.closing:
            return
        conn.closing = True
        if abort:
            conn.ws.transport.abort()
        else:
            asyncio.get_running_loop().create_task(_close(conn.ws, code, reason))

    # --- events out ---------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        self.seating.track(event)
        self._unpublished.append(event)

    def _publish(self) -> None:
        """Append new events to the journal and have them made durable, then sent. Called after every change.

        Before :meth:`start` this syncs at once; afterwards the committer task does it (group commit),
        so the event loop never waits on the disk.
        """
        if self.drill.finished and not self._scored:
            self._scored = True
            finish(self.drill, self.loaded, POLICY)
        if self.started and self.clock.paused != self._told_paused:
            self._tell_clock()  # the drill held its clock (a pausing question, the hot wash), or let it go
        batch, self._unpublished = self._unpublished, []
        for event in batch:
            self.journal.append(event)
        self._appended.extend(batch)
        if self._committer is not None:
            self._commit_wanted.set()
        else:
            self.journal.sync()
            self._made_durable()

    async def _commit_forever(self) -> None:
        """Group commit: fsync whatever was appended (in a worker thread), then send it and the acks.

        Sending runs as the loop's next callback, so the next fsync is already under way while the
        events go out (the two overlap, as the fan-out writes to every socket in one go)."""
        loop = asyncio.get_running_loop()
        while True:
            await self._commit_wanted.wait()
            self._commit_wanted.clear()
            fd = self.journal.flush()
            ready = len(self._appended)
            await asyncio.to_thread(os.fsync, fd)
            batch, self._appended = self._appended[:ready], self._appended[ready:]
            loop.call_soon(self._deliver, batch)

    def _made_durable(self) -> None:
        """Everything appended is on disk: send it (see :meth:`_deliver`)."""
        batch, self._appended = self._appended, []
        self._deliver(batch)

    def _deliver(self, batch: list[Event]) -> None:
        """These events are on disk: fan them out, run the acks waiting on them."""
        if batch:
            self._fan_out(batch)
        for event in batch:
            for watch in self.watchers:
                watch(event)
        self._durable += len(batch)
        self._tell_lobby()
        while self._waiting and self._waiting[0][0] <= self._durable:
            self._waiting.popleft()[1]()
        if self._scored and self._durable == len(self.drill.events) and not self.done.is_set():
            self.clock.pause()
            self._tell_clock()
            for conn in self._joined():
                conn.outbox.lazy(iter(self.reveal()))
            self.done.set()

    def _when_durable(self, then: Callable[[], None]) -> None:
        """Run ``then`` once every event so far is on disk and sent (acks wait on this)."""
        target = len(self.drill.events)
        if target <= self._durable:
            then()
        else:
            self._waiting.append((target, then))

    def _joined(self) -> list[Connection]:
        return [c for c in self.connections if c.player is not None and not c.closing]

    def _fan_out(self, batch: list[Event]) -> None:
        """Send new events to every seat that may see them, encoded once per audience: a seat, and
        within it each player whose refusal is in the batch (see :func:`delivered`)."""
        per_audience: dict[tuple[str, str], Shared] = {}
        texts: dict[int, str] = {}
        senders = {sender for sender in map(_sender_only, batch) if sender is not None}
        for conn in self._joined():
            player = conn.player
            assert player is not None
            audience = (player.seat, player.id if player.id in senders else "")
            if audience not in per_audience:
                per_audience[audience] = Shared.events(list(self._wire(batch, player.seat, texts, player.id)))
            conn.outbox.shared(per_audience[audience])

    def _wire(self, events: Iterable[Event], seat: str, texts: dict[int, str] | None = None,
              player: str | None = None) -> Iterator[tuple[Kind, str]]:
        """The events ``seat`` (as ``player``, an id) may see, as wire JSON; ``texts`` keeps the JSON of
        events every seat receives unchanged, so each is encoded once (keyed by the event's identity)."""
        for event in events:
            copy = delivered(event, seat, self.seating, player)
            if copy is None:
                continue
            if copy is not event or texts is None:
                yield copy.kind, wire_json(copy)
                continue
            text = texts.get(id(event))
            if text is None:
                text = texts[id(event)] = wire_json(event)
            yield event.kind, text

    def _broadcast(self, message: BaseModel) -> None:
        shared = Shared(message.model_dump_json())
        for conn in self._joined():
            conn.outbox.frame(shared)

    def _tell_clock(self) -> None:
        """Send every seat the clock as it stands (and remember whether it was running)."""
        self._told_paused = self.clock.paused
        self._broadcast(self._clock_state())

    def _clock_state(self) -> ClockState:
        return ClockState(sim=self.clock.now(), speed=self.clock.speed, paused=self.clock.paused,
                          started=self.started, ended=self.drill.finished)

    def _snapshot(self, seat: str, since: int, player: str | None = None) -> Iterator[str]:
        """The ``snapshot`` frames for a seat (as ``player``, an id): every event after ``since`` it may
        see, paged by size."""
        upto, clock = self._durable, self._clock_state().model_dump_json()
        texts = (text for _, text in self._wire(self.drill.events[since:upto], seat, player=player))
        for part, (page, last) in enumerate(pages(texts, PAGE_BYTES)):
            yield (f'{{"clock":{clock},"events":[{",".join(page)}],"kind":"snapshot","last":'
                   f'{"true" if last else "false"},"part":{part},"seq":{upto},"since":{since}}}')

    def reveal(self) -> list[str]:
        """The ``reveal`` frames (built once the drill has ended and been scored, then kept): every
        event, hidden truth included, then the do-nothing curve, paged by size."""
        if self._reveal is None:
            self._reveal = list(self._reveal_frames())
        return self._reveal

    def _reveal_frames(self) -> Iterator[str]:
        header = strict_json(self.drill.header(POLICY))
        idle = for_drill(self.drill.scenario, self.drill.seed, self.drill.now, key=self.loaded.content_hash)
        events = (text for _, text in self._wire(self.drill.events[:self._durable], FACILITATOR))
        for page, _ in pages(events, PAGE_BYTES):
            if page:
                yield f'{{"events":[{",".join(page)}],"header":{header},"kind":"reveal","last":false}}'
        pieces: list[tuple[str, dict[str, float | None], Sequence[HarmPoint]]] = [
            ("do_nothing", {"harm_volume": idle.harm_volume}, idle.curve)]
        real = historical.for_drill(self.loaded, self.drill.seed, self.drill.now)
        if real is not None:
            pieces.append(("real_team", {"harm_volume": real.harm_volume, "first_signal": real.first_signal,
                                         "time_to_detect": real.time_to_detect,
                                         "time_to_contain": real.time_to_contain}, real.curve))
        for n, (name, figures, points) in enumerate(pieces):
            curve = (strict_json([p.t, p.total, p.rate]) for p in points)
            for page, last in pages(curve, PAGE_BYTES):
                final = "true" if last and n == len(pieces) - 1 else "false"
                yield (f'{{"{name}":{strict_json(figures)[:-1]},"curve":[{",".join(page)}]}},'
                       f'"events":[],"header":{header},"kind":"reveal","last":{final}}}')

    def lobby(self) -> Lobby:
        """Who holds which role and who is connected (players gone longer than
        :attr:`Limits.offline_drop` are no longer listed)."""
        seats = [self._seat(p) for p in sorted(self._in_lobby(), key=lambda p: lobby_order(p.id))]
        return Lobby(roles=[r.value for r in self.drill.scenario.roles], players=seats, started=self.started)

    @staticmethod
    def _seat(player: Player) -> Seat:
        return Seat(player=player.id, name=player.name, role=player.seat, connected=player.online > 0)

    def _in_lobby(self) -> list[Player]:
        cutoff = time.monotonic() - self.limits.offline_drop
        return [p for p in self.players.values() if p.offline_since is None or p.offline_since > cutoff]

    def _note(self, kind: Kind, actor: str | None, payload: dict[str, Any], hidden: bool = False) -> None:
        """Journal a session event at the current sim time (not after the drill ended: the
        journal then closes with the result, as a replay would)."""
        if self.drill.finished:
            return
        self.pacer.sync()
        if not self.drill.finished:
            self.drill.note(kind, actor, payload, hidden=hidden)
        self._publish()

    # --- frames in ----------------------------------------------------------------------

    def _receive(self, conn: Connection, raw: str | bytes) -> None:
        if conn.closing:
            return
        player = conn.player
        if not conn.bucket.take() or (player is not None and player.bucket is not None
                                      and not player.bucket.take()) \
                or not self._address_frames.take(conn.address):
            self._over_rate(conn, raw)
            return
        conn.flooding = 0
        if player is None:
            conn.unjoined_frames += 1
            if conn.unjoined_frames > self.limits.pending_frames:
                conn.outbox.error(Error(code="not_joined", message="closed: too many frames before joining"))
                self._drop(conn, 1008, "join first")
                return
        if isinstance(raw, bytes):
            self._refuse(conn, "binary", "binary frames are not accepted; send JSON text", None)
        elif len(raw) > FRAME_LIMIT or len(raw.encode()) > FRAME_LIMIT:
            self._refuse(conn, "frame_too_large", f"frames are limited to {FRAME_LIMIT} bytes", None)
        else:
            self._read(conn, raw)

    def _read(self, conn: Connection, raw: str) -> None:
        try:
            frame = client_frames.validate_json(raw)
        except ValidationError as exc:
            self._refuse_invalid(conn, exc, _request_id(raw))
            return
        try:
            self._dispatch(conn, frame)
        except Exception as exc:  # a bug must cost one frame, never the drill
            log.warning("ttx host: a %s frame failed on the server (%s); the drill goes on",
                        getattr(frame, "kind", "?"), type(exc).__name__)
            conn.outbox.error(Error(code="internal", message="the server could not handle this frame",
                                    id=getattr(frame, "id", None)))

    def _over_rate(self, conn: Connection, raw: str | bytes) -> None:
        """A frame over the connection's or the player's rate: the first of a flood gets one reply
        (and one journal note); the rest are dropped unread; a long flood closes the connection."""
        conn.flooding += 1
        if conn.flooding == 1:
            request = _request_id(raw) if isinstance(raw, str) and len(raw) <= FRAME_LIMIT else None
            self._refuse(conn, "rate_limited", "too many frames; slow down", request)
        elif conn.flooding > self.limits.flood_close:
            conn.outbox.error(Error(code="flooding", message="closed: too many frames"))
            self._drop(conn, 1008, "flooding")

    def _refuse_invalid(self, conn: Connection, exc: ValidationError, request: int | None) -> None:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            self._refuse(conn, "malformed", f"not JSON: {first['msg']}", request)
            return
        where = ".".join(str(p) for p in first["loc"]) or "frame"
        self._refuse(conn, "bad_frame", f"{where}: {first['msg']}", request)

    def _refuse(self, conn: Connection, code: str, message: str, request: int | None) -> None:
        """Reply with an error; a joined player's refusal is journaled too (facilitator-only, a
        bounded reason). Refusals before joining are not journaled: unjoined connections cannot
        grow the journal (wrong codes leave a lock-out note, see :meth:`_auth_failed`)."""
        reason = _reason(message)
        conn.outbox.error(Error(code=code, message=reason, id=request))
        player = conn.player
        if player is not None:
            self._note(Kind.SESSION_NOTE, player.seat, {"event": "refused_frame", "code": code,
                                                        "reason": reason, "player": player.id}, hidden=True)

    def _dispatch(self, conn: Connection, frame: Any) -> None:
        if isinstance(frame, Join):
            self._join(conn, frame)
        elif isinstance(frame, JoinFacilitator):
            self._join_facilitator(conn, frame)
        elif isinstance(frame, JoinEvaluator):
            self._join_evaluator(conn, frame)
        elif isinstance(frame, Reconnect):
            self._reconnect(conn, frame)
        else:
            player = self._authenticate(conn, frame)
            if player is None:
                return
            if isinstance(frame, OBSERVER_FRAMES):
                self._observe(conn, player, frame)
            elif player.seat == EVALUATOR:
                self._refuse(conn, "observes_only", EVALUATOR_REFUSAL, frame.id)
            elif isinstance(frame, FACILITATOR_FRAMES):
                self._facilitate(conn, player, frame)
            else:
                self._play(conn, player, frame)

    def _authenticate(self, conn: Connection, frame: Authed) -> Player | None:
        if conn.player is None:
            self._refuse(conn, "not_joined", "join first", frame.id)
            return None
        if conn.token_hash is None or not _same(frame.token, conn.token_hash):
            self._refuse(conn, "bad_token", "this token does not belong to this connection", frame.id)
            return None
        return conn.player

    # --- joining ------------------------------------------------------------------------

    def _join(self, conn: Connection, frame: Join) -> None:
        if conn.player is not None:
            self._refuse(conn, "already_joined", "this connection has joined already", None)
            return
        if self._locked_out(conn):
            return
        if not self.admits_code(frame.code):
            self._auth_failed(conn, "bad_code", "wrong join code")
            return
        self.lockouts.succeeded(conn.address)
        in_play = [r.value for r in self.drill.scenario.roles]
        if frame.role not in in_play:
            self._refuse(conn, "unknown_role", f"role {frame.role!r} is not in play "
                         f"(in play: {', '.join(in_play)})", None)
            return
        self._seat_by_name(conn, frame.name, frame.role)

    def _join_facilitator(self, conn: Connection, frame: JoinFacilitator) -> None:
        if conn.player is not None:
            self._refuse(conn, "already_joined", "this connection has joined already", None)
            return
        if not _same(frame.token, self.facilitator_hash):
            if not self._locked_out(conn):
                self._auth_failed(conn, "bad_token", "wrong facilitator token")
            return
        self._seat_by_name(conn, frame.name, FACILITATOR)

    def _join_evaluator(self, conn: Connection, frame: JoinEvaluator) -> None:
        if conn.player is not None:
            self._refuse(conn, "already_joined", "this connection has joined already", None)
            return
        if self.evaluator_hash is None or not _same(frame.token, self.evaluator_hash):
            if not self._locked_out(conn):
                self._auth_failed(conn, "bad_token", "wrong evaluator token")
            return
        self._seat_by_name(conn, frame.name, EVALUATOR)

    def _locked_out(self, conn: Connection) -> bool:
        wait = self.lockouts.locked_for(conn.address)
        if wait > 0:
            self._refuse(conn, "locked_out", f"too many wrong codes from your address; try again in "
                         f"{wait:.0f} s", None)
        return wait > 0

    def _auth_failed(self, conn: Connection, code: str, message: str) -> None:
        """A wrong code or unknown token: refuse, count it for the address, and when that starts a
        lock-out tell the facilitator (a journal note, one per lock-out)."""
        self._refuse(conn, code, message, None)
        for tell in self.host_log:
            tell(f"refused a join from {conn.address}: {message}")
        self._count_failure(conn.address)

    def _count_failure(self, address: str) -> None:
        """Count a wrong code or token for ``address``; when that starts a lock-out, journal a note
        and alert the facilitator's terminals."""
        seconds = self.lockouts.failed(address)
        if seconds <= 0:
            return
        failures = self.lockouts.failures(address)
        self._note(Kind.SESSION_NOTE, "server", {
            "event": "join_lockout", "address": address, "seconds": seconds, "failures": failures},
            hidden=True)
        alert = Alert(message=f"{failures} wrong join codes from {address}: locked out for {seconds:g} s")
        for seat in self._joined():
            if seat.player is not None and seat.player.seat == FACILITATOR:
                seat.outbox.frame(alert)

    def _full(self, conn: Connection, seat: str) -> bool:
        """Refuse a new player when the drill or the role is full (a known token never is)."""
        here = self._in_lobby()
        cap = (self.limits.max_evaluators if seat == EVALUATOR
               else self.limits.role_cap(len(self.drill.scenario.roles)))
        if sum(p.seat == seat for p in here) >= cap:
            self._refuse(conn, "role_full", f"{seat} is held by {cap} players already (the most one "
                         "role may have)", None)
            return True
        if seat not in OBSERVERS and sum(p.seat not in OBSERVERS for p in here) >= self.limits.max_players:
            self._refuse(conn, "server_full", f"the drill has {self.limits.max_players} players already "
                         "(ttx host --max-players)", None)
            return True
        return False

    def _seat_by_name(self, conn: Connection, name: str, seat: str) -> None:
        """A join that passed its code or token: the seat of an offline player of that role and name
        back (never refused as full: they are counted already), else a new player if there is room."""
        namesake = self._offline_namesake(name, seat)
        if namesake is not None:
            self._rejoin(conn, namesake)
        elif not self._full(conn, seat):
            self._admit(conn, name, seat)

    def _admit(self, conn: Connection, name: str, seat: str) -> None:
        token = new_token()
        player = self._new_player(f"p{len(self.players) + 1}", name, seat, digest(token))
        self._note(Kind.PLAYER_JOINED, seat, {"player": player.id, "name": name, "role": seat,
                                               "token_sha256": player.token_hash})
        self._attach(conn, player, token, since=0)

    def _offline_namesake(self, name: str, seat: str) -> Player | None:
        """The earliest-joined player of ``seat`` whose name is ``name`` (see :func:`same_name`) and
        who has no open connection: whose seat a join by name takes back (``None``: a new player).

        A live seat is never taken: a second Max of the same role, online meanwhile, is someone else.
        Whether a player is online follows the journal (each ``player_joined`` opens, a
        ``player_left`` ends their presence; a resumed drill starts with everyone offline), and the
        seat taken back is journaled by its player id, so a resume or replay derives the same.
        """
        return next((p for p in sorted(self.players.values(), key=lambda p: lobby_order(p.id))
                     if p.seat == seat and p.online == 0 and same_name(p.name, name)), None)

    def _rejoin(self, conn: Connection, player: Player) -> None:
        """Give ``player`` their seat back on a join by name: a fresh token (the journal keeps only
        hashes, so the old one cannot be handed out again; it keeps working too), their whole
        history in the snapshot, and "Max (ic) rejoined" for the host and facilitator."""
        token = new_token()
        self._by_token[digest(token)] = player
        self._note(Kind.PLAYER_JOINED, player.seat, {"player": player.id, "name": player.name,
                                                      "role": player.seat, "rejoined": True,
                                                      "token_sha256": digest(token)})
        self._attach(conn, player, token, since=0)

    def _reconnect(self, conn: Connection, frame: Reconnect) -> None:
        if conn.player is not None:
            self._refuse(conn, "already_joined", "this connection has joined already", None)
            return
        player = self._by_token.get(digest(frame.token))
        if player is None:
            if not self._locked_out(conn):
                self._auth_failed(conn, "bad_token", "unknown token")
            return
        self._note(Kind.PLAYER_JOINED, player.seat, {"player": player.id, "name": player.name,
                                                      "role": player.seat, "rejoined": True})
        since = frame.last_seq if frame.last_seq <= self._durable else 0
        self._attach(conn, player, frame.token, since=since)

    def _attach(self, conn: Connection, player: Player, token: str, since: int) -> None:
        """Bind the connection to the player: welcome, the whole lobby, snapshot after ``since``; the
        other seats hear of the newcomer in the next lobby change.

        A player keeps at most :attr:`Limits.connections_per_player` connections: a further one
        (typically a reconnect while the old connection is not yet known to be dead) replaces the oldest.
        """
        if conn.timer is not None:
            conn.timer.cancel()
        mine = [c for c in self.connections if c.player is player and not c.closing]
        if len(mine) >= self.limits.connections_per_player:
            self._drop(mine[0], 1008, "replaced by a newer connection of this player")
        conn.player = player
        conn.token_hash = digest(token)
        player.online += 1
        player.offline_since = None
        scenario = self._scenario_json[FACILITATOR if player.seat in OBSERVERS else "player"]
        conn.outbox.frame(Welcome(token=token, player=player.id, name=player.name, seat=player.seat,
                                  scenario=scenario, seed=self.drill.seed,
                                  code=self.code if player.seat == FACILITATOR else None))
        conn.outbox.frame(self.lobby())
        conn.outbox.lazy(self._snapshot(player.seat, since, player.id))
        if self.done.is_set():
            conn.outbox.lazy(iter(self.reveal()))
        self._lobby_changed(player.id)

    def _detach(self, conn: Connection) -> None:
        player = conn.player
        if player is None:
            return
        player.online -= 1
        if player.online == 0:
            player.offline_since = time.monotonic()
            self._note(Kind.PLAYER_LEFT, player.seat, {"player": player.id, "name": player.name,
                                                        "role": player.seat})
            self._close_all_answered()
            asyncio.get_running_loop().call_later(self.limits.offline_drop + 0.05, self._lobby_changed,
                                                  player.id)
        self._lobby_changed(player.id)

    def _lobby_changed(self, player: str | None = None) -> None:
        """``player``'s lobby seat changed (``None``: whether the drill has started): the seats hear it
        in one :class:`LobbyChange` with every other change until the next group commit delivers its
        batch (one is asked for, even an empty one; see :meth:`_tell_lobby`)."""
        if self._lobby_changes is None:
            self._lobby_changes = {}
        if player is not None:
            self._lobby_changes[player] = None
        if self._committer is not None:
            self._commit_wanted.set()  # a group commit, even an empty one, ends the batch
        else:
            self._tell_lobby()

    def _tell_lobby(self) -> None:
        """Send every seat the lobby changes gathered since the last batch, as one frame."""
        changed, self._lobby_changes = self._lobby_changes, None
        if changed is None:
            return
        here = {p.id for p in self._in_lobby()}
        seats = [self._seat(self.players[p]) for p in sorted(changed, key=lobby_order) if p in here]
        self._broadcast(LobbyChange(seats=seats, gone=[p for p in changed if p not in here],
                                    started=self.started))

    # --- playing ------------------------------------------------------------------------

    def _play(self, conn: Connection, player: Player, frame: Any) -> None:
        if player.seat == FACILITATOR:
            self._refuse(conn, "wrong_role", "the facilitator steers with facilitator frames", frame.id)
            return
        if isinstance(frame, Act) and frame.role != player.seat:
            self._refuse(conn, "wrong_role", f"you hold {player.seat}, not {frame.role}", frame.id)
            return
        if not self.started:
            self._refuse(conn, "not_started", "the facilitator has not started the drill", frame.id)
            return
        if isinstance(frame, Chat):
            command = Command(role=player.seat, action="message", player=player.name, player_id=player.id,
                              params={"text": frame.text, "to": frame.to})
        else:
            command = Command(role=player.seat, action=frame.action, params=frame.params, player=player.name,
                              player_id=player.id)
        self._submit(conn, frame.id, command)

    def _submit(self, conn: Connection, request: int, command: Command) -> None:
        """Apply at the current sim time, journal (fsync), fan out, then acknowledge."""
        if self.drill.finished:
            conn.outbox.frame(Ack(id=request, accepted=False, reason="the drill has ended"))
            return
        self.pacer.sync()
        event = self.drill.submit(command)
        if event.kind == Kind.COMMAND and command.action == "answer":
            self._close_answered(str(command.params["question"]))
        self._publish()
        ack = Ack(id=request, accepted=event.kind == Kind.COMMAND, seq=event.seq, event=event.to_dict(),
                  reason=event.payload.get("reason"))
        self._when_durable(lambda: conn.outbox.frame(ack))
        self.pacer.wake()

    def _facilitate(self, conn: Connection, player: Player, frame: Any) -> None:
        if player.seat != FACILITATOR:
            self._refuse(conn, "not_facilitator", "only the facilitator token unlocks this", frame.id)
            return
        if self.drill.finished:
            conn.outbox.frame(Ack(id=frame.id, accepted=False, reason="the drill has ended"))
            return
        if isinstance(frame, Start):
            self._start_clock(conn, player, frame.id)
            return
        if not self.started:
            self._refuse(conn, "not_started", "start the drill first", frame.id)
            return
        if isinstance(frame, FireInject | AdhocInject | End | CloseQuestion):
            self._submit(conn, frame.id, _facilitator_command(frame, player.name))
        else:
            self._steer_clock(conn, player, frame)

    def _observe(self, conn: Connection, player: Player, frame: Observe) -> None:
        """The facilitator's or an evaluator's observation: the ``observe`` command, as that seat."""
        if player.seat not in OBSERVERS:
            self._refuse(conn, "not_observer", "only the facilitator and evaluators write observations",
                         frame.id)
            return
        self._submit(conn, frame.id, Command(role=player.seat, action="observe", player=player.name, params={
            "objective": frame.objective, "tag": frame.tag, "text": frame.text}))

    def _close_answered(self, question: str) -> None:
        """Close a question for the team once every connected player holding a role it asks has
        answered: the facilitator's ``close_question`` (reason ``answered``), journaled like any command.

        A question nobody has answered yet stays open (it closes on time, or by the facilitator).
        """
        state = self.drill.discussion.questions.get(question)
        if self.drill.finished or state is None or not state.open or not state.answers:
            return
        holders = [p for p in self.players.values() if p.online > 0 and p.seat in state.roles]
        if all(state.answered_by(p.id) for p in holders):
            self.drill.submit(Command(role=FACILITATOR, action="close_question",
                                      params={"question": question, "reason": "answered"}))
            self._publish()

    def _close_all_answered(self) -> None:
        """After a player left: close the questions everyone still connected has answered."""
        if not self.started or self.drill.finished:
            return
        self.pacer.sync()
        for question in list(self.drill.discussion.questions):
            self._close_answered(question)

    def _start_clock(self, conn: Connection, player: Player, request: int) -> None:
        if self.started:
            conn.outbox.frame(Ack(id=request, accepted=False, reason="the drill has already started"))
            return
        self.started = True
        self._change_clock(conn, player, request, "start", self.clock.resume)
        self._lobby_changed()

    def _steer_clock(self, conn: Connection, player: Player, frame: Any) -> None:
        if isinstance(frame, Pause):
            self._change_clock(conn, player, frame.id, "pause", self.clock.pause)
        elif isinstance(frame, Resume):
            self._change_clock(conn, player, frame.id, "resume", self.clock.resume)
        elif isinstance(frame, Speed):
            self._change_clock(conn, player, frame.id, "speed", lambda: self.clock.set_speed(frame.speed))
        elif isinstance(frame, Skip):
            self._change_clock(conn, player, frame.id, "skip", self._skip_to_next_inject)

    def _change_clock(self, conn: Connection, player: Player, request: int, reason: str,
                      change: Any) -> None:
        """Advance to now, change the clock, journal it, tell everyone."""
        self.pacer.sync()
        change()
        self._note(Kind.CLOCK_CHANGED, FACILITATOR, {"reason": reason, "running": not self.clock.paused,
                                                     "speed": self.clock.speed, "by": player.name})
        self._tell_clock()
        ack = Ack(id=request, accepted=True, seq=len(self.drill.events))
        self._when_durable(lambda: conn.outbox.frame(ack))
        self.pacer.wake()

    def _skip_to_next_inject(self) -> None:
        """The facilitator's "next": on to the next inject or question asked, as in the hot seat."""
        self.drill.skip_to_next_inject()
        self.clock.jump(self.drill.now)
        self._publish()


async def _close(ws: ServerConnection, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await ws.close(code, reason)


def _chosen_code(code: str) -> str:
    """A join code the host chose, in its hashed form.

    Raises:
        ResumeError: it is not 6–32 letters and digits.
    """
    normal = _normal_code(code)
    if CODE_PATTERN.fullmatch(normal) is None:
        raise ResumeError(f"--code {code!r}: a join code is 6 to 32 letters and digits")
    return normal


def _scenario_for(drill: Drill, seat: str) -> dict[str, Any]:
    """The scenario as a seat's welcome carries it (facilitator notes for the facilitator only)."""
    scenario = drill.scenario.model_dump(mode="json")
    if seat != FACILITATOR:
        scenario["facilitator_notes"] = ""
    return scenario


def _check_servable(drill: Drill) -> None:
    """Refuse a scenario whose welcome or inject texts could not travel in one frame.

    Raises:
        ResumeError: they are too large.
    """
    welcome = Welcome(token="x" * 32, player="p1", name="x" * 64, seat=FACILITATOR,
                      scenario=_scenario_for(drill, FACILITATOR), seed=0, code="X" * 32)
    size = len(welcome.model_dump_json().encode())
    if size > HARD_FRAME_LIMIT - 64 * 1024:
        raise ResumeError(f"scenario {drill.scenario.id!r} is {size:,} bytes as JSON; a team drill "
                          f"serves at most {HARD_FRAME_LIMIT - 64 * 1024:,}")
    for inject in drill.scenario.injects:
        text = len(json.dumps([inject.subject, inject.body]))
        if text > PAGE_LIMIT // 2:
            raise ResumeError(f"inject {inject.id!r} has {text:,} bytes of text as JSON; a team drill "
                              f"serves at most {PAGE_LIMIT // 2:,} per inject")


def _facilitator_command(frame: FireInject | AdhocInject | End | CloseQuestion, name: str) -> Command:
    if isinstance(frame, CloseQuestion):
        return Command(role=FACILITATOR, action="close_question", params={"question": frame.question},
                       player=name)
    if isinstance(frame, FireInject):
        return Command(role=FACILITATOR, action="fire_inject", params={"inject": frame.inject}, player=name)
    if isinstance(frame, AdhocInject):
        return Command(role=FACILITATOR, action="adhoc_inject", player=name,
                       params=frame.inject.model_dump(mode="json"))
    return Command(role=FACILITATOR, action="end_drill", player=name)


# --- resuming -----------------------------------------------------------------------------


def _lock(path: str | Path) -> IO[bytes]:
    """Lock the journal for this server (the lock dies with the process, even on ``kill -9``).

    Raises:
        ResumeError: another server holds it.
    """
    handle = open(path, "ab")  # noqa: SIM115
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise ResumeError(f"{path} is in use by another ttx host") from None
    return handle


def _drop_torn_line(path: Path) -> None:
    """Cut a journal back to its last complete line (a crash mid-write leaves a torn one)."""
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with open(path, "r+b") as f:
            f.truncate(data.rfind(b"\n") + 1)


def _rederive(path: str | Path, journal: Journal, loaded: LoadedScenario) -> Drill:
    """Replay the journal and run the engine on to where it stood; check every recorded event."""
    recorded = journal.events
    if not recorded:
        raise ResumeError(f"{path}: the journal has no events")
    drill = rebuild(journal, loaded)
    if len(drill.events) < len(recorded) and not drill.finished:
        drill.advance_to(max(drill.now, recorded[-1].t) + 0.001)
    if drill.finished and not any(e.kind == Kind.RESULT for e in drill.events):
        finish(drill, loaded, str(journal.header.get("policy") or POLICY))
    difference = first_difference(recorded, drill.events, prefix=True)
    if difference is not None:
        raise ResumeError(f"{path}: the journal does not re-derive the same: {difference}")
    return drill


def _last_speed(recorded: list[Event]) -> float:
    speeds = [float(e.payload["speed"]) for e in recorded
              if e.kind in (Kind.CLOCK_CHANGED, Kind.SESSION_NOTE) and "speed" in e.payload]
    return speeds[-1] if speeds else 1.0
