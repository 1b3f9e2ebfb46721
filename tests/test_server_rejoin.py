"""Taking a seat back by name: a player who joins again with the join code, their role and their
name (as the lobby shows it) while they are offline is the same player again — same player id,
their history, one seat in the lobby — even after the host was killed and resumed, when no client
kept a token. A seat that is online is never taken: a second join by that name is a new player."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from simulator.cli.team import host_line
from simulator.engine.events import Kind
from simulator.engine.journal import read_journal
from simulator.engine.replay import replay
from simulator.format.loader import LoadedScenario
from simulator.team.remote import RemoteSession
from simulator.team.server import DrillServer, same_name
from tests.conftest import end_through_hot_wash
from tests.ssh_client import log_in
from tests.test_server import CODE, Team
from tests.test_server import team as team  # the same servers as tests/test_server.py
from tests.test_server import team_factory as team_factory
from tests.test_server_crash import Host


async def _offline(watcher: RemoteSession, *players: str) -> None:
    """Wait until ``watcher``'s lobby shows ``players`` offline."""
    await watcher.wait_until(lambda s: s.lobby is not None and {
        h.player for h in s.lobby.players if not h.connected} >= set(players))


def _said(session: RemoteSession, text: str) -> bool:
    """Whether ``session`` received a war-room message ``text``."""
    return any(e.kind == Kind.MESSAGE and e.payload.get("text") == text for e in session.received)


def _joins(team: Team) -> list[dict[str, Any]]:
    """The payloads of the server's ``player_joined`` events, in order."""
    return [dict(e.payload) for e in team.server.drill.events if e.kind == Kind.PLAYER_JOINED]


@pytest.mark.parametrize(("shown", "given"), [("Max", "max"), ("Max", "  MAX "), ("Max Power", "max  power"),
                                              ("Ｍａｘ", "Max")])
def test_names_match_as_a_person_reads_them(shown: str, given: str) -> None:
    """Case, spacing and full-width forms do not make another person."""
    assert same_name(shown, given)


def test_different_names_do_not_match() -> None:
    assert not same_name("Max", "Maxi") and not same_name("Max", "M ax")


async def test_a_player_who_left_joins_again_by_name_and_gets_their_seat_back(team: Team) -> None:
    """Max chats, closes his terminal (no token kept) and joins again as "max": he is player p1 again,
    with a fresh token, his own chat in his history, one "Max ●" in the lobby, and the host log says
    "Max (ml) rejoined" as on a token reconnect. His old token still reconnects to the same seat."""
    fac = await team.facilitator()
    await fac.start()
    first = await team.join("ml", "Max", auto_reconnect=False)
    assert (await first.chat("on it")).accepted
    old_token = first.token
    await first.close()
    await _offline(fac, "p2")

    again = await team.join("ml", "max")
    assert (again.player, again.seat) == ("p2", "ml") and again.token != old_token
    assert _said(again, "on it")
    await again.wait_until(lambda s: s.lobby is not None and [(h.name, h.connected) for h in s.lobby.players
                                                              if h.role == "ml"] == [("Max", True)])
    assert [p.id for p in team.server.players.values() if p.seat == "ml"] == ["p2"]
    rejoined = _joins(team)[-1]
    assert rejoined["player"] == "p2" and rejoined["rejoined"] and "token_sha256" in rejoined
    line = host_line(next(e for e in team.server.drill.events if e.payload.get("rejoined")))
    assert line is not None and line.endswith("Max (ml) rejoined")

    await again.close()
    by_old = await RemoteSession.open(team.url, name="Max", token=old_token, timeout=5.0)
    team.sessions.append(by_old)
    assert by_old.player == "p2"


async def test_a_live_seat_is_never_taken_by_a_join_of_the_same_name(team: Team) -> None:
    """While Max is connected, another "Max" joining as ml is a new player beside him; neither seat
    changes hands, and a Max of another role is another player too."""
    live = await team.join("ml", "Max")
    other = await team.join("ml", "Max")
    elsewhere = await team.join("ts", "Max")
    assert (live.player, other.player, elsewhere.player) == ("p1", "p2", "p3")
    assert not any(p.get("rejoined") for p in _joins(team))
    await live.chat("still here")
    assert live.connected and other.connected


async def test_the_earliest_offline_namesake_is_taken_back_first(team: Team) -> None:
    """Two ml players both called Sam (p2, p3) leave; the first Sam to come back is p2, the next p3,
    and a third is a new player (both seats are live again)."""
    fac = await team.facilitator()
    sams = [await team.join("ml", "Sam", auto_reconnect=False) for _ in range(2)]
    for sam in sams:
        await sam.close()
    await _offline(fac, "p2", "p3")
    back = [await team.join("ml", "Sam") for _ in range(3)]
    assert [b.player for b in back] == ["p2", "p3", "p4"]


async def test_after_kill_and_resume_a_join_by_name_takes_the_seat_back_and_replays(
        tmp_path: Path, flagship: LoadedScenario) -> None:
    """The host is killed (SIGKILL) and resumed; Max, whose client kept no token, joins again by name
    and is p2 again with one seat in the lobby (no ghost), his chat in his history. The journal
    replays, and a second resume derives the same players: both of Max's tokens open p2."""
    journal = tmp_path / "drill.jsonl"
    host = await Host.start("jailbreak-wave", "--port", "0", "--journal", str(journal), "--seed", "3",
                            "--code", CODE, "--linger", "0.2", until="facilitator token:")
    sessions: list[RemoteSession] = []
    try:
        assert host.token is not None
        fac = await RemoteSession.open(host.url, name="Lee", facilitator_token=host.token,
                                       reconnect_for=30.0, timeout=5.0)
        first = await RemoteSession.open(host.url, name="Max", role="ml", code=CODE, auto_reconnect=False)
        sessions += [fac, first]
        await fac.start()
        assert (await first.chat("before the crash")).accepted
        await host.kill()
        host = await Host.start("--resume", str(journal), "--port", str(host.port), "--code", CODE,
                                "--linger", "0.2", until="facilitator token:")
        again = await RemoteSession.open(host.url, name="Max", role="ml", code=CODE, timeout=5.0)
        sessions.append(again)
        assert again.player == "p2" and _said(again, "before the crash")
        await fac.wait_until(lambda s: s.reconnects == 1, timeout=20)
        await again.wait_until(lambda s: s.lobby is not None and [
            (h.name, h.connected) for h in s.lobby.players] == [("Lee", True), ("Max", True)])
        await fac.resume()
        await end_through_hot_wash(fac)
        await again.wait_until(lambda s: s.view.result is not None, timeout=20)
        assert await asyncio.wait_for(host.proc.wait(), 20) == 0
    finally:
        for session in sessions:
            await session.close()
        if host.proc.returncode is None:
            await host.kill()

    report = replay(read_journal(journal), flagship)
    assert report.matches, report.first_difference
    resumed = DrillServer.resume(journal, code=CODE)
    try:
        assert first.token is not None and again.token is not None
        holders = [resumed.player_with_token(t) for t in (first.token, again.token)]
        assert [p.id if p else None for p in holders] == ["p2", "p2"]
        assert list(resumed.players) == ["p1", "p2"]
    finally:
        await resumed.stop()


async def test_an_ssh_seat_comes_back_after_the_host_is_killed_and_resumed(tmp_path: Path) -> None:
    """``ttx host --ssh`` is killed (its SSH server forgets every seat's token) and resumed; Dana logs
    in the same way and is back in her seat: one "dana ●" in her lobby, the same player."""
    journal = tmp_path / "drill.jsonl"
    host = await Host.start("jailbreak-wave", "--port", "0", "--ssh", "0", "--journal", str(journal),
                            "--code", CODE, "--linger", "0.2", until="facilitator token:")
    ssh_line = next(b for b in host.banner if b.startswith("SSH seats:"))
    ssh_port = int(ssh_line.split("port ")[1].split(",")[0])
    conns = []
    try:
        conn, screen, _ = await log_in(ssh_port, "dana", [CODE, "ic"])
        conns.append(conn)
        await screen.wait_for("dana ● ← you")
        await host.kill()
        host = await Host.start("--resume", str(journal), "--port", str(host.port), "--ssh", str(ssh_port),
                                "--code", CODE, "--linger", "0.2", until="facilitator token:")
        conn, screen, _ = await log_in(ssh_port, "dana", [CODE, "ic"])
        conns.append(conn)
        shown = await screen.wait_for("dana ● ← you")
        assert "○ away" not in shown and shown.count("dana") == 1
    finally:
        for conn in conns:
            conn.close()
        if host.proc.returncode is None:
            await host.kill()
    joins = [e.payload for e in read_journal(journal).events if e.kind == Kind.PLAYER_JOINED]
    assert [(j["player"], j.get("rejoined", False)) for j in joins] == [("p1", False), ("p1", True)]
