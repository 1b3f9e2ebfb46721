"""The incident record the engine keeps: what the team has done, and requests waiting for approval."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.engine.intent import Intent
from simulator.format.scenario import Action


@dataclass
class PendingApproval:
    """A catalogue action waiting for its approver."""

    request: int
    command: Intent
    action: Action
    requested_at: float


@dataclass
class Incident:
    """What the team has done: the authoritative incident record the engine keeps."""

    declared_at: float | None = None
    commander: str | None = None
    severity: str | None = None
    classification: dict[str, Any] | None = None
    escalations: dict[str, float] = field(default_factory=dict)
    updates: list[tuple[float, str, bool]] = field(default_factory=list)
    """(time, audience, structured) for each stakeholder update."""
    stages_done: dict[int, float] = field(default_factory=dict)
    premature_stages: list[int] = field(default_factory=list)
    watch_until: float | None = None
    watches: list[tuple[float, float, bool]] = field(default_factory=list)
    investigating: bool = False
    findings_at: float | None = None
    resolved_at: float | None = None
    resolved_while_harmful: bool = False
    resurgences: list[float] = field(default_factory=list)
    first_effective: dict[int, float] = field(default_factory=dict)
    """Remediation stage → first time one of its actions took effect."""
