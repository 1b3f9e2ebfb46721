"""The multiplayer client: a :class:`~simulator.engine.session.Session` over a websocket to ``ttx host``.

``RemoteSession`` keeps ``view`` as a fold of the events the server sends this seat and
mirrors the server's clock. When the connection drops it reconnects with its token and the
last seq it saw, and the server's snapshot fills the gap: no event is lost or folded twice.
No Textual here: the TUI (``tui.app.run_drill(session)``) and headless scripts use it alike.

``wss://`` URLs are joined over TLS: with ``pin`` the server's certificate must have that
SHA-256 fingerprint (checked before anything is sent, on every reconnect too), without it the
system's certificate authorities vouch for it. ``ws://`` is only for loopback (this machine, or
the near end of an SSH tunnel) unless ``insecure`` says otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from pydantic import ValidationError
from pydantic_core import from_json
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.uri import parse_uri

from simulator.engine.baseline import DoNothing, HarmPoint
from simulator.engine.clock import DrillClock
from simulator.engine.events import TRUTH, Event, Kind
from simulator.engine.historical import RealTeam
from simulator.engine.journal import ForkPoint, write_journal
from simulator.engine.payloads import describe
from simulator.engine.scoring import Result
from simulator.engine.session import (
    ChangeHandler,
    DrillRecord,
    EventHandler,
    Link,
    LobbyState,
    Notice,
    SeatHolder,
    Session,
)
from simulator.engine.view import DrillView
from simulator.format.commands import AdhocParams, Command
from simulator.format.durations import clock as clock_text
from simulator.format.durations import format_duration
from simulator.format.scenario import Scenario
from simulator.format.taxonomy import EVALUATOR, FACILITATOR, OBSERVERS
from simulator.team.protocol import (
    HARD_FRAME_LIMIT,
    SEAT_TICKET_HEADER,
    Ack,
    Act,
    AdhocInject,
    Alert,
    Authed,
    Chat,
    ClockState,
    CloseQuestion,
    DoNothingFigures,
    End,
    Error,
    Events,
    FireInject,
    Frame,
    Join,
    JoinEvaluator,
    JoinFacilitator,
    Lobby,
    LobbyChange,
    Observe,
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
    lobby_order,
    printable,
    server_frames,
)
from simulator.team.tls import (
    PinMismatch,
    TlsHandshakeFailed,
    client_context,
    handshake_failure,
    loopback,
    parse_pin,
    presented_pin,
)


class RemoteError(Exception):
    """The server refused to let this client in (bad code, bad token, unknown role …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class ConnectionLost(Exception):
    """The connection dropped before the server answered this request."""


class ProtocolError(ConnectionError):
    """The server sent a frame this client cannot read: the connection is dropped and re-made."""


class UnreadableEvent(Exception):
    """The server sent an event whose payload this version of ttx cannot fold into its view (a newer
    or broken server). Not a :class:`ProtocolError`: a reconnect would be sent the same event
    again, so the seat stops, saying which event and to update ttx."""

    def __init__(self, event: Event, exc: Exception) -> None:
        why = printable(f"{type(exc).__name__}: {exc}")[:160]
        super().__init__(f"the server sent an event this version cannot read: #{event.seq} "
                         f"{printable(event.kind.value)} ({why}); update ttx to the host's version")
        self.seq = event.seq


def _parse(raw: str | bytes) -> Frame:
    """One server frame, strictly.

    Raises:
        ProtocolError: it is not a frame of the protocol.
    """
    try:
        frame: Frame = server_frames.validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "frame"
        raise ProtocolError(f"unreadable frame from the server ({where}: {first['msg']})") from None
    return frame


_EVENTS_HEAD = '{"events":['
"""How the server begins every ``events`` frame (:func:`~simulator.team.outbox.events_frame`): the
frames :func:`_live_events` reads without building the frame model. Only a hint of which reader to
use; either reader checks the whole frame."""
_KINDS: dict[str, Kind] = {kind.value: kind for kind in Kind}


def _live_events(raw: str | bytes) -> list[Event] | None:
    """The events of an ``events`` frame (the frame every batch comes in), read in one JSON pass
    without building the frame model; ``None`` for any other frame (read it with :func:`_parse`).

    Checks what the ``Events`` model does: strict JSON (no ``NaN``), one object with exactly ``kind``
    ``"events"`` and ``events``, a list of objects, each an event in journal form (:func:`_event`).

    Raises:
        ProtocolError: it starts as an ``events`` frame but is not JSON, or an event is unreadable.
    """
    if raw[:11] not in (_EVENTS_HEAD, b'{"events":['):
        return None
    try:
        data = from_json(raw, allow_inf_nan=False)
    except ValueError:
        raise ProtocolError("unreadable frame from the server (not strict JSON)") from None
    if type(data) is not dict or data.keys() != {"events", "kind"} or data["kind"] != "events":
        return None
    items = data["events"]
    return _events(items) if type(items) is list else None


def _events(items: list[dict[str, Any]]) -> list[Event]:
    """Events of a frame in their domain form.

    Raises:
        ProtocolError: one is not an event in journal form.
    """
    try:
        return [_event(item) for item in items]
    except (KeyError, TypeError, ValueError) as exc:
        raise ProtocolError(f"unreadable event from the server ({type(exc).__name__})") from None


def _event(item: Any) -> Event:
    """One event from its journal form as the server sends it (decoded JSON), checked strictly: what
    :meth:`Event.from_dict` reads, of the types the journal writes (no ``"7"`` for a seq).

    Raises:
        KeyError, TypeError, ValueError: it is not.
    """
    if type(item) is not dict:
        raise TypeError("an event is an object")
    t, seq, kind, actor = item["t"], item["seq"], _KINDS[item["kind"]], item.get("actor")
    payload, to, hidden = item.get("payload", {}), item.get("to"), item.get("hidden", False)
    if (type(t) not in (int, float) or type(seq) is not int or (actor is not None and type(actor) is not str)
            or type(payload) is not dict or type(hidden) is not bool):
        raise TypeError("an event's field has the wrong type")
    if to is not None:
        if type(to) is not list or any(type(role) is not str for role in to):
            raise TypeError("an event's audience is a list of roles")
        to = tuple(to)
    return Event(t=float(t), seq=seq, kind=kind, actor=actor, payload=payload, to=to, hidden=hidden)


@dataclass
class _RevealParts:
    """The parts of a ``reveal`` received so far: events, then pieces of the do-nothing curve and
    of the real team's."""

    events: list[Event] = field(default_factory=list)
    idle_curve: list[HarmPoint] = field(default_factory=list)
    idle: DoNothingFigures | None = None
    real_curve: list[HarmPoint] = field(default_factory=list)
    real: RealTeamFigures | None = None

    def add(self, frame: Reveal) -> None:
        """Take one part."""
        self.events.extend(_events(frame.events))
        if frame.do_nothing is not None:
            self.idle = frame.do_nothing
            self.idle_curve.extend(HarmPoint(*point) for point in frame.do_nothing.curve)
        if frame.real_team is not None:
            self.real = frame.real_team
            self.real_curve.extend(HarmPoint(*point) for point in frame.real_team.curve)

    def do_nothing(self) -> DoNothing | None:
        """The do-nothing run, once its parts have come."""
        return None if self.idle is None else DoNothing(tuple(self.idle_curve), self.idle.harm_volume)

    def real_team(self) -> RealTeam | None:
        """The real team's run (``None``: the scenario has none)."""
        real = self.real
        return None if real is None else RealTeam(real.time_to_detect, real.time_to_contain,
                                                  real.first_signal, real.harm_volume, tuple(self.real_curve))


class RemoteSession:
    """A seat in a team drill. Open it with :meth:`open`; it implements the ``Session`` protocol.

    Clock controls (``start``, ``pause`` …) only work for the facilitator; for a player the
    server refuses them and the refusal is kept in :attr:`errors` rather than raised.
    ``view.now`` moves with the events received (so every client of a seat folds the same view);
    the live sim time is ``clock.now()``, mirrored from the server's clock frames.
    """

    scenario: Scenario
    team = True
    fork: ForkPoint | None = None

    def __init__(self, url: str, *, name: str, role: str | None = None, code: str | None = None,
                 facilitator_token: str | None = None, token: str | None = None, pin: str | None = None,
                 insecure: bool = False, auto_reconnect: bool = True, reconnect_for: float = 120.0,
                 timeout: float = 10.0, evaluator_token: str | None = None,
                 ticket: str | None = None) -> None:
        if (token is None and facilitator_token is None and evaluator_token is None
                and (role is None or code is None)):
            raise ValueError("a player needs a join code and a role; the facilitator a facilitator token; "
                             "an evaluator an evaluator token")
        self.url, self.name, self.role, self.code = url, name, role, code
        self.pin = parse_pin(pin) if pin is not None else None
        """The server certificate's pin (``SHA256:…``), normalised; ``None`` to trust the system's CAs."""
        self._tls = tls_for(url, self.pin, insecure)
        self.facilitator_token = facilitator_token
        self.evaluator_token = evaluator_token
        self.ticket = ticket
        """An SSH seat's ticket (sent with every connection; see :data:`SEAT_TICKET_HEADER`)."""
        self.token = token
        """This player's token (from the welcome); needed to reconnect."""
        self.seat: str | None = FACILITATOR if facilitator_token else EVALUATOR if evaluator_token else role
        self.view = DrillView(seat=self.seat)
        self.clock = DrillClock()
        self.clock_state: ClockState | None = None
        self.lobby: LobbyState | None = None
        self.player: str | None = None
        self.join_code: str | None = None
        """The join code (the facilitator receives it, to hand out)."""
        self.errors: list[Error] = []
        """Error replies not tied to a request (and refused clock controls)."""
        self._notices: list[Notice] = []
        self.do_nothing: DoNothing | None = None
        """The do-nothing run the server sent with the reveal (for the review)."""
        self.real_team: RealTeam | None = None
        """The real team's run the server sent with the reveal (``None``: the scenario has none)."""
        self.last_seq = 0
        """Seq of the last event received; sent on reconnect."""
        self.received: list[Event] = []
        """Every event this seat received, in order (what ``view`` is a fold of)."""
        self.revealed = False
        """True once the server's end-of-drill ``reveal`` has arrived in full (see :attr:`journal`)."""
        self.reveals = 0
        """How many complete reveals arrived (a reconnect after the end is sent the reveal again)."""
        self.journal: list[Event] = []
        """The whole drill, hidden truth included, as revealed at the end (empty before)."""
        self.journal_header: dict[str, Any] = {}
        """The journal header the server sent with the reveal."""
        self._revealing = _RevealParts()
        self._rebuilding: int | None = None
        """While a snapshot from seq 0 rebuilds the view: the last seq seen before it."""
        self._truth_folded: set[int] = set()
        """Seqs of revealed truth folded into the current ``view`` (a reset view starts again)."""
        self._truth_told: set[int] = set()
        """Seqs of revealed truth passed to the subscribers (each exactly once)."""
        self.reconnects = 0
        self.problem: str | None = None
        """Why reconnecting keeps failing, when it says more than "no answer" (``None``: nothing to say)."""
        self.connected = False
        """True while the websocket is open; ``False`` from a drop until a reconnect succeeds."""
        self.lost = False
        """True once reconnecting has been given up."""
        self.unreadable: UnreadableEvent | None = None
        """The event this version could not read, if that is why the seat stopped."""
        self.auto_reconnect, self.reconnect_for, self.timeout = auto_reconnect, reconnect_for, timeout
        self._handlers: list[EventHandler] = []
        self._change_handlers: list[ChangeHandler] = []
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._acks: dict[int, asyncio.Future[Ack]] = {}
        self._ids = itertools.count(1)
        self._closing = False
        self._changed = asyncio.Event()

    # --- connecting ---------------------------------------------------------------------

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> RemoteSession:
        """Connect, join (or rejoin with ``token``) and wait for the first snapshot."""
        session = cls(url, **kwargs)
        await session.connect()
        return session

    async def connect(self) -> None:
        """Open the websocket, join, receive the welcome and the snapshot, start reading.

        Raises:
            RemoteError: the server refused the join.
            OSError, TimeoutError: no server there.
        """
        if self.token is not None:
            hello: Frame = Reconnect(token=self.token, last_seq=self.last_seq)
        elif self.facilitator_token is not None:
            hello = JoinFacilitator(token=self.facilitator_token, name=self.name)
        elif self.evaluator_token is not None:
            hello = JoinEvaluator(token=self.evaluator_token, name=self.name)
        else:
            assert self.code is not None and self.role is not None
            hello = Join(code=self.code, role=self.role, name=self.name)
        ws = await self._open()
        try:
            await ws.send(hello.model_dump_json())
            await asyncio.wait_for(self._handshake(ws), self.timeout)
        except BaseException:
            await ws.close()
            raise
        self._ws = ws
        self.connected = True
        if self._reader is None or self._reader.done():
            self._reader = asyncio.get_running_loop().create_task(self._read_forever())

    async def _open(self) -> ClientConnection:
        """The websocket to the server, over TLS for ``wss://`` (its certificate checked against the pin).

        Raises:
            PinMismatch: the server presented another certificate; nothing was sent to it.
            TlsHandshakeFailed: something answered, but not with TLS (a plain ``ws://`` host).
        """
        headers = {SEAT_TICKET_HEADER: self.ticket} if self.ticket is not None else None
        if self._tls is None:
            return await connect(self.url, proxy=None, compression=None, max_size=HARD_FRAME_LIMIT,
                                 open_timeout=self.timeout, additional_headers=headers)
        presented: list[str] = []
        pinned = None if self.pin is None else _pinned(self.pin, presented)
        try:
            return await connect(self.url, proxy=None, compression=None, max_size=HARD_FRAME_LIMIT,
                                 open_timeout=self.timeout, ssl=self._tls, create_connection=pinned,
                                 additional_headers=headers)
        except BaseException as exc:
            uri = parse_uri(self.url)
            if presented and self.pin is not None:
                raise PinMismatch(f"{uri.host}:{uri.port}", presented[0], self.pin) from None
            if handshake_failure(exc):
                raise TlsHandshakeFailed(f"{uri.host}:{uri.port}", exc) from exc
            raise

    async def _handshake(self, ws: ClientConnection) -> None:
        """Read the welcome and the whole snapshot (every part of it).

        Raises:
            RemoteError: the server refused the join.
            ProtocolError: the server sent a frame this client cannot read.
        """
        while True:
            frame = _parse(await ws.recv())
            if isinstance(frame, Error):
                raise RemoteError(frame.code, frame.message)
            self._handle(frame)
            if isinstance(frame, Snapshot) and frame.last:
                return

    async def _read_forever(self) -> None:
        while not self._closing:
            ws = self._ws
            assert ws is not None
            with contextlib.suppress(ConnectionClosed):
                try:
                    async for raw in ws:
                        self._receive(raw)
                except ProtocolError as exc:
                    self._notices.append(Notice(f"{exc}; reconnecting", title="Connection", severity="error"))
                    await ws.close(1002, "unreadable frame")
                except UnreadableEvent as exc:
                    await ws.close(1003, "unreadable event")
                    self._give_up(exc)
            self.connected = False
            self._fail_pending()
            if not self._closing:
                self._tell_change()  # the link is down: a lobby on screen says so, not "connected"
            if self._closing or not self.auto_reconnect or not await self._reconnect():
                break
        self._fail_pending()

    async def _reconnect(self) -> bool:
        """Reconnect with the token and last seq, backing off; ``False`` once given up."""
        deadline = time.monotonic() + self.reconnect_for
        delay = 0.05
        while not self._closing and time.monotonic() < deadline:
            try:
                await self.connect()
            except TlsHandshakeFailed as exc:
                self._tell_problem(exc.while_reconnecting(format_duration(self.reconnect_for)))
                await asyncio.sleep(delay)
                delay = min(1.0, delay * 2)
                continue
            except (OSError, TimeoutError, ConnectionClosed, InvalidHandshake):
                await asyncio.sleep(delay)
                delay = min(1.0, delay * 2)
                continue
            except RemoteError as exc:
                self._error(Error(code=exc.code, message=str(exc)))
                break
            except PinMismatch as exc:
                self._error(Error(code="pin_mismatch", message=str(exc)))
                break
            except UnreadableEvent as exc:
                self._give_up(exc)
                return False
            self.reconnects += 1
            if self.problem is not None:
                self.problem = None
                self._notices.append(Notice("Reconnected.", title="Reconnecting", severity="information"))
            self._tell_change()  # the frames of the handshake were told while still unconnected
            return True
        self.lost = True
        self._changed.set()
        self._tell_change()
        return False

    def _tell_problem(self, problem: str) -> None:
        """Say once why reconnecting keeps failing (the header only says RECONNECTING…)."""
        if problem != self.problem:
            self.problem = problem
            self._notices.append(Notice(problem, title="Reconnecting", severity="error",
                                        seconds=self.reconnect_for))
            self._tell_change()

    def _give_up(self, exc: UnreadableEvent) -> None:
        """Stop for good over an event this version cannot read (reconnecting would meet it again):
        the seat is lost, with a notice and an error saying which event and what to do."""
        self.unreadable = exc
        self.errors.append(Error(code="unreadable_event", message=str(exc)))
        self._notices.append(Notice(str(exc), title="Update ttx", severity="error"))
        self._closing = self.lost = True
        self._changed.set()
        self._tell_change()

    def _fail_pending(self) -> None:
        for future in self._acks.values():
            if not future.done():
                future.set_exception(ConnectionLost("the connection dropped before the server answered"))
        self._acks.clear()

    # --- frames in ----------------------------------------------------------------------

    def _receive(self, raw: str | bytes) -> None:
        """Take one frame from the server: live events straight into the view, anything else
        through the frame models.

        Raises:
            ProtocolError: the server sent a frame this client cannot read.
        """
        events = _live_events(raw)
        if events is None:
            self._handle(_parse(raw))
            return
        self._fold(events)
        self._changed.set()

    def _handle(self, frame: Frame) -> None:
        if isinstance(frame, Events):
            self._fold(_events(frame.events))
        elif isinstance(frame, Snapshot):
            self._snapshot(frame)
        elif isinstance(frame, ClockState):
            self._set_clock(frame)
        elif isinstance(frame, Ack):
            future = self._acks.pop(frame.id, None)
            if future is not None and not future.done():
                future.set_result(frame)
        elif isinstance(frame, Error):
            self._error(frame)
        elif isinstance(frame, Alert):
            self._notices.append(Notice(frame.message, title="Security", severity="warning"))
        elif isinstance(frame, Welcome):
            self._welcome(frame)
        elif isinstance(frame, Lobby):
            self.lobby = lobby_state(frame)
        elif isinstance(frame, LobbyChange):
            self.lobby = changed_lobby(self.lobby, frame)
        elif isinstance(frame, Reveal):
            self._reveal(frame)
        self._changed.set()
        if not isinstance(frame, Events | Ack):
            self._tell_change()

    def _tell_change(self) -> None:
        for handler in self._change_handlers:
            handler()

    def _welcome(self, frame: Welcome) -> None:
        if not hasattr(self, "scenario"):
            try:
                self.scenario = Scenario.model_validate(frame.scenario)
            except ValidationError:
                raise ProtocolError("the server sent a scenario this client cannot read") from None
        self.token, self.player, self.seat = frame.token, frame.player, frame.seat
        self.join_code = frame.code or self.join_code
        self._revealing = _RevealParts()  # a reveal cut short is sent again in full
        self.view.seat = frame.seat

    def _snapshot(self, frame: Snapshot) -> None:
        """Fold one part of a snapshot. One from seq 0 while this seat had seen more (a server
        that lost its tail) starts the view again; subscribers hear only events they had not."""
        if frame.part == 0 and frame.since == 0 and self.last_seq > 0:
            self._rebuilding = max(self.last_seq, self._rebuilding or 0)
            self.last_seq = 0
            self.view = DrillView(seat=self.seat)
            self._truth_folded = set()
            self.received = []
        self._fold(_events(frame.events), told_up_to=self._rebuilding or 0)
        if frame.last:
            if self._rebuilding is not None:
                self.last_seq, self._rebuilding = max(self.last_seq, self._rebuilding), None
            self._set_clock(frame.clock)

    def _reveal(self, frame: Reveal) -> None:
        """Collect the end-of-drill reveal; when complete, fold the hidden truth in and tell subscribers.

        The truth (harm, expectations met and missed, resurgences) this seat had not seen is folded
        into the view as if addressed to it (so ``view.harm`` fills) and passed to the subscribers,
        who receive each such event once; everything else stays in :attr:`journal` for saving.
        """
        self.journal_header = dict(frame.header)
        self._revealing.add(frame)
        if not frame.last:
            return
        revealed, self._revealing = self._revealing, _RevealParts()
        self.do_nothing = revealed.do_nothing() or self.do_nothing
        self.real_team = revealed.real_team()
        self.journal = revealed.events
        seen = {e.seq for e in self.received} | self._truth_folded
        truth = [replace(e, hidden=False, to=None) for e in self.journal
                 if e.kind in TRUTH and e.seq not in seen]
        last = self.view.seq
        for event in truth:
            self._apply(event)
        self.view.seq = last
        self._truth_folded.update(e.seq for e in truth)
        for event in self.journal:
            if event.kind == Kind.RESULT and self.view.result is None:
                self.view.result = dict(event.payload)
        self.revealed = True
        self.reveals += 1
        told = [e for e in truth if e.seq not in self._truth_told]
        self._truth_told.update(e.seq for e in told)
        self._notify(told)

    @property
    def reviewable(self) -> bool:
        """The drill has ended and everything the review needs (result, hidden truth) has arrived."""
        return self.view.ended and self.view.result is not None and self.revealed

    @property
    def link(self) -> Link:
        """Connected, reconnecting after a drop, or lost (reconnecting given up)."""
        return Link.LOST if self.lost else Link.CONNECTED if self.connected else Link.RECONNECTING

    @property
    def started(self) -> bool | None:
        """Whether the facilitator has started the drill (``None`` until the server has said)."""
        if self.clock_state is not None:
            return self.clock_state.started
        return self.lobby.started if self.lobby is not None else None

    def review(self) -> DrillRecord | None:
        """The whole revealed drill, the server's do-nothing run and the real team's, once the reveal
        is complete."""
        if not self.reviewable or self.view.result is None:
            return None
        return DrillRecord(dict(self.journal_header), list(self.journal), Result.from_dict(self.view.result),
                           self.do_nothing, real_team=self.real_team)

    def fork_at(self, at: float, folder: Path) -> None:
        """A team seat does not rewind: the review belongs to the whole team (the host can fork)."""
        return None

    def take_notices(self) -> list[Notice]:
        """Errors not tied to a request and refused clock controls, since the last call."""
        notices, self._notices = self._notices, []
        return notices

    def save(self, path: str | Path) -> Path:
        """Write this drill's journal to ``path``: the revealed whole drill once it has ended,
        else the events this seat received so far."""
        header = self.journal_header or {"kind": "header", "format": 1, "tool": "ttx",
                                         "scenario": self.scenario.id, "policy": "team", "partial": True}
        write_journal(path, header, self.journal or self.received)
        return Path(path)

    def _fold(self, events: list[Event], told_up_to: int = 0) -> None:
        """Fold the events after :attr:`last_seq`; subscribers hear those after ``told_up_to``."""
        folded: list[Event] = []
        try:
            for event in events:
                if event.seq > self.last_seq:
                    self._apply(event)
                    self.received.append(event)
                    self.last_seq = event.seq
                    folded.append(event)
        finally:  # the events before one this version cannot read are folded and told
            self._notify([e for e in folded if e.seq > told_up_to])

    def _apply(self, event: Event) -> None:
        """Fold one event into the view.

        Raises:
            UnreadableEvent: its payload is not what this version's view reads for its kind.
        """
        try:
            self.view.apply(event)
        except (TypeError, KeyError, ValueError, AttributeError, IndexError) as exc:
            raise UnreadableEvent(event, exc) from exc

    def _notify(self, events: list[Event]) -> None:
        for event in events:
            for handler in self._handlers:
                handler(event)

    def _set_clock(self, state: ClockState) -> None:
        self.clock_state = state
        self.clock.set(state.sim, state.speed, state.paused)

    def _error(self, frame: Error) -> None:
        future = self._acks.pop(frame.id, None) if frame.id is not None else None
        if future is not None and not future.done():
            future.set_result(Ack(id=frame.id or 0, accepted=False, reason=f"{frame.code}: {frame.message}"))
        else:
            self.errors.append(frame)
            self._notices.append(Notice(f"{frame.code}: {frame.message}"))

    # --- the Session protocol -----------------------------------------------------------

    def subscribe(self, handler: EventHandler) -> None:
        """Call ``handler`` with every new event for this seat, after the view has folded it."""
        self._handlers.append(handler)

    def on_change(self, handler: ChangeHandler) -> None:
        """Call ``handler`` after a lobby, clock, error or reveal frame, and when the link is lost."""
        self._change_handlers.append(handler)

    async def request(self, make: Callable[[str, int], Frame]) -> Ack:
        """Send a frame built by ``make(token, id)`` and wait for its ack (an error becomes a refusal).

        Raises:
            ConnectionLost: the connection dropped first (the command may or may not have applied).
        """
        if self._ws is None or self.token is None:
            raise ConnectionLost("not connected")
        rid = next(self._ids)
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._acks[rid] = future
        try:
            await self._ws.send(make(self.token, rid).model_dump_json())
        except ConnectionClosed:
            self._acks.pop(rid, None)
            raise ConnectionLost("the connection is down") from None
        return await asyncio.wait_for(future, self.timeout)

    async def submit(self, command: Command) -> Event:
        """Send a command as this seat; returns the accepted ``command`` event or a ``refused`` one.

        The facilitator's verbs (``fire_inject``, ``adhoc_inject``, ``end_drill``, ``close_question``
        with role ``facilitator``, as a hot-seat client sends them) go as the matching facilitator
        frames; ``observe`` (facilitator or evaluator) as an ``observe`` frame.
        """
        try:
            make = _frame_for(command)
        except ValidationError as exc:
            return self._refused(command, f"bad parameters: {exc.errors()[0]['msg']}")
        ack = await self.request(make)
        if ack.event is not None:
            return Event.from_dict(ack.event)
        return self._refused(command, ack.reason or "refused")

    def _refused(self, command: Command, reason: str) -> Event:
        """A local ``refused`` event for a command the server turned away before the engine saw it."""
        return Event(t=self.view.now, seq=0, kind=Kind.REFUSED, actor=command.role,
                     payload={"action": command.action, "params": command.params, "reason": reason},
                     to=(command.role,))

    async def chat(self, text: str, to: list[str] | None = None) -> Ack:
        """Post to the war room, or a direct message to ``to`` roles."""
        return await self.request(lambda token, rid: Chat(token=token, id=rid, text=text, to=to or []))

    async def fire_inject(self, inject: str) -> Ack:
        """Facilitator: fire a scripted inject now."""
        return await self.request(lambda token, rid: FireInject(token=token, id=rid, inject=inject))

    async def adhoc_inject(self, params: AdhocParams) -> Ack:
        """Facilitator: send an ad-hoc inject."""
        return await self.request(lambda token, rid: AdhocInject(token=token, id=rid, inject=params))

    async def _control(self, make: Callable[[str, int], Frame]) -> None:
        ack = await self.request(make)
        if not ack.accepted:
            self.errors.append(Error(code="refused", message=ack.reason or "refused", id=ack.id))
            self._notices.append(Notice(ack.reason or "refused", title="Refused", severity="error"))
            self._tell_change()

    async def start(self) -> None:
        await self._control(lambda token, rid: Start(token=token, id=rid))

    async def pause(self) -> None:
        await self._control(lambda token, rid: Pause(token=token, id=rid))

    async def resume(self) -> None:
        await self._control(lambda token, rid: Resume(token=token, id=rid))

    async def set_speed(self, speed: float) -> None:
        await self._control(lambda token, rid: Speed(token=token, id=rid, speed=speed))

    async def next_inject(self) -> None:
        await self._control(lambda token, rid: Skip(token=token, id=rid))

    async def end(self) -> None:
        await self._control(lambda token, rid: End(token=token, id=rid))

    async def close(self) -> None:
        """Leave: close the websocket and stop reconnecting."""
        self._closing = True
        if self._ws is not None:
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                await self._reader
        self._fail_pending()

    # --- for scripts and tests ----------------------------------------------------------

    async def drop(self) -> None:
        """Drop the connection as a network failure would; the session reconnects by itself."""
        if self._ws is not None:
            self._ws.transport.abort()

    async def wait_until(self, condition: Callable[[RemoteSession], bool], timeout: float = 10.0) -> None:
        """Wait until ``condition(self)`` holds after some frame arrives.

        Raises:
            TimeoutError: it did not hold within ``timeout`` seconds.
        """
        deadline = time.monotonic() + timeout
        while not condition(self):
            left = deadline - time.monotonic()
            if left <= 0 or self.lost:
                raise TimeoutError(f"condition not met within {timeout} s (seat {self.seat})")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(left, 0.5))


def tls_for(url: str, pin: str | None, insecure: bool = False) -> ssl.SSLContext | None:
    """The TLS context to join ``url`` with (``None``: plain ``ws://``), after checking it is safe.

    Raises:
        ValueError: not a ws:// or wss:// URL; a pin for a ws:// URL; ws:// to another machine
            without ``insecure`` (the join code, tokens and chat would cross the network in clear).
    """
    try:
        uri = parse_uri(url)
    except InvalidURI:
        raise ValueError("it must start with ws:// (this machine only) or wss://") from None
    if uri.secure:
        return client_context(pin)
    if pin is not None:
        raise ValueError("--pin is for wss:// URLs: the host's banner prints the wss:// URL with its pin")
    if not (loopback(uri.host) or insecure):
        raise ValueError(f"ws:// to {uri.host} is not encrypted: the join code, your token and the chat "
                         "would cross the network in clear; use the wss:// URL and --pin the host "
                         "printed, or an SSH seat (add --insecure only if you accept that)")
    return None


def _pinned(pin: str, presented: list[str]) -> type[ClientConnection]:
    """A websocket connection that checks the certificate against ``pin`` once TLS is up.

    On a mismatch it appends the presented pin to ``presented`` and aborts, before the HTTP upgrade
    (let alone a join code or token) is written.
    """
    class PinnedConnection(ClientConnection):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            seen = presented_pin(transport.get_extra_info("ssl_object"))
            if seen != pin:
                presented.append(seen or "no certificate")
                assert isinstance(transport, asyncio.Transport)
                transport.abort()

    return PinnedConnection


def _frame_for(command: Command) -> Callable[[str, int], Frame]:
    """How a command travels: a player's ``command`` frame, or a facilitator frame for their verbs.

    Raises:
        ValidationError: the facilitator verb's parameters are invalid.
    """
    frame: Authed
    if command.role in OBSERVERS and command.action == "observe":
        frame = Observe(token="-", objective=command.params.get("objective", ""),
                        tag=command.params.get("tag", ""), text=command.params.get("text", ""))
    elif command.role == FACILITATOR and command.action == "close_question":
        frame = CloseQuestion(token="-", question=command.params.get("question", ""))
    elif command.role == FACILITATOR and command.action == "fire_inject":
        frame = FireInject(token="-", inject=command.params.get("inject", ""))
    elif command.role == FACILITATOR and command.action == "adhoc_inject":
        frame = AdhocInject(token="-", inject=AdhocParams.model_validate(command.params))
    elif command.role == FACILITATOR and command.action == "end_drill":
        frame = End(token="-")
    else:
        frame = Act(token="-", role=command.role, action=command.action, params=command.params)
    return lambda token, rid: frame.model_copy(update={"token": token, "id": rid})


def event_line(event: Event) -> str:
    """One readable line for an event (``ttx join --headless``), safe to write to a terminal:
    control, escape and bidirectional characters from anyone's text are shown as escapes."""
    to = f" → {','.join(event.to)}" if event.to else ""
    who = f"{event.actor or '-'}{to}"
    return printable(f"{clock_text(event.t)} #{event.seq} {event.kind.value} {who}: {describe(event)}")


async def print_events(session: RemoteSession, out: IO[str], coalesce_ticks: bool = True) -> bool:
    """Print this seat's events as lines until the drill's result arrives or the server is gone
    (``True``), or until ``out`` cannot be written any more (``False``: its terminal or reader went
    away; the lines stop there, and so does the wait)."""
    broken: list[OSError] = []

    def show(event: Event) -> None:
        if broken or (coalesce_ticks and event.kind in (Kind.TICK, Kind.HARM)):
            return
        if event.kind in TRUTH and session.seat not in OBSERVERS:
            return  # the end-of-drill reveal: for the review and the saved journal, not these lines
        try:
            out.write(event_line(event) + "\n")
            out.flush()
        except OSError as exc:
            broken.append(exc)  # the wait below looks again within half a second

    for event in list(session.received):
        show(event)
    session.subscribe(show)
    await session.wait_until(lambda s: s.view.result is not None or s.lost or bool(broken),
                             timeout=float("inf"))
    return not broken


if TYPE_CHECKING:
    def _implements_session(remote: RemoteSession) -> Session:
        """mypy checks here that ``RemoteSession`` fits the ``Session`` protocol."""
        return remote


def lobby_state(frame: Lobby) -> LobbyState:
    """The lobby frame in the session's domain terms."""
    return LobbyState(tuple(frame.roles), tuple(_holder(s) for s in frame.players), frame.started)


def changed_lobby(lobby: LobbyState | None, change: LobbyChange) -> LobbyState:
    """``lobby`` with ``change`` applied: its seats replace or join those of the same players, the
    gone ones leave, listed in :func:`lobby_order` as the server's whole lobby is.

    Raises:
        ProtocolError: no whole lobby came first (the server sends one on every join and reconnect).
    """
    if lobby is None:
        raise ProtocolError("the server sent a lobby change before the lobby")
    holders = {h.player: h for h in lobby.players}
    holders.update((s.player, _holder(s)) for s in change.seats)
    for player in change.gone:
        holders.pop(player, None)
    listed = tuple(holders[p] for p in sorted(holders, key=lobby_order))
    return LobbyState(lobby.roles, listed, change.started)


def _holder(seat: Seat) -> SeatHolder:
    return SeatHolder(seat.player, seat.name, seat.role, seat.connected)
