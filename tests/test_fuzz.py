"""Property-based fuzzing (Hypothesis) of the wire protocol and of a live drill server.

The parsers: whatever text arrives, the server's parser yields a frame of bounded, displayable
shape or a validation error, and the client's parser a frame or a :class:`ProtocolError`, never
anything else. The server: random and adversarial frames (deep nesting, huge strings, NaN, wrong
types, unicode controls, floods) from several connections at once, while two legitimate seats
keep acting, receiving and reconnecting, every frame out is strict JSON under the client's limit,
and the journal still re-derives event for event. Examples are bounded so the file runs in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from simulator.engine.events import Kind
from simulator.engine.journal import read_journal
from simulator.format.commands import VERBS
from simulator.format.loader import LoadedScenario
from simulator.team.protocol import (
    FRAME_LIMIT,
    HARD_FRAME_LIMIT,
    MAX_DEPTH,
    client_frames,
    printable,
    shape_problem,
    unsafe_character,
)
from simulator.team.remote import ProtocolError, RemoteSession, _parse
from simulator.team.server import DrillServer, Limits, _rederive

CODE = "K7Q2MD"
FACILITATOR_TOKEN = "white-cell-secret"
CLIENT_KINDS = ["join", "join_facilitator", "join_evaluator", "reconnect", "command", "chat", "start",
                "pause", "resume", "speed", "skip", "fire_inject", "adhoc_inject", "end", "close_question",
                "observe"]
SERVER_KINDS = ["clock", "welcome", "lobby", "lobby_change", "snapshot", "events", "ack", "error", "alert",
                "reveal"]
NASTY = "\x00\x07\x08\t\n\r\x1b\x7f\x85\x9b\u200b\u200e\u202a\u202e\u2028\u2066\ufeff\ue000\U0001F6A8é"

texts = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(NASTY), max_size=40)
numbers = (st.integers(min_value=-(2**70), max_value=2**70)
           | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1.0, -0.0, 1e308]))
scalars = st.none() | st.booleans() | numbers | texts
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(texts | st.sampled_from(["request", "level", "to", "text"]),
                                             inner, max_size=5), max_leaves=20)
FIELDS = ["token", "id", "role", "action", "params", "text", "to", "name", "code", "last_seq", "speed",
          "inject", "question", "objective", "tag", "extra", "seats", "gone", "started"]


@st.composite
def frame_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Frames that look like the protocol: a known (or unknown) kind, fields of any type."""
    frame: dict[str, Any] = {"kind": draw(st.sampled_from([*CLIENT_KINDS, "launch"]) | texts)}
    for name in draw(st.lists(st.sampled_from(FIELDS), max_size=6, unique=True)):
        actions = st.sampled_from([*sorted(VERBS), "answer", "observe"])
        frame[name] = draw(actions if name == "action" and draw(st.booleans())
                           else st.sampled_from(["ic", "ml", "facilitator", "evaluator"]) if name == "role"
                           else st.integers(0, 5) if name == "id" and draw(st.booleans())
                           else json_values)
    return frame


def _deep(depth: int, bracket: str) -> str:
    close = "]" if bracket == "[" else "}"
    inner = '{"a":' if bracket == "{" else "["
    return inner * depth + "1" + close * depth


@st.composite
def frame_texts(draw: st.DrawFn) -> str:
    """What a hostile client sends as one text frame."""
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return draw(st.text(max_size=200))
    if choice == 1:
        depth = draw(st.integers(1, 3000))
        return (f'{{"kind":"command","token":"$TOKEN","id":1,"role":"ml","action":"resolve",'
                f'"params":{{"x":{_deep(depth, draw(st.sampled_from("[{")))}}}}}')
    if choice == 2:
        size = draw(st.sampled_from([MAX_DEPTH, 2000, 2001, FRAME_LIMIT - 100, FRAME_LIMIT + 1]))
        return json.dumps({"kind": "chat", "token": "$TOKEN", "id": 2, "text": draw(texts) + "x" * size})
    return json.dumps(draw(frame_dicts()), allow_nan=True)


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _all_strings_displayable(value: Any) -> bool:
    if isinstance(value, str):
        return unsafe_character(value) is None
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, dict):
        return all(_all_strings_displayable(k) and _all_strings_displayable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_all_strings_displayable(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


# --- the parsers -------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(frame_texts())
def test_the_servers_parser_gives_a_bounded_displayable_frame_or_a_validation_error(text: str) -> None:
    try:
        frame = client_frames.validate_json(text)
    except ValidationError:
        return
    assert _all_strings_displayable(frame), frame
    assert shape_problem(getattr(frame, "params", {})) is None
    json.loads(frame.model_dump_json(), parse_constant=_no_constants)


@st.composite
def server_frame_texts(draw: st.DrawFn) -> str:
    frame = draw(frame_dicts())
    frame["kind"] = draw(st.sampled_from(SERVER_KINDS) | texts)
    if draw(st.booleans()):
        frame["events"] = draw(st.lists(json_values, max_size=3))
    return json.dumps(frame, allow_nan=True) if draw(st.integers(0, 5)) else draw(st.text(max_size=100))


@settings(max_examples=150, deadline=None)
@given(server_frame_texts())
def test_the_clients_parser_gives_a_frame_or_a_protocol_error(text: str) -> None:
    with contextlib.suppress(ProtocolError):
        _parse(text)


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(NASTY)))
def test_printable_text_shows_every_unsafe_character_as_an_escape(text: str) -> None:
    shown = printable(text)
    assert unsafe_character(shown) is None
    assert (shown == text) == (unsafe_character(text) is None)


# --- a live server --------------------------------------------------------------------------


class Attacker:
    """A raw connection (joined as a role, or never joined) that checks every frame it receives."""

    def __init__(self, url: str, role: str | None) -> None:
        self.url, self.role = url, role
        self.ws: ClientConnection | None = None
        self.token = "not-a-token"
        self.violations: list[str] = []
        self.reader: asyncio.Task[None] | None = None

    async def ensure(self) -> None:
        """(Re)connect if the server closed this connection (a flood, a timeout)."""
        if self.ws is not None and self.reader is not None and not self.reader.done():
            return
        self.ws = await connect(self.url, proxy=None, compression=None, max_size=HARD_FRAME_LIMIT)
        if self.role is not None:
            hello = ({"kind": "reconnect", "token": self.token, "last_seq": 0} if self.token != "not-a-token"
                     else {"kind": "join", "code": CODE, "role": self.role, "name": "Mallory"})
            await self.ws.send(json.dumps(hello))
            welcome = json.loads(await self.ws.recv())
            assert welcome["kind"] == "welcome", welcome
            self.token = welcome["token"]
        self.reader = asyncio.ensure_future(self._read(self.ws))

    async def _read(self, ws: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in ws:
                self._check(raw)

    def _check(self, raw: str | bytes) -> None:
        if not isinstance(raw, str) or len(raw.encode()) > HARD_FRAME_LIMIT:
            self.violations.append("a frame that is not text under the client's limit")
            return
        try:
            frame = json.loads(raw, parse_constant=_no_constants)
            _parse(raw)
        except (ValueError, ProtocolError) as exc:
            self.violations.append(f"not a strict protocol frame: {exc}")
            return
        if frame.get("code") == "internal":
            self.violations.append(f"internal error: {frame}")

    async def send(self, text: str | bytes, copies: int) -> None:
        assert self.ws is not None
        message = text.replace("$TOKEN", self.token) if isinstance(text, str) else text
        with contextlib.suppress(ConnectionClosed):
            for _ in range(copies):
                await self.ws.send(message)

    def abort(self) -> None:
        if self.ws is not None:
            self.ws.transport.abort()


class Live:
    """A drill server in its own event loop, two legitimate seats and three attackers."""

    def __init__(self, path: Path, flagship: LoadedScenario) -> None:
        self.path, self.flagship = path, flagship
        self.loop = asyncio.new_event_loop()
        self.examples = 0
        self.run(self._start())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(asyncio.wait_for(coro, 60))

    async def _start(self) -> None:
        limits = Limits(rate=300.0, burst=300.0, command_rate=300.0, command_burst=300.0,
                        address_rate=10_000.0, connect_rate=1000.0)
        self.server = DrillServer.host(self.flagship, self.path, seed=7, code=CODE,
                                       facilitator_token=FACILITATOR_TOKEN, speed=10.0, limits=limits)
        port = await self.server.start("127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{port}"
        self.fac = await RemoteSession.open(self.url, name="Lee", facilitator_token=FACILITATOR_TOKEN)
        self.ic = await RemoteSession.open(self.url, name="Dana", role="ic", code=CODE)
        await self.fac.start()
        self.attackers = [Attacker(self.url, None), Attacker(self.url, "ml"), Attacker(self.url, "ic")]

    async def attack(self, frames: list[tuple[int, str | bytes, int]]) -> None:
        """Send the frames, then check the legitimate seats still act, receive and reconnect."""
        self.examples += 1
        for attacker in self.attackers:
            await attacker.ensure()
        await asyncio.gather(*(self.attackers[who].send(text, copies) for who, text, copies in frames))
        if self.examples % 4 == 0:
            before = self.ic.reconnects
            await self.ic.drop()
            await self.ic.wait_until(lambda s: s.reconnects > before and s.connected)
        said = f"legit {self.examples}"
        ack = await self.ic.chat(said)
        assert ack.accepted, ack.reason
        for seat in (self.fac, self.ic):
            await seat.wait_until(lambda s: any(e.kind == Kind.MESSAGE and e.payload.get("text") == said
                                                for e in s.received))
        assert not self.fac.lost and not self.ic.lost
        for attacker in self.attackers:
            assert not attacker.violations, attacker.violations

    async def _stop(self) -> None:
        for attacker in self.attackers:
            attacker.abort()
        await self.ic.close()
        await self.fac.close()
        await self.server.stop()

    def close(self) -> None:
        self.run(self._stop())
        self.loop.close()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, flagship: LoadedScenario) -> Iterator[Live]:
    server = Live(tmp_path_factory.mktemp("fuzz") / "drill.jsonl", flagship)
    yield server
    server.close()
    journal = read_journal(server.path)
    _rederive(server.path, journal, flagship)


attacks = st.lists(st.tuples(st.integers(0, 2),
                             frame_texts() | st.binary(max_size=50),
                             st.sampled_from([1, 1, 1, 2, 300])), min_size=1, max_size=12)


@settings(max_examples=int(os.environ.get("TTX_FUZZ_EXAMPLES", "30")), deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(frames=attacks)
def test_hostile_frames_from_several_connections_never_reach_the_legitimate_seats(
        live: Live, frames: list[tuple[int, str | bytes, int]]) -> None:
    """Whatever three hostile connections send, the two legitimate seats keep acting and receiving
    (and reconnect), every frame the attackers get back is strict JSON under the client's limit and
    never an ``internal`` error, and the journal re-derives event for event."""
    live.run(live.attack(frames))
    _rederive(live.path, read_journal(live.path), live.flagship)


# --- the engine: every payload is strict JSON over the scenario's parameter ranges -------------


def _within(low: float, high: float) -> st.SearchStrategy[float]:
    """Any float in ``[low, high]``, the ends and the tiniest (subnormal) values included."""
    return st.floats(min_value=low, max_value=high) | st.sampled_from([low, high])


SIGNAL_RANGES: dict[str, dict[str, st.SearchStrategy[float]]] = {
    "user_reports": {"p_report": _within(0.0, 1.0), "baseline_per_hour": _within(0.0, 1e6),
                     "z_threshold": _within(1e-9, 1e9)},
    "classifier_confidence": {"baseline": _within(0.0, 1.0), "sensitivity": _within(0.0, 1e300),
                              "noise": _within(0.0, 1e300), "drop_threshold": _within(1e-9, 1e9)},
    "social_posts": {"p_post": _within(0.0, 1.0), "virality": _within(0.0, 1e4),
                     "baseline_per_hour": _within(0.0, 1e6), "viral_threshold": _within(1e-9, 1e9)},
    "drift": {"sensitivity": _within(0.0, 1e300), "noise": _within(0.0, 1e300),
              "threshold": _within(1e-9, 1e9)},
}
"""The numeric fields of each monitor, over the whole range the scenario format allows (an
unbounded one up to 1e300)."""


@st.composite
def scenario_variants(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """The flagship with its traffic, spread and monitors drawn from the format's ranges."""
    doc: dict[str, Any] = json.loads(json.dumps(base))
    doc["features"]["chat"]["traffic_rps"] = draw(_within(1e-6, 8e8))
    curve = doc["streams"]["weapons-uplift"]["harmful_fraction"]
    curve.update(floor=draw(_within(0.0, 1.0)), ceiling=draw(_within(0.0, 1.0)),
                 growth_per_hour=draw(_within(1e-9, 50.0)))
    doc["signals"]["drift"] = {"kind": "drift", "title": "Drift"}
    for signal in doc["signals"].values():
        for name, values in SIGNAL_RANGES.get(signal["kind"], {}).items():
            signal[name] = draw(values)
    return doc


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_event_of_a_drill_is_strict_json_whatever_the_scenarios_parameters(data: st.DataObject) -> None:
    """A rate, a z-score or a reading that overflowed or divided by zero used to be able to reach a
    payload as ``NaN`` or ``Infinity``, which a journal line or a team frame cannot carry: over every
    value the format allows, the do-nothing and textbook runs' events are strict JSON."""
    from dataclasses import replace

    from simulator.engine.policies import load_policy
    from simulator.engine.runner import run_policy
    from simulator.format.loader import load_scenario
    from simulator.format.scenario import Scenario

    flagship = load_scenario("jailbreak-wave")
    doc = data.draw(scenario_variants(flagship.scenario.model_dump(mode="json")))
    loaded = replace(flagship, scenario=Scenario.model_validate(doc), content_hash="sha256:variant")
    for policy in ("idle", "textbook"):
        run = run_policy(loaded, load_policy(policy, loaded.scenario), 7)
        for event in run.drill.events:
            json.dumps(event.to_dict(), allow_nan=False)  # raises ValueError on NaN or Infinity
        assert math.isfinite(run.result.score)
