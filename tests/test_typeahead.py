"""Keys typed ahead of the screen (a burst over SSH, pasted lines) land where they were typed for.

Each test hands the app a whole burst of keys before it handles any, as a laggy link or a paste
delivers them; ``Pilot.press`` would wait for each key to be handled and hide the problem.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import events
from textual.widgets import Input

from simulator.engine.events import Kind
from simulator.engine.session import LocalSession
from simulator.format.loader import LoadedScenario
from tui.app import DrillApp
from tui.screens.dialogs import ComposerScreen


def burst(app: Any, keys: str) -> None:
    """Post every key of ``keys`` to the app at once (``⏎`` is Enter), as a terminal's burst arrives."""
    for key in keys:
        app.post_message(events.Key("enter", "\r") if key == "⏎" else events.Key(key, key))


def drill_app(flagship: LoadedScenario, tmp_path: Path) -> DrillApp:
    return DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)


def sent_messages(app: DrillApp) -> list[str]:
    session = app.session
    assert isinstance(session, LocalSession)
    return [e.payload["params"]["text"] for e in session.drill.events
            if e.kind == Kind.COMMAND and e.payload.get("action") == "message"]


async def test_two_chat_lines_typed_in_one_burst_are_two_messages(flagship: LoadedScenario,
                                                                  tmp_path: Path) -> None:
    """``ok1⏎ok2⏎`` in one burst used to send "ok1ok2", twice: the second line went into the first
    before its Enter was handled. Now it is two messages, each once, and the line is empty after."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter", "c")
        await pilot.pause()
        burst(app, "ok1⏎ok2⏎")
        for _ in range(5):
            await pilot.pause()
        assert sent_messages(app) == ["ok1", "ok2"]
        assert app.screen.query_one("#chat-input", Input).value == ""


async def test_an_update_typed_in_one_burst_fills_each_part(flagship: LoadedScenario, tmp_path: Path) -> None:
    """``k3⏎s3⏎d3`` in one burst used to put "k3s3d3" under "What we know" and lose the Enters: each
    part now gets its own words, and the focus is on the last part, where Enter sends."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("enter", "u")
        await pilot.pause()
        assert isinstance(app.screen, ComposerScreen)
        app.screen.query_one("#update-know", Input).focus()
        await pilot.pause()
        burst(app, "k3⏎s3⏎d3")
        for _ in range(5):
            await pilot.pause()
        parts = {part: app.screen.query_one(f"#update-{part}", Input).value
                 for part in ("know", "suspect", "doing")}
        assert parts == {"know": "k3", "suspect": "s3", "doing": "d3"}
        assert app.focused is app.screen.query_one("#update-doing", Input)
