"""The incident panel: declared, commander, severity, classification, stage, watch, what is in motion,
and the investigation's findings. Countdowns tick with the clock; what does not fit scrolls, and the
border says how much more there is."""

from __future__ import annotations

from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from simulator.engine.findings import logs_sentence
from simulator.engine.view import DrillView
from simulator.format.durations import clock
from simulator.format.taxonomy import HARM_TYPE_LABELS, HarmType
from tui.format import BORDER_CELLS, countdown, scroll_hint, short_role

STAGES = {0: "not declared", 1: "1 · stop the bleed", 2: "2 · fan out and strengthen",
          3: "3 · fix at the source"}
"""Remediation stages as the panel names them."""

GAP = "  "
"""Between two status items on one line."""


def status_items(view: DrillView, now: float) -> list[Content]:
    """Declared, commander, severity, classification, stage, watch, escalations, updates, investigation."""
    declared = (Content.styled(f"declared {clock(view.declared_at)}", "bold $text-success")
                if view.declared_at is not None else Content.styled("NOT DECLARED", "bold $text-error"))
    watch = ("none" if view.watch_until is None and not view.watch_results else
             f"running, ends {clock(view.watch_until)} (in {countdown(view.watch_until - now)})"
             if view.watch_until is not None else
             "held" if view.watch_results[-1][1] else "FAILED: harm rose above threshold")
    investigation = (f"done {clock(float(view.findings['t']))}, findings below" if view.findings else
                     f"running, ETA {clock(view.investigating_until)} "
                     f"(in {countdown(view.investigating_until - now)})" if view.investigating_until
                     else "—")

    def item(label: str, value: str | Content) -> Content:
        return Content.assemble((f"{label} ", "dim"), value)

    commander = short_role(view.commander) if view.commander else "—"
    return [item("Incident", declared), item("commander", commander),
            item("Severity", (view.severity or "—").upper()), item("Class", harm_label(view.classification)),
            item("Stage", STAGES[view.stage]), item("Watch", watch),
            item("Escalated", ", ".join(view.escalations) or "—"), item("Updates", str(len(view.updates))),
            item("Investigation", investigation)]


def harm_label(harm_type: str | None) -> str:
    """A classification as the form offered it ("CBRN information or capabilities", not ``cbrn``)."""
    if harm_type is None:
        return "—"
    try:
        return HARM_TYPE_LABELS[HarmType(harm_type)]
    except ValueError:
        return harm_type


def flow(items: list[Content], width: int) -> list[Content]:
    """Items joined on a line while they fit ``width`` cells; an item never splits across two lines
    unless it alone is wider (then it wraps)."""
    lines: list[Content] = []
    for item in items:
        if lines and width and lines[-1].cell_length + len(GAP) + item.cell_length <= width:
            lines[-1] = Content.assemble(lines[-1], GAP, item)
        else:
            lines.append(item)
    return lines


def motion_lines(view: DrillView, now: float) -> list[Content]:
    """Mitigations in effect, actions under way with ETA, requests awaiting approval, the last refusal."""
    lines: list[Content] = []
    for _, _, title, stage in view.effective:
        lines.append(Content.assemble(("✔ ", "$text-success"), title, (f"  (stage {stage})", "dim")))
    for _, title, eta in view.in_flight.values():
        lines.append(Content.assemble(("⧗ ", "$text-warning"), title,
                                      (f"  ETA {clock(eta)} (in {countdown(eta - now)})", "dim")))
    for p in view.pending.values():
        lines.append(Content.assemble(("? ", "bold $text-accent"), f"#{p.request} {p.title}",
                                      (f"  {short_role(p.by)} asks {short_role(p.approver)} · a", "dim")))
    if view.refusals:
        t, action, reason = view.refusals[-1]
        lines.append(Content.assemble(("✘ ", "$text-error"), f"{action} refused at {clock(t)}: ",
                                      (reason, "italic")))
    return lines or [Content.styled("No mitigations yet.", "dim")]


def findings_lines(findings: dict[str, Any] | None) -> list[Content]:
    """The investigation's contributing factors and what the logs could show (empty before it ends)."""
    if not findings:
        return []
    head = Content.assemble(("Findings ", "bold"), (f"({short_role(str(findings.get('by')))}, "
                                                    f"{clock(float(findings['t']))})", "dim"))
    factors = [Content.assemble(("• ", "$text-accent"), str(f)) for f in findings.get("factors", [])]
    return [Content(""), head, *factors, Content.styled(logs_sentence(findings), "italic")]


class IncidentPanel(VerticalScroll):
    """What the team has declared and set in motion, from the view and the clock."""

    BORDER_TITLE = "Incident"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.view: DrillView | None = None
        self.now = 0.0
        self._shown: tuple[str, int] = ("", 0)

    def compose(self) -> ComposeResult:
        yield Static(id="incident-text")

    def show(self, view: DrillView, now: float | None = None) -> None:
        """Redraw from the view at sim time ``now`` (the clock; the view's last event when ``None``);
        nothing is redrawn when the text would not change."""
        self.view, self.now = view, max(view.now, now if now is not None else view.now)
        width = self.scrollable_content_region.width
        text = Content("\n").join([*flow(status_items(view, self.now), width), Content(""),
                                   *motion_lines(view, self.now), *findings_lines(view.findings)])
        if (text.markup, width) == self._shown:
            return
        for shown in self.query("#incident-text").results(Static):  # none yet while being composed
            self._shown = (text.markup, width)
            shown.update(text)
            self.call_after_refresh(self.show_hint)

    def on_mount(self) -> None:
        """Draw what a :meth:`show` before the panel was composed (a team seat's frames) had to give up."""
        if self.view is not None:
            self.show(self.view, self.now)

    def show_hint(self) -> None:
        """Say on the bottom border how many lines are out of sight, and which way."""
        above = self.scroll_offset.y
        below = max(0, self.virtual_size.height - above - self.scrollable_content_region.height)
        self.border_subtitle = scroll_hint(above, below, self.size.width - BORDER_CELLS, "m")

    def watch_scroll_y(self, old: float, new: float) -> None:
        """Scrolling changes what is out of sight."""
        super().watch_scroll_y(old, new)
        self.show_hint()

    def on_resize(self, event: events.Resize) -> None:
        """Lay the status items out again for the new width."""
        if self.view is not None:
            self.show(self.view, self.now)
