"""Typed event payloads: one model per event kind, and one ``describe()`` per model.

A journal line and a wire frame carry an event's payload as a JSON object; :func:`payload_of`
turns it into the model of its kind (the union :data:`Payload`, told apart by ``kind`` as
:mod:`simulator.team.protocol` tells frames apart). Readers ``match`` on the model and end with
``assert_never``, so mypy names any kind a reader forgot. ``describe()`` is the one place an event
becomes words: the after-action timeline, the headless client's lines and the dashboard's
timeline all use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

from simulator.engine.events import Event, Kind
from simulator.format.durations import clock


@dataclass(frozen=True, slots=True)
class Base:
    """What every payload model has: its kind, and how it reads."""

    kind: ClassVar[Kind]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Base:
        """The model of a payload object (unknown keys are an error)."""
        return cls(**payload)

    def describe(self, event: Event) -> str:
        """One line saying what happened, in plain words."""
        return str(self.kind)


@dataclass(frozen=True, slots=True)
class DrillStarted(Base):
    kind: ClassVar[Kind] = Kind.DRILL_STARTED
    scenario: str
    title: str
    seed: int
    duration: float
    tick: float
    roles: list[str]

    def describe(self, event: Event) -> str:
        return f"drill started: {self.title} (seed {self.seed})"


@dataclass(frozen=True, slots=True)
class Tick(Base):
    """Observed signal readings (``{signal: {value, alerting}}``) and responder loads."""

    kind: ClassVar[Kind] = Kind.TICK
    signals: dict[str, dict[str, Any]]
    loads: dict[str, float]

    def describe(self, event: Event) -> str:
        readings = ", ".join(f"{sid} {r['value']:g}" for sid, r in self.signals.items())
        return f"tick: {readings or 'no signals'}"


@dataclass(frozen=True, slots=True)
class Harm(Base):
    """Hidden truth for one tick."""

    kind: ClassVar[Kind] = Kind.HARM
    rate: float
    count: int
    by_stream: dict[str, int]
    total: int
    weighted_total: float

    def describe(self, event: Event) -> str:
        return f"truth: {self.count:,} harmful outputs ({self.total:,} so far, {self.rate:.2f}/s)"


@dataclass(frozen=True, slots=True)
class Alert(Base):
    kind: ClassVar[Kind] = Kind.ALERT
    signal: str
    title: str
    value: float

    def describe(self, event: Event) -> str:
        return f"alert: {self.title} (reading {self.value:g})"


@dataclass(frozen=True, slots=True)
class AlertCleared(Base):
    kind: ClassVar[Kind] = Kind.ALERT_CLEARED
    signal: str

    def describe(self, event: Event) -> str:
        return f"alert cleared: {self.signal}"


@dataclass(frozen=True, slots=True)
class Inject(Base):
    kind: ClassVar[Kind] = Kind.INJECT
    inject: str
    channel: str
    sender: str
    sender_title: str
    subject: str
    body: str

    def describe(self, event: Event) -> str:
        return (f"[{self.channel}] {self.subject} — from {self.sender} ({self.sender_title}) "
                f"to {', '.join(event.to or ()) or 'everyone'}")


@dataclass(frozen=True, slots=True)
class CommandTaken(Base):
    """An accepted command, exactly as submitted (replay re-submits these)."""

    kind: ClassVar[Kind] = Kind.COMMAND
    action: str
    params: dict[str, Any]
    player: str | None = None

    def describe(self, event: Event) -> str:
        return f"{event.actor or 'someone'}: {self.action}"


@dataclass(frozen=True, slots=True)
class Refused(Base):
    kind: ClassVar[Kind] = Kind.REFUSED
    action: str
    params: dict[str, Any]
    reason: str
    player: str | None = None

    def describe(self, event: Event) -> str:
        return f"refused: {self.action} — {self.reason}"


@dataclass(frozen=True, slots=True)
class ApprovalRequested(Base):
    kind: ClassVar[Kind] = Kind.APPROVAL_REQUESTED
    request: int
    action: str
    title: str
    by: str
    approver: str

    def describe(self, event: Event) -> str:
        return f"asks {self.approver} to approve #{self.request}: {self.title}"


@dataclass(frozen=True, slots=True)
class ApprovalGranted(Base):
    kind: ClassVar[Kind] = Kind.APPROVAL_GRANTED
    request: int
    action: str

    def describe(self, event: Event) -> str:
        return f"approved #{self.request} {self.action}"


@dataclass(frozen=True, slots=True)
class ApprovalDenied(Base):
    kind: ClassVar[Kind] = Kind.APPROVAL_DENIED
    request: int
    action: str
    reason: str = ""

    def describe(self, event: Event) -> str:
        return f"denied #{self.request} {self.action}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ActionStarted(Base):
    kind: ClassVar[Kind] = Kind.ACTION_STARTED
    request: int
    action: str
    title: str
    eta: float

    def describe(self, event: Event) -> str:
        return f"started: {self.title} (effective ~{clock(self.eta)})"


@dataclass(frozen=True, slots=True)
class ActionEffective(Base):
    kind: ClassVar[Kind] = Kind.ACTION_EFFECTIVE
    request: int
    action: str
    title: str
    stage: int

    def describe(self, event: Event) -> str:
        return f"in effect: {self.title} (stage {self.stage})"


@dataclass(frozen=True, slots=True)
class IncidentDeclared(Base):
    kind: ClassVar[Kind] = Kind.INCIDENT_DECLARED
    commander: str

    def describe(self, event: Event) -> str:
        return f"incident declared; commander {self.commander}"


@dataclass(frozen=True, slots=True)
class SeveritySet(Base):
    kind: ClassVar[Kind] = Kind.SEVERITY_SET
    level: str

    def describe(self, event: Event) -> str:
        return f"severity set to {self.level.upper()}"


@dataclass(frozen=True, slots=True)
class Classified(Base):
    kind: ClassVar[Kind] = Kind.CLASSIFIED
    harm_type: str
    hazard: str | None = None

    def describe(self, event: Event) -> str:
        return f"harm classified as {self.harm_type} ({self.hazard or 'no hazard code'})"


@dataclass(frozen=True, slots=True)
class Escalated(Base):
    kind: ClassVar[Kind] = Kind.ESCALATED
    to: str

    def describe(self, event: Event) -> str:
        return f"escalated to {self.to}"


@dataclass(frozen=True, slots=True)
class UpdateSent(Base):
    kind: ClassVar[Kind] = Kind.UPDATE_SENT
    audience: str
    know: str
    suspect: str
    doing: str
    structured: bool

    def describe(self, event: Event) -> str:
        return (f"update to {self.audience}: know: {self.know} / suspect: {self.suspect} / "
                f"doing: {self.doing}" + ("" if self.structured else " (unstructured)"))


@dataclass(frozen=True, slots=True)
class InvestigationStarted(Base):
    kind: ClassVar[Kind] = Kind.INVESTIGATION_STARTED
    eta: float

    def describe(self, event: Event) -> str:
        return f"investigation started (findings ~{clock(self.eta)})"


@dataclass(frozen=True, slots=True)
class Findings(Base):
    kind: ClassVar[Kind] = Kind.FINDINGS
    factors: list[str]
    streams: list[dict[str, Any]]
    logs: str

    def describe(self, event: Event) -> str:
        return f"findings: {len(self.factors)} contributing factor(s); logs {self.logs}"


@dataclass(frozen=True, slots=True)
class WatchStarted(Base):
    kind: ClassVar[Kind] = Kind.WATCH_STARTED
    ends: float

    def describe(self, event: Event) -> str:
        return f"watch period started (until {clock(self.ends)})"


@dataclass(frozen=True, slots=True)
class WatchEnded(Base):
    kind: ClassVar[Kind] = Kind.WATCH_ENDED
    started: float
    passed: bool

    def describe(self, event: Event) -> str:
        return "watch period held" if self.passed else "watch period FAILED: harm above threshold"


@dataclass(frozen=True, slots=True)
class StageDeclared(Base):
    kind: ClassVar[Kind] = Kind.STAGE_DECLARED
    stage: int

    def describe(self, event: Event) -> str:
        return f"stage {self.stage} declared done"


@dataclass(frozen=True, slots=True)
class Resurgence(Base):
    """Harm back above the threshold after a stage was declared done (or declared done while above it)."""

    kind: ClassVar[Kind] = Kind.RESURGENCE
    rate: float
    stage: int | None = None
    declared_while_harmful: bool = False

    def describe(self, event: Event) -> str:
        return ("truth: stage declared done while harm continued" if self.declared_while_harmful
                else "truth: harm resurged")


@dataclass(frozen=True, slots=True)
class Rotated(Base):
    kind: ClassVar[Kind] = Kind.ROTATED
    target: str
    back: float

    def describe(self, event: Event) -> str:
        return f"rotated {self.target} (back {clock(self.back)})"


@dataclass(frozen=True, slots=True)
class Rested(Base):
    kind: ClassVar[Kind] = Kind.RESTED
    target: str
    back: float

    def describe(self, event: Event) -> str:
        return f"rested {self.target} (back {clock(self.back)})"


@dataclass(frozen=True, slots=True)
class RegulatorNotified(Base):
    kind: ClassVar[Kind] = Kind.REGULATOR_NOTIFIED
    authority: str
    summary: str = ""

    def describe(self, event: Event) -> str:
        return f"notified {self.authority}: {self.summary}"


@dataclass(frozen=True, slots=True)
class Message(Base):
    kind: ClassVar[Kind] = Kind.MESSAGE
    text: str
    to: list[str]

    def describe(self, event: Event) -> str:
        return f"message to {', '.join(self.to) or 'everyone'}: {self.text}"


@dataclass(frozen=True, slots=True)
class Resolved(Base):
    kind: ClassVar[Kind] = Kind.RESOLVED

    def describe(self, event: Event) -> str:
        return "incident resolved"


@dataclass(frozen=True, slots=True)
class ExpectationMet(Base):
    kind: ClassVar[Kind] = Kind.EXPECTATION_MET
    inject: str
    action: str
    role: str | None
    objective: str = ""

    def describe(self, event: Event) -> str:
        return f"truth: expectation met: {self.action} after {self.inject}"


@dataclass(frozen=True, slots=True)
class ExpectationMissed(Base):
    kind: ClassVar[Kind] = Kind.EXPECTATION_MISSED
    inject: str
    action: str
    role: str | None
    objective: str = ""

    def describe(self, event: Event) -> str:
        return f"truth: expectation missed: {self.action} after {self.inject}"


@dataclass(frozen=True, slots=True)
class ClockStarted(Base):
    kind: ClassVar[Kind] = Kind.CLOCK_STARTED
    clock: str
    title: str
    due: float
    met_by: str

    def describe(self, event: Event) -> str:
        return f"clock {self.clock} started ({self.title}, due {clock(self.due)})"


@dataclass(frozen=True, slots=True)
class ClockMet(Base):
    kind: ClassVar[Kind] = Kind.CLOCK_MET
    clock: str
    early_by: float

    def describe(self, event: Event) -> str:
        return f"clock {self.clock} met"


@dataclass(frozen=True, slots=True)
class ClockMissed(Base):
    kind: ClassVar[Kind] = Kind.CLOCK_MISSED
    clock: str

    def describe(self, event: Event) -> str:
        return f"clock {self.clock} MISSED"


@dataclass(frozen=True, slots=True)
class DrillEnded(Base):
    kind: ClassVar[Kind] = Kind.DRILL_ENDED
    reason: str

    def describe(self, event: Event) -> str:
        return f"drill ended ({self.reason})"


@dataclass(frozen=True, slots=True)
class Scored(Base):
    """The scored result (``ttx run --json``'s object), the journal's last event."""

    kind: ClassVar[Kind] = Kind.RESULT
    result: dict[str, Any]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Base:
        return cls(dict(payload))

    def describe(self, event: Event) -> str:
        return f"score {self.result.get('score')}"


@dataclass(frozen=True, slots=True)
class PlayerJoined(Base):
    kind: ClassVar[Kind] = Kind.PLAYER_JOINED
    player: str | None = None
    name: str | None = None
    role: str | None = None
    token_sha256: str | None = None
    rejoined: bool = False

    def describe(self, event: Event) -> str:
        return f"{self.name or self.player or 'a player'} {'rejoined' if self.rejoined else 'joined'}"


@dataclass(frozen=True, slots=True)
class PlayerLeft(Base):
    kind: ClassVar[Kind] = Kind.PLAYER_LEFT
    player: str | None = None
    name: str | None = None
    role: str | None = None

    def describe(self, event: Event) -> str:
        return f"{self.name or self.player or 'a player'} left"


@dataclass(frozen=True, slots=True)
class ClockChanged(Base):
    kind: ClassVar[Kind] = Kind.CLOCK_CHANGED
    reason: str
    running: bool
    speed: float
    by: str | None = None

    def describe(self, event: Event) -> str:
        state = f"running at {self.speed:g}×" if self.running else "paused"
        return f"clock {self.reason} by {self.by or 'the facilitator'}: {state}"


@dataclass(frozen=True, slots=True)
class SessionNote(Base):
    """A server's note about the session (hosted, resumed, a refused frame …); free-form fields."""

    kind: ClassVar[Kind] = Kind.SESSION_NOTE
    fields: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Base:
        return cls(dict(payload))

    def describe(self, event: Event) -> str:
        """The note in words (never its secrets' hashes)."""
        p = self.fields
        note = p.get("event")
        if note == "hosted":
            return f"drill hosted (clock {p.get('speed', 1):g}× when started)"
        if note == "resumed":
            return f"server resumed from its journal after {p.get('at_seq')} events"
        if note == "refused_frame":
            return f"refused a frame ({p.get('code')}): {p.get('reason')}"
        return str(p.get("text") or note or "note")


Payload = (DrillStarted | Tick | Harm | Alert | AlertCleared | Inject | CommandTaken | Refused
           | ApprovalRequested | ApprovalGranted | ApprovalDenied | ActionStarted | ActionEffective
           | IncidentDeclared | SeveritySet | Classified | Escalated | UpdateSent
           | InvestigationStarted | Findings | WatchStarted | WatchEnded | StageDeclared | Resurgence
           | Rotated | Rested | RegulatorNotified | Message | Resolved | ExpectationMet
           | ExpectationMissed | ClockStarted | ClockMet | ClockMissed | DrillEnded | Scored
           | PlayerJoined | PlayerLeft | ClockChanged | SessionNote)
"""Every event's payload, told apart by its ``kind``."""

MODELS: dict[Kind, type[Base]] = {model.kind: model for model in Payload.__args__}
"""Kind → payload model."""

assert set(MODELS) == set(Kind), f"no payload model for {set(Kind) - set(MODELS)}"


def payload_of(event: Event) -> Payload:
    """The typed payload of an event.

    Raises:
        TypeError: the payload does not fit its kind's model (a key missing or unknown).
    """
    return MODELS[event.kind].from_payload(event.payload)  # type: ignore[return-value]


def describe(event: Event) -> str:
    """One line saying what an event was, in plain words."""
    return payload_of(event).describe(event)


def field_names(kind: Kind) -> tuple[str, ...]:
    """The payload keys an event of ``kind`` carries."""
    return tuple(f.name for f in fields(MODELS[kind]))

