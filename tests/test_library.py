"""The built-in scenario library: every drill is complete, lint-clean, balanced and reproducible."""

from __future__ import annotations

import difflib
import json

import pytest

from simulator.engine.runner import run_named
from simulator.format.loader import builtin_ids, lint_scenario, load_scenario
from simulator.format.templating import placeholders
from tests import golden

SCENARIOS = builtin_ids()
BALANCE_SEEDS = range(5)


def test_the_library_has_the_flagship_and_at_least_six_more() -> None:
    assert "jailbreak-wave" in SCENARIOS
    assert len(SCENARIOS) >= 7


@pytest.mark.parametrize("sid", SCENARIOS)
def test_every_builtin_validates_with_no_lint_warnings(sid: str) -> None:
    _, warnings = lint_scenario(sid)
    assert [str(w) for w in warnings] == []


@pytest.mark.parametrize("sid", SCENARIOS)
def test_every_builtin_is_a_complete_drill(sid: str) -> None:
    """Briefing and notes, ≥12 MSEL injects on ≥4 channels, private injects for ≥3 roles,
    deadlines, ≥2 contingencies, a red herring, generated personas, redacted samples, labelled
    assumptions and a catalogue with both fast-but-fading and slow-but-durable options."""
    s = load_scenario(sid).scenario
    assert s.briefing.strip() and s.facilitator_notes.strip() and s.based_on and s.assumptions
    assert len(s.injects) >= 12
    assert len({i.channel for i in s.injects}) >= 4
    solo = {i.to[0] for i in s.injects if len(i.to) == 1}
    assert len(solo) >= 3, f"role-private injects reach only {solo}"
    expectations = [e for i in s.injects for e in i.expects]
    assert expectations and all(e.within is not None for e in expectations)
    assert sum(1 for i in s.injects if i.contingency) >= 2
    assert any(i.red_herring for i in s.injects)
    used = {p for i in s.injects for text in (i.subject, i.body, i.sender.name, i.sender.title)
            for p in placeholders(text)}
    assert "sample" in used and used & {"name", "handle", "ticket"}
    assert {a.stage for a in s.actions} >= {1, 3}
    assert any(e.half_life is not None for a in s.actions for e in a.effects), "nothing fades"
    assert any(a.blocked_fraction > 0 or any(e.traffic_multiplier == 0 for e in a.effects)
               for a in s.actions), "no action costs anything"


@pytest.mark.parametrize("seed", BALANCE_SEEDS)
@pytest.mark.parametrize("sid", SCENARIOS)
def test_textbook_beats_idle_by_a_clear_margin(sid: str, seed: int) -> None:
    idle = run_named(sid, "idle", seed).result
    textbook = run_named(sid, "textbook", seed).result
    assert idle.time_to_contain is None, "doing nothing must not contain"
    assert textbook.time_to_contain is not None, "the textbook team must contain"
    assert textbook.harm_volume < 0.5 * idle.harm_volume
    assert textbook.score > idle.score + 30


@pytest.mark.parametrize("sid", SCENARIOS)
def test_golden_journal_is_unchanged(sid: str) -> None:
    """The textbook run on the scenario's seed reproduces the saved journal byte for byte."""
    path = golden.golden_path(sid)
    assert path.is_file(), f"no golden journal for {sid}; create it with `{golden.UPDATE_COMMAND}`"
    expected = path.read_text(encoding="utf-8")
    produced = golden.journal_text(sid)
    if produced != expected:
        diff = "".join(list(difflib.unified_diff(
            expected.splitlines(keepends=True), produced.splitlines(keepends=True),
            fromfile=f"tests/golden/{sid}.jsonl", tofile="this run", n=0))[:12])
        recorded = json.loads(golden.VERSIONS.read_text()) if golden.VERSIONS.is_file() else {}
        versions = ("" if recorded == golden.library_versions() else
                    f"\n(goldens were recorded with {recorded}; this machine has "
                    f"{golden.library_versions()})")
        pytest.fail(f"{sid}: the textbook run no longer matches its golden journal. If the change is "
                    f"intended, regenerate with `{golden.UPDATE_COMMAND}` and commit the result."
                    f"{versions}\n{diff}")


def test_golden_headers_are_machine_independent() -> None:
    for sid in SCENARIOS:
        header = json.loads(golden.golden_path(sid).read_text().splitlines()[0])
        assert header["scenario_source"] == f"builtin:{sid}"
        assert header["policy"] == "textbook" and header["seed"] == golden.golden_seed(sid)


def test_ttx_list_shows_every_builtin_with_its_one_line_summary() -> None:
    from tests.test_cli import ttx

    out = ttx("list")
    assert out.returncode == 0
    for sid in SCENARIOS:
        line = next((row for row in out.stdout.splitlines() if row.startswith(sid + " ")), "")
        assert load_scenario(sid).scenario.summary in line, sid


def test_validate_lint_of_the_whole_library_prints_only_ok() -> None:
    from tests.test_cli import ttx

    files = [f"scenarios/{sid}.yaml" for sid in SCENARIOS]
    out = ttx("validate", "--lint", *files)
    assert out.returncode == 0
    assert out.stdout.splitlines() == [f"{f}: ok" for f in files]


def test_a_changed_run_fails_with_the_regenerate_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(golden, "journal_text", lambda sid: "{}\n")
    with pytest.raises(pytest.fail.Exception) as caught:
        test_golden_journal_is_unchanged("jailbreak-wave")
    assert golden.UPDATE_COMMAND in str(caught.value)
