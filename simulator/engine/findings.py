"""What an investigation finds: contributing factors, the harm found, and what the logs can still show.

The engine emits the ``findings`` event (the incident record, shared) and an inject to the role that
investigated (the report it reads). Both are built here from the scenario and the sim time, so
the same drill gives the same words.
"""

from __future__ import annotations

from typing import Any

from simulator.format.durations import clock, format_duration
from simulator.format.scenario import Scenario
from simulator.format.taxonomy import HARM_TYPE_LABELS, HAZARD_LABELS, ROLE_LABELS, HarmType, Hazard, Role

FINDINGS_INJECT = "findings"
"""The inject id of an investigation's report (not an MSEL row: no inject of the scenario has it)."""


def investigation_findings(scenario: Scenario, now: float) -> dict[str, Any]:
    """The ``findings`` payload at sim time ``now``: factors, streams by severity, log coverage.

    ``logs`` is ``complete`` or ``partial: …``; ``logs_from`` is the earliest sim time the request
    logs still cover (0 when nothing is gone) and ``retention`` the window that cut them (seconds).
    """
    spec = scenario.investigation
    retention = spec.log_retention if spec is not None else None
    logs_from = max(0.0, now - retention) if retention is not None else 0.0
    by_severity = sorted(scenario.streams.items(), key=lambda kv: -kv[1].severity.weight)
    streams = [{"stream": sid, "title": s.title, "harm_type": s.harm_type.value,
                "hazard": s.hazard.value if s.hazard else None, "vectors": list(s.vectors)}
               for sid, s in by_severity]
    logs = ("partial: request logs older than the retention window are gone; the first exposures "
            "cannot be reconstructed") if logs_from > 0 else "complete"
    return {"factors": list(spec.factors) if spec else [], "streams": streams, "logs": logs,
            "logs_from": round(logs_from, 6), "retention": retention}


def logs_sentence(findings: dict[str, Any]) -> str:
    """What the request logs could and could not show, in a sentence."""
    logs_from = float(findings.get("logs_from") or 0.0)
    retention = findings.get("retention")
    if logs_from <= 0:
        kept = f" (kept {format_duration(float(retention))})" if retention is not None else ""
        return (f"Logs complete{kept}: every request since harm began at 0:00:00 is on record, so who "
                "saw what, and when, can be reconstructed.")
    return (f"Logs partial: request logs are kept {format_duration(float(retention or 0))}, so "
            f"everything before {clock(logs_from)} is gone. The first {clock(logs_from)} of harm cannot "
            "be reconstructed or attributed to users; the logs show only what happened since.")


def harm_found(stream: dict[str, Any]) -> str:
    """One harm stream the investigation traced, with its NIST harm type and hazard code."""
    kind = HARM_TYPE_LABELS.get(HarmType(stream["harm_type"]), str(stream["harm_type"]))
    hazard = stream.get("hazard")
    code = f", {hazard} {HAZARD_LABELS[Hazard(hazard)]}" if hazard else ""
    return f"{stream['title']} ({kind}{code})"


def findings_inject(findings: dict[str, Any], role: str) -> dict[str, Any]:
    """The inject payload that brings the findings to the role that investigated."""
    factors = list(findings.get("factors") or [])
    traced = [f"- {harm_found(s)}" for s in findings.get("streams") or []]
    lines = ["Contributing factors (root cause is several, not one bug):",
             *([f"- {f}" for f in factors] or ["- none identified"]), "",
             "Harm traced in the logs:", *(traced or ["- none"]), "", logs_sentence(findings)]
    count = f"{len(factors)} contributing factor{'s' if len(factors) != 1 else ''}"
    try:
        team = ROLE_LABELS[Role(role)]
    except ValueError:
        team = role
    return {"inject": FINDINGS_INJECT, "channel": "ticket", "sender": "Log review",
            "sender_title": f"investigation by {team}",
            "subject": f"Investigation findings: {count}", "body": "\n".join(lines)}
