"""Commands players send, and the built-in verbs every scenario has besides its action catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.format.taxonomy import EscalationTarget, HarmType, Hazard, Role, Severity


class Command(BaseModel):
    """A player's intent: ``role`` asks to take ``action`` with ``params``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role: str
    """Role acting (``ic``, ``ml``, ``ts``, ``comms``, ``legal``)."""
    action: str
    """A built-in verb (``declare_incident`` …) or a catalogue action id."""
    params: dict[str, Any] = {}
    """Parameters of the verb; catalogue actions take none."""
    player: str | None = None
    """Name of the person who sent it (team drills); recorded in the journal, not used to decide."""


class Params(BaseModel):
    """Base of verb parameters: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoParams(Params):
    """A verb without parameters."""


class DeclareParams(Params):
    commander: Role = Role.IC
    """Role named incident commander."""


class SeverityParams(Params):
    level: Severity


class ClassifyParams(Params):
    harm_type: HarmType
    hazard: Hazard | None = None


class EscalateParams(Params):
    to: EscalationTarget


Text = Annotated[str, Field(max_length=2000)]


class UpdateParams(Params):
    audience: Literal["internal", "executives", "customers", "public", "regulator"]
    know: Text = ""
    """What we know."""
    suspect: Text = ""
    """What we suspect."""
    doing: Text = ""
    """What we are doing."""


class StageParams(Params):
    stage: Literal[1, 2, 3]


class TargetParams(Params):
    target: Role
    """The role being rotated or rested."""


class RequestParams(Params):
    request: int
    """Approval request number."""
    reason: Text = ""


class MessageParams(Params):
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    to: list[Role] = []
    """Direct message to these roles; the shared war-room channel when empty."""


class NotifyParams(Params):
    authority: Annotated[str, Field(min_length=1, max_length=200)] = "data protection authority"
    summary: Text = ""


ALL = frozenset(Role)


@dataclass(frozen=True)
class Verb:
    """A built-in verb: who may use it and what parameters it takes."""

    id: str
    title: str
    roles: frozenset[Role]
    params: type[Params]


VERBS: dict[str, Verb] = {v.id: v for v in [
    Verb("declare_incident", "Declare the incident and name a commander", ALL, DeclareParams),
    Verb("set_severity", "Set severity", frozenset({Role.IC}), SeverityParams),
    Verb("classify", "Classify the harm", frozenset({Role.IC, Role.ML, Role.TS}), ClassifyParams),
    Verb("escalate", "Escalate", frozenset({Role.IC, Role.TS, Role.LEGAL}), EscalateParams),
    Verb("send_update", "Send a stakeholder update", frozenset({Role.IC, Role.COMMS}), UpdateParams),
    Verb("investigate", "Investigate: pull logs, find contributing factors",
         frozenset({Role.ML, Role.TS}), NoParams),
    Verb("start_watch", "Start a watch period", frozenset({Role.IC, Role.ML, Role.TS}), NoParams),
    Verb("declare_stage_done", "Declare a remediation stage done", frozenset({Role.IC}), StageParams),
    Verb("rotate", "Rotate a responder (handoff)", frozenset({Role.IC}), TargetParams),
    Verb("rest", "Rest a responder", ALL, TargetParams),
    Verb("notify_regulator", "Notify the regulator", frozenset({Role.LEGAL, Role.IC}), NotifyParams),
    Verb("message", "Message the war room or a role", ALL, MessageParams),
    Verb("approve", "Approve a pending request", ALL, RequestParams),
    Verb("deny", "Deny a pending request", ALL, RequestParams),
    Verb("resolve", "Resolve the incident", frozenset({Role.IC}), NoParams),
]}
"""Verbs every scenario has, by id."""


class InjectParams(Params):
    inject: str
    """Id of the scripted inject to fire now."""


class AdhocParams(Params):
    channel: Literal["pager", "email", "chat", "ticket", "social", "press", "regulator", "dashboard"]
    to: Annotated[list[Role], Field(min_length=1)]
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    body: Text = ""
    sender: Annotated[str, Field(min_length=1, max_length=100)] = "Exercise control"


FACILITATOR_VERBS: dict[str, type[Params]] = {
    "fire_inject": InjectParams,
    "adhoc_inject": AdhocParams,
    "end_drill": NoParams,
}
"""Verbs only the facilitator (white cell) may use; they are journaled like any command."""
