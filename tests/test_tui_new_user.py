"""The drill TUI as a first-time player meets it (issue 12): quitting asks first, forms take typing
where it belongs and refuse in words, findings are shown, notices say when things take effect, and
nothing a player needs is cut off at 80×24 or 120×35. Keys in through Pilot, screens out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.binding import Binding
from textual.widgets import Input, OptionList, Select, Static

from simulator.engine.findings import FINDINGS_INJECT
from simulator.engine.session import LocalSession
from simulator.format.commands import Command
from simulator.format.durations import clock
from simulator.format.loader import LoadedScenario
from simulator.team.remote import RemoteSession
from simulator.team.server import DrillServer
from tests.conftest import end_in_tui, take, until
from tui.app import DrillApp
from tui.history import HistoryApp
from tui.screens.briefing import BriefingScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.dialogs import ApprovalScreen, ParamsScreen, QuitScreen, TickList
from tui.screens.help import HelpScreen, binding_rows
from tui.screens.review import ReviewScreen
from tui.widgets.actions import ActionPanel
from tui.widgets.footer import DrillFooter, footer_entries, footer_rows
from tui.widgets.incident import IncidentPanel
from tui.widgets.signals import SignalRow

Notes = list[tuple[str, str]]


def drill_app(flagship: LoadedScenario, tmp_path: Path) -> DrillApp:
    """The flagship at seed 7, clock paused, frozen wall clock, saving into ``tmp_path``."""
    return DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)


def record_notices(app: DrillApp) -> Notes:
    """Keep every notice the app shows as (title, text)."""
    notes: Notes = []

    def notify(message: str, *, title: str = "", **_: Any) -> None:
        notes.append((title, message))

    app.notify = notify  # type: ignore[method-assign]
    return notes


def text(app: DrillApp, selector: str) -> str:
    """What a static widget of the current screen shows, as plain text."""
    return str(app.screen.query_one(selector, Static).render())


# --- 1. quitting ----------------------------------------------------------------------------


async def test_q_during_a_drill_asks_first_and_n_keeps_playing(flagship: LoadedScenario,
                                                               tmp_path: Path) -> None:
    """`q` used to quit a running drill at once with nothing saved; now it asks, says where `e` leads
    (the flagship's hot wash, then the review), and `n` stays."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter", "n", "q")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)
        question = text(app, "#quit-question")
        assert question.startswith("Quit? The drill is still running and nothing is saved")
        assert "e ends it, asks its hot wash, then opens the review" in question and "s saves" in question
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen) and app.is_running
        await pilot.press("q", "y")
        await pilot.pause()
        assert not app.is_running, "y quits"


async def test_q_on_an_unsaved_review_warns_and_after_saving_quits_at_once(flagship: LoadedScenario,
                                                                        tmp_path: Path) -> None:
    """The review's `q` warns while the drill is unsaved; once `s` has saved it, `q` just quits."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter", "n")
        await end_in_tui(pilot)
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, QuitScreen)
        assert text(app, "#quit-question").startswith("Quit? The drill is not saved — n, then s saves")
        await pilot.press("n", "s")
        await pilot.pause()
        assert sorted(p.suffix for p in tmp_path.iterdir()) == [".jsonl", ".md"]
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_quitting_the_briefing_asks_nothing(flagship: LoadedScenario, tmp_path: Path) -> None:
    """Before the clock starts there is nothing to lose: `q` quits at once."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


# --- 2. parameter forms ---------------------------------------------------------------------


async def test_the_regulator_form_asks_for_the_authority_the_scenarios_clock_reports_to(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """Legal opens "Notify the regulator": it used to offer "data protection authority" (the params
    model's default) with the focus on the summary, wrong for the flagship's EU AI Act Art. 73
    report. The authority starts blank and focused, its hint names the scenario's clock; typed at
    once, Enter moves to the summary, and Enter on the last field sends both."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        app.action_next_role()
        while app.role != "legal":
            app.action_next_role()
        await pilot.pause()
        await take(app, pilot, "notify_regulator")
        assert isinstance(app.screen, ParamsScreen)
        authority = app.screen.query_one("#field-authority", Input)
        assert app.focused is authority and authority.value == ""
        assert authority.placeholder == (
            "the authority for: EU AI Act Art. 73 report (widespread infringement, 2 days)")
        await pilot.press(*"market surveillance authority", "enter")
        assert app.focused is not None and app.focused.id == "field-summary"
        await pilot.press(*"Serious incident, EU users affected", "enter")
        await pilot.pause()
        assert app.session is not None
        command = next(e for e in app.session.drill.events  # type: ignore[attr-defined]
                       if e.kind == "command" and e.payload["action"] == "notify_regulator")
        assert command.payload["params"] == {"authority": "market surveillance authority",
                                             "summary": "Serious incident, EU users affected"}


async def test_a_form_typed_in_one_burst_fills_each_field_and_nothing_reaches_the_dashboard(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """The regulator's form typed ahead in one burst (``authority⏎summary⏎`` and more keys after):
    each field gets its own words, and the keys after the last Enter stay in the form (they used to
    reach the dashboard as keys: ``e`` asked to end the drill)."""
    from tests.test_typeahead import burst

    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        app.post_message(ActionPanel.ActionRequested("legal", "notify_regulator"))
        await pilot.pause()
        assert isinstance(app.screen, ParamsScreen)
        burst(app, "AI Office⏎Reported⏎rte")
        for _ in range(8):
            await pilot.pause()
        assert app.session is not None
        command = next(e for e in app.session.drill.events  # type: ignore[attr-defined]
                       if e.kind == "command" and e.payload["action"] == "notify_regulator")
        assert command.payload["params"] == {"authority": "AI Office", "summary": "Reported"}
        assert isinstance(app.screen, DashboardScreen), "no End confirmation from the e typed ahead"


async def test_tab_follows_the_form_and_a_cleared_required_field_is_refused_in_words(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """From the authority, tab goes to the summary, then Submit, and shift+tab back; submitting with
    the authority empty is refused with "Fill in “authority”", never pydantic's text (nor the model's
    default authority, sent silently), and the field gets the focus back."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        app.post_message(ActionPanel.ActionRequested("legal", "notify_regulator"))
        await pilot.pause()
        assert app.focused is not None and app.focused.id == "field-authority"
        await pilot.press("tab")
        assert app.focused is not None and app.focused.id == "field-summary"
        await pilot.press("tab")
        assert app.focused.id == "submit", "tab goes on in the form's order"
        await pilot.press("shift+tab", "shift+tab")
        assert app.focused.id == "field-authority"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, ParamsScreen), "refused in the form"
        error = text(app, "#params-error")
        assert error == "Fill in “authority”: it is required."
        assert app.focused.id == "field-authority"


async def test_a_choice_with_no_default_must_be_picked(flagship: LoadedScenario, tmp_path: Path) -> None:
    """"Set severity" opens on the level (blank, not silently the first one); submitting it blank says
    to choose one."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        await take(app, pilot, "set_severity")
        assert app.focused is not None and app.focused.id == "field-level"
        assert app.screen.query_one("#field-level", Select).value is Select.NULL
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert text(app, "#params-error") == "Choose “level”: it is required."


async def test_a_form_with_everything_prefilled_submits_on_enter(flagship: LoadedScenario,
                                                                 tmp_path: Path) -> None:
    """"Declare the incident" has its commander filled in (IC): Submit has the focus, Enter declares."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        await take(app, pilot, "declare_incident")
        assert app.focused is not None and app.focused.id == "submit"
        await pilot.press("enter")
        await pilot.pause()
        assert app.session is not None and app.session.view.declared_at is not None


# --- 3. investigation findings ----------------------------------------------------------------


async def test_findings_reach_the_investigator_s_feed_and_the_incident_panel(flagship: LoadedScenario,
                                                                           tmp_path: Path) -> None:
    """ML investigates; when the findings come in, a ticket is in the feed for ML and the incident
    panel lists the contributing factors and what the logs show (it used to say "findings in")."""
    app = drill_app(flagship, tmp_path)
    notes = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter", "n", "n", "r")
        await take(app, pilot, "investigate")
        session = app.session
        assert session is not None and session.view.investigating_until is not None
        due = clock(session.view.investigating_until)
        assert ("Started", f"ML: investigation started — findings at {due} (in 40m)") in notes
        while session.view.findings is None:
            await pilot.press("n")
        await pilot.pause()
        feed = [i for i in session.view.injects if i.inject == FINDINGS_INJECT]
        assert [i.to for i in feed] == [("ml",)]
        incident = text(app, "#incident-text")
        assert f"Findings (ML, {due})" in incident and "Logs complete" in incident
        assert "recall ~0.3 on this family" in incident.replace("\n", " ")
        assert any(title == "Investigation findings" for title, _ in notes)


# --- 4. the ad-hoc inject form ------------------------------------------------------------------


async def test_the_ad_hoc_form_says_in_words_what_is_missing_and_draws_empty_boxes(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """Submitting with no roles ticked says to choose at least one (it used to show "to: List should
    have at least 1 item after validation, not 0"); an unticked role's box is empty, a ticked one is
    marked; the notice names the inject and its roles, not "facilitator: adhoc_inject"."""
    app = DrillApp(LocalSession(flagship, seed=7, seat="facilitator"), wall=lambda: 0.0, start_paused=True,
                   save_dir=tmp_path)
    notes = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        await take(app, pilot, "adhoc_inject")
        assert isinstance(app.screen, ParamsScreen)
        roles = app.screen.query_one("#field-to", TickList)
        app.screen.query_one("#field-channel", Select).value = "email"
        app.screen.query_one("#field-subject", Input).value = "Board wants a call"
        await pilot.press("ctrl+s")
        await pilot.pause()
        error = text(app, "#params-error")
        assert error == "Choose at least one for “to” (space ticks the highlighted one)."
        assert "List should have" not in error
        assert roles.render_line(0).text.startswith("▐ ▌"), "nobody ticked: empty boxes"
        roles.select("ic")
        await pilot.pause()
        assert roles.render_line(0).text.startswith("▐X▌") and roles.render_line(1).text.startswith("▐ ▌")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert ("Sent", "Ad-hoc inject “Board wants a call” sent to IC") in notes
        assert not any("adhoc_inject" in note for _, note in notes)


# --- 5. nothing cut ------------------------------------------------------------------------------


def footer_text(app: DrillApp) -> list[str]:
    """The footer's lines as laid out for the screen's width."""
    footer = app.screen.query_one(DrillFooter)
    rows = footer_rows(footer_entries(app.screen.active_bindings, app), footer.size.width)
    return [" ".join(f"{e.display} {e.description}".strip() for e in row) for row in rows]


async def test_at_120_columns_action_rows_and_the_footer_keep_everything(flagship: LoadedScenario,
                                                                        tmp_path: Path) -> None:
    """120×35 with the injects focused: the footer keeps every key and still ends in "d Theme q Quit"
    (it dropped them; with the discussion's "w Questions" it wraps to a second line); every action
    row shows its whole detail (it was cut at "needs …")."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("enter", "n", "n", "r", "i")
        await pilot.pause()
        lines = footer_text(app)
        assert lines[0].startswith("f Filter") and lines[-1].endswith("d Theme q Quit")
        assert "w Questions" in " ".join(lines) and all(len(line) <= 120 for line in lines)
        actions = app.screen.query_one("#action-list", OptionList)
        offline = str(actions.get_option("take-offline").prompt)
        assert offline == "Take the assistant offline\n  stage 1 · 5m · needs IC approval"


async def test_at_80_by_24_the_footer_wraps_and_the_signal_keeps_its_reading(flagship: LoadedScenario,
                                                                          tmp_path: Path) -> None:
    """80×24: the footer takes two lines rather than dropping keys, and the guard-confidence row keeps
    its reading and state (it was cut at "mean c…"), dropping only its unit."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "n", "n")
        await pilot.pause()
        lines = footer_text(app)
        assert len(lines) == 2 and all(len(line) <= 80 for line in lines)
        assert lines[-1].endswith("q Quit")
        row = app.screen.query_one("#signal-guard_confidence", SignalRow)
        label = str(row.query_one("Label", Static).render())
        assert app.session is not None
        reading = app.session.view.signals["guard_confidence"][-1][1]
        assert label.rstrip().endswith(f"{reading:.3f}  ok") and len(label.rstrip()) <= row.size.width


async def test_the_incident_panel_says_how_much_is_out_of_sight(flagship: LoadedScenario,
                                                                tmp_path: Path) -> None:
    """At 80×24 a declared incident with an action under way is taller than the panel: its border says
    "↓ N more" (it used to hide the last line silently); `m` then ↓ scrolls and the hint follows."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "n", "n")
        await take(app, pilot, "declare_incident")
        await pilot.press("enter")
        assert app.session is not None
        await app.session.submit(Command(role="ml", action="block-list"))
        await app.session.submit(Command(role="ml", action="tighten-filter"))
        app.render_view()
        await pilot.pause()
        panel = app.screen.query_one(IncidentPanel)
        await pilot.pause()
        hint = str(panel.border_subtitle)
        assert hint.startswith("↓ ") and "more" in hint
        await pilot.press("m", "end")
        await pilot.pause()
        assert str(panel.border_subtitle).startswith("↑ ")


async def test_the_briefing_says_more_is_below_until_the_reader_gets_there(flagship: LoadedScenario,
                                                                          tmp_path: Path) -> None:
    """At 80×24 the briefing's objectives and controls are below the fold: a line above Start says so,
    and goes once the end is reached."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: text(app, "#briefing-more").startswith("↓ more below"))
        await pilot.press("end")
        await until(pilot, lambda: text(app, "#briefing-more") == "")


async def test_at_80_columns_people_are_named_short_and_the_clocks_stay_in_view(flagship: LoadedScenario,
                                                                              tmp_path: Path) -> None:
    """The load rows fit one line each ("IC    ░░░…") and the clocks below are not pushed out of sight."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "p")
        await pilot.pause()
        people = app.screen.query_one("#people-list", OptionList)
        assert str(people.get_option_at_index(0).prompt) == "IC    ░░░░░░░░░░ 0.00"
        clocks = app.screen.query_one("#clocks", Static)
        assert clocks.region.bottom <= people.parent.region.bottom  # type: ignore[union-attr]
        assert "No clock running yet" in text(app, "#clocks")


# --- 6. the countdown ---------------------------------------------------------------------------


async def test_the_eta_counts_down_with_the_clock_between_events(flagship: LoadedScenario,
                                                                 tmp_path: Path) -> None:
    """An action's "in 0:15:00" follows the clock, not the last event: 83 sim seconds later, with no
    event in between, it says "in 0:13:37"."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter", "n", "n")
        session = app.session
        assert isinstance(session, LocalSession)
        await session.submit(Command(role="ml", action="block-list"))
        app.render_view()
        eta = clock(next(iter(session.view.in_flight.values()))[2])
        assert f"ETA {eta} (in 0:15:00)" in text(app, "#incident-text")
        events = len(session.drill.events)
        session.clock.jump(session.clock.now() + 83)
        app.show_header()
        assert len(session.drill.events) == events, "no event in between"
        assert f"ETA {eta} (in 0:13:37)" in text(app, "#incident-text")


# --- 7. notices and the speed keys ----------------------------------------------------------------


async def test_a_slow_action_says_when_it_takes_effect_and_then_that_it_did(flagship: LoadedScenario,
                                                                          tmp_path: Path) -> None:
    """The block list takes 15 minutes: the notice says "requested — in effect at H:MM:SS", not "Done";
    a second notice comes when it is in effect."""
    app = drill_app(flagship, tmp_path)
    notes = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter", "n", "n", "r")
        await take(app, pilot, "block-list")
        assert app.session is not None
        eta = clock(next(iter(app.session.view.in_flight.values()))[2])
        assert ("Requested", f"ML: Block known jailbreak prompts requested — in effect at {eta} (in 15m)") \
            in notes
        assert not any(title == "Done" for title, _ in notes)
        await pilot.press("n", "n")
        await pilot.pause()
        assert any(title == "In effect" and note.startswith("Block known jailbreak prompts (stage 1, ML)")
                   for title, note in notes)


async def test_a_speed_key_changes_the_speed_only(flagship: LoadedScenario, tmp_path: Path) -> None:
    """`3` while paused sets 60× and leaves the clock paused (it used to start it)."""
    app = drill_app(flagship, tmp_path)
    notes = record_notices(app)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter", "3")
        await pilot.pause()
        assert app.session is not None
        assert app.session.clock.paused and app.session.clock.speed == 60.0
        assert ("Clock", "Speed 60× — the clock stays paused; space runs it.") in notes


# --- 8. team seats ------------------------------------------------------------------------------


@pytest.fixture
async def server(tmp_path: Path, flagship: LoadedScenario) -> AsyncIterator[tuple[DrillServer, str]]:
    """A team drill on a free loopback port."""
    made = DrillServer.host(flagship, tmp_path / "drill.jsonl", seed=7, code="K7Q2MD",
                            facilitator_token="white-cell", speed=60.0)
    port = await made.start("127.0.0.1", 0)
    yield made, f"ws://127.0.0.1:{port}"
    await made.stop()


async def test_team_chat_names_the_person_and_their_role(server: tuple[DrillServer, str],
                                                         tmp_path: Path) -> None:
    """In a team drill the chat says who wrote ("Max (ML)"), not only the role."""
    _, url = server
    ic = await RemoteSession.open(url, name="Dana", role="ic", code="K7Q2MD", timeout=5.0)
    ml = await RemoteSession.open(url, name="Max", role="ml", code="K7Q2MD", timeout=5.0)
    fac = await RemoteSession.open(url, name="Lee", facilitator_token="white-cell", timeout=5.0)
    try:
        await fac.start()
        await ml.chat("pulling it offline, ETA 5 min")
        await ic.wait_until(lambda s: bool(s.view.messages))
        app = DrillApp(ic, save_dir=tmp_path, wall=lambda: 0.0)
        async with app.run_test(size=(100, 30)) as pilot:
            await until(pilot, lambda: isinstance(app.screen, BriefingScreen))
            await pilot.press("enter")  # the drill is running: enter opens the dashboard
            await until(pilot, lambda: isinstance(app.screen, DashboardScreen)
                        and bool(app.screen.query("#chat-log")))
            await pilot.press("c")
            await until(pilot, lambda: "Max (ML)" in text(app, "#chat-log"))
            assert "Max (ML) [war room] pulling it offline" in text(app, "#chat-log")
    finally:
        for session in (ic, ml, fac):
            await session.close()



# --- 6. the second walk at 80×24 -----------------------------------------------------------------


async def test_a_denial_notice_names_what_was_denied(flagship: LoadedScenario, tmp_path: Path) -> None:
    """ML asks to take the assistant offline and IC presses n: the notice said "IC denied request #1"
    and nothing more; it names the action."""
    app = drill_app(flagship, tmp_path)
    notes = record_notices(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "r")
        await take(app, pilot, "take-offline")
        assert isinstance(app.screen, ApprovalScreen)
        await pilot.press("n")
        await pilot.pause()
        assert ("Decided", "IC denied request #1: Take the assistant offline") in notes


async def test_every_key_in_the_help_reads_as_an_action(flagship: LoadedScenario, tmp_path: Path) -> None:
    """`?` listed "r Role", "u Update", "a Approvals", "e End", "t Truth": bare words. Each row of the
    help comes from its binding (the tooltip, else the footer's word) and says what the key does."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        rows = dict(binding_rows(app.screen))
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert app.screen.rows == list(rows.items()), "the help lists the bindings, in one place"
    assert rows["r"] == "Act as the next role (its actions fill the list)"
    assert rows["e"] == "End the drill (after a confirmation): its hot wash if it has one, then the review"
    bare = [f"{key} {words}" for key, words in rows.items() if len(words.split()) < 3]
    assert bare == [], "every key says what it does"


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_the_chat_placeholder_fits_its_line_at_80_columns(flagship: LoadedScenario, tmp_path: Path,
                                                                theme: str) -> None:
    """At 80×24 the chat line read "message, enter " (cut); its hint fits the line, in either theme."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.theme = theme
        await pilot.press("enter", "c")
        await pilot.pause()
        line = app.screen.query_one("#chat-input", Input)
        assert app.focused is line
        shown = "".join(s.text for s in line.render_line(0)).rstrip()
        assert shown == line.placeholder and len(line.placeholder) <= line.content_region.width


async def test_enter_on_a_chosen_drop_down_moves_to_the_next_field(flagship: LoadedScenario,
                                                                   tmp_path: Path) -> None:
    """"Classify the harm": Enter opens the blank harm type, ↓ Enter picks one; Enter again went back
    into the menu. Now it moves on to the hazard, as Enter in a text field does."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await take(app, pilot, "classify")
        harm = app.screen.query_one("#field-harm_type", Select)
        assert app.focused is harm
        await pilot.press("enter")
        assert harm.expanded, "a blank drop-down opens on enter: there is nothing to move on with"
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.focused is harm and not harm.expanded and harm.value is not Select.NULL
        await pilot.press("enter")
        await pilot.pause()
        assert not harm.expanded
        assert app.focused is not None and app.focused.id == "field-hazard"


async def test_enter_on_the_last_field_a_chosen_drop_down_submits(flagship: LoadedScenario,
                                                                  tmp_path: Path) -> None:
    """"Declare the incident" has one field, the commander (IC chosen): Enter on it declares, as Enter
    in a form's last text field submits."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await take(app, pilot, "declare_incident")
        await pilot.press("shift+tab")
        assert app.focused is not None and app.focused.id == "field-commander"
        await pilot.press("enter")
        await pilot.pause()
        assert app.session is not None and app.session.view.declared_at is not None


def test_the_theme_key_has_one_label_in_every_app() -> None:
    """`ttx history --tui` said "d Light/dark" where the drill says "d Theme": both use one binding."""
    def theme_key(app: type[App[None]]) -> Binding:
        (binding,) = [b for b in app.BINDINGS if isinstance(b, Binding) and b.key == "d"]
        return binding

    assert theme_key(HistoryApp) is theme_key(DrillApp)
    assert (theme_key(DrillApp).description, theme_key(DrillApp).tooltip) == (
        "Theme", "Switch between the light and the dark theme")


async def test_the_help_holds_the_hot_seats_clock_while_it_is_open(flagship: LoadedScenario,
                                                                   tmp_path: Path) -> None:
    """A new user reading `?` at 60× watched 8 sim seconds of harm go by behind it; the hot seat's
    clock now waits while the help is open and runs again when it closes (a paused clock stays paused)."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter", "space")  # this app starts paused: space runs the clock
        await pilot.pause()
        session = app.live()
        assert not session.clock.paused
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen) and session.clock.paused
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, HelpScreen) and not session.clock.paused

        await pilot.press("space")
        await pilot.pause()
        assert session.clock.paused
        await pilot.press("question_mark", "escape")
        await pilot.pause()
        assert session.clock.paused, "a clock the player paused is not started by closing the help"
