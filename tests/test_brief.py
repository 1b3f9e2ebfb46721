"""A built-in's briefing is read without validating it (``ttx play`` draws it before pydantic loads):
what it shows must be exactly what the validated scenario says, and anything unusual falls back to
validating first."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.format.brief import Brief, brief_in, brief_of, builtin_brief, builtin_dir
from simulator.format.loader import builtin_ids, load_scenario
from simulator.format.taxonomy import Role
from tui.screens.briefing import briefing_markdown


@pytest.mark.parametrize("scenario_id", builtin_ids())
def test_every_built_in_briefs_as_its_validated_scenario(scenario_id: str) -> None:
    """Same fields, so the same briefing page, whether read quickly or after the full check."""
    briefed = builtin_brief(scenario_id)
    assert briefed is not None
    path, brief = briefed
    loaded = load_scenario(scenario_id)
    assert path == builtin_dir() / f"{scenario_id}.yaml" and Path(loaded.path) == path
    assert brief == brief_of(loaded.scenario)
    for seat in (None, "ic"):
        assert briefing_markdown(brief, seat) == briefing_markdown(loaded.scenario, seat)


def test_a_scenario_file_is_validated_before_anything_is_shown(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A path (even one named like a built-in) and an unknown id get no quick brief: the loader checks
    them first and prints their problems, as before."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "jailbreak-wave").write_text((builtin_dir() / "jailbreak-wave.yaml").read_text())
    assert builtin_brief("jailbreak-wave") is None
    assert builtin_brief("no-such-scenario") is None
    assert builtin_brief(str(builtin_dir() / "jailbreak-wave.yaml")) is None


GOOD = {"title": "T", "summary": "S", "briefing": "B", "roles": ["ic", "ml"], "duration": "1h30m",
        "objectives": ["o"], "questions": [{"id": "q1"}]}


def test_the_brief_reads_the_plain_fields() -> None:
    assert brief_in(GOOD) == Brief("T", "S", "B", (Role.IC, Role.ML), ("o",), 5400.0, ("q1",))
    assert brief_in({k: v for k, v in GOOD.items() if k not in ("objectives", "questions")}) == Brief(
        "T", "S", "B", (Role.IC, Role.ML), (), 5400.0, ())


@pytest.mark.parametrize("change", [
    {"title": 3}, {"roles": []}, {"roles": ["nobody"]}, {"roles": "ic"}, {"duration": 3600},
    {"duration": "10:05"}, {"objectives": "o"}, {"questions": [{"prompt": "no id"}]}, {"briefing": None},
])
def test_anything_validation_might_read_otherwise_gives_no_brief(change: dict[str, object]) -> None:
    """A field of another type or form than the plain one: validate first (it may coerce or refuse)."""
    assert brief_in({**GOOD, **change}) is None
