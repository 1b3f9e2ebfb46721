"""An option list that repaints only the options a highlight move touches (not every line of it)."""

from __future__ import annotations

from textual.reactive import reactive
from textual.widgets import OptionList


class PickList(OptionList):
    """:class:`OptionList` whose ↑/↓ repaint the option left and the option reached, not the whole
    list: a key press on a long list then costs two options' lines of rendering, not every line's."""

    highlighted: reactive[int | None] = reactive(None, repaint=False)
    """The index of the highlighted option (``None``: none); a change repaints the two options."""

    def _watch_highlighted(self, old: int | None, new: int | None) -> None:
        """Repaint the options that lost and gained the highlight (``watch_highlighted`` then scrolls
        to it and says so)."""
        for index in (old, new):
            self._repaint_option(index)

    def _repaint_option(self, index: int | None) -> None:
        """Repaint the lines of option ``index`` (the whole list while its lines are not known yet)."""
        if index is None:
            return
        line = self._index_to_line.get(index)
        height = self._line_cache.heights.get(index)
        if line is None or height is None:
            self.refresh()
        else:
            self.refresh_lines(line, height)

    def action_cursor_up(self) -> None:
        """Move up; at the top, stay (Up from the first action used to wrap to the list's last, which
        in IC's list is "Resolve the incident")."""
        before = self.highlighted
        super().action_cursor_up()
        if before is not None and self.highlighted is not None and self.highlighted > before:
            self.highlighted = before

    def action_cursor_down(self) -> None:
        """Move down; at the bottom, stay (no wrap to the top)."""
        before = self.highlighted
        super().action_cursor_down()
        if before is not None and self.highlighted is not None and self.highlighted < before:
            self.highlighted = before
