"""After-action analysis: turn a journal into the facts an HSEEP-shaped AAR/IP is written from.

Everything here is a fold of journal events (plus the scenario, for deadlines and targets, and a
do-nothing run on the same seed, for the baseline). Rendering lives in :mod:`simulator.analysis.report`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

from simulator.engine import historical
from simulator.engine.baseline import DoNothing, for_drill
from simulator.engine.discussion import ALIGNED
from simulator.engine.events import Event, Kind
from simulator.engine.findings import harm_found, logs_sentence
from simulator.engine.historical import RealTeam
from simulator.engine.journal import Journal
from simulator.engine.payloads import describe, drill_ended_text
from simulator.engine.replay import first_difference, rebuild
from simulator.engine.runner import finish, play_out
from simulator.engine.scoring import Result
from simulator.engine.session import HOT_SEAT
from simulator.format.durations import clock
from simulator.format.loader import LoadedScenario
from simulator.format.scenario import Scenario

TIMELINE_KINDS = frozenset({
    Kind.INJECT, Kind.ALERT, Kind.INCIDENT_DECLARED, Kind.SEVERITY_SET, Kind.CLASSIFIED,
    Kind.ESCALATED, Kind.UPDATE_SENT, Kind.INVESTIGATION_STARTED, Kind.FINDINGS,
    Kind.APPROVAL_REQUESTED, Kind.APPROVAL_GRANTED, Kind.APPROVAL_DENIED, Kind.ACTION_STARTED,
    Kind.ACTION_EFFECTIVE, Kind.WATCH_STARTED, Kind.WATCH_ENDED, Kind.STAGE_DECLARED,
    Kind.RESURGENCE, Kind.ROTATED, Kind.RESTED, Kind.REGULATOR_NOTIFIED, Kind.MESSAGE,
    Kind.RESOLVED, Kind.REFUSED, Kind.CLOCK_MET, Kind.CLOCK_MISSED, Kind.PLAYER_JOINED,
    Kind.PLAYER_LEFT, Kind.SESSION_NOTE, Kind.QUESTION_ASKED, Kind.ANSWER_GIVEN, Kind.QUESTION_CLOSED,
    Kind.OBSERVATION, Kind.HOT_WASH, Kind.DRILL_ENDED,
})
"""Event kinds listed in the report's timeline (commands show as their outcomes)."""

DEFAULT_DECLARE_WITHIN = 20 * 60.0
"""Declaration target after the first alert when the scenario's MSEL does not set one."""

LOAD_CONCERN = 0.6
"""Responder load above which the report flags exposure."""

OWNER_BY_AREA = {"detection": "ic", "stage1": "ml", "containment": "ml", "communication": "comms",
                 "escalation": "ic", "watch": "ic", "load": "ic", "refusals": "ic",
                 "classification": "ts", "clocks": "legal", "logs": "legal", "collateral": "ml"}
"""Who owns the corrective action for each kind of finding."""

VERB_OWNER = {"declare_incident": "ic", "set_severity": "ic", "escalate": "ic", "start_watch": "ic",
              "declare_stage_done": "ic", "rotate": "ic", "rest": "ic", "resolve": "ic", "approve": "ic",
              "classify": "ts", "investigate": "ts", "send_update": "comms", "notify_regulator": "legal"}
"""Owner of an expectation that names no role: by verb; catalogue actions go to the ML engineer."""


@dataclass
class TimelineEntry:
    """One row of the timeline."""

    t: float
    kind: str
    actor: str
    player: str | None
    text: str
    hidden: bool = False


@dataclass
class ExpectationRow:
    """One MSEL expected action and how the team did."""

    inject: str
    action: str
    role: str
    fired: float | None
    due: float | None
    status: str
    """``met``, ``late`` (missed, done after the deadline), ``missed`` or ``open``."""
    done_at: float | None
    objective: str


@dataclass
class Finding:
    """A strength or an area for improvement, with the numbers behind it."""

    area: str
    text: str
    action: str = ""
    """Corrective action (areas for improvement only)."""
    owner: str = ""
    by: str = ""
    """Who observed it (``Dana (evaluator)``); empty for a finding computed from the journal."""


@dataclass
class AnswerRow:
    """One answer to a discussion question, as the review shows it."""

    t: float
    who: str
    """The player's name, else the role."""
    role: str
    choices: list[str]
    text: str
    confidence: int | None
    """How sure, 0–100 % (``None`` for a free-text answer: it asks no confidence, and the one older
    journals carry there is not shown)."""
    note: str
    correct: bool | None
    """Whether it matches the expected answer (``None``: the question has none)."""


@dataclass
class QuestionRow:
    """A discussion question that was asked: every answer, the team's alignment, the expected answer."""

    question: str
    prompt: str
    kind: str
    to: list[str]
    options: dict[str, str]
    """Option id → text."""
    asked_at: float
    hot_wash: bool
    answers: list[AnswerRow] = field(default_factory=list)
    closed_at: float | None = None
    reason: str = ""
    expected: list[str] = field(default_factory=list)
    why: str = ""
    alignment: float | None = None
    """Share of the answers agreeing with the most common one (``None``: no choice answers)."""
    objective: str = ""

    @property
    def aligned(self) -> bool:
        """At least 60 % agreed with the most common answer."""
        return self.alignment is not None and self.alignment >= ALIGNED

    @property
    def correct(self) -> int:
        """Answers matching the expected answer."""
        return sum(1 for a in self.answers if a.correct)

    def shown(self, choices: list[str]) -> str:
        """Option ids as their text."""
        return "; ".join(self.options.get(c, c) for c in choices)


@dataclass
class ObservationRow:
    """A facilitator's or evaluator's observation."""

    t: float
    by: str
    seat: str
    objective: str
    tag: str
    """``strength`` or ``improvement``."""
    text: str


@dataclass
class ObjectiveEvidence:
    """One exercise objective and the evidence about it: expectations, questions, observations."""

    objective: str
    met: int = 0
    """MSEL expectations naming it met in time."""
    missed: int = 0
    """… missed or done late."""
    asked: int = 0
    """Questions evidencing it that were asked."""
    answered: int = 0
    """… of them answered at least once."""
    right: int = 0
    """… scored ones most answers got right."""
    wrong: int = 0
    """… scored ones most answers got wrong (or nobody answered)."""
    strengths: int = 0
    """Observations tagged strength."""
    improvements: int = 0
    """Observations tagged area for improvement."""

    @property
    def rating(self) -> str:
        """An HSEEP-style rating computed from the evidence: P (performed without challenges),
        S (some challenges), M (major challenges), U (unable to be performed), or "—" (no evidence)."""
        good, bad = self.met + self.right + self.strengths, self.missed + self.wrong + self.improvements
        if good + bad == 0 and self.asked == 0:
            return "—"
        if bad == 0:
            return "P"
        if bad <= good:
            return "S"
        return "M" if good else "U"


@dataclass
class InvestigationFindings:
    """What an investigation established: contributing factors, the harm it traced, the logs."""

    t: float
    by: str
    factors: list[str]
    harm: list[str]
    """Each harm stream traced, with its harm type and hazard code."""
    logs: str
    """What the request logs could and could not show (retention)."""


@dataclass
class RoleFigures:
    """Per-role (or per-player) figures."""

    name: str
    roles: list[str]
    first_action: float | None = None
    actions: int = 0
    refusals: int = 0
    approvals: int = 0
    peak_load: float = 0.0
    peak_load_at: float | None = None
    joined: float | None = None


@dataclass
class Series:
    """Curves for the charts: sim minutes and values."""

    harm_t: list[float] = field(default_factory=list)
    harm_total: list[int] = field(default_factory=list)
    harm_rate: list[float] = field(default_factory=list)
    idle_t: list[float] = field(default_factory=list)
    idle_total: list[int] = field(default_factory=list)
    idle_rate: list[float] = field(default_factory=list)
    real_t: list[float] = field(default_factory=list)
    """The real team's run (the scenario's historical policy on the same seed), when there is one."""
    real_total: list[int] = field(default_factory=list)
    real_rate: list[float] = field(default_factory=list)
    signals: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    signal_titles: dict[str, str] = field(default_factory=dict)
    alerts: list[tuple[float, str]] = field(default_factory=list)
    effective: list[tuple[float, str, int]] = field(default_factory=list)
    stages: list[tuple[float, int]] = field(default_factory=list)
    declared: float | None = None
    contained: float | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class Branch:
    """A forked drill beside the drill it branched from, from the fork point on."""

    parent: str
    """The parent journal's file name."""
    at: float
    """The fork point (sim seconds); before it the two drills are the same."""
    parent_result: Result
    parent_t: list[float]
    """The parent's hidden harm readings from the fork point on: times …"""
    parent_total: list[int]
    """… and cumulative harmful outputs."""
    only_here: list[str]
    """Decisions after the fork point made here and not in the parent (``H:MM:SS role: action``)."""
    only_parent: list[str]
    """Decisions after the fork point that the parent made and this branch did not."""


@dataclass
class RunFigures:
    """One run's detection, containment and harm, as "you vs the real team" lists them."""

    label: str
    time_to_detect: float | None
    """Declared (``None``: never)."""
    time_to_contain: float | None
    """Contained and held through the watch period (``None``: never in the drill)."""
    harm_volume: int
    """Harmful outputs over the compared stretch."""


@dataclass
class RealTeamComparison:
    """You vs the real team: this run beside the real team's timeline and doing nothing, same seed."""

    incident: str
    source: str
    signal_as_published: str
    """How the real team found out, in the source's words."""
    contained_as_published: str | None
    """When it stopped the harm, in the source's words (``None``: the record gives no figure)."""
    first_signal: float | None
    """When that first signal reached the real team in its run on this seed."""
    runs: list[RunFigures]
    """This run, the real team's, doing nothing, in that order."""


@dataclass
class AfterAction:
    """Everything the after-action report shows."""

    scenario_id: str
    title: str
    seed: int
    policy: str | None
    date: str
    duration: float
    roles: list[str]
    result: Result
    rederived: str | None
    """Why the result was re-derived by replay (``None``: the journal's own ``result``)."""
    idle_harm_volume: int | None
    """Harmful outputs of the do-nothing run on the same seed over the same stretch (to ``ended_at``)."""
    participants: list[RoleFigures]
    players: list[RoleFigures]
    """In the order they joined (or first acted)."""
    timeline: list[TimelineEntry]
    expectations: list[ExpectationRow]
    strengths: list[Finding]
    improvements: list[Finding]
    series: Series
    journal_end: float
    ended_at: float = 0.0
    """Sim time the drill ended (before ``duration`` when the facilitator ended it early)."""
    notes: list[str] = field(default_factory=list)
    """Caveats about the sources (a changed scenario file, a missing one)."""
    objectives: list[str] = field(default_factory=list)
    """The exercise objectives the scenario states."""
    investigations: list[InvestigationFindings] = field(default_factory=list)
    """The findings of every investigation that completed, in order."""
    branch: Branch | None = None
    """For a fork whose parent journal could be read: the parent beside this branch."""
    real_team: RealTeamComparison | None = None
    """You vs the real team (``None``: the scenario has no historical policy, or no baseline)."""
    discussion: list[QuestionRow] = field(default_factory=list)
    """Every discussion question asked, in the order asked, with its answers."""
    observations: list[ObservationRow] = field(default_factory=list)
    """The facilitator's and evaluators' observations, in time order."""
    objective_evidence: list[ObjectiveEvidence] = field(default_factory=list)
    """Each exercise objective with the evidence about it."""


def analyse(journal: Journal, loaded: LoadedScenario | None, path: str | Path | None = None) -> AfterAction:
    """Build the after-action facts for a journal file (``loaded``: its scenario, if it can be found).

    A journal that was never scored (a crash, a drill cut short) is re-derived by replay first.
    """
    events, result, rederived = _events_and_result(journal, loaded)
    ended_at = max((e.t for e in events), default=0.0)
    idle = real = None
    if loaded is not None:
        idle = for_drill(loaded.scenario, result.seed, ended_at, key=loaded.content_hash)
        real = historical.for_drill(loaded, result.seed, ended_at)
    return facts(Journal(journal.header, events), loaded.scenario if loaded else None, result, idle,
                 rederived=rederived, path=path, notes=_notes(journal, loaded),
                 journal_end=max((e.t for e in journal.events), default=0.0), real_team=real)


def facts(journal: Journal, scenario: Scenario | None, result: Result, idle: DoNothing | None, *,
          rederived: str | None = None, path: str | Path | None = None, notes: list[str] | None = None,
          journal_end: float | None = None, real_team: RealTeam | None = None) -> AfterAction:
    """The after-action facts of a scored drill's events: what every report and review shows.

    ``scenario`` gives deadlines and targets (``None``: the journal alone); ``idle`` is the
    do-nothing run on the same seed (``None``: no baseline curve); ``real_team`` is the scenario's
    historical policy on the same seed (``None``: no "you vs the real team").
    """
    events = journal.events
    started = next((e.payload for e in events if e.kind == Kind.DRILL_STARTED), {})
    seed = int(journal.header.get("seed", started.get("seed", 0)))
    series = _series(events, idle, scenario, result, real_team)
    expectations = _expectations(events, scenario)
    roles = [str(r) for r in started.get("roles", [])]
    participants, players = _figures(events, roles)
    strengths, improvements = _findings(events, scenario, result, expectations, participants)
    discussion = _discussion(events, scenario)
    observations = _observations(events)
    _discussion_findings(discussion, strengths, improvements)
    _observation_findings(observations, strengths, improvements)
    objectives = list(scenario.objectives) if scenario is not None else []
    ended_at = max((e.t for e in events), default=0.0)
    return AfterAction(
        scenario_id=str(started.get("scenario", journal.header.get("scenario", "?"))),
        title=str(started.get("title", journal.header.get("scenario", "?"))), seed=seed,
        policy=journal.header.get("policy"), date=_date(journal, path),
        duration=float(started.get("duration", 0.0)), roles=roles, result=result, rederived=rederived,
        idle_harm_volume=idle.harm_volume if idle is not None else None, ended_at=ended_at,
        participants=participants, players=players,
        timeline=_timeline(events, hot_seat=journal.header.get("policy") == HOT_SEAT),
        expectations=expectations, strengths=strengths,
        improvements=improvements, series=series,
        journal_end=ended_at if journal_end is None else journal_end, notes=list(notes or []),
        objectives=objectives, investigations=_investigations(events),
        real_team=_real_team(scenario, result, idle, real_team), discussion=discussion,
        observations=observations,
        objective_evidence=_objective_evidence(objectives, expectations, discussion, observations))


def _real_team(scenario: Scenario | None, result: Result, idle: DoNothing | None,
               real: RealTeam | None) -> RealTeamComparison | None:
    """This run, the real team's and doing nothing, side by side (all three need a scenario record)."""
    if scenario is None or scenario.published is None or idle is None or real is None:
        return None
    p = scenario.published
    return RealTeamComparison(
        incident=p.incident, source=p.source, signal_as_published=p.first_signal.as_published,
        contained_as_published=p.contained.as_published if p.contained is not None else None,
        first_signal=real.first_signal,
        runs=[RunFigures("this run", result.time_to_detect, result.time_to_contain, result.harm_volume),
              RunFigures("the real team", real.time_to_detect, real.time_to_contain, real.harm_volume),
              RunFigures("doing nothing", None, None, idle.harm_volume)])


def _investigations(events: list[Event]) -> list[InvestigationFindings]:
    """Every investigation's findings, as the investigating role received them."""
    return [InvestigationFindings(e.t, e.actor or "", [str(f) for f in e.payload.get("factors", [])],
                                  [harm_found(s) for s in e.payload.get("streams", [])],
                                  logs_sentence(e.payload))
            for e in events if e.kind == Kind.FINDINGS]


def _events_and_result(journal: Journal, loaded: LoadedScenario | None
                       ) -> tuple[list[Event], Result, str | None]:
    """The journal's events and result, or a replay's when the journal was never scored."""
    recorded = [e for e in journal.events if e.kind == Kind.RESULT]
    if recorded:
        return journal.events, Result.from_dict(recorded[-1].payload), None
    if loaded is None:
        raise ValueError("the journal has no result event and its scenario could not be loaded, "
                         "so the result cannot be re-derived (pass --scenario)")
    drill = rebuild(journal, loaded)
    play_out(drill)
    result = finish(drill, loaded, journal.header.get("policy"))
    end = max((e.t for e in journal.events), default=0.0)
    why = (f"The journal has no result event (the drill stopped at {clock(end)} or was never scored). "
           f"The result was re-derived by replaying its {len(journal.events)} events against the "
           "scenario; after the last journaled decision the replay assumes nobody acted.")
    if first_difference(journal.events, drill.events, prefix=True) is not None:
        why += " Warning: the replay does not reproduce the journal's events (was the scenario edited?)."
    return drill.events, result, why


def _notes(journal: Journal, loaded: LoadedScenario | None) -> list[str]:
    if loaded is None:
        return ["The scenario file could not be loaded (give it with --scenario PATH): no do-nothing "
                "curve, and expectations are "
                "taken from the journal alone (no deadlines, no 'late' or 'open')."]
    recorded = journal.header.get("scenario_hash")
    if recorded and recorded != loaded.content_hash:
        return [f"{loaded.path} has changed since the journal was written (content hash differs): "
                "deadlines, targets and the do-nothing curve come from the current file."]
    return []


def _date(journal: Journal, path: str | Path | None) -> str:
    """When the drill ran: the header's date if it records one, else the journal file's time."""
    for key in ("date", "started_at", "created"):
        if journal.header.get(key):
            return str(journal.header[key])
    if path is not None and os.path.exists(path):
        stamp = datetime.fromtimestamp(os.path.getmtime(path), tz=UTC)
        return stamp.strftime("%Y-%m-%d %H:%M UTC") + " (journal file time)"
    return "unknown"


# --- series for the charts -------------------------------------------------------------------


def _series(events: list[Event], idle: DoNothing | None, scenario: Scenario | None,
            result: Result, real: RealTeam | None = None) -> Series:
    s = Series(declared=result.time_to_detect, contained=result.time_to_contain)
    if scenario is not None:
        s.threshold = scenario.scoring.containment_threshold
        s.signal_titles = {sid: spec.title for sid, spec in scenario.signals.items()}
    for e in events:
        p = e.payload
        if e.kind == Kind.HARM:
            s.harm_t.append(e.t)
            s.harm_total.append(int(p["total"]))
            s.harm_rate.append(float(p["rate"]))
        elif e.kind == Kind.TICK:
            for sid, reading in p.get("signals", {}).items():
                s.signals.setdefault(sid, []).append((e.t, float(reading["value"])))
        elif e.kind == Kind.ALERT:
            s.alerts.append((e.t, str(p["signal"])))
            s.signal_titles.setdefault(str(p["signal"]), str(p.get("title", p["signal"])))
        elif e.kind == Kind.ACTION_EFFECTIVE:
            s.effective.append((e.t, str(p["title"]), int(p["stage"])))
        elif e.kind == Kind.STAGE_DECLARED:
            s.stages.append((e.t, int(p["stage"])))
    for point in idle.curve if idle is not None else ():
        s.idle_t.append(point.t)
        s.idle_total.append(point.total)
        s.idle_rate.append(point.rate)
    for point in real.curve if real is not None else ():
        s.real_t.append(point.t)
        s.real_total.append(point.total)
        s.real_rate.append(point.rate)
    return s


# --- timeline --------------------------------------------------------------------------------


def _timeline(events: list[Event], hot_seat: bool = False) -> list[TimelineEntry]:
    """Every inject, decision, approval, message and stage change, with who did it (``hot_seat``: a
    ``ttx play`` drill, whose end the player chose)."""
    players: dict[str, tuple[float, str]] = {}
    out: list[TimelineEntry] = []
    for e in events:
        if e.kind in (Kind.COMMAND, Kind.REFUSED) and e.actor and e.payload.get("player"):
            players[e.actor] = (e.t, str(e.payload["player"]))
        if e.kind not in TIMELINE_KINDS:
            continue
        player = players.get(e.actor or "")
        name = player[1] if player is not None and player[0] == e.t else None
        if e.kind in (Kind.PLAYER_JOINED, Kind.PLAYER_LEFT):
            name = _player_name(e)
        text = (drill_ended_text(str(e.payload.get("reason")), hot_seat) if e.kind == Kind.DRILL_ENDED
                else describe(e))
        out.append(TimelineEntry(e.t, str(e.kind), e.actor or "", name, text, e.hidden))
    return out


def _player_name(e: Event) -> str | None:
    """The person's display name: the team server records ``name`` (and a ``player`` id)."""
    for key in ("name", "player"):
        if e.payload.get(key):
            return str(e.payload[key])
    return None


def _player_role(e: Event) -> str | None:
    for key in ("role", "seat"):
        if e.payload.get(key):
            return str(e.payload[key])
    return e.actor if e.actor not in (None, "engine") else None


# --- expectations ------------------------------------------------------------------------------


def _expectations(events: list[Event], scenario: Scenario | None) -> list[ExpectationRow]:
    """Every expected action of every inject that fired: met, late, missed or open."""
    outcomes = {(str(e.payload["inject"]), str(e.payload["action"]), e.payload.get("role")): e
                for e in events if e.kind in (Kind.EXPECTATION_MET, Kind.EXPECTATION_MISSED)}
    taken = [(e.t, str(e.payload["action"]), e.actor or "") for e in events if e.kind == Kind.COMMAND]
    rows: list[ExpectationRow] = []
    if scenario is None:
        for (inject, action, role), e in outcomes.items():
            status = "met" if e.kind == Kind.EXPECTATION_MET else "missed"
            rows.append(ExpectationRow(inject, action, role or "any", None, None, status,
                                       e.t if status == "met" else None, str(e.payload.get("objective", ""))))
        return rows
    for fired in (e for e in events if e.kind == Kind.INJECT):
        spec = scenario.inject(str(fired.payload["inject"]))
        for expect in spec.expects if spec is not None else []:
            role = expect.role.value if expect.role else None
            due = fired.t + expect.within if expect.within is not None else None
            outcome = outcomes.get((spec.id if spec else "", expect.action, role))
            status, done = _status(outcome, taken, expect.action, role, due)
            rows.append(ExpectationRow(spec.id if spec else "", expect.action, role or "any", fired.t,
                                       due, status, done, expect.objective))
    return rows


def _status(outcome: Event | None, taken: list[tuple[float, str, str]], action: str,
            role: str | None, due: float | None) -> tuple[str, float | None]:
    if outcome is not None and outcome.kind == Kind.EXPECTATION_MET:
        return "met", outcome.t
    later = next((t for t, a, r in taken if a == action and (role is None or r == role)
                  and due is not None and t > due), None)
    if outcome is not None:
        return ("late", later) if later is not None else ("missed", None)
    return "open", None


# --- per-role and per-player figures ---------------------------------------------------------


def _figures(events: list[Event], roles: list[str]) -> tuple[list[RoleFigures], list[RoleFigures]]:
    by_role = {r: RoleFigures(r, [r]) for r in roles}
    by_player: dict[str, RoleFigures] = {}
    for e in events:
        if e.kind == Kind.PLAYER_JOINED:
            name, role = _player_name(e), _player_role(e)
            if name:
                fig = by_player.setdefault(name, RoleFigures(name, [], joined=e.t))
                if role and role not in fig.roles:
                    fig.roles.append(role)
        elif e.kind == Kind.TICK:
            for role, load in e.payload.get("loads", {}).items():
                fig = by_role.setdefault(role, RoleFigures(role, [role]))
                if float(load) > fig.peak_load:
                    fig.peak_load, fig.peak_load_at = float(load), e.t
        elif e.kind in (Kind.COMMAND, Kind.REFUSED) and e.actor and e.actor != "engine":
            targets = [by_role.setdefault(e.actor, RoleFigures(e.actor, [e.actor]))]
            player = e.payload.get("player")
            if player:
                fig = by_player.setdefault(str(player), RoleFigures(str(player), []))
                if e.actor not in fig.roles:
                    fig.roles.append(e.actor)
                targets.append(fig)
            for fig in targets:
                _count(fig, e)
    for fig in by_player.values():
        loads = [by_role[r] for r in fig.roles if r in by_role]
        if loads:
            top = max(loads, key=lambda f: f.peak_load)
            fig.peak_load, fig.peak_load_at = top.peak_load, top.peak_load_at
    return list(by_role.values()), list(by_player.values())


def _count(fig: RoleFigures, e: Event) -> None:
    if e.kind == Kind.REFUSED:
        fig.refusals += 1
        return
    fig.actions += 1
    if fig.first_action is None:
        fig.first_action = e.t
    if e.payload.get("action") in ("approve", "deny"):
        fig.approvals += 1


# --- strengths and areas for improvement -----------------------------------------------------


def _findings(events: list[Event], scenario: Scenario | None, result: Result,
              expectations: list[ExpectationRow], roles: list[RoleFigures]
              ) -> tuple[list[Finding], list[Finding]]:
    good: list[Finding] = []
    bad: list[Finding] = []
    context = _Context(events, scenario, result)
    for check in (_detection, _stage1, _containment, _communication, _escalation, _watches,
                  _classification, _clocks, _logs, _collateral):
        check(context, good, bad)
    _load(roles, events, good, bad)
    _expectation_findings(expectations, good, bad)
    _refusal_findings(events, bad)
    return good, bad


@dataclass
class _Context:
    events: list[Event]
    scenario: Scenario | None
    result: Result

    @property
    def declared(self) -> float | None:
        return self.result.time_to_detect

    @property
    def end(self) -> float:
        return max((e.t for e in self.events), default=0.0)

    def first(self, kind: Kind) -> Event | None:
        return next((e for e in self.events if e.kind == kind), None)

    def all(self, kind: Kind) -> list[Event]:
        return [e for e in self.events if e.kind == kind]

    def setting(self, name: str, default: float) -> float:
        if self.scenario is None:
            return default
        return float(getattr(self.scenario.scoring, name))


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min"


def _improve(bad: list[Finding], area: str, text: str, action: str, owner: str | None = None) -> None:
    bad.append(Finding(area, text, action, owner or OWNER_BY_AREA.get(area, "ic")))


def _detection(c: _Context, good: list[Finding], bad: list[Finding]) -> None:
    if c.declared is None:
        _improve(bad, "detection", "The incident was never declared.",
                 "Agree declaration criteria (which alerts and reports mean 'declare now') and drill them.")
        return
    alert = c.first(Kind.ALERT)
    signal = next((e for e in c.events if e.kind in (Kind.ALERT, Kind.INJECT)
                   and (e.kind == Kind.ALERT or e.payload.get("channel") in ("pager", "dashboard", "social",
                                                                            "press"))), alert)
    target = _declare_within(c.scenario)
    if signal is None:
        good.append(Finding("detection", f"Declared at {clock(c.declared)} before any alert "
                            "reached the team."))
        return
    lag = c.declared - signal.t
    what = describe(signal)
    text = (f"Declared {_minutes(lag)} after the first signal ({what} at {clock(signal.t)}); "
            f"{clock(c.declared)} after harm began")
    _against_target(good, bad, "detection", text, lag, target,
                    "Lower the bar to declare: the first alert or pager inject is enough; "
                    "name an IC at once.")


def _against_target(good: list[Finding], bad: list[Finding], area: str, text: str, lag: float,
                    target: float, advice: str) -> None:
    """A strength when ``lag`` is within ``target``, else an area for improvement with ``advice``."""
    if lag <= target:
        good.append(Finding(area, text + f": within the {_minutes(target)} target."))
    else:
        _improve(bad, area, text + f": over the {_minutes(target)} target.", advice)


def _declare_within(scenario: Scenario | None) -> float:
    if scenario is None:
        return DEFAULT_DECLARE_WITHIN
    times = [x.within for i in scenario.injects for x in i.expects
             if x.action == "declare_incident" and x.within is not None]
    return min(times, default=DEFAULT_DECLARE_WITHIN)


def _stage1(c: _Context, good: list[Finding], bad: list[Finding]) -> None:
    if c.declared is None:
        return
    target = c.setting("stage1_target", 3600.0)
    first = next((e for e in c.all(Kind.ACTION_EFFECTIVE) if int(e.payload.get("stage", 0)) == 1), None)
    if first is None:
        _improve(bad, "stage1", f"No stage-1 containment action took effect (target: within "
                 f"{_minutes(target)} of declaring).",
                 "Write a stage-1 playbook (block list, filter, restrict access) that needs no root cause.")
        return
    lag = first.t - c.declared
    when = f"{_minutes(lag)} after" if lag >= 0 else f"{_minutes(-lag)} before"
    text = f"Stage-1 containment ({first.payload.get('title')}) in effect {when} declaration"
    _against_target(good, bad, "stage1", text, lag, target,
                    "Pre-approve stage-1 actions and cut their latency so one lands within the hour.")


def _containment(c: _Context, good: list[Finding], bad: list[Finding]) -> None:
    r = c.result
    averted = f"{r.harm_averted:.0%} of the do-nothing run's weighted harm averted"
    if r.time_to_contain is None:
        why = next((p.why for p in r.breakdown if p.name == "containment"), "")
        reason = why.removeprefix("never contained").removeprefix(": ")
        _improve(bad, "containment", "Never contained" + (f" ({reason})" if reason else "")
                 + f": {r.harm_volume:,} harmful outputs; {averted}.",
                 "Rehearse the path to durable containment (stage 2–3 actions); verify with watch periods.")
    else:
        good.append(Finding("containment", f"Contained at {clock(r.time_to_contain)} and held through the "
                            f"watch period: {r.harm_volume:,} harmful outputs; {averted}."))
    if r.resurgences:
        _improve(bad, "watch", f"Harm resurged {r.resurgences} time(s) after a stage was declared done.",
                 "Declare a stage done only after a watch period holds; keep monitoring after.")


def _communication(c: _Context, good: list[Finding], bad: list[Finding]) -> None:
    if c.declared is None:
        return
    cadence = c.setting("update_cadence", 1800.0)
    updates = [e.t for e in c.all(Kind.UPDATE_SENT)]
    resolved = c.first(Kind.RESOLVED)
    stop = resolved.t if resolved is not None else c.end
    marks = [c.declared, *[t for t in updates if t <= stop], stop]
    gap, at = max(((b - a, a) for a, b in pairwise(marks)), default=(0.0, c.declared))
    unstructured = sum(1 for e in c.all(Kind.UPDATE_SENT) if not e.payload.get("structured", True))
    if not updates:
        _improve(bad, "communication", "No stakeholder update was sent.",
                 "Adopt an update template (know / suspect / doing) and a cadence owner.")
    elif gap > cadence + 60:
        _improve(bad, "communication", f"No stakeholder update for {_minutes(gap)} (from {clock(at)}); "
                 f"cadence target {_minutes(cadence)}.",
                 "Set a recurring update timer in the incident channel; comms owns it.")
    else:
        good.append(Finding("communication", f"{len(updates)} stakeholder updates; the longest gap was "
                            f"{_minutes(gap)} (cadence {_minutes(cadence)})."))
    if unstructured:
        _improve(bad, "communication", f"{unstructured} update(s) lacked know / suspect / doing.",
                 "Use the know / suspect / doing template for every update.")


def _escalation(c: _Context, good: list[Finding], bad: list[Finding]) -> None:
    if c.declared is None or c.scenario is None:
        return
    sc = c.scenario.scoring
    seen: dict[str, float] = {}
    for e in c.all(Kind.ESCALATED):
        seen.setdefault(str(e.payload["to"]), e.t)
    for target in sc.expected_escalations:
        if target not in seen:
            _improve(bad, "escalation", f"Never escalated to {target}.",
                     f"Add {target} to the escalation checklist the IC runs on declaring.")
            continue
        lag = seen[target] - c.declared
        text = f"Escalated to {target} {_minutes(max(0.0, lag))} after declaration"
        if lag <= sc.escalate_within:
            good.append(Finding("escalation", text + f" (target {_minutes(sc.escalate_within)})."))
        else:
            _improve(bad, "escalation", text + f": over the {_minutes(sc.escalate_within)} target.",
                     f"Escalate to {target} early; make late escalation safe.")


def _watches(c: _Context, good: list[Finding], bad: list[Finding]) -> None:
    ended = c.all(Kind.WATCH_ENDED)
    failed = [e for e in ended if not e.payload.get("passed")]
    premature = [e for e in c.all(Kind.RESURGENCE) if e.payload.get("declared_while_harmful")]
    if not ended and c.result.time_to_contain is not None:
        _improve(bad, "watch", "No watch period verified containment.",
                 "Start a watch period after each stage and declare it done only if it holds.")
    elif ended:
        text = f"{len(ended)} watch period(s), {len(failed)} failed"
        if failed:
            text += f" (first failure at {clock(failed[0].t)}): containment was not yet holding"
        good.append(Finding("watch", text + "; stages were verified under monitoring."))
    for e in premature:
        _improve(bad, "watch", f"Stage {e.payload.get('stage')} declared done at {clock(e.t)} while harm "
                 f"continued ({float(e.payload.get('rate', 0)):.2f}/s).",
                 "Require a passed watch period before declaring a stage done.")


def _classification(c: _Context, good: list[Finding], bad: list[Finding]) -> None:
    part = next((p for p in c.result.breakdown if p.name == "classification"), None)
    if part is None:
        return
    if part.points >= 100:
        good.append(Finding("classification", part.why[0].upper() + part.why[1:] + "."))
    else:
        _improve(bad, "classification", part.why[0].upper() + part.why[1:] + ".",
                 "Classify from the investigation's findings against the NIST AI 600-1 taxonomy.")


def _clocks(c: _Context, good: list[Finding], bad: list[Finding]) -> None:
    for e in c.all(Kind.CLOCK_MISSED):
        _improve(bad, "clocks", f"Regulatory clock {e.payload.get('clock')} missed at {clock(e.t)}.",
                 "Track regulatory clocks from declaration; legal owns the notification.")
    for e in c.all(Kind.CLOCK_MET):
        good.append(Finding("clocks", f"Regulatory clock {e.payload.get('clock')} met at {clock(e.t)}, "
                            f"{float(e.payload.get('early_by', 0)) / 3600:.0f} h early."))


def _logs(c: _Context, good: list[Finding], bad: list[Finding]) -> None:
    for e in c.all(Kind.FINDINGS):
        if str(e.payload.get("logs", "complete")) != "complete":
            _improve(bad, "logs", f"Investigation at {clock(e.t)} found logs {e.payload.get('logs')}.",
                     "Start the investigation earlier or revisit log retention for forensic needs.")


def _collateral(c: _Context, good: list[Finding], bad: list[Finding]) -> None:
    share = c.result.collateral
    if share >= 0.05:
        _improve(bad, "collateral", f"{share:.1%} of legitimate requests were blocked.",
                 "Prefer scalpel mitigations (filters, pattern rate limits) over kill switches.")


def _load(roles: list[RoleFigures], events: list[Event], good: list[Finding], bad: list[Finding]) -> None:
    rotated = [e for e in events if e.kind in (Kind.ROTATED, Kind.RESTED)]
    for fig in roles:
        if round(fig.peak_load, 2) > LOAD_CONCERN and fig.peak_load_at is not None:
            relief = [e for e in rotated if e.payload.get("target") == fig.name]
            tail = (f"; relieved {len(relief)} time(s)" if relief else "; never rotated or rested")
            _improve(bad, "load", f"{fig.name} responder load peaked at {fig.peak_load:.2f} at "
                     f"{clock(fig.peak_load_at)}{tail}.",
                     f"Schedule rotation for {fig.name} before load passes {LOAD_CONCERN:.1f}; "
                     "plan handoffs.")
    if rotated:
        good.append(Finding("load", f"{len(rotated)} rotation(s) or rest(s) protected responders "
                            f"(first at {clock(rotated[0].t)})."))


def _expectation_findings(rows: list[ExpectationRow], good: list[Finding], bad: list[Finding]) -> None:
    met = [r for r in rows if r.status == "met"]
    if met:
        good.append(Finding("expectations", f"{len(met)} of {len(rows)} MSEL expected actions met in time."))
    for r in rows:
        if r.status in ("missed", "late") and r.due is not None:
            how = (f"done {_minutes((r.done_at or 0) - r.due)} late at {clock(r.done_at or 0)}"
                   if r.status == "late" else "never done")
            owner = r.role if r.role != "any" else VERB_OWNER.get(r.action, "ml")
            _improve(bad, "expectations", f"Expected {r.action} ({r.objective or r.inject}) by "
                     f"{clock(r.due)} after '{r.inject}': {how}.",
                     f"Add '{r.action}' to the {owner} checklist for '{r.inject}'-type events.", owner)


def _refusal_findings(events: list[Event], bad: list[Finding]) -> None:
    refused = [e for e in events if e.kind == Kind.REFUSED]
    if refused:
        first = refused[0]
        _improve(bad, "refusals", f"{len(refused)} command(s) refused; first at {clock(first.t)}: "
                 f"{first.payload.get('action')} — {first.payload.get('reason')}.",
                 "Brief roles on who may take and approve which actions before the next drill.")


# --- the discussion: questions, answers, observations ------------------------------------------

OVERCONFIDENT = 80
"""An answer this sure (percent) and wrong is flagged as overconfident."""


def _discussion(events: list[Event], scenario: Scenario | None) -> list[QuestionRow]:
    """Every question asked, with its answers and how it closed (expected answers from the scenario,
    else from the closing event)."""
    rows: dict[str, QuestionRow] = {}
    for e in events:
        p = e.payload
        if e.kind == Kind.QUESTION_ASKED:
            spec = scenario.question(str(p["question"])) if scenario is not None else None
            rows[str(p["question"])] = QuestionRow(
                str(p["question"]), str(p["prompt"]), str(p["kind"]), [str(r) for r in p["to"]],
                {str(o["id"]): str(o["text"]) for o in p["options"]}, e.t, bool(p["hot_wash"]),
                expected=list(spec.expected) if spec is not None else [],
                why=spec.why if spec is not None else "", objective=spec.objective if spec else "")
        elif e.kind == Kind.ANSWER_GIVEN and str(p["question"]) in rows:
            row = rows[str(p["question"])]
            choices = [str(c) for c in p["choices"]]
            correct = set(choices) == set(row.expected) if row.expected else None
            sure = int(p["confidence"]) if choices and p.get("confidence") is not None else None
            row.answers.append(AnswerRow(e.t, str(p.get("player") or p["role"]), str(p["role"]), choices,
                                         str(p["text"]), sure, str(p.get("note", "")), correct))
        elif e.kind == Kind.QUESTION_CLOSED and str(p["question"]) in rows:
            row = rows[str(p["question"])]
            row.closed_at, row.reason = e.t, str(p["reason"])
            row.expected, row.why = [str(x) for x in p["expected"]], str(p["why"])
            row.alignment = None if p["alignment"] is None else float(p["alignment"])
    return list(rows.values())


def _observations(events: list[Event]) -> list[ObservationRow]:
    return [ObservationRow(e.t, str(e.payload["by"]), str(e.payload["seat"]), str(e.payload["objective"]),
                           str(e.payload["tag"]), str(e.payload["text"]))
            for e in events if e.kind == Kind.OBSERVATION]


def _majority_right(row: QuestionRow) -> bool:
    """More than half of a scored question's answers matched the expected answer."""
    return bool(row.answers) and row.correct * 2 > len(row.answers)


def _discussion_findings(rows: list[QuestionRow], good: list[Finding], bad: list[Finding]) -> None:
    """Scored questions answered right or wrong, a split team, confident wrong answers."""
    for row in rows:
        owner = row.to[0] if row.to else "ic"
        if row.expected and not row.answers:
            _improve(bad, "discussion", f"Nobody answered '{row.prompt}' (expected: "
                     f"{row.shown(row.expected)}).",
                     f"Discuss it after the drill: {row.why or 'agree the answer'}", owner)
        elif row.expected and _majority_right(row):
            good.append(Finding("discussion", f"'{row.prompt}': {row.correct} of {len(row.answers)} "
                                f"answer(s) matched the expected answer ({row.shown(row.expected)})."))
        elif row.expected:
            _improve(bad, "discussion", f"'{row.prompt}': only {row.correct} of {len(row.answers)} answer(s) "
                     f"matched the expected answer ({row.shown(row.expected)}).",
                     f"Walk through why: {row.why or 'write the answer into the response plan'}", owner)
        if len(row.answers) > 1 and row.alignment is not None and not row.aligned:
            _improve(bad, "discussion", f"The team was split on '{row.prompt}': {row.alignment:.0%} agreed "
                     f"with the most common answer (aligned is ≥{ALIGNED:.0%}).",
                     "Agree the answer in the response plan so that everyone gives the same one.", owner)
    sure_and_wrong = [a for row in rows for a in row.answers
                      if a.correct is False and a.confidence is not None and a.confidence >= OVERCONFIDENT]
    if sure_and_wrong:
        _improve(bad, "discussion", f"{len(sure_and_wrong)} answer(s) were confident (≥{OVERCONFIDENT} %) "
                 "and wrong.", "Review the plan where people were sure and mistaken; check assumptions "
                 "before acting on them.", "ic")


def _observation_findings(rows: list[ObservationRow], good: list[Finding], bad: list[Finding]) -> None:
    """The observers' notes, beside the computed findings."""
    for o in rows:
        about = f" [{o.objective}]" if o.objective else ""
        by = f"{o.by} ({o.seat})" if o.by != o.seat else o.seat
        text = f"{o.text}{about} — observed by {by} at {clock(o.t)}."
        if o.tag == "strength":
            good.append(Finding("observation", text, by=by))
        else:
            bad.append(Finding("observation", text, "Agree a corrective action in the hot wash.", "ic",
                               by=by))


def _objective_evidence(objectives: list[str], expectations: list[ExpectationRow],
                        questions: list[QuestionRow], observations: list[ObservationRow]
                        ) -> list[ObjectiveEvidence]:
    """Per objective: expectations met and missed, questions asked and answered, observations."""
    named = objectives + sorted({o.objective for o in observations if o.objective} - set(objectives))
    out = []
    for objective in named:
        ev = ObjectiveEvidence(objective)
        for x in expectations:
            if x.objective == objective:
                if x.status == "met":
                    ev.met += 1
                elif x.status in ("missed", "late"):
                    ev.missed += 1
        for q in questions:
            if q.objective == objective:
                ev.asked += 1
                ev.answered += bool(q.answers)
                if q.expected:
                    if _majority_right(q):
                        ev.right += 1
                    else:
                        ev.wrong += 1
        for o in observations:
            if o.objective == objective:
                if o.tag == "strength":
                    ev.strengths += 1
                else:
                    ev.improvements += 1
        out.append(ev)
    return out
