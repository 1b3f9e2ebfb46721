"""War room and direct messages: what was said (newest last) and a line to say something."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, Select, Static

from tui.format import role_name
from tui.team import message_line
from tui.widgets.form_select import FormSelect
from tui.widgets.typeahead import TypeaheadInput

WAR_ROOM = "*"
"""The audience choice meaning "everyone" (the shared war-room channel)."""

PLACEHOLDER = "type, ⏎ sends"
"""The empty text line's hint: short enough for the 15 cells the line gets at 80 columns."""


class ChatPanel(Vertical):
    """Messages this seat can see, and (when it may talk) an audience choice and a text line."""

    BORDER_TITLE = "Chat"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "screen.focus_actions", "Leave chat", id="chat.leave")]

    class SendRequested(Message):
        """The player wrote ``text`` to ``to`` (empty: the war room)."""

        def __init__(self, text: str, to: list[str]) -> None:
            super().__init__()
            self.text = text
            self.to = to

    def __init__(self, roles: list[str], seat: str | None, can_send: bool = True, *,
                 id: str | None = None) -> None:
        super().__init__(id=id)
        self.roles, self.seat, self.can_send = roles, seat, can_send
        self._shown = -1

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="chat-log-box"):
            yield Static(Content.styled("No messages yet.", "dim"), id="chat-log")
        with Horizontal(id="chat-row"):
            audiences = [("War room", WAR_ROOM)] + [(role_name(r), r) for r in self.roles if r != self.seat]
            yield FormSelect(audiences, value=WAR_ROOM, allow_blank=False, id="chat-to", compact=True)
            yield TypeaheadInput(placeholder=PLACEHOLDER, id="chat-input", compact=True, max_length=2000,
                                 after_enter="clear")

    def on_mount(self) -> None:
        """Hide the sending line for a seat that cannot talk (the facilitator)."""
        self.query_one("#chat-row").display = self.can_send

    def show(self, messages: list[dict[str, Any]]) -> None:
        """Redraw the log when messages arrived."""
        if len(messages) == self._shown:
            return
        self._shown = len(messages)
        if messages:
            self.query_one("#chat-log", Static).update(
                Content("\n").join(message_line(m, self.seat) for m in messages[-200:]))
            self.query_one("#chat-log-box", VerticalScroll).scroll_end(animate=False)

    def on_form_select_submitted(self, event: FormSelect.Submitted) -> None:
        """Enter on the chosen audience goes to the text line."""
        event.stop()
        self.query_one("#chat-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter: post the message intent (the line has cleared itself, so what is typed next is
        the next message)."""
        event.stop()
        text = event.value.strip()
        if not text:
            return
        chosen = self.query_one("#chat-to", Select).value
        to = [] if chosen == WAR_ROOM or chosen is Select.NULL else [str(chosen)]
        self.post_message(self.SendRequested(text, to))
