"""Help: every key binding of the screen underneath, with its description, and how a drill flows."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Markdown

FLOW = """\
**Flow.** Briefing → dashboard → after-action review. Injects (pages, mail, chat, press …)
arrive in the feed; the signals show only what your monitoring can observe. Pick the acting
role, take actions from the list, answer approval requests, write updates. The review reveals
the hidden truth and the score.
"""


def binding_rows(screen: Screen[object]) -> list[tuple[str, str]]:
    """(key, description) of every footer binding on ``screen``: focused widgets, the screen, the app.

    A binding's tooltip, when it has one, is the longer description used here.
    """
    rows: list[tuple[str, str]] = []
    seen: set[str] = set()
    for active in screen.active_bindings.values():
        binding = active.binding
        if binding.show and binding.description and binding.key not in seen:
            seen.add(binding.key)
            rows.append((screen.app.get_key_display(binding), binding.tooltip or binding.description))
    return rows


def help_markdown(rows: list[tuple[str, str]]) -> str:
    """The help page as Markdown: one line per key, then how a drill flows."""
    keys = "\n".join(f"- `{key}` {description}" for key, description in rows)
    return (f"# Keys\n\n{keys}\n- `tab` / `shift+tab` move between panels; `↑` `↓` `enter` in lists\n"
            f"- `ctrl+p` command palette: any role's action by name, themes, quit\n\n{FLOW}\n"
            "Mouse: click tabs, list rows and buttons.")


class HelpScreen(ModalScreen[None]):
    """The key bindings of the screen it was opened from; any of escape, q or ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close help", id="help.close")]

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        super().__init__()
        self.rows = rows

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Markdown(help_markdown(self.rows))
        yield Footer(compact=True)

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)
