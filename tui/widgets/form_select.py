"""A drop-down for forms: Enter on it, closed and with a value, moves on instead of reopening it."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Select


class FormSelect(Select[Any]):
    """A :class:`~textual.widgets.Select` that behaves like a form's text fields on Enter.

    Textual's Select opens its menu on Enter, Space, Up and Down. Here Enter opens it only while
    nothing is chosen; with a value it posts :class:`Submitted`, as an ``Input`` does, and the form
    moves to its next field (or submits from its last). Space, Up and Down still open the menu.
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

    def action_submit(self) -> None:
        """Move on when a value is chosen; with none, open the menu to choose one."""
        if self.is_blank():
            self.action_show_overlay()
        else:
            self.post_message(self.Submitted(self))
