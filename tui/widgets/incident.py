"""The incident panel: declared, commander, severity, classification, stage, watch, what is in motion."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from simulator.engine.view import DrillView
from simulator.format.durations import clock
from tui.format import countdown, short_role

STAGES = {0: "not declared", 1: "1 · stop the bleed", 2: "2 · fan out and strengthen",
          3: "3 · fix at the source"}
"""Remediation stages as the panel names them."""


def status_lines(view: DrillView) -> list[Content]:
    """Declared, commander, severity, classification, stage and watch period."""
    declared = (Content.styled(f"declared {clock(view.declared_at)}", "bold $text-success")
                if view.declared_at is not None else Content.styled("NOT DECLARED", "bold $text-error"))
    watch = ("none" if view.watch_until is None and not view.watch_results else
             f"running, ends {clock(view.watch_until)}" if view.watch_until is not None else
             "held" if view.watch_results[-1][1] else "FAILED: harm rose above threshold")
    investigation = ("findings in" if view.findings else
                     f"running, ETA {clock(view.investigating_until)}" if view.investigating_until else "—")
    return [
        Content.assemble(("Incident ", "dim"), declared, ("  commander ", "dim"),
                         short_role(view.commander) if view.commander else "—"),
        Content.assemble(("Severity ", "dim"), (view.severity or "—").upper(),
                         ("  Class ", "dim"), view.classification or "—"),
        Content.assemble(("Stage ", "dim"), STAGES[view.stage], ("  Watch ", "dim"), watch),
        Content.assemble(("Escalated ", "dim"), ", ".join(view.escalations) or "—",
                         ("  Updates ", "dim"), str(len(view.updates)),
                         ("  Investigation ", "dim"), investigation),
    ]


def motion_lines(view: DrillView) -> list[Content]:
    """Mitigations in effect, actions under way with ETA, requests awaiting approval, the last refusal."""
    lines: list[Content] = []
    for _, _, title, stage in view.effective:
        lines.append(Content.assemble(("✔ ", "$text-success"), title, (f"  (stage {stage})", "dim")))
    for _, title, eta in view.in_flight.values():
        lines.append(Content.assemble(("⧗ ", "$text-warning"), title,
                                      (f"  ETA {clock(eta)} (in {countdown(eta - view.now)})", "dim")))
    for p in view.pending.values():
        lines.append(Content.assemble(("? ", "bold $text-accent"), f"#{p.request} {p.title}",
                                      (f"  {short_role(p.by)} asks {short_role(p.approver)} · a", "dim")))
    if view.refusals:
        t, action, reason = view.refusals[-1]
        lines.append(Content.assemble(("✘ ", "$text-error"), f"{action} refused at {clock(t)}: ",
                                      (reason, "italic")))
    return lines or [Content.styled("No mitigations yet.", "dim")]


class IncidentPanel(Static):
    """What the team has declared and set in motion, from the view."""

    BORDER_TITLE = "Incident"

    def show(self, view: DrillView) -> None:
        """Redraw from the view."""
        self.update(Content("\n").join([*status_lines(view), Content(""), *motion_lines(view)]))
