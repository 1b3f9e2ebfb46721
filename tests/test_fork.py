"""Forks: a journal's decisions up to T, then new ones — the past is the parent's, event for event."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from simulator.engine.fork import ForkError, before, check_parent, fork, fork_time, load_fork
from simulator.engine.journal import ForkPoint, read_journal, write_journal
from simulator.engine.policies import Textbook
from simulator.engine.replay import replay
from simulator.engine.runner import run_named, run_policy
from simulator.engine.view import DrillView
from simulator.format.loader import LoadedScenario
from tests.conftest import TtxInProcess
from tui.screens.briefing import so_far_markdown


def ttx(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the ``ttx`` command line as a user would: a real process (forks' other tests use
    ``cli``, the same command without starting Python again)."""
    return subprocess.run([sys.executable, "-m", "simulator.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def idle_journal(tmp_path: Path) -> Path:
    """A do-nothing run of the flagship on seed 3, as ``ttx run --policy idle --journal`` writes it."""
    path = tmp_path / "idle.jsonl"
    run_named("jailbreak-wave", "idle", 3, path)
    return path


def test_a_fork_of_a_bot_journal_has_the_parents_events_before_t_byte_for_byte_then_the_new_policys(
        idle_journal: Path, flagship: LoadedScenario) -> None:
    """Forked at 0:45 and played on by the textbook bot: every event before 0:45 is the parent's JSON
    line; after it the textbook's decisions appear, and less harm gets out than doing nothing."""
    parent = read_journal(idle_journal)
    drill, loaded = load_fork(idle_journal, "45m")
    run = run_policy(loaded, Textbook(loaded.scenario), drill=drill)
    mine = [e.to_json() for e in before(run.drill.events, 2700.0)]
    assert mine == [e.to_json() for e in before(parent.events, 2700.0)] and len(mine) > 50
    assert any(e.kind == "command" and e.t >= 2700.0 for e in run.drill.events)
    idle_harm = next(e.payload["harm_volume"] for e in parent.events if e.kind == "result")
    assert run.result.harm_volume < idle_harm
    header = run.drill.header("textbook")
    assert header["fork"]["parent"] == "idle.jsonl" and header["fork"]["at"] == 2700.0
    assert header["seed"] == 3


def test_forking_at_every_inject_of_the_flagship_and_running_textbook_never_crashes(tmp_path: Path) -> None:
    """Each inject the flagship fires is a fork point; the textbook bot plays every branch to the end,
    and the inject forked before fires again in the branch."""
    path = tmp_path / "textbook.jsonl"
    run_named("jailbreak-wave", "textbook", 7, path)
    journal = read_journal(path)
    injects = [str(e.payload["inject"]) for e in journal.events if e.kind == "inject"]
    assert len(injects) >= 5
    for inject in injects:
        at = fork_time(journal, inject)
        drill, loaded = load_fork(path, inject)
        run = run_policy(loaded, Textbook(loaded.scenario), drill=drill)
        assert run.drill.finished and run.result.score > 0
        assert any(e.kind == "inject" and e.payload["inject"] == inject and e.t >= at
                   for e in run.drill.events), inject


def test_a_fork_replays_and_its_parent_is_checked_when_it_is_beside_it(idle_journal: Path) -> None:
    """``ttx replay`` of a fork matches and says its events before T match the parent; an edited parent
    is caught."""
    fork_path = idle_journal.with_name("fork.jsonl")
    out = ttx("run", "--from", str(idle_journal), "--at", "45m", "--journal", str(fork_path),
              cwd=idle_journal.parent)
    assert out.returncode == 0, out.stderr
    journal = read_journal(fork_path)
    loaded_run = replay(journal, load_fork(idle_journal, "45m")[1])
    assert loaded_run.matches
    shown = ttx("replay", str(fork_path), cwd=idle_journal.parent)
    assert shown.returncode == 0 and "fork of idle.jsonl at 0:45:00" in shown.stdout
    assert "match the parent" in check_parent(journal, fork_path)

    idle_journal.write_text(idle_journal.read_text().replace('"seed":3', '"seed":4', 1))
    with pytest.raises(ForkError, match="changed since the fork"):
        check_parent(journal, fork_path)
    assert ttx("replay", str(fork_path), cwd=idle_journal.parent).returncode == 1


def test_a_fork_of_a_fork_records_the_whole_chain(idle_journal: Path, cli: TtxInProcess) -> None:
    """The grandchild's header names its parent and, under ``chain``, the grandparent and its T."""
    child = idle_journal.with_name("child.jsonl")
    assert cli("run", "--from", str(idle_journal), "--at", "30m", "--journal", str(child),
               cwd=idle_journal.parent).returncode == 0
    drill, _ = load_fork(child, "1h")
    assert drill.fork == ForkPoint("child.jsonl", drill.fork.parent_sha256 if drill.fork else "", 3600.0,
                                   ({"parent": "idle.jsonl", "at": 1800.0,
                                     "parent_sha256": read_journal(child).header["fork"]["parent_sha256"]},))


def test_bad_fork_points_say_what_the_journal_offers(idle_journal: Path, cli: TtxInProcess) -> None:
    """Past the end, an unknown inject, an unknown seq, no --at: one line each, exit 2, nothing written."""
    cases = {("--at", "9h"): "past the journal's end (4:00:00)",
             ("--at", "nonsense"): "an inject id of the journal",
             ("--at", "#99999"): "no event #99999",
             (): "--from needs --at"}
    for extra, expected in cases.items():
        out = cli("run", "--from", str(idle_journal), *extra, "--journal", "x.jsonl", cwd=idle_journal.parent)
        assert out.returncode == 2 and out.stderr.startswith("ttx run: error: ") and expected in out.stderr
        assert not (idle_journal.parent / "x.jsonl").exists()
    not_a_journal = idle_journal.with_name("notes.txt")
    not_a_journal.write_text("hello\n")
    out = cli("run", "--from", str(not_a_journal), "--at", "1h", cwd=idle_journal.parent)
    assert out.returncode == 2 and "not a ttx journal" in out.stderr


def test_a_changed_scenario_is_refused_unless_insisted_on(idle_journal: Path, flagship: LoadedScenario,
                                                         tmp_path: Path) -> None:
    """A journal whose scenario file changed since (sha256 differs) is not forked silently; --scenario
    FILE insists."""
    edited = tmp_path / "jailbreak-wave.yaml"
    edited.write_text(Path(flagship.path).read_text() + "\n# edited\n")
    journal = read_journal(idle_journal)
    journal.header["scenario_source"] = str(edited)
    moved = tmp_path / "moved.jsonl"
    write_journal(moved, journal.header, journal.events)
    with pytest.raises(ForkError, match="sha256 differs"):
        load_fork(moved, "45m")
    drill, loaded = load_fork(moved, "45m", scenario=str(edited))
    assert loaded.path == str(edited) and drill.now == 2700.0
    with pytest.raises(ForkError, match="runs from 0:00:00"):
        fork(journal, loaded, -1.0, moved)


async def test_a_hosted_fork_gives_joining_players_the_past_and_runs_on_from_t(
        idle_journal: Path, tmp_path: Path) -> None:
    """``ttx host --from``: a player who joins sees the injects before T; the facilitator starts the clock
    at T; the branch's journal resumes after a crash like any team drill."""
    from simulator.team.remote import RemoteSession
    from simulator.team.server import DrillServer

    drill, loaded = load_fork(idle_journal, "45m")
    journal = tmp_path / "team-fork.jsonl"
    server = DrillServer.host(loaded, journal, code="K7Q2MD", facilitator_token="white-cell", speed=60.0,
                              drill=drill)
    port = await server.start("127.0.0.1", 0)
    url = f"ws://127.0.0.1:{port}"
    ic = await RemoteSession.open(url, name="Dana", role="ic", code="K7Q2MD", timeout=5.0)
    fac = await RemoteSession.open(url, name="Lee", facilitator_token="white-cell", timeout=5.0)
    try:
        assert ic.view.injects and all(i.t < 2700.0 for i in ic.view.injects), "the past, as the parent's"
        assert fac.clock.now() == 2700.0
        await fac.start()
        await fac.wait_until(lambda s: s.view.now > 2700.0)
    finally:
        await ic.close()
        await fac.close()
        await server.stop()
    assert read_journal(journal).header["fork"]["parent"] == "idle.jsonl"
    resumed = DrillServer.resume(journal)
    assert resumed.started and resumed.drill.now > 2700.0
    await resumed.stop()


def test_the_report_of_a_fork_puts_the_branch_beside_its_parent(idle_journal: Path,
                                                                cli: TtxInProcess) -> None:
    """``ttx report`` of a fork: both scores and times, both harm curves from T on (HTML), and what was
    decided differently; without the parent beside it the report says so instead."""
    fork_path = idle_journal.with_name("fork.jsonl")
    assert cli("run", "--from", str(idle_journal), "--at", "45m", "--journal", str(fork_path),
               cwd=idle_journal.parent).returncode == 0
    md = cli("report", str(fork_path), cwd=idle_journal.parent)
    assert md.returncode == 0, md.stderr
    section = md.stdout.split("## This branch vs the original from 0:45:00", 1)[1].split("\n## ", 1)[0]
    assert "| score / 100 | " in section and "| the original (idle.jsonl) |" in section
    assert "- 0:45:00 ic: declare_incident" in section, "the branch declared; the original never did"
    html = cli("report", str(fork_path), "-o", "fork.html", cwd=idle_journal.parent)
    assert html.returncode == 0
    page = (idle_journal.parent / "fork.html").read_text()
    assert 'id="chart-branch"' in page and "<svg" in page.split('id="chart-branch"', 1)[1][:200]

    idle_journal.unlink()
    alone = cli("report", str(fork_path), cwd=idle_journal.parent)
    assert alone.returncode == 0 and "could not be read beside it" in alone.stdout
    assert "This branch vs the original" not in alone.stdout


def test_at_without_from_is_a_usage_error_not_ignored(tmp_path: Path, cli: TtxInProcess) -> None:
    """``ttx run SCENARIO --at 10m`` would silently run the whole drill; it says --at needs --from."""
    out = cli("run", "jailbreak-wave", "--at", "10m", cwd=tmp_path)
    assert out.returncode == 2 and "--at and --scenario go with --from JOURNAL" in out.stderr


def test_a_forks_briefing_names_its_alerts_by_title_not_by_signal_id() -> None:
    """"Alerts: user_reports at 0:26:00" showed the scenario file's id; the briefing of what the
    branch knows so far shows the alert's title, as the dashboard does."""
    run = run_named("jailbreak-wave", "idle", 7)
    view = DrillView(seat=None)
    view.extend([e for e in run.drill.events if e.t < 3600])
    so_far = so_far_markdown(view, ForkPoint("parent.jsonl", "sha256:0", 3600.0))
    assert "- **Alerts**: User reports at 0:26:00\n" in so_far
