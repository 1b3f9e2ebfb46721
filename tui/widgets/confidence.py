"""The confidence slider: 0–100 % in steps of 5, moved with the arrow keys, drawn as a bar.

Textual has no slider, so this is a small focusable widget: ``←``/``→`` (or ``-``/``+``) move it one
step, ``home``/``end`` to 0 and 100 %, ``pageup``/``pagedown`` a quarter; a click on the bar sets it.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

STEP = 5
"""Percent one arrow key moves the slider."""
PAGE = 25
"""Percent ``pageup``/``pagedown`` move it."""
LABEL_CELLS = 6
"""Cells after the bar that show the value (`` 100 %``)."""


def snapped(value: int) -> int:
    """``value`` clamped to 0..100 and rounded to the nearest step."""
    return max(0, min(100, round(value / STEP) * STEP))


def bar(value: int, cells: int) -> tuple[int, int]:
    """(filled, empty) cells of a bar ``cells`` wide showing ``value`` %."""
    cells = max(1, cells)
    filled = round(cells * value / 100)
    return filled, cells - filled


class ConfidenceSlider(Widget, can_focus=True):
    """How sure the player is, 0–100 %: a bar and the value; the arrow keys move it in steps of 5."""

    DEFAULT_CSS = """
    ConfidenceSlider { height: 1; width: 1fr; }
    ConfidenceSlider:focus { background: $boost; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left,minus", "move(-1)", "Less sure", id="confidence.less", key_display="←"),
        Binding("right,plus,equals_sign", "move(1)", "More sure", id="confidence.more", key_display="→"),
        Binding("home", "set(0)", "0 %", id="confidence.zero", show=False),
        Binding("end", "set(100)", "100 %", id="confidence.full", show=False),
        Binding("pageup", "page(1)", "+25 %", id="confidence.pageup", show=False),
        Binding("pagedown", "page(-1)", "-25 %", id="confidence.pagedown", show=False),
    ]

    value: reactive[int] = reactive(50)
    """Confidence in percent, a multiple of :data:`STEP` from 0 to 100."""

    class Changed(Message):
        """The player moved the slider."""

        def __init__(self, slider: ConfidenceSlider, value: int) -> None:
            super().__init__()
            self.slider, self.value = slider, value

    def __init__(self, value: int = 50, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(ConfidenceSlider.value, snapped(value))

    def validate_value(self, value: int) -> int:
        """Keep the value on the 0..100 grid of steps."""
        return snapped(value)

    def watch_value(self, value: int) -> None:
        """Tell the dialog (and redraw)."""
        self.post_message(self.Changed(self, value))

    def render(self) -> Content:
        """``██████░░░░  30 %``: the bar fills the width left of the value."""
        filled, empty = bar(self.value, self.size.width - LABEL_CELLS)
        return Content.assemble(("█" * filled, "$accent"), ("░" * empty, "dim"),
                                (f"{self.value:>4} %", "bold"))

    def action_move(self, steps: int) -> None:
        """One step less (``-1``) or more (``1``) sure."""
        self.value = self.value + steps * STEP

    def action_page(self, pages: int) -> None:
        """A quarter less or more."""
        self.value = self.value + pages * PAGE

    def action_set(self, value: int) -> None:
        """Jump to ``value`` %."""
        self.value = value

    def on_click(self, event: events.Click) -> None:
        """A click on the bar sets the value where it landed."""
        cells = max(1, self.size.width - LABEL_CELLS)
        if 0 <= event.x < cells:
            self.value = round(100 * (event.x + 1) / cells)
