"""The after-action report: any journal becomes an HSEEP-shaped AAR/IP in HTML and Markdown."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from simulator.analysis.report import build_report, render
from simulator.cli import main
from simulator.engine.events import Kind
from simulator.engine.journal import read_journal, write_journal
from simulator.engine.policies import load_policy
from simulator.engine.runner import finish, new_drill, run_named, run_policy
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario, builtin_ids, load_scenario
from tests.conftest import end_drill_through_hot_wash, end_through_hot_wash
from tests.golden import golden_path
from tests.tools import program

SECTIONS = ["Summary", "Strengths", "Areas for improvement", "Investigation findings", "Improvement plan",
            "Expectations (MSEL)", "Per-role figures", "Timeline"]
EXTERNAL = re.compile(
    r"""(src|href|action|poster)\s*=\s*["']?\s*(https?:)?//|url\(\s*["']?(https?:)?//|@import""", re.I)


TextbookJournal = tuple[Path, dict[str, Any]]
"""A journal of the textbook bot on the flagship, seed 3, and the result the run scored."""


@pytest.fixture(scope="module")
def textbook_journal(tmp_path_factory: pytest.TempPathFactory) -> TextbookJournal:
    """The textbook bot's journal on the flagship (seed 3), written once for the module."""
    path = tmp_path_factory.mktemp("aar") / "drill.jsonl"
    run = run_named("jailbreak-wave", "textbook", 3, journal=path)
    return path, run.result.to_dict()


@pytest.fixture(scope="module")
def textbook_html(textbook_journal: TextbookJournal) -> str:
    """The HTML report of that journal."""
    return render(build_report(textbook_journal[0]), "html")


@pytest.mark.parametrize("scenario", builtin_ids())
def test_every_builtin_golden_journal_reports_in_both_formats(scenario: str, tmp_path: Path) -> None:
    """Each built-in scenario's golden journal (textbook bot, its own seed) renders as HTML and Markdown."""
    journal = golden_path(scenario)
    result = read_journal(journal).events[-1].payload
    for name in ("aar.html", "aar.md"):
        assert main(["report", str(journal), "-o", str(tmp_path / name)]) == 0
    md = (tmp_path / "aar.md").read_text()
    html = (tmp_path / "aar.html").read_text()
    assert f"| Overall score | {result['score']:.1f} / 100 |" in md
    assert f"| Harm volume | {result['harm_volume']:,} harmful outputs" in md
    assert html.startswith("<!DOCTYPE html>") and html.count("<svg") == 2
    assert not EXTERNAL.search(html)


def test_the_report_sets_the_run_beside_the_real_team(textbook_journal: TextbookJournal) -> None:
    """Markdown and HTML show "you vs the real team": detection, containment and harm of this run, of
    the scenario's historical policy on the same seed and of doing nothing, with the published
    figures beside them; the harm chart draws the real team's curve with the other two."""
    path, result = textbook_journal
    aar = build_report(path)
    assert aar.real_team is not None and aar.series.real_t
    ours, real, idle = aar.real_team.runs
    assert (ours.harm_volume, idle.harm_volume) == (result["harm_volume"], aar.idle_harm_volume)
    md = render(aar, "md")
    assert "## You vs the real team" in md
    assert "| this run | the real team | doing nothing |" in md
    assert f"| harmful outputs | {ours.harm_volume:,} | {real.harm_volume:,} | {idle.harm_volume:,} |" in md
    assert "Microsoft Tay" in md and "public tweets" in md and "~16 h" in md
    html = render(aar, "html")
    assert '<section id="real-team">' in html and '<table class="real-team">' in html
    assert "and the real team's timeline (historical policy) on the same seed" in html


def test_markdown_has_the_aar_sections_and_the_result_numbers(textbook_journal: TextbookJournal) -> None:
    path, result = textbook_journal
    md = render(build_report(path), "md")
    for title in SECTIONS:
        assert f"## {title}" in md
    assert f"| Harm volume | {result['harm_volume']:,} harmful outputs" in md
    assert f"| Harm averted vs do-nothing | {result['harm_averted']:.0%} |" in md
    assert "| area for improvement | corrective action | owner role | due date |" in md
    assert "<svg" not in md and "aar.html" in md
    assert "stage-1 containment" in md.lower()
    assert "| role | met | late | missed | open |" in md
    assert "### Exercise objectives" in md and "within 60 minutes of declaring" in md


def test_html_is_self_contained_and_printable(textbook_html: str) -> None:
    """No scripts, stylesheets, fonts or images are fetched: the file works offline and printed."""
    assert not EXTERNAL.search(textbook_html)
    assert "http://" not in textbook_html and "https://" not in textbook_html
    assert "<script" not in textbook_html and "<link" not in textbook_html
    assert "@media print" in textbook_html
    for sid in ("summary", "charts", "strengths", "improvements", "plan", "expectations", "figures",
                "timeline"):
        assert f'<section id="{sid}">' in textbook_html


def test_charts_are_matplotlib_svg_inline(textbook_html: str) -> None:
    svgs = re.findall(r"<svg\b.*?</svg>", textbook_html, re.DOTALL)
    assert len(svgs) == 2
    assert all("<path" in svg and "<!--" not in svg for svg in svgs)


def test_player_text_is_escaped_and_players_are_named(tmp_path: Path) -> None:
    """Names and messages typed by players cannot inject markup into the HTML or break a GFM table."""
    loaded = load_scenario("jailbreak-wave")
    drill = new_drill(loaded, 4)
    evil = "<script>alert('x')</script> | pipe"
    drill.note(Kind.PLAYER_JOINED, "ic", {"player": "p1", "name": "<b>Mallory</b>", "role": "ic"})
    drill.note(Kind.PLAYER_JOINED, "ml", {"player": "p2", "name": "Ana", "role": "ml"})
    drill.note(Kind.PLAYER_JOINED, "ml", {"player": "p2", "name": "Ana", "role": "ml", "rejoined": True})
    drill.advance_to(40 * 60)
    drill.submit(Command(role="ic", action="declare_incident", params={"commander": "ic"},
                         player="<b>Mallory</b>"))
    drill.submit(Command(role="ic", action="message", params={"text": evil, "to": ["ml"]},
                         player="<b>Mallory</b>"))
    drill.submit(Command(role="ml", action="resolve", player="Ana"))
    drill.run_to_end()
    finish(drill, loaded, None)
    path = tmp_path / "team.jsonl"
    write_journal(path, drill.header(None), drill.events)
    aar = build_report(path)
    assert sorted((p.name, tuple(p.roles)) for p in aar.players) == [("<b>Mallory</b>", ("ic",)),
                                                                      ("Ana", ("ml",))]
    html = render(aar, "html")
    assert "<script>" not in html and "<b>Mallory</b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "ic (&lt;b&gt;Mallory&lt;/b&gt;)" in html
    md = render(aar, "md")
    assert "&lt;script&gt;" in md and "\\| pipe" in md
    assert "### Per-player figures" in md
    assert "refused: resolve" in md and "1 command(s) refused" in md


def test_missed_and_late_expectations_per_role(tmp_path: Path) -> None:
    """A team that declares at 3h meets the declaration expectation late; idle misses everything."""
    script = tmp_path / "slow.yaml"
    script.write_text("name: slow\ndecisions:\n  - at: 3h\n    role: ic\n    action: declare_incident\n")
    path = tmp_path / "slow.jsonl"
    run_named("jailbreak-wave", str(script), 7, journal=path)
    aar = build_report(path)
    declare = next(x for x in aar.expectations if x.action == "declare_incident")
    assert declare.status == "late" and declare.done_at == 3 * 3600
    md = render(aar, "md")
    assert "| any | report-spike | declare_incident |" in md and "| LATE | 3:00:00 |" in md
    assert "over the 20 min target" in md


def test_idle_run_is_reported_as_never_declared(tmp_path: Path) -> None:
    path = tmp_path / "idle.jsonl"
    run_named("jailbreak-wave", "idle", 2, journal=path)
    aar = build_report(path)
    texts = " ".join(f.text for f in aar.improvements)
    assert "never declared" in texts and "Never contained" in texts
    assert aar.result.harm_averted == 0.0
    assert aar.series.harm_total == aar.series.idle_total


def _containment_why(until: float | None, policy: str = "textbook") -> str:
    """The containment reason of a jailbreak-wave run the facilitator ends at ``until``."""
    loaded = load_scenario("jailbreak-wave")
    result = run_policy(loaded, load_policy(policy, loaded.scenario), 7, until=until).result
    return next(c.why for c in result.breakdown if c.name == "containment")


def test_never_contained_says_the_drill_ended_inside_the_watch_period(tmp_path: Path) -> None:
    """The textbook team gets harm under the threshold at 1:25:42 and holds it; a drill ended 16m7s
    later never counted as contained, and the review says why rather than only "never contained"."""
    assert _containment_why(None) == "contained at 1:25:42 of 4:00:00"
    assert _containment_why(5142 + 16 * 60 + 7) == (
        "never contained: below the threshold from 1:25:42, but the drill ended 16m7s into the 30m watch")
    assert _containment_why(None, "idle") == "never contained: harm was never below the threshold"


def test_the_report_gives_the_reason_it_was_never_contained(tmp_path: Path) -> None:
    loaded = load_scenario("jailbreak-wave")
    run = run_policy(loaded, load_policy("textbook", loaded.scenario), 7, until=5142 + 16 * 60 + 7)
    path = tmp_path / "short.jsonl"
    write_journal(path, run.drill.header(run.result.policy), run.drill.events)
    texts = " ".join(f.text for f in build_report(path).improvements)
    assert ("Never contained (below the threshold from 1:25:42, but the drill ended 16m7s into the "
            "30m watch):") in texts


def test_unscored_journal_is_rederived_by_replay(textbook_journal: TextbookJournal, tmp_path: Path) -> None:
    """A journal without its result event (crash, unscored drill) is replayed and the report says so."""
    path, result = textbook_journal
    lines = path.read_text().splitlines()
    unscored = tmp_path / "unscored.jsonl"
    unscored.write_text("\n".join(line for line in lines if '"kind":"result"' not in line) + "\n")
    aar = build_report(unscored)
    assert aar.rederived and "re-derived by replaying" in aar.rederived
    assert aar.result.to_dict() == result
    cut = tmp_path / "crashed.jsonl"
    cut.write_text("\n".join(lines[: len(lines) // 3]) + "\n")
    crashed = build_report(cut)
    assert crashed.rederived and "Warning" not in crashed.rederived
    assert 'id="rederived"' in render(crashed, "html")


def test_a_hot_seat_drill_ended_early_is_compared_with_doing_nothing_until_then(tmp_path: Path) -> None:
    """``ttx play`` journals its hot seat as policy ``human``: the report says people played at one
    keyboard (not "bot policy 'human'"), and a drill ended at 0:52 is compared with the do-nothing
    run's first 52 minutes, as the score is, not with its whole four hours."""
    loaded = load_scenario("jailbreak-wave")
    drill = new_drill(loaded, 7)
    drill.advance_to(52 * 60)
    drill.submit(Command(role="ic", action="declare_incident", params={"commander": "ic"}))
    drill.submit(Command(role="facilitator", action="end_drill"))
    result = finish(drill, loaded, "human")
    path = tmp_path / "play.jsonl"
    write_journal(path, drill.header(policy="human"), drill.events)
    md = render(build_report(path), "md")
    assert "| Participants | one keyboard (ttx play hot seat): roles ic, facilitator (in play:" in md
    assert "bot policy" not in md
    volume = f"{result.harm_volume:,}"
    assert f"| Harm volume | {volume} harmful outputs (do nothing to 0:52:00: {volume}) |" in md
    assert "(do nothing to 0:52:00: " in md.split("| Weighted harm |")[1].splitlines()[0]


def test_a_bot_that_never_acted_is_named_without_a_dangling_playing(tmp_path: Path) -> None:
    """An idle run's participants read "bot policy 'idle': no role acted"."""
    path = tmp_path / "idle.jsonl"
    run_named("jailbreak-wave", "idle", 2, journal=path)
    assert "| Participants | bot policy 'idle': no role acted (in play:" in render(build_report(path), "md")


def test_report_cli_prints_markdown_and_rejects_unknown_extensions(
        textbook_journal: TextbookJournal, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without -o the Markdown goes to stdout; an extension that names no format is refused with the
    way out (and writes nothing); --format md writes Markdown under any name."""
    path, _ = textbook_journal
    assert main(["report", str(path)]) == 0
    assert "# After-action report: Jailbreak wave" in capsys.readouterr().out
    assert main(["report", str(path), "-o", str(tmp_path / "aar.pdf")]) == 2
    assert "use .html or .md, or --format" in capsys.readouterr().err
    assert not (tmp_path / "aar.pdf").exists()
    assert main(["report", str(path), "-o", str(tmp_path / "aar.txt"), "--format", "md"]) == 0
    assert (tmp_path / "aar.txt").read_text().startswith("# After-action report: Jailbreak wave")


@pytest.mark.chromium  # skipped without Chromium outside CI, failed in CI (tests/tools.py)
def test_html_loads_in_headless_chromium(textbook_journal: TextbookJournal, tmp_path: Path) -> None:
    """The report opens in a real browser: the DOM has every section (you vs the real team and the
    flagship's discussion included) and both charts."""
    path, result = textbook_journal
    out = tmp_path / "aar.html"
    assert main(["report", str(path), "-o", str(out)]) == 0
    proc = subprocess.run(
        [str(program("chromium")), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--enable-logging=stderr",
         f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", out.as_uri()],
        capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    assert "<title>After-action report: Jailbreak wave</title>" in dom
    assert dom.count("<svg") == 2 and dom.count("<section") == 11
    assert f"{result['score']:.1f}" in dom
    assert "net::ERR" not in proc.stderr and "Uncaught" not in proc.stderr


def test_report_without_the_scenario_still_renders_from_the_journal(textbook_journal: TextbookJournal,
                                                                    tmp_path: Path) -> None:
    """If the scenario file is gone, the report uses the journal alone (no baseline curve)."""
    path, result = textbook_journal
    aar = build_report(path, scenario=str(tmp_path / "gone.yaml"))
    assert aar.result.score == result["score"] and aar.series.idle_t == []
    assert {x.status for x in aar.expectations} <= {"met", "missed"}
    assert render(aar, "html").count("<svg") == 2
    assert "could not be loaded" in render(aar, "md")


def test_rendering_is_deterministic(textbook_journal: TextbookJournal) -> None:
    path, _ = textbook_journal
    assert render(build_report(path), "html") == render(build_report(path), "html")


async def test_a_team_drill_over_the_server_reports_its_players(tmp_path: Path,
                                                                flagship: LoadedScenario) -> None:
    """A journal written by ``ttx host`` names each player with their role and figures."""
    from simulator.team.remote import RemoteSession
    from simulator.team.server import DrillServer

    path = tmp_path / "team.jsonl"
    server = DrillServer.host(flagship, path, seed=7, code="K7Q2MD", facilitator_token="white-cell",
                              speed=60.0)
    port = await server.start("127.0.0.1", 0)
    url = f"ws://127.0.0.1:{port}"
    fac = await RemoteSession.open(url, name="Lee", facilitator_token="white-cell", timeout=5.0)
    dana = await RemoteSession.open(url, name="Dana", role="ic", code="K7Q2MD", timeout=5.0)
    max_ = await RemoteSession.open(url, name="<i>Max</i>", role="ml", code="K7Q2MD", timeout=5.0)
    try:
        await fac.start()
        await dana.submit(Command(role="ic", action="declare_incident", params={"commander": "ic"}))
        await max_.submit(Command(role="ml", action="block-list"))
        await max_.submit(Command(role="ml", action="resolve"))
        await end_through_hot_wash(fac)
        await fac.wait_until(lambda s: s.view.result is not None)
    finally:
        for session in (fac, dana, max_):
            await session.close()
        await server.stop()
    aar = build_report(path)
    players = {p.name: p for p in aar.players}
    assert set(players) == {"Lee", "Dana", "<i>Max</i>"}
    assert players["Dana"].roles == ["ic"] and players["Dana"].actions == 1
    assert players["<i>Max</i>"].actions == 1 and players["<i>Max</i>"].refusals == 1
    html = render(aar, "html")
    assert "Dana (ic)" in html and "&lt;i&gt;Max&lt;/i&gt; (ml)" in html and "<i>Max</i>" not in html
    assert "ml (&lt;i&gt;Max&lt;/i&gt;)" in html


def test_the_report_names_what_was_denied_and_that_the_player_ended_a_hot_seat_drill(tmp_path: Path) -> None:
    """A new user's walk: the timeline read "denied #1 take-offline: " and "drill ended (facilitator)"
    after the player pressed ``e``. It names the action denied and, in the hot seat, the player."""
    loaded = load_scenario("jailbreak-wave")
    drill = new_drill(loaded, 7)
    drill.advance_to(20 * 60)
    drill.submit(Command(role="ml", action="take-offline"))
    (request,) = drill.pending
    drill.submit(Command(role="ic", action="deny", params={"request": request}))
    end_drill_through_hot_wash(drill)
    finish(drill, loaded, "human")
    path = tmp_path / "play.jsonl"
    write_journal(path, drill.header(policy="human"), drill.events)
    md = render(build_report(path), "md")
    assert f"denied request #{request}: Take the assistant offline" in md
    assert "drill ended: the player ended it" in md and "(facilitator)" not in md
    write_journal(path, drill.header(policy="team"), drill.events)
    assert "drill ended: the facilitator ended it" in render(build_report(path), "md"), \
        "in a team drill the facilitator's seat ends it"


def test_containment_in_effect_before_the_declaration_is_said_so(flagship: LoadedScenario,
                                                                 tmp_path: Path) -> None:
    """The kill switch took effect 10 minutes before IC declared: the report said "in effect -10 min
    after declaration"; it says "10 min before declaration"."""
    from simulator.analysis.aar import analyse
    from simulator.analysis.report import render_markdown

    drill = new_drill(flagship, 7)
    drill.submit(Command(role="ml", action="take-offline"))
    (request,) = drill.pending
    drill.submit(Command(role="ic", action="approve", params={"request": request}))
    effective = next(float(e.payload["eta"]) for e in drill.events if e.kind == Kind.ACTION_STARTED)
    drill.advance_to(effective + 600)
    drill.submit(Command(role="ic", action="declare_incident"))
    end_drill_through_hot_wash(drill)
    finish(drill, flagship, "human")
    path = tmp_path / "drill.jsonl"
    write_journal(path, drill.header("human"), drill.events)
    md = render_markdown(analyse(read_journal(path), flagship, path))
    assert "(Take the assistant offline) in effect 10 min before declaration" in md
    assert "-10 min" not in md
