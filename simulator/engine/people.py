"""People: each responder's exposure/fatigue load, who is away on a handoff or rest, and how load slows them.

A role's load rises steadily with time on shift once the incident is declared, from the last time
it was set (declared, rotated, rested, exposed to harmful samples); it is read at each monitoring
tick, which is when the team sees it and when the engine uses it. Being a formula of the tick's
time, it is the same however many ticks are read at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from simulator.format.scenario import People as PeopleSpec

Floats = npt.NDArray[np.float64]


class People:
    """Loads of the roles in play as of the latest tick, and what they will be at later ticks."""

    def __init__(self, spec: PeopleSpec, roles: list[str]) -> None:
        self.spec = spec
        self.loads: dict[str, float] = {r: 0.0 for r in roles}
        """Each role's load at the latest tick (plus any exposure since)."""
        self.peak_load = 0.0
        self.unavailable_until: dict[str, float] = {}
        self._rate = spec.load_per_hour / 3600.0
        self._since: dict[str, float] | None = None
        """From when each role's load rises (``None`` until the incident is declared)."""
        self._anchor: dict[str, float] = dict(self.loads)
        """Each role's load at that time."""

    def declared(self, now: float) -> None:
        """Loads start rising now."""
        self._since = {role: max(now, self.unavailable_until.get(role, 0.0)) for role in self.loads}
        self._anchor = dict(self.loads)

    def slowdown(self, role: str) -> float:
        """How much longer the role takes to get something done (1 = fresh)."""
        return 1.0 + self.spec.slowdown * self.loads.get(role, 0.0)

    def wait(self, role: str, now: float) -> float:
        """Seconds until the role is back from a handoff or rest."""
        return max(0.0, self.unavailable_until.get(role, 0.0) - now)

    def expose(self, role: str, exposure: float, tick: float) -> None:
        """Add the load of reviewing harmful samples (an action's exposure) to the load as of ``tick``."""
        self._set(role, min(1.0, self.loads.get(role, 0.0) + exposure), tick)

    def rotate(self, role: str, now: float) -> float:
        """Hand the role off to a fresh responder; returns when they are back."""
        self.unavailable_until[role] = now + self.spec.handoff
        self._set(role, 0.0, now)
        return self.unavailable_until[role]

    def rest(self, role: str, now: float) -> float:
        """Rest the role; returns when they are back."""
        self.unavailable_until[role] = now + self.spec.rest
        self._set(role, max(0.0, self.loads.get(role, 0.0) - self.spec.rest_relief), now)
        return self.unavailable_until[role]

    def _set(self, role: str, load: float, at: float) -> None:
        self.loads[role] = load
        self._anchor[role] = load
        if self._since is not None:
            self._since[role] = max(at, self.unavailable_until.get(role, 0.0))

    def at_tick(self, t: float) -> dict[str, float]:
        """Every role's load at a tick closing at ``t``; it becomes the current load."""
        if self._since is not None:
            rate, since, anchor = self._rate, self._since, self._anchor
            self.loads = {role: min(1.0, anchor[role] + rate * max(0.0, t - since[role]))
                          for role in self.loads}
            self.peak_load = max(self.peak_load, *self.loads.values())
        return self.loads

    def over(self, times: Floats) -> dict[str, Floats]:
        """Every role's load at ticks closing at ``times`` (as :meth:`at_tick` gives each)."""
        if self._since is None:
            return {role: np.full(times.size, load) for role, load in self.loads.items()}
        rate = self._rate
        return {role: np.minimum(1.0, self._anchor[role] + rate * np.maximum(0.0, times - self._since[role]))
                for role in self.loads}
