"""What a fifth new-user walk through the drill TUI found, each fixed and kept fixed.

1. New injects were out of sight: the feed stayed scrolled to the older inject open in it ("8 unread"
   with none of the 8 shown) and ``i`` did not go to the newest. The feed now follows new injects
   while the newest is open, says how many new ones are above an older one, and ``i`` opens the
   newest. A question whose dialog opened is read in the feed.
2. On the review, ``tab ↓×6 w`` forked at the first row: tab went to the score breakdown, whose
   cursor ↓ moved, and ``w`` with no timeline row picked took the first. Tab now goes to the
   timeline, which shows its cursor, and ``w`` forks at its highlighted row (from elsewhere: says how).
3. ``ttx watch`` offered "⏎ Start the drill", "o Observe" and "w Questions", keys a recording cannot
   take: its footer lists the playback's keys (and ``e``, which goes to the recording's review).
4. The command palette offered "Legal: Declare the incident" after it was declared, where the action
   list marks it done: the palette marks each action as the list does.
5. The score breakdown showed empty for about a second as the review opened (filled on mount, then
   cleared and filled again on the first resize): it is filled as the review is composed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.geometry import Region
from textual.strip import Strip
from textual.widgets import DataTable, OptionList
from textual.widgets._footer import FooterKey

from simulator.engine.playback import Playback
from simulator.engine.replay import load_journal_scenario
from simulator.engine.runner import run_named
from simulator.engine.session import LocalSession, Session
from simulator.format.loader import LoadedScenario, load_scenario
from tests.conftest import WriteScenario, end_in_tui, take, until
from tests.discussion_scenario import DISCUSSION
from tui.app import ActionCommands, DrillApp
from tui.screens.briefing import BriefingScreen
from tui.screens.discussion import QuestionScreen
from tui.screens.review import ReviewScreen
from tui.watch import WatchApp
from tui.widgets.footer import DrillFooter
from tui.widgets.injects import InjectFeed

SMALL = (80, 24)


def drill_app(loaded: LoadedScenario, tmp_path: Path) -> DrillApp:
    """``loaded`` at seed 7, clock paused, frozen wall clock, saving into ``tmp_path``."""
    return DrillApp(LocalSession(loaded, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)


def feed_of(app: DrillApp) -> tuple[InjectFeed, OptionList]:
    """The dashboard's inject feed and its list."""
    assert app.dashboard is not None
    feed = app.dashboard.query_one(InjectFeed)
    return feed, feed.query_one("#inject-list", OptionList)


def newest_seq(feed: InjectFeed) -> str:
    """The option id of the newest inject in the feed."""
    return str(feed.visible_injects()[0].seq)


# --- 1. the feed follows new injects -------------------------------------------------------------


async def test_with_the_newest_inject_open_the_feed_follows_new_ones(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """``i`` opens the newest inject; back in the actions, each inject that arrives opens in its
    place and the list stays at its top, so the new one is in sight and read (``tail -f``)."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "n", "i")
        feed, options = feed_of(app)
        assert options.highlighted == 0
        await pilot.press("x")
        for _ in range(4):
            await pilot.press("n")
            await pilot.pause()
        assert options.option_count >= 4
        assert options.highlighted == 0 and options.highlighted_option is not None
        assert options.highlighted_option.id == newest_seq(feed), "the newest is the one open"
        assert options.scroll_y == 0, "the list is at its top, the newest row in sight"
        assert "new above" not in str(feed.border_title)


async def test_with_an_older_inject_open_the_feed_stays_and_says_how_many_are_new_above(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """Reading an older inject is not interrupted: it stays open while new ones arrive, the title
    says how many are new above it and that ``i`` jumps, and ``i`` opens the newest."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "n", "n", "i", "down")
        feed, options = feed_of(app)
        reading = options.highlighted_option.id if options.highlighted_option else None
        assert options.highlighted == 1 and reading is not None
        await pilot.press("x", "n", "n")
        await pilot.pause()
        assert options.highlighted_option is not None and options.highlighted_option.id == reading
        assert "2 new above, i jumps" in str(feed.border_title)
        await pilot.press("i")
        await pilot.pause()
        assert options.highlighted_option is not None and options.highlighted_option.id == newest_seq(feed)
        assert "new above" not in str(feed.border_title)


async def test_a_question_whose_dialog_opened_is_read_in_the_feed(
        write_scenario: WriteScenario, tmp_path: Path) -> None:
    """A question arrives in the feed and opens its dialog; once seen (here answered) its feed row is
    no longer marked unread (●)."""
    app = drill_app(load_scenario(str(write_scenario(DISCUSSION))), tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "n")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        asked = app.screen.question.question
        await pilot.press("down", "enter")
        await pilot.pause()
        feed, _ = feed_of(app)
        entry = next(i for i in feed.injects if i.channel == "question" and i.inject == asked)
        assert entry.read, "answered, it is read"


# --- 2. rewinding from the review forks at the row picked ----------------------------------------


async def test_tab_down_six_w_forks_at_the_seventh_timeline_row(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tab goes from the review to the timeline, its cursor on the first row; six ↓ and ``w`` fork
    just before the seventh row's moment."""
    app = drill_app(flagship, tmp_path)
    forked_at: list[float] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter", "n", "n", "n", "n")
        session = app.live()
        fork_at = session.fork_at

        def spy(at: float, folder: Path) -> Session | None:
            forked_at.append(at)
            return fork_at(at, folder)

        monkeypatch.setattr(session, "fork_at", spy)
        await end_in_tui(pilot)
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        review = app.screen.review
        assert len(review.timeline) > 7
        await pilot.press("tab")
        timeline = app.screen.query_one("#timeline", OptionList)
        assert timeline.has_focus and timeline.highlighted == 0, "the cursor shows on the first row"
        await pilot.press(*["down"] * 6, "w")
        await pilot.pause()
        assert forked_at == [review.timeline[6].t]
        assert isinstance(app.screen, BriefingScreen)


async def test_w_outside_the_timeline_goes_to_the_timeline_and_says_how(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """``w`` before the timeline was visited forks nothing: it moves to the timeline, cursor on its
    first row, and says to pick the moment with ↑/↓; a second ``w`` forks there."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "n", "n")
        await end_in_tui(pilot)
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen), "nothing forked"
        timeline = app.screen.query_one("#timeline", OptionList)
        assert timeline.has_focus and timeline.highlighted == 0
        assert any("Pick the moment on the timeline" in n.message for n in app._notifications)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, BriefingScreen)


# --- 3. a recording's footer lists the playback's keys -------------------------------------------


def offered(app: WatchApp) -> set[str]:
    """What the footer of the screen on top offers, by description."""
    return {key.description for key in app.screen.query_one(DrillFooter).query(FooterKey)}


async def test_a_recordings_footer_lists_the_playback_keys_not_the_drills(tmp_path: Path) -> None:
    """The briefing's enter plays the recording; the dashboard offers playing, jumping and seeking,
    not observing or the open questions (a recording's decisions were taken)."""
    path = tmp_path / "idle.jsonl"
    run_named("jailbreak-wave", "idle", 7, path)
    journal, loaded = load_journal_scenario(path)
    app = WatchApp(Playback(journal, loaded, path, speed=10.0))
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert "Play the recording" in offered(app) and "Start the drill" not in offered(app)
        await pilot.press("enter")
        await until(pilot, lambda: app.dashboard is not None and app.timeline is not None)
        await pilot.pause()
        keys = offered(app)
        assert {"Run/Pause", "Speed", "Next point", "Previous", "Go to time", "Quit"} <= keys
        assert not keys & {"Observe", "Questions", "Update", "Approvals", "Role"}


# --- 4. the command palette marks actions as the action list does --------------------------------


async def test_the_palette_marks_the_declared_incident_done_as_the_action_list_does(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """Once IC declares the incident, every role's "Declare the incident and name a commander" reads
    ``[done]`` in the palette, as in the action list."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter")
        palette = ActionCommands(app.screen)
        declare = "Declare the incident and name a commander"
        assert f"Legal: {declare}" in {text for _, _, text in palette.entries()}
        await take(app, pilot, "declare_incident")
        await pilot.pause()
        while app.screen is not app.dashboard:  # its form, should one ask for a commander
            await pilot.press("ctrl+s")
            await pilot.pause()
        texts = {text for _, _, text in palette.entries()}
        assert {f"IC: {declare} [done]", f"Legal: {declare} [done]"} <= texts
        assert f"Legal: {declare}" not in texts


# --- 5. the score breakdown is there in the review's first frame ---------------------------------


async def test_the_breakdown_draws_its_rows_in_the_reviews_first_frame(
        flagship: LoadedScenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The breakdown's first frame already shows its heaviest component: its lines are never drawn
    without the rows (no clearing and refilling when the review first gets its size)."""
    frames: list[str] = []
    draw = DataTable.render_lines

    def drawn(table: DataTable[object], crop: Region) -> list[Strip]:
        strips = draw(table, crop)
        if table.id == "breakdown":
            frames.append("\n".join(strip.text for strip in strips))
        return strips

    monkeypatch.setattr(DataTable, "render_lines", drawn)
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "n", "n")
        await end_in_tui(pilot)
        await until(pilot, lambda: bool(frames))
        await pilot.pause()
        session = app.session
        assert isinstance(session, LocalSession) and session.result is not None
        heaviest = session.result.ordered()[0].name
        assert heaviest in frames[0], "the first frame has the rows"
        assert all(heaviest in frame for frame in frames), "never drawn empty"
