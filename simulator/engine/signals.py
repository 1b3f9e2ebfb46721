"""Signals: how the hidden truth becomes what the team can see. One monitor per instrumented signal."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from simulator.format.scenario import (
    ClassifierConfidenceSignal,
    DriftSignal,
    OutputAnomalySignal,
    Signal,
    SocialSignal,
    UserReportsSignal,
)

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class TickTruth:
    """What happened in one monitoring interval, as the monitors need it."""

    dt: float
    """Interval length, seconds."""
    harmful: float
    """Harmful outputs emitted in the interval (all streams)."""
    missed: float
    """Harmful outputs the guard classifier did not flag."""
    flagged: float
    """Harmful outputs the guard flagged."""
    outputs: float
    """All outputs served in the interval (all features)."""


@dataclass(frozen=True, slots=True)
class Reading:
    """One monitor's reading for an interval."""

    value: float
    """The number shown on the dashboard."""
    alerting: bool
    """Whether the alert condition holds now."""


class Monitor:
    """Base for signal monitors: ``read`` turns one interval's truth into a reading."""

    unit: str = ""

    def read(self, truth: TickTruth, rng: np.random.Generator) -> Reading:
        """Return this interval's reading."""
        raise NotImplementedError


class _ZScoreMonitor(Monitor):
    """Counts per interval compared with a rolling baseline by z-score.

    The last ``window_ticks`` counts are the window; the ``baseline_ticks`` before them the
    baseline. Their sums are kept as exact integers, so each push costs the same whatever the
    window lengths.
    """

    def __init__(self, tick: float, window: float, baseline: float, z_threshold: float,
                 floor_per_tick: float, rng: np.random.Generator) -> None:
        self.window_ticks = max(1, round(window / tick))
        self.baseline_ticks = max(2, round(baseline / tick))
        self.z_threshold = z_threshold
        history = [int(x) for x in rng.poisson(floor_per_tick, self.window_ticks + self.baseline_ticks)]
        self.baseline: deque[int] = deque(history[: self.baseline_ticks])
        self.window: deque[int] = deque(history[self.baseline_ticks:])
        self.window_sum = sum(self.window)
        self._base_sum = sum(self.baseline)
        self._base_squares = sum(x * x for x in self.baseline)
        self.alerting = False

    def push(self, count: float) -> float:
        """Add this interval's count (a whole number) and return the window's z-score over the baseline."""
        self.window.append(int(count))
        moved = self.window.popleft()
        dropped = self.baseline.popleft()
        self.baseline.append(moved)
        self.window_sum += int(count) - moved
        self._base_sum += moved - dropped
        self._base_squares += moved * moved - dropped * dropped
        n = self.baseline_ticks
        mean = self._base_sum / n
        spread = (n * self._base_squares - self._base_sum * self._base_sum) / (n * n)
        var = max(spread, mean, 1.0 / self.window_ticks)
        return (self.window_sum - self.window_ticks * mean) / math.sqrt(self.window_ticks * var)

    def hysteresis(self, z: float) -> bool:
        """Alert above the threshold; stay alerting until z falls under half of it."""
        self.alerting = bool(z > (self.z_threshold / 2 if self.alerting else self.z_threshold))
        return self.alerting


class UserReports(_ZScoreMonitor):
    """User reports per hour; alerts on a z-score spike."""

    unit = "reports/h"

    def __init__(self, spec: UserReportsSignal, tick: float, rng: np.random.Generator) -> None:
        self.spec = spec
        self.tick = tick
        super().__init__(tick, spec.window, spec.baseline, spec.z_threshold,
                         spec.baseline_per_hour * tick / HOUR, rng)

    def read(self, truth: TickTruth, rng: np.random.Generator) -> Reading:
        lam = self.spec.baseline_per_hour * truth.dt / HOUR + truth.harmful * self.spec.p_report
        count = float(rng.poisson(lam))
        z = self.push(count)
        return Reading(self.window_sum * HOUR / (self.window_ticks * self.tick), self.hysteresis(z))


class OutputAnomaly(_ZScoreMonitor):
    """Guard-flagged outputs per minute; alerts on a z-score spike."""

    unit = "flagged/min"

    def __init__(self, spec: OutputAnomalySignal, tick: float, outputs_per_tick: float,
                 rng: np.random.Generator) -> None:
        self.spec = spec
        super().__init__(tick, spec.window, spec.baseline, spec.z_threshold,
                         outputs_per_tick * spec.false_positive_rate, rng)

    def read(self, truth: TickTruth, rng: np.random.Generator) -> Reading:
        benign = max(truth.outputs - truth.harmful, 0.0)
        count = float(rng.poisson(benign * self.spec.false_positive_rate + truth.flagged))
        z = self.push(count)
        per_min = count * 60.0 / truth.dt if truth.dt > 0 else 0.0
        return Reading(per_min, self.hysteresis(z))


class _Sustained(Monitor):
    """A noisy level that alerts when it stays past a threshold for a while."""

    def __init__(self, sustain: float, tick: float) -> None:
        self.need = max(1, round(sustain / tick))
        self.run = 0

    def sustained(self, past: bool) -> bool:
        """Count consecutive intervals past the threshold; true once there are enough."""
        self.run = self.run + 1 if past else 0
        return self.run >= self.need


class ClassifierConfidence(_Sustained):
    """Mean guard confidence; alerts when it stays under baseline by ``drop_threshold``."""

    unit = "mean confidence"

    def __init__(self, spec: ClassifierConfidenceSignal, tick: float) -> None:
        super().__init__(spec.sustain, tick)
        self.spec = spec

    def read(self, truth: TickTruth, rng: np.random.Generator) -> Reading:
        missed_share = truth.missed / truth.outputs if truth.outputs > 0 else 0.0
        value = self.spec.baseline - self.spec.sensitivity * missed_share
        value += float(rng.normal(0.0, self.spec.noise)) if self.spec.noise > 0 else 0.0
        value = min(1.0, max(0.0, value))
        return Reading(value, self.sustained(self.spec.baseline - value > self.spec.drop_threshold))


class Drift(_Sustained):
    """Output-distribution drift score; alerts when it stays above threshold."""

    unit = "drift score"

    def __init__(self, spec: DriftSignal, tick: float) -> None:
        super().__init__(spec.sustain, tick)
        self.spec = spec

    def read(self, truth: TickTruth, rng: np.random.Generator) -> Reading:
        share = truth.harmful / truth.outputs if truth.outputs > 0 else 0.0
        value = self.spec.sensitivity * share
        value += abs(float(rng.normal(0.0, self.spec.noise))) if self.spec.noise > 0 else 0.0
        return Reading(value, self.sustained(value > self.spec.threshold))


class Social(Monitor):
    """Public mentions per hour: posts appear after a delay and draw attention that fades."""

    unit = "mentions/h"
    attention_half_life = 2 * HOUR

    def __init__(self, spec: SocialSignal, tick: float) -> None:
        self.spec = spec
        self.delay_ticks = max(0, round(spec.delay / tick))
        self.queue: deque[float] = deque([0.0] * self.delay_ticks)
        self.active_posts = 0.0

    def read(self, truth: TickTruth, rng: np.random.Generator) -> Reading:
        self.queue.append(float(rng.poisson(truth.harmful * self.spec.p_post)))
        visible = self.queue.popleft()
        self.active_posts = self.active_posts * 0.5 ** (truth.dt / self.attention_half_life) + visible
        rate = self.spec.baseline_per_hour + self.spec.virality * self.active_posts
        mentions = float(rng.poisson(rate * truth.dt / HOUR)) * HOUR / truth.dt if truth.dt > 0 else 0.0
        return Reading(mentions, rate >= self.spec.viral_threshold)


def make_monitor(spec: Signal, tick: float, outputs_per_tick: float,
                 rng: np.random.Generator) -> Monitor:
    """Build the monitor for one signal spec."""
    if isinstance(spec, UserReportsSignal):
        return UserReports(spec, tick, rng)
    if isinstance(spec, OutputAnomalySignal):
        return OutputAnomaly(spec, tick, outputs_per_tick, rng)
    if isinstance(spec, ClassifierConfidenceSignal):
        return ClassifierConfidence(spec, tick)
    if isinstance(spec, DriftSignal):
        return Drift(spec, tick)
    return Social(spec, tick)
