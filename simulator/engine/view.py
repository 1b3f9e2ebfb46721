"""What one seat knows: a fold of the events it received. Policies, the TUI and remote clients read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.engine.events import Event
from simulator.format.durations import clock


@dataclass
class InjectSeen:
    """An inject as it reached the team."""

    t: float
    seq: int
    inject: str
    channel: str
    sender: str
    sender_title: str
    subject: str
    body: str
    to: tuple[str, ...]
    read: bool = False


@dataclass
class PendingSeen:
    """A request waiting for approval."""

    request: int
    action: str
    title: str
    by: str
    approver: str
    t: float


@dataclass
class DrillView:
    """Everything one seat can see, rebuilt by applying events in order.

    ``seat`` is a role, ``None`` for the hot seat (every role, no hidden truth) or
    ``"facilitator"`` (everything, including the truth).
    """

    seat: str | None = None
    now: float = 0.0
    seq: int = 0
    scenario: str = ""
    title: str = ""
    duration: float = 0.0
    roles: list[str] = field(default_factory=list)
    signals: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    """Signal id → (time, value) readings."""
    alerting: set[str] = field(default_factory=set)
    alerts: list[tuple[float, str]] = field(default_factory=list)
    injects: list[InjectSeen] = field(default_factory=list)
    loads: dict[str, float] = field(default_factory=dict)
    declared_at: float | None = None
    commander: str | None = None
    severity: str | None = None
    classification: str | None = None
    escalations: dict[str, float] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)
    stages_done: dict[int, float] = field(default_factory=dict)
    watch_until: float | None = None
    watch_results: list[tuple[float, bool]] = field(default_factory=list)
    """(start time, held) of every finished watch period."""
    investigating_until: float | None = None
    findings: dict[str, Any] | None = None
    pending: dict[int, PendingSeen] = field(default_factory=dict)
    in_flight: dict[int, tuple[str, str, float]] = field(default_factory=dict)
    """Request → (action id, title, ETA)."""
    effective: list[tuple[float, str, str, int]] = field(default_factory=list)
    """(time, action id, title, stage) of every action that took effect."""
    clocks: dict[str, dict[str, Any]] = field(default_factory=dict)
    taken: set[str] = field(default_factory=set)
    """Actions (catalogue ids and verbs) accepted so far."""
    refusals: list[tuple[float, str, str]] = field(default_factory=list)
    resolved_at: float | None = None
    ended: bool = False
    harm: list[tuple[float, float, int]] = field(default_factory=list)
    """Hidden truth, only for the facilitator seat: (time, rate, cumulative harmful outputs)."""
    timeline: list[tuple[float, str]] = field(default_factory=list)
    result: dict[str, Any] | None = None
    _sender: tuple[float, str | None, str | None] = field(default=(-1.0, None, None), repr=False)
    """(time, role, person) of the last command: who wrote the message event it leads to."""

    def apply(self, event: Event) -> None:
        """Fold one event into the view (events this seat may not see are ignored)."""
        if self.seat is not None and not event.visible_to(self.seat):
            return
        if event.hidden and self.seat is None:
            return
        self.now = max(self.now, event.t)
        self.seq = event.seq
        handler = getattr(self, f"_on_{event.kind.value}", None)
        if handler is not None:
            handler(event, event.payload)

    def extend(self, events: list[Event]) -> DrillView:
        """Apply events in order; returns ``self`` for chaining."""
        for event in events:
            self.apply(event)
        return self

    @property
    def stage(self) -> int:
        """The remediation stage being worked on (1–3), or 0 before declaration."""
        if self.declared_at is None:
            return 0
        done = [s for s in (1, 2, 3) if s in self.stages_done]
        return min(3, max(done, default=0) + 1)

    @property
    def unread(self) -> int:
        """Injects not yet opened."""
        return sum(1 for i in self.injects if not i.read)

    def mark(self, text: str, t: float | None = None) -> None:
        """Add a line to the timeline."""
        self.timeline.append((self.now if t is None else t, text))

    # --- handlers, one per event kind --------------------------------------------------

    def _on_drill_started(self, e: Event, p: dict[str, Any]) -> None:
        self.scenario, self.title = p["scenario"], p["title"]
        self.duration, self.roles = float(p["duration"]), list(p["roles"])

    def _on_tick(self, e: Event, p: dict[str, Any]) -> None:
        for sid, reading in p["signals"].items():
            self.signals.setdefault(sid, []).append((e.t, float(reading["value"])))
        self.loads = dict(p["loads"])

    def _on_harm(self, e: Event, p: dict[str, Any]) -> None:
        self.harm.append((e.t, float(p["rate"]), int(p["total"])))

    def _on_alert(self, e: Event, p: dict[str, Any]) -> None:
        self.alerting.add(p["signal"])
        self.alerts.append((e.t, p["signal"]))
        self.mark(f"ALERT {p['title']}")

    def _on_alert_cleared(self, e: Event, p: dict[str, Any]) -> None:
        self.alerting.discard(p["signal"])

    def _on_inject(self, e: Event, p: dict[str, Any]) -> None:
        self.injects.append(InjectSeen(e.t, e.seq, p["inject"], p["channel"], p["sender"],
                                       p["sender_title"], p["subject"], p["body"], e.to or ()))
        self.mark(f"[{p['channel']}] {p['subject']}")

    def _on_command(self, e: Event, p: dict[str, Any]) -> None:
        self.taken.add(p["action"])
        self._sender = (e.t, e.actor, p.get("player"))

    def _on_refused(self, e: Event, p: dict[str, Any]) -> None:
        self.refusals.append((e.t, p["action"], p["reason"]))

    def _on_approval_requested(self, e: Event, p: dict[str, Any]) -> None:
        self.pending[p["request"]] = PendingSeen(p["request"], p["action"], p["title"], p["by"],
                                                 p["approver"], e.t)
        self.mark(f"{p['by']} asks {p['approver']} to approve: {p['title']}")

    def _on_approval_granted(self, e: Event, p: dict[str, Any]) -> None:
        self.pending.pop(p["request"], None)
        self.mark(f"{e.actor} approved #{p['request']} {p['action']}")

    def _on_approval_denied(self, e: Event, p: dict[str, Any]) -> None:
        self.pending.pop(p["request"], None)
        self.mark(f"{e.actor} denied #{p['request']} {p['action']}")

    def _on_action_started(self, e: Event, p: dict[str, Any]) -> None:
        self.in_flight[p["request"]] = (p["action"], p["title"], float(p["eta"]))
        self.mark(f"{e.actor}: {p['title']} (effective ~{clock(float(p['eta']))})")

    def _on_action_effective(self, e: Event, p: dict[str, Any]) -> None:
        self.in_flight.pop(p["request"], None)
        self.effective.append((e.t, p["action"], p["title"], int(p["stage"])))
        self.mark(f"in effect: {p['title']}")

    def _on_incident_declared(self, e: Event, p: dict[str, Any]) -> None:
        self.declared_at, self.commander = e.t, p["commander"]
        self.mark(f"incident declared by {e.actor}; commander {p['commander']}")

    def _on_severity_set(self, e: Event, p: dict[str, Any]) -> None:
        self.severity = p["level"]
        self.mark(f"severity {p['level'].upper()}")

    def _on_classified(self, e: Event, p: dict[str, Any]) -> None:
        self.classification = p["harm_type"]
        self.mark(f"classified as {p['harm_type']}")

    def _on_escalated(self, e: Event, p: dict[str, Any]) -> None:
        self.escalations.setdefault(p["to"], e.t)
        self.mark(f"{e.actor} escalated to {p['to']}")

    def _on_update_sent(self, e: Event, p: dict[str, Any]) -> None:
        self.updates.append({"t": e.t, "by": e.actor, **p})
        self.mark(f"{e.actor} sent an update to {p['audience']}")

    def _on_investigation_started(self, e: Event, p: dict[str, Any]) -> None:
        self.investigating_until = float(p["eta"])
        self.mark(f"{e.actor} started an investigation")

    def _on_findings(self, e: Event, p: dict[str, Any]) -> None:
        self.investigating_until = None
        self.findings = {**p, "t": e.t, "by": e.actor}
        self.mark("investigation findings arrived")

    def _on_watch_started(self, e: Event, p: dict[str, Any]) -> None:
        self.watch_until = float(p["ends"])
        self.mark("watch period started")

    def _on_watch_ended(self, e: Event, p: dict[str, Any]) -> None:
        self.watch_until = None
        self.watch_results.append((float(p["started"]), bool(p["passed"])))
        self.mark("watch period " + ("held: harm stayed under threshold" if p["passed"]
                                     else "FAILED: harm rose above threshold"))

    def _on_stage_declared(self, e: Event, p: dict[str, Any]) -> None:
        self.stages_done[int(p["stage"])] = e.t
        self.mark(f"stage {p['stage']} declared done")

    def _on_rotated(self, e: Event, p: dict[str, Any]) -> None:
        self.loads[p["target"]] = 0.0
        self.mark(f"{p['target']} rotated (handoff until {clock(float(p['back']))})")

    def _on_rested(self, e: Event, p: dict[str, Any]) -> None:
        self.mark(f"{p['target']} resting until {clock(float(p['back']))}")

    def _on_regulator_notified(self, e: Event, p: dict[str, Any]) -> None:
        self.mark(f"{e.actor} notified {p['authority']}")

    def _on_message(self, e: Event, p: dict[str, Any]) -> None:
        t, role, player = self._sender
        name = player if (t, role) == (e.t, e.actor) else None
        self.messages.append({"t": e.t, "from": e.actor, "to": list(p["to"]), "text": p["text"],
                              "name": name})

    def _on_resolved(self, e: Event, p: dict[str, Any]) -> None:
        self.resolved_at = e.t
        self.mark("incident resolved")

    def _on_clock_started(self, e: Event, p: dict[str, Any]) -> None:
        self.clocks[p["clock"]] = {"title": p["title"], "due": float(p["due"]), "status": "running"}

    def _on_clock_met(self, e: Event, p: dict[str, Any]) -> None:
        if p["clock"] in self.clocks:
            self.clocks[p["clock"]]["status"] = "met"

    def _on_clock_missed(self, e: Event, p: dict[str, Any]) -> None:
        if p["clock"] in self.clocks:
            self.clocks[p["clock"]]["status"] = "missed"

    def _on_drill_ended(self, e: Event, p: dict[str, Any]) -> None:
        self.ended = True
        self.mark("drill ended")

    def _on_result(self, e: Event, p: dict[str, Any]) -> None:
        self.result = dict(p)
