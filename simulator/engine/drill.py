"""The drill engine: SimPy processes that play a scenario forward and turn commands into events.

Harm is never simulated one output at a time. Each monitoring tick (and each point where a
mitigation takes effect) closes an interval whose harmful-output count is one Poisson draw of
the integrated rate, so a run costs the same at 1 output/s as at 10,000.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import simpy
from pydantic import ValidationError

from simulator import __version__
from simulator.engine.events import SESSION_KINDS, Event, Kind
from simulator.engine.findings import findings_inject, investigation_findings
from simulator.engine.journal import ForkPoint
from simulator.engine.rates import Shape, fading, harmful_fraction, integrate
from simulator.engine.signals import Monitor, TickTruth, make_monitor
from simulator.format.commands import FACILITATOR_VERBS, VERBS, AdhocParams, Command, Params
from simulator.format.durations import clock
from simulator.format.scenario import Action, Effect, Inject, Scenario, Trigger
from simulator.format.taxonomy import FACILITATOR, Role
from simulator.format.templating import persona_values, redacted_sample, render

SimProcess = Generator[simpy.Event, Any, None]
Listener = Callable[[Event], None]


@dataclass
class Mitigation:
    """A catalogue action in effect."""

    action: Action
    since: float
    features: frozenset[str]
    """Features whose legitimate traffic it blocks a share of."""


@dataclass
class PendingApproval:
    """A catalogue action waiting for its approver."""

    request: int
    command: Command
    action: Action
    requested_at: float


@dataclass
class ExpectationState:
    """One fired inject's expectation and how it went."""

    inject: str
    index: int
    action: str
    role: str | None
    due: float
    contingency: str | None
    objective: str
    status: str = "pending"
    """``pending``, ``met``, ``missed`` or ``open`` (the drill ended first)."""
    met_at: float | None = None


@dataclass
class ClockState:
    """A started regulatory or SLA clock."""

    started: float
    due: float
    met_by: str
    status: str = "running"
    """``running``, ``met`` or ``missed``."""


@dataclass
class Interval:
    """A closed stretch of the truth: expected harmful outputs per second between t0 and t1."""

    t0: float
    t1: float
    rate: float


@dataclass
class Truth:
    """The hidden state of the incident, which only the facilitator and the review see."""

    harm_by_stream: dict[str, int]
    weighted_harm: float = 0.0
    legit_total: float = 0.0
    legit_blocked: float = 0.0
    intervals: list[Interval] = field(default_factory=list)

    @property
    def harm_volume(self) -> int:
        """Harmful outputs emitted so far, all streams."""
        return sum(self.harm_by_stream.values())


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


class Drill:
    """One run of a scenario with one seed. Drive it with :meth:`advance_to` and :meth:`submit`.

    The same scenario, seed and commands at the same sim times give the same events, bit for bit.
    """

    def __init__(self, scenario: Scenario, seed: int | None = None, *, content_hash: str = "",
                 source: str = "") -> None:
        self.scenario = scenario
        self.seed = scenario.seed if seed is None else seed
        self.content_hash = content_hash
        self.source = source
        self.fork: ForkPoint | None = None
        """Where this drill branched from (a :class:`~simulator.engine.fork.ForkPoint`), if it did."""
        self.env = simpy.Environment()
        harm_seq, signal_seq, self._text_seed = np.random.SeedSequence(self.seed).spawn(3)
        self._rng_harm = np.random.default_rng(harm_seq)
        self._rng_signals = np.random.default_rng(signal_seq)
        self.events: list[Event] = []
        self.listeners: list[Listener] = []
        self.incident = Incident()
        self.truth = Truth(harm_by_stream={sid: 0 for sid in scenario.streams})
        self.loads: dict[str, float] = {r.value: 0.0 for r in scenario.roles}
        self.peak_load = 0.0
        self.unavailable_until: dict[str, float] = {}
        self.mitigations: list[Mitigation] = []
        self.pending: dict[int, PendingApproval] = {}
        self.in_flight: dict[int, tuple[str, float]] = {}
        self.taken: list[tuple[float, str, str]] = []
        self.fired: dict[str, float] = {}
        self.alerts: dict[str, float] = {}
        self.expectations: list[ExpectationState] = []
        self.clocks: dict[str, ClockState] = {}
        self.finished = False
        self._alerting: set[str] = set()
        self._last_readings: dict[str, float] = {}
        self._above = False
        self._requests = 0
        self._flushed_to = 0.0
        self._tick_start = 0.0
        self._tick_harm: dict[str, float] = {sid: 0.0 for sid in scenario.streams}
        self._tick_flagged = 0.0
        self._tick_outputs = 0.0
        self._tick_expected = 0.0
        self._waiting: list[tuple[Trigger, Callable[[], None]]] = []
        self._shapes = {fid: Shape(f.shape) for fid, f in scenario.features.items()}
        self._ended = self.env.event()
        # The monitors' pre-incident baseline: traffic as shaped at t=0, not the nominal rate.
        outputs_per_tick = sum(self._legit(fid, 0.0) for fid in scenario.features) * scenario.tick
        self.monitors: dict[str, Monitor] = {
            sid: make_monitor(spec, scenario.tick, outputs_per_tick, self._rng_signals)
            for sid, spec in scenario.signals.items() if spec.instrumented
        }
        self._emit(Kind.DRILL_STARTED, "engine", {
            "scenario": scenario.id, "title": scenario.title, "seed": self.seed,
            "duration": scenario.duration, "tick": scenario.tick,
            "roles": [r.value for r in scenario.roles]})
        self._schedule_injects()
        self._schedule_clocks()
        self.env.process(self._monitor())

    # --- public API ---------------------------------------------------------------------

    @property
    def now(self) -> float:
        """Current sim time, seconds from harm start."""
        return float(self.env.now)

    def header(self, policy: str | None = None) -> dict[str, Any]:
        """The journal header for this run."""
        header = {"kind": "header", "format": 1, "tool": "ttx", "version": __version__,
                  "scenario": self.scenario.id, "scenario_hash": self.content_hash,
                  "scenario_source": self.source, "seed": self.seed, "policy": policy}
        if self.fork is not None:
            header["fork"] = self.fork.to_header()
        return header

    def advance_to(self, t: float) -> None:
        """Run the simulation up to sim time ``t`` (to the end of the drill if ``t`` is past it)."""
        if self.finished:
            return
        t = round(t, 3)
        target = min(t, self.scenario.duration)
        if target > self.env.now:
            self.env.run(until=target)
            # SimPy stops at now + (target - now), an ulp off target depending on where the previous
            # advance stopped; a live drill advances at other points than its replay, so land exactly.
            self.env._now = target
        if t >= self.scenario.duration and not self.finished:
            self.env.run(until=self._ended)

    def next_event_time(self) -> float:
        """Sim time of the next scheduled engine event after now (the drill's end if none).

        SimPy leaves a spent ``run(until=…)`` marker (a bare event with no callbacks) queued at
        the current time, so this skips those rather than using ``env.peek()``.
        """
        upcoming = [when for when, _, _, event in self.env._queue
                    if not (type(event) is simpy.Event and not event.callbacks)]
        return float(min(upcoming, default=self.scenario.duration))

    def skip_to_next_inject(self) -> None:
        """Advance event by event until a new inject has arrived or the drill has ended.

        The facilitator's "next inject" (hot seat and team server alike): nothing is skipped over,
        every tick, alert and trigger on the way happens at its own sim time.
        """
        seen = len(self.events)
        while not self.finished:
            self.advance_to(min(self.next_event_time() + 0.001, self.scenario.duration))
            if any(e.kind == Kind.INJECT for e in self.events[seen:]):
                return
            seen = len(self.events)

    def note(self, kind: Kind, actor: str | None, payload: dict[str, Any],
             to: tuple[str, ...] | None = None, hidden: bool = False) -> Event:
        """Record a session event (a player joined, the clock changed …) in the drill's journal order.

        Only :data:`~simulator.engine.events.SESSION_KINDS` may be noted; they never change the drill.
        """
        if kind not in SESSION_KINDS:
            raise ValueError(f"{kind} is not a session event kind")
        return self._emit(kind, actor, payload, to=to, hidden=hidden)

    def record_result(self, result: dict[str, Any]) -> Event:
        """Append the scored result as the journal's last event."""
        return self._emit(Kind.RESULT, "engine", result, hidden=True)

    def run_to_end(self) -> None:
        """Play the rest of the drill with no further commands."""
        self.advance_to(self.scenario.duration)

    def submit(self, command: Command) -> Event:
        """Validate ``command`` and apply it at the current sim time.

        Returns the accepted ``command`` event, or a ``refused`` event saying why. A refused
        command changes nothing but the journal. Once the drill has ended the journal is closed
        (its result is the last event): a late command is refused without being journaled.
        """
        if self.finished:
            return Event(t=self.now, seq=len(self.events), kind=Kind.REFUSED, actor=command.role,
                         payload={**_command_payload(command), "reason": "the drill has ended"},
                         to=(command.role,))
        reason = self._refusal(command)
        if reason is not None:
            return self._emit(Kind.REFUSED, command.role, {**_command_payload(command), "reason": reason},
                              to=(command.role,))
        accepted = self._emit(Kind.COMMAND, command.role, _command_payload(command))
        self._apply(command)
        if not self.finished:
            self._after_taken(command)
        return accepted

    # --- events and triggers ------------------------------------------------------------

    def _emit(self, kind: Kind, actor: str | None, payload: dict[str, Any],
              to: tuple[str, ...] | None = None, hidden: bool = False) -> Event:
        event = Event(t=self.now, seq=len(self.events) + 1, kind=kind, actor=actor,
                      payload=payload, to=to, hidden=hidden)
        self.events.append(event)
        for listener in self.listeners:
            listener(event)
        return event

    def _when(self, trigger: Trigger, then: Callable[[], None]) -> None:
        self._waiting.append((trigger, then))

    def _notify(self, condition: str, key: str | int) -> None:
        """A trigger condition just held: start every trigger waiting on it."""
        for item in list(self._waiting):
            trigger, then = item
            if _matches(trigger, condition, key):
                self._waiting.remove(item)
                self.env.process(self._after(trigger.delay, then))

    def _after(self, delay: float, then: Callable[[], None]) -> SimProcess:
        if delay > 0:
            yield self.env.timeout(delay)
        if not self.finished:
            then()

    def _schedule_injects(self) -> None:
        for inject in self.scenario.injects:
            if inject.at is not None:
                self.env.process(self._after(inject.at, _bind(self._fire, inject)))
            elif inject.trigger is not None:
                self._when(inject.trigger, _bind(self._fire, inject))

    def _schedule_clocks(self) -> None:
        for spec in self.scenario.clocks:
            def start(cid: str = spec.id, deadline: float = spec.deadline, met_by: str = spec.met_by,
                      title: str = spec.title) -> None:
                state = ClockState(started=self.now, due=self.now + deadline, met_by=met_by)
                self.clocks[cid] = state
                self._emit(Kind.CLOCK_STARTED, "engine",
                           {"clock": cid, "title": title, "due": state.due, "met_by": met_by})
                if any(action == met_by for _, action, _ in self.taken):
                    self._meet_clock(cid, state)
                else:
                    self.env.process(self._clock_deadline(cid, state))
            self._when(spec.starts, start)

    def _clock_deadline(self, cid: str, state: ClockState) -> SimProcess:
        yield self.env.timeout(state.due - self.now)
        if state.status == "running" and not self.finished:
            state.status = "missed"
            self._emit(Kind.CLOCK_MISSED, "engine", {"clock": cid})

    def _meet_clock(self, cid: str, state: ClockState) -> None:
        state.status = "met"
        self._emit(Kind.CLOCK_MET, "engine", {"clock": cid, "early_by": state.due - self.now})

    # --- injects and expectations -------------------------------------------------------

    def _fire(self, inject: Inject, by: str = "engine") -> None:
        if inject.id in self.fired or self.finished:
            return
        self.fired[inject.id] = self.now
        values = self._template_values(inject)
        self._emit(Kind.INJECT, by, {
            "inject": inject.id, "channel": inject.channel.value,
            "sender": render(inject.sender.name, values),
            "sender_title": render(inject.sender.title, values),
            "subject": render(inject.subject, values), "body": render(inject.body, values)},
            to=tuple(r.value for r in inject.to))
        for index, spec in enumerate(inject.expects):
            state = ExpectationState(inject=inject.id, index=index, action=spec.action,
                                     role=spec.role.value if spec.role else None,
                                     due=self.now + (spec.within if spec.within is not None
                                                     else float("inf")),
                                     contingency=spec.contingency,
                                     objective=spec.objective)
            self.expectations.append(state)
            if any(_fulfils(state, action, role) for _, action, role in self.taken):
                self._meet(state)
            elif spec.within is not None:
                self.env.process(self._deadline(state))
        self._notify("inject", inject.id)

    def _template_values(self, inject: Inject) -> dict[str, Any]:
        """Generated details for one inject plus what the team can observe now.

        Persona details are seeded by the sender (its name and title templates), so the same
        sender is the same person in every inject; the ticket number and sample are per inject.
        """
        base = int(self._text_seed.generate_state(1)[0])
        sender_key = f"{inject.sender.name}|{inject.sender.title}"
        values: dict[str, Any] = persona_values(base ^ zlib.crc32(sender_key.encode()))
        seed = base ^ zlib.crc32(inject.id.encode())
        stream = next(iter(self.scenario.streams.values()))
        confidence = 0.2 + 0.6 * ((seed >> 8) % 1000) / 1000.0
        values.update(
            ticket=persona_values(seed)["ticket"],
            sample=redacted_sample(stream.harm_type, stream.hazard, confidence, seed % 100000),
            time=clock(self.now), scenario=self.scenario.title,
            reports_per_hour=self._reading_of("user_reports"),
            mentions_per_hour=self._reading_of("social_posts"))
        return values

    def _reading_of(self, kind: str) -> str:
        """The latest reading of the first instrumented signal of ``kind``, as text."""
        for sid, spec in self.scenario.signals.items():
            if spec.kind == kind and sid in self._last_readings:
                return f"{self._last_readings[sid]:.0f}"
        return "unknown"

    def _deadline(self, state: ExpectationState) -> SimProcess:
        yield self.env.timeout(state.due - self.now)
        if state.status != "pending" or self.finished:
            return
        state.status = "missed"
        self._emit(Kind.EXPECTATION_MISSED, "engine", {
            "inject": state.inject, "action": state.action, "role": state.role,
            "objective": state.objective}, hidden=True)
        if state.contingency is not None:
            contingency = self.scenario.inject(state.contingency)
            if contingency is not None:
                self._fire(contingency)

    def _meet(self, state: ExpectationState) -> None:
        state.status, state.met_at = "met", self.now
        self._emit(Kind.EXPECTATION_MET, "engine", {
            "inject": state.inject, "action": state.action, "role": state.role,
            "objective": state.objective}, hidden=True)

    def _after_taken(self, command: Command) -> None:
        """Record an accepted command: expectations, clocks and triggers waiting on it."""
        self.taken.append((self.now, command.action, command.role))
        for state in self.expectations:
            if state.status == "pending" and _fulfils(state, command.action, command.role):
                self._meet(state)
        for cid, cstate in self.clocks.items():
            if cstate.status == "running" and cstate.met_by == command.action:
                self._meet_clock(cid, cstate)
        self._notify("action", command.action)

    # --- harm, collateral and signals ----------------------------------------------------

    def _legit(self, feature_id: str, t: float) -> float:
        """Requests per second the feature would serve with no mitigation."""
        return self.scenario.features[feature_id].traffic_rps * self._shapes[feature_id](t)

    def _traffic(self, feature_id: str, t: float) -> float:
        rate = self._legit(feature_id, t)
        for m in self.mitigations:
            for e in m.action.effects:
                if e.feature == feature_id and e.traffic_multiplier is not None:
                    rate *= fading(e.traffic_multiplier, e.half_life, t - m.since)
        return rate

    def _stream_multiplier(self, stream_id: str, t: float) -> float:
        mult = 1.0
        for m in self.mitigations:
            for e in m.action.effects:
                if e.stream == stream_id and e.harmful_multiplier is not None:
                    mult *= fading(e.harmful_multiplier, e.half_life, t - m.since)
        return mult

    def _flush(self) -> None:
        """Close the interval since the last flush: draw its harm once per stream, add collateral."""
        t0, t1 = self._flushed_to, self.now
        if t1 <= t0:
            return
        self._flushed_to = t1
        expected_total = 0.0
        for sid, stream in self.scenario.streams.items():
            curve = stream.harmful_fraction

            def rate(t: float, sid: str = sid, fid: str = stream.feature, curve: Any = curve) -> float:
                return self._traffic(fid, t) * harmful_fraction(curve, t) * self._stream_multiplier(sid, t)

            expected = integrate(rate, t0, t1)
            count = int(self._rng_harm.poisson(expected))
            expected_total += expected
            self.truth.harm_by_stream[sid] += count
            self.truth.weighted_harm += count * stream.severity.weight
            self._tick_harm[sid] += count
            self._tick_flagged += float(self._rng_signals.binomial(count, stream.classifier_recall))
        self._tick_expected += expected_total
        self.truth.intervals.append(Interval(t0, t1, expected_total / (t1 - t0)))
        self._add_collateral(t0, t1)

    def _add_collateral(self, t0: float, t1: float) -> None:
        for fid in self.scenario.features:
            legit = integrate(partial(self._legit, fid), t0, t1)
            served = integrate(partial(self._traffic, fid), t0, t1) if self.mitigations else legit
            refused_share = 1.0
            for m in self.mitigations:
                if fid in m.features:
                    refused_share *= 1.0 - m.action.blocked_fraction
            self.truth.legit_total += legit
            self.truth.legit_blocked += (legit - served) + served * (1.0 - refused_share)
            self._tick_outputs += served

    def _monitor(self) -> SimProcess:
        """The monitoring loop: once per tick, close the interval, read the signals, age the people."""
        duration, tick = self.scenario.duration, self.scenario.tick
        while not self.finished:
            yield self.env.timeout(min(tick, duration - self.now))
            if self.finished:
                return
            self._end_tick()
            if self.now >= duration:
                self._finish("time")

    def _end_tick(self) -> None:
        self._flush()
        dt = self.now - self._tick_start
        harmful = sum(self._tick_harm.values())
        truth = TickTruth(dt=dt, harmful=harmful, missed=harmful - self._tick_flagged,
                          flagged=self._tick_flagged, outputs=self._tick_outputs)
        readings: dict[str, Any] = {}
        rising: list[str] = []
        for sid, monitor in self.monitors.items():
            reading = monitor.read(truth, self._rng_signals)
            readings[sid] = {"value": round(reading.value, 6), "alerting": reading.alerting}
            self._last_readings[sid] = reading.value
            if reading.alerting and sid not in self._alerting:
                rising.append(sid)
            elif not reading.alerting and sid in self._alerting:
                self._alerting.discard(sid)
                self._emit(Kind.ALERT_CLEARED, "engine", {"signal": sid})
        self._age_people(dt)
        rate = self._tick_expected / dt if dt > 0 else 0.0
        self._emit(Kind.TICK, "engine", {"signals": readings,
                                         "loads": {r: round(v, 4) for r, v in self.loads.items()}})
        self._emit(Kind.HARM, "engine", {
            "rate": round(rate, 6), "count": int(harmful),
            "by_stream": {s: int(n) for s, n in self._tick_harm.items()},
            "total": self.truth.harm_volume, "weighted_total": round(self.truth.weighted_harm, 6)},
            hidden=True)
        for sid in rising:
            self._alerting.add(sid)
            self.alerts.setdefault(sid, self.now)
            spec = self.scenario.signals[sid]
            self._emit(Kind.ALERT, "engine", {"signal": sid, "title": spec.title,
                                              "value": readings[sid]["value"]})
            self._notify("signal", sid)
        self._check_resurgence(rate)
        self._notify("harm", self.truth.harm_volume)
        self._tick_start = self.now
        self._tick_harm = {sid: 0.0 for sid in self._tick_harm}
        self._tick_flagged = self._tick_outputs = self._tick_expected = 0.0

    def _check_resurgence(self, rate: float) -> None:
        above = rate > self.scenario.scoring.containment_threshold
        if above and not self._above and (self.incident.stages_done or self.incident.resolved_at):
            self.incident.resurgences.append(self.now)
            self._emit(Kind.RESURGENCE, "engine", {"rate": round(rate, 6)}, hidden=True)
        self._above = above

    def _age_people(self, dt: float) -> None:
        if self.incident.declared_at is None:
            return
        gain = self.scenario.people.load_per_hour * dt / 3600.0
        for role in self.loads:
            if self.unavailable_until.get(role, 0.0) <= self.now:
                self.loads[role] = min(1.0, self.loads[role] + gain)
        self.peak_load = max(self.peak_load, *self.loads.values())

    def current_rate(self) -> float:
        """The latest interval's expected harmful outputs per second (hidden truth)."""
        return self.truth.intervals[-1].rate if self.truth.intervals else 0.0

    # --- commands -----------------------------------------------------------------------

    def _refusal(self, command: Command) -> str | None:
        """Why ``command`` cannot be taken now, or ``None`` when it can."""
        if command.role == FACILITATOR:
            return self._facilitator_refusal(command)
        in_play = [r.value for r in self.scenario.roles]
        if command.role not in in_play:
            return f"role {command.role!r} is not in play (in play: {', '.join(in_play)})"
        verb = VERBS.get(command.action)
        if verb is not None:
            if command.role not in verb.roles:
                allowed = ", ".join(sorted(r.value for r in verb.roles))
                return f"{command.role} may not {command.action} (allowed: {allowed})"
            params = _parse(verb.params, command.params)
            if isinstance(params, str):
                return params
            return self._verb_refusal(command, params)
        action = self.scenario.action(command.action)
        if action is None:
            return f"unknown action {command.action!r}"
        if command.role not in {r.value for r in action.roles}:
            allowed = ", ".join(r.value for r in action.roles)
            return f"{command.role} may not take {action.id!r} (allowed: {allowed})"
        if command.params:
            return f"{action.id!r} takes no parameters"
        if not action.repeatable and self._already(action.id):
            return f"{action.id!r} is already pending, under way or in effect"
        return None

    def _facilitator_refusal(self, command: Command) -> str | None:
        params_type = FACILITATOR_VERBS.get(command.action)
        if params_type is None:
            return f"unknown facilitator command {command.action!r}"
        params = _parse(params_type, command.params)
        if isinstance(params, str):
            return params
        if command.action == "fire_inject":
            inject = self.scenario.inject(str(command.params["inject"]))
            if inject is None:
                return f"unknown inject {command.params['inject']!r}"
            if inject.id in self.fired:
                return f"inject {inject.id!r} has already fired"
        return None

    def _already(self, action_id: str) -> bool:
        return (any(p.action.id == action_id for p in self.pending.values())
                or any(a == action_id for a, _ in self.in_flight.values())
                or any(m.action.id == action_id for m in self.mitigations))

    def _verb_refusal(self, command: Command, params: Params) -> str | None:
        inc = self.incident
        needs_declared = {"set_severity", "declare_stage_done", "start_watch", "rotate", "resolve"}
        if command.action in needs_declared and inc.declared_at is None:
            return "declare the incident first"
        checks: dict[str, Callable[[], str | None]] = {
            "declare_incident": lambda: (f"already declared at {clock(inc.declared_at)}"
                                         if inc.declared_at is not None else None),
            "investigate": lambda: "an investigation is already running" if inc.investigating else None,
            "start_watch": lambda: ("a watch period is already running"
                                    if inc.watch_until is not None else None),
            "declare_stage_done": lambda: (f"stage {command.params['stage']} is already declared done"
                                           if command.params["stage"] in inc.stages_done else None),
            "resolve": lambda: "already resolved" if inc.resolved_at is not None else None,
            "approve": lambda: self._approval_refusal(command),
            "deny": lambda: self._approval_refusal(command),
            "rotate": lambda: self._target_refusal(command),
            "rest": lambda: self._target_refusal(command) or (
                None if command.role in (command.params["target"], Role.IC.value)
                else "only the incident commander may rest someone else"),
        }
        check = checks.get(command.action)
        return check() if check else None

    def _target_refusal(self, command: Command) -> str | None:
        target = str(command.params["target"])
        in_play = {r.value for r in self.scenario.roles}
        return None if target in in_play else f"{target} is not in play"

    def _approval_refusal(self, command: Command) -> str | None:
        request = int(command.params["request"])
        pending = self.pending.get(request)
        if pending is None:
            return f"no pending request #{request}"
        approver = pending.action.approval
        if approver is not None and command.role != approver.value:
            return f"request #{request} needs {approver.value} to decide"
        return None

    def _apply(self, command: Command) -> None:
        if command.role == FACILITATOR:
            self._apply_facilitator(command)
        elif command.action in VERBS:
            getattr(self, f"_do_{command.action}")(command.role, command.params)
        else:
            action = self.scenario.action(command.action)
            assert action is not None
            self._request(command, action)

    def _apply_facilitator(self, command: Command) -> None:
        if command.action == "fire_inject":
            inject = self.scenario.inject(str(command.params["inject"]))
            assert inject is not None
            self._fire(inject, by=FACILITATOR)
        elif command.action == "adhoc_inject":
            p = AdhocParams.model_validate(command.params)
            self._emit(Kind.INJECT, FACILITATOR, {
                "inject": f"adhoc-{len(self.events)}", "channel": p.channel, "sender": p.sender,
                "sender_title": "exercise control", "subject": p.subject, "body": p.body},
                to=tuple(r.value for r in p.to))
        else:
            self._finish("facilitator")

    def _request(self, command: Command, action: Action) -> None:
        self._requests += 1
        request = self._requests
        if action.approval is not None and action.approval.value != command.role:
            self.pending[request] = PendingApproval(request, command, action, self.now)
            self._emit(Kind.APPROVAL_REQUESTED, command.role, {
                "request": request, "action": action.id, "title": action.title,
                "by": command.role, "approver": action.approval.value})
        else:
            self._start(request, action, command.role)

    def _start(self, request: int, action: Action, role: str) -> None:
        slowdown = 1.0 + self.scenario.people.slowdown * self.loads.get(role, 0.0)
        wait = max(0.0, self.unavailable_until.get(role, 0.0) - self.now)
        eta = self.now + wait + action.latency * slowdown
        self.in_flight[request] = (action.id, eta)
        self._emit(Kind.ACTION_STARTED, role, {"request": request, "action": action.id,
                                               "title": action.title, "eta": round(eta, 6)})
        self.env.process(self._take_effect(request, action, role, eta))

    def _take_effect(self, request: int, action: Action, role: str, eta: float) -> SimProcess:
        yield self.env.timeout(eta - self.now)
        if self.finished:
            return
        self._flush()
        self.in_flight.pop(request, None)
        if action.repeatable:
            self.mitigations = [m for m in self.mitigations if m.action.id != action.id]
        self.mitigations.append(Mitigation(action, self.now, self._features_of(action.effects)))
        self.loads[role] = min(1.0, self.loads.get(role, 0.0) + action.exposure)
        self.incident.first_effective.setdefault(action.stage, self.now)
        self._emit(Kind.ACTION_EFFECTIVE, role, {"request": request, "action": action.id,
                                                 "title": action.title, "stage": action.stage})
        self._notify("action_effective", action.id)

    def _features_of(self, effects: list[Effect]) -> frozenset[str]:
        out = set()
        for e in effects:
            if e.feature is not None:
                out.add(e.feature)
            if e.stream is not None:
                out.add(self.scenario.streams[e.stream].feature)
        return frozenset(out)

    # --- built-in verbs -----------------------------------------------------------------

    def _do_declare_incident(self, role: str, params: dict[str, Any]) -> None:
        self.incident.declared_at = self.now
        self.incident.commander = str(params.get("commander", Role.IC.value))
        self._emit(Kind.INCIDENT_DECLARED, role, {"commander": self.incident.commander})
        self._notify("declared", 1)

    def _do_set_severity(self, role: str, params: dict[str, Any]) -> None:
        self.incident.severity = str(params["level"])
        self._emit(Kind.SEVERITY_SET, role, {"level": self.incident.severity})

    def _do_classify(self, role: str, params: dict[str, Any]) -> None:
        self.incident.classification = {"harm_type": str(params["harm_type"]),
                                        "hazard": params.get("hazard"), "at": self.now}
        self._emit(Kind.CLASSIFIED, role, {"harm_type": str(params["harm_type"]),
                                           "hazard": params.get("hazard")})

    def _do_escalate(self, role: str, params: dict[str, Any]) -> None:
        target = str(params["to"])
        self.incident.escalations.setdefault(target, self.now)
        self._emit(Kind.ESCALATED, role, {"to": target})

    def _do_send_update(self, role: str, params: dict[str, Any]) -> None:
        parts = {k: str(params.get(k, "")).strip() for k in ("know", "suspect", "doing")}
        structured = all(parts.values())
        self.incident.updates.append((self.now, str(params["audience"]), structured))
        self._emit(Kind.UPDATE_SENT, role, {"audience": str(params["audience"]), **parts,
                                            "structured": structured})

    def _do_investigate(self, role: str, params: dict[str, Any]) -> None:
        spec = self.scenario.investigation
        latency = spec.latency if spec else 30 * 60.0
        self.incident.investigating = True
        self._emit(Kind.INVESTIGATION_STARTED, role, {"eta": round(self.now + latency, 6)})
        self.env.process(self._after(latency, _bind(self._findings, role)))

    def _findings(self, role: str) -> None:
        self.incident.investigating = False
        self.incident.findings_at = self.now
        found = investigation_findings(self.scenario, self.now)
        self._emit(Kind.FINDINGS, role, found)
        self._emit(Kind.INJECT, "engine", findings_inject(found, role), to=(role,))

    def _do_start_watch(self, role: str, params: dict[str, Any]) -> None:
        ends = self.now + self.scenario.scoring.watch_period
        self.incident.watch_until = ends
        self._emit(Kind.WATCH_STARTED, role, {"ends": round(ends, 6)})
        self.env.process(self._after(self.scenario.scoring.watch_period,
                                     _bind(self._end_watch, self.now)))

    def _end_watch(self, started: float) -> None:
        self._flush()
        threshold = self.scenario.scoring.containment_threshold
        worst = max((i.rate for i in self.truth.intervals if i.t1 > started), default=0.0)
        passed = worst <= threshold
        self.incident.watch_until = None
        self.incident.watches.append((started, self.now, passed))
        self._emit(Kind.WATCH_ENDED, "engine", {"started": round(started, 6), "passed": passed})

    def _do_declare_stage_done(self, role: str, params: dict[str, Any]) -> None:
        stage = int(params["stage"])
        self._flush()
        continuing = self.current_rate() > self.scenario.scoring.containment_threshold
        self.incident.stages_done[stage] = self.now
        if continuing:
            self.incident.premature_stages.append(stage)
        self._emit(Kind.STAGE_DECLARED, role, {"stage": stage})
        if continuing:
            self._emit(Kind.RESURGENCE, "engine", {"stage": stage, "declared_while_harmful": True,
                                                   "rate": round(self.current_rate(), 6)}, hidden=True)

    def _do_rotate(self, role: str, params: dict[str, Any]) -> None:
        target = str(params["target"])
        self.loads[target] = 0.0
        self.unavailable_until[target] = self.now + self.scenario.people.handoff
        self._emit(Kind.ROTATED, role, {"target": target,
                                        "back": round(self.unavailable_until[target], 6)})

    def _do_rest(self, role: str, params: dict[str, Any]) -> None:
        target = str(params["target"])
        people = self.scenario.people
        self.loads[target] = max(0.0, self.loads.get(target, 0.0) - people.rest_relief)
        self.unavailable_until[target] = self.now + people.rest
        self._emit(Kind.RESTED, role, {"target": target,
                                       "back": round(self.unavailable_until[target], 6)})

    def _do_notify_regulator(self, role: str, params: dict[str, Any]) -> None:
        self._emit(Kind.REGULATOR_NOTIFIED, role, {
            "authority": str(params.get("authority", "data protection authority")),
            "summary": str(params.get("summary", ""))})

    def _do_message(self, role: str, params: dict[str, Any]) -> None:
        to = [str(r) for r in params.get("to", [])]
        audience = tuple(sorted({role, *to})) if to else None
        self._emit(Kind.MESSAGE, role, {"text": str(params["text"]), "to": to}, to=audience)

    def _do_approve(self, role: str, params: dict[str, Any]) -> None:
        pending = self.pending.pop(int(params["request"]))
        self._emit(Kind.APPROVAL_GRANTED, role, {"request": pending.request,
                                                 "action": pending.action.id})
        self._start(pending.request, pending.action, pending.command.role)

    def _do_deny(self, role: str, params: dict[str, Any]) -> None:
        pending = self.pending.pop(int(params["request"]))
        self._emit(Kind.APPROVAL_DENIED, role, {"request": pending.request,
                                                "action": pending.action.id,
                                                "reason": str(params.get("reason", ""))})

    def _do_resolve(self, role: str, params: dict[str, Any]) -> None:
        self._flush()
        self.incident.resolved_at = self.now
        self.incident.resolved_while_harmful = (
            self.current_rate() > self.scenario.scoring.containment_threshold)
        self._emit(Kind.RESOLVED, role, {})

    # --- the end ------------------------------------------------------------------------

    def _finish(self, reason: str) -> None:
        if self.finished:
            return
        if self.now > self._tick_start:
            self._end_tick()
        self.finished = True
        for state in self.expectations:
            if state.status == "pending":
                state.status = "open"
        self._emit(Kind.DRILL_ENDED, "engine", {"reason": reason})
        if not self._ended.triggered:
            self._ended.succeed()


def _command_payload(command: Command) -> dict[str, Any]:
    """How a command is journaled; replay rebuilds the command from exactly this."""
    payload: dict[str, Any] = {"action": command.action, "params": command.params}
    if command.player is not None:
        payload["player"] = command.player
    return payload


def _bind(fn: Callable[..., None], *args: Any) -> Callable[[], None]:
    """``fn`` with ``args`` bound, as a no-argument callback."""
    return lambda: fn(*args)


def _parse(model: type[Params], params: dict[str, Any]) -> Params | str:
    """Validate verb parameters; a refusal reason on failure."""
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "params"
        return f"bad parameter {where}: {first['msg']}"


def _matches(trigger: Trigger, condition: str, key: str | int) -> bool:
    """Whether a trigger waits on this condition."""
    if condition == "harm":
        return trigger.harm_at_least is not None and int(key) >= trigger.harm_at_least
    if condition == "declared":
        return bool(trigger.declared)
    wanted = {"signal": trigger.signal, "inject": trigger.inject, "action": trigger.action,
              "action_effective": trigger.action_effective}[condition]
    return wanted is not None and wanted == key


def _fulfils(state: ExpectationState, action: str, role: str) -> bool:
    return state.action == action and (state.role is None or state.role == role)
