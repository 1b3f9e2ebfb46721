"""``ttx watch``: a recorded drill played back in the dashboard, as a facilitator drives it in a debrief."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Markdown, OptionList

from simulator.engine.events import Kind
from simulator.engine.journal import read_journal, write_journal
from simulator.engine.payloads import describe
from simulator.engine.playback import Playback
from simulator.engine.replay import load_journal_scenario
from simulator.engine.runner import run_named
from simulator.format.commands import Command
from tests.conftest import until
from tui.screens.briefing import BriefingScreen
from tui.screens.review import ReviewScreen
from tui.watch import SeekScreen, WatchApp
from tui.widgets.header import DrillHeader

SIZE = (110, 34)


def header_text(app: WatchApp) -> str:
    """The clock line as the viewer reads it."""
    return str(app.screen.query_one(DrillHeader).render())


def recorded(tmp_path: Path, policy: str = "textbook") -> Path:
    """A bot journal of the flagship, as ``ttx run --journal`` writes it."""
    path = tmp_path / f"{policy}.jsonl"
    run_named("jailbreak-wave", policy, 7, path)
    return path


async def test_watching_a_bot_journal_jumps_seeks_and_plays_on_to_the_review(tmp_path: Path) -> None:
    """`]` jumps to the first point, `g 2h` seeks, `[` goes back to the point before (the view is
    folded again, so later injects disappear); from 3:59:00 at 60× the playback reaches the end and
    lands on the same review the drill had."""
    path = recorded(tmp_path)
    journal, loaded = load_journal_scenario(path)
    playback = Playback(journal, loaded, path, speed=10.0)
    app = WatchApp(playback)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: app.dashboard is not None and app.timeline is not None)
        await pilot.press("space")
        await pilot.press("right_square_bracket")
        first = playback.points[0]
        await until(pilot, lambda: playback.view.now >= first.t)
        assert any(i.t == first.t for i in playback.view.injects) or first.kind != "inject"

        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, SeekScreen))
        await pilot.press(*"2h", "enter")
        await until(pilot, lambda: "2:00:00" in header_text(app))
        late = [i for i in playback.view.injects if first.t < i.t <= 7200]
        assert late and late == [i for i in playback.view.injects if i.t > first.t], \
            "the injects after the first point up to 2:00:00 are shown, and none later"

        await pilot.press("left_square_bracket")
        before = max(p.t for p in playback.points if p.t < 7200)
        await until(pilot, lambda: abs(playback.clock.now() - before) < 1e-6)
        assert all(i.t <= before for i in playback.view.injects), "going back hides what came later"
        timeline = app.screen.query_one("#watch-timeline", OptionList)
        await until(pilot, lambda: timeline.highlighted == playback.current())
        assert playback.points[timeline.highlighted or 0].t == before

        refused = await playback.submit(Command(role="ic", action="declare_incident"))
        assert refused.kind == Kind.REFUSED and "ttx play --from textbook.jsonl" in refused.payload["reason"]

        await pilot.press("g")
        await until(pilot, lambda: isinstance(app.screen, SeekScreen))
        await pilot.press(*"3h59m", "enter", "3")
        if playback.clock.paused:
            await pilot.press("space")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen), timeout=30)
        recorded_result = next(e.payload for e in journal.events if e.kind == Kind.RESULT)
        assert app.review is not None and app.review.result.score == recorded_result["score"]


async def test_a_crashed_drills_journal_plays_to_where_it_stops_and_says_so(tmp_path: Path) -> None:
    """A journal cut short (no result) plays to its last event, pauses there and tells the viewer."""
    path = recorded(tmp_path)
    journal = read_journal(path)
    cut = tmp_path / "crashed.jsonl"
    write_journal(cut, journal.header, [e for e in journal.events if e.t < 3000])
    journal, loaded = load_journal_scenario(cut)
    playback = Playback(journal, loaded, cut, speed=60.0)
    app = WatchApp(playback)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: app.dashboard is not None)
        playback.seek(2900)
        await until(pilot, lambda: playback.clock.paused and playback.clock.now() == playback.stops_at,
                    timeout=30)
        assert playback.stops_at < 3000 and playback.review() is None
        assert not isinstance(app.screen, ReviewScreen)
        # the notice is posted as a message in the same step as the pause: let the app handle it
        await until(pilot, lambda: any("stops at" in str(n.message) for n in app._notifications))


async def test_n_in_a_recording_stops_where_a_question_was_asked(tmp_path: Path) -> None:
    """As in the drill, ``n`` (next point) does not pass over a question: the moment
    ``who-is-on-point`` was asked is a point of its own on the timeline."""
    path = recorded(tmp_path)
    journal, loaded = load_journal_scenario(path)
    asked = next(e for e in journal.events
                 if e.kind == Kind.QUESTION_ASKED and e.payload["question"] == "who-is-on-point")
    playback = Playback(journal, loaded, path, speed=10.0)
    playback.seek(asked.t - 1)
    await playback.next_inject()
    assert playback.clock.now() == asked.t
    there = [(p.kind, p.text) for p in playback.points if p.t == asked.t]
    assert ("question", f"question: {asked.payload['prompt']}") in there


async def test_a_recording_briefs_with_the_watch_keys_and_q_closes_it_at_once(tmp_path: Path) -> None:
    """The briefing of a recording listed the hot seat's keys ("`enter` on an action takes it") and
    `q` asked "Quit? … nothing is saved" (on the review: "The drill is not saved"), though a recording
    is a file already. Now the briefing gives the playback's keys and `q` closes without asking."""
    path = recorded(tmp_path)
    journal, loaded = load_journal_scenario(path)
    playback = Playback(journal, loaded, path, speed=10.0)
    app = WatchApp(playback)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, BriefingScreen))
        text = app.screen.query_one("#briefing-text", Markdown).source
        assert "You are watching a recording of this drill" in text
        assert "| `]` `[` | jump to the next or previous decision" in text
        assert "takes it" not in text and "hot seat" not in text
        assert app.quit_question() is None
        await pilot.press("enter")
        await until(pilot, lambda: app.dashboard is not None)
        assert app.quit_question() is None
        await pilot.press("q")
        await until(pilot, lambda: not app.is_running)


def test_the_watch_timeline_words_decisions_as_the_review_does(tmp_path: Path) -> None:
    """The timeline said "ic: answer" and "facilitator: close_question" where the review says
    "ic answered who-is-on-point: ic (85% sure)": a decision is now worded by what it did."""
    journal, loaded = load_journal_scenario(recorded(tmp_path))
    texts = [p.text for p in Playback(journal, loaded, tmp_path / "textbook.jsonl").points
             if p.kind == "decision"]
    answer = next(e for e in journal.events if e.kind == Kind.ANSWER_GIVEN)
    assert describe(answer) in texts and describe(answer).startswith(f"{answer.actor} answered ")
    assert "ic: incident declared; commander ic" in texts
    assert not [t for t in texts if t.endswith((": answer", ": close_question", ": declare_incident"))]
