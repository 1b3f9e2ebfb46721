"""Commands players send, and the built-in verbs every scenario has besides its action catalogue."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from simulator.format.taxonomy import EscalationTarget, HarmType, Hazard, Role, Severity


class Command(BaseModel):
    """A player's intent: ``role`` asks to take ``action`` with ``params``."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    role: str
    """Role acting (``ic``, ``ml``, ``ts``, ``comms``, ``legal``)."""
    action: str
    """A built-in verb (``declare_incident`` …) or a catalogue action id."""
    params: dict[str, Any] = {}
    """Parameters of the verb; catalogue actions take none."""
    player: str | None = None
    """Name of the person who sent it (team drills); recorded in the journal, not used to decide."""
    player_id: str | None = None
    """The team server's id of the person who sent it (two players may share a name, never an id);
    journaled, and answers are counted per person by it."""


class Params(BaseModel):
    """Base of verb parameters: unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


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


MAX_ANSWER_TEXT = 500
"""Longest free-text answer, note or observation, in characters."""

Note = Annotated[str, Field(max_length=MAX_ANSWER_TEXT)]


class AnswerParams(Params):
    """A player's answer to an open discussion question."""

    question: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
    """Id of the question answered."""
    choices: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=8)] = []
    """Option ids chosen (``one``: exactly one; ``several``: one or more; ``text``: none)."""
    text: Note = ""
    """The answer of a free-text question."""
    confidence: Annotated[int, Field(ge=0, le=100)] | None = None
    """How sure the player is, 0–100 %: a choice answer needs one; a free-text answer has none
    (journals from before this rule carry one on free-text answers too, and still replay)."""
    note: Note = ""
    """An optional remark beside the answer."""


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

ANSWER = Verb("answer", "Answer a discussion question", ALL, AnswerParams)
"""The discussion verb: any role in play answers a question it was asked. Not among :data:`VERBS`
(it is no button: a question opens its own dialog), but a player command like them."""

PLAYER_VERBS: dict[str, Verb] = {**VERBS, ANSWER.id: ANSWER}
"""Every verb a player's seat may send: the built-in verbs and ``answer``."""


class InjectParams(Params):
    inject: str
    """Id of the scripted inject to fire now."""


class AdhocParams(Params):
    channel: Literal["pager", "email", "chat", "ticket", "social", "press", "regulator", "dashboard"]
    to: Annotated[list[Role], Field(min_length=1)]
    subject: Annotated[str, Field(min_length=1, max_length=200)]
    body: Text = ""
    sender: Annotated[str, Field(min_length=1, max_length=100)] = "Exercise control"


class ObserveParams(Params):
    """An observation by the facilitator or an evaluator, against an objective (HSEEP EEG style)."""

    objective: Annotated[str, Field(max_length=300)] = ""
    """The exercise objective it is about (one of the scenario's); ``""`` for a general note."""
    tag: Literal["strength", "improvement"]
    """A strength, or an area for improvement."""
    text: Annotated[str, Field(min_length=1, max_length=MAX_ANSWER_TEXT)]
    """What was observed."""


class CloseQuestionParams(Params):
    question: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", max_length=64)]
    """Id of the open question to close now."""
    reason: Literal["answered", "facilitator"] = "facilitator"
    """``answered``: sent for the team once everyone asked has answered (the hot seat's session,
    the team server, the headless runner); ``facilitator``: the facilitator cut it short."""


FACILITATOR_VERBS: dict[str, type[Params]] = {
    "fire_inject": InjectParams,
    "adhoc_inject": AdhocParams,
    "end_drill": NoParams,
    "observe": ObserveParams,
    "close_question": CloseQuestionParams,
}
"""Verbs only the facilitator (white cell) may use; they are journaled like any command."""

EVALUATOR_VERBS: dict[str, type[Params]] = {"observe": ObserveParams}
"""The only verb an evaluator's seat may use (command role ``evaluator``)."""

EVALUATOR_REFUSAL = "an evaluator observes and cannot steer the drill"
"""Why the engine refuses any other command from an evaluator."""


def build_models() -> None:
    """Build every command model now rather than at its first use.

    The models are built lazily (``defer_build``) so ``ttx validate`` never pays for them; a
    long-running process (``ttx host``) calls this before it serves, so no player's first command
    of a kind waits several milliseconds for pydantic to build its validator.
    """
    pending: list[type[BaseModel]] = [Command, Params]
    while pending:
        model = pending.pop()
        model.model_rebuild(force=True)
        pending.extend(model.__subclasses__())

