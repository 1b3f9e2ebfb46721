"""The inject feed: messages that reached the team, newest first, unread marked, the selected in full."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.reactive import reactive
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from simulator.engine.view import InjectSeen
from simulator.format.durations import clock
from tui.format import BORDER_CELLS, hang_content, highlight_redacted, reflow, scroll_hint, short_role
from tui.widgets.picklist import PickList

CHANNEL_ICONS = {"pager": "PAGE", "email": "MAIL", "chat": "CHAT", "ticket": "TCKT", "social": "SOCL",
                 "press": "PRES", "regulator": "REGU", "dashboard": "DASH", "question": "QSTN"}
"""Four-letter channel tags for the feed column."""


def feed_line(inject: InjectSeen) -> Content:
    """One feed row: unread marker, time, channel, recipients and subject (on one line: the list wraps
    it under a hanging indent, as the action list does)."""
    marker = Content.styled("● ", "bold $text-accent") if not inject.read else Content("  ")
    to = ",".join(short_role(r) for r in inject.to)
    return Content.assemble(marker, (clock(inject.t), "dim"), " ",
                            (CHANNEL_ICONS.get(inject.channel, inject.channel[:4].upper()), "bold"),
                            " ", (f"→{to} ", "dim"), (inject.subject, "" if inject.read else "bold"))


def inject_detail(inject: InjectSeen) -> Content:
    """The full inject: subject, sender persona, channel, time, recipients and body."""
    sender = inject.sender + (f", {inject.sender_title}" if inject.sender_title else "")
    return Content.assemble(
        (inject.subject, "bold"), "\n",
        ("From ", "dim"), sender, ("  via ", "dim"), inject.channel, ("  at ", "dim"), clock(inject.t),
        ("  to ", "dim"), ", ".join(short_role(r) for r in inject.to), "\n\n",
        highlight_redacted(reflow(inject.body.strip())))


class InjectDetail(VerticalScroll):
    """The highlighted inject in full; when it is taller than its box, the line above it says how
    much is out of sight and that tab then ↑↓ scrolls it."""

    def show_hint(self) -> None:
        """Say on the top border how many lines are out of sight, and which way."""
        above = self.scroll_offset.y
        below = max(0, self.virtual_size.height - above - self.scrollable_content_region.height)
        self.border_title = scroll_hint(above, below, self.size.width - BORDER_CELLS, "tab")

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Scrolling changes what is out of sight."""
        super().watch_scroll_y(old, new)
        self.show_hint()

    def on_resize(self, event: events.Resize) -> None:
        """A new size changes what fits."""
        self.call_after_refresh(self.show_hint)


class InjectFeed(Vertical):
    """Inject list and the selected inject's full text; ``f`` narrows the list to the acting role."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f", "toggle_filter", "Filter", id="feed.filter",
                tooltip="Filter the feed to the acting role (again: all)")]

    only_role: reactive[str | None] = reactive(None)
    """Show only injects addressed to this role (``None``: all)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.injects: list[InjectSeen] = []
        self.acting: str | None = None
        self._shown: tuple[object, ...] = ()

    def compose(self) -> ComposeResult:
        yield PickList(id="inject-list")
        with InjectDetail(id="inject-detail-box"):
            yield Static("No injects yet. They arrive here as the drill runs.", id="inject-detail")

    def show(self, injects: Sequence[InjectSeen], acting: str | None) -> None:
        """Bring the list up to date (new injects, read markers, the filter), its rows wrapped to its
        width under a hanging indent."""
        self.injects, self.acting = list(injects), acting
        visible = self.visible_injects()
        options = self.query_one("#inject-list", PickList)
        # the width and the room, not the size: the list's height follows its rows
        key = (self.only_role, options.size.width, options.room(),
               tuple((i.seq, i.read, i.body) for i in visible))
        if key == self._shown:
            return
        self._shown = key
        selected = options.highlighted_option.id if options.highlighted_option else None
        rows = options.fitted(lambda width: [hang_content(feed_line(i), width) for i in visible])
        options.set_options([Option(row, id=str(i.seq)) for i, row in zip(visible, rows, strict=True)])
        if selected is not None and any(str(i.seq) == selected for i in visible):
            options.highlighted = options.get_option_index(selected)
        elif visible:
            self.query_one("#inject-detail", Static).update(Content.styled(
                "Press i to read the newest inject, then ↑/↓ for the others (● marks unread).", "dim"))
        unread = sum(1 for i in self.injects if not i.read)
        scope = f" for {short_role(self.only_role)}" if self.only_role else ""
        self.border_title = f"Injects{scope} ({unread} unread)" if unread else f"Injects{scope}"

    def visible_injects(self) -> list[InjectSeen]:
        """Injects passing the filter, newest first."""
        chosen = [i for i in self.injects if self.only_role is None or self.only_role in i.to]
        return sorted(chosen, key=lambda i: -i.seq)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Moving into the feed (``i``, tab or a click) opens the newest inject if none is open yet."""
        options = self.query_one("#inject-list", OptionList)
        if event.widget is options and options.highlighted is None and options.option_count:
            options.highlighted = 0

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Show the highlighted inject in full and mark it read."""
        inject = next((i for i in self.injects if str(i.seq) == event.option.id), None)
        if inject is None:
            return
        inject.read = True
        self.query_one("#inject-detail", Static).update(inject_detail(inject))
        self.show(self.injects, self.acting)
        box = self.query_one(InjectDetail)
        box.scroll_home(animate=False)
        box.call_after_refresh(box.show_hint)

    def on_resize(self, event: events.Resize) -> None:
        """The list takes at most half the panel (8 rows at the most), so the open inject keeps room
        to be read on a small terminal (at 80×24 five injects left it two lines)."""
        self.query_one("#inject-list", OptionList).styles.max_height = max(3, min(8, event.size.height // 2))
        self.call_after_refresh(self.show, self.injects, self.acting)  # wrap the rows to the new width

    def action_toggle_filter(self) -> None:
        """Switch between every inject and only those for the acting role."""
        self.only_role = None if self.only_role is not None else self.acting
        self.show(self.injects, self.acting)
