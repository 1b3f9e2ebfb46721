"""What the server sends one client: a bounded queue, frames paged by size, strict JSON only.

Events travel as the journal writes them (compact, key-sorted JSON) and are packed into frames
of at most :data:`~simulator.team.protocol.PAGE_LIMIT` bytes of events, so no frame comes near
the client's limit however long the drill. A client that falls behind first loses older clock
and metric updates (the latest of each stays; injects and actions never go); one that stops
reading altogether is dropped once its queue passes a byte budget, and reconnects for a snapshot.

A frame the same for many clients (a batch of events for one audience, the lobby, the clock) is
encoded once, as a :class:`Shared` websocket frame, and written as it is to every client that
is keeping up: straight to its socket when nothing waits in its queue, without a task switch.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from pydantic import BaseModel
from websockets.exceptions import ConnectionClosed
from websockets.frames import Frame, Opcode
from websockets.protocol import State

from simulator.engine.events import COALESCABLE, Event, Kind
from simulator.team.protocol import PAGE_LIMIT, Error

MAX_QUEUED_ERRORS = 8
"""Error replies waiting for one client; further ones are dropped (counted), never queued."""

DIRECT_BYTES = 64 * 1024
"""A frame is written straight to a client's socket only while less than this waits in the socket's
own buffer (the client is reading); otherwise it queues and the sender waits for the socket."""

_CONTROL = None
_ERROR = ""
_Item = tuple[Kind | str | None, str] | Iterator[str]


class Shared:
    """One message for many clients (events for one audience, or a control frame), encoded once.

    ``items`` are the events (kind, wire JSON) it carries, or ``None`` for a control frame.
    """

    __slots__ = ("_frame", "items", "size", "text")

    def __init__(self, text: str, items: list[tuple[Kind, str]] | None = None) -> None:
        self.text, self.items = text, items
        self.size = len(text)
        self._frame: bytes | None = None

    @classmethod
    def events(cls, items: list[tuple[Kind, str]]) -> Shared:
        """The ``events`` frame carrying ``items``."""
        return cls(events_frame([text for _, text in items]), items)

    def frame(self) -> bytes:
        """The websocket text frame, as written to every client (a server's frames are unmasked)."""
        if self._frame is None:
            self._frame = Frame(Opcode.TEXT, self.text.encode()).serialize(mask=False)
        return self._frame


def events_frame(texts: list[str]) -> str:
    """An ``events`` frame of events given as wire JSON."""
    return '{"events":[' + ",".join(texts) + '],"kind":"events"}'


class Sink(Protocol):
    """Where an outbox sends (a websocket connection)."""

    async def send(self, message: str) -> None: ...


def wire_json(event: Event) -> str:
    """An event as it travels: its journal line, always strict JSON (a non-finite number is ``null``)."""
    data = event.to_dict()
    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except ValueError:
        return json.dumps(_finite(data), sort_keys=True, separators=(",", ":"), allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def strict_json(value: Any) -> str:
    """Compact, key-sorted, strict JSON."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def pages(texts: Iterable[str], budget: int = PAGE_LIMIT) -> Iterator[tuple[list[str], bool]]:
    """Group JSON texts into pages of at most ``budget`` bytes (ASCII texts; one larger text goes
    alone), each with whether it is the last. An empty input gives one empty, last page."""
    page: list[str] = []
    size = 0
    for text in texts:
        if page and size + len(text) + 1 > budget:
            yield page, False
            page, size = [], 0
        page.append(text)
        size += len(text) + 1
    yield page, True


class Outbox:
    """One connection's outbound queue. Events are batched by size; when the client falls behind,
    older tick/harm updates are dropped (the latest of each kind stays), injects and actions never.

    :attr:`on_overflow` is called (once) when more than ``max_bytes`` are waiting: the client is
    not reading, and the server drops it rather than buffer without bound.
    """

    def __init__(self, ws: Sink, backlog: int, max_bytes: int = 4 * 1024 * 1024,
                 overflow: Callable[[], None] | None = None) -> None:
        self.ws = ws
        self.backlog = backlog
        self.max_bytes = max_bytes
        self.coalesced = 0
        """Tick/harm updates dropped for this client so far."""
        self.dropped_errors = 0
        """Error replies dropped because :data:`MAX_QUEUED_ERRORS` were already waiting."""
        self.queued_bytes = 0
        """Bytes waiting (lazy pages count once produced)."""
        self.overflowed = False
        self.on_overflow = overflow
        """Called once when the queue passes ``max_bytes`` (the queue is emptied and stays shut)."""
        self._items: deque[_Item] = deque()
        self._errors = 0
        self._ready = asyncio.Event()
        self._busy = False
        """The sender is writing (or waiting to write) a queued message."""
        self._transport: Any = getattr(ws, "transport", None)
        self._protocol: Any = getattr(ws, "protocol", None)
        """The websocket's socket and protocol state, for :meth:`_write_now` (``None``: always queue)."""
        self.direct = 0
        """Messages written straight to the socket (not queued)."""

    def frame(self, message: BaseModel | str | Shared) -> None:
        """Send a control frame (never coalesced): straight out if nothing waits before it, else queued."""
        if not isinstance(message, Shared):
            message = Shared(message if isinstance(message, str) else message.model_dump_json())
        if not self._write_now(message):
            self._push(_CONTROL, message.text)

    def shared(self, batch: Shared) -> None:
        """Events encoded once for every client of their audience (see :meth:`Shared.events`):
        written straight out when this client has nothing queued, else queued like :meth:`events`."""
        if batch.items and not self._write_now(batch):
            self.events(batch.items)

    def _write_now(self, message: Shared) -> bool:
        """Write an encoded frame to the socket at once, if nothing waits before it and the client is
        reading; ``False`` (nothing written) otherwise."""
        if self._items or self._busy or self.overflowed or message.size > PAGE_LIMIT + 1024:
            return False
        transport, protocol = self._transport, self._protocol
        if (transport is None or protocol is None or protocol.state is not State.OPEN
                or transport.is_closing() or transport.get_write_buffer_size() >= DIRECT_BYTES):
            return False
        transport.write(message.frame())
        self.direct += 1
        return True

    def error(self, message: Error) -> None:
        """Queue an error reply, unless :data:`MAX_QUEUED_ERRORS` are already waiting (then it is dropped)."""
        if self._errors >= MAX_QUEUED_ERRORS:
            self.dropped_errors += 1
            return
        self._errors += 1
        self._push(_ERROR, message.model_dump_json())

    def lazy(self, frames: Iterator[str]) -> None:
        """Queue frames produced one by one as the client reads (snapshot and reveal pages)."""
        if not self.overflowed:
            self._items.append(frames)
            self._ready.set()

    def events(self, items: list[tuple[Kind, str]]) -> None:
        """Queue events (wire JSON) for this client."""
        if not items or self.overflowed:
            return
        self._items.extend(items)
        self.queued_bytes += sum(len(text) for _, text in items)
        if len(self._items) > self.backlog:
            self._coalesce()
        self._check()

    def _push(self, tag: str | None, text: str) -> None:
        if self.overflowed:
            return
        self._items.append((tag, text))
        self.queued_bytes += len(text)
        self._check()

    def _check(self) -> None:
        if self.queued_bytes > self.max_bytes and not self.overflowed:
            self.overflowed = True
            self._items.clear()
            self.queued_bytes = 0
            if self.on_overflow is not None:
                self.on_overflow()
        self._ready.set()

    def _coalesce(self) -> None:
        latest = {item[0]: i for i, item in enumerate(self._items)
                  if isinstance(item, tuple) and item[0] in COALESCABLE}
        kept: deque[_Item] = deque()
        for i, item in enumerate(self._items):
            if isinstance(item, tuple) and item[0] in COALESCABLE and latest[item[0]] != i:
                self.coalesced += 1
                self.queued_bytes -= len(item[1])
            else:
                kept.append(item)
        self._items = kept

    def _next_message(self) -> str | None:
        head = self._items[0]
        if not isinstance(head, tuple):
            text = next(head, None)
            if text is None:
                self._items.popleft()
            return text
        self._items.popleft()
        tag, text = head
        self.queued_bytes -= len(text)
        if tag is _CONTROL:
            return text
        if tag == _ERROR:
            self._errors -= 1
            return text
        batch, size = [text], len(text)
        while self._items:
            nxt = self._items[0]
            if not isinstance(nxt, tuple) or nxt[0] is _CONTROL or nxt[0] == _ERROR \
                    or size + len(nxt[1]) + 1 > PAGE_LIMIT:
                break
            self._items.popleft()
            batch.append(nxt[1])
            size += len(nxt[1]) + 1
            self.queued_bytes -= len(nxt[1])
        return events_frame(batch)

    async def run(self) -> None:
        """Send queued messages until the connection closes."""
        with contextlib.suppress(ConnectionClosed):
            while not self.overflowed:
                await self._ready.wait()
                self._ready.clear()
                while self._items and not self.overflowed:
                    self._busy = True
                    message = self._next_message()
                    if message is not None:
                        await self.ws.send(message)
                self._busy = False
