"""What the after-action review shows, gathered from the view, the revealed truth and a do-nothing run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simulator.engine.drill import Drill
from simulator.engine.events import Event, Kind
from simulator.engine.view import DrillView
from simulator.format.scenario import Scenario
from tui.widgets.signals import UNITS

Curve = list[tuple[float, float]]


@dataclass
class Expectation:
    """One MSEL expectation and whether the team met it."""

    t: float
    inject: str
    action: str
    role: str | None
    objective: str
    met: bool


@dataclass
class Review:
    """Everything the review screen and the saved report need."""

    scenario: Scenario
    result: dict[str, Any]
    harm: Curve = field(default_factory=list)
    """Harmful outputs per minute in this run (truth)."""
    baseline: Curve = field(default_factory=list)
    """Harmful outputs per minute in the do-nothing run on the same seed."""
    observed: Curve = field(default_factory=list)
    """The main observable signal (user reports per hour, or the first instrumented signal)."""
    observed_title: str = ""
    expectations: list[Expectation] = field(default_factory=list)
    timeline: list[tuple[float, str]] = field(default_factory=list)


def harm_curve(events: list[Event]) -> Curve:
    """Harmful outputs per minute from the hidden ``harm`` events."""
    return [(e.t, float(e.payload["rate"]) * 60.0) for e in events if e.kind == Kind.HARM]


def baseline_curve(scenario: Scenario, seed: int) -> Curve:
    """The do-nothing run on the same seed, as harmful outputs per minute."""
    drill = Drill(scenario, seed)
    drill.run_to_end()
    return harm_curve(drill.events)


def expectations_of(events: list[Event]) -> list[Expectation]:
    """MSEL expectations met or missed, from the hidden events."""
    return [Expectation(e.t, str(e.payload["inject"]), str(e.payload["action"]), e.payload.get("role"),
                        str(e.payload.get("objective", "")), e.kind == Kind.EXPECTATION_MET)
            for e in events if e.kind in (Kind.EXPECTATION_MET, Kind.EXPECTATION_MISSED)]


def observed_signal(scenario: Scenario, view: DrillView) -> tuple[str, Curve]:
    """The signal a team watches first: user reports if instrumented, else the first instrumented one."""
    instrumented = [(sid, s) for sid, s in scenario.signals.items() if s.instrumented]
    if not instrumented:
        return "", []
    sid, spec = next(((i, s) for i, s in instrumented if s.kind == "user_reports"), instrumented[0])
    return f"{spec.title} ({UNITS.get(spec.kind, 'reading')})", list(view.signals.get(sid, []))


def build_review(scenario: Scenario, view: DrillView, revealed: list[Event]) -> Review:
    """Assemble the review from the view (result, timeline) and the revealed hidden events."""
    result = view.result or {}
    seed = int(result.get("seed", scenario.seed))
    title, observed = observed_signal(scenario, view)
    outcomes = [(x.t, ("✔ met: " if x.met else "✘ missed: ") + (x.objective or x.action))
                for x in expectations_of(revealed)]
    timeline = sorted([*view.timeline, *outcomes], key=lambda item: item[0])
    return Review(scenario, result, harm_curve(revealed), baseline_curve(scenario, seed), observed, title,
                  expectations_of(revealed), timeline)
