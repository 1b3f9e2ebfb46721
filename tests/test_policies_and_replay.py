"""Bots and replay: the textbook team beats doing nothing, and every journal re-derives its result."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.cli.main import main
from simulator.engine.events import Kind
from simulator.engine.intent import Intent
from simulator.engine.journal import read_journal, write_journal
from simulator.engine.policies import Textbook, load_policy
from simulator.engine.replay import load_journal_scenario, replay
from simulator.engine.runner import finish, new_drill, run_named, run_policy
from simulator.engine.view import DrillView
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario, load_scenario
from simulator.format.yamlsafe import FileProblems
from tests.conftest import end_drill_through_hot_wash

SEEDS = range(6)


@pytest.mark.parametrize("seed", SEEDS)
def test_textbook_beats_idle_on_the_flagship(seed: int) -> None:
    idle = run_named("jailbreak-wave", "idle", seed).result
    textbook = run_named("jailbreak-wave", "textbook", seed).result
    assert idle.time_to_contain is None
    assert textbook.time_to_contain is not None
    assert textbook.harm_volume < 0.5 * idle.harm_volume
    assert textbook.score > idle.score + 30


def test_replay_of_a_journal_reproduces_the_result(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    original = run_named("jailbreak-wave", "textbook", 5, journal=path).result
    journal, loaded = load_journal_scenario(path)
    report = replay(journal, loaded)
    assert report.matches, report.first_difference
    assert report.replayed.to_dict() == original.to_dict()


def test_a_command_after_the_end_leaves_the_journal_replayable(tmp_path: Path,
                                                               flagship: LoadedScenario) -> None:
    """Ending a drill twice (or acting after the end) is refused without journaling anything after the result.

    The late refusal used to land after the ``result`` event, and replay then disagreed with the journal.
    """
    drill = new_drill(flagship, 3)
    drill.advance_to(600)
    end = Command(role="facilitator", action="end_drill")
    end_drill_through_hot_wash(drill)
    finish(drill, flagship, "human")
    journaled = list(drill.events)
    again = drill.submit(end)
    late = drill.submit(Command(role="ic", action="declare_incident"))
    assert again.kind == late.kind == Kind.REFUSED
    assert late.payload["reason"] == "the drill has ended"
    assert drill.events == journaled and drill.events[-1].kind == Kind.RESULT
    write_journal(tmp_path / "run.jsonl", drill.header("human"), drill.events)
    assert replay(read_journal(tmp_path / "run.jsonl"), flagship).matches


def test_replay_notices_a_tampered_journal(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    run_named("jailbreak-wave", "textbook", 5, journal=path)
    lines = path.read_text().splitlines()
    harm = next(i for i, line in enumerate(lines) if '"kind":"harm"' in line)
    lines[harm] = lines[harm].replace('"count":', '"count":1', 1)
    path.write_text("\n".join(lines) + "\n")
    journal, loaded = load_journal_scenario(path)
    report = replay(journal, loaded)
    assert not report.matches
    assert "differs" in (report.first_difference or "")


@pytest.mark.parametrize("why, matches", [("never contained", True), ("never contained: made up", False)])
def test_a_journal_from_before_the_containment_reason_still_replays(tmp_path: Path, why: str,
                                                                    matches: bool) -> None:
    """An idle run recorded before the reason was given says only "never contained": it replays as it
    did (the rest of the result is still compared); any other reason that is not the engine's is a
    difference."""
    path = tmp_path / "idle.jsonl"
    run_named("jailbreak-wave", "idle", 5, journal=path)
    new = "never contained: harm was never below the threshold"
    text = path.read_text()
    assert text.count(f'"why":"{new}"') == 1
    path.write_text(text.replace(f'"why":"{new}"', f'"why":"{why}"'))
    journal, loaded = load_journal_scenario(path)
    assert replay(journal, loaded).matches is matches


def test_journal_header_records_scenario_hash_seed_and_version(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    run_named("jailbreak-wave", "idle", 9, journal=path)
    header = read_journal(path).header
    assert header["scenario"] == "jailbreak-wave" and header["seed"] == 9
    assert header["scenario_hash"].startswith("sha256:") and header["version"]


SCRIPT = """\
name: fast-kill-switch
decisions:
  - at: 20m
    role: ic
    action: declare_incident
  - at: 21m
    role: ml
    action: take-offline
"""


def test_a_scripted_policy_plays_its_decisions(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(SCRIPT)
    run = run_named("jailbreak-wave", str(path), 3)
    assert run.result.policy == "fast-kill-switch"
    assert run.result.time_to_detect == 20 * 60
    assert run.drill.mitigations[0].action.id == "take-offline"
    assert run.result.collateral > 0.8


@pytest.mark.parametrize(("broken", "expected"), [
    (SCRIPT.replace("  - at: 20m", "  - at: 20"),
     "3:9: at: expected a duration with a unit like '20s' or '20m', found the bare number 20"),
    (SCRIPT.replace("action: take-offline", "action: take-ofline"),
     "8:13: action: 'jailbreak-wave' has no action 'take-ofline'; did you mean 'take-offline'?"),
    (SCRIPT.replace("    role: ml", "    role: intern"),
     "7:11: role: expected 'ic', 'ml', 'ts', 'comms' or 'legal', found 'intern'"),
])
def test_a_bad_scripted_policy_gets_located_errors(tmp_path: Path, flagship: LoadedScenario, broken: str,
                                                   expected: str) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(broken)
    with pytest.raises(FileProblems) as caught:
        load_policy(str(path), flagship.scenario)
    assert [str(p) for p in caught.value.problems] == [f"{path}:{expected}"]


def test_an_auto_approving_policy_approves_in_the_instant_the_request_appears() -> None:
    """The textbook team approves every request when it appears; it used to wait for the next tick
    (up to 10–15 minutes of extra harm where the tick is that long)."""
    for scenario in ("jailbreak-wave", "cross-user-data-exposure", "sycophancy-drift"):
        events = run_named(scenario, "textbook").drill.events
        asked = {e.payload["request"]: e.t for e in events if e.kind == Kind.APPROVAL_REQUESTED}
        granted = {e.payload["request"]: e.t for e in events if e.kind == Kind.APPROVAL_GRANTED}
        assert asked, f"{scenario}: the textbook team asks for an approval"
        assert granted == asked


def test_a_scripted_policy_gets_schema_and_reference_errors_in_one_pass(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`ttx run --policy` lists a misspelt action with the schema error elsewhere, not after it is fixed."""
    path = tmp_path / "policy.yaml"
    path.write_text(SCRIPT.replace("  - at: 20m", "  - at: 10:05").replace("action: take-offline",
                                                                           "action: take-ofline"))
    assert main(["run", "jailbreak-wave", "--policy", str(path)]) == 2
    located = [line for line in capsys.readouterr().err.splitlines() if line.startswith(str(path))]
    assert [line.removeprefix(f"{path}:").split(": ")[0] for line in located] == ["3:9", "8:13"]
    assert "write 10m5s" in located[0] and "did you mean 'take-offline'?" in located[1]


def test_a_bots_view_without_a_timeline_folds_the_same_state(flagship: LoadedScenario) -> None:
    """The headless runner's view writes no timeline text (no bot reads it); everything else it
    folds, including the open questions the bot answers, is what a seat with a timeline sees."""
    from dataclasses import fields

    from simulator.engine.view import DrillView

    run = run_policy(flagship, Textbook(flagship.scenario), 9)
    bare = DrillView(seat=None, keep_timeline=False)
    full = DrillView(seat=None)
    for event in run.drill.events:
        bare.apply(event)
        full.apply(event)
        assert [q.question for q in bare.open_questions] == [q.question for q in full.open_questions]
    assert bare.timeline == [] and full.timeline
    same = [f.name for f in fields(DrillView) if f.name not in ("timeline", "keep_timeline")]
    assert {n: getattr(bare, n) for n in same} == {n: getattr(full, n) for n in same}


class _AskedEveryRound(Textbook):
    """The textbook team with the given quiet kinds (none: asked again after every command it
    takes), counting its turns."""

    def __init__(self, loaded: LoadedScenario, quiet: frozenset[Kind]) -> None:
        super().__init__(loaded.scenario)
        self.quiet_after = quiet
        self.turns = 0

    def decide(self, view: DrillView) -> list[Intent]:
        self.turns += 1
        return super().decide(view)


@pytest.mark.parametrize("scenario", ["jailbreak-wave", "cross-user-data-exposure", "sycophancy-drift"])
@pytest.mark.parametrize("journal", [True, False])
def test_not_asking_the_textbook_team_again_after_quiet_news_changes_no_journal(
        scenario: str, journal: bool) -> None:
    """Its quiet kinds only take away reasons to act: the turns skipped would have found nothing."""
    loaded = load_scenario(scenario)
    for seed in range(2):
        always = _AskedEveryRound(loaded, frozenset())
        quiet = _AskedEveryRound(loaded, Textbook.quiet_after)
        asked = run_policy(loaded, always, seed, journal=journal)
        skipped = run_policy(loaded, quiet, seed, journal=journal)
        assert [e.to_json() for e in skipped.drill.events] == [e.to_json() for e in asked.drill.events]
        assert quiet.turns < always.turns
