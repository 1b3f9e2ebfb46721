"""What a scenario's briefing shows, read from a built-in scenario file without validating it.

``ttx play`` draws the briefing before the scenario is validated when the scenario is one of the
built-ins (which the test suite validates): importing pydantic and the scenario models and
checking the file cost about a fifth of the launch, and they now come after the first frame,
with the engine. A scenario given as a file is validated first, as before, so its problems are
printed before any screen opens. Nothing here imports pydantic; ``tests/test_brief.py`` checks that
every built-in's :class:`Brief` is the validated scenario's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

import scenarios
from simulator.format.hms import seconds_in
from simulator.format.taxonomy import Role

if TYPE_CHECKING:
    from simulator.format.scenario import Scenario

_LOADER: type[yaml.SafeLoader] | type[yaml.CSafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Brief:
    """The parts of a scenario its briefing shows."""

    title: str
    summary: str
    briefing: str
    roles: tuple[Role, ...]
    objectives: tuple[str, ...]
    duration: float
    """Simulated length of the drill, seconds."""
    questions: tuple[str, ...]
    """Ids of the discussion questions (the briefing says how questions work when there are any)."""


def builtin_dir() -> Path:
    """Folder of the built-in scenario library (the ``scenarios`` package; read as a path, not through
    ``importlib.resources``, whose import the briefing would wait for)."""
    assert scenarios.__file__ is not None, "the scenarios package is installed as files"
    return Path(scenarios.__file__).parent


def brief_of(scenario: Scenario) -> Brief:
    """The brief of a validated scenario."""
    return Brief(scenario.title, scenario.summary, scenario.briefing, tuple(scenario.roles),
                 tuple(scenario.objectives), scenario.duration, tuple(q.id for q in scenario.questions))


def builtin_brief(name: str) -> tuple[Path, Brief] | None:
    """The built-in scenario ``name`` names and its brief, read without validating it.

    ``None`` when ``name`` is an existing file (a user's scenario: validated before anything is
    shown), is not a built-in id, or its briefing fields are not plainly what validation would
    make of them; the caller then loads and validates the scenario first.
    """
    if Path(name).exists():
        return None
    path = builtin_dir() / f"{name}.yaml"
    if not path.is_file():
        return None
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    brief = brief_in(data) if isinstance(data, dict) else None
    return (path, brief) if brief is not None else None


def brief_in(data: dict[str, Any]) -> Brief | None:
    """The brief in a scenario document's top level, or ``None`` for any field of another type."""
    texts = [data.get(field) for field in ("title", "summary", "briefing")]
    roles, objectives = data.get("roles"), data.get("objectives", [])
    duration = data.get("duration")
    questions = data.get("questions", [])
    role_values = {role.value for role in Role}
    if (not all(isinstance(text, str) for text in texts)
            or not isinstance(roles, list) or not roles
            or not all(isinstance(role, str) and role in role_values for role in roles)
            or not isinstance(objectives, list) or not all(isinstance(o, str) for o in objectives)
            or not isinstance(duration, str) or not isinstance(questions, list)
            or not all(isinstance(q, dict) and isinstance(q.get("id"), str) for q in questions)):
        return None
    seconds = seconds_in(duration)
    if seconds is None:
        return None
    title, summary, briefing = (str(text) for text in texts)
    return Brief(title, summary, briefing, tuple(Role(role) for role in roles), tuple(objectives),
                 seconds, tuple(str(q["id"]) for q in questions))
