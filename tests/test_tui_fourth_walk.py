"""What a fourth new-user walk through the drill TUI found, each fixed and kept fixed.

1. Resolving the incident ran on one Enter (Up from the top of the action list wrapped to it): it asks
   now, as cutting service does, and says what resolving means; the list no longer wraps.
2. The clock ran on behind "End the drill now?" (at 60× two minutes passed): the question holds it.
3. Typing on a closed drop-down of the observation form was lost: it chooses the matching option.
4. The hot wash said "e ends the hot wash", but `e` typed into the answer: `ctrl+e` ends it from
   anywhere in its dialog, and the dialog says so.
5. A question dialog that opened by itself (``n`` reached it) took the keys typed for the dashboard
   (``x`` ``↓`` ``enter`` answered it): for :data:`~tui.app.KEY_GRACE` of wall time it takes none.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App
from textual.widgets import OptionList, Select, Static

from simulator.engine.events import Event, Kind
from simulator.engine.session import LocalSession
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario, load_scenario
from tests.conftest import WriteScenario, take
from tests.discussion_scenario import DISCUSSION, OBJECTIVES
from tui.app import KEY_GRACE, DrillApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.dialogs import ApprovalScreen, ConfirmScreen, CutServiceScreen
from tui.screens.discussion import GENERAL, AnswerText, ObservationScreen, QuestionScreen
from tui.screens.review import ReviewScreen

SMALL = (80, 24)


def drill_app(flagship: LoadedScenario, tmp_path: Path, *, paused: bool = True) -> DrillApp:
    """The flagship at seed 7, frozen wall clock, saving into ``tmp_path``."""
    return DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=paused, save_dir=tmp_path)


def resolved(app: DrillApp) -> bool:
    """Whether the incident was resolved."""
    return app.live().view.resolved_at is not None


# --- 1. resolving asks first ---------------------------------------------------------------------


async def test_up_from_the_first_action_stays_there(flagship: LoadedScenario, tmp_path: Path) -> None:
    """Up at the top of IC's list used to wrap to its last row, "Resolve the incident"."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter")
        actions = app.screen.query_one("#action-list", OptionList)
        assert actions.highlighted == 0
        await pilot.press("up")
        assert actions.highlighted == 0
        actions.highlighted = actions.option_count - 1
        await pilot.press("down")
        assert actions.highlighted == actions.option_count - 1, "nor from the bottom to the top"


async def test_resolving_asks_and_says_what_it_means_and_enter_goes_back(flagship: LoadedScenario,
                                                                         tmp_path: Path) -> None:
    """Once declared, Enter on "Resolve the incident" asks (the cut-service question: Enter is Back);
    y resolves. Before the declaration it is refused at once, with the engine's reason: no question."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter")
        await take(app, pilot, "resolve")
        assert isinstance(app.screen, DashboardScreen)
        assert [str(n.message) for n in app._notifications][-1] == (
            "IC: Resolve the incident refused: declare the incident first")
        await app.submit(Command(role="ic", action="declare_incident", params={}))
        await pilot.pause()
        await take(app, pilot, "resolve")
        assert isinstance(app.screen, CutServiceScreen)
        assert str(app.screen.query_one("#cut-question", Static).render()) == "IC: Resolve the incident?"
        said = str(app.screen.query_one("#cut-consequence", Static).render())
        assert said.startswith("Resolving declares the response over at 0:00:00 (no containment stage "
                               "done yet)")
        assert "resolving while harm continues costs points" in said
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen) and not resolved(app), "Enter goes back"
        await pilot.press("enter", "t")
        await pilot.pause()
        assert resolved(app)


# --- 2. "End the drill now?" holds the clock -----------------------------------------------------


async def test_the_end_question_holds_the_clock_and_no_runs_it_again(flagship: LoadedScenario,
                                                                     tmp_path: Path) -> None:
    """While "End the drill now?" is open the hot seat's clock waits (as it does behind the help)."""
    app = drill_app(flagship, tmp_path, paused=False)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        clock = app.live().clock
        assert not clock.paused
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert clock.paused, "the clock waits for the answer"
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen) and not clock.paused


async def test_the_end_question_leaves_a_paused_clock_paused(flagship: LoadedScenario,
                                                             tmp_path: Path) -> None:
    """A clock the player paused stays paused after "no"."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "e", "n")
        await pilot.pause()
        assert app.live().clock.paused


# --- 3. typing on a drop-down chooses ---------------------------------------------------------------


class ObservationHost(App[None]):
    """The observation form alone, as the evaluator opens it."""

    def on_mount(self) -> None:
        self.push_screen(ObservationScreen(OBJECTIVES, 65.0, "evaluator"))


async def test_typing_on_the_observation_s_drop_downs_chooses_the_matching_option() -> None:
    """"g" on the objective picks General, "st" on the tag picks Strength; keys that match nothing
    change nothing, and none of them is lost silently into a closed menu any more."""
    app = ObservationHost()
    async with app.run_test(size=SMALL) as pilot:
        await pilot.pause()
        screen: Any = app.screen
        objective = screen.query_one("#observe-objective", Select)
        assert objective.has_focus
        await pilot.press("g")
        assert objective.value == GENERAL
        await pilot.press("t", "e", "l", "l")
        assert objective.value == OBJECTIVES[1], "what was typed since the focus came: 'tell'"
        await pilot.press("z")
        assert objective.value == OBJECTIVES[1], "nothing starts with or holds 'z'"
        await pilot.press("enter")
        tag = screen.query_one("#observe-tag", Select)
        assert tag.has_focus
        await pilot.press("s", "t")
        assert tag.value == "strength"
        await pilot.press("a")
        assert tag.value == "improvement", "'sta' matches nothing; 'a' starts afresh: Area for improvement"


# --- 4. ctrl+e ends the hot wash from the answer's text ------------------------------------------


async def test_ctrl_e_ends_the_hot_wash_from_the_answer_and_no_comes_back_to_it(
        write_scenario: WriteScenario, tmp_path: Path) -> None:
    """In the free-text hot-wash question `e` is a letter of the answer; `ctrl+e` asks to end the hot
    wash over the dialog, "no" comes back to the answer as it was, "yes" opens the review."""
    app = DrillApp(LocalSession(load_scenario(str(write_scenario(DISCUSSION))), seed=7), wall=lambda: 0.0,
                   start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "n")
        await pilot.pause()
        await pilot.press("escape", "escape", "e", "y")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QuestionScreen) and screen.question.hot_wash
        notice = str(screen.query_one("#question-notice", Static).render())
        assert notice == "1 question before the review; clock stopped; ctrl+e ends the hot wash."
        await pilot.press(*"be early")
        answer = screen.query_one("#answer-text", AnswerText)
        assert answer.text == "be early", "e is typed into the answer"
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == "End the drill now and go to the review?"
        await pilot.press("n")
        await pilot.pause()
        assert screen.is_current and answer.text == "be early"
        await pilot.press("ctrl+e", "y")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)


async def test_ctrl_e_does_nothing_in_a_question_before_the_hot_wash(
        write_scenario: WriteScenario, tmp_path: Path) -> None:
    """Before the hot wash a question's dialog has no ctrl+e (ending is the dashboard's `e`)."""
    app = DrillApp(LocalSession(load_scenario(str(write_scenario(DISCUSSION))), seed=7), wall=lambda: 0.0,
                   start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QuestionScreen) and not screen.question.hot_wash
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert app.screen is screen


# --- 5. a dialog that opens by itself takes no keys for a moment --------------------------------


def answers(app: DrillApp) -> list[Event]:
    """The answers given in the drill (the hot seat's engine runs in the test)."""
    session = app.session
    assert isinstance(session, LocalSession)
    return [e for e in session.drill.events if e.kind == Kind.ANSWER_GIVEN]


class Wall:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_keys_typed_as_a_question_opens_by_itself_do_not_answer_it(write_scenario: WriteScenario,
                                                                         tmp_path: Path) -> None:
    """`n` jumps to 0:05, where a question opens by itself; the `x` `↓` `enter` the player typed for
    the dashboard before seeing it are dropped, and once the grace has passed the same keys answer."""
    wall = Wall()
    app = DrillApp(LocalSession(load_scenario(str(write_scenario(DISCUSSION))), seed=7), wall=wall,
                   key_grace=KEY_GRACE, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "n")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QuestionScreen)
        choice = screen.query_one("#answer-one", OptionList)
        wall.now += KEY_GRACE / 2
        await pilot.press("x", "down", "enter")
        await pilot.pause()
        assert screen.is_current and choice.highlighted is None, "nothing picked, nothing answered"
        assert not answers(app)
        wall.now += KEY_GRACE / 2
        await pilot.press("down", "enter")
        await pilot.pause()
        assert [(e.actor, e.payload["question"]) for e in answers(app)] == [("ic", screen.question.question)]


async def test_a_question_chosen_from_the_open_questions_takes_keys_at_once(write_scenario: WriteScenario,
                                                                            tmp_path: Path) -> None:
    """The player asked for this dialog (`w`, enter): no grace."""
    wall = Wall()
    app = DrillApp(LocalSession(load_scenario(str(write_scenario(DISCUSSION))), seed=7), wall=wall,
                   key_grace=KEY_GRACE, start_paused=True, save_dir=tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter", "n")
        await pilot.pause()
        wall.now += KEY_GRACE
        await pilot.press("escape")  # put off: the second question opens by itself
        await pilot.pause()
        wall.now += KEY_GRACE
        await pilot.press("escape", "w", "enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, QuestionScreen)
        await pilot.press("down")
        assert screen.query_one("#answer-one", OptionList).highlighted == 0


async def test_an_approval_that_opens_by_itself_takes_no_keys_for_a_moment(flagship: LoadedScenario,
                                                                           tmp_path: Path) -> None:
    """ML asks to take the assistant offline; IC's approval opens by itself and a `y` typed at once
    approves nothing; a `y` after the grace does."""
    wall = Wall()
    app = DrillApp(LocalSession(flagship, seed=7), wall=wall, key_grace=KEY_GRACE, start_paused=True,
                   save_dir=tmp_path)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await app.submit(Command(role="ml", action="take-offline"))
        await pilot.pause()
        assert isinstance(app.screen, ApprovalScreen)
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, ApprovalScreen) and not app.live().view.in_flight
        wall.now += KEY_GRACE
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen) and app.live().view.in_flight
