"""An investigation's findings reach the role that investigated (as an inject), the incident record
and the after-action report: contributing factors, the harm traced, and what the logs could show."""

from __future__ import annotations

from pathlib import Path

from simulator.analysis.aar import analyse
from simulator.analysis.report import render_markdown
from simulator.engine.drill import Drill
from simulator.engine.events import Kind
from simulator.engine.findings import FINDINGS_INJECT
from simulator.engine.journal import read_journal, write_journal
from simulator.engine.runner import finish, new_drill
from simulator.engine.view import DrillView
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario, load_scenario


def factors(loaded: LoadedScenario) -> list[str]:
    """The contributing factors the scenario's investigation reveals."""
    spec = loaded.scenario.investigation
    assert spec is not None
    return spec.factors


def investigated(loaded: LoadedScenario, at: float, role: str = "ts") -> Drill:
    """A drill where ``role`` starts an investigation at sim time ``at`` and it runs to its findings."""
    drill = new_drill(loaded, 7)
    drill.advance_to(at)
    assert drill.submit(Command(role=role, action="investigate")).kind == Kind.COMMAND
    spec = loaded.scenario.investigation
    assert spec is not None
    drill.advance_to(at + spec.latency + 1)
    return drill


def test_the_investigating_role_gets_the_findings_as_an_inject_nobody_else_does(
        flagship: LoadedScenario) -> None:
    """The findings arrive as a ticket to T&S naming every contributing factor; ML's feed stays empty
    of it, while the incident record (the ``findings`` event) is shared."""
    drill = investigated(flagship, 60 * 60)
    inject = next(e for e in drill.events if e.kind == Kind.INJECT and e.payload["inject"] == FINDINGS_INJECT)
    assert inject.to == ("ts",)
    assert inject.payload["subject"] == "Investigation findings: 3 contributing factors"
    for factor in factors(flagship):
        assert f"- {factor}" in inject.payload["body"]
    assert "Logs complete" in inject.payload["body"]
    ts, ml = DrillView(seat="ts").extend(drill.events), DrillView(seat="ml").extend(drill.events)
    assert any(i.inject == FINDINGS_INJECT for i in ts.injects)
    assert not any(i.inject == FINDINGS_INJECT for i in ml.injects)
    assert ml.findings is not None and ml.findings["by"] == "ts", "the incident panel's record is shared"


def test_findings_after_the_retention_window_say_what_the_logs_can_no_longer_show() -> None:
    """Cache logs are kept 6 h: an investigation ending at 7:00 finds everything before 1:00 gone."""
    loaded = load_scenario("cross-user-data-exposure")
    drill = investigated(loaded, 6 * 3600)
    found = next(e for e in drill.events if e.kind == Kind.FINDINGS)
    assert found.payload["logs"].startswith("partial")
    assert found.payload["logs_from"] == found.t - 6 * 3600
    body = next(e.payload["body"] for e in drill.events if e.kind == Kind.INJECT
                and e.payload["inject"] == FINDINGS_INJECT)
    assert "Logs partial: request logs are kept 6h, so everything before 1:00:00 is gone" in body


def test_the_report_lists_the_findings(flagship: LoadedScenario, tmp_path: Path) -> None:
    """The after-action report has an "Investigation findings" section with each factor and the logs."""
    drill = investigated(flagship, 60 * 60)
    drill.run_to_end()
    finish(drill, flagship, "human")
    path = tmp_path / "drill.jsonl"
    write_journal(path, drill.header("human"), drill.events)
    md = render_markdown(analyse(read_journal(path), flagship, path))
    section = md.split("## Investigation findings")[1].split("## Improvement plan")[0]
    assert "### Findings at 1:40:00 (ts)" in section
    for factor in factors(flagship):
        assert f"- {factor}" in section
    assert "Logs complete" in section


def test_a_drill_without_an_investigation_says_so_in_the_report(flagship: LoadedScenario,
                                                                tmp_path: Path) -> None:
    """No investigation: the report says the contributing factors were never established."""
    drill = new_drill(flagship, 7)
    drill.run_to_end()
    finish(drill, flagship, "idle")
    path = tmp_path / "idle.jsonl"
    write_journal(path, drill.header("idle"), drill.events)
    md = render_markdown(analyse(read_journal(path), flagship, path))
    assert "No investigation completed: the contributing factors were never established." in md
