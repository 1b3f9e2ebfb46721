"""Tab on the briefing moves the focus between the text and Start and repaints only those two: no
rule styles the text by its container's focus, so its Markdown blocks are not restyled, Enter does the
same on either, so the key footer is not rebuilt, and the screen is not repainted as a whole. Over SSH
every restyle, rebuild and repaint is CPU and bytes per Tab (issue 11, key press → update)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.app import ComposeResult
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.widgets._footer import FooterKey

from simulator.engine.session import LocalSession
from simulator.format.loader import LoadedScenario
from tests.test_dashboard_redraw import SIZE, redraws
from tui.app import DrillApp
from tui.screens.briefing import BriefingScreen, BriefingText, StartButton, focus_styles
from tui.widgets.footer import DrillFooter


@contextmanager
def restyles(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Count the widgets given new styles, by class name."""
    restyled: Counter[str] = Counter()
    update_nodes = Stylesheet.update_nodes

    def counted(self: Stylesheet, nodes: Iterable[DOMNode], animate: bool = False) -> None:
        nodes = list(nodes)
        restyled.update(type(node).__name__ for node in nodes)
        update_nodes(self, nodes, animate=animate)

    with monkeypatch.context() as patched:
        patched.setattr(Stylesheet, "update_nodes", counted)
        yield restyled


@contextmanager
def footer_rebuilds(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Count how many times the key footer lays its keys out (one entry per rebuild)."""
    rebuilt: list[int] = []
    compose = DrillFooter.compose

    def composed(self: DrillFooter) -> ComposeResult:
        rebuilt.append(1)
        return compose(self)

    with monkeypatch.context() as patched:
        patched.setattr(DrillFooter, "compose", composed)
        yield rebuilt


def footer_keys(app: DrillApp) -> list[str]:
    """The keys the footer shows, in order."""
    return [key.key for key in app.screen.query(FooterKey)]


async def test_tab_repaints_what_changed_focus_and_the_footer_not_the_whole_screen(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tab to Start and back: the screen is not asked to repaint as a whole (every cell of it, sent to
    an SSH seat), only the two widgets whose focus changed."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(2):
            with redraws(monkeypatch) as asked:
                await pilot.press("tab")
                await pilot.pause()
            assert {name for name, _ in asked} == {"briefing", "start"}, asked


async def test_tab_restyles_only_the_button_and_leaves_the_footer_as_it_was(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tab to Start and Tab back: each restyles the button (its focus style changes) and nothing else,
    neither the briefing's container nor the Markdown inside it, which no rule styles by focus; the
    footer keeps Enter, which on Start does what it does on the text, so it is not rebuilt."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, BriefingText)
        markdown_blocks = len(app.screen.query_one(BriefingText).query("*"))
        assert markdown_blocks > 50, "the flagship's briefing is a long Markdown document"
        for focused in (StartButton, BriefingText):
            with restyles(monkeypatch) as restyled, footer_rebuilds(monkeypatch) as rebuilt:
                await pilot.press("tab")
                await pilot.pause()
            assert isinstance(app.focused, focused)
            assert restyled == {"StartButton": 1}, restyled
            assert not rebuilt, "the footer's keys did not change"
            assert footer_keys(app)[0] == "enter"


async def test_enter_on_start_starts_the_drill(flagship: LoadedScenario, tmp_path: Path) -> None:
    """Start with focus leaves Enter to the screen: it starts the drill, as on the text."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("tab")
        assert isinstance(app.focused, StartButton)
        await pilot.press("enter")
        await pilot.pause()
        assert not isinstance(app.screen, BriefingScreen)


async def test_the_footer_is_rebuilt_when_its_keys_change_and_only_then(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A focus change asks the footer twice for its keys: asked with nothing changed, it keeps them;
    on the dashboard, moving to the chat adds "Leave chat" and the footer is rebuilt once for it."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        with footer_rebuilds(monkeypatch) as rebuilt:
            app.screen.refresh_bindings()
            app.screen.refresh_bindings()
            await pilot.pause()
        assert not rebuilt
        await pilot.press("enter")
        await pilot.pause()
        assert "escape" not in footer_keys(app)
        with footer_rebuilds(monkeypatch) as rebuilt:
            await pilot.press("c")
            await pilot.pause()
        assert "escape" in footer_keys(app), "the chat's Leave chat"
        assert len(rebuilt) == 1, rebuilt


def test_a_rule_styling_by_the_focus_of_the_container_still_restyles_what_it_styles() -> None:
    """The shortcut holds only while no rule reads the container's focus: one on the container itself
    (by id, type or class, with ``:focus``, ``:blur`` or ``:focus-within``) restyles it, one reading it
    to style what is inside restores the full restyle; rules on other widgets change nothing."""
    briefing = BriefingText(id="briefing", classes="tall")

    def parsed(css: str) -> Stylesheet:
        stylesheet = Stylesheet()
        stylesheet.add_source(css)
        stylesheet.parse()
        return stylesheet

    for css, reach in (("#briefing:focus Markdown { color: red; }", (False, True)),
                       ("VerticalScroll:blur * { color: red; }", (False, True)),
                       (".tall:focus-within > Markdown { color: red; }", (False, True)),
                       ("*:focus MarkdownTable { color: red; }", (False, True)),
                       ("#briefing:focus { background: red; }", (True, False)),
                       ("BriefingText { &:blur { background: red; } }", (True, False)),
                       ("#signals:focus-within Label { color: red; }", (False, False)),
                       ("Button { &:focus { color: red; } }", (False, False)),
                       ("#briefing Markdown { color: red; }", (False, False))):
        assert focus_styles(parsed(css), briefing) == reach, css
