"""`ttx join`'s dashboard: the drill app on a RemoteSession against a real server on loopback.

A player sees only their role's actions and no clock controls, follows the facilitator's start,
gets the approval dialog for requests addressed to their role, chats; the facilitator steers the
clock, fires injects and ends the drill; everyone lands on the review with the revealed truth.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import DataTable, Input, OptionList, Select, SelectionList, Static

from simulator.analysis.report import build_report, render
from simulator.engine.events import Kind
from simulator.engine.journal import read_journal
from simulator.engine.replay import replay
from simulator.engine.session import Link
from simulator.format.commands import Command
from simulator.format.durations import clock
from simulator.format.loader import LoadedScenario
from simulator.team.remote import RemoteSession
from simulator.team.server import DrillServer
from tests.conftest import end_in_tui, end_through_hot_wash, until
from tui.app import DrillApp
from tui.screens.briefing import BriefingScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.dialogs import ApprovalScreen, InjectPickerScreen, ParamsScreen
from tui.screens.review import ReviewScreen
from tui.widgets.actions import choices_for
from tui.widgets.chart import LineChart
from tui.widgets.header import DrillHeader

CODE = "K7Q2MD"
TOKEN = "white-cell-secret"
SIZE = (100, 30)


class Drill:
    """A server on a free loopback port and the sessions opened against it."""

    def __init__(self, server: DrillServer, url: str) -> None:
        self.server, self.url = server, url
        self.sessions: list[RemoteSession] = []

    async def player(self, role: str, name: str) -> RemoteSession:
        """Join as ``name`` in ``role`` with the join code."""
        session = await RemoteSession.open(self.url, name=name, role=role, code=CODE, timeout=5.0)
        self.sessions.append(session)
        return session

    async def facilitator(self) -> RemoteSession:
        """Join as the facilitator (Lee) with the facilitator token."""
        session = await RemoteSession.open(self.url, name="Lee", facilitator_token=TOKEN, timeout=5.0)
        self.sessions.append(session)
        return session


@pytest.fixture
async def drill(tmp_path: Path, flagship: LoadedScenario) -> AsyncIterator[Drill]:
    """The flagship hosted at 60× (seed 7) on a free loopback port; every session is closed after."""
    server = DrillServer.host(flagship, tmp_path / "drill.jsonl", seed=7, code=CODE,
                              facilitator_token=TOKEN, speed=60.0)
    port = await server.start("127.0.0.1", 0)
    made = Drill(server, f"ws://127.0.0.1:{port}")
    yield made
    for session in made.sessions:
        await session.close()
    await made.server.stop()  # a test may have replaced it (a resumed host)


def showing(app: App[Any], screen: type[Screen[Any]], widget: str) -> bool:
    """``screen`` is on top and composed (its ``widget`` exists)."""
    return isinstance(app.screen, screen) and bool(app.screen.query(widget))


def server_result(drill: Drill) -> dict[str, Any]:
    """The result the server scored and journaled: the figures every seat's review must show."""
    return next(e.payload for e in reversed(drill.server.drill.events) if e.kind == Kind.RESULT)


def review_disagreements(app: DrillApp, result: dict[str, Any]) -> list[str]:
    """Where the review on screen disagrees with ``result``: the score and harm volume its headline
    lacks, and the breakdown rows (component: points) it lacks or has extra. Empty when they agree."""
    headline = str(app.screen.query_one("#review-headline", Static).render())
    wanted = [f"Score {result['score']:.1f} / 100", f"harm {result['harm_volume']:,} "]
    table = app.screen.query_one("#breakdown", DataTable)
    shown = {f"{row[0]}: {row[1]}" for row in map(table.get_row_at, range(table.row_count))}
    scored = {f"{name}: {c['points']:.1f}" for name, c in result["breakdown"].items()}
    return ([f"headline lacks {part!r}" for part in wanted if part not in headline]
            + [f"breakdown lacks {row!r}" for row in sorted(scored - shown)]
            + [f"breakdown has {row!r}" for row in sorted(shown - scored)])


def plots_this_runs_harm(app: DrillApp) -> bool:
    """The review's harm chart draws this run's (revealed) harm: ``●`` marks above its axis."""
    drawn = str(app.screen.query_one("#harm-chart", LineChart).render()).splitlines()[:-2]
    return any("●" in line for line in drawn)


def on_dashboard(app: DrillApp) -> bool:
    """The dashboard is showing, composed and drawn from the view."""
    return isinstance(app.screen, DashboardScreen) and bool(app.screen.query("#action-list")) \
        and app.screen.query_one("#action-list", OptionList).option_count > 0


async def test_a_player_plays_their_role_and_an_approval_crosses_terminals(drill: Drill, tmp_path: Path,
                                                                           flagship: LoadedScenario) -> None:
    """ic's dashboard: the lobby, then (when the facilitator starts) only ic's actions and no clock
    keys; ml's request pops the approval dialog here; `y` reaches ml; chat goes out; the end lands
    on the review with the revealed harm curve; `s` saves the journal and the report."""
    ic = await drill.player("ic", "Dana")
    ml = await drill.player("ml", "Max")
    app = DrillApp(ic, save_dir=tmp_path, wall=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: showing(app, BriefingScreen, "#lobby") and "Max ●" in str(
            app.screen.query_one("#lobby", Static).render()))
        lobby = str(app.screen.query_one("#lobby", Static).render())
        assert "Dana ●" in lobby and "Waiting for the facilitator" in lobby
        fac = await drill.facilitator()
        await fac.start()
        await until(pilot, lambda: on_dashboard(app))

        actions = app.screen.query_one("#action-list", OptionList)
        ids = [actions.get_option_at_index(i).id for i in range(actions.option_count)]
        assert ids == [c.action for c in choices_for("ic", ic.scenario, ic.view)]
        assert "tighten-filter" not in ids and "block-list" not in ids, "ml's own actions stay off"
        assert not app.screen.query_one("#role-tabs").display
        assert app.check_action("toggle_clock", ()) is False and app.check_action("end_drill", ()) is False
        footer_keys = {b.binding.key for b in app.screen.active_bindings.values()
                       if app.check_action(b.binding.action.removeprefix("app."), ()) is not False}
        assert "space" not in footer_keys and "e" not in footer_keys
        await pilot.press("space")
        assert not fac.clock.paused and not ic.errors, "a player's space does nothing"

        asked = await ml.submit(Command(role="ml", action="take-offline"))
        assert asked.kind == Kind.COMMAND
        await until(pilot, lambda: showing(app, ApprovalScreen, "#approval-question"))
        question = str(app.screen.query_one("#approval-question", Static).render())
        assert question.startswith("IC: approve “Take the assistant offline” (asked by ML)")
        await pilot.press("y")
        await ml.wait_until(lambda s: any(e.kind == Kind.ACTION_STARTED
                                          and e.payload["action"] == "take-offline" for e in s.received))
        assert isinstance(app.screen, DashboardScreen)
        await until(pilot, lambda: "⧗ Take the assistant offline" in str(
            app.screen.query_one("#incident-text", Static).render()))

        robin = await drill.player("ic", "Robin")
        await ml.submit(Command(role="ml", action="system-prompt-patch"))
        await until(pilot, lambda: showing(app, ApprovalScreen, "#approval-question"))
        await robin.wait_until(lambda s: bool(s.view.pending))
        request = next(iter(robin.view.pending))
        await robin.submit(Command(role="ic", action="deny", params={"request": request}))
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen))  # decided by the other IC

        await pilot.press("c")
        await pilot.press(*"on it")
        await pilot.press("enter")
        await ml.wait_until(lambda s: any(m["text"] == "on it" and m["from"] == "ic"
                                          for m in s.view.messages))
        await pilot.press("escape")
        assert app.focused is not None and app.focused.id == "action-list", "escape leaves the chat line"

        await end_through_hot_wash(fac)
        await until(pilot, lambda: showing(app, ReviewScreen, "#review-headline"))
        assert plots_this_runs_harm(app), "the revealed truth reaches a player"
        assert review_disagreements(app, server_result(drill)) == [], "a player sees the server's figures"
        await pilot.press("s")
        await pilot.pause()
    saved = {p.suffix: p for p in tmp_path.iterdir() if p.name.startswith("ttx-")}
    assert set(saved) == {".jsonl", ".md"}
    journal = read_journal(saved[".jsonl"])
    assert journal.header["policy"] == "team"
    assert any(e.kind == Kind.HARM for e in journal.events), "the saved journal holds the whole drill"
    assert replay(journal, flagship).matches, "ttx replay accepts a player's saved journal"
    assert saved[".md"].read_text() == render(build_report(saved[".jsonl"]), "md"), \
        "the full report, as ttx report makes it"


async def test_the_facilitator_steers_fires_injects_and_ends_the_drill(drill: Drill, tmp_path: Path) -> None:
    """The facilitator's enter starts the drill for everyone; space pauses; the white-cell list fires a
    scripted inject and sends an ad-hoc one to chosen roles; e ends it; both land on the review."""
    ic = await drill.player("ic", "Dana")
    ml = await drill.player("ml", "Max")
    fac = await drill.facilitator()
    app = DrillApp(fac, save_dir=tmp_path, wall=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: showing(app, BriefingScreen, "#lobby"))
        await pilot.press("enter")
        await until(pilot, lambda: on_dashboard(app))
        await ic.wait_until(lambda s: s.lobby is not None and s.lobby.started)
        assert app.screen.query_one("#signal-truth").display, "the facilitator sees the truth"
        await pilot.press("space")
        await ic.wait_until(lambda s: s.clock_state is not None and s.clock_state.paused)

        actions = app.screen.query_one("#action-list", OptionList)
        actions.highlighted = actions.get_option_index("fire_inject")
        await pilot.press("enter")
        await until(pilot, lambda: showing(app, InjectPickerScreen, "#inject-picker"))
        picker = app.screen.query_one("#inject-picker", OptionList)
        picker.highlighted = picker.get_option_index("confidence-drop")
        await pilot.press("enter")
        await ml.wait_until(lambda s: any(i.inject == "confidence-drop" for i in s.view.injects))
        assert not any(i.inject == "confidence-drop" for i in ic.view.injects)

        await until(pilot, lambda: on_dashboard(app))
        actions = app.screen.query_one("#action-list", OptionList)
        actions.highlighted = actions.get_option_index("adhoc_inject")
        await pilot.press("enter")
        await until(pilot, lambda: showing(app, ParamsScreen, "#field-subject"))
        app.screen.query_one("#field-channel", Select).value = "email"
        app.screen.query_one("#field-to", SelectionList).select("ic")
        app.screen.query_one("#field-subject", Input).value = "Board wants a call"
        await pilot.press("ctrl+s")
        await ic.wait_until(lambda s: any(i.subject == "Board wants a call" for i in s.view.injects))
        assert not any(i.subject == "Board wants a call" for i in ml.view.injects)

        await until(pilot, lambda: on_dashboard(app))
        await end_in_tui(pilot)
        await until(pilot, lambda: showing(app, ReviewScreen, "#review-headline"))
        assert plots_this_runs_harm(app), "the facilitator's review plots the harm"
        assert review_disagreements(app, server_result(drill)) == [], "the facilitator sees them too"
        await ic.wait_until(lambda s: s.reviewable)
        assert ic.view.result is not None and ic.view.harm, "players get the result and the truth"


async def test_every_seat_gets_the_reveal_at_the_end_and_a_late_joiner_too(
        drill: Drill, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At the end the server sends every seat the whole drill (in parts): players fold the truth into
    their view once, keep the journal to save, and see no secret hashes; a player who joins after the
    end gets it as well."""
    import simulator.team.server

    monkeypatch.setattr(simulator.team.server, "PAGE_BYTES", 2000)
    ml = await drill.player("ml", "Max")
    truth_told: list[Kind] = []
    ml.subscribe(lambda e: truth_told.append(e.kind) if e.kind in (Kind.HARM, Kind.EXPECTATION_MISSED,
                                                                     Kind.EXPECTATION_MET) else None)
    fac = await drill.facilitator()
    await fac.start()
    await fac.set_speed(3600.0)
    await fac.wait_until(lambda s: len(s.view.harm) >= 5)
    assert not ml.view.harm
    await end_through_hot_wash(fac)
    await ml.wait_until(lambda s: s.reviewable)
    events = drill.server.drill.events
    assert [e.seq for e in ml.journal] == [e.seq for e in events]
    assert len(ml.view.harm) == sum(1 for e in events if e.kind == Kind.HARM)
    assert len(truth_told) == sum(1 for e in events if e.kind in (Kind.HARM, Kind.EXPECTATION_MISSED,
                                                                   Kind.EXPECTATION_MET))
    assert not any(k.endswith("_sha256") for e in ml.journal for k in e.payload)
    assert ml.journal_header["policy"] == "team" and ml.journal_header["seed"] == 7

    told, harm = len(truth_told), list(ml.view.harm)
    reveals = ml.reveals
    await ml.drop()
    await ml.wait_until(lambda s: s.reveals > reveals)
    assert [e.seq for e in ml.journal] == [e.seq for e in events]
    assert len(truth_told) == told and ml.view.harm == harm, "a reveal sent again changes nothing"

    late = await drill.player("comms", "Sam")
    await late.wait_until(lambda s: s.reviewable)
    assert late.view.result == ml.view.result and late.view.harm == ml.view.harm
    saved = late.save(tmp_path / "late.jsonl")
    assert len(read_journal(saved).events) == len(events)


async def test_while_the_server_is_gone_the_header_says_reconnecting_and_the_clock_stops(
        drill: Drill, tmp_path: Path) -> None:
    """After ``kill -9`` of the host the player's header used to keep running the sim clock at 60×
    as if nothing happened; now it shows RECONNECTING… at the last time heard, and once the host is
    resumed it shows the server's clock (paused) again."""
    ml = await drill.player("ml", "Max")
    fac = await drill.facilitator()
    app = DrillApp(ml, save_dir=tmp_path, wall=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await fac.start()
        await until(pilot, lambda: on_dashboard(app))
        await fac.wait_until(lambda s: s.view.now > 60)
        port = int(drill.url.rsplit(":", 1)[1])
        await drill.server.stop()
        await until(pilot, lambda: not ml.connected)
        app.show_header()
        header = str(app.screen.query_one(DrillHeader).render())
        assert "RECONNECTING…" in header and "▶" not in header
        last = ml.view.now
        await pilot.pause(0.3)
        app.show_header()
        assert clock(last) in str(app.screen.query_one(DrillHeader).render()), "the clock does not run on"

        drill.server = DrillServer.resume(tmp_path / "drill.jsonl")  # the fixture stops this one
        await drill.server.start("127.0.0.1", port)
        await until(pilot, lambda: ml.connected)
        app.show_header()
        header = str(app.screen.query_one(DrillHeader).render())
        assert "PAUSED" in header and "RECONNECTING" not in header


def lobby_text(app: DrillApp) -> str:
    """The lobby panel of the briefing, as the player reads it."""
    return str(app.screen.query_one("#lobby", Static).render())


async def test_a_player_waiting_in_the_lobby_sees_the_host_go_and_come_back(
        drill: Drill, tmp_path: Path) -> None:
    """A player on the briefing used to see "Dana ● ← you" and "Waiting for the facilitator" while the
    host was down: nothing said the server was gone. Now the lobby says it is as last heard and that
    the seat is reconnecting, and once the host is resumed it is the live lobby again."""
    ic = await drill.player("ic", "Dana")
    app = DrillApp(ic, save_dir=tmp_path, wall=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: showing(app, BriefingScreen, "#lobby") and "Dana" in lobby_text(app))
        assert "Waiting for the facilitator" in lobby_text(app)
        port = int(drill.url.rsplit(":", 1)[1])
        await drill.server.stop()
        await until(pilot, lambda: "reconnecting…" in lobby_text(app))
        shown = lobby_text(app)
        assert "Lobby (as last heard)" in shown and "Waiting for the facilitator" not in shown

        drill.server = DrillServer.resume(tmp_path / "drill.jsonl")  # the fixture stops this one
        await drill.server.start("127.0.0.1", port)
        await until(pilot, lambda: "Waiting for the facilitator" in lobby_text(app))
        assert "as last heard" not in lobby_text(app) and "Dana ●" in lobby_text(app)


async def test_a_lobby_heard_before_the_briefing_is_built_is_the_one_it_draws(drill: Drill) -> None:
    """On a loaded terminal a lobby frame can arrive between the briefing being pushed and being
    composed; redrawing it then raised NoMatches ('#lobby') in the player's app. Now the briefing
    keeps what it heard and draws that when it is built."""
    ic = await drill.player("ic", "Dana")
    briefing = BriefingScreen(ic.scenario, ic.seat, team=True)
    briefing.show_lobby(ic.lobby, Link.RECONNECTING)
    app: App[None] = App()
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(briefing)
        await until(pilot, lambda: showing(app, BriefingScreen, "#lobby"))
        shown = str(briefing.query_one("#lobby", Static).render())
        assert "Lobby (as last heard)" in shown and "Dana" in shown and "reconnecting…" in shown


async def test_a_player_whose_host_never_comes_back_is_told_to_join_again(
        drill: Drill, tmp_path: Path) -> None:
    """Once reconnecting gives up, the lobby says the seat is disconnected and what to do."""
    ic = await RemoteSession.open(drill.url, name="Dana", role="ic", code=CODE, timeout=2.0,
                                  reconnect_for=0.3)
    drill.sessions.append(ic)
    app = DrillApp(ic, save_dir=tmp_path, wall=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: showing(app, BriefingScreen, "#lobby") and "Dana" in lobby_text(app))
        await drill.server.stop()
        await until(pilot, lambda: "Disconnected" in lobby_text(app))
        assert "join again with the same code and role" in lobby_text(app).replace("\n", " ")
