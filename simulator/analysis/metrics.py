"""The headline figures of a drill that the history keeps, compares and trends: one definition of each.

Each :class:`Metric` says where its value comes from (a field of the after-action facts), how it reads
(a time, a count, a share) and which way is better, so the history's rows, ``ttx compare``, the trend
charts and the review's "your last run" all measure and word a change the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from simulator.format.hms import clock

if TYPE_CHECKING:
    from simulator.analysis.aar import AfterAction

Value = float | None
"""A measured value; ``None`` is "never" for a time (never declared, never contained)."""


@dataclass(frozen=True)
class Metric:
    """One headline figure of a drill."""

    name: str
    """The history column (and JSON key)."""
    title: str
    unit: str
    """``time`` (sim seconds from harm start), ``count``, ``share`` (0–1), ``points`` or ``number``."""
    higher_is_better: bool
    measure: Callable[[AfterAction], Value]

    def text(self, value: Value) -> str:
        """The value as the report writes it."""
        if value is None:
            return "never" if self.unit == "time" else "—"
        if self.unit == "time":
            return clock(value)
        if self.unit == "share":
            return f"{value:.0%}" if self.name != "collateral" else f"{value:.2%}"
        if self.unit == "count":
            return f"{int(value):,}"
        if self.unit == "points":
            return f"{value:.1f}"
        return f"{value:,.1f}"

    def better(self, before: Value, after: Value) -> bool | None:
        """Whether ``after`` is an improvement on ``before`` (``None``: the same, or not comparable)."""
        if before == after:
            return None
        if self.unit == "time" and (before is None or after is None):
            return before is None  # a time reached is better than never
        if before is None or after is None:
            return None
        return (after > before) == self.higher_is_better

    def change(self, before: Value, after: Value) -> str:
        """How ``after`` differs from ``before``, with an arrow: ``▲ +11.5``, ``▼ 0:11:00 sooner``."""
        if before == after:
            return "= same"
        if before is None and after is not None and self.unit == "time":
            return "✔ reached (was never)"
        if after is None and before is not None and self.unit == "time":
            return f"✘ never (was {clock(before)})"
        if before is None or after is None:
            return "—"
        diff = after - before
        arrow = "▲" if diff > 0 else "▼"
        if self.unit == "time":
            return f"{arrow} {clock_gap(before, after)} {'later' if diff > 0 else 'sooner'}"
        if self.unit == "share":
            points = diff * 100
            return f"{arrow} {points:+.2f} pts" if self.name == "collateral" else f"{arrow} {points:+.0f} pts"
        if self.unit == "count":
            return f"{arrow} {int(diff):+,}"
        return f"{arrow} {diff:+,.1f}"


def clock_gap(before: float, after: float) -> str:
    """The gap between two sim times as their clocks read, ``H:MM:SS``: 1:02:00 to 0:28:00 is 0:34:00
    even when the second was stamped at 0:28:00.001 (a player's command), not 0:33:59."""
    return clock(abs(int(after) - int(before)))


def _timeline_first(kind: str) -> Callable[[AfterAction], Value]:
    def first(a: AfterAction) -> Value:
        return next((e.t for e in a.timeline if e.kind == kind), None)

    return first


def _expectations(status: str) -> Callable[[AfterAction], Value]:
    def count(a: AfterAction) -> Value:
        return float(sum(1 for x in a.expectations if x.status == status))

    return count


METRICS: tuple[Metric, ...] = (
    Metric("score", "score", "points", True, lambda a: a.result.score),
    Metric("time_to_detect", "time to detect", "time", False, lambda a: a.result.time_to_detect),
    Metric("time_to_escalate", "time to escalate", "time", False, _timeline_first("escalated")),
    Metric("time_to_contain", "time to contain", "time", False, lambda a: a.result.time_to_contain),
    Metric("time_to_first_update", "time to first update", "time", False, _timeline_first("update_sent")),
    Metric("harm_volume", "harm volume", "count", False, lambda a: float(a.result.harm_volume)),
    Metric("weighted_harm", "weighted harm", "number", False, lambda a: a.result.weighted_harm),
    Metric("harm_averted", "harm averted", "share", True, lambda a: a.result.harm_averted),
    Metric("collateral", "collateral", "share", False, lambda a: a.result.collateral),
    Metric("resurgences", "resurgences", "count", False, lambda a: float(a.result.resurgences)),
    Metric("expectations_met", "expectations met", "count", True, _expectations("met")),
    Metric("expectations_missed", "expectations missed", "count", False, _expectations("missed")),
)
"""Every headline figure, in the order tables list them. Times run from harm start, as detect does."""

BY_NAME = {m.name: m for m in METRICS}

TRENDED: tuple[str, ...] = ("score", "time_to_detect", "time_to_escalate", "time_to_contain",
                            "time_to_first_update", "harm_volume", "harm_averted", "collateral",
                            "expectations_met")
"""The metrics ``ttx history trends`` charts (one panel each)."""

REVIEWED: tuple[str, ...] = ("score", "time_to_detect", "time_to_contain")
"""The metrics the review's "your last run" line shows."""


def measures(aar: AfterAction) -> dict[str, Value]:
    """Every metric of one drill's after-action facts."""
    return {m.name: m.measure(aar) for m in METRICS}
