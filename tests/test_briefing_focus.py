"""Tab on the briefing moves the focus between the text and Start without restyling the text: the
container's focus styles nothing inside it, so its Markdown blocks are left alone, and the key footer
is rebuilt only when its keys change. Over SSH every restyle and rebuild is CPU and bytes per Tab."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from textual.app import ComposeResult
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.widgets import Button
from textual.widgets._footer import FooterKey

from simulator.engine.session import LocalSession
from simulator.format.loader import LoadedScenario
from tests.test_dashboard_redraw import SIZE, redraws
from tui.app import DrillApp
from tui.screens.briefing import BriefingText, styles_descendants_by_focus
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
    an SSH seat), only the widgets whose focus changed and the footer, which lost Enter's label."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(2):
            with redraws(monkeypatch) as asked:
                await pilot.press("tab")
                await pilot.pause()
            repainted = {name for name, _ in asked}
            assert "BriefingScreen" not in repainted, asked
            assert {"briefing", "start", "DrillFooter"} <= repainted, asked


async def test_tab_restyles_the_container_the_button_and_the_footer_but_none_of_the_text(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tab to Start and Tab back: each restyles the briefing's container and the button (their focus
    changed) and the footer's keys, never the Markdown inside the container, and rebuilds the
    footer once: Enter's label goes while Start has focus (the button takes Enter) and comes back."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, BriefingText)
        markdown_blocks = len(app.screen.query_one(BriefingText).query("*"))
        assert markdown_blocks > 50, "the flagship's briefing is a long Markdown document"
        assert "enter" in footer_keys(app)
        for focused, enter_shown in ((Button, False), (BriefingText, True)):
            with restyles(monkeypatch) as restyled, footer_rebuilds(monkeypatch) as rebuilt:
                await pilot.press("tab")
                await pilot.pause()
            assert isinstance(app.focused, focused)
            assert set(restyled) == {"BriefingText", "Button", "FooterKey"}, restyled
            assert restyled["BriefingText"] == restyled["Button"] == 1, restyled
            assert len(rebuilt) == 1, "asked twice, the footer is rebuilt only when its keys change"
            assert ("enter" in footer_keys(app)) == enter_shown


def test_a_rule_styling_the_text_by_the_focus_of_its_container_still_restyles_the_text() -> None:
    """The shortcut holds only while no rule reads the container's focus to style what is inside it:
    such a rule (by id, type or class, ``:focus``, ``:blur`` or ``:focus-within``) restores the full
    restyle; focus rules on the container itself, or on other widgets, do not."""
    briefing = BriefingText(id="briefing", classes="tall")

    def parsed(css: str) -> Stylesheet:
        stylesheet = Stylesheet()
        stylesheet.add_source(css)
        stylesheet.parse()
        return stylesheet

    for css in ("#briefing:focus Markdown { color: red; }", "VerticalScroll:blur * { color: red; }",
                ".tall:focus-within > Markdown { color: red; }", "*:focus MarkdownTable { color: red; }"):
        assert styles_descendants_by_focus(parsed(css), briefing), css
    for css in ("#briefing:focus { background: red; }", "#signals:focus-within Label { color: red; }",
                "Button { &:focus { color: red; } }", "#briefing Markdown { color: red; }"):
        assert not styles_descendants_by_focus(parsed(css), briefing), css
