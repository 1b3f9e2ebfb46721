"""What a drill looks up in its scenario, worked out once per scenario and shared by every drill of it.

A sweep plays one scenario on thousands of seeds; the roles in play, the catalogue by id, who may
take each action and the triggers questions wait on depend only on the scenario (a frozen model),
never on the seed, so they are indexed here once instead of rescanned per drill or per command.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

from simulator.format.scenario import Action, Inject, Scenario, Trigger

KEPT = 64
"""Scenarios indexed per process (a sweep or a test module plays a handful)."""


@dataclass(frozen=True)
class ScenarioIndex:
    """One scenario's lookups."""

    in_play: tuple[str, ...]
    """The roles in play, in the scenario's order."""
    actions: dict[str, Action]
    """Catalogue action by id."""
    action_roles: dict[str, frozenset[str]]
    """Catalogue action id → the roles that may take it."""
    injects: dict[str, Inject]
    """Inject by id."""
    asked_with: dict[str, Trigger]
    """Question id → the trigger of a question asked with an inject."""
    question_roles: tuple[tuple[str, ...], ...]
    """The roles in play each question is addressed to (every role in play when it names none),
    in the scenario's order of questions."""


_kept: dict[int, tuple[weakref.ref[Scenario], ScenarioIndex]] = {}


def index_of(scenario: Scenario) -> ScenarioIndex:
    """The lookups of ``scenario`` (built on first use, then shared while the scenario lives)."""
    kept = _kept.get(id(scenario))
    if kept is not None and kept[0]() is scenario:
        return kept[1]
    index = _build(scenario)
    if len(_kept) >= KEPT:
        _kept.clear()
    _kept[id(scenario)] = (weakref.ref(scenario), index)
    return index


def _build(scenario: Scenario) -> ScenarioIndex:
    in_play = tuple(r.value for r in scenario.roles)
    return ScenarioIndex(
        in_play=in_play,
        actions={a.id: a for a in reversed(scenario.actions)},
        action_roles={a.id: frozenset(r.value for r in a.roles) for a in reversed(scenario.actions)},
        injects={i.id: i for i in reversed(scenario.injects)},
        asked_with={q.id: Trigger(inject=q.ask.with_) for q in scenario.questions
                    if q.ask.at is None and q.ask.trigger is None and q.ask.with_ is not None},
        question_roles=tuple(tuple(r.value for r in q.to if r.value in in_play) if q.to else in_play
                             for q in scenario.questions))
