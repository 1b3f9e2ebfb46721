"""An option list that repaints only the options a highlight move touches (not every line of it)."""

from __future__ import annotations

from collections.abc import Callable

from textual.content import Content
from textual.css.scalar import Unit
from textual.reactive import reactive
from textual.widgets import OptionList


class PickList(OptionList):
    """:class:`OptionList` whose ↑/↓ repaint the option left and the option reached, not the whole
    list: a key press on a long list then costs two options' lines of rendering, not every line's."""

    highlighted: reactive[int | None] = reactive(None, repaint=False)
    """The index of the highlighted option (``None``: none); a change repaints the two options."""

    def fitted(self, rows: Callable[[int], list[Content]]) -> list[Content]:
        """``rows`` wrapped to this list's text width, less its scrollbar when they overflow the list
        (a scrollbar appearing would otherwise re-wrap each row itself, without the hanging indent);
        ``rows`` renders them for a width (0: not laid out yet, do not wrap)."""
        width = self.size.width
        fitted = rows(width)
        if width and sum(row.plain.count("\n") + 1 for row in fitted) > self.room():
            fitted = rows(width - self.styles.scrollbar_size_vertical)
        return fitted

    def room(self) -> int:
        """The lines the list can show: its height, or the most it grows to when its height follows
        its rows (the inject list: ``height: auto`` under a ``max-height`` in cells)."""
        most = self.styles.max_height
        return int(most.value) if self.styles.height is not None and self.styles.height.is_auto \
            and most is not None and most.unit == Unit.CELLS else self.size.height

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
