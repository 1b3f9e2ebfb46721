"""The drill: a small coordinator that plays a scenario forward and turns commands into events.

Harm is never simulated one output at a time, nor one tick at a time. The rates change only at
change points (an action taking effect), and anything that can change what happens next comes
from a scheduled engine event (an inject, a latency running out, a deadline) or a command. So the
monitoring ticks between two such points are closed together (:meth:`Drill._close_ticks`): the
:class:`~simulator.engine.harm.HarmModel` integrates every tick in closed form, one Poisson matrix
draw gives every tick's harmful outputs, the :class:`~simulator.engine.signals.Monitoring` reads
every tick with array operations, and the first tick whose alert state, harm trigger or resurgence
matters ends the batch (it is rewound and redrawn up to that tick, which gives the same values).
SimPy schedules what it is for — injects, latencies, approvals, clocks, watch periods, people —
with time kept in whole milliseconds so that every scheduled time is exact.

Time rule: everything the engine has scheduled at or before a sim time happens before a command
submitted at that time, so a drill's events depend only on its commands and their times, never
on how often it was advanced (a live drill and its replay are the same, bit for bit).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy
from pydantic import ValidationError

from simulator import __version__
from simulator.engine.discussion import Discussion
from simulator.engine.events import SESSION_KINDS, TICK_KINDS, Event, Kind, new_event
from simulator.engine.harm import HarmModel, Ledger, Mitigation
from simulator.engine.incident import Incident, PendingApproval
from simulator.engine.index import index_of
from simulator.engine.intent import Intent
from simulator.engine.journal import ForkPoint
from simulator.engine.msel import ClockState, ExpectationState, Msel
from simulator.engine.people import People
from simulator.engine.rounding import round_all, round_to
from simulator.engine.signals import Monitoring, Readings, TickBatch, make_monitor, poisson
from simulator.engine.triggers import Triggers
from simulator.engine.verbs import RULES
from simulator.format.commands import (
    ANSWER,
    EVALUATOR_REFUSAL,
    EVALUATOR_VERBS,
    FACILITATOR_VERBS,
    AdhocParams,
    AnswerParams,
    CloseQuestionParams,
    ObserveParams,
    Params,
)
from simulator.format.scenario import Action, Scenario
from simulator.format.taxonomy import EVALUATOR, FACILITATOR

Listener = Callable[[Event], None]

HIDDEN_COMMANDS = frozenset({"answer", "observe"})
"""Commands journaled hidden from players until the end (answers stay independent)."""

HOT_WASH_COMMANDS = frozenset({"answer", "observe", "close_question", "end_drill"})
"""What the drill still takes once its time is up and the hot wash runs."""

SKIP_STOPS = frozenset({Kind.INJECT, Kind.QUESTION_ASKED})
"""What the facilitator's "next" stops at: an inject arriving or a question being asked."""

MAX_BATCH = 4096
"""Most monitoring ticks closed in one batch (bounds the arrays of a long quiet stretch)."""

__all__ = ["ClockState", "Drill", "ExpectationState", "Incident", "Mitigation", "PendingApproval"]


def ms(seconds: float) -> int:
    """Sim seconds as the engine's whole milliseconds."""
    return round(seconds * 1000)


@dataclass
class _OpenTick:
    """The monitoring tick being filled: where it started, and what its pieces before a change point held."""

    start: int
    """Start of the tick, ms."""
    piece_start: int
    """Start of the part not yet integrated, ms (a change point inside the tick, or the tick start)."""
    harm: dict[str, float]
    expected: float = 0.0
    outputs: float = 0.0


@dataclass
class _Plan:
    """Ticks read ahead: integrated, drawn and read once, committed a prefix at a time (``cursor``)."""

    ends: np.ndarray[Any, np.dtype[np.int64]]
    """When each tick closes, ms."""
    ends_list: list[int]
    """The same, as Python integers (for bisecting)."""
    bounds: np.ndarray[Any, Any]
    """Where each tick's integrated part starts (the first may be a change point), then the last end; s."""
    dt: np.ndarray[Any, Any]
    piece_rates: np.ndarray[Any, Any]
    """Expected harmful rate of each tick's integrated part (what containment is scored on)."""
    rates: np.ndarray[Any, Any]
    """Expected harmful rate of each whole tick."""
    per_stream: np.ndarray[Any, Any]
    harmful: np.ndarray[Any, Any]
    """Harmful outputs from the plan's start to the end of each tick."""
    harmful_list: list[int]
    """The same, as Python integers (for bisecting)."""
    totals: np.ndarray[Any, Any]
    """Harmful outputs since harm start at the end of each tick (``harmful`` + ``base``)."""
    by_stream: np.ndarray[Any, Any]
    """Each stream's harmful outputs since harm start at the end of each tick (one column per stream)."""
    legit: np.ndarray[Any, Any]
    blocked: np.ndarray[Any, Any]
    readings: dict[str, Readings]
    base: int
    """Harmful outputs before the plan."""
    cursor: int = 0
    """Ticks committed so far."""
    above: list[bool] = field(default_factory=list)
    """Whether each tick's harmful rate is past the containment threshold (once resurgence matters)."""
    rises: list[int] | None = None
    """Ticks past the threshold whose previous tick in the plan was not (``None``: not worked out yet)."""

    @property
    def left(self) -> bool:
        """Whether ticks remain to be committed."""
        return self.cursor < self.ends.size


class Drill:
    """One run of a scenario with one seed. Drive it with :meth:`advance_to` and :meth:`submit`.

    The same scenario, seed and commands at the same sim times give the same events, bit for bit.
    ``record_ticks=False`` skips building the per-tick ``tick``/``harm`` events (a sweep run
    only needs the result; their sequence numbers are still counted, so every other event is
    the same); ``render_text=False`` leaves inject text empty (nobody reads a baseline's);
    ``discuss=False`` asks no questions (a baseline: nobody is there to answer, and the clock
    must not stand still); ``injects=False`` plays no MSEL — no injects, expectations or clocks
    (a baseline reads only the truth, which they never change).
    """

    def __init__(self, scenario: Scenario, seed: int | None = None, *, content_hash: str = "",
                 source: str = "", record_ticks: bool = True, render_text: bool = True,
                 discuss: bool = True, injects: bool = True) -> None:
        self.scenario = scenario
        self.index = index_of(scenario)
        """The scenario's lookups (roles in play, the catalogue by id …), shared by its drills."""
        self.seed = scenario.seed if seed is None else seed
        self.content_hash = content_hash
        self.source = source
        self.fork: ForkPoint | None = None
        """Where this drill branched from (a :class:`~simulator.engine.fork.ForkPoint`), if it did."""
        self.record_ticks = record_ticks
        self.env = simpy.Environment()
        """Schedules what happens at a time (injects, latencies, deadlines), in whole milliseconds."""
        self._clock = 0
        """Now, ms: the time of the latest event or tick, or where the drill was advanced to."""
        self.events: list[Event] = []
        self.listeners: list[Listener] = []
        self.incident = Incident()
        self.finished = False
        self.pending: dict[int, PendingApproval] = {}
        self.in_flight: dict[int, tuple[str, float]] = {}
        self.taken: list[tuple[float, str, str]] = []
        self.alerts: dict[str, float] = {}
        self.steps = 0
        """Engine steps taken (SimPy events and tick batches): the cost that must not grow with the rate."""
        self._seq = 0
        self._requests = 0
        self._news_at: int | None = None
        draws_seq, text_seq = np.random.SeedSequence(self.seed).spawn(2)
        self.text_seed = int(text_seq.generate_state(1)[0])
        self._rng = np.random.default_rng(draws_seq)
        """Every random draw of the truth and the signals, made plan by plan in a fixed order."""
        self.harm = HarmModel(scenario, (ms(scenario.tick), ms(scenario.duration)))
        self.truth = Ledger({sid: 0 for sid in scenario.streams},
                            {sid: s.severity.weight for sid, s in scenario.streams.items()})
        self.people = People(scenario.people, list(self.index.in_play))
        self.triggers = Triggers(self.after)
        self.msel = Msel(self, render_text=render_text)
        self.discussion = Discussion(self, self._finish, ask=discuss)
        """The scenario's questions, their answers, the observations, the hot wash."""
        # The monitors' pre-incident baseline: traffic as shaped at t=0, not the nominal rate.
        outputs_per_tick = self.harm.legit_rate(0.0) * scenario.tick
        self.monitoring = Monitoring(
            {sid: make_monitor(spec, scenario.tick, outputs_per_tick, self._rng)
             for sid, spec in scenario.signals.items() if spec.instrumented},
            self._rng)
        self._reading_at: tuple[_Plan, int] | None = None
        self._latest: tuple[float, dict[str, float], bool] | None = None
        """The latest closed tick: when it closed, the responders' loads, and whether they are
        rounded yet (a drill that builds ``tick`` events has them rounded in the event)."""
        self._no_harm = dict.fromkeys(scenario.streams, 0.0)
        self._recall = [(sid, s.classifier_recall, 1.0 - s.classifier_recall)
                        for sid, s in scenario.streams.items()]
        self._tick_ms = ms(scenario.tick)
        self._end_ms = ms(scenario.duration)
        self._ticks = -(-self._end_ms // self._tick_ms)
        self._next_tick = 1
        self._open = _OpenTick(0, 0, {sid: 0.0 for sid in scenario.streams})
        self._plan: _Plan | None = None
        self._above = False
        self.emit(Kind.DRILL_STARTED, "engine", {
            "scenario": scenario.id, "title": scenario.title, "seed": self.seed,
            "duration": scenario.duration, "tick": scenario.tick,
            "roles": list(self.index.in_play)})
        if injects:
            self.msel.schedule()
        self.discussion.schedule()

    # --- public API -----------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Current sim time, seconds from harm start."""
        return self._clock / 1000

    @property
    def held(self) -> bool:
        """Whether the drill clock stands still: a pausing question is open, or the hot wash runs.

        Time does not advance while held; commands are still taken (answers, ``close_question``).
        """
        return self.discussion.held

    @property
    def mitigations(self) -> list[Mitigation]:
        """Catalogue actions in effect."""
        return self.harm.mitigations

    @property
    def loads(self) -> dict[str, float]:
        """Each role's load as of the latest tick (and the exposure added since)."""
        return self.people.loads

    @property
    def peak_load(self) -> float:
        """The highest load any role reached at a tick."""
        return self.people.peak_load

    @property
    def fired(self) -> dict[str, float]:
        """Inject id → when it fired."""
        return self.msel.fired

    @property
    def expectations(self) -> list[ExpectationState]:
        """Every fired inject's expectations."""
        return self.msel.expectations

    @property
    def clocks(self) -> dict[str, ClockState]:
        """Started regulatory clocks by id."""
        return self.msel.clocks

    def header(self, policy: str | None = None) -> dict[str, Any]:
        """The journal header for this run."""
        header = {"kind": "header", "format": 1, "tool": "ttx", "version": __version__,
                  "scenario": self.scenario.id, "scenario_hash": self.content_hash,
                  "scenario_source": self.source, "seed": self.seed, "policy": policy}
        if self.fork is not None:
            header["fork"] = self.fork.to_header()
        return header

    def advance_to(self, t: float) -> None:
        """Run the simulation through sim time ``t`` (to the end of the drill if ``t`` is past it).

        Everything scheduled at or before ``t`` happens; a command submitted next is applied after it.
        """
        self._advance(min(ms(round_to(t, 3)), self._end_ms))

    def advance_until_news(self, t: float) -> None:
        """Run on until a team could see something other than a tick happen (then finish that
        instant), or through ``t``.

        Headless policies are asked after each call: on change, not on every tick.
        """
        self._advance(min(ms(round_to(t, 3)), self._end_ms), until_news=True)

    def run_to_end(self) -> None:
        """Play the rest of the drill with no further commands."""
        self.advance_to(self.scenario.duration)

    def next_event_time(self) -> float:
        """Sim time of the next thing the engine has scheduled: a tick or an event (the end if none)."""
        upcoming = min(self.env.peek(), self._tick_end(self._next_tick) if not self.finished else np.inf)
        return float(min(upcoming, self._end_ms)) / 1000

    @property
    def latest_tick_at(self) -> float | None:
        """When the latest closed tick closed, if any (cheaper than :meth:`latest_loads`)."""
        return None if self._latest is None else self._latest[0]

    def latest_loads(self) -> tuple[float, dict[str, float]] | None:
        """The time and responder loads (rounded as a ``tick`` event has them) of the latest closed
        tick, if any: what a bot's view takes of a tick in a drill that builds no ``tick`` events.

        No policy reads the monitors' readings (it reacts to alerts, which are events), so they are
        not rounded and copied here once per turn; a journaled drill's views get them from its ticks.
        """
        if self._latest is None:
            return None
        t, loads, rounded = self._latest
        if not rounded:
            loads = {role: round_to(load, 4) for role, load in loads.items()}
            self._latest = (t, loads, True)
        return t, loads

    @property
    def readings(self) -> dict[str, float]:
        """Each monitor's latest reading."""
        if self._reading_at is None:
            return {}
        plan, last = self._reading_at
        return {sid: float(r.values[last]) for sid, r in plan.readings.items()}

    def current_rate(self) -> float:
        """Expected harmful outputs per second since the latest tick (or over it, at a tick): hidden truth."""
        start, end = self._open.piece_start, self._clock
        if end <= start:
            return self.truth.current_rate()
        t0, t1 = start / 1000, end / 1000
        return self.harm.integrate_one(t0, t1).expected / (t1 - t0)

    def worst_rate_since(self, t: float) -> float:
        """The highest expected harmful rate of any stretch ending after ``t``, up to now (hidden truth)."""
        worst = self.truth.worst_rate_since(t)
        return max(worst, self.current_rate()) if self._clock > self._open.piece_start else worst

    def reading_text(self, kind: str) -> str:
        """The latest reading of the first instrumented signal of ``kind``, as text."""
        for sid, spec in self.scenario.signals.items():
            if spec.kind == kind and sid in self.readings:
                return f"{self.readings[sid]:.0f}"
        return "unknown"

    def skip_to_next_inject(self) -> None:
        """Advance event by event until a new inject arrives, a question is asked, or the drill ends
        (or is held: a question that pauses the clock, the hot wash).

        The facilitator's "next" (hot seat and team server alike): nothing is skipped over, every
        tick, alert and trigger on the way happens at its own sim time. It stops at a question
        being asked so the team gets the question's whole window; a question already open does not
        stop it — it keeps its own closing time and closes on the way if that comes first.
        """
        seen = len(self.events)
        while not self.finished and not self.held:
            self.advance_to(min(self.next_event_time() + 0.001, self.scenario.duration))
            if any(e.kind in SKIP_STOPS for e in self.events[seen:]):
                return
            seen = len(self.events)

    def note(self, kind: Kind, actor: str | None, payload: dict[str, Any],
             to: tuple[str, ...] | None = None, hidden: bool = False) -> Event:
        """Record a session event (a player joined, the clock changed …) in the drill's journal order.

        Only :data:`~simulator.engine.events.SESSION_KINDS` may be noted; they never change the drill.
        """
        if kind not in SESSION_KINDS:
            raise ValueError(f"{kind} is not a session event kind")
        return self.emit(kind, actor, payload, to=to, hidden=hidden)

    def record_result(self, result: dict[str, Any]) -> Event:
        """Append the scored result as the journal's last event."""
        return self.emit(Kind.RESULT, "engine", result, hidden=True)

    def submit(self, command: Intent) -> Event:
        """Validate ``command`` and apply it at the current sim time.

        Returns the accepted ``command`` event, or a ``refused`` event saying why. A refused
        command changes nothing but the journal. Once the drill has ended the journal is closed
        (its result is the last event): a late command is refused without being journaled.
        """
        if self.env.peek() <= self._clock or self._tick_end(self._next_tick) <= self._clock:
            self._advance(self._clock)
        if self.finished:
            return Event(t=self.now, seq=self._seq, kind=Kind.REFUSED, actor=command.role,
                         payload={**_command_payload(command), "reason": "the drill has ended"},
                         to=(command.role,))
        reason = self._refusal(command)
        if isinstance(reason, str):
            return self.emit(Kind.REFUSED, command.role, {**_command_payload(command), "reason": reason},
                             to=(command.role,))
        accepted = self.emit(Kind.COMMAND, command.role, _command_payload(command),
                             hidden=command.action in HIDDEN_COMMANDS)
        self._apply(command, reason)
        if not self.finished:
            self.taken.append((self.now, command.action, command.role))
            self.msel.taken(command.action, command.role)
            self.triggers.notify("action", command.action)
        return accepted

    # --- for the parts --------------------------------------------------------------------

    def emit(self, kind: Kind, actor: str | None, payload: dict[str, Any],
             to: tuple[str, ...] | None = None, hidden: bool = False, t: float | None = None) -> Event:
        """Append an event to the journal and tell the listeners."""
        self._seq += 1
        event = new_event(self._clock / 1000 if t is None else t, self._seq, kind, actor, payload, to, hidden)
        self.events.append(event)
        if self._news_at is None and not hidden and kind not in TICK_KINDS:
            self._news_at = self._clock
        for listener in self.listeners:
            listener(event)
        return event

    def after(self, delay: float, then: Callable[[], None]) -> None:
        """Call ``then`` ``delay`` seconds from now, unless the drill has ended by then."""
        at = self._clock + ms(delay)
        self.env.timeout(at - self.env.now).callbacks.append(lambda _: self._happen(at, then))

    def _happen(self, at: int, then: Callable[[], None]) -> None:
        """A scheduled time came: the drill's clock is there, and ``then`` runs unless the drill has ended."""
        self._clock = at
        if not self.finished:
            then()

    def flush(self) -> None:
        """The rates are about to change: integrate the open tick up to now and drop the ticks read ahead."""
        self._plan = None
        start, end = self._open.piece_start, self._clock
        if end <= start:
            return
        t0, t1 = start / 1000, end / 1000
        part = self.harm.integrate_one(t0, t1)
        opened = self._open
        opened.harm = {sid: opened.harm[sid] + lam for sid, lam in part.harm.items()}
        expected = part.expected
        opened.expected += expected
        opened.outputs += part.served
        self.truth.close([t0, t1], [expected / (t1 - t0)], [part.legit], [part.blocked], 0, 1)
        self._open.piece_start = end

    def start_action(self, request: int, action: Action, role: str) -> None:
        """Start a catalogue action: it takes effect after its latency (longer for a tired or absent role)."""
        eta = self.now + self.people.wait(role, self.now) + action.latency * self.people.slowdown(role)
        eta_ms = ms(eta)
        self.in_flight[request] = (action.id, eta_ms / 1000)
        self.emit(Kind.ACTION_STARTED, role, {"request": request, "action": action.id,
                                              "title": action.title, "eta": round_to(eta_ms / 1000, 6)})
        self.after((eta_ms - self._clock) / 1000, lambda: self._take_effect(request, action, role))

    # --- time -----------------------------------------------------------------------------

    def _advance(self, target: int, until_news: bool = False) -> None:
        """Process every tick and scheduled event at or before ``target`` ms, then stand at ``target``.

        With ``until_news``, stop after the instant at which a non-tick event happened.
        """
        self._news_at = None
        while not self.finished and not self.held:
            upcoming = self.env.peek()
            limit = min(upcoming, target)
            tick_at = self._tick_end(self._next_tick)
            if tick_at <= limit:
                if until_news and self._news_at is not None and tick_at > self._news_at:
                    return
                self._tick_through(int(limit))
            elif upcoming <= target:
                if until_news and self._news_at is not None and upcoming > self._news_at:
                    return
                self.env.step()
                self._clock = int(self._clock)
                self.steps += 1
            else:
                break
        if not self.finished and not self.held and target > self._clock:
            self._clock = target

    def _tick_end(self, k: int) -> int:
        """When the ``k``-th monitoring tick closes, ms (the last one at the drill's end)."""
        return min(k * self._tick_ms, self._end_ms)

    def _tick_through(self, limit: int) -> None:
        """Close every tick ending at or before ``limit``; stop after one that makes news."""
        while not self.finished and not self.held and self._tick_end(self._next_tick) <= limit:
            plan = self._plan if self._plan is not None and self._plan.left else self._make_plan()
            start = plan.cursor
            stop = bisect.bisect_right(plan.ends_list, limit, start)
            news = self._first_news(plan, start, stop)
            self._commit(plan, start, stop - 1 if news is None else news, news is not None)
            if news is not None:
                return

    # --- monitoring ticks -----------------------------------------------------------------

    def _make_plan(self, ends: np.ndarray[Any, np.dtype[np.int64]] | None = None) -> _Plan:
        """Read ahead every tick from the open one to the next known change of rates (or the end).

        The ticks are integrated, drawn and read here once; they are committed a prefix at a time
        as the drill reaches them, and the rest is dropped if the rates change first.
        """
        self.steps += 1
        tick_ms = self._tick_ms
        if ends is None:
            first = self._next_tick
            horizon = self._end_ms
            for _, eta in self.in_flight.values():
                horizon = min(horizon, ms(eta))
            last = min(self._ticks, max(first, horizon // tick_ms), first + MAX_BATCH - 1)
            ends = np.arange(first, last + 1, dtype=np.int64) * tick_ms
            if last * tick_ms > self._end_ms:
                ends[-1] = self._end_ms
        opened = self._open
        n = ends.size
        bounds = np.empty(n + 1)
        bounds[0] = opened.piece_start
        bounds[1:] = ends
        bounds /= 1000
        part = self.harm.integrate(bounds)
        if opened.start == opened.piece_start:
            starts = bounds[:-1]
        else:
            starts = bounds[:-1].copy()
            starts[0] = opened.start / 1000
        dt = bounds[1:] - starts
        expected = part.expected
        tick_expected = expected.copy()
        tick_expected[0] += opened.expected
        outputs = part.served.copy()
        outputs[0] += opened.outputs
        lam = np.empty((n, 2 * len(self._recall)))
        for j, (sid, recall, missed) in enumerate(self._recall):
            stream_lam = part.harm[sid]
            np.multiply(stream_lam, recall, out=lam[:, 2 * j])
            np.multiply(stream_lam, missed, out=lam[:, 2 * j + 1])
            first_lam = stream_lam[0] + opened.harm[sid]
            lam[0, 2 * j], lam[0, 2 * j + 1] = first_lam * recall, first_lam * missed
        drawn = poisson(self._rng, lam)
        if drawn.shape[1] == 2:
            flagged = drawn[:, 0]
            harmful = flagged + drawn[:, 1]
            per_stream = harmful[:, None]
        else:
            per_stream = drawn[:, 0::2] + drawn[:, 1::2]
            harmful = np.add.reduce(per_stream, axis=1)
            flagged = np.add.reduce(drawn[:, 0::2], axis=1)
        batch = TickBatch(dt, harmful.astype(np.float64), flagged.astype(np.float64), outputs)
        cumulative = harmful.cumsum()
        base = self.truth.harm_volume
        by_stream = per_stream.cumsum(axis=0)
        by_stream += list(self.truth.harm_by_stream.values())
        self._plan = _Plan(ends=ends, ends_list=ends.tolist(), bounds=bounds, dt=dt,
                           piece_rates=_rates(expected, bounds),
                           rates=tick_expected / dt, per_stream=per_stream,
                           harmful=cumulative, harmful_list=cumulative.tolist(), totals=cumulative + base,
                           by_stream=by_stream,
                           legit=part.legit, blocked=part.blocked,
                           readings=self.monitoring.read(batch), base=base)
        return self._plan

    def _first_news(self, plan: _Plan, start: int, stop: int) -> int | None:
        """The first of the plan's ticks ``start..stop-1`` after which something other than a tick happens."""
        if stop <= start:
            return None
        first = stop
        for reading in plan.readings.values():
            change = reading.first_change(start, first)
            if change is not None:
                first = change
        threshold = self.triggers.next_harm_threshold
        if threshold is not None:
            reached = bisect.bisect_left(plan.harmful_list, threshold - plan.base)
            if start <= reached < first:
                first = reached
        if self._watching_for_resurgence:
            rise = self._first_rise(plan, start, first)
            if rise is not None:
                first = rise
        return first if first < stop else None

    def _first_rise(self, plan: _Plan, start: int, stop: int) -> int | None:
        """The first of ticks ``start..stop-1`` whose harmful rate rises past the containment threshold
        (from under it at the tick before, or at the latest committed tick for the first)."""
        if plan.rises is None:
            above = plan.rates > self.scenario.scoring.containment_threshold
            plan.above = above.tolist()
            plan.rises = ((above[1:] & ~above[:-1]).nonzero()[0] + 1).tolist()
        if not self._above and plan.above[start]:
            return start
        i = bisect.bisect_right(plan.rises, start)
        return plan.rises[i] if i < len(plan.rises) and plan.rises[i] < stop else None

    def _commit(self, plan: _Plan, start: int, last: int, news: bool) -> None:
        """Take the plan's ticks ``start..last`` into the truth, monitors and people; emit their events.

        ``news``: something other than a tick happens after the last one (the drill stands at it).
        """
        stop = last + 1
        end_ms = plan.ends_list[last]
        at_end = end_ms >= self._end_ms
        if (news or at_end) and end_ms > self._clock:
            self._clock = end_ms
        truth = self.truth
        if self.record_ticks:
            before = np.array(list(truth.harm_by_stream.values()), dtype=np.int64)
        total, rate = int(plan.totals[last]), float(plan.rates[last])
        truth.emitted(plan.by_stream, last, total)
        truth.close(plan.bounds, plan.piece_rates, plan.legit, plan.blocked, start, stop)
        truth.ticks.append((plan.ends, plan.rates, plan.totals, start, stop))
        t = end_ms / 1000
        if self.record_ticks or news:
            was = {sid: m.alerting for sid, m in self.monitoring.monitors.items()}
        if self.record_ticks:
            times = plan.ends[start:stop] / 1000
            ticks = self._tick_payloads(plan, start, last, self.people.over(times[:-1]))
            self.people.at_tick(t)
            self._latest = (t, ticks[-1]["loads"], True)
        else:
            self.people.at_tick(t)
            self._latest = (t, dict(self.people.loads), False)
        if news:
            for reading in plan.readings.values():
                reading.commit(last)
        else:  # no alert changes state up to the last tick: only the rolling state moves
            for reading in plan.readings.values():
                reading.monitor.committed = (reading, last)
        self._reading_at = (plan, last)
        self._next_tick += stop - start
        plan.cursor = stop
        self._open = _OpenTick(end_ms, end_ms, self._no_harm)
        if self.record_ticks:
            counts = plan.per_stream[start:stop]
            self._emit_ticks(times[:-1].tolist(), ticks[:-1], before + np.cumsum(counts[:-1], axis=0),
                             counts[:-1], plan.totals[start:last].tolist(),
                             plan.rates[start:last])
            self._emit_last_tick(was, t, ticks[-1], counts[-1].tolist(), total, rate)
        else:
            self._seq += 2 * (stop - start)
        if news:
            self._tick_news(was, plan, last, total, rate)
        else:
            self._above = rate > self.scenario.scoring.containment_threshold
        if at_end:
            self._finish("time")

    def _tick_payloads(self, plan: _Plan, first: int, last: int,
                       earlier: dict[str, np.ndarray[Any, Any]]) -> list[dict[str, Any]]:
        """``tick`` payloads (readings, loads) of ticks ``first..last``; ``earlier``: loads before last."""
        final = self.people.over(np.array([plan.ends[last] / 1000]))
        loads = {role: round_all([*earlier[role].tolist(), *final[role].tolist()] if earlier
                                 else final[role], 4)
                 for role in final}
        signals = {sid: (round_all(r.values[first:last + 1], 6), r.alerting(first, last + 1).tolist())
                   for sid, r in plan.readings.items()}
        return [{"signals": {sid: {"value": values[i], "alerting": alerting[i]}
                             for sid, (values, alerting) in signals.items()},
                 "loads": {role: v[i] for role, v in loads.items()}}
                for i in range(last - first + 1)]

    def _emit_ticks(self, times: list[float], ticks: list[dict[str, Any]], cumulative: Any,
                    per_stream: Any, totals: Any, rates: Any) -> None:
        """The ``tick`` and ``harm`` events of the ticks before a batch's last."""
        counts = per_stream.tolist()
        weights = [self.truth.weights[sid] for sid in self.scenario.streams]
        weighted = round_all([sum(w * c for w, c in zip(weights, row, strict=True))
                              for row in cumulative.tolist()], 6)
        for t, tick, row, total, rate, wsum in zip(times, ticks, counts, totals, round_all(rates, 6),
                                                   weighted, strict=True):
            self.emit(Kind.TICK, "engine", tick, t=t)
            self.emit(Kind.HARM, "engine", {
                "rate": rate, "count": sum(row),
                "by_stream": dict(zip(self.scenario.streams, row, strict=True)),
                "total": total, "weighted_total": wsum}, hidden=True, t=t)

    def _emit_last_tick(self, was: dict[str, bool], t: float, tick: dict[str, Any], counts: list[int],
                        total: int, rate: float) -> None:
        """The last tick of a batch: alerts cleared, then its readings and its truth."""
        for sid, monitor in self.monitoring.monitors.items():
            if was[sid] and not monitor.alerting:
                self.emit(Kind.ALERT_CLEARED, "engine", {"signal": sid}, t=t)
        self.emit(Kind.TICK, "engine", tick, t=t)
        self.emit(Kind.HARM, "engine", {
            "rate": round_to(rate, 6), "count": sum(counts),
            "by_stream": dict(zip(self.scenario.streams, counts, strict=True)),
            "total": total, "weighted_total": round_to(self.truth.weighted_harm, 6)}, hidden=True, t=t)

    def _tick_news(self, was: dict[str, bool], plan: _Plan, last: int, total: int, rate: float) -> None:
        """What follows a tick that makes news: alerts raised (and cleared), resurgence, harm triggers."""
        if not self.record_ticks:
            for sid, monitor in self.monitoring.monitors.items():
                if was[sid] and not monitor.alerting:
                    self.emit(Kind.ALERT_CLEARED, "engine", {"signal": sid})
        for sid, monitor in self.monitoring.monitors.items():
            if monitor.alerting and not was[sid]:
                self.alerts.setdefault(sid, self.now)
                self.emit(Kind.ALERT, "engine", {"signal": sid, "title": self.scenario.signals[sid].title,
                                                 "value": round(float(plan.readings[sid].values[last]), 6)})
                self.triggers.notify("signal", sid)
        above = rate > self.scenario.scoring.containment_threshold
        if above and not self._above and self._watching_for_resurgence:
            self.incident.resurgences.append(self.now)
            self.emit(Kind.RESURGENCE, "engine", {"rate": round(rate, 6)}, hidden=True)
        self._above = above
        self.triggers.notify_harm(total)

    @property
    def _watching_for_resurgence(self) -> bool:
        """Harm rising again counts as a resurgence: a stage was declared done, or the incident resolved."""
        return bool(self.incident.stages_done) or self.incident.resolved_at is not None

    # --- commands -------------------------------------------------------------------------

    def _refusal(self, command: Intent) -> str | Params | None:
        """Why ``command`` cannot be taken now; else its validated parameters (``None``: it takes none)."""
        if command.role == EVALUATOR:
            return self._evaluator_refusal(command)
        if self.discussion.in_hot_wash and command.action not in HOT_WASH_COMMANDS:
            return "the drill's time is up: the hot wash takes only answers and observations"
        if command.role == FACILITATOR:
            return self._facilitator_refusal(command)
        in_play = self.index.in_play
        if command.role not in in_play:
            return f"role {command.role!r} is not in play (in play: {', '.join(in_play)})"
        if command.action == ANSWER.id:
            answer = _parse(AnswerParams, command.params)
            if isinstance(answer, str):
                return answer
            assert isinstance(answer, AnswerParams)
            return self.discussion.answer_refusal(command, answer) or answer
        rule = RULES.get(command.action)
        if rule is not None:
            if command.role not in rule.verb.roles:
                allowed = ", ".join(sorted(r.value for r in rule.verb.roles))
                return f"{command.role} may not {command.action} (allowed: {allowed})"
            params = _parse(rule.verb.params, command.params)
            if isinstance(params, str):
                return params
            return rule.refuse(self, command, params) or params
        action = self.index.actions.get(command.action)
        if action is None:
            return f"unknown action {command.action!r}"
        if command.role not in self.index.action_roles[action.id]:
            allowed = ", ".join(r.value for r in action.roles)
            return f"{command.role} may not take {action.id!r} (allowed: {allowed})"
        if command.params:
            return f"{action.id!r} takes no parameters"
        if not action.repeatable and self._already(action.id):
            return f"{action.id!r} is already pending, under way or in effect"
        return None

    def _facilitator_refusal(self, command: Intent) -> str | Params | None:
        params_type = FACILITATOR_VERBS.get(command.action)
        if params_type is None:
            return f"unknown facilitator command {command.action!r}"
        params = _parse(params_type, command.params)
        if isinstance(params, str):
            return params
        if command.action == "fire_inject":
            inject = self.index.injects.get(str(command.params["inject"]))
            if inject is None:
                return f"unknown inject {command.params['inject']!r}"
            if inject.id in self.fired:
                return f"inject {inject.id!r} has already fired"
        if isinstance(params, ObserveParams):
            return self.discussion.observe_refusal(params) or params
        if isinstance(params, CloseQuestionParams):
            return self.discussion.close_refusal(params.question) or params
        return params

    def _evaluator_refusal(self, command: Intent) -> str | Params:
        """An evaluator's seat may only write observations."""
        params_type = EVALUATOR_VERBS.get(command.action)
        if params_type is None:
            return EVALUATOR_REFUSAL
        params = _parse(params_type, command.params)
        if isinstance(params, str):
            return params
        assert isinstance(params, ObserveParams)
        return self.discussion.observe_refusal(params) or params

    def _already(self, action_id: str) -> bool:
        return (any(p.action.id == action_id for p in self.pending.values())
                or any(a == action_id for a, _ in self.in_flight.values())
                or self.harm.in_effect(action_id))

    def _apply(self, command: Intent, params: Params | None) -> None:
        if isinstance(params, ObserveParams):
            self.discussion.observe(command, params)
            return
        if command.role == FACILITATOR:
            self._apply_facilitator(command, params)
            return
        if isinstance(params, AnswerParams):
            self.discussion.answer(command, params)
            return
        rule = RULES.get(command.action)
        if rule is not None:
            assert params is not None
            rule.run(self, command.role, params)
            return
        self._request(command, self.index.actions[command.action])

    def _apply_facilitator(self, command: Intent, params: Params | None) -> None:
        if command.action == "fire_inject":
            inject = self.index.injects.get(str(command.params["inject"]))
            assert inject is not None
            self.msel.fire(inject, by=FACILITATOR)
        elif command.action == "adhoc_inject":
            assert isinstance(params, AdhocParams)
            p = params
            self.emit(Kind.INJECT, FACILITATOR, {
                "inject": f"adhoc-{self._seq}", "channel": p.channel, "sender": p.sender,
                "sender_title": "exercise control", "subject": p.subject, "body": p.body},
                to=tuple(r.value for r in p.to))
        elif isinstance(params, CloseQuestionParams):
            self.discussion.close(params.question, params.reason)
        else:
            self._finish("facilitator")

    def _request(self, command: Intent, action: Action) -> None:
        self._requests += 1
        request = self._requests
        if action.approval is not None and action.approval.value != command.role:
            self.pending[request] = PendingApproval(request, command, action, self.now)
            self.emit(Kind.APPROVAL_REQUESTED, command.role, {
                "request": request, "action": action.id, "title": action.title,
                "by": command.role, "approver": action.approval.value})
        else:
            self.start_action(request, action, command.role)

    def _take_effect(self, request: int, action: Action, role: str) -> None:
        self.flush()
        self.in_flight.pop(request, None)
        self.harm.take_effect(action, self.now)
        self.people.expose(role, action.exposure, self._open.start / 1000)
        self.incident.first_effective.setdefault(action.stage, self.now)
        self.emit(Kind.ACTION_EFFECTIVE, role, {"request": request, "action": action.id,
                                                "title": action.title, "stage": action.stage})
        self.triggers.notify("action_effective", action.id)

    # --- the end --------------------------------------------------------------------------

    def _finish(self, reason: str) -> None:
        if self.finished:
            return
        if self._clock > self._open.start:
            self._plan = None
            self._commit(self._make_plan(np.array([self._clock], dtype=np.int64)), 0, 0, news=True)
            if self.finished:
                return
        if self.discussion.begin_hot_wash(reason):
            return
        self.discussion.close_all("end")
        self.finished = True
        self.msel.close()
        self.emit(Kind.DRILL_ENDED, "engine", {"reason": reason})


def _command_payload(command: Intent) -> dict[str, Any]:
    """How a command is journaled; replay rebuilds the command from exactly this."""
    payload: dict[str, Any] = {"action": command.action, "params": command.params}
    if command.player is not None:
        payload["player"] = command.player
    if command.player_id is not None:
        payload["player_id"] = command.player_id
    return payload


def _parse(model: type[Params], params: dict[str, Any]) -> Params | str:
    """Validate verb parameters in their journal form, strictly; a refusal reason on failure.

    The parameters are checked as the journal writes them (JSON with sorted keys) and without
    coercion (``"1.0"`` is not a request number), and the reason names the first problem in key
    order, so re-deriving a journaled refusal gives the same reason whatever order the keys came in.
    """
    plain = _plain_key(params)
    parsed = _PARSED.get((model, plain)) if plain is not None else None
    if parsed is not None:
        return parsed
    try:
        journal_form = json.dumps(params, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"bad parameters: {exc}"
    key = (model, journal_form)
    parsed = _PARSED.get(key)
    if parsed is None:
        if len(_PARSED) >= PARSED_KEPT:
            _PARSED.clear()
        parsed = _PARSED[key] = _validate(model, journal_form)
    if plain is not None:
        _PARSED[(model, plain)] = parsed
    return parsed


def _plain_key(params: dict[str, Any]) -> tuple[tuple[str, type, object], ...] | None:
    """A cache key standing for the journal form of parameters that are all plain strings, numbers,
    booleans or nulls (typed, floats by ``repr``, so ``True``/``1``/``1.0`` and ``-0.0``/``0.0``
    stay apart); ``None`` for anything else (it goes through ``json.dumps``)."""
    if not params:
        return ()
    out = []
    for name, value in params.items():
        kind = type(value)
        if kind is float:
            value = repr(value)
        elif kind not in (str, int, bool, type(None)) or type(name) is not str:
            return None
        out.append((name, kind, value))
    return tuple(sorted(out, key=_first)) if len(out) > 1 else tuple(out)


def _first(item: tuple[str, type, object]) -> str:
    """A plain key's parameter name (what its items sort by)."""
    return item[0]


PARSED_KEPT = 1024
"""Verb parameters kept validated per process (a bot sends the same few again and again)."""
_PARSED: dict[tuple[type[Params], object], Params | str] = {}


def _validate(model: type[Params], journal_form: str) -> Params | str:
    """The parameters model of ``journal_form``, or the refusal reason (the models are frozen, so
    one validated instance serves every command with the same parameters)."""
    try:
        return model.model_validate_json(journal_form, strict=True)
    except ValidationError as exc:
        first = min(exc.errors(), key=lambda e: [str(p) for p in e["loc"]])
        where = ".".join(str(p) for p in first["loc"]) or "params"
        return f"bad parameter {where}: {first['msg']}"


def _rates(expected: np.ndarray[Any, Any], bounds: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Expected harmful outputs per second of each piece between ``bounds``; 0 for a piece of no
    length (the drill ending in the instant a rate changed), which expects nothing: 0/0 was NaN,
    and a NaN rate is never at or under the containment threshold."""
    widths = bounds[1:] - bounds[:-1]
    rates: np.ndarray[Any, Any] = np.divide(expected, widths, out=np.zeros_like(expected), where=widths > 0)
    return rates
