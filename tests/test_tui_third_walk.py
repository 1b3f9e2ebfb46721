"""What a third first-time walk found at 80×24 (the hot seat, the host and a joined seat): a stray
Enter cuts no service, notices leave the footer's keys in view, the header keeps its labels at 80
columns, the white cell's long choices wrap under their first word, and a TLS seat that cannot
connect says why. Keys in through Pilot, screens out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.notifications import Notification
from textual.widgets import OptionList, Static
from textual.widgets._toast import Toast
from websockets.asyncio.server import serve

import tui
from simulator.engine.session import Link, LocalSession
from simulator.engine.view import DrillView
from simulator.format.loader import LoadedScenario, load_scenario
from simulator.format.scenario import Scenario
from simulator.format.taxonomy import FACILITATOR
from simulator.team.remote import RemoteSession
from simulator.team.server import DrillServer
from simulator.team.tls import generated_identity, server_context
from tests.conftest import take, until
from tui.app import DrillApp
from tui.notices import notices_to_drop
from tui.screens.dashboard import DashboardScreen
from tui.screens.dialogs import ApprovalScreen, CutServiceScreen
from tui.widgets.actions import ActionPanel
from tui.widgets.footer import DrillFooter
from tui.widgets.header import DrillHeader

SMALL = (80, 24)


def drill_app(flagship: LoadedScenario, tmp_path: Path) -> DrillApp:
    """The flagship at seed 7, clock paused, frozen wall clock, saving into ``tmp_path``."""
    return DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)


def taken(app: DrillApp) -> set[str]:
    """Actions requested, under way or in effect in the drill."""
    view = app.live().view
    return ({a for a, _, _ in view.in_flight.values()} | {a for _, a, _, _ in view.effective}
            | {p.action for p in view.pending.values()})


# --- 1. a stray Enter cuts no service -------------------------------------------------------------


async def test_two_enters_after_the_briefing_ask_before_the_kill_switch(flagship: LoadedScenario,
                                                                        tmp_path: Path) -> None:
    """Enter starts the drill and a second Enter landed on IC's first action, the kill switch, which
    took the assistant offline at once. Now it asks, saying what it cuts; a third Enter goes back."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, CutServiceScreen)
        question = str(app.screen.query_one("#cut-question", Static).render())
        assert question == "IC: Take the assistant offline?"
        consequence = str(app.screen.query_one("#cut-consequence", Static).render())
        assert "turns off Atlas chat assistant (10,000 requests/s)" in consequence
        assert taken(app) == set(), "nothing is cut while the question is open"

        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert taken(app) == set(), "a third Enter answers no"


async def test_enter_then_t_takes_the_kill_switch(flagship: LoadedScenario, tmp_path: Path) -> None:
    """An experienced player takes it in two keys: Enter on the action, then t (take it)."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "enter", "t")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert taken(app) == {"take-offline"}


async def test_a_y_meant_for_another_dialog_cuts_no_service(flagship: LoadedScenario, tmp_path: Path) -> None:
    """A stray Enter opened the kill switch's question, and the player's ``e`` ``y`` (End the drill?)
    took the assistant offline: ``y`` is not this dialog's key, so it only says which keys are."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "enter", "e", "y")
        await pilot.pause()
        assert isinstance(app.screen, CutServiceScreen) and taken(app) == set()
        said = str(app.screen.query_one("#cut-error", Static).render())
        assert said == "IC: Take the assistant offline? t takes it, n goes back (y answers other dialogs)."
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen) and taken(app) == set()


async def test_an_action_that_cuts_nothing_is_taken_at_once(flagship: LoadedScenario, tmp_path: Path) -> None:
    """Blocking known prompts refuses almost nobody: Enter takes it with no question."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "r")
        await take(app, pilot, "block-list")
        assert isinstance(app.screen, DashboardScreen)
        assert taken(app) == {"block-list"}


async def test_the_approver_of_a_kill_switch_sees_what_it_cuts_and_enter_does_not_approve(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """ML asks to take the assistant offline (the request cuts nothing); IC's approval dialog says
    what approving cuts, and a stray Enter there leaves the request waiting."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "r")
        await take(app, pilot, "take-offline")
        assert isinstance(app.screen, ApprovalScreen)
        body = str(app.screen.query_one("#approval-consequence", Static).render())
        assert "turns off Atlas chat assistant (10,000 requests/s)" in body
        await pilot.press("enter")
        await pilot.pause()
        assert [p.action for p in app.live().view.pending.values()] == ["take-offline"]
        assert not app.live().view.in_flight, "Enter did not approve"


# --- 2. notices leave the footer in view ------------------------------------------------------------


async def test_notices_stack_two_high_and_leave_the_footer_s_keys_in_view(flagship: LoadedScenario,
                                                                          tmp_path: Path) -> None:
    """Four actions as ML (two asking IC's approval) raised six notices that stacked up the right
    half of an 80×24 screen and over the footer; now two show at once, the newest, above the footer."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL, notifications=True) as pilot:
        await pilot.press("enter", "r")
        for action in ("block-list", "tighten-filter", "classifier-update", "system-prompt-patch"):
            await take(app, pilot, action)
            if isinstance(app.screen, ApprovalScreen):
                await pilot.press("y")
                await pilot.pause()
        await pilot.pause()
        toasts = [t.region for t in app.screen.query(Toast)]
        footer = app.screen.query_one(DrillFooter).region
        newest = [str(t.render()) for t in app.screen.query(Toast)][-1]
    assert len(toasts) == 2, toasts
    assert all(t.bottom <= footer.y for t in toasts), "no notice covers the footer's keys"
    assert "Patch the system prompt" in newest


def test_an_error_notice_outlasts_newer_information() -> None:
    """A refusal or a lost connection stays up while routine notices come and go."""
    error = Notification("refused: needs a declared incident", "Refused", "error", 8, raised_at=1.0e12)
    routine = [Notification(f"notice {i}", "Requested", "information", 5, raised_at=1.0e12 + i)
               for i in range(1, 3)]
    assert notices_to_drop([error, *routine]) == routine
    assert notices_to_drop([error, routine[1]]) == [routine[1]]
    assert notices_to_drop([routine[1]]) == []
# --- 3. the header at 80 columns ------------------------------------------------------------------


async def test_at_80_columns_the_flagship_header_keeps_its_real_time(flagship: LoadedScenario,
                                                                     tmp_path: Path) -> None:
    """At 80 columns the header dropped "real 0:00:00" (the facilitator's time box) to keep
    "acting as Incident commander"; the role tabs name the role too, so the role is shortened."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter")
        app.show_header()
        line = str(app.screen.query_one(DrillHeader).render()).rstrip()
    assert line == " Jailbreak wave │ sim 0:00:00 / 4:00:00 │ PAUSED │ real 0:00:00 │ acting as IC"


async def test_at_80_columns_a_lost_server_and_a_long_title_keep_the_real_time(tmp_path: Path) -> None:
    """A five-day drill's clock (/ 5d), the reconnecting state and the longest title: the title
    is cut, then left out (it is the tooltip); the clock, the real time and the role stay."""
    loaded = load_scenario("sycophancy-drift")
    app = DrillApp(LocalSession(loaded, seed=1), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter")
        header = app.screen.query_one(DrillHeader)
        for role, link in (("ic", None), ("comms", "RECONNECTING…")):
            header.show(loaded.scenario.title, 0.0, loaded.scenario.duration, 60.0, False, 0.0, role, link)
            line = str(header.render()).rstrip()
            assert len(line) <= 80 and "real 0:00:00" in line and " / 5d │" in line, line
            assert header.tooltip == "The assistant that agrees with everything"
            if link is None:
                assert line.startswith(" The assistant that ag…"), "5d leaves the title more room"
                assert line.endswith("▶ 60× │ real 0:00:00 │ acting as IC")
            else:
                assert line == (" The assist… │ sim 0:00:00 / 5d │ RECONNECTING… │ real 0:00:00 │ "
                                "acting as Comms")


# --- 4. wrapped action rows hang under their first word ----------------------------------------------


class WhiteCellList(App[None]):
    """The facilitator's action panel alone, as big as the dashboard gives its list at 80×24."""

    CSS_PATH = Path(tui.__file__).with_name("ttx.tcss")

    def __init__(self, scenario: Scenario) -> None:
        super().__init__()
        self.panel = ActionPanel(scenario, [FACILITATOR], FACILITATOR, id="actions")

    def compose(self) -> ComposeResult:
        with Vertical(id="right"):
            yield self.panel

    def on_mount(self) -> None:
        right = self.query_one("#right").styles
        right.width, right.height = 33, 9  # the dashboard's list at 80×24: it scrolls
        self.panel.show(DrillView(seat=FACILITATOR), FACILITATOR)


def rows_of(options: OptionList) -> list[list[str]]:
    """Each option's lines, as plain text."""
    return [str(options.get_option_at_index(i).prompt).split("\n") for i in range(options.option_count)]


async def test_the_white_cell_s_wrapped_choices_hang_under_their_first_word(
        flagship: LoadedScenario) -> None:
    """At 80×24 "Jump to the next inject or" wrapped to "question (n)" flush left, read as a choice
    of its own; every line after a row's first is now indented, and none is wider than the list."""
    app = WhiteCellList(flagship.scenario)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        options = app.panel.query_one("#action-list", OptionList)
        width = options.scrollable_content_region.width
        rows = rows_of(options)
    assert 20 < width < 40
    assert ["Jump to the next inject or", "  question (n)"] in rows
    assert all(line.startswith("  ") for row in rows for line in row[1:])
    assert all(len(line) <= width for row in rows for line in row)


async def test_a_player_s_wrapped_action_hangs_too_and_rewraps_when_wider(flagship: LoadedScenario,
                                                                          tmp_path: Path) -> None:
    """IC's "Declare the incident and name a commander" hangs at 80 columns and is one line at 120."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "enter", "n")  # the kill switch's question: no
        await pilot.pause()
        declare = app.screen.query_one("#action-list", OptionList).get_option("declare_incident")
        assert str(declare.prompt) == "Declare the incident and name a\n  commander"
        await pilot.resize_terminal(120, 35)
        await pilot.pause()
        declare = app.screen.query_one("#action-list", OptionList).get_option("declare_incident")
        assert str(declare.prompt) == "Declare the incident and name a commander"


# --- 5. a TLS seat that cannot reconnect says why -----------------------------------------------------


async def test_a_pinned_seat_whose_host_comes_back_on_plain_ws_says_the_tls_handshake_failed(
        tmp_path: Path, flagship: LoadedScenario) -> None:
    """The host of a wss:// drill came back serving plain ws:// on the same port: the pinned seat's
    header said RECONNECTING… and nothing else until it gave up. Now a notice says the TLS handshake
    failed and what that likely means, and stays up while the seat keeps trying."""
    journal = tmp_path / "drill.jsonl"
    identity = generated_identity(journal)
    server = DrillServer.host(flagship, journal, seed=7, code="K7Q2MD", facilitator_token="white-cell")
    port = await server.start("127.0.0.1", 0, tls=server_context(identity))
    seat = await RemoteSession.open(f"wss://127.0.0.1:{port}", name="Max", role="ml", code="K7Q2MD",
                                    pin=identity.pin, reconnect_for=30.0)
    app = DrillApp(seat, save_dir=tmp_path, wall=lambda: 0.0)
    notes: list[tuple[str, str, float | None]] = []

    def notify(message: str, *, title: str = "", timeout: float | None = None, **_: Any) -> None:
        notes.append((title, message, timeout))

    app.notify = notify  # type: ignore[method-assign]
    try:
        async with app.run_test(size=SMALL) as pilot:
            await server.stop()
            async with serve(lambda ws: ws.close(), "127.0.0.1", port):  # plain ws:// there now
                await until(pilot, lambda: any(title == "Reconnecting" for title, _, _ in notes))
                assert seat.link == Link.RECONNECTING
    finally:
        await seat.close()
    told = [(message, timeout) for title, message, timeout in notes if title == "Reconnecting"]
    assert len(told) == 1, "said once, not on every attempt"
    message, timeout = told[0]
    assert message.startswith(f"the TLS handshake with 127.0.0.1:{port} failed")
    assert "the host may be stopping or starting again; still trying, for 30s at most" in message
    assert "If it came back serving plain ws://, join again with the URL its banner prints" in message
    assert timeout == 30.0, "shown while the seat keeps trying"
