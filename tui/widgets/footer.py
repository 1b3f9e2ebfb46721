"""The key footer, wrapped onto more lines when its keys do not fit one: no key is ever cut off."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.binding import ActiveBinding
from textual.containers import HorizontalGroup
from textual.content import Content
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


@dataclass(frozen=True)
class FooterEntry:
    """One footer item: a key (or a group's keys run together, ``123``) and what it does."""

    key: str
    display: str
    description: str
    action: str
    enabled: bool
    tooltip: str

    @property
    def width(self) -> int:
        """Cells the item takes in the compact footer, the gap after it included."""
        text = f"{self.display} {self.description}" if self.description else self.display
        return Content(text).cell_length + 1


def footer_entries(active: dict[str, ActiveBinding], app: App[Any]) -> list[FooterEntry]:
    """The shown bindings in footer order, one entry per action; a group's keys become one entry."""
    first: dict[str, ActiveBinding] = {}
    for binding in active.values():
        if binding.binding.show:
            first.setdefault(binding.binding.action, binding)
    entries: list[FooterEntry] = []
    for group, members in groupby(first.values(), lambda b: b.binding.group):
        items = list(members)
        if group is not None and len(items) > 1:
            head = items[0]
            keys = "".join(app.get_key_display(b.binding) for b in items)
            entries.append(FooterEntry(head.binding.key, keys, group.description, head.binding.action,
                                       head.enabled, head.tooltip or group.description))
            continue
        entries.extend(FooterEntry(b.binding.key, app.get_key_display(b.binding), b.binding.description,
                                   b.binding.action, b.enabled, b.tooltip) for b in items)
    return entries


def footer_rows(entries: list[FooterEntry], width: int) -> list[list[FooterEntry]]:
    """Entries in order, as many per line as fit ``width`` cells (one per line at the least)."""
    rows: list[list[FooterEntry]] = [[]]
    used = 0
    for entry in entries:
        if rows[-1] and used + entry.width > width + 1:  # the last gap may hang over the edge
            rows.append([])
            used = 0
        rows[-1].append(entry)
        used += entry.width
    return [row for row in rows if row]


class DrillFooter(Footer):
    """The stock compact footer's keys, wrapped onto a second (third) line at narrow widths."""

    DEFAULT_CSS = """
    DrillFooter { layout: vertical; height: auto; max-height: 3; }
    DrillFooter > .footer-row { height: 1; width: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(compact=True, show_command_palette=False, id=id)
        self._rows_for = 0
        """The width the rows were last laid out for."""
        self._shown: list[list[FooterEntry]] | None = None
        """The rows of keys last composed (None: none yet)."""

    def rows(self) -> list[list[FooterEntry]]:
        """The rows of keys for the screen's bindings now, at the footer's width."""
        width = self.size.width or self.app.size.width
        return footer_rows(footer_entries(self.screen.active_bindings, self.app), width)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        self._rows_for = self.size.width or self.app.size.width
        self._shown = self.rows()
        for row in self._shown:
            with HorizontalGroup(classes="footer-row"):
                for entry in row:
                    yield FooterKey(entry.key, entry.display, entry.description, entry.action,
                                    disabled=not entry.enabled, tooltip=entry.tooltip).data_bind(
                                        compact=Footer.compact)

    async def recompose(self) -> None:
        """Rebuild the keys only if they changed: a focus change asks twice (Tab on the briefing
        changes what Enter does the first time, nothing the second), and every rebuild is a layout
        pass and a repaint of the footer, which an SSH seat sends to the player."""
        if self._shown is not None and self.is_attached and self.rows() == self._shown:
            return
        await super().recompose()

    def on_resize(self, event: events.Resize) -> None:
        """Lay the keys out again for the new width."""
        if event.size.width != self._rows_for and self._bindings_ready:
            self.call_after_refresh(self.recompose)
