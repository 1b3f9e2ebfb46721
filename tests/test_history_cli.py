"""``ttx history``, ``ttx compare``, and recording from ``ttx run`` and ``ttx host``, as a lead sees them."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from simulator.analysis.history import open_history, sha256
from simulator.cli import main
from simulator.engine.fork import load_fork
from simulator.engine.journal import write_journal
from simulator.engine.policies import Textbook
from simulator.engine.runner import run_named, run_policy
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario, load_scenario
from simulator.team.remote import RemoteSession
from tests.browser import chromium_dom
from tests.conftest import end_through_hot_wash
from tests.drills import journal
from tests.test_server_crash import CODE, Host

EXTERNAL = re.compile(r"""(src|href|action)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//|@import""",
                      re.I)


@pytest.fixture(scope="module")
def drills(tmp_path_factory: pytest.TempPathFactory, flagship: LoadedScenario) -> dict[str, Path]:
    """A slow team's January drill, its faster March drill, and a textbook bot run (all the flagship)."""
    home = tmp_path_factory.mktemp("drills")
    return {
        "slow": journal(flagship, home / "slow.jsonl", policy="hesitant", people=True,
                        played=datetime(2026, 1, 10, 9, tzinfo=UTC)),
        "fast": journal(flagship, home / "fast.jsonl", people=True,
                        played=datetime(2026, 3, 10, 9, tzinfo=UTC)),
        "bot": journal(flagship, home / "bot.jsonl"),
    }


def ttx(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``ttx ARGS`` in this process: exit status, stdout, stderr."""
    status = main(list(args))
    out = capsys.readouterr()
    return status, out.out, out.err


def added(capsys: pytest.CaptureFixture[str], drills: dict[str, Path]) -> dict[str, str]:
    """Add the slow and fast drills as team Red and the bot run; their ids by name."""
    assert ttx(capsys, "history", "add", "--team", "Red", str(drills["slow"]), str(drills["fast"]))[0] == 0
    assert ttx(capsys, "history", "add", str(drills["bot"]))[0] == 0
    return {name: sha256(path.read_bytes()) for name, path in drills.items()}


def test_an_empty_history_says_nothing_is_recorded_and_creates_no_file(capsys: pytest.CaptureFixture[str],
                                                                       private_history: Path) -> None:
    status, out, err = ttx(capsys, "history")
    assert status == 0 and out == ""
    assert "no drills recorded yet" in err and not private_history.exists()
    assert json.loads(ttx(capsys, "history", "--json")[1]) == []


def test_history_lists_date_team_scenario_score_detect_contain_and_harm_averted(
        capsys: pytest.CaptureFixture[str],
        drills: dict[str,
        Path]
) -> None:
    ids = added(capsys, drills)
    status, out, err = ttx(capsys, "history")
    lines = out.splitlines()
    assert status == 0
    assert lines[0].split() == ["id", "date", "team", "scenario", "score", "detect", "contain", "averted"]
    assert [line.split()[0] for line in lines[1:]] == [ids["slow"][:10], ids["fast"][:10], ids["bot"][:10]]
    assert "2026-01-10" in lines[1] and " Red " in lines[1] and "jailbreak-wave" in lines[1]
    assert "bot: textbook" in lines[3]
    assert err.startswith("3 drill(s) · history: ")


def test_history_filters_and_prints_json_and_csv(capsys: pytest.CaptureFixture[str], drills: dict[str,
                                                 Path]) -> None:
    ids = added(capsys, drills)
    rows = json.loads(ttx(capsys, "history", "--team", "red", "--since", "2026-02-01", "--json")[1])
    assert [r["id"] for r in rows] == [ids["fast"]] and rows[0]["played_at"] == "2026-03-10T09:00:00Z"
    table = list(csv.DictReader(io.StringIO(ttx(capsys, "history", "--policy", "people", "--csv")[1])))
    assert [r["id"] for r in table] == [ids["slow"], ids["fast"]]
    assert table[0]["team"] == "Red" and float(table[0]["score"]) < float(table[1]["score"])
    assert ttx(capsys, "history", "--limit", "1", "--json")[1].count('"id"') == 1


def test_adding_the_same_journal_again_changes_nothing(capsys: pytest.CaptureFixture[str], drills: dict[str,
                                                       Path]) -> None:
    added(capsys, drills)
    status, out, _ = ttx(capsys, "history", "add", str(drills["fast"]))
    assert status == 0 and "already recorded" in out
    assert len(json.loads(ttx(capsys, "history", "--json")[1])) == 3


def test_a_bad_journal_is_named_and_the_good_ones_are_still_added(capsys: pytest.CaptureFixture[str],
                                                                  drills: dict[str, Path],
                                                                  tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a journal\n")
    status, out, err = ttx(capsys, "history", "add", str(bad), str(drills["bot"]))
    assert status == 2 and "recorded" in out
    assert err.startswith(f"{bad}:1: not a ttx journal")
    assert err.splitlines()[-1] == "ttx history add: error: 1 of 2 journal(s) not recorded (above)"


def test_show_prints_every_figure_and_exports_its_report_and_journal(capsys: pytest.CaptureFixture[str],
                                                                     drills: dict[str, Path],
                                                                     tmp_path: Path) -> None:
    ids = added(capsys, drills)
    status, out, _ = ttx(capsys, "history", "show", ids["fast"][:6])
    assert status == 0 and out.startswith(f"drill {ids['fast']}")
    for words in ("time to escalate", "time to first update", "Score breakdown", "containment", "Per role",
                  "Areas for improvement", "team          Red"):
        assert words in out
    report, copy = tmp_path / "aar.html", tmp_path / "copy.jsonl"
    assert ttx(capsys, "history", "show", ids["fast"][:6], "-o", str(report), "--journal", str(copy))[0] == 0
    assert "<title>After-action report: Jailbreak wave</title>" in report.read_text()
    assert sha256(copy.read_bytes()) == ids["fast"]
    detail = json.loads(ttx(capsys, "history", "show", ids["fast"][:6], "--json")[1])
    assert {c["name"] for c in detail["components"]} >= {"containment", "harm", "detection"}


def test_an_unknown_id_or_a_bad_database_is_a_one_line_error(capsys: pytest.CaptureFixture[str],
                                                             drills: dict[str, Path], tmp_path: Path) -> None:
    added(capsys, drills)
    status, _, err = ttx(capsys, "history", "show", "ffffffff")
    assert status == 2 and err.startswith("ttx history show: error: no drill ffffffff in the history")
    status, _, err = ttx(capsys, "history", "--db", "mysql://x/y")
    assert status == 2 and err.strip().count("\n") == 0 and "not mysql" in err
    garbage = tmp_path / "broken.sqlite"
    garbage.write_bytes(b"junk" * 1000)
    status, _, err = ttx(capsys, "history", "--db", str(garbage))
    assert status == 2 and "is not a readable SQLite database" in err and err.count("\n") == 1


def test_remove_deletes_a_drill_but_not_its_journal_file(capsys: pytest.CaptureFixture[str], drills: dict[str,
                                                         Path]) -> None:
    ids = added(capsys, drills)
    status, out, _ = ttx(capsys, "history", "remove", ids["bot"][:8])
    assert status == 0 and out.startswith(f"removed {ids['bot'][:10]}")
    assert len(json.loads(ttx(capsys, "history", "--json")[1])) == 2 and drills["bot"].exists()


def test_compare_shows_two_drills_side_by_side_and_what_only_one_decided(capsys: pytest.CaptureFixture[str],
                                                                         drills: dict[str, Path]) -> None:
    """The slow team never blocked the prompts; the fast run did: a decision only B made."""
    ids = added(capsys, drills)
    status, out, _ = ttx(capsys, "compare", ids["slow"][:8], str(drills["fast"]))
    assert status == 0
    for title in ("Headline figures", "Score components (points)", "Expectations (MSEL)",
                  "Per role: first action and approvals", "Decisions only A made", "Decisions only B made",
                  "Decisions both made"):
        assert f"\n{title}\n" in out
    only_b = out.split("Decisions only B made")[1].split("Decisions both made")[0]
    assert "Block known jailbreak prompts" in only_b
    detect = next(line for line in out.splitlines() if line.strip().startswith("time to detect"))
    assert "1:10:00" in detect and "sooner" in detect and detect.rstrip().endswith("better")
    both = out.split("Decisions both made")[1]
    assert "Tighten the output filter threshold" in both


def test_compare_html_is_self_contained_with_both_harm_curves_on_one_chart(capsys: pytest.CaptureFixture[str],
                                                                           drills: dict[str, Path],
                                                                           tmp_path: Path) -> None:
    ids = added(capsys, drills)
    page = tmp_path / "compare.html"
    assert ttx(capsys, "compare", ids["slow"][:8], ids["fast"][:8], "-o", str(page))[0] == 0
    html = page.read_text()
    assert html.count("<svg") == 1 and 'id="chart-compare"' in html
    assert 'id="only_b"' in html and "status-better" in html
    assert not EXTERNAL.search(html) and "<script" not in html


def test_run_records_a_bot_run_only_when_asked(capsys: pytest.CaptureFixture[str],
                                               private_history: Path) -> None:
    assert ttx(capsys, "run", "jailbreak-wave", "--seed", "3")[0] == 0
    assert not private_history.exists()
    status, _, err = ttx(capsys, "run", "jailbreak-wave", "--seed", "3", "--record", "--team", "bots")
    assert status == 0 and "history: recorded" in err
    rows = json.loads(ttx(capsys, "history", "--json")[1])
    assert [(r["policy"], r["team"], r["source"], r["seed"]) for r in rows] == \
        [("textbook", "bots", "run", 3)]


def test_a_history_server_that_cannot_be_reached_fails_run_record_in_one_line(
        capsys: pytest.CaptureFixture[str]
) -> None:
    """The run's result is printed first; then the recording it asked for fails, once, with a reason."""
    status, out, err = ttx(capsys, "run", "jailbreak-wave", "--record", "--db", "postgresql://ttx@127.0.0.1:1/ttx")
    assert status == 2 and "score" in out
    assert err.startswith("ttx run: error: cannot connect to the history database postgresql+psycopg://ttx@")
    assert err.count("\n") == 1


def test_play_refuses_a_database_it_cannot_use_before_any_screen_opens() -> None:
    out = subprocess.run([sys.executable, "-m", "simulator.cli", "play", "--db", "mysql://db/ttx"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.startswith("ttx play: error: mysql://…: ttx keeps its history in SQLite or PostgreSQL")


def test_trends_print_each_metric_with_the_best_and_the_textbook_bot(capsys: pytest.CaptureFixture[str],
                                                                     drills: dict[str, Path]) -> None:
    added(capsys, drills)
    status, out, _ = ttx(capsys, "history", "trends", "--team", "Red", "--scenario", "jailbreak-wave")
    assert status == 0 and out.startswith("Trends: Jailbreak wave (jailbreak-wave), team Red: 2 drill(s)")
    score = next(line for line in out.splitlines() if line.strip().startswith("score"))
    textbook = run_named("jailbreak-wave", "textbook", 7).result.score
    assert f"{textbook:.1f}" in score  # the textbook bot on seed 7, and the fast run's score (it played it)
    assert "textbook bot: median of the textbook bot on the seed(s) these drills used (7)" in out


def branch_of(parent: Path, at: str, path: Path) -> Path:
    """A rewind of ``parent`` at ``at``, played on (by the textbook bot) and saved as people's drill,
    as ``w`` on the review saves one."""
    drill, loaded = load_fork(parent, at)
    run = run_policy(loaded, Textbook(loaded.scenario), drill=drill)
    write_journal(path, run.drill.header("human"), run.drill.events)
    return path


def test_a_branch_is_not_a_fresh_attempt_in_trends_or_compare(
        capsys: pytest.CaptureFixture[str], drills: dict[str, Path], tmp_path: Path) -> None:
    """The slow team rewound its drill at 0:45 and did better: trends used to count that as a third,
    improved attempt, and compare as an independent one. Trends leave it out (and say so) unless
    asked with --branches; compare says it is a branch of A."""
    ids = added(capsys, drills)
    branch = branch_of(drills["slow"], "45m", tmp_path / "branch.jsonl")
    assert ttx(capsys, "history", "add", "--team", "Red", str(branch))[0] == 0
    status, out, _ = ttx(capsys, "history")
    marked = [line for line in out.splitlines() if "↳" in line]
    assert status == 0 and len(marked) == 1 and marked[0].endswith(f"↳ branch of {ids['slow'][:10]}")
    status, out, _ = ttx(capsys, "history", "trends", "--team", "Red", "--scenario", "jailbreak-wave")
    assert status == 0 and out.startswith(
        "Trends: Jailbreak wave (jailbreak-wave), team Red: 2 drill(s) (1 branch(es) left out: rewinds, "
        "not fresh attempts; --branches counts them)\n")
    status, out, _ = ttx(capsys, "history", "trends", "--team", "Red", "--scenario", "jailbreak-wave",
                         "--branches")
    assert status == 0 and ": 3 drill(s)\n" in out
    status, out, _ = ttx(capsys, "compare", ids["slow"][:8], str(branch))
    assert status == 0
    assert "note: B is a branch of A at 0:45:00: the same drill up to then" in out


def test_the_csv_and_json_exports_name_the_drill_a_branch_was_forked_from(
        capsys: pytest.CaptureFixture[str], drills: dict[str, Path], tmp_path: Path) -> None:
    """The table ends a branch's line with "↳ branch of ID"; a spreadsheet made with --csv had no
    such column, so a rewind read as a fresh attempt there. Both exports carry the parent's full id
    (the CSV in its last column, empty for an original drill)."""
    ids = added(capsys, drills)
    branch = branch_of(drills["slow"], "45m", tmp_path / "branch.jsonl")
    assert ttx(capsys, "history", "add", "--team", "Red", str(branch))[0] == 0
    branch_id = sha256(branch.read_bytes())
    sheet = ttx(capsys, "history", "--team", "Red", "--csv")[1]
    assert sheet.splitlines()[0].endswith(",recorded_at,parent")
    parents = {r["id"]: r["parent"] for r in csv.DictReader(io.StringIO(sheet))}
    assert parents == {ids["slow"]: "", ids["fast"]: "", branch_id: ids["slow"]}
    rows = json.loads(ttx(capsys, "history", "--team", "Red", "--json")[1])
    assert {r["id"]: r["parent"] for r in rows} == {ids["slow"]: None, ids["fast"]: None,
                                                   branch_id: ids["slow"]}


def test_compare_does_not_call_a_component_that_was_not_counted_worse() -> None:
    """Discussion is not counted (weight 0) when no scored question was asked: "92.5 → 0.0 worse"
    compared a measure with the absence of one; the row now says "not counted" and gives no verdict."""
    from types import SimpleNamespace
    from typing import Any, cast

    from simulator.analysis.compare import Comparison, Side
    from simulator.engine.scoring import Component

    def side(name: str, part: Component) -> Side:
        aar = SimpleNamespace(result=SimpleNamespace(ordered=lambda: [part]))
        return Side(name, cast(Any, SimpleNamespace(aar=aar)), {})

    asked = Component("discussion", 0.9, 10.0, 92.5, "90% of answers right")
    unasked = Component("discussion", None, 0.0, 0.0, "no scored question was asked (not counted)")
    _, rows = Comparison(side("A", asked), side("B", unasked)).components()
    assert rows == [["discussion", "10", "92.5", "not counted", "", ""]]


def test_trends_need_one_scenario_and_some_drills(capsys: pytest.CaptureFixture[str], drills: dict[str, Path],
                                                  flagship: LoadedScenario, tmp_path: Path) -> None:
    status, _, err = ttx(capsys, "history", "trends", "--team", "Nobody")
    assert status == 2 and "no drills recorded yet" in err
    added(capsys, drills)
    other = journal(load_scenario("update-regression-abuse"), tmp_path / "other.jsonl", people=True)
    ttx(capsys, "history", "add", "--team", "Red", str(other))
    status, _, err = ttx(capsys, "history", "trends", "--team", "Red")
    assert status == 2 and "choose it with --scenario" in err


def test_trends_html_is_self_contained(capsys: pytest.CaptureFixture[str], drills: dict[str, Path],
                                       tmp_path: Path) -> None:
    added(capsys, drills)
    page = tmp_path / "trends.html"
    assert ttx(capsys, "history", "trends", "--team", "Red", "-o", str(page))[0] == 0
    html = page.read_text()
    assert html.count("<svg") == 1 and 'id="chart-trends"' in html and 'id="drills"' in html
    assert not EXTERNAL.search(html) and "<script" not in html


@pytest.mark.chromium  # skipped without Chromium outside CI, failed in CI (tests/tools.py)
def test_the_trend_chart_loads_in_headless_chromium(capsys: pytest.CaptureFixture[str], drills: dict[str,
                                                    Path], tmp_path: Path) -> None:
    """The trends page opens in a real browser: its chart, its summary and its drills, no failed request."""
    added(capsys, drills)
    page = tmp_path / "trends.html"
    assert ttx(capsys, "history", "trends", "--team", "Red", "-o", str(page))[0] == 0
    proc = chromium_dom(page, tmp_path / "profile")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "<title>Trends: Jailbreak wave (jailbreak-wave), team Red</title>" in dom
    assert dom.count("<svg") == 1 and dom.count("<section") == 3
    assert "time to detect" in dom and "textbook bot" in dom
    assert "net::ERR" not in proc.stderr and "Uncaught" not in proc.stderr


def test_play_host_and_run_offer_the_recording_options() -> None:
    for command, options in (("play", ("--team", "--no-history", "--db")),
                             ("host", ("--team", "--no-history", "--db")),
                             ("run", ("--record", "--team", "--db"))):
        out = subprocess.run([sys.executable, "-m", "simulator.cli", command, "--help"], capture_output=True,
                             text=True, timeout=60).stdout
        assert all(option in out for option in options), (command, out)


async def test_host_records_the_team_drill_when_it_ends(tmp_path: Path, private_history: Path) -> None:
    """``ttx host --team`` files the drill, its players and roles, once the facilitator ends it."""
    path = tmp_path / "team.jsonl"
    host = await Host.start("jailbreak-wave", "--port", "0", "--journal", str(path), "--code", CODE,
                            "--linger", "0.2", "--team", "Night shift", until="facilitator token:")
    assert host.token is not None
    fac = await RemoteSession.open(host.url, name="Lee", facilitator_token=host.token)
    dana = await RemoteSession.open(host.url, name="Dana", role="ic", code=CODE)
    try:
        await fac.start()
        await dana.submit(Command(role="ic", action="declare_incident", params={"commander": "ic"}))
        await end_through_hot_wash(fac)
        _, err = await asyncio.wait_for(host.proc.communicate(), 30)
    finally:
        await fac.close()
        await dana.close()
    assert host.proc.returncode == 0, err.decode()
    assert "history: recorded" in err.decode()
    with open_history(str(private_history), create=False) as history:
        [row] = history.drills()
    assert (row.team, row.mode, row.source) == ("Night shift", "team", "host")
    assert row.id == sha256(path.read_bytes())
    assert [(p.name, p.roles) for p in row.players] == [("Lee", ("facilitator",)), ("Dana", ("ic",))]
    assert row.time_to_detect is not None


async def test_host_interrupted_before_the_end_records_nothing_and_says_why(tmp_path: Path,
                                                                            private_history: Path) -> None:
    path = tmp_path / "team.jsonl"
    host = await Host.start("jailbreak-wave", "--port", "0", "--journal", str(path), "--code", CODE,
                            until="facilitator token:")
    assert host.token is not None
    lee = await RemoteSession.open(host.url, name="Lee", facilitator_token=host.token)
    await lee.close()  # the server is serving, so its signal handlers are in place
    host.proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(host.proc.communicate(), 30)
    assert "history: not recorded: the drill did not end" in err.decode()
    assert not private_history.exists()


LISTING_IMPORTS = """
import sys
from simulator.cli import main
main(["history"])
heavy = ("sqlalchemy", "numpy", "simpy", "textual", "faker", "pydantic", "yaml", "matplotlib", "tui")
loaded = {m.split(".")[0] for m in sys.modules} & set(heavy)
core = {m for m in sys.modules if m.startswith(("simulator.engine", "simulator.format.models"))}
print(sorted(loaded | core))
"""


def test_listing_a_sqlite_history_imports_neither_sqlalchemy_nor_the_engine(
        capsys: pytest.CaptureFixture[str], drills: dict[str, Path]) -> None:
    """``ttx history`` on a big history is import-bound: a SQLite file's table is read with the stdlib
    sqlite3 and the history package's plain values, never SQLAlchemy, NumPy, SimPy, Textual, Faker,
    pydantic, YAML, matplotlib, the engine or the scenario models."""
    added(capsys, drills)
    out = subprocess.run([sys.executable, "-c", LISTING_IMPORTS], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_compare_says_when_two_runs_of_a_drill_ended_at_different_times() -> None:
    """A branch ended at 1:21 against its parent ended at 2:54 showed "harm 6,147 vs 16,372" as better
    and harm averted as worse, with nothing saying the runs were not the same length; now a note does."""
    from types import SimpleNamespace
    from typing import Any, cast

    from simulator.analysis.compare import Comparison, Side

    def side(name: str, ended_at: float) -> Side:
        aar = SimpleNamespace(scenario_id="jailbreak-wave", seed=7, ended_at=ended_at, duration=4 * 3600.0)
        drill = SimpleNamespace(aar=aar, row=None, journal=SimpleNamespace(header={}))
        return Side(name, cast(Any, drill), {})

    notes = Comparison(side("A", 2 * 3600 + 54 * 60), side("B", 3600 + 21 * 60)).notes()
    assert notes == ["A ended at 2:54:00 and B at 1:21:00 (of 4:00:00): harm volume counts each run to its "
                     "own end, so B's is lower partly for being shorter; harm averted compares each with "
                     "doing nothing over its own span."]
    assert Comparison(side("A", 3600.0), side("B", 3630.0)).notes() == [], "under a minute apart: no note"
