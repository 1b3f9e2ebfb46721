"""The drill server: one authoritative drill paced in real time, many websocket clients, a durable journal.

Clients send intents; the server checks the frame (size, schema, token, role, rate), stamps
the sim time, lets the engine decide, appends every new event to the journal and fsyncs it,
and only then fans the events out (per seat, see :func:`delivered`) and acknowledges. So
nothing a client has seen is missing from the journal, and ``--resume`` after ``kill -9``
rebuilds exactly the drill the clients knew. The fsync runs in a worker thread and covers
everything appended meanwhile (group commit), so the event loop never waits on the disk.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import ssl
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from pydantic import BaseModel, ValidationError
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from simulator.engine import historical
from simulator.engine.baseline import for_drill
from simulator.engine.clock import DrillClock, Pacer
from simulator.engine.drill import Drill
from simulator.engine.events import COALESCABLE, SESSION_KINDS, Event, Kind
from simulator.engine.journal import Journal, JournalWriter
from simulator.engine.payloads import Inject, PlayerJoined, payload_of
from simulator.engine.replay import first_difference, load_journal_scenario, rebuild
from simulator.engine.runner import finish, new_drill
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario
from simulator.format.taxonomy import FACILITATOR, Role
from simulator.team.protocol import (
    FACILITATOR_FRAMES,
    FRAME_LIMIT,
    HARD_FRAME_LIMIT,
    Ack,
    Act,
    AdhocInject,
    Authed,
    Chat,
    ClockState,
    DoNothingFigures,
    End,
    Error,
    FireInject,
    Join,
    JoinFacilitator,
    Lobby,
    Pause,
    RealTeamFigures,
    Reconnect,
    Resume,
    Reveal,
    Seat,
    Skip,
    Snapshot,
    Speed,
    Start,
    Welcome,
    client_frames,
)

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
"""Join-code letters: no 0/O or 1/I/L to misread over a call."""
POLICY = "team"
"""What a team drill's journal header records as its policy."""
REVEAL_PART = 200
"""Events per ``reveal`` frame (a journal line is well under 1 KiB, so a part stays far below the limit)."""


def new_code(length: int = 6) -> str:
    """A fresh join code, e.g. ``K7Q2MD``."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def new_token() -> str:
    """A fresh secret token (192 bits)."""
    return secrets.token_urlsafe(24)


def digest(secret: str) -> str:
    """What the journal stores instead of a secret: its sha256."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()


def _same(secret: str, stored: str) -> bool:
    return hmac.compare_digest(digest(secret), stored)


class ResumeError(Exception):
    """A journal cannot be resumed; the message says why."""


@dataclass
class Limits:
    """Per-connection protections and buffering."""

    rate: float = 20.0
    """Frames per second a connection may send on average."""
    burst: float = 40.0
    """Frames a connection may send at once."""
    backlog: int = 256
    """Queued outbound items before tick/harm updates are coalesced for that client."""
    max_connections: int = 256


@dataclass
class Player:
    """Someone who joined: a role (or the facilitator seat) and the hash of their token."""

    id: str
    name: str
    seat: str
    token_hash: str
    online: int = 0
    """Open connections of this player."""


class Bucket:
    """A token bucket: ``rate`` frames per second, at most ``burst`` at once."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self._level, self._at = burst, time.monotonic()

    def take(self) -> bool:
        """Spend one frame's worth; ``False`` when the connection is over its rate."""
        now = time.monotonic()
        self._level = min(self.burst, self._level + (now - self._at) * self.rate)
        self._at = now
        if self._level < 1.0:
            return False
        self._level -= 1.0
        return True


class Outbox:
    """One connection's outbound queue. Events are batched; when the client falls behind,
    older tick/harm updates are dropped (the latest of each kind stays), injects and actions never."""

    def __init__(self, ws: ServerConnection, backlog: int) -> None:
        self.ws = ws
        self.backlog = backlog
        self.coalesced = 0
        """Tick/harm updates dropped for this client so far."""
        self._items: deque[tuple[Kind | None, str]] = deque()
        self._ready = asyncio.Event()

    def frame(self, message: BaseModel) -> None:
        """Queue a control frame (never dropped)."""
        self._items.append((None, message.model_dump_json()))
        self._ready.set()

    def events(self, items: list[tuple[Kind, str]]) -> None:
        """Queue events (journal-form JSON) for this client."""
        if not items:
            return
        self._items.extend(items)
        if len(self._items) > self.backlog:
            self._coalesce()
        self._ready.set()

    def _coalesce(self) -> None:
        latest = {kind: i for i, (kind, _) in enumerate(self._items) if kind in COALESCABLE}
        kept = deque(item for i, item in enumerate(self._items)
                     if item[0] not in COALESCABLE or latest[item[0]] == i)
        self.coalesced += len(self._items) - len(kept)
        self._items = kept

    def _next_message(self) -> str:
        kind, text = self._items.popleft()
        if kind is None:
            return text
        batch = [text]
        while self._items and self._items[0][0] is not None:
            batch.append(self._items.popleft()[1])
        return '{"kind":"events","events":[' + ",".join(batch) + "]}"

    async def run(self) -> None:
        """Send queued messages until the connection closes."""
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self._ready.wait()
                self._ready.clear()
                while self._items:
                    await self.ws.send(self._next_message())


@dataclass(eq=False)
class Connection:
    """One websocket and what the server knows about it."""

    ws: ServerConnection
    outbox: Outbox
    bucket: Bucket
    player: Player | None = None
    flooding: bool = False


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


def delivered(event: Event, seat: str, seating: Seating) -> Event | None:
    """The copy of ``event`` the seat receives, or ``None`` if it may not see it.

    Secret hashes never leave the server; the result is shown to everyone (the review);
    injects to unfilled roles reach the incident commander.
    """
    if event.kind == Kind.RESULT:
        return replace(event, hidden=False)
    if event.kind in SESSION_KINDS and any(k.endswith("_sha256") for k in event.payload):
        event = replace(event, payload={k: v for k, v in event.payload.items() if not k.endswith("_sha256")})
    if seat == Role.IC.value and event.seq in seating.forwarded and event.to is not None:
        event = replace(event, to=(*event.to, Role.IC.value))
    if event.kind == Kind.COMMAND and event.payload.get("action") == "message":
        event = replace(event, to=_message_audience(event))
    return event if event.visible_to(seat) else None


def _message_audience(command: Event) -> tuple[str, ...] | None:
    """Who may read a ``message`` command: a direct message's sender and roles (its text is in the
    command as well as in the message event), everyone for the war room."""
    params = command.payload.get("params") or {}
    to = [str(r) for r in params.get("to") or []]
    return tuple(sorted({str(command.actor), *to})) if to else None


class DrillServer:
    """One live team drill. Create with :meth:`host` or :meth:`resume`, then :meth:`start`."""

    def __init__(self, loaded: LoadedScenario, drill: Drill, journal: JournalWriter, *, code_hash: str,
                 facilitator_hash: str, speed: float, published: int, limits: Limits | None = None,
                 code: str | None = None) -> None:
        self.loaded, self.drill, self.journal = loaded, drill, journal
        self.code, self.code_hash, self.facilitator_hash = code, code_hash, facilitator_hash
        self.limits = limits or Limits()
        self.clock = DrillClock(speed=speed, sim=drill.now)
        self.pacer = Pacer(drill, self.clock, on_advance=self._publish)
        self.players: dict[str, Player] = {}
        self.connections: set[Connection] = set()
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
        self.watchers: list[Callable[[Event], None]] = []
        """Called with every event once it is durable and sent (``ttx host`` logs joins, starts, ends)."""
        for event in drill.events:
            self.seating.track(event)
        drill.listeners.append(self._on_event)

    # --- creating ---------------------------------------------------------------------------

    @classmethod
    def host(cls, loaded: LoadedScenario, journal_path: str | Path, *, seed: int | None = None,
             code: str | None = None, facilitator_token: str, speed: float = 1.0,
             limits: Limits | None = None, drill: Drill | None = None) -> DrillServer:
        """A new drill in the lobby; the journal starts with the header and the hosting note.

        ``drill``: host this one instead (a fork, standing at its fork point with its past).
        """
        drill = new_drill(loaded, seed) if drill is None else drill
        code = (code or new_code()).upper()
        if Path(journal_path).exists() and Path(journal_path).stat().st_size > 0:
            raise ResumeError(f"{journal_path} already exists; to continue that drill use --resume")
        lock = _lock(journal_path)
        journal = JournalWriter(journal_path, drill.header(POLICY))
        server = cls(loaded, drill, journal, code_hash=digest(code), code=code,
                     facilitator_hash=digest(facilitator_token), speed=speed, published=0, limits=limits)
        server._lock = lock
        drill.note(Kind.SESSION_NOTE, "server", {"event": "hosted", "code_sha256": digest(code),
                                                 "facilitator_sha256": digest(facilitator_token),
                                                 "speed": speed}, hidden=True)
        server._publish()
        return server

    @classmethod
    def resume(cls, journal_path: str | Path, limits: Limits | None = None) -> DrillServer:
        """Rebuild a drill from its journal after a crash: same events, same players, clock paused.

        Raises:
            ResumeError: the journal is not a team drill, or re-deriving it gives other events.
        """
        if not Path(journal_path).is_file():
            raise ResumeError(f"{journal_path}: no such journal (--resume takes the journal file a "
                              "ttx host wrote, e.g. drill.jsonl)")
        lock = _lock(journal_path)
        _drop_torn_line(Path(journal_path))
        journal, loaded = load_journal_scenario(journal_path)
        recorded = journal.events
        notes = [i for i, e in enumerate(recorded)
                 if e.kind == Kind.SESSION_NOTE and e.payload.get("event") == "hosted"]
        if not notes:
            raise ResumeError(f"{journal_path}: not a team drill journal (no hosting note)")
        hosted = recorded[notes[-1]].payload
        here = recorded[notes[-1]:]  # a fork carries its parent's past; this drill starts at its own note
        drill = _rederive(journal_path, journal, loaded)
        server = cls(loaded, drill, JournalWriter(journal_path), code_hash=str(hosted["code_sha256"]),
                     facilitator_hash=str(hosted["facilitator_sha256"]), speed=_last_speed(here),
                     published=len(recorded), limits=limits)
        server._lock = lock
        server._restore_players(here)
        server.started = any(e.kind == Kind.CLOCK_CHANGED and e.payload.get("reason") == "start"
                             for e in here)
        server._note(Kind.SESSION_NOTE, "server", {"event": "resumed", "at_seq": len(recorded)},
                     hidden=True)
        server._publish()
        return server

    def _restore_players(self, recorded: Iterable[Event]) -> None:
        for event in recorded:
            p = event.payload
            if event.kind == Kind.PLAYER_JOINED and "token_sha256" in p:
                self.players[str(p["player"])] = Player(str(p["player"]), str(p["name"]), str(p["role"]),
                                                        str(p["token_sha256"]))

    # --- running ----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 8765,
                    tls: ssl.SSLContext | None = None) -> int:
        """Listen on ``host:port`` (0 picks a free port), over TLS with ``tls``, and start pacing;
        returns the port."""
        self._server = await serve(self._serve, host, port, max_size=HARD_FRAME_LIMIT,
                                   compression=None, max_queue=64, ssl=tls)
        self._committer = asyncio.get_running_loop().create_task(self._commit_forever())
        self.pacer.start()
        self._publish()
        return int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        """Stop listening, close every connection and the journal."""
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

    async def _serve(self, ws: ServerConnection) -> None:
        conn = Connection(ws, Outbox(ws, self.limits.backlog), Bucket(self.limits.rate, self.limits.burst))
        if len(self.connections) >= self.limits.max_connections:
            await ws.send(Error(code="server_full", message="too many connections").model_dump_json())
            await ws.close(1013, "server full")
            return
        self.connections.add(conn)
        sender = asyncio.get_running_loop().create_task(conn.outbox.run())
        try:
            async for raw in ws:
                self._receive(conn, raw)
        except ConnectionClosed:
            pass
        finally:
            self.connections.discard(conn)
            sender.cancel()
            self._detach(conn)

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
        """Group commit: fsync whatever was appended (in a worker thread), then send it and the acks."""
        while True:
            await self._commit_wanted.wait()
            self._commit_wanted.clear()
            fd = self.journal.flush()
            ready = len(self._appended)
            await asyncio.to_thread(os.fsync, fd)
            self._made_durable(ready)

    def _made_durable(self, count: int | None = None) -> None:
        """The first ``count`` appended events are on disk: fan them out, run the acks waiting on them."""
        count = len(self._appended) if count is None else count
        batch, self._appended = self._appended[:count], self._appended[count:]
        if batch:
            self._fan_out(batch)
        for event in batch:
            for watch in self.watchers:
                watch(event)
        self._durable += len(batch)
        while self._waiting and self._waiting[0][0] <= self._durable:
            self._waiting.popleft()[1]()
        if self._scored and self._durable == len(self.drill.events) and not self.done.is_set():
            self.clock.pause()
            self._broadcast(self._clock_state())
            for part in self.reveal():
                self._broadcast(part)
            self.done.set()

    def _when_durable(self, then: Callable[[], None]) -> None:
        """Run ``then`` once every event so far is on disk and sent (acks wait on this)."""
        target = len(self.drill.events)
        if target <= self._durable:
            then()
        else:
            self._waiting.append((target, then))

    def _fan_out(self, batch: list[Event]) -> None:
        per_seat: dict[str, list[tuple[Kind, str]]] = {}
        for conn in self.connections:
            if conn.player is None:
                continue
            seat = conn.player.seat
            if seat not in per_seat:
                per_seat[seat] = self._wire(batch, seat)
            conn.outbox.events(per_seat[seat])

    def _wire(self, events: Iterable[Event], seat: str) -> list[tuple[Kind, str]]:
        out = []
        for event in events:
            copy = delivered(event, seat, self.seating)
            if copy is not None:
                out.append((copy.kind, copy.to_json()))
        return out

    def _broadcast(self, message: BaseModel) -> None:
        for conn in self.connections:
            if conn.player is not None:
                conn.outbox.frame(message)

    def _clock_state(self) -> ClockState:
        return ClockState(sim=self.clock.now(), speed=self.clock.speed, paused=self.clock.paused,
                          started=self.started, ended=self.drill.finished)

    def reveal(self) -> list[Reveal]:
        """The whole drill for the after-action review (sent once it has ended and been scored),
        in parts of at most :data:`REVEAL_PART` events."""
        events = [_loads(text) for _, text in self._wire(self.drill.events[:self._durable], FACILITATOR)]
        header = self.drill.header(POLICY)
        idle = for_drill(self.drill.scenario, self.drill.seed, self.drill.now, key=self.loaded.content_hash)
        figures = DoNothingFigures(curve=[(p.t, p.total, p.rate) for p in idle.curve],
                                   harm_volume=idle.harm_volume)
        real = historical.for_drill(self.loaded, self.drill.seed, self.drill.now)
        real_figures = None if real is None else RealTeamFigures(
            curve=[(p.t, p.total, p.rate) for p in real.curve], harm_volume=real.harm_volume,
            time_to_detect=real.time_to_detect, time_to_contain=real.time_to_contain,
            first_signal=real.first_signal)
        starts = range(0, max(len(events), 1), REVEAL_PART)
        return [Reveal(header=header, events=events[i:i + REVEAL_PART], last=i + REVEAL_PART >= len(events),
                       do_nothing=figures if i + REVEAL_PART >= len(events) else None,
                       real_team=real_figures if i + REVEAL_PART >= len(events) else None)
                for i in starts]

    def lobby(self) -> Lobby:
        """Who holds which role and who is connected."""
        seats = [Seat(player=p.id, name=p.name, role=p.seat, connected=p.online > 0)
                 for p in self.players.values()]
        return Lobby(roles=[r.value for r in self.drill.scenario.roles], players=seats, started=self.started)

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
        if not conn.bucket.take():
            self._refuse(conn, "rate_limited", "too many frames; slow down", None, journal=not conn.flooding)
            conn.flooding = True
            return
        conn.flooding = False
        if isinstance(raw, bytes):
            self._refuse(conn, "binary", "binary frames are not accepted; send JSON text", None)
        elif len(raw) > FRAME_LIMIT or len(raw.encode()) > FRAME_LIMIT:
            self._refuse(conn, "frame_too_large", f"frames are limited to {FRAME_LIMIT} bytes", None)
        else:
            try:
                frame = client_frames.validate_json(raw)
            except ValidationError as exc:
                self._refuse_invalid(conn, exc)
                return
            try:
                self._dispatch(conn, frame)
            except Exception as exc:  # a bug must cost one frame, never the drill
                traceback.print_exc(file=sys.stderr)
                conn.outbox.frame(Error(code="internal", message=f"the server failed on this frame: {exc}",
                                        id=getattr(frame, "id", None)))

    def _refuse_invalid(self, conn: Connection, exc: ValidationError) -> None:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            self._refuse(conn, "malformed", f"not JSON: {first['msg']}", None)
            return
        where = ".".join(str(p) for p in first["loc"]) or "frame"
        self._refuse(conn, "bad_frame", f"{where}: {first['msg']}", None)

    def _refuse(self, conn: Connection, code: str, message: str, request: int | None,
                journal: bool = True) -> None:
        """Reply with an error and journal the refusal (facilitator-only); the drill is untouched."""
        conn.outbox.frame(Error(code=code, message=message, id=request))
        if journal:
            player = conn.player
            self._note(Kind.SESSION_NOTE, player.seat if player else None,
                       {"event": "refused_frame", "code": code, "reason": message[:300],
                        "player": player.id if player else None}, hidden=True)

    def _dispatch(self, conn: Connection, frame: Any) -> None:
        if isinstance(frame, Join):
            self._join(conn, frame)
        elif isinstance(frame, JoinFacilitator):
            self._join_facilitator(conn, frame)
        elif isinstance(frame, Reconnect):
            self._reconnect(conn, frame)
        else:
            player = self._authenticate(conn, frame)
            if player is None:
                return
            if isinstance(frame, FACILITATOR_FRAMES):
                self._facilitate(conn, player, frame)
            else:
                self._play(conn, player, frame)

    def _authenticate(self, conn: Connection, frame: Authed) -> Player | None:
        if conn.player is None:
            self._refuse(conn, "not_joined", "join first", frame.id)
            return None
        if not _same(frame.token, conn.player.token_hash):
            self._refuse(conn, "bad_token", "this token does not belong to this connection", frame.id)
            return None
        return conn.player

    # --- joining ------------------------------------------------------------------------

    def _join(self, conn: Connection, frame: Join) -> None:
        if conn.player is not None:
            self._refuse(conn, "already_joined", "this connection has joined already", None)
            return
        if not _same(frame.code.strip().upper(), self.code_hash):
            self._refuse(conn, "bad_code", "wrong join code", None)
            return
        in_play = [r.value for r in self.drill.scenario.roles]
        if frame.role not in in_play:
            self._refuse(conn, "unknown_role", f"role {frame.role!r} is not in play "
                         f"(in play: {', '.join(in_play)})", None)
            return
        self._admit(conn, frame.name, frame.role)

    def _join_facilitator(self, conn: Connection, frame: JoinFacilitator) -> None:
        if conn.player is not None:
            self._refuse(conn, "already_joined", "this connection has joined already", None)
            return
        if not _same(frame.token, self.facilitator_hash):
            self._refuse(conn, "bad_token", "wrong facilitator token", None)
            return
        self._admit(conn, frame.name, FACILITATOR)

    def _admit(self, conn: Connection, name: str, seat: str) -> None:
        token = new_token()
        player = Player(f"p{len(self.players) + 1}", name, seat, digest(token))
        self.players[player.id] = player
        self._note(Kind.PLAYER_JOINED, seat, {"player": player.id, "name": name, "role": seat,
                                               "token_sha256": player.token_hash})
        self._attach(conn, player, token, since=0)

    def _reconnect(self, conn: Connection, frame: Reconnect) -> None:
        player = next((p for p in self.players.values() if _same(frame.token, p.token_hash)), None)
        if player is None or conn.player is not None:
            self._refuse(conn, "bad_token", "unknown token", None)
            return
        self._note(Kind.PLAYER_JOINED, player.seat, {"player": player.id, "name": player.name,
                                                      "role": player.seat, "rejoined": True})
        since = frame.last_seq if frame.last_seq <= self._durable else 0
        self._attach(conn, player, frame.token, since=since)

    def _attach(self, conn: Connection, player: Player, token: str, since: int) -> None:
        """Bind the connection to the player: welcome, snapshot after ``since``, lobby to all."""
        conn.player = player
        player.online += 1
        scenario = self.drill.scenario.model_dump(mode="json")
        if player.seat != FACILITATOR:
            scenario["facilitator_notes"] = ""
        conn.outbox.frame(Welcome(token=token, player=player.id, name=player.name, seat=player.seat,
                                  scenario=scenario, seed=self.drill.seed,
                                  code=self.code if player.seat == FACILITATOR else None))
        events = self._wire(self.drill.events[since:self._durable], player.seat)
        conn.outbox.frame(Snapshot(since=since, seq=self._durable,
                                   events=[_loads(text) for _, text in events], clock=self._clock_state()))
        if self.done.is_set():
            for part in self.reveal():
                conn.outbox.frame(part)
        self._broadcast(self.lobby())

    def _detach(self, conn: Connection) -> None:
        player = conn.player
        if player is None:
            return
        player.online -= 1
        if player.online == 0:
            self._note(Kind.PLAYER_LEFT, player.seat, {"player": player.id, "name": player.name,
                                                        "role": player.seat})
        self._broadcast(self.lobby())

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
            command = Command(role=player.seat, action="message", player=player.name,
                              params={"text": frame.text, "to": frame.to})
        else:
            command = Command(role=player.seat, action=frame.action, params=frame.params, player=player.name)
        self._submit(conn, frame.id, command)

    def _submit(self, conn: Connection, request: int, command: Command) -> None:
        """Apply at the current sim time, journal (fsync), fan out, then acknowledge."""
        if self.drill.finished:
            conn.outbox.frame(Ack(id=request, accepted=False, reason="the drill has ended"))
            return
        self.pacer.sync()
        event = self.drill.submit(command)
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
        if isinstance(frame, FireInject | AdhocInject | End):
            self._submit(conn, frame.id, _facilitator_command(frame, player.name))
        else:
            self._steer_clock(conn, player, frame)

    def _start_clock(self, conn: Connection, player: Player, request: int) -> None:
        if self.started:
            conn.outbox.frame(Ack(id=request, accepted=False, reason="the drill has already started"))
            return
        self.started = True
        self._change_clock(conn, player, request, "start", self.clock.resume)
        self._broadcast(self.lobby())

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
        self._broadcast(self._clock_state())
        ack = Ack(id=request, accepted=True, seq=len(self.drill.events))
        self._when_durable(lambda: conn.outbox.frame(ack))
        self.pacer.wake()

    def _skip_to_next_inject(self) -> None:
        self.drill.skip_to_next_inject()
        self.clock.jump(self.drill.now)
        self._publish()


def _facilitator_command(frame: FireInject | AdhocInject | End, name: str) -> Command:
    if isinstance(frame, FireInject):
        return Command(role=FACILITATOR, action="fire_inject", params={"inject": frame.inject}, player=name)
    if isinstance(frame, AdhocInject):
        return Command(role=FACILITATOR, action="adhoc_inject", player=name,
                       params=frame.inject.model_dump(mode="json"))
    return Command(role=FACILITATOR, action="end_drill", player=name)


def _loads(text: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(text)
    return data


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
