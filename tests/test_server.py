"""A team drill over real websockets on loopback: joining, private delivery, approvals across players,
chat, the facilitator's controls, refusals and bad frames — the drill always goes on."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Protocol

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.protocol import State

from simulator.engine.events import Event, Kind
from simulator.engine.journal import read_journal
from simulator.engine.replay import replay
from simulator.format.commands import AdhocParams, Command
from simulator.format.loader import LoadedScenario, load_scenario
from simulator.team.outbox import Shared
from simulator.team.protocol import FRAME_LIMIT
from simulator.team.remote import RemoteError, RemoteSession
from simulator.team.server import DrillServer, Limits, Outbox, ResumeError, Seating, delivered
from tests.conftest import MINIMAL, WriteScenario, end_drill_through_hot_wash, end_through_hot_wash

CODE = "K7Q2MD"
FACILITATOR_TOKEN = "white-cell-secret"


class Team:
    """A server on a free loopback port and the sessions a test opened against it."""

    def __init__(self, server: DrillServer, url: str) -> None:
        self.server, self.url = server, url
        self.sessions: list[RemoteSession] = []

    async def join(self, role: str, name: str | None = None, **kwargs: Any) -> RemoteSession:
        """Join in ``role`` with the join code (named after the role unless ``name`` is given)."""
        session = await RemoteSession.open(self.url, name=name or role.upper(), role=role, code=CODE,
                                           timeout=5.0, **kwargs)
        self.sessions.append(session)
        return session

    async def facilitator(self) -> RemoteSession:
        """Join as the facilitator (Lee) with the facilitator token."""
        session = await RemoteSession.open(self.url, name="Lee", facilitator_token=FACILITATOR_TOKEN,
                                           timeout=5.0)
        self.sessions.append(session)
        return session

    async def raw(self) -> ClientConnection:
        """A bare websocket to the server, for sending frames no client would."""
        return await connect(self.url, proxy=None, compression=None)

    def journal(self) -> list[dict[str, Any]]:
        """The server's journal file as it stands, one dict per line (header first)."""
        return [json.loads(line) for line in Path(self.server.journal.path).read_text().splitlines()]


class MakeTeam(Protocol):
    """The ``team_factory`` fixture: host the flagship (seed 7) on a free loopback port."""

    async def __call__(self, speed: float = 60.0, limits: Limits | None = None) -> Team: ...


@pytest.fixture
async def team_factory(tmp_path: Path, flagship: LoadedScenario) -> AsyncIterator[MakeTeam]:
    """Start servers on demand (each with its own journal); stop them and their sessions after."""
    teams: list[Team] = []

    async def make(speed: float = 60.0, limits: Limits | None = None) -> Team:
        server = DrillServer.host(flagship, tmp_path / f"drill{len(teams)}.jsonl", seed=7, code=CODE,
                                  facilitator_token=FACILITATOR_TOKEN, speed=speed, limits=limits)
        port = await server.start("127.0.0.1", 0)
        teams.append(Team(server, f"ws://127.0.0.1:{port}"))
        return teams[-1]

    yield make
    for team in teams:
        for session in team.sessions:
            await session.close()
        await team.server.stop()


@pytest.fixture
async def team(team_factory: MakeTeam) -> Team:
    """One server at 60×, flagship seed 7."""
    return await team_factory()


async def test_players_join_with_the_code_claim_roles_and_see_the_lobby(team: Team) -> None:
    """A role can be held by two people; a wrong code or a role not in play is refused, and the lobby
    says who holds what and who is connected."""
    ic = await team.join("ic", "Dana")
    await team.join("ic", "Robin")
    with pytest.raises(RemoteError, match="bad_code"):
        await RemoteSession.open(team.url, name="Eve", role="ml", code="WRONG1", auto_reconnect=False)
    with pytest.raises(RemoteError, match="unknown_role"):
        await RemoteSession.open(team.url, name="Eve", role="ceo", code=CODE, auto_reconnect=False)
    ml = await team.join("ml", "Max")
    await ic.wait_until(lambda s: s.lobby is not None and len(s.lobby.players) == 3)
    assert ic.lobby is not None
    assert {(p.name, p.role, p.connected) for p in ic.lobby.players} == {
        ("Dana", "ic", True), ("Robin", "ic", True), ("Max", "ml", True)}
    assert not ic.lobby.started
    assert ic.scenario.id == "jailbreak-wave" and ic.scenario.facilitator_notes == ""
    await ml.close()
    await ic.wait_until(lambda s: s.lobby is not None and not next(
        p for p in s.lobby.players if p.name == "Max").connected)
    fac = await team.facilitator()
    assert fac.scenario.facilitator_notes and fac.join_code == CODE


async def test_private_injects_reach_only_their_roles_and_the_truth_only_the_facilitator(team: Team) -> None:
    """An inject to ml reaches ml, not comms; one to an unfilled role (ts) reaches the incident
    commander instead; harm (the hidden truth) reaches the facilitator only."""
    fac, ic, ml, comms = await team.facilitator(), await team.join("ic"), await team.join("ml"), \
        await team.join("comms")
    await fac.start()
    assert (await fac.fire_inject("confidence-drop")).accepted
    assert (await fac.fire_inject("refusal-ticket")).accepted
    await fac.set_speed(3600.0)
    await fac.wait_until(lambda s: len(s.view.harm) >= 2)
    await ic.wait_until(lambda s: any(i.inject == "refusal-ticket" for i in s.view.injects))
    await ml.wait_until(lambda s: any(i.inject == "confidence-drop" for i in s.view.injects))
    await comms.wait_until(lambda s: s.last_seq >= ml.last_seq - 5 and bool(s.view.signals))
    injects = {s.seat: {i.inject for i in s.view.injects} for s in (ic, ml, comms)}
    assert "confidence-drop" not in injects["ic"] | injects["comms"]
    assert "refusal-ticket" in injects["ic"] and "refusal-ticket" not in injects["ml"] | injects["comms"]
    assert {"confidence-drop", "refusal-ticket"} <= {i.inject for i in fac.view.injects}
    for player in (ic, ml, comms):
        assert not player.view.harm
        assert not any(e.hidden or e.kind == Kind.HARM for e in player.received)


async def test_an_approval_crosses_players_and_the_decision_reaches_everyone(team: Team) -> None:
    """ml asks to take the model offline; the ic's view has the pending request; ic approves; every
    seat sees the approval and the action starting."""
    fac, ic, ml, comms = await team.facilitator(), await team.join("ic"), await team.join("ml"), \
        await team.join("comms")
    await fac.start()
    asked = await ml.submit(Command(role="ml", action="take-offline"))
    assert asked.kind == Kind.COMMAND and asked.payload["player"] == "ML"
    await ic.wait_until(lambda s: any(p.action == "take-offline" for p in s.view.pending.values()))
    request = next(iter(ic.view.pending))
    assert ic.view.pending[request].approver == "ic"
    premature = await comms.submit(Command(role="comms", action="approve", params={"request": request}))
    assert premature.kind == Kind.REFUSED and "needs ic" in premature.payload["reason"]
    approved = await ic.submit(Command(role="ic", action="approve", params={"request": request}))
    assert approved.kind == Kind.COMMAND
    for seat in (fac, ic, ml, comms):
        await seat.wait_until(lambda s: request in s.view.in_flight and not s.view.pending)
        assert any(e.kind == Kind.APPROVAL_GRANTED for e in seat.received)


async def test_war_room_chat_reaches_everyone_and_direct_messages_only_their_roles(team: Team) -> None:
    fac, ic, ml, comms = await team.facilitator(), await team.join("ic"), await team.join("ml"), \
        await team.join("comms")
    await fac.start()
    assert (await ic.chat("All hands: bridge is open")).accepted
    assert (await ml.chat("IC only: filter is ready", to=["ic"])).accepted
    refused = await ml.chat("to nobody real", to=["ceo"])
    assert not refused.accepted
    await comms.wait_until(lambda s: any(m["text"].startswith("All hands") for m in s.view.messages))
    await ic.wait_until(lambda s: len(s.view.messages) == 2)
    await fac.wait_until(lambda s: len(s.view.messages) == 2)
    assert [m["text"] for m in comms.view.messages] == ["All hands: bridge is open"]
    assert ic.view.messages[1] == {"t": ic.view.messages[1]["t"], "from": "ml", "to": ["ic"],
                                   "text": "IC only: filter is ready", "name": "ML"}
    leaked = [e for e in comms.received if "IC only" in e.to_json()]
    assert not leaked, "a direct message's text reaches only its roles"
    journaled = [e for e in team.journal() if e["kind"] == "message"]
    assert [e["payload"]["text"] for e in journaled] == ["All hands: bridge is open",
                                                         "IC only: filter is ready"]


async def test_the_facilitator_pauses_injects_ad_hoc_changes_speed_and_ends_with_everyone_on_the_review(
        team: Team, flagship: LoadedScenario) -> None:
    fac, ic, comms = await team.facilitator(), await team.join("ic"), await team.join("comms")
    refused = await ic.submit(Command(role="ic", action="declare_incident"))
    assert refused.kind == Kind.REFUSED and "not started" in refused.payload["reason"]
    await fac.start()
    await ic.wait_until(lambda s: s.clock_state is not None and s.clock_state.started)
    await fac.pause()
    await ic.wait_until(lambda s: s.clock_state is not None and s.clock_state.paused)
    frozen = team.server.drill.now
    await asyncio.sleep(0.15)
    assert team.server.pacer.sync() == frozen and ic.clock.now() == pytest.approx(frozen, abs=0.01)
    ack = await fac.adhoc_inject(AdhocParams(channel="press", to=["comms"], subject="Reporter calling",
                                             body="Comment by 5pm?"))
    assert ack.accepted
    await comms.wait_until(lambda s: any(i.subject == "Reporter calling" for i in s.view.injects))
    assert not any(i.subject == "Reporter calling" for i in ic.view.injects)
    await fac.resume()
    await fac.set_speed(600.0)
    await ic.wait_until(lambda s: s.clock_state is not None and s.clock_state.speed == 600.0)
    await ic.submit(Command(role="ic", action="declare_incident"))
    await end_through_hot_wash(fac)
    for seat in (fac, ic, comms):
        await seat.wait_until(lambda s: s.view.result is not None and s.view.ended)
    assert ic.clock_state is not None and ic.clock_state.ended
    assert team.server.done.is_set()
    kinds = [e["kind"] for e in team.journal()[1:]]
    assert kinds[-2:] == ["drill_ended", "result"]
    changes = [e["payload"]["reason"] for e in team.journal() if e["kind"] == "clock_changed"]
    assert changes == ["start", "pause", "resume", "speed"]
    report = replay(read_journal(team.server.journal.path), flagship)
    assert report.matches, report.first_difference


async def test_roles_are_enforced_on_the_server_and_refusals_leave_the_drill_going(team: Team) -> None:
    fac, ml = await team.facilitator(), await team.join("ml")
    await fac.start()
    await ml.pause()
    assert ml.errors and "not_facilitator" in ml.errors[-1].message
    as_ic = await ml.submit(Command(role="ic", action="set_severity", params={"level": "sev1"}))
    assert as_ic.kind == Kind.REFUSED and "wrong_role" in as_ic.payload["reason"]
    not_allowed = await ml.submit(Command(role="ml", action="set_severity", params={"level": "sev1"}))
    assert not_allowed.kind == Kind.REFUSED and not_allowed.seq > 0, "the engine refused it: journaled"
    facilitator_verb = await ml.submit(Command(role="ml", action="end_drill"))
    assert facilitator_verb.kind == Kind.REFUSED
    fine = await ml.submit(Command(role="ml", action="block-list"))
    assert fine.kind == Kind.COMMAND and not team.server.drill.finished
    notes = [e["payload"] for e in team.journal() if e["kind"] == "session_note"
             and e["payload"].get("event") == "refused_frame"]
    assert {n["code"] for n in notes} == {"not_facilitator", "wrong_role"}
    assert all(e.get("hidden") for e in team.journal() if e["kind"] == "session_note")


async def _responses(ws: ClientConnection, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The next ``count`` acks or errors (other frames skipped)."""
    out: list[dict[str, Any]] = []

    async def read() -> None:
        while len(out) < count:
            frame = json.loads(await ws.recv())
            if frame["kind"] in ("ack", "error"):
                out.append(frame)

    await asyncio.wait_for(read(), timeout)
    return out


async def test_bad_frames_get_an_error_reply_are_journaled_and_harm_nobody(team_factory: MakeTeam) -> None:
    """Malformed JSON, an unknown kind, an oversized frame, a wrong token, a binary frame and a flood:
    each gets an error (a flood one, not one per frame), the connection stays usable and the other
    players never notice. A joined player's refusals are journaled for the facilitator; a connection
    that never joined cannot write to the journal."""
    team = await team_factory(limits=Limits(rate=5.0, burst=10.0))
    fac, ic = await team.facilitator(), await team.join("ic")
    await fac.start()
    ws = await team.raw()
    await ws.send(json.dumps({"kind": "command", "token": "x", "id": 1, "role": "ic", "action": "resolve"}))
    assert (await _responses(ws, 1))[0] == {"kind": "error", "code": "not_joined", "message": "join first",
                                            "id": 1}
    await ws.send(json.dumps({"kind": "join", "code": CODE, "role": "ml", "name": "Mallory"}))
    welcome = json.loads(await ws.recv())
    token = welcome["token"]
    bad: list[str | bytes] = ["{not json", json.dumps({"kind": "launch", "token": token}),
           json.dumps({"kind": "chat", "token": token, "id": 3, "text": "x" * (FRAME_LIMIT + 10)}),
           json.dumps({"kind": "command", "token": "stolen", "id": 4, "role": "ml", "action": "block-list"}),
           b"\x00\x01binary"]
    for frame in bad:
        await ws.send(frame)
    replies = await _responses(ws, len(bad))
    codes = [r["code"] for r in replies]
    assert codes == ["malformed", "bad_frame", "frame_too_large", "bad_token", "binary"]
    assert replies[3]["id"] == 4, "an error names the frame it answers"
    await asyncio.sleep(2.0)
    for i in range(40):
        await ws.send(json.dumps({"kind": "chat", "token": token, "id": 100 + i, "text": f"spam {i}"}))
    await asyncio.sleep(1.0)
    await ws.send(json.dumps({"kind": "command", "token": token, "id": 999, "role": "ml",
                              "action": "block-list"}))
    replies = []
    while not replies or replies[-1].get("id") != 999:
        replies += await _responses(ws, 1)
    assert [r["code"] for r in replies if r["kind"] == "error"] == ["rate_limited"], "one reply per flood"
    assert sum(r["kind"] == "ack" for r in replies) <= 16
    assert replies[-1] == {**replies[-1], "kind": "ack", "id": 999, "accepted": True}, "the connection works"
    declared = await ic.submit(Command(role="ic", action="declare_incident"))
    assert declared.kind == Kind.COMMAND and not ic.errors and not team.server.drill.finished
    notes = [e["payload"]["code"] for e in team.journal()
             if e["kind"] == "session_note" and e["payload"].get("event") == "refused_frame"]
    assert notes == ["malformed", "bad_frame", "frame_too_large", "bad_token", "binary",
                     "rate_limited"], "a flood is journaled once, not once per frame"
    await ws.close()


def reconnected(times: int) -> Callable[[RemoteSession], bool]:
    """A wait condition: the session has reconnected at least ``times`` times."""
    return lambda session: session.reconnects >= times


async def test_a_client_that_drops_again_and_again_ends_with_the_same_view_as_one_that_never_dropped(
        team_factory: MakeTeam) -> None:
    """Reconnecting with the token and last seq gives a snapshot and every later event: none lost,
    none folded twice."""
    team = await team_factory(speed=1200.0)
    fac = await team.facilitator()
    steady, flaky = await team.join("ic", "Steady"), await team.join("ic", "Flaky")
    ml = await team.join("ml")
    await fac.start()
    for round_ in range(12):
        await flaky.drop()
        if round_ % 3 == 0:
            await ml.submit(Command(role="ml", action="investigate" if round_ == 0 else "block-list"))
        await asyncio.sleep(0.06)
        await flaky.wait_until(reconnected(times=round_ + 1))
    await fac.fire_inject("legal-question")
    await end_through_hot_wash(fac)
    for seat in (steady, flaky):
        await seat.wait_until(lambda s: s.view.result is not None)
    assert flaky.reconnects == 12
    seqs = [e.seq for e in flaky.received]
    assert seqs == sorted(set(seqs)), "no event twice"
    assert [e.to_json() for e in flaky.received] == [e.to_json() for e in steady.received]
    assert replace(flaky.view, now=0.0) == replace(steady.view, now=0.0)
    assert steady.view.injects and steady.view.signals


async def test_a_drill_that_runs_out_of_time_is_scored_and_everyone_lands_on_the_review(
        tmp_path: Path, write_scenario: WriteScenario) -> None:
    """The clock reaches the scenario's end: the server scores the drill, journals the result and
    sends it to every seat; commands after the end are refused without touching the journal."""
    loaded = load_scenario(str(write_scenario(MINIMAL)))
    server = DrillServer.host(loaded, tmp_path / "mini.jsonl", code=CODE,
                              facilitator_token=FACILITATOR_TOKEN, speed=50_000.0)
    port = await server.start("127.0.0.1", 0)
    url = f"ws://127.0.0.1:{port}"
    fac = await RemoteSession.open(url, name="Lee", facilitator_token=FACILITATOR_TOKEN)
    ic = await RemoteSession.open(url, name="Dana", role="ic", code=CODE)
    try:
        await fac.start()
        await asyncio.wait_for(server.done.wait(), 10)
        await ic.wait_until(lambda s: s.view.result is not None)
        assert ic.view.ended and ic.view.result == fac.view.result
        lines = Path(server.journal.path).read_text().splitlines()
        late = await ic.submit(Command(role="ic", action="declare_incident"))
        assert late.kind == Kind.REFUSED and "ended" in late.payload["reason"]
        assert Path(server.journal.path).read_text().splitlines() == lines
        assert json.loads(lines[-1])["kind"] == "result"
        assert replay(read_journal(server.journal.path), loaded).matches
    finally:
        await fac.close()
        await ic.close()
        await server.stop()


class StuckSocket:
    """A websocket whose peer reads nothing until released."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.release = asyncio.Event()

    async def send(self, text: str) -> None:
        await self.release.wait()
        self.sent.append(json.loads(text))


class OpenSocket:
    """A websocket stand-in whose socket takes writes (``backed_up``: its buffer is full)."""

    def __init__(self, backed_up: bool = False) -> None:
        self.written: list[bytes] = []
        self.sent: list[str] = []
        self.protocol = SimpleNamespace(state=State.OPEN)
        self.transport = SimpleNamespace(write=self.written.append, is_closing=lambda: False,
                                         get_write_buffer_size=lambda: 10**6 if backed_up else 0)

    async def send(self, text: str) -> None:
        self.sent.append(text)


async def test_events_for_one_audience_are_encoded_once_and_written_straight_to_every_reading_client(
        ) -> None:
    """The broadcast path: a batch of events is one websocket frame, built once and written as it is
    to each client that has nothing queued; a client whose socket is backed up gets it queued, in
    order behind what it was already waiting for."""
    reading = [OpenSocket() for _ in range(3)]
    behind = OpenSocket(backed_up=True)
    outboxes = [Outbox(ws, backlog=10) for ws in [*reading, behind]]
    outboxes[-1].frame('{"kind":"lobby"}')
    batch = Shared.events([(Kind.MESSAGE, '{"seq":1}'), (Kind.COMMAND, '{"seq":2}')])
    for outbox in outboxes:
        outbox.shared(batch)
    frames = [ws.written[0] for ws in reading]
    assert all(frame is frames[0] for frame in frames), "one encoding for every reading client"
    assert frames[0].endswith(b'{"events":[{"seq":1},{"seq":2}],"kind":"events"}')
    sender = asyncio.ensure_future(outboxes[-1].run())
    await asyncio.sleep(0.01)
    sender.cancel()
    assert behind.written == [] and behind.sent == ['{"kind":"lobby"}', batch.text]


async def test_a_slow_client_gets_only_the_latest_ticks_but_every_inject_and_action() -> None:
    """Clock and metric updates are coalesced when a client falls behind; injects and actions never."""
    ws = StuckSocket()
    outbox = Outbox(ws, backlog=10)  # a stand-in with only send()
    sender = asyncio.ensure_future(outbox.run())
    outbox.events([(Kind.TICK, json.dumps({"seq": 0}))])
    await asyncio.sleep(0.01)
    items = []
    for seq in range(1, 60):
        kind = Kind.INJECT if seq % 10 == 0 else Kind.ACTION_STARTED if seq % 7 == 0 else Kind.TICK
        items.append((kind, json.dumps({"seq": seq, "kind": kind.value})))
    for item in items:
        outbox.events([item])
    ws.release.set()
    await asyncio.sleep(0.05)
    sender.cancel()
    got = [e for frame in ws.sent[1:] for e in frame["events"]]
    kept = {e["seq"] for e in got}
    assert {s for s in range(1, 60) if s % 10 == 0 or s % 7 == 0} <= kept, "injects and actions all arrive"
    assert [e["seq"] for e in got] == sorted(kept), "in order"
    assert outbox.coalesced > 0 and 59 in kept, "older ticks dropped, the latest kept"


def test_host_help_says_another_bind_address_is_served_over_tls_only() -> None:
    """``--bind`` off loopback is a supported way to run a LAN drill: the help says it is TLS only,
    how players join, and that whoever reaches the port can try the code."""
    out = subprocess.run([sys.executable, "-m", "simulator.cli", "host", "--help"], capture_output=True,
                         text=True, timeout=60)
    text = " ".join(out.stdout.split())
    assert out.returncode == 0
    assert "default 127.0.0.1: this machine only, plain ws://" in text
    assert "served over TLS only (wss://" in text and "pin" in text and "--ssh" in text
    assert "can try the join code" in text


async def test_one_server_per_journal_and_hosting_never_overwrites_one(tmp_path: Path,
                                                                       flagship: LoadedScenario) -> None:
    path = tmp_path / "drill.jsonl"
    server = DrillServer.host(flagship, path, code=CODE, facilitator_token=FACILITATOR_TOKEN)
    with pytest.raises(ResumeError, match="in use by another ttx host"):
        DrillServer.resume(path)
    with pytest.raises(ResumeError, match="already exists"):
        DrillServer.host(flagship, path, code=CODE, facilitator_token=FACILITATOR_TOKEN)
    await server.stop()
    resumed = DrillServer.resume(path)
    assert [e.to_json() for e in resumed.drill.events[:2]] == [e.to_json() for e in server.drill.events[:2]]
    await resumed.stop()


async def test_the_facilitator_can_use_the_hot_seat_commands_for_injects_and_the_end(team: Team) -> None:
    """A client written against the hot seat submits facilitator verbs as commands; they work remotely."""
    fac, ic = await team.facilitator(), await team.join("ic")
    await fac.start()
    fired = await fac.submit(Command(role="facilitator", action="fire_inject",
                                     params={"inject": "exec-ping"}))
    assert fired.kind == Kind.COMMAND and fired.actor == "facilitator"
    bad = await fac.submit(Command(role="facilitator", action="adhoc_inject", params={"to": []}))
    assert bad.kind == Kind.REFUSED and bad.seq == 0
    await ic.wait_until(lambda s: any(i.inject == "exec-ping" for i in s.view.injects))
    ended = await fac.submit(Command(role="facilitator", action="end_drill"))
    hot_wash_ended = await fac.submit(Command(role="facilitator", action="end_drill"))
    assert ended.kind == hot_wash_ended.kind == Kind.COMMAND, "hot wash, then end"
    await ic.wait_until(lambda s: s.view.result is not None)


def test_resuming_a_journal_that_does_not_exist_says_so_and_creates_nothing(tmp_path: Path) -> None:
    """``ttx host --resume typo.jsonl`` names the missing file (it used to create an empty one and
    then call it an empty journal)."""
    out = subprocess.run([sys.executable, "-m", "simulator.cli", "host", "--resume", "typo.jsonl"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert out.returncode == 2
    assert "typo.jsonl: no such journal" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "typo.jsonl").exists()


async def test_the_resumed_host_banner_gives_the_sim_time_as_a_clock(
        tmp_path: Path, flagship: LoadedScenario, capsys: pytest.CaptureFixture[str]) -> None:
    """The banner of ``ttx host --resume`` says where the drill stands as H:MM:SS, like every other clock."""
    import argparse

    from simulator.cli.team import _banner

    path = tmp_path / "drill.jsonl"
    server = DrillServer.host(flagship, path, code=CODE, facilitator_token=FACILITATOR_TOKEN)
    server.drill.advance_to(1500.001)
    _banner(server, argparse.Namespace(bind="127.0.0.1"), 8765, None)
    await server.stop()
    assert "resumed at sim time 0:25:00, clock paused" in capsys.readouterr().out


async def test_ttx_join_says_what_was_wrong_and_what_to_use_instead(team: Team) -> None:
    """A URL without ws://, a port nobody listens on, a wrong join code and a wrong facilitator token
    each get one line — what was wrong, what to use — exit 2 and no traceback."""
    async def join(*args: str) -> str:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "simulator.cli", "join", *args, "--name", "X",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 2, err
        text = err.decode()
        assert "Traceback" not in text and len(text.strip().splitlines()) == 1, text
        assert text.startswith("ttx join: error: "), text
        return text

    bare = team.url.removeprefix("ws://")
    no_scheme = await join(bare, "--code", CODE, "--role", "ic")
    assert "bad URL" in no_scheme and "must start with ws://" in no_scheme
    assert "is ttx host running there?" in await join("ws://127.0.0.1:1", "--code", CODE, "--role", "ic")
    wrong_code = await join(team.url, "--code", "WRONG1", "--role", "ic")
    assert "wrong join code" in wrong_code and "use the join code ttx host printed" in wrong_code
    wrong_token = await join(team.url, "--facilitator-token", "nope")
    assert "wrong facilitator token" in wrong_token and "use the facilitator token" in wrong_token


async def test_ttx_join_takes_a_role_as_the_lobby_names_it(team: Team) -> None:
    """``--role "ML engineer"`` (what the lobby shows) used to end in a pydantic traceback; it joins
    as ``ml``, the same as ``--role ml``."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", "join", team.url, "--code", CODE, "--role", "ML engineer",
        "--name", "Max", "--headless", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while not any(p.name == "Max" for p in team.server.players.values()):
            assert time.monotonic() < deadline and proc.returncode is None, "the seat did not join"
            await asyncio.sleep(0.05)
        assert [p.seat for p in team.server.players.values() if p.name == "Max"] == ["ml"]
    finally:
        proc.kill()
        await proc.wait()


def test_hosting_on_a_port_in_use_says_so_and_leaves_no_journal(tmp_path: Path) -> None:
    """A busy port is one line (not '[Errno 98] …') suggesting --port 0, and the drill that never ran
    leaves no journal behind (a retry with the same --journal used to be told to --resume it)."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        out = subprocess.run([sys.executable, "-m", "simulator.cli", "host", "jailbreak-wave", "--port",
                              str(port), "--journal", "drill.jsonl"], capture_output=True, text=True,
                             timeout=60, cwd=tmp_path)
    assert out.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}: in use" in out.stderr and "--port 0" in out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "drill.jsonl").exists()


async def test_a_refused_command_reaches_only_the_player_who_sent_it_and_the_facilitator(team: Team) -> None:
    """Sam and Max both hold ML, Dana IC. Sam's refused commands — a verb ML may not use, a denial of
    a request that does not exist (with Sam's reason in it) — reach Sam and the facilitator,
    live and in a snapshot from the start; Max, in the same role, and Dana do not see them, live or
    when they join after. The journal keeps each refusal as the engine wrote it (to the role)."""
    fac = await team.facilitator()
    sam, max_ = await team.join("ml", "Sam"), await team.join("ml", "Max")
    dana = await team.join("ic", "Dana")
    await fac.start()
    severity = await sam.submit(Command(role="ml", action="set_severity", params={"level": "sev1"}))
    denial = await sam.submit(Command(role="ml", action="deny", params={"request": 999, "reason": "psst"}))
    assert severity.kind == denial.kind == Kind.REFUSED and severity.seq > 0 and denial.seq > 0
    await sam.chat("after my refusals")
    later = await team.join("ml", "Kim")
    sam_again = await RemoteSession.open(team.url, name="Sam", token=sam.token, timeout=5.0)
    team.sessions.append(sam_again)

    def refused(session: RemoteSession) -> list[int]:
        return [e.seq for e in session.received if e.kind == Kind.REFUSED]

    for seat in (max_, dana, fac, sam, later, sam_again):
        await seat.wait_until(lambda s: any(m["text"] == "after my refusals" for m in s.view.messages))
    assert refused(sam) == refused(fac) == refused(sam_again) == [severity.seq, denial.seq]
    assert refused(max_) == refused(dana) == refused(later) == [], "events arrive in order: none came first"
    assert [line.get("to") for line in team.journal() if line["kind"] == "refused"] == [["ml"], ["ml"]]


def test_a_war_room_lines_command_is_the_same_event_for_every_seat_and_a_direct_ones_is_narrowed() -> None:
    """The fan-out encodes an event once for all the seats that receive it unchanged: a war-room
    line's command is delivered as the event itself; a direct message's command (its text is in it)
    is narrowed to the sender and the roles it went to."""
    war_room = Event(t=1.0, seq=3, kind=Kind.COMMAND, actor="ml",
                     payload={"action": "message", "params": {"text": "on it", "to": []}})
    direct = replace(war_room, payload={"action": "message", "params": {"text": "psst", "to": ["ic"]}})
    seating = Seating()
    assert all(delivered(war_room, seat, seating) is war_room for seat in ("ic", "ml", "facilitator"))
    assert delivered(direct, "legal", seating) is None
    narrowed = delivered(direct, "ic", seating)
    assert narrowed is not None and narrowed.to == ("ic", "ml")


async def test_the_banner_of_a_resumed_drill_that_has_ended_says_it_serves_the_review(
        tmp_path: Path, flagship: LoadedScenario, capsys: pytest.CaptureFixture[str]) -> None:
    """Resuming an ended drill used to say "clock paused; the facilitator resumes the clock", then
    "drill over" straight after: there is no clock left to resume, only the review to serve."""
    import argparse

    from simulator.cli.team import _banner

    server = DrillServer.host(flagship, tmp_path / "drill.jsonl", code=CODE,
                              facilitator_token=FACILITATOR_TOKEN)
    end_drill_through_hot_wash(server.drill)
    assert server.drill.finished
    _banner(server, argparse.Namespace(bind="127.0.0.1"), 8765, None)
    await server.stop()
    out = capsys.readouterr().out
    assert "resumed a drill that has ended (at sim time 0:00:00): serving its review" in out
    assert "resumes the clock" not in out
