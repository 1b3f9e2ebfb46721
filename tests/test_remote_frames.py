"""How a seat reads the server's frames: live ``events`` frames in one JSON pass, straight into the
view, and every other frame through the protocol's models; hostile frames are refused either way.

The quick reader (:func:`~simulator.team.remote._live_events`) is only a shortcut: whatever it takes,
the frame models take too, with the same events; whatever it refuses is a :class:`ProtocolError`
(the seat drops the connection and reconnects), never another exception.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from simulator.engine.events import Event, Kind
from simulator.format.loader import LoadedScenario
from simulator.team.outbox import events_frame, wire_json
from simulator.team.protocol import ClockState, Events, Snapshot, Welcome
from simulator.team.remote import (
    ProtocolError,
    RemoteSession,
    UnreadableEvent,
    _events,
    _live_events,
    _parse,
)

TICK = Event(t=60.0, seq=5, kind=Kind.TICK, actor="engine",
             payload={"signals": {"user_reports": {"value": 3.0}}, "loads": {"ic": 0.1}})
MESSAGE = Event(t=61.5, seq=6, kind=Kind.MESSAGE, actor="ml", payload={"text": "on it", "to": ["ic"]},
                to=("ic", "ml"))

scalars = (st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=True)
           | st.text(max_size=8) | st.sampled_from(["tick", "message", "ic", "seq", "t"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.sampled_from(["t", "seq", "kind", "actor", "payload", "to",
                                                         "hidden", "x"]), inner, max_size=4), max_leaves=12)


def _seat() -> RemoteSession:
    return RemoteSession("ws://127.0.0.1:1", name="Sam", role="ml", code="K7Q2MD")


@st.composite
def event_frames(draw: st.DrawFn) -> str:
    """Text that starts as the server's ``events`` frames do: real events, some fields replaced by
    anything, extra keys, a frame cut short, NaN."""
    items: list[Any] = []
    for event in draw(st.lists(st.sampled_from([TICK, MESSAGE]), max_size=3)):
        item: Any = event.to_dict()
        for key in draw(st.lists(st.sampled_from([*item, "to", "hidden"]), max_size=2)):
            item[key] = draw(values)
        items.append(item if draw(st.integers(0, 9)) else draw(values))
    tails = [',"kind":"events"}', ',"kind":"event"}', ',"kind":"events","x":1}', "", "]"]
    tail = draw(st.sampled_from(tails))
    return '{"events":' + json.dumps(items, allow_nan=True) + tail


def test_a_live_events_frame_is_read_into_the_same_events_the_server_sent() -> None:
    """The server's own encoding of a batch comes back as the events it encoded, and a seat folds
    them into its view (the war-room line, the tick's reading)."""
    raw = events_frame([wire_json(TICK), wire_json(MESSAGE)])
    assert _live_events(raw) == [TICK, MESSAGE]
    seat = _seat()
    seat._receive(raw)
    assert (seat.last_seq, seat.view.signals["user_reports"], seat.view.messages[0]["text"]) == (
        6, [(60.0, 3.0)], "on it")


def test_frames_other_than_events_go_to_the_frame_models() -> None:
    """A clock frame is not read by the shortcut; the seat takes it through its model."""
    raw = '{"kind":"clock","paused":false,"sim":30.0,"speed":60.0,"started":true}'
    assert _live_events(raw) is None
    seat = _seat()
    seat._receive(raw)
    assert seat.clock_state is not None and seat.clock_state.sim == 30.0


@pytest.mark.parametrize("raw", [
    '{"events":[' + '[' * 5000 + ']' * 5000 + '],"kind":"events"}',
    '{"events":[{"t":NaN,"seq":1,"kind":"tick","actor":"engine","payload":{}}],"kind":"events"}',
    '{"events":[{"t":1.0,"seq":"7","kind":"tick","actor":"engine","payload":{}}],"kind":"events"}',
    '{"events":[{"t":1.0,"seq":7,"kind":"launch","actor":"engine","payload":{}}],"kind":"events"}',
    '{"events":[{"t":1.0,"seq":7,"kind":"tick","actor":"engine","payload":{},"to":"ic"}],"kind":"events"}',
    '{"events":[1],"kind":"events"}',
    '{"events":[{"t":1.0,',
], ids=["nested 5000 deep", "NaN", "seq as text", "unknown kind", "audience not a list", "not an object",
        "cut short"])
def test_a_hostile_events_frame_is_a_protocol_error(raw: str) -> None:
    """Deep nesting, non-finite numbers, coerced types, unknown kinds and broken JSON in an events
    frame are refused as unreadable (the seat reconnects), never folded and never a crash."""
    seat = _seat()
    with pytest.raises(ProtocolError, match="unreadable"):
        seat._receive(raw)
    assert (seat.last_seq, seat.received) == (0, [])


@settings(max_examples=300, deadline=None)
@given(event_frames())
def test_what_the_quick_reader_takes_the_frame_models_take_with_the_same_events(raw: str) -> None:
    try:
        quick = _live_events(raw)
    except ProtocolError:
        return
    if quick is None:
        return
    frame = _parse(raw)
    assert isinstance(frame, Events)
    assert _events(frame.events) == quick


class BrokenServer:
    """A websocket server that welcomes a seat like ``ttx host`` does, then sends it a tick whose
    payload this version cannot fold (no ``loads``): live as event #7, or with ``in_snapshot``
    inside the first snapshot. It counts the connections it gets."""

    def __init__(self, scenario: dict[str, Any], in_snapshot: bool = False) -> None:
        self.scenario, self.in_snapshot = scenario, in_snapshot
        self.connections = 0

    async def serve(self, ws: ServerConnection) -> None:
        self.connections += 1
        await ws.recv()
        await ws.send(Welcome(token="t" * 32, player="p1", name="Sam", seat="ml", scenario=self.scenario,
                              seed=7).model_dump_json())
        broken = {**TICK.to_dict(), "seq": 7, "payload": {"signals": {}}}
        clock = ClockState(sim=61.5, speed=1.0, paused=False, started=True)
        first = [TICK.to_dict(), MESSAGE.to_dict(), *([broken] if self.in_snapshot else [])]
        await ws.send(Snapshot(since=0, seq=len(first) + 4, events=first, clock=clock).model_dump_json())
        if not self.in_snapshot:
            await ws.send(json.dumps({"events": [broken], "kind": "events"}))
        with contextlib.suppress(ConnectionClosed):
            await ws.wait_closed()


@contextlib.asynccontextmanager
async def _broken_server(flagship: LoadedScenario, in_snapshot: bool = False) -> AsyncIterator[
        tuple[BrokenServer, str]]:
    broken = BrokenServer(flagship.scenario.model_dump(mode="json"), in_snapshot)
    async with serve(broken.serve, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield broken, f"ws://127.0.0.1:{port}"


async def test_an_event_this_version_cannot_fold_stops_the_seat_saying_which_and_to_update(
        flagship: LoadedScenario) -> None:
    """A live event whose payload the view cannot read (a newer or broken server) is not dropped
    silently and not reconnected over (the server would send it again): the seat is lost at once,
    once, with a notice naming the event and what to do; the events before it stay folded."""
    async with _broken_server(flagship) as (broken, url):
        seat = await RemoteSession.open(url, name="Sam", role="ml", code="K7Q2MD", timeout=5.0)
        try:
            await seat.wait_until(lambda s: s.lost, timeout=10)
            assert seat.unreadable is not None and seat.unreadable.seq == 7
            (notice,) = seat.take_notices()
            assert notice.text.startswith("the server sent an event this version cannot read: #7 tick "
                                          "(TypeError")
            assert notice.text.endswith("; update ttx to the host's version")
            assert (seat.last_seq, seat.view.messages[0]["text"], broken.connections) == (6, "on it", 1)
        finally:
            await seat.close()


async def test_an_event_in_the_first_snapshot_that_cannot_be_folded_fails_the_join_precisely(
        flagship: LoadedScenario) -> None:
    """The same event in the snapshot a join waits for: the join fails with that message (``ttx join``
    prints it and exits 2), and tries no more."""
    async with _broken_server(flagship, in_snapshot=True) as (broken, url):
        with pytest.raises(UnreadableEvent, match=r"cannot read: #7 tick .*update ttx"):
            await RemoteSession.open(url, name="Sam", role="ml", code="K7Q2MD", timeout=5.0)
        assert broken.connections == 1
