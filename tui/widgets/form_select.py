"""A drop-down for forms: Enter on it, closed and with a value, moves on instead of reopening it."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Select


class FormSelect(Select[Any]):
    """A :class:`~textual.widgets.Select` that behaves like a form's text fields on Enter.

    Textual's Select opens its menu on Enter, Space, Up and Down. Here Enter opens it only while
    nothing is chosen; with a value it posts :class:`Submitted`, as an ``Input`` does, and the form
    moves to its next field (or submits from its last). Space, Up and Down still open the menu.

    Typing on the closed drop-down chooses the first option whose label starts with what was typed
    (then the first that contains it): "g" picks General, "st" Strength. Textual searches only in
    the open menu, so typing on a closed one was silently lost.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Next field", show=False, id="form-select.submit"),
    ]

    class Submitted(Message):
        """Enter on the closed drop-down with a value chosen: the player is done with this field."""

        def __init__(self, select: FormSelect) -> None:
            super().__init__()
            self.select = select

        @property
        def control(self) -> FormSelect:
            """The drop-down Enter was pressed on."""
            return self.select

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.typed = ""
        """What was typed on the closed drop-down since it took the focus (what it chooses by)."""

    def on_focus(self) -> None:
        """A new visit types afresh."""
        self.typed = ""

    def check_consume_key(self, key: str, character: str | None = None) -> bool:
        """Printable keys other than space (which opens the menu) are typed here, not bindings."""
        return character is not None and character.isprintable() and character != " "

    async def _on_key(self, event: events.Key) -> None:
        """Choose by typing while the menu is closed (the open menu searches on its own)."""
        character = event.character
        if self.expanded or character is None or not character.isprintable() or character == " ":
            return
        event.stop()
        event.prevent_default()
        value = self.matching(self.typed + character)
        if value is None:  # a fresh start: "g" after "st" looks for "g"
            self.typed, value = "", self.matching(character)
        if value is not None:
            self.typed += character
            self.value = value

    def matching(self, typed: str) -> Any:
        """The value of the first option whose label starts with ``typed``, else of the first that
        contains it (case-insensitive); ``None`` when none does."""
        wanted = typed.casefold()
        labels = [(str(prompt).casefold(), value) for prompt, value in self._options
                  if value is not self.NULL]
        starts = next((value for label, value in labels if label.startswith(wanted)), None)
        return starts if starts is not None else next((value for label, value in labels if wanted in label),
                                                      None)

    def action_submit(self) -> None:
        """Move on when a value is chosen; with none, open the menu to choose one."""
        if self.is_blank():
            self.action_show_overlay()
        else:
            self.post_message(self.Submitted(self))
