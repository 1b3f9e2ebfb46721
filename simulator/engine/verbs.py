"""The built-in verbs in play: one record per verb — who may use it, its parameters, its refusal, its effect.

Who may use a verb and what parameters it takes are part of the scenario format
(:data:`simulator.format.commands.VERBS`); this table adds what the engine does with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from simulator.engine.events import Kind
from simulator.engine.findings import findings_inject, investigation_findings
from simulator.engine.index import index_of
from simulator.engine.intent import Intent
from simulator.engine.stage import Stage
from simulator.format.commands import (
    VERBS,
    ClassifyParams,
    DeclareParams,
    EscalateParams,
    MessageParams,
    NoParams,
    NotifyParams,
    Params,
    RequestParams,
    SeverityParams,
    StageParams,
    TargetParams,
    UpdateParams,
    Verb,
)
from simulator.format.durations import clock
from simulator.format.taxonomy import Role

P = TypeVar("P", bound=Params)


@dataclass(frozen=True)
class VerbRule(Generic[P]):
    """What the engine does with one built-in verb."""

    verb: Verb
    """Id, title, roles allowed and parameters model (from the scenario format)."""
    apply: Callable[[Stage, str, P], None]
    """Carry it out: the drill, the acting role, the validated parameters."""
    refusal: Callable[[Stage, Intent, P], str | None] = lambda drill, command, params: None
    """Why it cannot be done now (``None``: it can)."""
    needs_declared: bool = False
    """Refused until the incident is declared."""

    def refuse(self, drill: Stage, command: Intent, params: Params) -> str | None:
        """The refusal reason for this command now, if any."""
        if self.needs_declared and drill.incident.declared_at is None:
            return "declare the incident first"
        return self.refusal(drill, command, params)  # type: ignore[arg-type]

    def run(self, drill: Stage, role: str, params: Params) -> None:
        """Apply the verb."""
        self.apply(drill, role, params)  # type: ignore[arg-type]


# --- what each verb does -------------------------------------------------------------------


def declare_incident(drill: Stage, role: str, p: DeclareParams) -> None:
    drill.incident.declared_at = drill.now
    drill.incident.commander = p.commander.value
    drill.people.declared(drill.now)
    drill.emit(Kind.INCIDENT_DECLARED, role, {"commander": drill.incident.commander})
    drill.triggers.notify("declared", 1)


def set_severity(drill: Stage, role: str, p: SeverityParams) -> None:
    drill.incident.severity = p.level.value
    drill.emit(Kind.SEVERITY_SET, role, {"level": drill.incident.severity})


def classify(drill: Stage, role: str, p: ClassifyParams) -> None:
    hazard = p.hazard.value if p.hazard is not None else None
    drill.incident.classification = {"harm_type": p.harm_type.value, "hazard": hazard, "at": drill.now}
    drill.emit(Kind.CLASSIFIED, role, {"harm_type": p.harm_type.value, "hazard": hazard})


def escalate(drill: Stage, role: str, p: EscalateParams) -> None:
    target = str(p.to)
    drill.incident.escalations.setdefault(target, drill.now)
    drill.emit(Kind.ESCALATED, role, {"to": target})


def send_update(drill: Stage, role: str, p: UpdateParams) -> None:
    parts = {"know": p.know.strip(), "suspect": p.suspect.strip(), "doing": p.doing.strip()}
    structured = all(parts.values())
    drill.incident.updates.append((drill.now, p.audience, structured))
    drill.emit(Kind.UPDATE_SENT, role, {"audience": p.audience, **parts, "structured": structured})


INVESTIGATION_LATENCY = 30 * 60.0
"""How long an investigation takes in a scenario that does not say."""


def investigate(drill: Stage, role: str, p: NoParams) -> None:
    spec = drill.scenario.investigation
    latency = spec.latency if spec else INVESTIGATION_LATENCY
    drill.incident.investigating = True
    drill.emit(Kind.INVESTIGATION_STARTED, role, {"eta": round(drill.now + latency, 6)})
    drill.after(latency, lambda: findings(drill, role))


def findings(drill: Stage, role: str) -> None:
    """The investigation reports: the shared incident record, and a ticket to the role that ran it
    (contributing factors, the streams found, what the logs could and could not show)."""
    drill.incident.investigating = False
    drill.incident.findings_at = drill.now
    found = investigation_findings(drill.scenario, drill.now)
    drill.emit(Kind.FINDINGS, role, found)
    drill.emit(Kind.INJECT, "engine", findings_inject(found, role), to=(role,))


def start_watch(drill: Stage, role: str, p: NoParams) -> None:
    started = drill.now
    ends = started + drill.scenario.scoring.watch_period
    drill.incident.watch_until = ends
    drill.emit(Kind.WATCH_STARTED, role, {"ends": round(ends, 6)})
    drill.after(drill.scenario.scoring.watch_period, lambda: end_watch(drill, started))


def end_watch(drill: Stage, started: float) -> None:
    """A watch period is over: it held if no interval since it started went above the threshold."""
    passed = drill.worst_rate_since(started) <= drill.scenario.scoring.containment_threshold
    drill.incident.watch_until = None
    drill.incident.watches.append((started, drill.now, passed))
    drill.emit(Kind.WATCH_ENDED, "engine", {"started": round(started, 6), "passed": passed})


def declare_stage_done(drill: Stage, role: str, p: StageParams) -> None:
    rate = drill.current_rate()
    continuing = rate > drill.scenario.scoring.containment_threshold
    drill.incident.stages_done[p.stage] = drill.now
    if continuing:
        drill.incident.premature_stages.append(p.stage)
    drill.emit(Kind.STAGE_DECLARED, role, {"stage": p.stage})
    if continuing:
        drill.emit(Kind.RESURGENCE, "engine", {"stage": p.stage, "declared_while_harmful": True,
                                               "rate": round(rate, 6)}, hidden=True)


def rotate(drill: Stage, role: str, p: TargetParams) -> None:
    back = drill.people.rotate(p.target.value, drill.now)
    drill.emit(Kind.ROTATED, role, {"target": p.target.value, "back": round(back, 6)})


def rest(drill: Stage, role: str, p: TargetParams) -> None:
    back = drill.people.rest(p.target.value, drill.now)
    drill.emit(Kind.RESTED, role, {"target": p.target.value, "back": round(back, 6)})


def notify_regulator(drill: Stage, role: str, p: NotifyParams) -> None:
    drill.emit(Kind.REGULATOR_NOTIFIED, role, {"authority": p.authority, "summary": p.summary})


def message(drill: Stage, role: str, p: MessageParams) -> None:
    to = [r.value for r in p.to]
    audience = tuple(sorted({role, *to})) if to else None
    drill.emit(Kind.MESSAGE, role, {"text": p.text, "to": to}, to=audience)


def approve(drill: Stage, role: str, p: RequestParams) -> None:
    pending = drill.pending.pop(p.request)
    drill.emit(Kind.APPROVAL_GRANTED, role, {"request": pending.request, "action": pending.action.id})
    drill.start_action(pending.request, pending.action, pending.command.role)


def deny(drill: Stage, role: str, p: RequestParams) -> None:
    pending = drill.pending.pop(p.request)
    drill.emit(Kind.APPROVAL_DENIED, role, {"request": pending.request, "action": pending.action.id,
                                            "reason": p.reason, "title": pending.action.title})


def resolve(drill: Stage, role: str, p: NoParams) -> None:
    drill.incident.resolved_at = drill.now
    drill.incident.resolved_while_harmful = (
        drill.current_rate() > drill.scenario.scoring.containment_threshold)
    drill.emit(Kind.RESOLVED, role, {})


# --- when each verb is refused -------------------------------------------------------------


def _already_declared(drill: Stage, command: Intent, p: DeclareParams) -> str | None:
    at = drill.incident.declared_at
    return f"already declared at {clock(at)}" if at is not None else None


def _investigating(drill: Stage, command: Intent, p: NoParams) -> str | None:
    return "an investigation is already running" if drill.incident.investigating else None


def _watching(drill: Stage, command: Intent, p: NoParams) -> str | None:
    return "a watch period is already running" if drill.incident.watch_until is not None else None


def _stage_done(drill: Stage, command: Intent, p: StageParams) -> str | None:
    return (f"stage {p.stage} is already declared done" if p.stage in drill.incident.stages_done
            else None)


def _resolved(drill: Stage, command: Intent, p: NoParams) -> str | None:
    return "already resolved" if drill.incident.resolved_at is not None else None


def _no_request(drill: Stage, command: Intent, p: RequestParams) -> str | None:
    pending = drill.pending.get(p.request)
    if pending is None:
        return f"no pending request #{p.request}"
    approver = pending.action.approval
    if approver is not None and command.role != approver.value:
        return f"request #{p.request} needs {approver.value} to decide"
    return None


def _not_in_play(drill: Stage, command: Intent, p: TargetParams) -> str | None:
    in_play = index_of(drill.scenario).in_play
    return None if p.target.value in in_play else f"{p.target.value} is not in play"


def _rest_refusal(drill: Stage, command: Intent, p: TargetParams) -> str | None:
    if (reason := _not_in_play(drill, command, p)) is not None:
        return reason
    if command.role in (p.target.value, Role.IC.value):
        return None
    return "only the incident commander may rest someone else"


def _rule(verb_id: str, apply: Callable[[Stage, str, Any], None],
          refusal: Callable[[Stage, Intent, Any], str | None] | None = None,
          needs_declared: bool = False) -> VerbRule[Any]:
    if refusal is None:
        return VerbRule(VERBS[verb_id], apply, needs_declared=needs_declared)
    return VerbRule(VERBS[verb_id], apply, refusal, needs_declared)


RULES: dict[str, VerbRule[Any]] = {rule.verb.id: rule for rule in [
    _rule("declare_incident", declare_incident, _already_declared),
    _rule("set_severity", set_severity, needs_declared=True),
    _rule("classify", classify),
    _rule("escalate", escalate),
    _rule("send_update", send_update),
    _rule("investigate", investigate, _investigating),
    _rule("start_watch", start_watch, _watching, needs_declared=True),
    _rule("declare_stage_done", declare_stage_done, _stage_done, needs_declared=True),
    _rule("rotate", rotate, _not_in_play, needs_declared=True),
    _rule("rest", rest, _rest_refusal),
    _rule("notify_regulator", notify_regulator),
    _rule("message", message),
    _rule("approve", approve, _no_request),
    _rule("deny", deny, _no_request),
    _rule("resolve", resolve, _resolved, needs_declared=True),
]}
"""Every built-in verb, by id (the same ids as :data:`~simulator.format.commands.VERBS`)."""

assert RULES.keys() == VERBS.keys(), "every built-in verb needs exactly one rule"
