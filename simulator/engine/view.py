"""What one seat knows: a fold of the events it received. Policies, the TUI and remote clients read it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, assert_never

from simulator.engine.events import Event
from simulator.engine.payloads import (
    ActionEffective,
    ActionStarted,
    Alert,
    AlertCleared,
    AnswerGiven,
    ApprovalDenied,
    ApprovalGranted,
    ApprovalRequested,
    Classified,
    ClockChanged,
    ClockMet,
    ClockMissed,
    ClockStarted,
    CommandTaken,
    DrillEnded,
    DrillStarted,
    Escalated,
    ExpectationMet,
    ExpectationMissed,
    Findings,
    Harm,
    HotWash,
    IncidentDeclared,
    Inject,
    InvestigationStarted,
    Message,
    Observation,
    Payload,
    PlayerJoined,
    PlayerLeft,
    QuestionAsked,
    QuestionClosed,
    Refused,
    RegulatorNotified,
    Resolved,
    Rested,
    Resurgence,
    Rotated,
    Scored,
    SessionNote,
    SeveritySet,
    StageDeclared,
    Tick,
    UpdateSent,
    WatchEnded,
    WatchStarted,
    payload_of,
)


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
class QuestionSeen:
    """A discussion question as it reached this seat, and (once closed) its expected answer."""

    t: float
    """When it was asked."""
    seq: int
    question: str
    prompt: str
    kind: str
    """``one``, ``several`` or ``text``."""
    options: list[dict[str, str]]
    """``[{id, text}]``."""
    to: tuple[str, ...]
    """The roles asked."""
    closes: float | None
    """When it closes on time (``None``: until closed)."""
    pauses: bool
    hot_wash: bool
    closed_at: float | None = None
    reason: str = ""
    """Why it closed: ``answered``, ``time``, ``facilitator`` or ``end``."""
    expected: list[str] = field(default_factory=list)
    why: str = ""
    alignment: float | None = None
    answers: list[dict[str, Any]] = field(default_factory=list)
    """``answer_given`` payloads with their time ``t`` (seen by the facilitator and evaluators, and
    in the review)."""

    @property
    def open(self) -> bool:
        """Whether it can still be answered."""
        return self.closed_at is None


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
    signal_titles: dict[str, str] = field(default_factory=dict)
    """Signal id → the title its alerts gave (what a person reads; the id is for scenario files)."""
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
    tick_t: float | None = None
    """When the latest tick seen closed (its readings and loads are the ones shown)."""
    _sender: tuple[float, str | None, str | None] = field(default=(-1.0, None, None), repr=False)
    """(time, role, person) of the last command: who wrote the message event it leads to."""
    last_effective: dict[str, float] = field(default_factory=dict)
    """Action id → when it last took effect."""
    effective_by_stage: dict[int, set[str]] = field(default_factory=dict)
    """Remediation stage → the actions of it that have taken effect."""
    channels: set[str] = field(default_factory=set)
    """Channels injects have arrived on."""
    first_inject: dict[str, float] = field(default_factory=dict)
    """Inject id → when it first arrived."""
    first_alert: dict[str, float] = field(default_factory=dict)
    """Signal id → when it first alerted."""
    questions: dict[str, QuestionSeen] = field(default_factory=dict)
    """Discussion questions asked of this seat, by id, in the order asked."""
    observations: list[dict[str, Any]] = field(default_factory=list)
    """``observation`` payloads with their time ``t`` (the facilitator's and evaluators' seats)."""
    hot_wash: bool = False
    """Whether the drill is in (or went through) its hot wash."""
    keep_timeline: bool = True
    """Whether :attr:`timeline` is written (a bot's view reads state, never the timeline's text)."""
    _open_count: int = field(default=0, repr=False)
    """Questions asked of this seat and not yet closed (so the open ones are not rescanned to find none)."""

    def apply(self, event: Event) -> None:
        """Fold one event into the view (events this seat may not see are ignored)."""
        if self.seat is not None and not event.visible_to(self.seat):
            return
        if event.hidden and self.seat is None:
            return
        if event.t > self.now:
            self.now = event.t
        self.seq = event.seq
        payload = payload_of(event)
        self._fold(event, payload)
        if self.keep_timeline:
            line = timeline_line(event, payload)
            if line is not None:
                self.mark(line)

    def _fold(self, e: Event, p: Payload) -> None:
        """What one event changes in the view; mypy checks every kind has its case.

        The commonest kinds come first (a ``match`` tries its cases in order).
        """
        match p:
            case CommandTaken():
                self.taken.add(p.action)
                self._sender = (e.t, e.actor, p.player)
            case Tick():
                self.observe_tick(e.t, {"signals": p.signals, "loads": p.loads})
            case Harm():
                self.harm.append((e.t, float(p.rate), int(p.total)))
            case QuestionAsked():
                before = self.questions.get(p.question)
                self._open_count += before is None or not before.open
                self.questions[p.question] = QuestionSeen(
                    e.t, e.seq, p.question, p.prompt, p.kind, [dict(o) for o in p.options], tuple(p.to),
                    None if p.closes is None else float(p.closes), bool(p.pauses), bool(p.hot_wash))
            case AnswerGiven():
                if p.question in self.questions:
                    self.questions[p.question].answers.append({"t": e.t, **e.payload})
            case QuestionClosed():
                asked = self.questions.get(p.question)
                if asked is not None:
                    if asked.closed_at is None:
                        self._open_count -= 1
                    asked.closed_at, asked.reason = e.t, p.reason
                    asked.expected, asked.why, asked.alignment = list(p.expected), p.why, p.alignment
            case UpdateSent():
                self.updates.append({"t": e.t, "by": e.actor, **e.payload})
            case Inject():
                self.injects.append(InjectSeen(e.t, e.seq, p.inject, p.channel, p.sender,
                                               p.sender_title, p.subject, p.body, e.to or ()))
                self.channels.add(p.channel)
                self.first_inject.setdefault(p.inject, e.t)
            case ActionStarted():
                self.in_flight[p.request] = (p.action, p.title, float(p.eta))
            case ActionEffective():
                self.in_flight.pop(p.request, None)
                self.effective.append((e.t, p.action, p.title, int(p.stage)))
                self.last_effective[p.action] = e.t
                self.effective_by_stage.setdefault(int(p.stage), set()).add(p.action)
            case Refused():
                self.refusals.append((e.t, p.action, p.reason))
            case ApprovalRequested():
                self.pending[p.request] = PendingSeen(p.request, p.action, p.title, p.by, p.approver, e.t)
            case ApprovalGranted() | ApprovalDenied():
                self.pending.pop(p.request, None)
            case WatchStarted():
                self.watch_until = float(p.ends)
            case WatchEnded():
                self.watch_until = None
                self.watch_results.append((float(p.started), bool(p.passed)))
            case StageDeclared():
                self.stages_done[int(p.stage)] = e.t
            case Escalated():
                self.escalations.setdefault(p.to, e.t)
            case Alert():
                self.alerting.add(p.signal)
                self.alerts.append((e.t, p.signal))
                self.signal_titles[p.signal] = p.title
                self.first_alert.setdefault(p.signal, e.t)
            case AlertCleared():
                self.alerting.discard(p.signal)
            case IncidentDeclared():
                self.declared_at, self.commander = e.t, p.commander
            case SeveritySet():
                self.severity = p.level
            case Classified():
                self.classification = p.harm_type
            case InvestigationStarted():
                self.investigating_until = float(p.eta)
            case Findings():
                self.investigating_until = None
                self.findings = {**e.payload, "t": e.t, "by": e.actor}
            case Rotated():
                self.loads[p.target] = 0.0
            case Message():
                t, role, player = self._sender
                name = player if (t, role) == (e.t, e.actor) else None
                self.messages.append({"t": e.t, "from": e.actor, "to": list(p.to), "text": p.text,
                                      "name": name})
            case Resolved():
                self.resolved_at = e.t
            case ClockStarted():
                self.clocks[p.clock] = {"title": p.title, "due": float(p.due), "status": "running"}
            case ClockMet() | ClockMissed():
                if p.clock in self.clocks:
                    self.clocks[p.clock]["status"] = "met" if isinstance(p, ClockMet) else "missed"
            case Observation():
                self.observations.append({"t": e.t, **e.payload})
            case HotWash():
                self.hot_wash = True
            case DrillStarted():
                self.scenario, self.title = p.scenario, p.title
                self.duration, self.roles = float(p.duration), list(p.roles)
            case DrillEnded():
                self.ended = True
            case Scored():
                self.result = dict(p.result)
            case (Rested() | RegulatorNotified() | Resurgence() | ExpectationMet() | ExpectationMissed()
                  | PlayerJoined() | PlayerLeft() | ClockChanged() | SessionNote()):
                pass
            case _:
                assert_never(p)

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
    def open_questions(self) -> list[QuestionSeen]:
        """Questions asked of this seat and not yet closed, in the order asked."""
        if not self._open_count:
            return []
        return [q for q in self.questions.values() if q.open]

    @property
    def unread(self) -> int:
        """Injects not yet opened."""
        return sum(1 for i in self.injects if not i.read)

    def mark(self, text: str, t: float | None = None) -> None:
        """Add a line to the timeline."""
        self.timeline.append((self.now if t is None else t, text))

    def observe_tick(self, t: float, p: dict[str, Any]) -> None:
        """Take one tick's readings and loads (from a ``tick`` event)."""
        if self.tick_t is not None and t <= self.tick_t:
            return
        for sid, reading in p["signals"].items():
            self.signals.setdefault(sid, []).append((t, float(reading["value"])))
        self.observe_loads(t, p["loads"])

    def observe_loads(self, t: float, loads: dict[str, float]) -> None:
        """Take one tick's responder loads only: a bot's view of a drill that builds no ``tick``
        events (:meth:`~simulator.engine.drill.Drill.latest_loads`; no policy reads the readings)."""
        if self.tick_t is not None and t <= self.tick_t:
            return
        self.tick_t = t
        self.loads = dict(loads)


def timeline_line(e: Event, p: Payload) -> str | None:
    """The line an event adds to a seat's timeline (``None``: it adds none); mypy checks every kind
    has its case. A pure function of the event, so a bot's view, which reads no timeline, skips it."""
    match p:
        case Inject():
            return f"[{p.channel}] {p.subject}"
        case ApprovalRequested():
            return f"{p.by} {p.describe(e)}"
        case ApprovalGranted() | ApprovalDenied() | Escalated():
            return f"{e.actor} {p.describe(e)}"
        case ActionStarted() | IncidentDeclared() | InvestigationStarted() | Rested() | RegulatorNotified():
            return f"{e.actor}: {p.describe(e)}"
        case UpdateSent():
            return f"{e.actor} sent an update to {p.audience}"
        case DrillEnded():
            return "drill ended"
        case (Alert() | ActionEffective() | SeveritySet() | Classified() | Findings() | WatchStarted()
              | WatchEnded() | StageDeclared() | Rotated() | Resolved() | QuestionAsked() | AnswerGiven()
              | QuestionClosed() | Observation() | HotWash()):
            return p.describe(e)
        case (DrillStarted() | Tick() | Harm() | AlertCleared() | CommandTaken() | Refused() | Message()
              | ClockStarted() | ClockMet() | ClockMissed() | Scored() | Resurgence() | ExpectationMet()
              | ExpectationMissed() | PlayerJoined() | PlayerLeft() | ClockChanged() | SessionNote()):
            return None
        case _:
            assert_never(p)
