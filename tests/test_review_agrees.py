"""One after-action pipeline: a team seat's review, the hot seat's and ``ttx report`` agree to the digit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from simulator.analysis.aar import AfterAction, analyse, facts
from simulator.analysis.report import render
from simulator.engine.journal import read_journal
from simulator.engine.session import LocalSession
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario
from simulator.team.remote import RemoteSession
from simulator.team.server import DrillServer
from tests.conftest import end_through_hot_wash
from tui.screens.review import ReviewScreen, headline

CODE = "K7Q2MD"
TOKEN = "white-cell-secret"


@pytest.fixture
async def server(tmp_path: Path, flagship: LoadedScenario) -> AsyncIterator[tuple[DrillServer, str]]:
    """A real drill server on a free loopback port."""
    hosted = DrillServer.host(flagship, tmp_path / "team.jsonl", seed=7, code=CODE,
                              facilitator_token=TOKEN, speed=3600.0)
    port = await hosted.start("127.0.0.1", 0)
    yield hosted, f"ws://127.0.0.1:{port}"
    await hosted.stop()


def figures(a: AfterAction) -> dict[str, object]:
    """Everything a review shows in numbers and words, as one comparable value."""
    return {"result": a.result.to_dict(), "idle": a.idle_harm_volume, "ended": a.ended_at,
            "idle_curve": (a.series.idle_t, a.series.idle_total),
            "harm": (a.series.harm_t, a.series.harm_total),
            "expectations": [(x.inject, x.action, x.role, x.status, x.done_at) for x in a.expectations],
            "timeline": [(e.t, e.actor, e.text) for e in a.timeline],
            "strengths": [f.text for f in a.strengths], "improvements": [f.text for f in a.improvements],
            "real_team": a.real_team, "real_curve": (a.series.real_t, a.series.real_total)}


async def test_a_team_seat_reviews_exactly_what_ttx_report_reads_from_the_servers_journal(
        server: tuple[DrillServer, str], flagship: LoadedScenario) -> None:
    """A player's review is built from the server's reveal (baseline included, not re-simulated) and
    equals the after-action facts of the host's journal file, figure for figure."""
    hosted, url = server
    ic = await RemoteSession.open(url, name="Dana", role="ic", code=CODE, timeout=5.0)
    fac = await RemoteSession.open(url, name="Lee", facilitator_token=TOKEN, timeout=5.0)
    try:
        await fac.start()
        await fac.wait_until(lambda s: s.view.now >= 1800)
        await ic.submit(Command(role="ic", action="declare_incident", params={"commander": "ic"}))
        await end_through_hot_wash(fac)
        await ic.wait_until(lambda s: s.review() is not None)
        record = ic.review()
        assert record is not None and record.do_nothing is not None, "the reveal carries the baseline"
        assert record.real_team is not None, "the reveal carries the real team's run"
        seat = facts(record.journal, ic.scenario, record.result, record.do_nothing,
                     real_team=record.real_team)
        host = analyse(read_journal(hosted.journal.path), flagship)
        assert figures(seat) == figures(host)
        assert seat.idle_harm_volume == seat.result.harm_volume, "nobody contained: as bad as doing nothing"
        assert seat.series.idle_t[-1] == flagship.scenario.duration > seat.ended_at, \
            "the do-nothing curve spans the whole drill, the volume only the stretch played"
    finally:
        await ic.close()
        await fac.close()


async def test_the_hot_seat_review_shows_the_figures_of_the_report_of_its_saved_journal(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """The hot seat's review, its saved report and ``ttx report`` of the saved journal agree; the
    breakdown is listed heaviest first, as in the report."""
    session = LocalSession(flagship, seed=3)
    await session.start()
    await session.pause()
    session.drill.advance_to(2400)
    await session.submit(Command(role="ic", action="declare_incident", params={"commander": "ic"}))
    await end_through_hot_wash(session)
    record = session.review()
    assert record is not None
    review = facts(record.journal, session.scenario, record.result, record.do_nothing,
                   real_team=record.real_team)
    saved = session.save(tmp_path / "hot.jsonl")
    from_file = analyse(read_journal(saved), flagship, saved)
    assert figures(review) == figures(from_file)
    assert render(from_file, "md") == render(facts(record.journal, session.scenario, record.result,
                                                   record.do_nothing, path=saved,
                                                   real_team=record.real_team), "md")
    await session.close()

    from textual.app import App

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(ReviewScreen(review, session.scenario))

    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        shown = str(app.screen.query_one("#review-headline", Static).render())
        assert f"Score {from_file.result.score:.1f} / 100" in shown
        assert f"{from_file.result.harm_averted:.0%} averted" in shown
        assert str(headline(from_file)) == shown
        table = app.screen.query_one("#breakdown", DataTable)
        names = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert names == [c.name for c in from_file.result.ordered()]
        weights = [c.weight for c in from_file.result.ordered()]
        assert weights == sorted(weights, reverse=True)


async def test_at_80_columns_the_breakdown_wraps_its_why_column_instead_of_cutting_it(
        flagship: LoadedScenario) -> None:
    """Every word of every component's "why" is on the review screen at 80×24 (wrapped, not cut)."""
    from textual.app import App

    session = LocalSession(flagship, seed=1)
    session.drill.run_to_end()
    await session.end()  # the clock ran out: the facilitator ends the hot wash
    await session.pause()
    record = session.review()
    assert record is not None
    review = facts(record.journal, session.scenario, record.result, record.do_nothing)

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(ReviewScreen(review, session.scenario))

    app = Host()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#breakdown", DataTable)
        assert sum(c.get_render_width(table) for c in table.ordered_columns) <= 80
        shown = " ".join(" ".join(str(s.text) for s in table.render_line(y)).strip()
                         for y in range(table.virtual_size.height))
        for component in review.result.ordered():
            for word in component.why.split():
                assert word in shown, f"{component.name}: {word!r} is cut"
    await session.close()
