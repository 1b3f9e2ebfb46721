"""Text lines that keep up with keys typed ahead of the screen.

Keys can arrive faster than a seat handles them: a burst over a laggy SSH link, several lines pasted,
a seat busy drawing. Textual hands every key of a burst to the focused ``Input`` at once, while the
Enter among them submits only later, when it has bubbled back up to the app's bindings. So what was
typed after an Enter landed in the same line: chat ``ok1⏎ok2⏎`` sent ``ok1ok2``, twice, and
a stakeholder update's ``k3⏎s3⏎d3`` put all three parts under "What we know".

:class:`TypeaheadInput` takes its Enter in order, when the line reaches it: it submits the text typed
so far, then clears the line (chat) or moves the focus on (a form's field). A key that reaches it
after the focus has moved on goes to the widget that has the focus now, as it was typed for.
"""

from __future__ import annotations

from typing import Any, Literal

from textual import events
from textual.widgets import Input

AfterEnter = Literal["clear", "next", "stay"]
"""What a line does once Enter has submitted it: clear itself, move the focus on, or nothing."""


class TypeaheadInput(Input):
    """An ``Input`` whose Enter and following keys are taken in the order they were typed."""

    def __init__(self, *args: Any, after_enter: AfterEnter = "stay", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.after_enter: AfterEnter = after_enter

    async def _on_key(self, event: events.Key) -> None:
        focused = self.app.focused
        if focused is not None and focused is not self and focused.screen is self.screen:
            event.stop()
            event.prevent_default()
            focused.post_message(events.Key(event.key, event.character))
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            await self.action_submit()
            if self.after_enter == "clear":
                self.value = ""
            elif self.after_enter == "next":
                self.screen.focus_next()
            return
        await super()._on_key(event)
