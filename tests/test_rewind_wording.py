"""A rewound drill says what happened at its fork point: what the drill did by itself at that moment
(an inject firing, an action taking effect) has happened, the decisions taken then are the players'
again. Keys in through Pilot, screens out."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from simulator.engine.session import LocalSession
from simulator.format.loader import LoadedScenario
from tests.conftest import end_in_tui, take
from tui.app import DrillApp
from tui.screens.briefing import BriefingScreen
from tui.screens.review import ReviewScreen


async def test_a_fork_at_an_inject_s_moment_says_it_stands_at_that_moment(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """ML blocks known prompts at 0:00 (in effect at 0:15:00); the refusals ticket arrives at 0:15:00.
    Trying again from the ticket's row, the briefing lists the block list in effect at 0:15:00 and the
    ticket: the notice used to say "Forked just before 0:15:00", which both contradict."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.press("enter", "r")
        await take(app, pilot, "block-list")
        await pilot.press("n")
        await pilot.pause()
        await end_in_tui(pilot)
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        timeline = app.screen.query_one("#timeline", OptionList)
        timeline.highlighted = next(i for i, e in enumerate(app.screen.review.timeline)
                                    if e.t == 900 and "INC-77420" in e.text)
        timeline.focus()
        await pilot.press("w")
        await pilot.pause()

        assert isinstance(app.screen, BriefingScreen)
        so_far = app.screen.so_far
        notices = [str(n.message) for n in app._notifications]
    assert "- **In effect**: Block known jailbreak prompts (0:15:00)" in so_far
    assert "| 0:15:00 | INC-77420" in so_far
    assert "what it did by itself at this moment included" in so_far
    assert notices == ["Forked at 0:15:00, before the decisions taken then; the clock waits there "
                       "(space runs it)."]
