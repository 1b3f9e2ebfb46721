"""What a second first-time walk through the drill found at 80×24 and 120×35 (issue 12's last
sentence): hints that fit their border, an open inject that keeps room to be read and says how to
scroll it, and choices named in words rather than the engine's ids. Keys in through Pilot."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Select
from textual.widgets._footer import FooterKey

from simulator.engine.playback import Playback
from simulator.engine.replay import load_journal_scenario
from simulator.engine.runner import run_named
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario
from tests.conftest import end_in_tui, take, until
from tests.test_tui_new_user import drill_app, text
from tui.app import DrillApp
from tui.format import BORDER_CELLS, scroll_hint
from tui.screens.review import ReviewScreen
from tui.watch import WatchApp
from tui.widgets.incident import IncidentPanel
from tui.widgets.injects import InjectDetail


def test_a_scroll_hint_shortens_its_words_before_it_is_cut() -> None:
    """Lines above and below at the incident panel's 80-column width: "(m, then…" was cut by the
    border; now the hint drops words and keeps the counts and the keys."""
    assert scroll_hint(0, 3, 40, "m") == "↓ 3 more (m, then ↑↓)"
    assert scroll_hint(1, 21, 29, "m") == "↑ 1 · ↓ 21 more (m, then ↑↓)"
    assert scroll_hint(1, 21, 24, "m") == "↑ 1 · ↓ 21 more (m ↑↓)"
    assert scroll_hint(0, 0, 29, "m") == ""


async def test_at_80_by_24_the_incident_hint_fits_when_lines_are_above_and_below(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """Declared, two actions under way and an investigation running: scrolled one line down, the
    border says both counts and the keys in full view ("↑ 1 more · ↓ 2 more (m, the…" before)."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "n", "n")
        assert app.session is not None
        for command in (Command(role="ic", action="declare_incident", params={"commander": "ic"}),
                        Command(role="ml", action="block-list"), Command(role="ml", action="tighten-filter"),
                        Command(role="ml", action="investigate")):
            await app.session.submit(command)
        app.render_view()
        await pilot.pause()
        await pilot.press("m", "down")
        await pilot.pause()
        panel = app.screen.query_one(IncidentPanel)
        hint = str(panel.border_subtitle)
        assert "↑ 1" in hint and "↓ " in hint and hint.endswith(" ↑↓)") and "(m" in hint
        assert len(hint) <= panel.size.width - BORDER_CELLS


async def test_the_incident_panel_names_the_harm_class_as_the_form_did(flagship: LoadedScenario,
                                                                       tmp_path: Path) -> None:
    """Classifying as "CBRN information or capabilities" used to show "Class cbrn" in the panel."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(120, 35)) as pilot:
        await pilot.press("enter", "n", "n")
        assert app.session is not None
        await app.session.submit(Command(role="ic", action="declare_incident", params={"commander": "ic"}))
        await app.session.submit(Command(role="ic", action="classify", params={"harm_type": "cbrn"}))
        app.render_view()
        await pilot.pause()
        incident = text(app, "#incident-text")
        assert "Class CBRN information or capabilities" in incident and "cbrn" not in incident


async def test_at_80_by_24_an_open_inject_keeps_room_and_says_how_to_read_the_rest(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """Five injects in: the list used to take eight rows and leave the open inject two lines, its
    body out of sight with nothing saying so. The list now takes half the panel; the line above the
    open inject says how much is below and that tab then ↓ scrolls it, and the count follows."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter", "n", "n", "n", "n", "n", "i")
        await pilot.pause()
        assert app.session is not None and len(app.session.view.injects) >= 5
        box = app.screen.query_one(InjectDetail)
        await pilot.pause()
        assert box.scrollable_content_region.height >= 4
        assert str(box.border_title).startswith("↓ ") and str(box.border_title).endswith("(tab, then ↑↓)")
        await pilot.press("tab", "down")
        await pilot.pause()
        assert app.focused is box and str(box.border_title).startswith("↑ 1 more")


async def test_stage_and_escalation_choices_are_named_in_words(flagship: LoadedScenario,
                                                               tmp_path: Path) -> None:
    """"Declare a remediation stage done" offered 1, 2, 3 and "Escalate" offered ts_lead: the lists
    now say what each is, and the value sent is still the engine's."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("enter")
        await take(app, pilot, "declare_stage_done")
        assert choices(app, "#field-stage")["1 · stop the bleed"] == "1"
        await pilot.press("escape")
        await take(app, pilot, "escalate")
        targets = choices(app, "#field-to")
        assert targets["Trust & safety lead"] == "ts_lead" and targets["Executive on-call"] == "exec"
        assert "ts_lead" not in targets


def choices(app: DrillApp, selector: str) -> dict[str, object]:
    """What a form's drop-down lists (label → the value it sends), its blank prompt left out."""
    select: Select[object] = app.screen.query_one(selector, Select)
    return {str(label): value for label, value in select._options if value is not Select.BLANK}


async def test_watching_at_100_columns_the_review_keeps_every_key_in_its_footer(tmp_path: Path) -> None:
    """`ttx watch` of an idle run, `e` `y` to its review at 100×30: the footer was cut at
    "[ Previ" by the command palette's hint, losing "g Go to time"; it now wraps onto a second line."""
    path = tmp_path / "idle.jsonl"
    run_named("jailbreak-wave", "idle", 7, path)
    journal, loaded = load_journal_scenario(path)
    app = WatchApp(Playback(journal, loaded, path, speed=10.0))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: app.dashboard is not None)
        await end_in_tui(pilot)
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await pilot.pause()
        keys = list(app.screen.query(FooterKey))
        assert {"Save journal + report", "Go to time"} <= {k.description for k in keys}
        assert all(k.region.right <= 100 and k.region.width > 0 for k in keys)
