"""Bot policies: who makes the decisions in a headless run. ``idle``, ``textbook`` and scripted YAML."""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulator.engine.discussion import answer_problem
from simulator.engine.events import Kind
from simulator.engine.findings import FINDINGS_INJECT
from simulator.engine.intent import BotCommand, Intent
from simulator.engine.view import DrillView
from simulator.format.commands import ANSWER, VERBS, AnswerParams, Command
from simulator.format.durations import Duration
from simulator.format.loader import builtin_dir, check_model, looks_like_a_path, suggest
from simulator.format.salvage import Damage
from simulator.format.scenario import Action, Question, Scenario
from simulator.format.taxonomy import Role
from simulator.format.yamlsafe import Document, FileProblems, Problem, read_document

POLICY_FORMS = "a policy is idle, textbook, historical, or the path of a scripted policy YAML file"
"""What ``--policy`` takes, for error messages."""
URGENT_CHANNELS = frozenset({"pager", "dashboard", "social", "press", "regulator"})
STAGE1_AFTER = 5 * 60.0
"""The textbook team starts stage-1 containment this long after declaring."""
STAGE2_AFTER = 45 * 60.0
"""… and stage 2 this long after, if stage 1 is not in effect by then."""
ROTATE_ABOVE = 0.6
"""The textbook team rotates a responder whose load is past this."""
TEXTBOOK_CONFIDENCE = 85
"""How sure the textbook team says it is of every choice answer (an answer in words asks none)."""
TEXTBOOK_TEXT = "Textbook answer: follow the incident response plan and record the decision."
"""The textbook team's answer to a free-text question (a placeholder; bots have no opinions)."""


TEXTBOOK_QUIET_AFTER = frozenset({
    Kind.COMMAND, Kind.UPDATE_SENT, Kind.ACTION_STARTED, Kind.APPROVAL_GRANTED, Kind.ESCALATED,
    Kind.SEVERITY_SET, Kind.INVESTIGATION_STARTED, Kind.WATCH_STARTED, Kind.ROTATED, Kind.RESTED,
    Kind.REGULATOR_NOTIFIED, Kind.RESOLVED, Kind.CLOCK_MET, Kind.ANSWER_GIVEN})
"""What the textbook team's own commands bring that only withdraws its reasons to act, as its steps
read the view: each either marks done what the step asked for (severity set, investigate taken,
escalated, watch started, update sent, resolved, a regulator notified, a clock met) or moves a
request along (approved and started: still in flight) or lowers a load; what the step decides
from again is guarded by its own memory (``requested``, ``answered``, ``last_update``). An empty
turn leaves nothing behind (``failed_watches`` comes out the same: the watches and actions in
effect did not change). Not quiet: a declaration, an approval requested or denied, a stage
declared, findings, an alert, an action taking effect, a refusal (a refused command would be sent
again), anything else."""


def textbook_answer(q: Question) -> dict[str, Any]:
    """The textbook team's answer parameters: the expected answer, else the first option."""
    if q.kind == "text":
        return {"question": q.id, "text": TEXTBOOK_TEXT}
    choices = list(q.expected) or [q.options[0].id]
    return {"question": q.id, "choices": choices, "confidence": TEXTBOOK_CONFIDENCE}


class Policy(Protocol):
    """Decides what the team does, from what the team can see.

    A policy is asked after every event other than a tick, and again at the same instant while
    its commands are being taken; :meth:`wake_at` names the next time it wants to be asked even
    if nothing happens (its own deadlines). It is never asked on every tick.
    """

    name: str
    quiet_after: frozenset[Kind]
    """Event kinds that, following its own commands, can only take away reasons to act (a request
    it made now in flight, an update it sent): when its commands bring only these into its view,
    it is not asked again at that instant (the turn would find nothing to do)."""

    def decide(self, view: DrillView) -> list[Intent]:
        """Commands to submit now."""
        ...

    def wake_at(self, view: DrillView) -> float | None:
        """The next sim time after now at which :meth:`decide` must be asked (``None``: only on news)."""
        ...


class Idle:
    """Does nothing: the do-nothing baseline."""

    name = "idle"
    quiet_after: frozenset[Kind] = frozenset()

    def decide(self, view: DrillView) -> list[Intent]:
        return []

    def wake_at(self, view: DrillView) -> float | None:
        return None


class Textbook:
    """A generic competent team that reads the scenario's action catalogue.

    Declares on the first alert or urgent inject and names an incident commander, sets
    severity, investigates and classifies from the findings, escalates, runs stage-1
    containment at once without waiting for root cause, sends structured updates on
    cadence, verifies with watch periods, moves through stages 2 and 3, rotates tired
    people and resolves once the durable fix has held.

    It is asked after every change and again after its own commands, so most turns find nothing
    to do: what it works out from the fixed catalogue is kept from the start, and each step
    returns early once its work is done.
    """

    name = "textbook"
    quiet_after = TEXTBOOK_QUIET_AFTER

    def __init__(self, scenario: Scenario) -> None:
        self.s = scenario
        plan = _textbook_plan(scenario)
        self.in_play = list(plan.in_play)
        self.requested: set[str] = set()
        self.answered: set[str] = set()
        """Questions already answered."""
        self.last_update: float | None = None
        self.updates_sent = 0
        self.failed_watches = 0
        self._allowed: dict[tuple[str, str], bool] = {}
        self._roles: dict[tuple[str, tuple[str, ...]], str | None] = {}
        self._commander = plan.commander
        """Who the team names incident commander when it declares."""
        self._acting = plan.acting
        """Catalogue action → the first role in play that may take it (``None``: nobody)."""
        self._gentle_stage1 = plan.gentle_stage1
        self._gentle_1_2 = plan.gentle_1_2
        self._stage_ids = plan.stage_ids
        """Each remediation stage's catalogue action ids (the catalogue is fixed)."""
        self._final_stage = plan.final_stage
        self._unrequested = plan.catalogues
        """Each stage's catalogue (with or without kill switches), fastest first, as (action, role):
        the actions someone in play may take and nobody had requested when last pruned (pruning
        builds new lists; the scenario's own are shared by every run of it)."""
        self._catalogue_requests = 0
        """Catalogue actions requested so far (only :meth:`_containment` requests them)."""
        self._pruned_at = 0
        """How many catalogue actions had been requested when :attr:`_unrequested` was last pruned."""
        self._load_gain = plan.load_gain
        """How much a responder's load rises in one tick."""
        self._seen: tuple[int, int, int] = (0, -1, -1)
        """(view, requests made, actions that took effect) when the facts below were worked out."""
        self._in_effect: dict[int, bool] = {}
        self._gentle_since: tuple[float | None] | None = None
        self._escalating: tuple[object, list[tuple[str, str]]] = (None, [])
        """(the findings they were worked out from, [(target, request key)]) of the escalations."""
        self._fading = plan.fading
        """Repeatable actions that fade → how long after taking effect they are re-applied."""

    def wake_at(self, view: DrillView) -> float | None:
        """The next of its own deadlines: a stage gate, an update due, a fading block list to
        refresh, a responder tiring past the rotation line."""
        if view.ended or view.declared_at is None:
            return None
        now = view.now
        soonest: float | None = None
        for due in self._dues(view):
            if due > now and (soonest is None or due < soonest):
                soonest = due
        return soonest

    def _dues(self, view: DrillView) -> list[float]:
        """Every deadline of its own, past or not; loads change only at ticks, so a responder may
        next cross the rotation line at a tick (or, past it, at the next hour's rotation)."""
        declared = view.declared_at
        assert declared is not None
        dues = [declared + STAGE1_AFTER, declared + STAGE2_AFTER]
        if self.last_update is not None:
            dues.append(self.last_update + self.s.scoring.update_cadence - 1)
        effective = view.last_effective
        if self._fading and effective:
            for action, half in self._fading.items():
                if action in effective:
                    dues.append(effective[action] + half)
        last = view.tick_t if view.tick_t is not None else view.now
        if effective and max(effective.values()) > last:
            dues.append(last + self.s.tick)
        tick, gain = self.s.tick, self._load_gain
        for load in view.loads.values():
            if load > ROTATE_ABOVE:
                dues.append((int(view.now // 3600) + 1) * 3600.0)
            elif gain > 0:
                dues.append(last + (int((ROTATE_ABOVE - load) / gain) + 1) * tick)
        return dues

    def decide(self, view: DrillView) -> list[Intent]:
        if view.ended:
            return []
        answers = self._answers(view) if view.open_questions else []
        if view.hot_wash:
            return answers
        if view.declared_at is None:
            return answers + self._maybe_declare(view)
        out = answers
        out += self._approvals(view)
        out += self._triage(view)
        out += self._containment(view)
        out += self._verify(view)
        out += self._communicate(view)
        out += self._people(view)
        out += self._regulator(view)
        out += self._resolve(view)
        return out

    # --- steps ---------------------------------------------------------------------------

    def _answers(self, view: DrillView) -> list[Intent]:
        """Answer each question once, as the first role asked: the expected answer (else the first
        option, or a short placeholder) at :data:`TEXTBOOK_CONFIDENCE`."""
        out: list[Intent] = []
        for seen in view.open_questions:
            if seen.question in self.answered or not seen.to:
                continue
            spec = self.s.question(seen.question)
            if spec is None:
                continue
            self.answered.add(seen.question)
            out.append(BotCommand(seen.to[0], ANSWER.id, textbook_answer(spec)))
        return out

    def _maybe_declare(self, view: DrillView) -> list[Intent]:
        if not view.alerts and not view.channels & URGENT_CHANNELS:
            return []
        return [_command(self._commander, "declare_incident", {"commander": self._commander})]

    def _approvals(self, view: DrillView) -> list[Intent]:
        if not view.pending:
            return []
        return [_command(p.approver, "approve", {"request": p.request})
                for p in view.pending.values() if p.approver in self.in_play]

    def _triage(self, view: DrillView) -> list[Intent]:
        out: list[Intent] = []
        if view.severity is None:
            ic = view.commander or self.in_play[0]
            if self._may(ic, "set_severity"):
                out.append(_command(ic, "set_severity", {"level": "sev2"}))
        if "investigate" not in view.taken:
            role = self._verb_role("investigate", prefer=("ts", "ml"))
            if role:
                out.append(_command(role, "investigate"))
        if view.findings and view.classification is None:
            role = self._verb_role("classify", prefer=("ts", "ml", "ic"))
            streams = view.findings.get("streams") or []
            if role and streams:
                out.append(_command(role, "classify", {
                    "harm_type": streams[0]["harm_type"], **({"hazard": streams[0]["hazard"]}
                                                            if streams[0]["hazard"] else {})}))
        role = self._verb_role("escalate", prefer=("ic", "legal", "ts"))
        if role:
            for target, key in self._escalations(view):
                if target not in view.escalations and key not in self.requested:
                    self.requested.add(key)
                    out.append(_command(role, "escalate", {"to": target}))
        return out

    def _escalations(self, view: DrillView) -> list[tuple[str, str]]:
        """(target, request key) of everyone the team escalates to, given what the findings say."""
        findings, known = self._escalating
        if findings is not view.findings or not known:
            targets = self._escalation_targets(view)
            known = [(target, f"escalate:{target}") for target in targets]
            self._escalating = (view.findings, known)
        return known

    def _escalation_targets(self, view: DrillView) -> list[str]:
        targets = ["exec", "comms", "legal"]
        harm_types = {s["harm_type"] for s in (view.findings or {}).get("streams", [])}
        if "data_privacy" in harm_types:
            targets.append("privacy")
        return targets

    def _containment(self, view: DrillView) -> list[Intent]:
        out: list[Intent] = []
        unrequested = self._not_requested()
        since: float | None = None
        for stage in (1, 2, 3):
            todo = unrequested[(stage, self._drastic_allowed(stage))]
            if not todo:
                continue
            if since is None:
                since = view.now - (view.declared_at or view.now)
            if not self._stage_open(view, stage, since):
                continue
            for action_id, role in todo:
                if action_id not in self.requested:
                    self.requested.add(action_id)
                    self._catalogue_requests += 1
                    out.append(_command(role, action_id))
        if self._fading:
            out.extend(self._refresh(view))
        return out

    def _refresh(self, view: DrillView) -> list[Intent]:
        """Re-apply repeatable mitigations that fade (block lists) every half of a half-life."""
        out: list[Intent] = []
        for action_id, half in self._fading.items():
            last = view.last_effective.get(action_id)
            if last is None or view.now - last < half:
                continue
            pending = any(a == action_id for a, _, _ in view.in_flight.values()) or any(
                p.action == action_id for p in view.pending.values())
            role = self._acting[action_id]
            if role is not None and not pending:
                out.append(_command(role, action_id))
        return out

    def _stage_open(self, view: DrillView, stage: int, since: float) -> bool:
        if stage == 1:
            return since >= STAGE1_AFTER
        if stage == 2:
            return self._stage_in_effect(view, 1) or since >= STAGE2_AFTER
        return view.findings is not None

    def _drastic_allowed(self, stage: int) -> bool:
        """A kill switch when there is no gentler stage-1 action, or when a watch failed with
        every gentler stage-1 and stage-2 action already in effect."""
        if stage != 1:
            return False
        return not self._gentle_stage1 or self.failed_watches > 0

    def _not_requested(self) -> dict[tuple[int, bool], list[tuple[str, str]]]:
        """(stage, kill switches allowed) → the stage's actions, fastest first, that someone in play
        may take and nobody has requested, as (action, role)."""
        if self._pruned_at != self._catalogue_requests:
            requested = self.requested
            self._unrequested = {key: [item for item in todo if item[0] not in requested]
                                 for key, todo in self._unrequested.items()}
            self._pruned_at = self._catalogue_requests
        return self._unrequested

    def _facts(self, view: DrillView) -> None:
        """Forget what was worked out from the requests made and the actions in effect once either
        has grown (both only grow; an action taking effect always adds to ``view.effective``)."""
        seen = (id(view), len(self.requested), len(view.effective))
        if seen != self._seen:
            self._seen, self._in_effect, self._gentle_since = seen, {}, None

    def _stage_in_effect(self, view: DrillView, stage: int) -> bool:
        """Whether every action of the stage that was requested has taken effect (and one was)."""
        seen = (id(view), len(self.requested), len(view.effective))
        if seen != self._seen:
            self._seen, self._in_effect, self._gentle_since = seen, {}, None
        known = self._in_effect.get(stage)
        if known is None:
            known = self._in_effect[stage] = self._work_out_in_effect(view, stage)
        return known

    def _work_out_in_effect(self, view: DrillView, stage: int) -> bool:
        requested = self.requested
        wanted = [a for a in self._stage_ids[stage] if a in requested]
        if not wanted:
            return False
        effective = view.effective_by_stage.get(stage)
        return effective is not None and all(a in effective for a in wanted)

    def _verify(self, view: DrillView) -> list[Intent]:
        results = view.watch_results
        gentle_done = self._gentle_in_effect_since(view) if results else None
        self.failed_watches = 0 if gentle_done is None else sum(
            1 for start, ok in results if not ok and start >= gentle_done)
        out: list[Intent] = []
        if results and results[-1][1]:
            ic = view.commander or self.in_play[0]
            for stage in (1, 2, 3):
                if stage not in view.stages_done and self._stage_in_effect(view, stage):
                    key = f"stage:{stage}:{len(results)}"
                    if key not in self.requested:
                        self.requested.add(key)
                        out.append(_command(ic, "declare_stage_done", {"stage": stage}))
                        break
        if out or view.watch_until is not None:
            return out
        role = self._verb_role("start_watch", prefer=("ic", "ml", "ts"))
        if role:
            for stage in (1, 2, 3):
                if stage not in view.stages_done and self._stage_in_effect(view, stage):
                    out.append(_command(role, "start_watch"))
                    break
        return out

    def _gentle_in_effect_since(self, view: DrillView) -> float | None:
        """When the last requested non-drastic stage-1/2 action took effect; None while any is pending."""
        self._facts(view)
        if self._gentle_since is None:
            self._gentle_since = (self._work_out_gentle(view),)
        return self._gentle_since[0]

    def _work_out_gentle(self, view: DrillView) -> float | None:
        wanted = {a for a in self._gentle_1_2 if a in self.requested}
        times = {a: view.last_effective[a] for a in wanted if a in view.last_effective}
        if not wanted or set(times) != wanted:
            return None
        return max(times.values())

    def _communicate(self, view: DrillView) -> list[Intent]:
        cadence = self.s.scoring.update_cadence
        if self.last_update is not None and view.now - self.last_update < cadence - 1:
            return []
        role = self._verb_role("send_update", prefer=("comms", "ic"))
        if role is None:
            return []
        public = bool(view.channels & {"social", "press"})
        audiences = ["internal", "executives", "public" if public else "customers"]
        audience = audiences[self.updates_sent % len(audiences)]
        self.last_update = view.now
        self.updates_sent += 1
        doing = ", ".join(t for _, _, t, _ in view.effective[-3:]) or "containment actions under way"
        reports = sum(1 for i in view.injects if i.inject != FINDINGS_INJECT)
        return [_command(role, "send_update", {
            "audience": audience,
            "know": f"{len(view.alerts)} alert(s) and {reports} report(s) point to harmful outputs",
            "suspect": (view.classification or "a gap in our safety controls") + " is the main harm",
            "doing": doing})]

    def _people(self, view: DrillView) -> list[Intent]:
        if not view.loads or max(view.loads.values()) <= ROTATE_ABOVE:
            return []
        ic = view.commander or self.in_play[0]
        out: list[Intent] = []
        for role, load in sorted(view.loads.items()):
            key = f"rotate:{role}:{int(view.now // 3600)}"
            if load > ROTATE_ABOVE and key not in self.requested and self._may(ic, "rotate"):
                self.requested.add(key)
                out.append(_command(ic, "rotate", {"target": role}))
        return out

    def _regulator(self, view: DrillView) -> list[Intent]:
        if "notify_regulator" in self.requested:
            return []
        role = self._verb_role("notify_regulator", prefer=("legal", "ic"))
        if not role:
            return []
        started = any(c["status"] == "running" for c in view.clocks.values())
        if started or "regulator" in view.channels:
            self.requested.add("notify_regulator")
            return [_command(role, "notify_regulator", {
                "authority": "the competent authority",
                "summary": "Serious incident under active containment; full report to follow."})]
        return []

    def _resolve(self, view: DrillView) -> list[Intent]:
        if "resolve" in self.requested or view.resolved_at is not None or \
                self._final_stage not in view.stages_done:
            return []
        self.requested.add("resolve")
        return [_command(view.commander or self.in_play[0], "resolve")]

    # --- helpers -------------------------------------------------------------------------

    def _may(self, role: str, verb: str) -> bool:
        key = (role, verb)
        if key not in self._allowed:
            self._allowed[key] = role in self.in_play and Role(role) in VERBS[verb].roles
        return self._allowed[key]

    def _verb_role(self, verb: str, prefer: tuple[str, ...]) -> str | None:
        key = (verb, prefer)
        if key not in self._roles:
            self._roles[key] = next((r for r in prefer if self._may(r, verb)), None)
        return self._roles[key]


@dataclass(frozen=True)
class _TextbookPlan:
    """What the textbook team works out from a scenario's fixed catalogue before any run: the same
    for every run of the scenario, so a sweep works it out once (:func:`_textbook_plan`). Shared by
    every run: never mutated."""

    in_play: tuple[str, ...]
    commander: str
    acting: dict[str, str | None]
    gentle_stage1: list[Action]
    gentle_1_2: list[str]
    stage_ids: dict[int, list[str]]
    final_stage: int
    catalogues: dict[tuple[int, bool], list[tuple[str, str]]]
    """(stage, kill switches allowed) → the stage's actions fastest first, as (action, the role in
    play that takes it); actions nobody in play may take are left out."""
    load_gain: float
    fading: dict[str, float]


PLANS_KEPT = 64
"""Scenarios whose textbook plan is kept per process (a sweep or a test module plays a handful)."""
_plans: dict[int, tuple[weakref.ref[Scenario], _TextbookPlan]] = {}


def _textbook_plan(scenario: Scenario) -> _TextbookPlan:
    """The textbook plan of ``scenario`` (worked out on first use, then shared while it lives)."""
    kept = _plans.get(id(scenario))
    if kept is not None and kept[0]() is scenario:
        return kept[1]
    in_play = tuple(r.value for r in scenario.roles)
    acting: dict[str, str | None] = {
        a.id: next((r.value for r in a.roles if r.value in in_play), None) for a in scenario.actions}

    def catalogue(stage: int, drastic: bool) -> list[tuple[str, str]]:
        ordered = sorted((a for a in scenario.actions if a.stage == stage and (drastic or not _drastic(a))),
                         key=lambda a: a.latency)
        return [(a.id, role) for a in ordered if (role := acting[a.id]) is not None]

    fading: dict[str, float] = {}
    for action in scenario.actions:
        lives = [e.half_life for e in action.effects if e.half_life is not None]
        if action.repeatable and lives:
            fading[action.id] = min(lives) / 2
    plan = _TextbookPlan(
        in_play=in_play,
        commander=Role.IC.value if Role.IC.value in in_play else in_play[0],
        acting=acting,
        gentle_stage1=[a for a in scenario.actions if a.stage == 1 and not _drastic(a)],
        gentle_1_2=[a.id for a in scenario.actions if a.stage in (1, 2) and not _drastic(a)],
        stage_ids={stage: [a.id for a in scenario.actions if a.stage == stage] for stage in (1, 2, 3)},
        final_stage=max((a.stage for a in scenario.actions), default=1),
        catalogues={(stage, drastic): catalogue(stage, drastic)
                    for stage, drastic in ((1, False), (1, True), (2, False), (3, False))},
        load_gain=scenario.people.load_per_hour * scenario.tick / 3600.0,
        fading=fading)
    if len(_plans) >= PLANS_KEPT:
        _plans.clear()
    _plans[id(scenario)] = (weakref.ref(scenario), plan)
    return plan


def _command(role: str, action: str, params: dict[str, Any] | None = None) -> BotCommand:
    """A command the textbook bot builds from known roles, verbs and fresh parameters: a plain
    record (the drill validates its parameters as it validates every command's)."""
    return BotCommand(role, action, {} if params is None else params)


def _drastic(action: Action) -> bool:
    """Disables or mostly blocks a feature: a kill switch, not a scalpel."""
    return action.blocked_fraction >= 0.5 or any(
        e.traffic_multiplier is not None and e.traffic_multiplier <= 0.1 for e in action.effects)


# --- scripted policies -----------------------------------------------------------------------


class Decision(BaseModel):
    """One scripted decision: at a sim time, or a delay after an inject or alert."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Duration | None = None
    """Sim time to act at."""
    on_inject: str | None = None
    """Act when this inject arrives."""
    on_alert: str | None = None
    """Act when this signal alerts."""
    delay: Duration = 0.0
    """Wait this long after the inject or alert."""
    role: Role
    action: str
    params: dict[str, Any] = {}
    based_on: str = ""
    """Where this step comes from: the public record it replays (a historical policy cites its
    source), or ``Assumption: …`` where the record is silent."""

    @model_validator(mode="after")
    def _one_when(self) -> Decision:
        whens = [n for n in ("at", "on_inject", "on_alert") if getattr(self, n) is not None]
        if len(whens) != 1:
            raise ValueError("a decision needs exactly one of 'at', 'on_inject' or 'on_alert'; "
                             f"found {', '.join(whens) or 'none'}")
        return self


class AnswerStep(BaseModel):
    """One scripted answer: given when the question is asked (plus ``delay``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str
    """The question answered."""
    role: Role | None = None
    """The role answering; the first role the question is asked of when absent."""
    choices: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=8)] = []
    """Option ids chosen (choice questions)."""
    text: Annotated[str, Field(max_length=500)] = ""
    """The answer of a free-text question."""
    confidence: Annotated[int, Field(ge=0, le=100)] | None = None
    """How sure, 0–100 % (a choice answer needs it; a free-text answer takes none)."""
    note: Annotated[str, Field(max_length=500)] = ""
    delay: Duration = 0.0
    """Answer this long after the question is asked."""

    def params(self) -> dict[str, Any]:
        """The ``answer`` command's parameters."""
        out: dict[str, Any] = {"question": self.question}
        if self.confidence is not None:
            out["confidence"] = self.confidence
        if self.choices:
            out["choices"] = list(self.choices)
        if self.text:
            out["text"] = self.text
        if self.note:
            out["note"] = self.note
        return out


class ScriptSpec(BaseModel):
    """A scripted policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "scripted"
    description: str = ""
    auto_approve: bool = True
    """Approve every pending request as soon as it is seen (as its approver)."""
    decisions: list[Decision] = []
    answers: list[AnswerStep] = []
    """Answers to the scenario's discussion questions."""

    @model_validator(mode="after")
    def _something(self) -> ScriptSpec:
        if not self.decisions and not self.answers:
            raise ValueError("a scripted policy needs at least one entry in 'decisions' or 'answers'")
        return self


class Scripted:
    """Plays a list of decisions keyed by sim time or by inject/alert (+ delay)."""

    quiet_after: frozenset[Kind] = frozenset()

    def __init__(self, spec: ScriptSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.done: set[int] = set()
        self.answered: set[int] = set()

    def wake_at(self, view: DrillView) -> float | None:
        dues = [due for index, d in enumerate(self.spec.decisions)
                if index not in self.done and (due := self._due(d, view)) is not None and due > view.now]
        dues += [due for index, a in enumerate(self.spec.answers) if index not in self.answered
                 and (due := _answer_due(a, view)) is not None and due > view.now]
        return min(dues) if dues else None

    def decide(self, view: DrillView) -> list[Intent]:
        out: list[Intent] = []
        for index, d in enumerate(self.spec.decisions if not view.hot_wash else ()):
            due = self._due(d, view)
            if index not in self.done and due is not None and due <= view.now:
                self.done.add(index)
                out.append(Command(role=d.role.value, action=d.action, params=d.params))
        for index, a in enumerate(self.spec.answers):
            due = _answer_due(a, view)
            if index not in self.answered and due is not None and due <= view.now:
                self.answered.add(index)
                role = a.role.value if a.role is not None else view.questions[a.question].to[0]
                out.append(Command(role=role, action=ANSWER.id, params=a.params()))
        if self.spec.auto_approve and not view.hot_wash:
            out.extend(Command(role=p.approver, action="approve", params={"request": p.request})
                       for p in view.pending.values())
        return out

    def _due(self, d: Decision, view: DrillView) -> float | None:
        if d.at is not None:
            return d.at
        if d.on_inject is not None:
            seen = view.first_inject.get(d.on_inject)
        else:
            seen = view.first_alert.get(str(d.on_alert))
        return None if seen is None else seen + d.delay


def _answer_due(a: AnswerStep, view: DrillView) -> float | None:
    """When a scripted answer is due: its question's asking plus the delay, while it is open."""
    seen = view.questions.get(a.question)
    if seen is None or not seen.open or not seen.to:
        return None
    return seen.t + a.delay


HISTORICAL = "historical"
"""The policy name that plays the real team's published timeline of a built-in scenario."""


def historical_path(scenario: Scenario) -> Path:
    """The scripted policy replaying the real incident behind ``scenario``: the library's
    ``scenarios/historical/<id>.yaml``.

    Raises:
        FileNotFoundError: the scenario has none (only the built-ins ship one).
    """
    path = builtin_dir() / HISTORICAL / f"{scenario.id}.yaml"
    if not path.is_file():
        raise FileNotFoundError(f"scenario {scenario.id!r} has no historical policy (the built-in "
                                "scenarios ship one in scenarios/historical/); give the path of a "
                                "scripted policy YAML file instead")
    return path


def policy_file(name: str, scenario: Scenario) -> Path | None:
    """The YAML file a policy name stands for: ``None`` for ``idle`` and ``textbook``, the scenario's
    own file for ``historical``, else ``name`` as a path.

    Raises:
        FileNotFoundError: not a known policy name nor an existing file.
    """
    if name in ("idle", "textbook"):
        return None
    if name == HISTORICAL:
        return historical_path(scenario)
    path = Path(name)
    if path.is_dir():
        raise FileNotFoundError(f"{name}: is a folder; {POLICY_FORMS}")
    if not path.is_file() and looks_like_a_path(name):
        raise FileNotFoundError(f"{name}: no such policy file ({POLICY_FORMS})")
    if not path.is_file():
        raise FileNotFoundError(f"unknown policy {name!r}; {POLICY_FORMS}"
                                f"{suggest(name, ('idle', 'textbook', HISTORICAL))}")
    return path


def load_policy(name: str, scenario: Scenario) -> Policy:
    """``idle``, ``textbook``, ``historical`` (the real team's timeline), or the path of a scripted
    policy YAML.

    Raises:
        FileNotFoundError: not a known policy name nor an existing file.
        FileProblems: the file is not a valid scripted policy (errors at file:line:col).
    """
    if name == "idle":
        return Idle()
    if name == "textbook":
        return Textbook(scenario)
    path = policy_file(name, scenario)
    assert path is not None
    document = read_document(path.read_text(encoding="utf-8"), str(path))
    spec, problems = check_model(ScriptSpec, document,
                                 lambda spec, doc, damage: _script_problems(spec, scenario, doc, damage))
    if spec is None or problems:
        raise FileProblems(problems)
    return Scripted(spec)


def _script_problems(spec: ScriptSpec, scenario: Scenario, doc: Document,
                     damage: Damage | None = None) -> list[Problem]:
    """Decisions that name actions, injects or signals the scenario does not have.

    With ``damage`` (``spec`` is what validated of a file with schema errors), decisions whose
    fields were cut are not judged.
    """
    actions = {a.id for a in scenario.actions} | set(VERBS)
    injects = {i.id for i in scenario.injects}
    out: list[Problem] = []

    def bad(path: tuple[Any, ...], message: str) -> None:
        if damage is None or not damage.hides(doc, path):
            out.append(doc.problem(doc.node_at(path), message))

    for n, d in enumerate(spec.decisions):
        where = ("decisions", n)
        if d.action not in actions:
            bad((*where, "action"), f"action: {scenario.id!r} has no action {d.action!r}"
                f"{suggest(d.action, actions)}")
        if d.on_inject is not None and d.on_inject not in injects:
            bad((*where, "on_inject"), f"on_inject: {scenario.id!r} has no inject {d.on_inject!r}"
                f"{suggest(d.on_inject, injects)}")
        if d.on_alert is not None and d.on_alert not in scenario.signals:
            bad((*where, "on_alert"), f"on_alert: {scenario.id!r} has no signal {d.on_alert!r}"
                f"{suggest(d.on_alert, scenario.signals)}")
    for n, a in enumerate(spec.answers):
        _answer_problems(a, ("answers", n), scenario, bad)
    return out


def _answer_problems(a: AnswerStep, where: tuple[Any, ...], scenario: Scenario,
                     bad: Callable[[tuple[Any, ...], str], None]) -> None:
    """A scripted answer naming a question the scenario lacks, or not fitting the question."""
    q = scenario.question(a.question)
    if q is None:
        names = [x.id for x in scenario.questions]
        bad((*where, "question"), f"question: {scenario.id!r} has no question {a.question!r}"
            f"{suggest(a.question, names)}")
        return
    asked = [r.value for r in q.to] or [r.value for r in scenario.roles]
    if a.role is not None and a.role.value not in asked:
        bad((*where, "role"), f"role: question {q.id!r} is asked of {', '.join(asked)}, not {a.role.value}")
    if q.kind == "text" and a.confidence is not None:
        bad((*where, "confidence"), f"confidence: question {q.id!r} is answered in words and takes no "
            "confidence (remove it)")
    elif q.kind != "text" and a.confidence is None:
        bad(where, f"confidence: question {q.id!r} is answered with a choice: say how sure (0-100)")
    sure = None if q.kind == "text" else 0  # checked above: the question's own fit is checked next
    problem = answer_problem(q, AnswerParams(question=q.id, choices=a.choices, text=a.text, confidence=sure))
    if problem is not None:
        bad((*where, "text" if q.kind == "text" else "choices"), problem)
