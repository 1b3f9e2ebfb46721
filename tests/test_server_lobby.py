"""The lobby over real websockets: a seat joining or reconnecting gets the whole lobby, the seats
already in hear only what changed, once per batch, and every seat ends with the same lobby."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest

from simulator.engine.session import LobbyState, SeatHolder
from simulator.team.protocol import Lobby, LobbyChange, Seat
from simulator.team.remote import ProtocolError, RemoteSession, changed_lobby, lobby_state
from simulator.team.server import Limits
from tests.test_server import CODE, Team
from tests.test_server import team_factory as team_factory  # the same servers as tests/test_server.py
from tests.test_server_hostile import Raw

ROLES = ("ic", "ml", "ts", "comms", "legal")
STORM = Limits(max_players=80, pending_per_address=100, pending_total=100)
"""Room for a join storm from one address (loopback): every connection may be pending at once."""


async def _storm(team: Team, names: list[str]) -> list[RemoteSession]:
    """Open a seat for each name at once (roles in turn)."""
    seats = await asyncio.gather(*(RemoteSession.open(team.url, name=name, role=ROLES[i % len(ROLES)],
                                                      code=CODE, timeout=20.0)
                                   for i, name in enumerate(names)))
    team.sessions.extend(seats)
    return list(seats)


async def _all_show(seats: list[RemoteSession], lobby: LobbyState) -> None:
    await asyncio.gather(*(s.wait_until(lambda s: s.lobby == lobby, timeout=20.0) for s in seats))


async def test_after_a_join_storm_and_drops_every_seat_shows_the_lobby_a_newcomer_gets(
        team_factory: Any) -> None:
    """40 players join at once, 10 drop and leave the lobby, 3 of those come back: every seat's lobby,
    kept up to date by changes, is the server's whole lobby (what a newcomer is sent), with the
    players who came back where they first joined."""
    team: Team = await team_factory(limits=replace(STORM, offline_drop=0.5))
    seats = await _storm(team, [f"Player {n}" for n in range(40)])
    dropped = seats[5:15]
    await asyncio.gather(*(s.close() for s in dropped))
    present = [*seats[:5], *seats[15:]]
    await asyncio.gather(*(s.wait_until(lambda s: s.lobby is not None and len(s.lobby.players) == 30,
                                        timeout=20.0) for s in present))
    back = await asyncio.gather(*(RemoteSession.open(team.url, name=s.name, token=s.token, timeout=20.0)
                                  for s in dropped[:3]))
    team.sessions.extend(back)
    present += back
    await _all_show(present, lobby_state(team.server.lobby()))
    newcomer = (await _storm(team, ["Late"]))[0]
    whole = lobby_state(team.server.lobby())
    assert newcomer.lobby == whole
    await _all_show(present, whole)
    assert [h.name for h in whole.players] == [*(f"Player {n}" for n in (*range(8), *range(15, 40))), "Late"]
    assert all(h.connected for h in whole.players)


async def test_a_seat_already_in_hears_each_join_once_in_a_small_change_never_the_whole_lobby_again(
        team_factory: Any) -> None:
    """A seat that joined gets the whole lobby once; of the 30 players who join after it, each reaches
    it once, in a ``lobby_change`` frame that lists only players who changed (a join costs each seat
    in the lobby a frame of one seat's size at most once per batch, not the whole lobby)."""
    team: Team = await team_factory(limits=STORM)
    watcher = Raw(await team.raw())
    await watcher.join("ic", "Watcher")
    first = [f for f in watcher.received if f["kind"] == "lobby"]
    mine = lobby_state(Lobby.model_validate(first[0]))
    await _storm(team, [f"Player {n}" for n in range(30)])
    while len(mine.players) < 31:
        frame = await watcher.next(lambda f: f["kind"] in ("lobby", "lobby_change"), timeout=20.0)
        if frame["kind"] == "lobby":
            mine = lobby_state(Lobby.model_validate(frame))
        else:
            mine = changed_lobby(mine, LobbyChange.model_validate(frame))
    wholes = [f for f in watcher.received if f["kind"] == "lobby"]
    changes = [f for f in watcher.received if f["kind"] == "lobby_change"]
    told = [seat["name"] for change in changes for seat in change["seats"]]
    assert len(wholes) == 1 and len(wholes[0]["players"]) == 1
    assert sorted(n for n in told if n != "Watcher") == sorted(f"Player {n}" for n in range(30))
    assert len(changes) <= 31 and mine == lobby_state(team.server.lobby())


def test_a_lobby_change_replaces_seats_drops_the_gone_and_keeps_the_joining_order() -> None:
    """Applying a change: a player's seat replaces their old one in place, a new player is listed by
    when they first joined (``p2`` before ``p10``), the gone leave, applying it twice changes nothing."""
    lobby = LobbyState(ROLES, (SeatHolder("p1", "Dana", "ic", True), SeatHolder("p3", "Robin", "ts", True),
                               SeatHolder("p10", "Max", "ml", True)), started=False)
    change = LobbyChange(seats=[Seat(player="p2", name="Lee", role="comms", connected=True),
                                Seat(player="p10", name="Max", role="ml", connected=False)],
                         gone=["p3"], started=True)
    once = changed_lobby(lobby, change)
    assert [(h.player, h.connected) for h in once.players] == [("p1", True), ("p2", True), ("p10", False)]
    assert once.started and changed_lobby(once, change) == once


def test_a_lobby_change_before_any_lobby_is_a_protocol_error() -> None:
    """The server sends the whole lobby on every join and reconnect first; a change without one means
    the seat cannot know the lobby, so it reconnects (a protocol error) rather than show a wrong one."""
    with pytest.raises(ProtocolError, match="before the lobby"):
        changed_lobby(None, LobbyChange(seats=[], gone=[], started=False))
