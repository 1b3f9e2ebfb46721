"""``d`` switches between the light and the dark theme cheaply (issue 11: an SSH seat's key press →
screen update under 50 ms) and exactly: a screen toggled into a theme shows, cell for cell and colour
for colour, what a drill started in that theme shows; the parsed rules of a theme seen before are
reused, and a restyle asks each widget to redraw once, not once per colour of every node above it."""

from __future__ import annotations

import gc
import hashlib
import inspect
import textwrap
from pathlib import Path
from typing import Any

import pytest
from textual._compositor import Compositor
from textual.app import App, ComposeResult
from textual.css._style_properties import KeylineProperty
from textual.css.parse import parse
from textual.css.styles import Styles
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Markdown, Static

from simulator.engine.session import LocalSession
from simulator.format.loader import LoadedScenario
from tests.test_dashboard_redraw import redraws
from tui.app import DrillApp
from tui.theme import ThemedApp, ThemeStylesheet

SIZE = (100, 30)
LIGHT, DARK = "textual-light", "textual-dark"
TEXTUAL_FINGERPRINTS = {
    "Styles.refresh": "e803ce7a6077963d",
    "App.refresh_css": "77928c0b6503177b",
    "Stylesheet.set_variables": "6f370c03ccdae2ea",
    "Stylesheet.reparse": "d84aac4b3e199dd5",
    "KeylineProperty.__set__": "8ed371da79f3ad78",
    "Widget._check_refresh": "13fd74f1d91f4055",
}
"""Textual 8.2's code that tui/theme.py stands in for: the first 16 hex digits of its source's SHA-256."""


def drill(flagship: LoadedScenario, tmp_path: Path, theme: str = DARK) -> DrillApp:
    """The flagship drill, seed 7, paused, wall clock frozen, started in ``theme``."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    app.theme = theme
    return app


async def screen_after(app: DrillApp, keys: list[str]) -> str:
    """What ``app`` shows (an SVG screenshot: every cell's text and colours) after ``keys``."""
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, keys)
        return app.export_screenshot()


async def press(pilot: Pilot[None], keys: list[str]) -> None:
    """Press ``keys`` one by one, letting the screen settle after each."""
    for key in keys:
        await pilot.press(key)
        await pilot.pause()
    await pilot.pause()


@pytest.mark.parametrize(("screen", "toggles"), [
    ([], 1),            # the briefing, into the light theme
    ([], 2),            # and back: the dark rules kept from the start
    (["enter"], 1),     # the dashboard
    (["enter"], 3),     # light, dark, light: both themes' rules reused
])
async def test_a_toggled_screen_matches_one_started_in_that_theme(
        flagship: LoadedScenario, tmp_path: Path, screen: list[str], toggles: int) -> None:
    """``d`` on the briefing or the dashboard draws exactly what a drill started in the theme
    reached draws: nothing is left in the old theme's colours."""
    reached = LIGHT if toggles % 2 else DARK
    toggled = await screen_after(drill(flagship, tmp_path / "toggled"), screen + ["d"] * toggles)
    fresh = await screen_after(drill(flagship, tmp_path / "fresh", theme=reached), screen)
    assert toggled == fresh


async def test_the_screen_under_a_dialog_is_restyled_too(flagship: LoadedScenario, tmp_path: Path) -> None:
    """The theme switched while the help is open (``d`` is not among its keys; the command palette
    can) restyles the dashboard under it: closed, it matches a dashboard started in that theme."""
    app = drill(flagship, tmp_path / "toggled")
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, ["enter", "question_mark"])
        app.action_toggle_theme()
        await press(pilot, ["escape"])
        toggled = app.export_screenshot()
    assert toggled == await screen_after(drill(flagship, tmp_path / "fresh", theme=LIGHT), ["enter"])


async def test_a_theme_seen_before_is_not_parsed_again(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first switch to the light theme parses the stylesheets with its colours; switching back
    to dark and to light again parses nothing: each theme's parsed rules are kept."""
    parsed: list[str] = []
    def counted(scope: str, css: str, *args: object, **kwargs: object) -> object:
        parsed.append(css)
        return parse(scope, css, *args, **kwargs)  # type: ignore[arg-type]

    app = drill(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, ["enter"])
        assert isinstance(app.stylesheet, ThemeStylesheet)
        monkeypatch.setattr("textual.css.stylesheet.parse", counted)  # what Stylesheet calls
        parses = []
        for theme in (LIGHT, DARK, LIGHT, DARK):
            parsed.clear()
            await press(pilot, ["d"])
            assert app.theme == theme
            parses.append(len(parsed))
        assert parses[0] == len(app.stylesheet.source), "every source parsed once with the light colours"
        assert parses[1:] == [0, 0, 0]


async def test_a_theme_switch_asks_each_widget_to_redraw_once(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the dashboard, ``d`` asks each widget for one redraw (Textual's restyle asked each again for
    every colour changed on every node above it: thousands of requests a press)."""
    app = drill(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, ["enter"])
        widgets = len(list(app.screen.walk_children(with_self=True)))
        with redraws(monkeypatch) as asked:
            await press(pilot, ["d"])
        assert sum(asked.values()) < 3 * widgets, asked.most_common(5)


@pytest.mark.parametrize("screen", [[], ["enter"]], ids=["briefing", "dashboard"])
async def test_a_theme_switch_is_one_update_of_the_screen_with_no_layout_pass(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, screen: list[str]) -> None:
    """``d`` sends the screen to the terminal once: not a whole screen and then every widget again
    (each restyled widget's own redraw), nor again for the screen restyled under it, and it lays
    nothing out (the briefing's Markdown table changes only its keyline's colour)."""
    updates: list[object] = []
    layouts: list[object] = []
    app = drill(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await press(pilot, [*screen, "d", "d"])
        with monkeypatch.context() as patched:
            patched.setattr(Compositor, "render_update", counted(Compositor.render_update, updates))
            patched.setattr(Screen, "_refresh_layout", counted(Screen._refresh_layout, layouts))
            await press(pilot, ["d"])
    assert (len(updates), len(layouts)) == (1, 0)


def counted(function: Any, calls: list[object]) -> Any:
    """``function``, noting each call in ``calls``."""
    def noted(*args: object, **kwargs: object) -> object:
        calls.append(args)
        return function(*args, **kwargs)
    return noted


class Covered(Screen[None]):
    """A screen with a keyline'd Markdown table and a coloured line, for another screen to cover."""

    def compose(self) -> ComposeResult:
        yield Static("under", id="under")
        yield Markdown("| key | does |\n|---|---|\n| `d` | light or dark |\n")


class Cover(Screen[None]):
    """An opaque screen over :class:`Covered`."""

    def compose(self) -> ComposeResult:
        yield Static("over")


class CoveredApp(ThemedApp):
    """:class:`Covered`, then :class:`Cover` over it unless ``covered`` is false."""

    def __init__(self, theme: str, covered: bool = True) -> None:
        super().__init__()
        self.theme, self.covered = theme, covered

    def on_mount(self) -> None:
        self.push_screen(Covered())
        if self.covered:
            self.push_screen(Cover())


async def test_a_screen_covered_at_the_switch_is_restyled_when_it_is_shown_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A screen hidden under an opaque one is not restyled by ``d`` (Textual's restyle of it also
    draws the screen on top again); popped back to, it is, and matches one started in that theme."""
    restyled: list[DOMNode] = []
    app = CoveredApp(DARK)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        under = app.screen_stack[-2]
        with monkeypatch.context() as patched:
            patched.setattr(ThemeStylesheet, "apply", counted_nodes(ThemeStylesheet.apply, restyled))
            app.action_toggle_dark()
            await pilot.pause()
        assert app.theme == LIGHT
        assert under not in {node.screen for node in restyled if node.is_attached and node is not app}
        app.pop_screen()
        await pilot.pause()
        shown = app.export_screenshot()
    fresh = CoveredApp(LIGHT, covered=False)
    async with fresh.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert shown == fresh.export_screenshot()


def counted_nodes(apply: Any, nodes: list[DOMNode]) -> Any:
    """``Stylesheet.apply``, noting each node it styles in ``nodes``."""
    def noted(self: Stylesheet, node: DOMNode, **kwargs: object) -> None:
        nodes.append(node)
        apply(self, node, **kwargs)
    return noted


@pytest.mark.parametrize(("textual_code", "ours"), [
    (Styles.refresh, "redraws_coalesced: its note() stands in for it, with the same arguments"),
    (App.refresh_css, "ThemedApp.refresh_css: the same steps, the screen drawn on its next update"),
    (Stylesheet.set_variables, "ThemeStylesheet.set_variables: it swaps _parse_cache around it"),
    (Stylesheet.reparse, "ThemeStylesheet.reparse: parse() with the cache does its work"),
    (KeylineProperty.__set__, "KeylineRecolouredInPlace.__set__: the same, laid out only for a new kind"),
    (Widget._check_refresh, "drawn_with_the_screen: clearing _repaint_required stops the Update it posts"),
])
def test_the_textual_code_tui_theme_stands_in_for_is_the_code_it_was_written_against(
        textual_code: object, ours: str) -> None:
    """tui/theme.py replaces or wraps these Textual 8.2 functions and reads private attributes they
    use (``_parse_cache``, ``_is_mounted``, ``_css_update_count``, ``_repaint_required``); if
    Textual changes one, re-read it and update tui/theme.py, then the fingerprint here."""
    source = textwrap.dedent(inspect.getsource(textual_code))  # type: ignore[arg-type]
    fingerprint = hashlib.sha256(source.encode()).hexdigest()[:16]
    assert fingerprint == TEXTUAL_FINGERPRINTS[textual_code.__qualname__], (  # type: ignore[attr-defined]
        f"Textual's {textual_code.__qualname__} changed; review {ours}")  # type: ignore[attr-defined]


async def test_what_is_alive_once_the_screen_is_up_is_frozen_until_the_app_ends(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """Up, the briefing's and then the dashboard's objects are out of the garbage collector's sight
    (a full collection walking them paused a key press ~100 ms); ended, the app thaws them."""
    app = drill(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        on_the_briefing = gc.get_freeze_count()
        assert on_the_briefing > 10_000
        await press(pilot, ["enter"])
        assert gc.get_freeze_count() > on_the_briefing
    assert gc.get_freeze_count() == 0
