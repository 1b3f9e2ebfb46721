"""Classification axes from DOMAIN.md: NIST AI 600-1 harms, MLCommons hazards, OWASP tags, roles, channels."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import StrEnum


class HarmType(StrEnum):
    """The 12 risks of the NIST AI 600-1 Generative AI Profile."""

    CBRN = "cbrn"
    CONFABULATION = "confabulation"
    DANGEROUS_CONTENT = "dangerous_violent_hateful"
    DATA_PRIVACY = "data_privacy"
    ENVIRONMENTAL = "environmental"
    HARMFUL_BIAS = "harmful_bias"
    HUMAN_AI_CONFIGURATION = "human_ai_configuration"
    INFORMATION_INTEGRITY = "information_integrity"
    INFORMATION_SECURITY = "information_security"
    INTELLECTUAL_PROPERTY = "intellectual_property"
    OBSCENE_CONTENT = "obscene_degrading_abusive"
    VALUE_CHAIN = "value_chain"


HARM_TYPE_LABELS: dict[HarmType, str] = {
    HarmType.CBRN: "CBRN information or capabilities",
    HarmType.CONFABULATION: "Confabulation",
    HarmType.DANGEROUS_CONTENT: "Dangerous, violent or hateful content",
    HarmType.DATA_PRIVACY: "Data privacy",
    HarmType.ENVIRONMENTAL: "Environmental impacts",
    HarmType.HARMFUL_BIAS: "Harmful bias and homogenization",
    HarmType.HUMAN_AI_CONFIGURATION: "Human-AI configuration",
    HarmType.INFORMATION_INTEGRITY: "Information integrity",
    HarmType.INFORMATION_SECURITY: "Information security",
    HarmType.INTELLECTUAL_PROPERTY: "Intellectual property",
    HarmType.OBSCENE_CONTENT: "Obscene, degrading and/or abusive content",
    HarmType.VALUE_CHAIN: "Value chain and component integration",
}


class Hazard(StrEnum):
    """MLCommons hazard codes as emitted by Llama Guard 3."""

    S1 = "S1"
    S2 = "S2"
    S3 = "S3"
    S4 = "S4"
    S5 = "S5"
    S6 = "S6"
    S7 = "S7"
    S8 = "S8"
    S9 = "S9"
    S10 = "S10"
    S11 = "S11"
    S12 = "S12"
    S13 = "S13"
    S14 = "S14"


HAZARD_LABELS: dict[Hazard, str] = {
    Hazard.S1: "violent crimes",
    Hazard.S2: "non-violent crimes",
    Hazard.S3: "sex-related crimes",
    Hazard.S4: "child sexual exploitation",
    Hazard.S5: "defamation",
    Hazard.S6: "specialized advice",
    Hazard.S7: "privacy",
    Hazard.S8: "intellectual property",
    Hazard.S9: "indiscriminate weapons",
    Hazard.S10: "hate",
    Hazard.S11: "suicide & self-harm",
    Hazard.S12: "sexual content",
    Hazard.S13: "elections",
    Hazard.S14: "code interpreter abuse",
}

VECTOR_TAG_PATTERN = r"^(LLM(0[1-9]|10):2025|AML\.T\d{4}(\.\d{3})?)$"
"""OWASP Top 10 for LLM Applications 2025 (``LLM01:2025``) or MITRE ATLAS (``AML.T0051``)."""


class Role(StrEnum):
    """Responder roles a drill can put in play (plus the facilitator, who is not a player)."""

    IC = "ic"
    ML = "ml"
    TS = "ts"
    COMMS = "comms"
    LEGAL = "legal"


ROLE_LABELS: dict[Role, str] = {
    Role.IC: "Incident commander",
    Role.ML: "ML engineer",
    Role.TS: "Trust & safety",
    Role.COMMS: "Comms",
    Role.LEGAL: "Legal",
}

ROLE_SHORT: dict[Role, str] = {Role.IC: "IC", Role.ML: "ML", Role.TS: "T&S", Role.COMMS: "Comms",
                               Role.LEGAL: "Legal"}
"""Role labels as they fit in tabs and feed lines."""


def role_named(text: str) -> Role | None:
    """The role a person means by ``text``: its id (``ml``), its short label (``ML``, ``T&S``) or its
    full name as the lobby shows it (``ML engineer``), in any case and spacing; ``None`` for anything
    else. The join command and the SSH seat's role prompt take what a player reads on screen."""
    wanted = " ".join(text.split()).casefold()
    for role in Role:
        if wanted in (role.value, ROLE_SHORT[role].casefold(), ROLE_LABELS[role].casefold()):
            return role
    return None


def role_near(text: str, among: Iterable[str] | None = None) -> Role | None:
    """The role a misspelt ``text`` most likely meant (``legl`` → legal, ``coms`` → comms), by its
    id, short label or name, among the role ids ``among`` (default: every role); ``None`` if none
    is close."""
    wanted = " ".join(text.split()).casefold()
    allowed = set(among) if among is not None else {role.value for role in Role}
    names = {name: role for role in Role if role.value in allowed
             for name in (role.value, ROLE_SHORT[role].casefold(), ROLE_LABELS[role].casefold())}
    close = difflib.get_close_matches(wanted, list(names), n=1, cutoff=0.6)
    return names[close[0]] if close else None


FACILITATOR = "facilitator"
"""The white cell: steers the drill and sees the hidden truth. Not a player role."""

EVALUATOR = "evaluator"
"""An evaluator's seat: sees every event the facilitator sees, writes observations, cannot steer."""

OBSERVERS = frozenset({FACILITATOR, EVALUATOR})
"""Seats that see every event, hidden truth included."""


class Channel(StrEnum):
    """How an inject reaches the team."""

    PAGER = "pager"
    EMAIL = "email"
    CHAT = "chat"
    TICKET = "ticket"
    SOCIAL = "social"
    PRESS = "press"
    REGULATOR = "regulator"
    DASHBOARD = "dashboard"


class Outcome(StrEnum):
    """CSET / AI Incident Database outcome level."""

    EVENT = "event"
    NEAR_MISS = "near_miss"
    ISSUE = "issue"
    NONE = "none"


class Severity(StrEnum):
    """Incident severity a responder can set."""

    SEV1 = "sev1"
    SEV2 = "sev2"
    SEV3 = "sev3"
    SEV4 = "sev4"


class EscalationTarget(StrEnum):
    """Who an escalation reaches."""

    EXEC = "exec"
    LEGAL = "legal"
    PRIVACY = "privacy"
    COMMS = "comms"
    TS_LEAD = "ts_lead"
