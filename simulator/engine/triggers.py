"""Triggers: conditions on the drill's state that start an inject or a clock, indexed by what sets them."""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from simulator.format.scenario import Trigger


@dataclass
class _Waiting:
    trigger: Trigger
    then: Callable[[], None]
    order: int
    done: bool = False


def condition_of(trigger: Trigger) -> tuple[str, str | int]:
    """The one condition a trigger waits on, as (condition, key)."""
    if trigger.harm_at_least is not None:
        return "harm", trigger.harm_at_least
    if trigger.declared:
        return "declared", 1
    for name in ("signal", "inject", "action", "action_effective"):
        value = getattr(trigger, name)
        if value is not None:
            return name, str(value)
    raise ValueError("a trigger with no condition")


class Triggers:
    """Conditions being waited on, indexed by what sets them off (no rescans)."""

    def __init__(self, after: Callable[[float, Callable[[], None]], None]) -> None:
        self._after = after
        self._by_key: dict[tuple[str, str | int], list[_Waiting]] = {}
        self._harm: list[tuple[int, int, _Waiting]] = []
        self._count = 0

    def when(self, trigger: Trigger, then: Callable[[], None]) -> None:
        """Call ``then`` (after the trigger's delay) once the trigger's condition holds."""
        self._count += 1
        waiting = _Waiting(trigger, then, self._count)
        condition, key = condition_of(trigger)
        if condition == "harm":
            bisect.insort(self._harm, (int(key), self._count, waiting))
        else:
            self._by_key.setdefault((condition, key), []).append(waiting)

    def notify(self, condition: str, key: str | int) -> None:
        """A condition just held: start everything waiting on it, in the order it started waiting."""
        for waiting in self._by_key.pop((condition, key), []):
            self._start(waiting)

    @property
    def next_harm_threshold(self) -> int | None:
        """The smallest harm count a trigger still waits for."""
        return self._harm[0][0] if self._harm else None

    def notify_harm(self, total: int) -> None:
        """This many harmful outputs have been emitted."""
        cut = bisect.bisect_right(self._harm, (total, self._count + 1))
        reached, self._harm = self._harm[:cut], self._harm[cut:]
        for _, _, waiting in sorted(reached, key=lambda r: r[1]):
            self._start(waiting)

    def _start(self, waiting: _Waiting) -> None:
        if not waiting.done:
            waiting.done = True
            self._after(waiting.trigger.delay, waiting.then)
