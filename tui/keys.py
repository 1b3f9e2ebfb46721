"""Keys every ttx app shares (the drill, ``ttx watch``, ``ttx history --tui``): one label, one place."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.binding import Binding

THEME = Binding("d", "toggle_theme", "Theme", id="app.theme",
                tooltip="Switch between the light and the dark theme")
"""``d``: the light or the dark theme."""

QUIT = Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit ttx (a running drill asks first)")
"""``q``: quit."""


def toggle_theme(app: App[Any]) -> None:
    """Switch ``app`` between the light and the dark theme."""
    app.theme = "textual-light" if app.current_theme.dark else "textual-dark"
