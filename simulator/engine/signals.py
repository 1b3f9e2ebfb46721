"""Signals: how the hidden truth becomes what the team can see. One monitor per instrumented signal.

Monitors read many ticks at once: :meth:`Monitoring.read` takes a :class:`TickBatch` (one row per
tick) and returns every monitor's readings as arrays (a :class:`Readings`), with the random draws of
all monitors made as a few matrix draws. A monitor's state (its rolling history, whether it is
alerting) moves only as ticks are committed, one prefix at a time (:meth:`Readings.commit`); whether
a monitor alerts at a tick is worked out from the readings and the state at commit time, so a
batch read ahead of time stays valid however its ticks are committed.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from simulator.format.scenario import (
    ClassifierConfidenceSignal,
    DriftSignal,
    OutputAnomalySignal,
    Signal,
    SocialSignal,
    UserReportsSignal,
)

HOUR = 3600.0
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

EXACT_INT64 = 2**62
"""Past this a z-score's integer sums are computed with Python integers (still exact, slower)."""
TINY = 1e-300
"""Stands in for zero outputs in a share (a tick that served nothing emitted nothing harmful)."""


@dataclass(frozen=True, slots=True)
class TickBatch:
    """What happened in consecutive monitoring intervals, one array entry per interval."""

    dt: Floats
    """Interval lengths, seconds."""
    harmful: Floats
    """Harmful outputs emitted in each interval (all streams)."""
    flagged: Floats
    """Harmful outputs the guard classifier flagged."""
    outputs: Floats
    """All outputs served (all features)."""

    @property
    def missed(self) -> Floats:
        """Harmful outputs the guard did not flag."""
        return self.harmful - self.flagged


class Readings:
    """One monitor's readings over a batch of ticks, committed to the monitor a prefix at a time."""

    def __init__(self, monitor: Monitor, values: Floats) -> None:
        self.monitor = monitor
        self.values = values
        """The number shown on the dashboard, per tick."""

    def alerting(self, start: int, stop: int) -> Bools:
        """Whether the alert holds after each tick ``start..stop-1``, the monitor being as committed.

        Exact up to and including the first change of state (all a commit ever takes).
        """
        raise NotImplementedError

    def first_change(self, start: int, stop: int) -> int | None:
        """The first tick in ``start..stop-1`` whose alert state differs from the monitor's now."""
        changes = self._changes()
        i = bisect.bisect_left(changes, start)
        return changes[i] if i < len(changes) and changes[i] < stop else None

    def _changes(self) -> list[int]:
        """Ticks at which the alert state would change, from the monitor's state now (sorted)."""
        raise NotImplementedError

    def alerting_at(self, i: int) -> bool:
        """Whether the alert holds after tick ``i``, the monitor being as committed up to ``i - 1``."""
        raise NotImplementedError

    def commit(self, upto: int) -> None:
        """Move the monitor to its state after tick ``upto``: its alert state now, the rest when next read."""
        self.monitor.alerting = self.alerting_at(upto)
        self.monitor.committed = (self, upto)

    def state_after(self, upto: int) -> None:
        """Set the monitor's rolling state to what it is after tick ``upto``."""
        raise NotImplementedError


class Monitor:
    """Base for signal monitors: a reading per tick from that tick's truth and the monitor's draws.

    ``count_rate`` gives the mean of the monitor's Poisson count per tick (``None``: it counts
    nothing); ``noise`` the standard deviation of its Gaussian noise (``0``: none). A monitor
    whose reading needs a second Poisson draw on top of the first (public mentions of posts)
    gives its mean per tick with ``second_rate``.
    """

    unit: str = ""
    noise: float = 0.0
    counts: bool = False
    """Whether it draws a Poisson count per tick."""
    second: bool = False
    """Whether it draws a second Poisson count per tick."""

    def __init__(self) -> None:
        self.alerting = False
        """Whether the alert held after the latest committed tick."""
        self.committed: tuple[Readings, int] | None = None
        """Readings committed up to a tick whose rolling state is not yet taken."""

    def settle(self) -> None:
        """Take the rolling state of the latest commit (before reading on from it)."""
        if self.committed is not None:
            readings, upto = self.committed
            self.committed = None
            readings.state_after(upto)

    def count_rate(self, batch: TickBatch) -> Floats:
        """Mean of this monitor's Poisson count in each tick, if it counts."""
        raise NotImplementedError

    def second_rate(self, batch: TickBatch, counts: Ints) -> Floats:
        """Mean of a second Poisson draw per tick, given the first draw's counts."""
        raise NotImplementedError

    def read(self, batch: TickBatch, counts: Ints, noise: Floats, second: Ints) -> Readings:
        """Readings over the batch from its draws (``counts``/``noise``/``second``: this monitor's column)."""
        raise NotImplementedError


class FixedReadings(Readings):
    """Readings whose alert state at each tick is fixed by the readings alone (no hysteresis)."""

    def __init__(self, monitor: Monitor, values: Floats, alerting: Bools) -> None:
        super().__init__(monitor, values)
        self._alerting = alerting
        self._flips = _flips(alerting, monitor.alerting)

    def _changes(self) -> list[int]:
        return self._flips

    def alerting_at(self, i: int) -> bool:
        return bool(self._alerting[i])

    def alerting(self, start: int, stop: int) -> Bools:
        return self._alerting[start:stop]


class ZScoreMonitor(Monitor):
    """Counts per interval compared with a rolling baseline by z-score, with hysteresis.

    The last ``window_ticks`` counts are the window; the ``baseline_ticks`` before them the
    baseline. Window and baseline sums are differences of running integer sums, so they are exact
    and every tick costs the same whatever the window lengths.
    """

    counts = True

    def __init__(self, tick: float, window: float, baseline: float, z_threshold: float,
                 floor_per_tick: float, rng: np.random.Generator) -> None:
        super().__init__()
        self.tick = tick
        self.window_ticks = max(1, round(window / tick))
        self.baseline_ticks = max(2, round(baseline / tick))
        self.z_threshold = z_threshold
        self.history: Ints = rng.poisson(floor_per_tick, self.window_ticks + self.baseline_ticks)
        """The last baseline + window counts, oldest first."""

    def scores(self, counts: Ints) -> tuple[Floats, Floats]:
        """Window sums and z-scores after pushing each count in turn.

        The sums run over one array holding a leading zero, the history and the counts, so every
        window and baseline sum is one subtraction of running sums.
        """
        w, b, n = self.window_ticks, self.baseline_ticks, counts.size
        history = self.history
        kept = history.size
        full: npt.NDArray[Any] = np.empty(1 + kept + n, dtype=np.int64)
        full[0] = 0
        full[1:1 + kept] = history
        full[1 + kept:] = counts
        exact = (int(np.maximum.reduce(full)) * max(b, w)) ** 2 < EXACT_INT64
        if not exact:
            full = full.astype(object)
        sums = np.add.accumulate(full)
        squares = np.add.accumulate(full * full)
        window = sums[1 + b + w: 1 + b + w + n] - sums[1 + b: 1 + b + n]
        base = sums[1 + b: 1 + b + n] - sums[1: 1 + n]
        base_squares = squares[1 + b: 1 + b + n] - squares[1: 1 + n]
        spread_num = b * base_squares - base * base
        if not exact:  # Python integers: convert before dividing (int / int would round differently)
            base, spread_num = base.astype(np.float64), spread_num.astype(np.float64)
            window = window.astype(np.float64)
        mean = base / b
        spread = spread_num / float(b * b)
        var = np.maximum(np.maximum(spread, mean), 1.0 / w)
        return window, (window - w * mean) / np.sqrt(w * var)


class ZScoreReadings(Readings):
    """A z-score monitor's readings: alerting depends on whether it was alerting (hysteresis)."""

    monitor: ZScoreMonitor

    def __init__(self, monitor: ZScoreMonitor, values: Floats, z: Floats, counts: Ints) -> None:
        super().__init__(monitor, values)
        self.z, self.counts, self.history = z, counts, monitor.history
        self._rises: list[int] | None = None
        self._falls: list[int] | None = None

    def _changes(self) -> list[int]:
        """Where the z-score would fall under half the threshold (alerting) or rise past it (not);
        each list is worked out the first time it is asked for."""
        threshold = self.monitor.z_threshold
        if self.monitor.alerting:
            if self._falls is None:
                self._falls = (self.z <= threshold / 2).nonzero()[0].tolist()
            return self._falls
        if self._rises is None:
            self._rises = (self.z > threshold).nonzero()[0].tolist()
        return self._rises

    def alerting_at(self, i: int) -> bool:
        z = float(self.z[i])
        return z > self.monitor.z_threshold / 2 if self.monitor.alerting else z > self.monitor.z_threshold

    def alerting(self, start: int, stop: int) -> Bools:
        z, threshold = self.z[start:stop], self.monitor.z_threshold
        if self.monitor.alerting:
            return np.asarray(z > threshold / 2)
        return np.asarray(z > threshold)

    def state_after(self, upto: int) -> None:
        keep = self.history.size
        self.monitor.history = np.concatenate((self.history, self.counts[: upto + 1]))[-keep:]


class UserReports(ZScoreMonitor):
    """User reports per hour; alerts on a z-score spike."""

    unit = "reports/h"

    def __init__(self, spec: UserReportsSignal, tick: float, rng: np.random.Generator) -> None:
        self.spec = spec
        super().__init__(tick, spec.window, spec.baseline, spec.z_threshold,
                         spec.baseline_per_hour * tick / HOUR, rng)

    def count_rate(self, batch: TickBatch) -> Floats:
        return self.spec.baseline_per_hour * batch.dt / HOUR + batch.harmful * self.spec.p_report

    def read(self, batch: TickBatch, counts: Ints, noise: Floats, second: Ints) -> Readings:
        window, z = self.scores(counts)
        values = window * (HOUR / (self.window_ticks * self.tick))
        return ZScoreReadings(self, values, z, counts)


class OutputAnomaly(ZScoreMonitor):
    """Guard-flagged outputs per minute; alerts on a z-score spike."""

    unit = "flagged/min"

    def __init__(self, spec: OutputAnomalySignal, tick: float, outputs_per_tick: float,
                 rng: np.random.Generator) -> None:
        self.spec = spec
        super().__init__(tick, spec.window, spec.baseline, spec.z_threshold,
                         outputs_per_tick * spec.false_positive_rate, rng)

    def count_rate(self, batch: TickBatch) -> Floats:
        benign = np.maximum(batch.outputs - batch.harmful, 0.0)
        return benign * self.spec.false_positive_rate + batch.flagged

    def read(self, batch: TickBatch, counts: Ints, noise: Floats, second: Ints) -> Readings:
        _, z = self.scores(counts)
        return ZScoreReadings(self, counts * 60.0 / batch.dt, z, counts)


COUNTING: Ints = np.arange(1, 4097)
"""1, 2, 3, …: a tick's position in a batch (sliced, not built, for every batch)."""


class Sustained(Monitor):
    """A noisy level that alerts when it stays past a threshold for ``need`` ticks in a row."""

    def __init__(self, sustain: float, tick: float) -> None:
        super().__init__()
        self.need = max(1, round(sustain / tick))
        self.run = 0
        """Consecutive ticks past the threshold so far."""

    def sustained(self, values: Floats, past: Bools) -> Readings:
        """Readings whose alert is ``need`` ticks in a row past the threshold."""
        k = COUNTING[:past.size] if past.size <= COUNTING.size else np.arange(1, past.size + 1)
        last_short = np.maximum.accumulate(np.where(past, 0, k))
        runs = np.where(last_short == 0, self.run + k, k - last_short)
        return SustainedReadings(self, values, runs)


class SustainedReadings(FixedReadings):
    """A sustained-level monitor's readings: alerting once enough ticks in a row are past the threshold."""

    monitor: Sustained

    def __init__(self, monitor: Sustained, values: Floats, runs: Ints) -> None:
        super().__init__(monitor, values, np.asarray(runs >= monitor.need))
        self.runs = runs

    def state_after(self, upto: int) -> None:
        self.monitor.run = int(self.runs[upto])


class ClassifierConfidence(Sustained):
    """Mean guard confidence; alerts when it stays under baseline by ``drop_threshold``."""

    unit = "mean confidence"

    def __init__(self, spec: ClassifierConfidenceSignal, tick: float) -> None:
        super().__init__(spec.sustain, tick)
        self.spec = spec
        self.noise = spec.noise

    def read(self, batch: TickBatch, counts: Ints, noise: Floats, second: Ints) -> Readings:
        missed_share = batch.missed / np.maximum(batch.outputs, TINY)
        value = self.spec.baseline - self.spec.sensitivity * missed_share + noise * self.noise
        value = np.minimum(np.maximum(value, 0.0), 1.0)
        return self.sustained(value, self.spec.baseline - value > self.spec.drop_threshold)


class Drift(Sustained):
    """Output-distribution drift score; alerts when it stays above threshold."""

    unit = "drift score"

    def __init__(self, spec: DriftSignal, tick: float) -> None:
        super().__init__(spec.sustain, tick)
        self.spec = spec
        self.noise = spec.noise

    def read(self, batch: TickBatch, counts: Ints, noise: Floats, second: Ints) -> Readings:
        share = batch.harmful / np.maximum(batch.outputs, TINY)
        value = self.spec.sensitivity * share + np.abs(noise * self.noise)
        return self.sustained(value, value > self.spec.threshold)


class Social(Monitor):
    """Public mentions per hour: posts appear after a delay and draw attention that fades."""

    unit = "mentions/h"
    attention_half_life = 2 * HOUR
    counts = True
    second = True

    def __init__(self, spec: SocialSignal, tick: float) -> None:
        super().__init__()
        self.spec = spec
        self.delay_ticks = max(0, round(spec.delay / tick))
        self.queued: Ints = np.zeros(self.delay_ticks, dtype=np.int64)
        """Posts made but not yet visible, oldest first."""
        self.active_posts = 0.0
        """The attention the visible posts still draw."""
        self._ahead: tuple[Floats, Ints, list[float]] | None = None

    def count_rate(self, batch: TickBatch) -> Floats:
        return batch.harmful * self.spec.p_post

    def second_rate(self, batch: TickBatch, counts: Ints) -> Floats:
        stream = np.concatenate((self.queued, counts))
        decay = (0.5 ** (batch.dt / self.attention_half_life)).tolist()
        visible = stream[: counts.size].tolist()
        attention = self.active_posts
        ahead = [attention := attention * fade + posts for fade, posts in zip(decay, visible, strict=True)]
        active = [self.active_posts, *ahead]
        rates = self.spec.baseline_per_hour + self.spec.virality * np.array(ahead)
        self._ahead = (rates, stream, active)
        return rates * batch.dt / HOUR

    def read(self, batch: TickBatch, counts: Ints, noise: Floats, second: Ints) -> Readings:
        assert self._ahead is not None, "second_rate comes first"
        rates, stream, active = self._ahead
        self._ahead = None
        return SocialReadings(self, second * HOUR / batch.dt, rates, stream, active)


class SocialReadings(FixedReadings):
    """Public mentions: alerting while the mention rate is past the viral threshold."""

    monitor: Social

    def __init__(self, monitor: Social, values: Floats, rates: Floats, stream: Ints,
                 active: list[float]) -> None:
        super().__init__(monitor, values, np.asarray(rates >= monitor.spec.viral_threshold))
        self.rates, self.stream, self.active = rates, stream, active

    def state_after(self, upto: int) -> None:
        self.monitor.queued = self.stream[upto + 1: upto + 1 + self.monitor.delay_ticks]
        self.monitor.active_posts = self.active[upto + 1]


def _flips(alerting: Bools, before: bool) -> list[int]:
    """Ticks whose alert state differs from the tick before (the first compared with ``before``)."""
    later: list[int] = (alerting[1:] != alerting[:-1]).nonzero()[0].tolist()
    flips = [i + 1 for i in later]
    return [0, *flips] if alerting.size and bool(alerting[0]) != before else flips


def make_monitor(spec: Signal, tick: float, outputs_per_tick: float,
                 rng: np.random.Generator) -> Monitor:
    """Build the monitor for one signal spec (``rng`` draws the z-score monitors' pre-incident history)."""
    if isinstance(spec, UserReportsSignal):
        return UserReports(spec, tick, rng)
    if isinstance(spec, OutputAnomalySignal):
        return OutputAnomaly(spec, tick, outputs_per_tick, rng)
    if isinstance(spec, ClassifierConfidenceSignal):
        return ClassifierConfidence(spec, tick)
    if isinstance(spec, DriftSignal):
        return Drift(spec, tick)
    return Social(spec, tick)


class Monitoring:
    """Every instrumented signal's monitor, drawing from the drill's generator.

    A batch makes three matrix draws, always in this order: the monitors' counts, their Gaussian
    noise, and the second counts (public mentions). Batches start and end at points that depend
    only on the drill's commands, so the draws do too.
    """

    def __init__(self, monitors: dict[str, Monitor], rng: np.random.Generator) -> None:
        self.monitors = monitors
        self.rng = rng
        self._counted = [sid for sid, m in monitors.items() if m.counts]
        self._noisy = [sid for sid, m in monitors.items() if m.noise > 0]
        self._second = [sid for sid, m in monitors.items() if m.second]

    def read(self, batch: TickBatch) -> dict[str, Readings]:
        """Every monitor's readings over the batch (monitor state moves only as they are committed)."""
        n = batch.dt.size
        for monitor in self.monitors.values():
            monitor.settle()
        counts = _poisson_columns(self.rng, self._counted, n,
                                  lambda sid: self.monitors[sid].count_rate(batch))
        noise = dict(zip(self._noisy, self.rng.standard_normal((n, len(self._noisy))).T,
                         strict=True)) if self._noisy else {}
        second = _poisson_columns(self.rng, self._second, n,
                                  lambda sid: self.monitors[sid].second_rate(batch, counts[sid]))
        return {sid: monitor.read(batch, counts.get(sid, NO_COUNTS),
                                  noise[sid] if sid in noise else np.zeros(n), second.get(sid, NO_COUNTS))
                for sid, monitor in self.monitors.items()}


NO_COUNTS: Ints = np.zeros(0, dtype=np.int64)
"""What a monitor that draws no (second) counts is handed for them: it never reads them."""

SMALL_DRAW = 16
"""Up to this many Poisson counts are drawn one by one (the same draws in the same order: NumPy's
array form spends ~10 µs checking its argument, more than a few scalar draws cost)."""


def poisson(rng: np.random.Generator, lam: Floats) -> Ints:
    """``rng.poisson(lam)``, the same draws, cheaper for a handful of means."""
    if lam.size > SMALL_DRAW:
        return rng.poisson(lam)
    draw = rng.poisson
    return np.array([draw(m) for m in lam.ravel().tolist()], dtype=np.int64).reshape(lam.shape)


def _poisson_columns(rng: np.random.Generator, sids: list[str], n: int,
                     rate: Callable[[str], Floats]) -> dict[str, Ints]:
    """One Poisson matrix draw (tick by tick, signal by signal): each signal's column of counts."""
    if not sids:
        return {}
    if len(sids) == 1:
        return {sids[0]: poisson(rng, rate(sids[0]))}
    lam = np.empty((n, len(sids)))
    for j, sid in enumerate(sids):
        lam[:, j] = rate(sid)
    return dict(zip(sids, poisson(rng, lam).T, strict=True))
