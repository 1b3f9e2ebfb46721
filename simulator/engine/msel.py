"""The MSEL in play: triggers, injects, their expectations and contingencies, and regulatory clocks."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from simulator.engine.events import Kind
from simulator.engine.index import index_of
from simulator.engine.stage import Stage
from simulator.format.durations import clock
from simulator.format.scenario import Clock, Inject, Scenario


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

    def fulfilled_by(self, action: str, role: str) -> bool:
        """Whether taking ``action`` as ``role`` meets this expectation."""
        return self.action == action and (self.role is None or self.role == role)


@dataclass
class ClockState:
    """A started regulatory or SLA clock."""

    started: float
    due: float
    met_by: str
    status: str = "running"
    """``running``, ``met`` or ``missed``."""


@dataclass
class Msel:
    """Injects firing, expectations falling due, contingencies and regulatory clocks."""

    drill: Stage
    render_text: bool = True
    fired: dict[str, float] = field(default_factory=dict)
    expectations: list[ExpectationState] = field(default_factory=list)
    clocks: dict[str, ClockState] = field(default_factory=dict)
    _personas: dict[str, dict[str, str]] = field(default_factory=dict)
    _pending_by_action: dict[str, list[ExpectationState]] = field(default_factory=dict)
    _running_by_action: dict[str, list[str]] = field(default_factory=dict)
    _taken_by: dict[str, set[str]] = field(default_factory=dict)
    """Action → the roles that took it (the drill's ``taken``, indexed as :meth:`taken` hears of it)."""

    @property
    def scenario(self) -> Scenario:
        """The scenario being played."""
        return self.drill.scenario

    def schedule(self) -> None:
        """Wait for every timed and triggered inject and every clock's start."""
        for inject in self.scenario.injects:
            if inject.at is not None:
                self.drill.after(inject.at, _bind(self.fire, inject))
            elif inject.trigger is not None:
                self.drill.triggers.when(inject.trigger, _bind(self.fire, inject))
        for spec in self.scenario.clocks:
            self.drill.triggers.when(spec.starts, _bind(self._start_clock, spec))

    # --- injects --------------------------------------------------------------------------

    def fire(self, inject: Inject, by: str = "engine") -> None:
        """Deliver an inject (once) and start its expectations."""
        drill = self.drill
        if inject.id in self.fired or drill.finished:
            return
        self.fired[inject.id] = drill.now
        drill.emit(Kind.INJECT, by, {"inject": inject.id, "channel": inject.channel.value,
                                     **self._text(inject)},
                   to=tuple(r.value for r in inject.to))
        for index, spec in enumerate(inject.expects):
            state = ExpectationState(inject=inject.id, index=index, action=spec.action,
                                     role=spec.role.value if spec.role else None,
                                     due=drill.now + (spec.within if spec.within is not None
                                                      else float("inf")),
                                     contingency=spec.contingency, objective=spec.objective)
            self.expectations.append(state)
            if self._already_taken(state):
                self._meet(state)
            else:
                self._pending_by_action.setdefault(state.action, []).append(state)
                if spec.within is not None:
                    drill.after(spec.within, _bind(self._deadline, state))
        drill.triggers.notify("inject", inject.id)

    def _text(self, inject: Inject) -> dict[str, str]:
        """Sender, subject and body as the team reads them (empty when nobody reads them)."""
        if not self.render_text:
            return {"sender": "", "sender_title": "", "subject": "", "body": ""}
        from simulator.format.templating import render

        values = self._template_values(inject)
        return {"sender": render(inject.sender.name, values),
                "sender_title": render(inject.sender.title, values),
                "subject": render(inject.subject, values), "body": render(inject.body, values)}

    def _template_values(self, inject: Inject) -> dict[str, Any]:
        """Generated details for one inject plus what the team can observe now.

        Persona details are seeded by the sender (its name and title templates) and built once
        per sender per run, so the same sender is the same person in every inject; the ticket
        number and sample are per inject.
        """
        from simulator.format.templating import persona_values, redacted_sample, ticket_number

        drill = self.drill
        base = drill.text_seed
        sender_key = f"{inject.sender.name}|{inject.sender.title}"
        if sender_key not in self._personas:
            self._personas[sender_key] = persona_values(base ^ zlib.crc32(sender_key.encode()))
        values: dict[str, Any] = dict(self._personas[sender_key])
        seed = base ^ zlib.crc32(inject.id.encode())
        stream = next(iter(self.scenario.streams.values()))
        confidence = 0.2 + 0.6 * ((seed >> 8) % 1000) / 1000.0
        values.update(
            ticket=ticket_number(seed),
            sample=redacted_sample(stream.harm_type, stream.hazard, confidence, seed % 100000),
            time=clock(drill.now), scenario=self.scenario.title,
            reports_per_hour=drill.reading_text("user_reports"),
            mentions_per_hour=drill.reading_text("social_posts"))
        return values

    # --- expectations ---------------------------------------------------------------------

    def _deadline(self, state: ExpectationState) -> None:
        if state.status != "pending":
            return
        state.status = "missed"
        self.drill.emit(Kind.EXPECTATION_MISSED, "engine", {
            "inject": state.inject, "action": state.action, "role": state.role,
            "objective": state.objective}, hidden=True)
        if state.contingency is not None:
            contingency = index_of(self.scenario).injects.get(state.contingency)
            if contingency is not None:
                self.fire(contingency)

    def _meet(self, state: ExpectationState) -> None:
        state.status, state.met_at = "met", self.drill.now
        self.drill.emit(Kind.EXPECTATION_MET, "engine", {
            "inject": state.inject, "action": state.action, "role": state.role,
            "objective": state.objective}, hidden=True)

    def _already_taken(self, state: ExpectationState) -> bool:
        """Whether a command already taken fulfils this expectation."""
        roles = self._taken_by.get(state.action)
        return roles is not None and (state.role is None or state.role in roles)

    def taken(self, action: str, role: str) -> None:
        """An accepted command: meet what it fulfils, stop the clocks it meets."""
        self._taken_by.setdefault(action, set()).add(role)
        waiting = self._pending_by_action.get(action)
        if waiting:
            for state in [s for s in waiting if s.status == "pending" and s.fulfilled_by(action, role)]:
                self._meet(state)
            self._pending_by_action[action] = [s for s in waiting if s.status == "pending"]
        running = self._running_by_action.pop(action, None)
        if running:
            for cid in running:
                if self.clocks[cid].status == "running":
                    self._meet_clock(cid, self.clocks[cid])

    def close(self) -> None:
        """The drill ended: expectations still pending stay open."""
        for state in self.expectations:
            if state.status == "pending":
                state.status = "open"

    # --- clocks ---------------------------------------------------------------------------

    def _start_clock(self, spec: Clock) -> None:
        drill = self.drill
        state = ClockState(started=drill.now, due=drill.now + spec.deadline, met_by=spec.met_by)
        self.clocks[spec.id] = state
        drill.emit(Kind.CLOCK_STARTED, "engine",
                   {"clock": spec.id, "title": spec.title, "due": state.due, "met_by": spec.met_by})
        if spec.met_by in self._taken_by:
            self._meet_clock(spec.id, state)
        else:
            self._running_by_action.setdefault(spec.met_by, []).append(spec.id)
            drill.after(spec.deadline, _bind(self._clock_deadline, spec.id, state))

    def _clock_deadline(self, cid: str, state: ClockState) -> None:
        if state.status == "running":
            state.status = "missed"
            self.drill.emit(Kind.CLOCK_MISSED, "engine", {"clock": cid})

    def _meet_clock(self, cid: str, state: ClockState) -> None:
        state.status = "met"
        self.drill.emit(Kind.CLOCK_MET, "engine", {"clock": cid, "early_by": state.due - self.drill.now})


def _bind(fn: Callable[..., None], *args: Any) -> Callable[[], None]:
    """``fn`` with ``args`` bound, as a no-argument callback."""
    return lambda: fn(*args)
