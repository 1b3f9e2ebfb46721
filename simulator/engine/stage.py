"""What the drill's parts (the MSEL, the verbs) need from the drill that coordinates them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from simulator.engine.events import Event, Kind
from simulator.engine.harm import Ledger
from simulator.engine.incident import Incident, PendingApproval
from simulator.engine.people import People
from simulator.engine.triggers import Triggers
from simulator.format.scenario import Action, Scenario


class Stage(Protocol):
    """The drill as its parts see it: the scenario, the state they share, and time."""

    scenario: Scenario
    incident: Incident
    people: People
    triggers: Triggers
    truth: Ledger
    pending: dict[int, PendingApproval]
    taken: list[tuple[float, str, str]]
    """(time, action, role) of every accepted command."""
    finished: bool
    text_seed: int
    """Seed of the generated inject text."""

    @property
    def now(self) -> float:
        """Current sim time, seconds."""
        ...

    def emit(self, kind: Kind, actor: str | None, payload: dict[str, Any],
             to: tuple[str, ...] | None = None, hidden: bool = False, t: float | None = None) -> Event:
        """Append an event to the journal."""
        ...

    def after(self, delay: float, then: Callable[[], None]) -> None:
        """Call ``then`` ``delay`` seconds from now, unless the drill has ended by then."""
        ...

    def start_action(self, request: int, action: Action, role: str) -> None:
        """Start a catalogue action."""
        ...

    def current_rate(self) -> float:
        """Expected harmful outputs per second now (hidden truth)."""
        ...

    def worst_rate_since(self, t: float) -> float:
        """The highest expected harmful rate since ``t`` (hidden truth)."""
        ...

    def reading_text(self, kind: str) -> str:
        """The latest reading of the first instrumented signal of ``kind``, as text."""
        ...
