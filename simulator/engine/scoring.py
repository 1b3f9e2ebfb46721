"""Scoring: time-to-contain and harm volume first, then the rest of a good response, each explained."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from simulator.engine.discussion import ALIGNED, alignment
from simulator.engine.drill import Drill
from simulator.engine.harm import Floats, quiet_since, time_to_contain
from simulator.format.durations import clock, format_duration


@dataclass(frozen=True)
class Component:
    """One part of the score."""

    name: str
    value: Any
    """The measured quantity (seconds, a share, a count …)."""
    weight: float
    points: float
    """0–100."""
    why: str
    """One line explaining the points."""


@dataclass
class Result:
    """The scored outcome of a run; ``ttx run --json`` prints it."""

    scenario: str
    seed: int
    policy: str | None
    time_to_detect: float | None
    time_to_contain: float | None
    harm_volume: int
    weighted_harm: float
    harm_averted: float
    collateral: float
    """Share of legitimate requests refused or not served because of mitigations."""
    score: float
    breakdown: list[Component] = field(default_factory=list)
    baseline_weighted_harm: float = 0.0
    expectations: dict[str, int] = field(default_factory=dict)
    resurgences: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the breakdown keyed by component name (every field in order, as
        ``dataclasses.asdict`` gives them: the fields are plain values, so no deep copy is needed)."""
        out = {name: getattr(self, name) for name in _RESULT_FIELDS}
        out["breakdown"] = {c.name: {"value": c.value, "weight": c.weight,
                                     "points": round(c.points, 1), "why": c.why}
                            for c in self.breakdown}
        out["expectations"] = dict(self.expectations)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """Rebuild a result from :meth:`to_dict` output (a journal's ``result`` event)."""
        parts = [Component(name, c["value"], c["weight"], c["points"], c["why"])
                 for name, c in data["breakdown"].items()]
        plain = {k: v for k, v in data.items() if k != "breakdown"}
        return cls(**plain, breakdown=parts)

    def ordered(self) -> list[Component]:
        """The components heaviest first, ties by name: the one order every view shows.

        (A journal stores the breakdown with sorted keys, so only an order computed from the
        components themselves is the same before and after a result has been through a file.)
        """
        return sorted(self.breakdown, key=lambda c: (-c.weight, c.name))


_RESULT_FIELDS = tuple(f.name for f in fields(Result))
"""The result's fields in declaration order (the order of its JSON form)."""


def _clamp(x: float) -> float:
    return max(0.0, min(100.0, x))


def score(drill: Drill, baseline_weighted_harm: float, policy: str | None = None) -> Result:
    """Score a finished drill against the do-nothing run's weighted harm on the same seed."""
    s = drill.scenario
    sc, w, inc, truth = s.scoring, s.scoring.weights, drill.incident, drill.truth
    end = drill.now
    ttd = inc.declared_at
    intervals = truth.intervals()
    ttc = time_to_contain(*intervals, sc.containment_threshold, sc.watch_period)
    averted = (1.0 - truth.weighted_harm / baseline_weighted_harm) if baseline_weighted_harm > 0 else 0.0
    collateral = truth.legit_blocked / truth.legit_total if truth.legit_total > 0 else 0.0
    parts = [
        _containment(ttc, s.duration, len(inc.resurgences), len(inc.premature_stages),
                     inc.resolved_while_harmful, w.containment)
        if ttc is not None else
        Component("containment", None, w.containment, 0.0,
                  never_contained(*intervals, sc.containment_threshold, sc.watch_period)),
        Component("harm", round(averted, 4), w.harm, _clamp(100 * averted),
                  f"{truth.harm_volume:,} harmful outputs; {averted:.0%} of the do-nothing run's "
                  "severity-weighted harm averted"),
        _detection(ttd, s.duration, w.detection),
        Component("collateral", round(collateral, 5), w.collateral, _clamp(100 - 200 * collateral),
                  f"{collateral:.2%} of legitimate requests blocked (2 points per 1%)"),
        _communication(drill, end, w.communication),
        _escalation(drill, w.escalation),
        _classification(drill, w.classification),
        _expectations(drill, w.expectations),
        _clocks(drill, w.clocks),
        Component("load", round(drill.peak_load, 3), w.load,
                  _clamp(100 * (1 - max(0.0, drill.peak_load - 0.5) / 0.5)),
                  f"peak responder load {drill.peak_load:.2f} (full points up to 0.50)"),
    ]
    if any(q.scored for q in s.questions):
        parts.append(_discussion(drill, w.discussion))
    total_weight = sum(c.weight for c in parts) or 1.0
    composite = sum(c.weight * c.points for c in parts) / total_weight
    statuses = [e.status for e in drill.expectations]
    return Result(
        scenario=s.id, seed=drill.seed, policy=policy, time_to_detect=ttd, time_to_contain=ttc,
        harm_volume=truth.harm_volume, weighted_harm=round(truth.weighted_harm, 3),
        harm_averted=round(averted, 4), collateral=round(collateral, 6), score=round(composite, 1),
        breakdown=parts, baseline_weighted_harm=round(baseline_weighted_harm, 3),
        expectations={k: statuses.count(k) for k in ("met", "missed", "open")},
        resurgences=len(inc.resurgences))


def never_contained(t0: Floats, t1: Floats, rates: Floats, threshold: float, watch: float) -> str:
    """Why a drill never counted as contained: harm never went below the threshold, went below it
    only for spells shorter than the watch period, or was below it when the drill ended mid-watch."""
    watching = f"the {format_duration(watch)} watch"
    since = quiet_since(t0, t1, rates, threshold)
    if since is not None:
        return (f"never contained: below the threshold from {clock(since)}, but the drill ended "
                f"{format_duration(float(t1[-1]) - since)} into {watching}")
    if (rates <= threshold).any():
        return f"never contained: below the threshold only for spells shorter than {watching}"
    return "never contained: harm was never below the threshold"


def _containment(ttc: float, duration: float, resurgences: int, premature: int,
                 resolved_badly: bool, weight: float) -> Component:
    penalty = 20 * resurgences + 10 * premature + (10 if resolved_badly else 0)
    points = _clamp(100 * (1 - ttc / duration) - penalty)
    why = f"contained at {clock(ttc)} of {clock(duration)}"
    if penalty:
        why += (f"; −{penalty} for {resurgences} resurgence(s), {premature} stage(s) declared "
                "done while harm continued" + (", resolved while harmful" if resolved_badly else ""))
    return Component("containment", round(ttc, 3), weight, points, why)


def _detection(ttd: float | None, duration: float, weight: float) -> Component:
    if ttd is None:
        return Component("detection", None, weight, 0.0, "the incident was never declared")
    return Component("detection", round(ttd, 3), weight, _clamp(100 * (1 - ttd / duration)),
                     f"declared at {clock(ttd)} after harm began")


def _communication(drill: Drill, end: float, weight: float) -> Component:
    declared = drill.incident.declared_at
    cadence = drill.scenario.scoring.update_cadence
    if declared is None:
        return Component("communication", 0, weight, 0.0, "no incident, no updates")
    slots = max(1, int((end - declared) // cadence))
    structured = [t for t, _, ok in drill.incident.updates if ok]
    covered = sum(1 for k in range(slots)
                  if any(declared + k * cadence <= t < declared + (k + 1) * cadence for t in structured))
    sent = len(drill.incident.updates)
    return Component("communication", covered, weight, _clamp(100 * covered / slots),
                     f"{covered} of {slots} {clock(cadence)} windows had a structured update "
                     f"(know/suspect/doing); {sent} sent in all")


def _escalation(drill: Drill, weight: float) -> Component:
    sc, inc = drill.scenario.scoring, drill.incident
    expected = sc.expected_escalations
    if not expected:
        return Component("escalation", None, weight, 100.0, "no escalation expected")
    start = inc.declared_at if inc.declared_at is not None else 0.0
    points = []
    for target in expected:
        at = inc.escalations.get(target)
        if at is None:
            points.append(0.0)
            continue
        late = max(0.0, at - start - sc.escalate_within)
        points.append(_clamp(100 * (1 - late / (3 * sc.escalate_within))))
    done = [t for t in expected if t in inc.escalations]
    return Component("escalation", len(done), weight, sum(points) / len(points),
                     f"escalated to {len(done)} of {len(expected)} ({', '.join(expected)}); "
                     f"full points within {clock(sc.escalate_within)} of declaring")


def _classification(drill: Drill, weight: float) -> Component:
    c = drill.incident.classification
    streams = sorted(drill.scenario.streams.values(), key=lambda s: -s.severity.weight)
    if c is None:
        return Component("classification", None, weight, 0.0, "the harm was never classified")
    primary = streams[0].harm_type.value
    if c["harm_type"] == primary:
        return Component("classification", c["harm_type"], weight, 100.0,
                         f"classified correctly as {primary}")
    if c["harm_type"] in {s.harm_type.value for s in streams}:
        return Component("classification", c["harm_type"], weight, 50.0,
                         f"classified as a secondary harm; the main one is {primary}")
    return Component("classification", c["harm_type"], weight, 0.0,
                     f"classified as {c['harm_type']}; the harm is {primary}")


def _expectations(drill: Drill, weight: float) -> Component:
    due = [e for e in drill.expectations if e.status in ("met", "missed")]
    met = sum(1 for e in due if e.status == "met")
    if not due:
        return Component("expectations", 0, weight, 100.0, "no expectation fell due")
    return Component("expectations", met, weight, 100 * met / len(due),
                     f"{met} of {len(due)} MSEL expectations met in time")


@dataclass(frozen=True)
class Judged:
    """One answer to a scored question: what was chosen, how sure, whether it was right."""

    choices: frozenset[str]
    confidence: int
    correct: bool


@dataclass(frozen=True)
class QuestionFigures:
    """How the team did on one scored question."""

    question: str
    answers: tuple[Judged, ...]
    """Its answers (none when nobody answered)."""
    alignment: float
    """Share agreeing with the most common answer (0 when unanswered)."""

    @property
    def correct_share(self) -> float:
        """Share of its answers that were right (0 when nobody answered)."""
        return sum(a.correct for a in self.answers) / len(self.answers) if self.answers else 0.0

    @property
    def aligned(self) -> bool:
        """At least :data:`~simulator.engine.discussion.ALIGNED` agree with the most common answer."""
        return self.alignment >= ALIGNED


def judge(question: str, expected: Sequence[str], answers: Sequence[tuple[Sequence[str], int]]
          ) -> QuestionFigures:
    """Judge the (choices, confidence) answers to a question expecting ``expected`` (the same set)."""
    want = frozenset(expected)
    if not answers:
        return QuestionFigures(question, (), 0.0)
    judged = tuple(Judged(frozenset(c), int(conf), frozenset(c) == want) for c, conf in answers)
    return QuestionFigures(question, judged, alignment(j.choices for j in judged) or 0.0)


def calibration(figures: Sequence[QuestionFigures]) -> float:
    """``1 − mean((confidence/100 − correct)²)`` over every answer given (Brier-style): confident and
    wrong costs more than unsure and wrong. 0.0 when nobody answered: silence earns no calibration."""
    answers = [a for f in figures for a in f.answers]
    if not answers:
        return 0.0
    return 1.0 - sum((a.confidence / 100 - a.correct) ** 2 for a in answers) / len(answers)


def discussion_points(figures: Sequence[QuestionFigures]) -> float:
    """Mean over the questions of ``0.5·correct share + 0.3·calibration + 0.2·aligned``, 0–100; a
    question nobody answered earns nothing (no calibration credit for staying silent)."""
    if not figures:
        return 0.0
    cal = calibration(figures)
    return 100 * sum(0.5 * f.correct_share + 0.3 * cal + 0.2 * f.aligned for f in figures
                     if f.answers) / len(figures)


def drill_figures(drill: Drill) -> list[QuestionFigures]:
    """The figures of every scored question the drill asked, in scenario order (a scored question
    is a choice question, and the engine takes a choice answer only with its confidence)."""
    return [judge(state.spec.id, state.spec.expected,
                  [(a.choices, a.confidence) for a in state.answers if a.confidence is not None])
            for state in drill.discussion.questions.values()
            if state.spec.scored and state.asked_at is not None]


def _discussion(drill: Drill, weight: float) -> Component:
    figures = drill_figures(drill)
    if not figures:
        return Component("discussion", None, 0.0, 0.0,
                         "no scored question was asked before the end (not counted)")
    right = sum(f.correct_share for f in figures) / len(figures)
    aligned = sum(f.aligned for f in figures)
    cal = calibration(figures)
    return Component("discussion", round(right, 4), weight, _clamp(discussion_points(figures)),
                     f"{right:.0%} of answers right over {len(figures)} scored question(s); "
                     f"calibration {cal:.2f}; aligned (≥{ALIGNED:.0%} agree) on {aligned} of {len(figures)}")


def _clocks(drill: Drill, weight: float) -> Component:
    decided = [c for c in drill.clocks.values() if c.status != "running"]
    met = sum(1 for c in decided if c.status == "met")
    running = len(drill.clocks) - len(decided)
    if not decided:
        why = "no clock came due" + (f" ({running} still running at the end)" if running else "")
        return Component("clocks", 0, weight, 100.0, why)
    return Component("clocks", met, weight, 100 * met / len(decided),
                     f"{met} of {len(decided)} regulatory clocks kept")
