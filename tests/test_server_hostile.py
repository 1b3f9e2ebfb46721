"""A hostile player cannot break anyone else's seat: every finding of the hostile-client test of
``ttx host`` (issue 11), replayed against a real server on loopback, and the limits per player and
per address that replace the old per-connection ones."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from simulator.engine.events import Event, Kind
from simulator.engine.journal import read_journal
from simulator.engine.replay import replay
from simulator.engine.runner import new_drill
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario
from simulator.team.outbox import MAX_QUEUED_ERRORS, Outbox
from simulator.team.protocol import (
    HARD_FRAME_LIMIT,
    PAGE_LIMIT,
    Error,
    params_problem,
    server_frames,
    shape_problem,
)
from simulator.team.remote import RemoteError, RemoteSession, event_line
from simulator.team.server import DrillServer, Limits, new_code, new_token
from tests.conftest import end_drill_through_hot_wash, end_through_hot_wash
from tests.test_server import CODE, FACILITATOR_TOKEN, Team
from tests.test_server import team_factory as team_factory  # the same servers as tests/test_server.py

GENEROUS = Limits(rate=2000.0, burst=2000.0, command_rate=2000.0, command_burst=2000.0, address_rate=2000.0)
"""Rates no test of sizes or shapes runs into."""


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class Raw:
    """A bare websocket to the server: frames no client would send, and every frame received, checked
    to be strict JSON under the client's limit and a frame of the protocol."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.received: list[dict[str, Any]] = []
        self.token = ""

    async def send(self, frame: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(frame if isinstance(frame, str | bytes) else json.dumps(frame))

    async def next(self, want: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict[str, Any]:
        """The next received frame for which ``want`` holds (every frame on the way is kept)."""
        async def read() -> dict[str, Any]:
            while True:
                raw = await self.ws.recv()
                assert isinstance(raw, str) and len(raw.encode()) <= HARD_FRAME_LIMIT
                frame: dict[str, Any] = json.loads(raw, parse_constant=_no_constants)
                server_frames.validate_json(raw)
                assert frame.get("code") != "internal", frame
                self.received.append(frame)
                if want(frame):
                    return frame
        return await asyncio.wait_for(read(), timeout)

    async def reply(self) -> dict[str, Any]:
        """The next ack or error."""
        return await self.next(lambda f: f["kind"] in ("ack", "error"))

    async def join(self, role: str = "ml", name: str = "Mallory", code: str = CODE) -> dict[str, Any]:
        await self.send({"kind": "join", "code": code, "role": role, "name": name})
        first = await self.next(lambda f: f["kind"] in ("welcome", "error"))
        if first["kind"] == "welcome":
            self.token = first["token"]
            await self.next(lambda f: f["kind"] == "snapshot" and f["last"])
        return first

    async def command(self, rid: int, action: str, params: Any, role: str = "ml") -> dict[str, Any]:
        await self.send({"kind": "command", "token": self.token, "id": rid, "role": role, "action": action,
                         "params": params})
        return await self.reply()


def _notes(team: Team, event: str) -> list[dict[str, Any]]:
    """Payloads of the journal's session notes about ``event``."""
    return [e["payload"] for e in team.journal()
            if e["kind"] == "session_note" and e["payload"].get("event") == event]


@pytest.fixture(autouse=True)
def no_server_faults(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Whatever a test sends, the host logs no failure (no traceback, no ``internal`` error)."""
    caplog.set_level(logging.INFO)
    yield
    faults = [r for r in caplog.records if r.levelno >= logging.WARNING
              and (r.name.startswith("ttx") or r.name.startswith("websockets") or r.name == "asyncio")]
    assert not faults, [r.getMessage() for r in faults]


@pytest.fixture
async def dial() -> AsyncIterator[Callable[[Team], Awaitable[Raw]]]:
    """Open bare websockets to a team's server (dropped at the end, read or not)."""
    opened: list[Raw] = []

    async def open_raw(team: Team) -> Raw:
        opened.append(Raw(await connect(team.url, proxy=None, compression=None, max_size=HARD_FRAME_LIMIT)))
        return opened[-1]

    yield open_raw
    for raw in opened:
        raw.ws.transport.abort()


async def _started(team: Team) -> tuple[RemoteSession, RemoteSession]:
    fac, ic = await team.facilitator(), await team.join("ic", "Dana")
    await fac.start()
    return fac, ic


async def _still_served(team: Team, fac: RemoteSession, ic: RemoteSession, text: str) -> None:
    """The legitimate seats still act and receive: ic's message reaches the facilitator."""
    ack = await ic.chat(text)
    assert ack.accepted, ack.reason
    await fac.wait_until(lambda s: any(e.kind == Kind.MESSAGE and e.payload.get("text") == text
                                       for e in s.received))


# --- refusals re-derive --------------------------------------------------------------------


def test_an_engine_refusal_reason_does_not_depend_on_the_order_of_the_keys(flagship: LoadedScenario) -> None:
    """``{"zz": 1, "aa": 2}`` and ``{"aa": 2, "zz": 1}`` are refused for the same reason, the one the
    journal's sorted form gives."""
    reasons = []
    for params in ({"zz": 1, "aa": 2}, {"aa": 2, "zz": 1}):
        drill = new_drill(flagship, 7)
        drill.submit(Command(role="ic", action="declare_incident"))
        refused = drill.submit(Command(role="ic", action="set_severity", params=params))
        reasons.append(refused.payload["reason"])
    assert reasons[0] == reasons[1] and reasons[0].startswith("bad parameter aa")


def test_the_engine_refuses_a_coerced_request_number_instead_of_failing(flagship: LoadedScenario) -> None:
    """``"request": "1.0"`` is not request 1: a refusal, not an exception."""
    drill = new_drill(flagship, 7)
    event = drill.submit(Command(role="ic", action="approve", params={"request": "1.0"}))
    assert event.kind == Kind.REFUSED and "request" in event.payload["reason"]


async def test_a_drill_with_an_order_dependent_refusal_resumes_and_replays(tmp_path: Path,
                                                                           flagship: LoadedScenario) -> None:
    """The finding that made drills unresumable: a refused command whose params came in unsorted order.
    The journal re-derives on ``--resume`` and ``ttx replay`` says it matches."""
    path = tmp_path / "drill.jsonl"
    server = DrillServer.host(flagship, path, seed=7, code=CODE, facilitator_token=FACILITATOR_TOKEN)
    server.drill.submit(Command(role="ic", action="declare_incident"))
    refused = server.drill.submit(Command(role="ic", action="set_severity", params={"zz": 1, "aa": 2}))
    server._publish()
    await server.stop()
    assert refused.kind == Kind.REFUSED
    resumed = DrillServer.resume(path, code=CODE)
    assert resumed.drill.events[refused.seq - 1].to_json() == refused.to_json()
    end_drill_through_hot_wash(resumed.drill)
    resumed._publish()
    await resumed.stop()
    assert replay(read_journal(path), flagship).matches


# --- strict, bounded frames ----------------------------------------------------------------


@pytest.mark.parametrize("frame, code", [
    ({"kind": "command", "id": 5, "role": "ic", "action": "approve", "params": {"request": "1.0"}},
     "bad_frame"),
    ({"kind": "command", "id": 5, "role": "ic", "action": "approve", "params": {"request": True}},
     "bad_frame"),
    ({"kind": "command", "id": 5, "role": "ic", "action": "set_severity", "params": {"zz": 1, "aa": 2}},
     "bad_frame"),
    ({"kind": "command", "id": 5, "role": "ic", "action": "block-list", "params": {"x": 1}}, "bad_frame"),
    ('{"kind":"command","id":5,"role":"ic","action":"send_update","params":{"audience":"internal",'
     '"know":NaN}}', "bad_frame"),
    ('{"kind":"command","id":5,"role":"ic","action":"rest","params":{"target":Infinity}}', "bad_frame"),
    ({"kind": "command", "id": 5, "role": "ic", "action": "rest", "params": {"target": "ic", "n": 10**30}},
     "bad_frame"),
    ({"kind": "chat", "id": 5, "text": "\u001b]0;PWNED\u0007\u001b[2J"}, "bad_frame"),
    ({"kind": "chat", "id": 5, "text": "fine \u202egnp.exe"}, "bad_frame"),
    ({"kind": "chat", "id": 5, "text": "line\nforged"}, "bad_frame"),
    ({"kind": "chat", "id": 5, "text": "x", "to": ["ic"] * 100}, "bad_frame"),
    ({"kind": "adhoc_inject", "id": 5, "inject": {"channel": "chat", "to": ["ic"], "subject": "\u009b2J"}},
     "bad_frame"),
])
async def test_a_frame_that_is_not_exactly_right_is_refused_as_a_bad_frame_with_its_id(
        team_factory: Any, dial: Any, frame: dict[str, Any] | str, code: str) -> None:
    """Strict validation, no coercion, bounded shapes, displayable text: each is a ``bad_frame``
    naming the frame's id, never ``internal``; nothing reaches the engine or another seat."""
    team = await team_factory()
    fac, ic = await _started(team)
    before = len(team.server.drill.events)
    raw = await dial(team)
    await raw.join("ic", "Mallory")
    if isinstance(frame, str):
        await raw.send(frame.replace('"kind":"command",', f'"kind":"command","token":"{raw.token}",'))
    else:
        await raw.send({**frame, "token": raw.token})
    reply = await raw.reply()
    assert (reply["kind"], reply["code"], reply["id"]) == ("error", code, 5), reply
    after = team.server.drill.events[before:]
    assert not any(e.kind in (Kind.COMMAND, Kind.REFUSED, Kind.MESSAGE) for e in after)
    await _still_served(team, fac, ic, "still here")


async def test_ids_that_are_not_integers_are_refused_not_coerced(team_factory: Any, dial: Any) -> None:
    """``"id": "7"`` and ``"id": true`` used to be accepted as 7 and 1."""
    team = await team_factory()
    await _started(team)
    raw = await dial(team)
    await raw.join("ic")
    for rid in ("7", True, 7.0, -1, 2**60):
        await raw.send({"kind": "chat", "token": raw.token, "id": rid, "text": "hello"})
        reply = await raw.reply()
        assert (reply["kind"], reply["code"], reply["id"]) == ("error", "bad_frame", None), rid


@pytest.mark.parametrize("name", ["Dana\x7f", "Dana\x9b", "Dana\u202e", "\u200b", "   ", "a\tb", "x" * 65])
async def test_names_with_control_escape_bidi_or_invisible_characters_are_refused(
        team_factory: Any, dial: Any, name: str) -> None:
    team = await team_factory()
    raw = await dial(team)
    reply = await raw.join("ic", name)
    assert (reply["kind"], reply["code"]) == ("error", "bad_frame")


async def test_deep_nesting_is_refused_and_never_relayed_so_other_seats_keep_receiving(
        team_factory: Any, dial: Any) -> None:
    """Params ~198 levels deep used to pass, be refused by the engine and relayed three levels deeper,
    past every other seat's parser: seats of that role froze while showing connected."""
    team = await team_factory()
    fac, ic = await _started(team)
    raw = await dial(team)
    await raw.join("ic")
    for depth in (5, 198, 1000, 20000):
        nested = "[" * depth + "]" * depth
        await raw.send(f'{{"kind":"command","token":"{raw.token}","id":9,"role":"ic","action":"resolve",'
                       f'"params":{{"a":{nested}}}}}')
        reply = await raw.reply()
        assert reply["kind"] == "error" and reply["code"] in ("bad_frame", "malformed"), depth
    await _still_served(team, fac, ic, "after the nesting")
    late = await team.join("ic", "Robin")
    assert late.view.seat == "ic" and late.connected


def test_free_form_values_deeper_than_the_limit_are_refused_before_any_verb_sees_them() -> None:
    """The first bound on nesting is the shape check every client value passes (the verbs' own
    models are the second): five levels is one too many, whatever the action."""
    assert shape_problem({"a": [[[1]]]}) is None
    assert shape_problem({"a": [[[[1]]]]}) == "a.0.0.0: nested more than 4 levels"
    assert params_problem("resolve", {"a": [[[[[]]]]]}) == "a.0.0.0: nested more than 4 levels"


async def test_frames_out_are_paged_under_the_clients_limit_however_much_was_said(
        team_factory: Any, dial: Any) -> None:
    """Each event is bounded and events, snapshots and reveals are packed by size: 120 of the largest
    messages a player can send (~24 KB each as JSON) reach a late joiner in several snapshot parts,
    each under the page size, and the review's reveal likewise."""
    team = await team_factory(limits=GENEROUS)
    fac, ic = await _started(team)
    text = "\U0001F6A8" * 2000
    for _ in range(120):
        assert (await ic.chat(text)).accepted
    raw = await dial(team)
    await raw.join("comms", "Sam")
    parts = [f for f in raw.received if f["kind"] == "snapshot"]
    assert len(parts) > 5 and [p["part"] for p in parts] == list(range(len(parts)))
    assert all(len(json.dumps(p)) < PAGE_LIMIT + 4096 for p in parts)
    assert sum(e["kind"] == "message" for p in parts for e in p["events"]) == 120
    late = await team.join("legal")
    assert sum(e.kind == Kind.MESSAGE for e in late.received) == 120
    await end_through_hot_wash(fac)
    await late.wait_until(lambda s: s.reviewable)
    await raw.next(lambda f: f["kind"] == "reveal" and f["last"], timeout=10)
    reveals = [f for f in raw.received if f["kind"] == "reveal"]
    assert len(reveals) > 5 and all(len(json.dumps(p)) < PAGE_LIMIT + 4096 for p in reveals)
    assert late.do_nothing is not None and late.do_nothing.curve


async def test_a_connection_that_has_not_joined_may_send_only_a_few_frames(
        team_factory: Any, dial: Any) -> None:
    """A client sends one frame before it has joined; a stranger's fifth is its last."""
    team = await team_factory()
    raw = await dial(team)
    with pytest.raises(ConnectionClosed):
        for i in range(10):
            await raw.send({"kind": "chat", "token": "x" * 10, "id": i, "text": "hi"})
        await raw.next(lambda f: False, timeout=5)
    assert [f["code"] for f in raw.received][-1] == "not_joined"
    assert sum(f.get("id") is not None for f in raw.received) == 4


async def test_unjoined_connections_cannot_grow_the_journal_or_the_facilitators_snapshot(
        team_factory: Any, dial: Any) -> None:
    """~4,700 bad frames from connections that never joined each used to leave a note, until the
    facilitator's snapshot passed the client's limit."""
    team = await team_factory(limits=GENEROUS)
    fac, _ = await _started(team)
    before = len(team.journal())
    raws = []
    for _ in range(4):
        raw = await dial(team)
        raws.append(raw)
        for i in range(100):
            await raw.send({"kind": "command", "token": "x" * 10, "id": i, "role": "ic", "action": "resolve"})
        await raw.send("{not json")
    await asyncio.sleep(0.3)
    assert len(team.journal()) - before < 5, "no note per frame of a connection that never joined"
    assert all(len(r.received) <= 20 for r in raws), "error replies are capped, not queued per frame"
    again = await RemoteSession.open(team.url, name="Lee", facilitator_token=FACILITATOR_TOKEN, timeout=5.0)
    team.sessions.append(again)
    assert again.connected and fac.connected


# --- floods, slow readers, rates -------------------------------------------------------------


async def test_a_flood_gets_one_reply_is_closed_and_costs_others_nothing(
        team_factory: Any, dial: Any) -> None:
    """A flood used to queue an error reply per frame without bound (584 MB after 30 s). Now the first
    over-rate frame gets a reply, the rest are dropped unread, and a long flood closes the connection."""
    team = await team_factory()
    fac, ic = await _started(team)
    raw = await dial(team)
    frame = json.dumps({"kind": "chat", "token": "t" * 20, "id": 1, "text": "spam"})
    with pytest.raises(ConnectionClosed):
        for _ in range(3000):
            await raw.ws.send(frame)
        await raw.next(lambda f: False, timeout=5)
    errors = [f["code"] for f in raw.received if f["kind"] == "error"]
    assert errors.count("rate_limited") <= 1 and len(errors) <= 20, "replies are coalesced, not queued"
    await _still_served(team, fac, ic, "after the flood")


async def test_a_client_that_does_not_read_is_dropped_not_buffered() -> None:
    """Past its byte budget a connection's queue empties and the server is told to drop it."""
    class Stuck:
        async def send(self, message: str) -> None:
            await asyncio.Event().wait()

    dropped: list[bool] = []
    outbox = Outbox(Stuck(), backlog=10, max_bytes=100_000, overflow=lambda: dropped.append(True))
    sender = asyncio.ensure_future(outbox.run())
    for seq in range(2000):
        outbox.events([(Kind.INJECT, json.dumps({"seq": seq, "kind": "inject", "body": "x" * 100}))])
    await asyncio.sleep(0.01)
    sender.cancel()
    assert dropped == [True] and outbox.queued_bytes == 0


async def test_error_replies_to_a_client_that_does_not_read_are_capped_not_queued() -> None:
    """Error replies used to queue without bound; at most a few wait, the rest are counted and dropped."""
    class Stuck:
        async def send(self, message: str) -> None:
            await asyncio.Event().wait()

    outbox = Outbox(Stuck(), backlog=10)
    for i in range(1000):
        outbox.error(Error(code="bad_frame", message="no", id=i))
    assert outbox.dropped_errors == 1000 - MAX_QUEUED_ERRORS and outbox.queued_bytes < 2000


async def test_the_command_rate_is_per_player_not_per_connection(team_factory: Any, dial: Any) -> None:
    """One player on four connections used to get four times the rate; the budget is the token's."""
    team = await team_factory(limits=Limits(command_rate=1.0, command_burst=10.0))
    await _started(team)
    first = await dial(team)
    await first.join("ml")
    conns = [first]
    for _ in range(3):
        conn = await dial(team)
        await conn.send({"kind": "reconnect", "token": first.token, "last_seq": 0})
        await conn.next(lambda f: f["kind"] == "snapshot" and f["last"])
        conn.token = first.token
        conns.append(conn)
    for i in range(10):
        for conn in conns:
            await conn.send({"kind": "chat", "token": first.token, "id": 100 + i, "text": f"m{i}"})
    await asyncio.sleep(0.5)
    said = [e for e in team.server.drill.events
            if e.kind == Kind.COMMAND and e.payload.get("action") == "message"]
    assert len(said) <= 12, f"{len(said)} messages journaled from one player in half a second"


async def test_the_frame_rate_is_capped_per_address_over_all_its_players(team_factory: Any,
                                                                        dial: Any) -> None:
    """Joining again mints a new token, so one person with the join code could hold many players'
    rates; the address's budget is shared by every connection and player behind it."""
    team = await team_factory(limits=Limits(command_rate=100.0, command_burst=100.0, address_rate=1.0,
                                            address_burst=16.0))
    raws = [await dial(team) for _ in range(4)]
    for raw, role in zip(raws, ("ml", "ts", "comms", "legal"), strict=True):
        await raw.join(role)
    await (await team.facilitator()).start()
    for i in range(10):
        for raw in raws:
            await raw.send({"kind": "chat", "token": raw.token, "id": 100 + i, "text": f"m{i}"})
    await asyncio.sleep(0.5)
    said = [e for e in team.server.drill.events
            if e.kind == Kind.COMMAND and e.payload.get("action") == "message"]
    assert len(said) <= 12, f"{len(said)} messages journaled from one address in half a second"


async def test_new_connections_per_address_are_capped_per_second_before_the_websocket_opens(
        team_factory: Any, dial: Any) -> None:
    """Opening connections costs the server a handshake each: past the address's burst a new one is
    refused with HTTP 429 before any frame, and a player's own reconnect retries until it gets in."""
    team = await team_factory(limits=Limits(connect_rate=4.0, connect_burst=3.0))
    ic = await team.join("ic", "Dana")
    await dial(team)
    await dial(team)
    with pytest.raises(InvalidStatus) as refused:
        await dial(team)
    assert refused.value.response.status_code == 429
    assert b"too many new connections" in refused.value.response.body
    await ic.drop()
    await ic.wait_until(lambda s: s.reconnects == 1 and s.connected, timeout=10)


# --- joining: lock-outs, caps, idle connections, the lobby -------------------------------------


async def test_wrong_join_codes_lock_the_address_out_with_back_off_and_tell_the_facilitator(
        team_factory: Any, dial: Any) -> None:
    """Five wrong codes are free; then each one locks the address out, for twice as long each time.
    While locked even the right code is not checked; a known token still reconnects."""
    team = await team_factory()
    fac, ic = await _started(team)
    replies = [(await (await dial(team)).join("ml", code=f"WRONG{i}"))["code"] for i in range(6)]
    assert replies == ["bad_code"] * 6, "each guess on a fresh connection, as a guesser would"
    locked = await (await dial(team)).join("ml", code=CODE)
    assert locked["code"] == "locked_out" and "try again in 2 s" in locked["message"]
    notes = _notes(team, "join_lockout")
    assert notes and notes[0]["address"] == "127.0.0.1" and notes[0]["seconds"] == 2.0
    await fac.wait_until(lambda s: any(e.kind == Kind.SESSION_NOTE
                                       and e.payload.get("event") == "join_lockout" for e in s.received))
    alerts = [n for n in fac.take_notices() if n.title == "Security"]
    assert alerts and "6 wrong join codes from 127.0.0.1: locked out for 2 s" in alerts[0].text
    await ic.drop()
    await ic.wait_until(lambda s: s.reconnects == 1 and s.connected)
    await asyncio.sleep(2.1)
    assert (await (await dial(team)).join("ml", code=CODE))["kind"] == "welcome"


async def test_players_are_capped_per_role_and_in_total_but_a_known_token_always_gets_back_in(
        team_factory: Any) -> None:
    team = await team_factory(limits=Limits(max_players=3, max_per_role=2))
    ic = await team.join("ic", "Dana")
    await team.join("ic", "Robin")
    with pytest.raises(RemoteError, match="role_full"):
        await RemoteSession.open(team.url, name="Kim", role="ic", code=CODE, auto_reconnect=False)
    await team.join("ml", "Max")
    with pytest.raises(RemoteError, match="server_full"):
        await RemoteSession.open(team.url, name="Sam", role="comms", code=CODE, auto_reconnect=False)
    await ic.drop()
    await ic.wait_until(lambda s: s.reconnects == 1 and s.connected)
    assert ic.lobby is not None and len(ic.lobby.players) == 3


async def test_connections_that_never_join_time_out_and_cannot_take_a_reconnects_slot(
        team_factory: Any, dial: Any) -> None:
    """250 idle connections used to take every slot, so reconnects got ``server_full``. Unjoined
    connections are capped per address (the oldest is pushed out) and closed after the join timeout.

    The timeout is also the server's handshake timeout, so it leaves room for a loaded machine."""
    team = await team_factory(limits=Limits(pending_per_address=8, join_timeout=2.0))
    ic = await team.join("ic", "Dana")
    idle = [await dial(team) for _ in range(20)]
    await ic.drop()
    await ic.wait_until(lambda s: s.reconnects == 1 and s.connected)
    closed = 0
    for conn in idle:
        try:
            await conn.next(lambda f: False, timeout=8)
        except ConnectionClosed:
            closed += 1
    assert closed == 20
    assert any(f.get("code") == "join_timeout" for conn in idle for f in conn.received)


async def test_a_player_gone_longer_than_the_offline_limit_leaves_the_lobby(team_factory: Any) -> None:
    team = await team_factory(limits=Limits(offline_drop=0.3))
    ic, ml = await team.join("ic", "Dana"), await team.join("ml", "Max")
    await ml.close()
    await ic.wait_until(lambda s: s.lobby is not None and [p.name for p in s.lobby.players] == ["Dana"])
    back = await RemoteSession.open(team.url, name="Max", token=ml.token, timeout=5.0)
    team.sessions.append(back)
    await ic.wait_until(lambda s: s.lobby is not None and len(s.lobby.players) == 2)


# --- secrets on command lines, the code after a resume ----------------------------------------


def test_tokens_and_codes_never_start_with_a_dash() -> None:
    """1 token in 64 used to start with ``-`` and be read as an option by ``ttx join``."""
    assert not any(new_token().startswith("-") for _ in range(5000))
    assert not any(new_code().startswith("-") for _ in range(5000))


def test_the_printed_join_commands_pass_secrets_as_option_values(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", "import argparse, sys; from simulator.cli.team import _banner\n"
         "from simulator.format.loader import load_scenario\n"
         "from simulator.team.server import DrillServer\n"
         f"s = DrillServer.host(load_scenario('jailbreak-wave'), {str(tmp_path / 'd.jsonl')!r}, "
         "code='K7Q2MD', facilitator_token='-q0Xsecret')\n"
         "_banner(s, argparse.Namespace(bind='127.0.0.1'), 8765, '-q0Xsecret')"],
        capture_output=True, text=True, timeout=60)
    assert "--code=K7Q2MD" in out.stdout and "--facilitator-token=-q0Xsecret" in out.stdout, out.stderr


async def test_after_a_resume_the_facilitator_sees_a_join_code_that_works(tmp_path: Path,
                                                                          flagship: LoadedScenario) -> None:
    """The journal keeps only the code's hash, so the lobby used to show ``null`` after ``--resume``.
    Given the code again it shows it; without, a fresh code that works beside the old one."""
    path = tmp_path / "drill.jsonl"
    server = DrillServer.host(flagship, path, seed=7, code=CODE, facilitator_token=FACILITATOR_TOKEN)
    await server.stop()
    for code, unchanged in ((CODE, True), (None, False)):
        resumed = DrillServer.resume(path, code=code)
        port = await resumed.start("127.0.0.1", 0)
        url = f"ws://127.0.0.1:{port}"
        try:
            fac = await RemoteSession.open(url, name="Lee", facilitator_token=FACILITATOR_TOKEN)
            assert fac.join_code == resumed.code and resumed.code_unchanged is unchanged
            for works in {CODE, resumed.code}:
                player = await RemoteSession.open(url, name="Dana", role="ic", code=works)
                await player.close()
            await fac.close()
        finally:
            await resumed.stop()


# --- the client's side ------------------------------------------------------------------------


def test_headless_lines_show_escapes_instead_of_writing_them_to_the_terminal() -> None:
    """Even from a server that let it through, chat text cannot move the cursor or retitle a terminal."""
    event = Event(t=1.0, seq=3, kind=Kind.MESSAGE, actor="ml",
                  payload={"text": "\u001b]0;PWNED\u0007\u001b[2J\u202eok\nforged", "to": []})
    line = event_line(event)
    assert "\x1b" not in line and "\u202e" not in line and "\n" not in line and "\\x1b]0;PWNED" in line


async def test_a_client_given_an_unreadable_frame_reconnects_instead_of_freezing(team_factory: Any,
                                                                                monkeypatch: Any) -> None:
    """A frame the client cannot parse used to kill its reader while the seat still showed connected;
    now the client drops the connection, reconnects and the snapshot fills the gap."""
    team = await team_factory()
    fac, ic = await _started(team)
    conn = next(c for c in team.server.connections if c.player is not None and c.player.seat == "ic")
    conn.outbox.frame('{"kind":"events","events":[' + "[" * 300 + "]" * 300 + "]}")
    await ic.wait_until(lambda s: s.reconnects == 1 and s.connected)
    assert any("unreadable" in n.text for n in ic.take_notices())
    await _still_served(team, fac, ic, "after a bad frame")
