"""Typed event payloads: one model per event kind, and one ``describe()`` per model.

A journal line and a wire frame carry an event's payload as a JSON object; :func:`payload_of`
turns it into the model of its kind (a named tuple, cheap to define and to build; the union
:data:`Payload`, told apart by the event's ``kind`` through :data:`MODELS`, as
:mod:`simulator.team.protocol` tells frames apart). Readers ``match`` on the model and end with
``assert_never``, so mypy names any kind a reader forgot. ``describe()`` is the one place an event
becomes words: the after-action timeline, the headless client's lines and the dashboard's
timeline all use it.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from simulator.engine.events import Event, Kind
from simulator.format.hms import clock


class DrillStarted(NamedTuple):
    scenario: str
    title: str
    seed: int
    duration: float
    tick: float
    roles: list[str]

    def describe(self, event: Event) -> str:
        return f"drill started: {self.title} (seed {self.seed})"


class Tick(NamedTuple):
    """Observed signal readings (``{signal: {value, alerting}}``) and responder loads."""

    signals: dict[str, dict[str, Any]]
    loads: dict[str, float]

    def describe(self, event: Event) -> str:
        readings = ", ".join(f"{sid} {r['value']:g}" for sid, r in self.signals.items())
        return f"tick: {readings or 'no signals'}"


class Harm(NamedTuple):
    """Hidden truth for one tick."""

    rate: float
    count: int  # type: ignore[assignment]  # the payload key; shadows tuple.count
    by_stream: dict[str, int]
    total: int
    weighted_total: float

    def describe(self, event: Event) -> str:
        return f"truth: {self.count:,} harmful outputs ({self.total:,} so far, {self.rate:.2f}/s)"


class Alert(NamedTuple):
    signal: str
    title: str
    value: float

    def describe(self, event: Event) -> str:
        return f"alert: {self.title} (reading {self.value:g})"


class AlertCleared(NamedTuple):
    signal: str

    def describe(self, event: Event) -> str:
        return f"alert cleared: {self.signal}"


class Inject(NamedTuple):
    inject: str
    channel: str
    sender: str
    sender_title: str
    subject: str
    body: str

    def describe(self, event: Event) -> str:
        return (f"[{self.channel}] {self.subject} — from {self.sender} ({self.sender_title}) "
                f"to {', '.join(event.to or ()) or 'everyone'}")


class CommandTaken(NamedTuple):
    """An accepted command, exactly as submitted (replay re-submits these)."""

    action: str
    params: dict[str, Any]
    player: str | None = None
    player_id: str | None = None
    """The team server's id of the person who sent it (``p3``); two players may share a name."""

    def describe(self, event: Event) -> str:
        return f"{event.actor or 'someone'}: {self.action}"


class Refused(NamedTuple):
    action: str
    params: dict[str, Any]
    reason: str
    player: str | None = None
    player_id: str | None = None

    def describe(self, event: Event) -> str:
        return f"refused: {self.action} — {self.reason}"


class ApprovalRequested(NamedTuple):
    request: int
    action: str
    title: str
    by: str
    approver: str

    def describe(self, event: Event) -> str:
        return f"asks {self.approver} to approve #{self.request}: {self.title}"


class ApprovalGranted(NamedTuple):
    request: int
    action: str

    def describe(self, event: Event) -> str:
        return f"approved #{self.request} {self.action}"


class ApprovalDenied(NamedTuple):
    request: int
    action: str
    reason: str = ""
    title: str = ""
    """What was denied, as the catalogue names it (journals before it was recorded: only ``action``)."""

    def describe(self, event: Event) -> str:
        return f"denied request #{self.request}: {self.title or self.action}" + (
            f" ({self.reason})" if self.reason else "")


class ActionStarted(NamedTuple):
    request: int
    action: str
    title: str
    eta: float

    def describe(self, event: Event) -> str:
        return f"started: {self.title} (effective ~{clock(self.eta)})"


class ActionEffective(NamedTuple):
    request: int
    action: str
    title: str
    stage: int

    def describe(self, event: Event) -> str:
        return f"in effect: {self.title} (stage {self.stage})"


class IncidentDeclared(NamedTuple):
    commander: str

    def describe(self, event: Event) -> str:
        return f"incident declared; commander {self.commander}"


class SeveritySet(NamedTuple):
    level: str

    def describe(self, event: Event) -> str:
        return f"severity set to {self.level.upper()}"


class Classified(NamedTuple):
    harm_type: str
    hazard: str | None = None

    def describe(self, event: Event) -> str:
        return f"harm classified as {self.harm_type} ({self.hazard or 'no hazard code'})"


class Escalated(NamedTuple):
    to: str

    def describe(self, event: Event) -> str:
        return f"escalated to {self.to}"


class UpdateSent(NamedTuple):
    audience: str
    know: str
    suspect: str
    doing: str
    structured: bool

    def describe(self, event: Event) -> str:
        return (f"update to {self.audience}: know: {self.know} / suspect: {self.suspect} / "
                f"doing: {self.doing}" + ("" if self.structured else " (unstructured)"))


class InvestigationStarted(NamedTuple):
    eta: float

    def describe(self, event: Event) -> str:
        return f"investigation started (findings ~{clock(self.eta)})"


class Findings(NamedTuple):
    factors: list[str]
    streams: list[dict[str, Any]]
    logs: str
    logs_from: float = 0.0
    """The earliest sim time the request logs still cover (0: nothing is gone)."""
    retention: float | None = None
    """The log retention window that cut them, seconds (``None``: unlimited)."""

    def describe(self, event: Event) -> str:
        return f"findings: {len(self.factors)} contributing factor(s); logs {self.logs}"


class WatchStarted(NamedTuple):
    ends: float

    def describe(self, event: Event) -> str:
        return f"watch period started (until {clock(self.ends)})"


class WatchEnded(NamedTuple):
    started: float
    passed: bool

    def describe(self, event: Event) -> str:
        return "watch period held" if self.passed else "watch period FAILED: harm above threshold"


class StageDeclared(NamedTuple):
    stage: int

    def describe(self, event: Event) -> str:
        return f"stage {self.stage} declared done"


class Resurgence(NamedTuple):
    """Harm back above the threshold after a stage was declared done (or declared done while above it)."""

    rate: float
    stage: int | None = None
    declared_while_harmful: bool = False

    def describe(self, event: Event) -> str:
        return ("truth: stage declared done while harm continued" if self.declared_while_harmful
                else "truth: harm resurged")


class Rotated(NamedTuple):
    target: str
    back: float

    def describe(self, event: Event) -> str:
        return f"rotated {self.target} (back {clock(self.back)})"


class Rested(NamedTuple):
    target: str
    back: float

    def describe(self, event: Event) -> str:
        return f"rested {self.target} (back {clock(self.back)})"


class RegulatorNotified(NamedTuple):
    authority: str
    summary: str = ""

    def describe(self, event: Event) -> str:
        return f"notified {self.authority}: {self.summary}"


class Message(NamedTuple):
    text: str
    to: list[str]

    def describe(self, event: Event) -> str:
        return f"message to {', '.join(self.to) or 'everyone'}: {self.text}"


class Resolved(NamedTuple):

    def describe(self, event: Event) -> str:
        return "incident resolved"


class ExpectationMet(NamedTuple):
    inject: str
    action: str
    role: str | None
    objective: str = ""

    def describe(self, event: Event) -> str:
        return f"truth: expectation met: {self.action} after {self.inject}"


class ExpectationMissed(NamedTuple):
    inject: str
    action: str
    role: str | None
    objective: str = ""

    def describe(self, event: Event) -> str:
        return f"truth: expectation missed: {self.action} after {self.inject}"


class ClockStarted(NamedTuple):
    clock: str
    title: str
    due: float
    met_by: str

    def describe(self, event: Event) -> str:
        return f"clock {self.clock} started ({self.title}, due {clock(self.due)})"


class ClockMet(NamedTuple):
    clock: str
    early_by: float

    def describe(self, event: Event) -> str:
        return f"clock {self.clock} met"


class ClockMissed(NamedTuple):
    clock: str

    def describe(self, event: Event) -> str:
        return f"clock {self.clock} MISSED"


class QuestionAsked(NamedTuple):
    """A discussion question, as the addressed roles (and the facilitator and evaluators) read it."""

    question: str
    prompt: str
    kind: str
    """``one``, ``several`` or ``text``."""
    options: list[dict[str, str]]
    """``[{id, text}]`` in the scenario's order (empty for ``text``)."""
    to: list[str]
    """The roles asked to answer."""
    closes: float | None
    """When it closes on time (``None``: until closed — a pausing or hot-wash question)."""
    pauses: bool
    hot_wash: bool

    def describe(self, event: Event) -> str:
        phase = "hot wash question" if self.hot_wash else "question"
        return f"{phase} for {', '.join(self.to)}: {self.prompt}"


class AnswerGiven(NamedTuple):
    """One player's answer (hidden from players until the end)."""

    question: str
    role: str
    player: str | None
    choices: list[str]
    text: str
    confidence: int | None
    """How sure, 0–100 % (``None`` on a free-text answer; older journals carry one there too)."""
    note: str = ""

    def describe(self, event: Event) -> str:
        if not self.choices:
            return f"{self.player or self.role} answered {self.question}: {self.text!r}"
        said = ", ".join(self.choices)
        return f"{self.player or self.role} answered {self.question}: {said} ({self.confidence}% sure)"


class QuestionClosed(NamedTuple):
    """A question closed; the expected answer and why go to the roles it was addressed to."""

    question: str
    reason: str
    """``answered``, ``time``, ``facilitator`` or ``end``."""
    answers: int
    expected: list[str]
    why: str
    alignment: float | None
    """Share of answers agreeing with the most common one (``None``: no choice answers)."""

    def describe(self, event: Event) -> str:
        shown = f"; expected {', '.join(self.expected)}" if self.expected else ""
        return f"question {self.question} closed ({self.reason}, {self.answers} answer(s)){shown}"


class Observation(NamedTuple):
    """A facilitator's or evaluator's observation (hidden from players until the end)."""

    by: str
    """Who wrote it (the player name, else the seat)."""
    seat: str
    """``facilitator`` or ``evaluator``."""
    objective: str
    tag: str
    """``strength`` or ``improvement``."""
    text: str

    def describe(self, event: Event) -> str:
        about = f" on {self.objective!r}" if self.objective else ""
        label = "strength" if self.tag == "strength" else "area for improvement"
        return f"{self.by} noted a {label}{about}: {self.text}"


class HotWash(NamedTuple):
    """The drill's time is up; the hot-wash questions are open and the clock stands still."""

    reason: str
    """Why the drill is ending: ``time`` or ``facilitator``."""
    questions: list[str]

    def describe(self, event: Event) -> str:
        return f"hot wash: {len(self.questions)} question(s) before the review"


def drill_ended_text(reason: str, hot_seat: bool = False) -> str:
    """How a drill ended, in words: ``reason`` is ``time`` or ``facilitator`` (the end command).

    In the hot seat (``ttx play``) the player at the keyboard ends the drill; the engine journals it
    as exercise control's end, so only the caller knows to say "the player".
    """
    if reason == "facilitator":
        return f"drill ended: the {'player' if hot_seat else 'facilitator'} ended it"
    return "drill ended: time ran out" if reason == "time" else f"drill ended ({reason})"


class DrillEnded(NamedTuple):
    reason: str

    def describe(self, event: Event) -> str:
        return drill_ended_text(self.reason)


class Scored(NamedTuple):
    """The scored result (``ttx run --json``'s object), the journal's last event."""

    result: dict[str, Any]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Payload:
        """The whole payload object is the model's one field."""
        return cls(dict(payload))

    def describe(self, event: Event) -> str:
        return f"score {self.result.get('score')}"


class PlayerJoined(NamedTuple):
    player: str | None = None
    name: str | None = None
    role: str | None = None
    token_sha256: str | None = None
    rejoined: bool = False

    def describe(self, event: Event) -> str:
        return f"{self.name or self.player or 'a player'} {'rejoined' if self.rejoined else 'joined'}"


class PlayerLeft(NamedTuple):
    player: str | None = None
    name: str | None = None
    role: str | None = None

    def describe(self, event: Event) -> str:
        return f"{self.name or self.player or 'a player'} left"


class ClockChanged(NamedTuple):
    reason: str
    running: bool
    speed: float
    by: str | None = None

    def describe(self, event: Event) -> str:
        state = f"running at {self.speed:g}×" if self.running else "paused"
        return f"clock {self.reason} by {self.by or 'the facilitator'}: {state}"


class SessionNote(NamedTuple):
    """A server's note about the session (hosted, resumed, a refused frame …); free-form fields."""

    fields: dict[str, Any]

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Payload:
        """The whole payload object is the model's one field."""
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
           | ExpectationMissed | ClockStarted | ClockMet | ClockMissed | QuestionAsked | AnswerGiven
           | QuestionClosed | Observation | HotWash | DrillEnded | Scored
           | PlayerJoined | PlayerLeft | ClockChanged | SessionNote)
"""Every event's payload, told apart by its ``kind``."""

MODELS: dict[Kind, type[Payload]] = {
    Kind.DRILL_STARTED: DrillStarted,
    Kind.TICK: Tick,
    Kind.HARM: Harm,
    Kind.ALERT: Alert,
    Kind.ALERT_CLEARED: AlertCleared,
    Kind.INJECT: Inject,
    Kind.COMMAND: CommandTaken,
    Kind.REFUSED: Refused,
    Kind.APPROVAL_REQUESTED: ApprovalRequested,
    Kind.APPROVAL_GRANTED: ApprovalGranted,
    Kind.APPROVAL_DENIED: ApprovalDenied,
    Kind.ACTION_STARTED: ActionStarted,
    Kind.ACTION_EFFECTIVE: ActionEffective,
    Kind.INCIDENT_DECLARED: IncidentDeclared,
    Kind.SEVERITY_SET: SeveritySet,
    Kind.CLASSIFIED: Classified,
    Kind.ESCALATED: Escalated,
    Kind.UPDATE_SENT: UpdateSent,
    Kind.INVESTIGATION_STARTED: InvestigationStarted,
    Kind.FINDINGS: Findings,
    Kind.WATCH_STARTED: WatchStarted,
    Kind.WATCH_ENDED: WatchEnded,
    Kind.STAGE_DECLARED: StageDeclared,
    Kind.RESURGENCE: Resurgence,
    Kind.ROTATED: Rotated,
    Kind.RESTED: Rested,
    Kind.REGULATOR_NOTIFIED: RegulatorNotified,
    Kind.MESSAGE: Message,
    Kind.RESOLVED: Resolved,
    Kind.EXPECTATION_MET: ExpectationMet,
    Kind.EXPECTATION_MISSED: ExpectationMissed,
    Kind.CLOCK_STARTED: ClockStarted,
    Kind.CLOCK_MET: ClockMet,
    Kind.CLOCK_MISSED: ClockMissed,
    Kind.QUESTION_ASKED: QuestionAsked,
    Kind.ANSWER_GIVEN: AnswerGiven,
    Kind.QUESTION_CLOSED: QuestionClosed,
    Kind.OBSERVATION: Observation,
    Kind.HOT_WASH: HotWash,
    Kind.DRILL_ENDED: DrillEnded,
    Kind.RESULT: Scored,
    Kind.PLAYER_JOINED: PlayerJoined,
    Kind.PLAYER_LEFT: PlayerLeft,
    Kind.CLOCK_CHANGED: ClockChanged,
    Kind.SESSION_NOTE: SessionNote,
}
"""Kind → payload model."""

assert set(MODELS) == set(Kind), f"no payload model for {set(Kind) - set(MODELS)}"


def payload_of(event: Event) -> Payload:
    """The typed payload of an event.

    Raises:
        TypeError: the payload does not fit its kind's model (a key missing or unknown).
    """
    model = MODELS[event.kind]
    if model is Scored or model is SessionNote:
        return model.from_payload(event.payload)
    return model(**event.payload)


def describe(event: Event) -> str:
    """One line saying what an event was, in plain words."""
    return payload_of(event).describe(event)


def field_names(kind: Kind) -> tuple[str, ...]:
    """The payload keys an event of ``kind`` carries."""
    return tuple(MODELS[kind]._fields)

