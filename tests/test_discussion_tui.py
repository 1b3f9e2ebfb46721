"""Answering discussion questions and writing observations in the drill TUI, as a player drives it.

A question arrives like an inject and opens its dialog (one choice, several, or free text, with a
confidence slider and an optional note): Enter submits, Esc postpones it to the open questions
(``w``), and a missing answer is refused in words. The facilitator and evaluators write
observations (``o``): objective, strength or area for improvement, and what they saw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, Label, Select, Static

from simulator.engine.events import Event, Kind
from simulator.engine.session import LocalSession
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario, load_scenario
from simulator.format.taxonomy import EVALUATOR, FACILITATOR
from simulator.team.remote import RemoteSession
from simulator.team.server import DrillServer
from tests.conftest import WriteScenario, until
from tests.discussion_scenario import DISCUSSION, OBJECTIVES
from tui.app import DrillApp
from tui.screens.dashboard import DashboardScreen
from tui.screens.dialogs import ConfirmScreen
from tui.screens.discussion import (
    POSTPONED,
    AnswerText,
    AnswerTicks,
    ObservationScreen,
    OpenQuestionsScreen,
    QuestionClosedScreen,
    QuestionScreen,
    one_line,
)
from tui.screens.review import ReviewScreen
from tui.widgets.confidence import ConfidenceSlider, bar, snapped
from tui.widgets.injects import InjectFeed

SIZE = (100, 30)


@pytest.fixture
def discussion(write_scenario: WriteScenario) -> LoadedScenario:
    """The small scenario with a one-choice, a several-choice and a free-text hot-wash question."""
    return load_scenario(str(write_scenario(DISCUSSION)))


def app_for(loaded: LoadedScenario, tmp_path: Path, seat: str | None = None) -> DrillApp:
    """The hot seat (or one seat) at seed 7, clock paused, frozen wall clock."""
    return DrillApp(LocalSession(loaded, seed=7, seat=seat), wall=lambda: 0.0, start_paused=True,
                    save_dir=tmp_path)


def events_of(app: DrillApp, kind: Kind) -> list[Event]:
    """The drill's events of one kind (the hot seat's engine runs in the test)."""
    session = app.session
    assert isinstance(session, LocalSession)
    return [e for e in session.drill.events if e.kind == kind]


def error_text(app: DrillApp) -> str:
    """What the open dialog's refusal line says."""
    return str(app.screen.query_one(".dialog-error", Static).render())


async def to_first_question(pilot: Pilot[Any], app: DrillApp) -> QuestionScreen:
    """Start the drill and press ``n``: it stops at 0:05, when both questions are asked; the first
    one's dialog opens and the second waits behind it."""
    await pilot.press("enter", "n")
    await pilot.pause()
    assert isinstance(app.screen, QuestionScreen)
    return app.screen


async def end_into_hot_wash(pilot: Pilot[Any], app: DrillApp) -> None:
    """Postpone the two questions on the way, then end the drill (`e` `y`): the hot wash opens."""
    await to_first_question(pilot, app)
    await pilot.press("escape", "escape")
    await pilot.pause()
    await pilot.press("e", "y")
    await pilot.pause()


async def answer_the_hot_wash(pilot: Pilot[Any], app: DrillApp) -> None:
    """End into the hot wash and answer its one question in words: the review opens."""
    await end_into_hot_wash(pilot, app)
    await pilot.press(*"Name one owner early", "enter")
    await pilot.pause()
    assert isinstance(app.screen, ReviewScreen)


async def test_n_stops_when_a_question_is_asked_with_its_whole_window_ahead(
        flagship: LoadedScenario, tmp_path: Path) -> None:
    """In the flagship, ``who-is-on-point`` is asked 2 minutes after the declaration: after declaring
    at 0:00, ``n`` stops at 0:02 and the question's dialog says it closes in 10 minutes (``n`` used
    to run on to the first inject, at 0:15, leaving it no time at all)."""
    app = app_for(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await app.live().submit(Command(role="ic", action="declare_incident", params={"commander": "ic"}))
        await pilot.pause()
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen)
        assert app.screen.question.question == "who-is-on-point"
        assert "closes at 0:12:00 (in 10m)" in str(app.screen.query_one("#question-closes", Static).render())
        assert not events_of(app, Kind.INJECT), "it stopped before the first inject"


async def test_a_question_arrives_like_an_inject_and_its_choice_is_answered_with_a_confidence(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """The one-choice question opens by itself; ↓ picks, → raises the confidence 5 % a step, Enter sends
    an ``answer`` command with the choice, confidence and note; the next question's dialog follows."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_first_question(pilot, app)
        prompt = str(screen.query_one("#question-prompt", Static).render())
        assert "authority to take the model offline" in prompt
        await pilot.press("down", "tab", "right", "right", "right", "tab", *"IC owns it")
        await pilot.press("enter")
        await pilot.pause()
        answers = events_of(app, Kind.ANSWER_GIVEN)
        assert [(a.payload["choices"], a.payload["confidence"], a.payload["note"]) for a in answers] == [
            (["ic"], 65, "IC owns it")]
        closed = app.screen
        assert isinstance(closed, QuestionClosedScreen), "the hot seat's answer closes it"
        assert "Expected: The incident commander, on their own authority." in closed.outcome
        assert "Why: The IC owns containment" in closed.outcome
        feed = app.dashboard.query_one(InjectFeed) if app.dashboard else None
        assert feed is not None and any(i.channel == "question" for i in feed.injects), "in the feed too"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.screen.question.question == "who-told"


async def test_a_question_the_facilitator_closes_on_a_remote_seat_shows_its_outcome_then_the_next(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """On a ``ttx join`` seat the frame saying a question closed comes in on the connection's reader
    task, not the app's: opening "Question closed" from there (the question on screen closed while
    the next one waited) crashed the seat with NoActiveAppError in its compose, first seen on an SSH
    seat. A remote session's events are handled on the app's own queue: the outcome opens over the
    dashboard, and Enter opens the question that waited."""
    server = DrillServer.host(discussion, tmp_path / "drill.jsonl", seed=7, code="K7Q2MD",
                              facilitator_token="white-cell-secret")
    url = f"ws://127.0.0.1:{await server.start('127.0.0.1', 0)}"
    facilitator = await RemoteSession.open(url, name="Lee", facilitator_token="white-cell-secret")
    dana = await RemoteSession.open(url, name="Dana", role="ic", code="K7Q2MD")
    try:
        app = DrillApp(dana, save_dir=tmp_path, wall=lambda: 0.0)
        async with app.run_test(size=SIZE) as pilot:
            await facilitator.start()
            await facilitator.next_inject()
            await until(pilot, lambda: isinstance(app.screen, QuestionScreen))
            await facilitator.submit(Command(role=FACILITATOR, action="close_question",
                                             params={"question": "who-decides"}))
            await until(pilot, lambda: isinstance(app.screen, QuestionClosedScreen))
            closed = app.screen
            assert isinstance(closed, QuestionClosedScreen) and closed.next_waits
            assert "Expected: The incident commander, on their own authority." in closed.outcome
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, QuestionScreen))
            assert isinstance(app.screen, QuestionScreen) and app.screen.question.question == "who-told"
    finally:
        await dana.close()
        await facilitator.close()
        await server.stop()


async def test_how_a_question_came_out_is_read_in_full_before_the_next_dialog_not_over_it(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """At 80×24 the "Question closed" notice (expected answer and why, 10 s) covered the right half of
    the next question's dialog, its options cut in half: after the hot seat's answer the outcome is
    a dialog of its own, Enter opens the next question (or goes back to the drill when none waits:
    an Enter meant for a notice started an action), and no notice is left over either."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_first_question(pilot, app)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionClosedScreen)
        assert "Question closed: everyone asked has answered" in str(
            app.screen.query_one(".dialog-title", Label).render())
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.screen.question.question == "who-told"
        assert not [n for n in app._notifications if str(n.title).startswith("Question closed")]
        await pilot.press("space", "enter")
        await pilot.pause()
        last = app.screen
        assert isinstance(last, QuestionClosedScreen) and not last.next_waits
        assert "Back to the drill (enter)" in str(last.query_one(Button).label)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen) and not app._notifications




async def test_questions_that_close_on_time_behind_another_dialog_show_when_it_closes_not_over_it(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """Both questions are put off, then their 20 minutes run out while the quit dialog is open: their
    "Question closed" notices (10 s each, at 80×24 over half the screen) used to cover that dialog.
    They wait for it, and show when it closes."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_first_question(pilot, app)
        await pilot.press("escape", "escape")
        await pilot.pause()
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        session = app.live()
        while len(events_of(app, Kind.QUESTION_CLOSED)) < 2:
            await session.next_inject()
            await pilot.pause()
        assert {e.payload["reason"] for e in events_of(app, Kind.QUESTION_CLOSED)} == {"time"}
        assert isinstance(app.screen, ConfirmScreen)
        assert not [n for n in app._notifications if str(n.title).startswith("Question closed")]
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        closed = [n.message for n in app._notifications if str(n.title).startswith("Question closed")]
        assert [m.splitlines()[0] for m in closed] == ["Who has the authority to take the model offline?",
                                                       "Who must be told in the first hour?"]


async def test_an_answer_with_nothing_to_teach_and_nothing_waiting_is_a_notice_not_a_dialog(
        write_scenario: WriteScenario, tmp_path: Path) -> None:
    """A free-text question asked during the drill (with the other two, at 0:05) has no expected
    answer or why: answering it with no question waiting gives a short notice, not a dialog with
    nothing in it to read."""
    during = DISCUSSION.replace("ask: {hot_wash: true}", "ask: {at: 5m}\n    within: 20m")
    app = app_for(load_scenario(str(write_scenario(during))), tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_first_question(pilot, app)
        await pilot.press("escape", "escape")
        await pilot.pause()
        words = app.screen
        assert isinstance(words, QuestionScreen) and words.question.kind == "text"
        await pilot.press(*"Page legal early", "enter")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        closed = [n.message for n in app._notifications if str(n.title).startswith("Question closed")]
        assert closed == ["What would you do differently next time?\n"
                          "You answered: “Page legal early”.\n"
                          "It had no expected answer: the review shows every answer."]


async def test_the_footer_offers_enter_to_submit_from_the_options(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """With the options focused the footer said only "esc Later" (the list hid the screen's Enter),
    and at 80×24 the flagship's longer dialogs scroll the Submit button out of sight: the footer
    offers "⏎ Submit" from the one-choice and the several-choice lists."""
    def footer_keys(screen: QuestionScreen) -> set[tuple[str, str]]:
        return {(app.get_key_display(b.binding), b.binding.description)
                for b in screen.active_bindings.values() if b.binding.show}

    app = app_for(discussion, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        one = await to_first_question(pilot, app)
        assert {("⏎", "Submit"), ("esc", "Later")} <= footer_keys(one)
        await pilot.press("escape")
        await pilot.pause()
        several = app.screen
        assert isinstance(several, QuestionScreen) and several.question.kind == "several"
        assert {("⏎", "Submit"), ("esc", "Later")} <= footer_keys(several)

async def test_several_answers_are_ticked_with_space(discussion: LoadedScenario, tmp_path: Path) -> None:
    """In a several-choice question space ticks each option that applies; Enter sends them all."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_first_question(pilot, app)
        await pilot.press("escape")  # the one-choice question waits in the list
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.screen.question.kind == "several"
        await pilot.press("space", "down", "down", "space", "enter")
        await pilot.pause()
        answer = events_of(app, Kind.ANSWER_GIVEN)[-1].payload
        assert (answer["question"], answer["choices"], answer["confidence"]) == (
            "who-told", ["legal", "exec"], 50)


async def test_the_first_down_lands_on_option_1_in_a_one_choice_and_a_several_choice_question_alike(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """A new user's ``↓↓↓ space ↓ space`` in a several-choice list ticked options 4 and 5, not 3 and 4:
    its cursor sat on option 1 from the start, unseen, while in a one-choice list the first ↓ picks
    option 1. Both lists start with no cursor and the first ↓ lands on option 1; the several-choice
    cursor is marked ``›`` (visible without colours)."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        one = await to_first_question(pilot, app)
        await pilot.press("down")
        assert one.draft().choices == ("ic",), "the first ↓ picks option 1"
        await pilot.press("escape")
        await pilot.pause()
        several = app.screen
        assert isinstance(several, QuestionScreen) and several.question.kind == "several"
        ticks = several.query_one("#answer-several", AnswerTicks)
        assert ticks.highlighted is None and "›" not in "".join(
            ticks.render_line(y).text for y in range(3)), "no cursor until the first ↓"
        await pilot.press("down", "down", "space", "down", "space")
        assert several.draft().choices == ("press", "exec"), "options 2 and 3, as pressed"
        assert ticks.render_line(2).text.startswith("▐X▌ › The executive on call")


async def test_how_a_question_came_out_echoes_what_this_seat_answered(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """The "Question closed" dialog after the hot seat's answer says what it answered, and how sure,
    above the expected answer: the player reads their answer beside the expected one."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_first_question(pilot, app)
        await pilot.press("down", "enter")
        await pilot.pause()
        closed = app.screen
        assert isinstance(closed, QuestionClosedScreen)
        assert closed.outcome.splitlines()[0] == (
            "You answered: The incident commander, on their own authority (50 % sure).")
        assert "Expected: The incident commander, on their own authority." in closed.outcome


async def test_in_the_hot_seat_the_clock_waits_while_questions_and_how_they_came_out_are_open(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """At 60× a question asked at 1:58:05 closed "(time) no answers" 15 real seconds later, its dialog
    unseen, and the closed dialogs chained on a running clock. In the hot seat the clock waits from
    the first question's dialog, through how it came out and the next question, and runs again when
    the last dialog closes; ``space`` in them says so (in the closed dialog it used to press its
    button, and the dialog vanished)."""
    app = app_for(discussion, tmp_path)
    clock = app.live().clock
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "space")  # start, and run the clock
        await pilot.pause()
        assert not clock.paused
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, QuestionScreen) and clock.paused)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionClosedScreen) and clock.paused
        await pilot.press("space")
        await pilot.pause()
        assert isinstance(app.screen, QuestionClosedScreen), "space does not close it"
        assert str(app.screen.query_one("#closed-clock", Static).render()) == (
            "The drill clock waits while this dialog is open.")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and clock.paused, "still waiting for the next one"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen) and not clock.paused)


async def test_a_clock_paused_before_a_question_stays_paused_after_it(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """The discussion runs again only the clock it paused: a player who paused it finds it paused."""
    app = app_for(discussion, tmp_path)
    clock = app.live().clock
    async with app.run_test(size=SIZE) as pilot:
        await to_first_question(pilot, app)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        await pilot.pause(0.1)
        assert clock.paused


async def test_a_missing_answer_is_refused_in_words_and_the_dialog_stays(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """Enter with nothing picked, ticked or written says what is missing; nothing is sent."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_first_question(pilot, app)
        await pilot.press("enter")
        assert error_text(app) == "Choose an answer first: ↑/↓ picks one, then enter."
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("enter")
        assert error_text(app).startswith("Tick at least one answer first")
        assert isinstance(app.screen, QuestionScreen) and not events_of(app, Kind.ANSWER_GIVEN)


async def test_a_postponed_question_waits_in_the_open_questions_and_reopens(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """Esc puts the question off; ``w`` lists the open questions and Enter opens the one chosen."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_first_question(pilot, app)
        await pilot.press("escape", "escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen), "both questions put off"
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, OpenQuestionsScreen)
        assert [q.question for q, _ in app.screen.questions] == ["who-decides", "who-told"]
        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuestionScreen) and app.screen.question.question == "who-told"



async def test_esc_while_another_question_waits_says_it_in_the_next_dialog_not_over_it(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """At 80×24 an "Answer later" notice covered the right half of the next dialog (its buttons and
    the footer) for 4 s: the next dialog says it on the line under its title instead, and no notice
    is left over it. With nothing waiting, the notice still says where the question went."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        first = await to_first_question(pilot, app)
        assert str(first.query_one("#question-notice", Static).render()) == ""
        await pilot.press("escape")
        await pilot.pause()
        second = app.screen
        assert isinstance(second, QuestionScreen) and second.question.question == "who-told"
        assert str(second.query_one("#question-notice", Static).render()) == POSTPONED
        assert not [n for n in app._notifications if n.title == "Answer later"], "nothing covers it"
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen)
        assert [n.message for n in app._notifications if n.title == "Answer later"] == [
            "It stays open: w lists the open questions."]



async def test_the_hot_wash_is_announced_in_its_first_dialog_not_over_it(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """At 80×24 the "Hot wash" notice (10 s) covered the first hot-wash dialog's buttons: the dialog
    says it on the line under its title instead, once, and no notice covers it."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await end_into_hot_wash(pilot, app)
        screen = app.screen
        assert isinstance(screen, QuestionScreen) and screen.question.hot_wash
        assert str(screen.query_one("#question-notice", Static).render()) == (
            "1 question before the review; clock stopped; ctrl+e ends the hot wash.")
        assert not [n for n in app._notifications if n.title in ("Hot wash", "Answer later")]
        assert app.desk.notice == "", "said once"


async def test_the_hot_wash_question_is_answered_in_words_before_the_review(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """Ending the drill opens the free-text hot-wash question; its text (Enter sends, never a newline)
    goes in the answer, and the answer is journaled before the drill's end."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await end_into_hot_wash(pilot, app)
        assert isinstance(app.screen, QuestionScreen) and app.screen.question.hot_wash
        assert app.screen.question.kind == "text"
        await pilot.press("enter")
        assert error_text(app) == "Write your answer first."
        await pilot.press(*"Name one owner early", "enter")
        await pilot.pause()
        answer = events_of(app, Kind.ANSWER_GIVEN)[-1]
        assert (answer.payload["question"], answer.payload["text"]) == ("lessons", "Name one owner early")
        await pilot.pause()
        assert events_of(app, Kind.DRILL_ENDED)[0].seq > answer.seq
        assert isinstance(app.screen, ReviewScreen), "the review opens once the hot wash is answered"


async def test_e_says_the_hot_wash_comes_first_and_during_it_that_the_review_follows(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """Before the hot wash `e` asks to end the drill into its hot wash (it used to promise the review,
    which comes only after); during the hot wash `e` asks to go to the review."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_first_question(pilot, app)
        await pilot.press("escape", "escape", "e")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == ("End the drill now? Its hot wash comes first (the clock stops), "
                                       "then the review.")
        await pilot.press("y")
        await pilot.pause()
        await pilot.press("escape", "e")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question == "End the drill now and go to the review?"


async def test_the_review_shows_each_question_with_who_answered_what_and_how_sure(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """The review's Discussion panel lists every question asked, the unanswered ones as such, a choice
    answer with its author and confidence, and the hot-wash answer with its author and text (and no
    confidence: words ask none) — what the saved report's section says. Without a player name the
    author is the role, named once."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await to_first_question(pilot, app)
        await pilot.press("down", "tab", "right", "enter")
        await pilot.pause()
        await pilot.press("enter")  # past how it came out
        await pilot.pause()
        await pilot.press("escape", "e", "y")
        await pilot.pause()
        await pilot.press(*"Name one owner early", "enter")
        await pilot.pause()
        assert isinstance(app.screen, ReviewScreen)
        panel = str(app.screen.query_one("#discussion", Static).render()).splitlines()
        assert any("no answers" in line for line in panel), "the several-choice question, put off"
        chose = next(line for line in panel if "The incident commander" in line and "sure" in line)
        wrote = next(line for line in panel if "Name one owner early" in line)
        assert chose.endswith("0:05:00  ic: The incident commander, on their own authority  55 % sure"), (
            "the hot seat's answers are the role's: named once, not 'ic (ic)'")
        assert wrote.endswith("  ic: Name one owner early"), "no confidence beside words"


async def test_a_question_answered_in_words_has_no_confidence_slider_and_sends_none(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """The free-text hot-wash question ("what would you do differently?") asks no "how sure": its
    dialog has no slider and its answer carries no confidence; a choice question keeps its slider."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        choice = await to_first_question(pilot, app)
        assert len(choice.query(ConfidenceSlider)) == 1
        await pilot.press("escape", "escape", "e", "y")
        await pilot.pause()
        words = app.screen
        assert isinstance(words, QuestionScreen) and words.question.kind == "text"
        assert not words.query(ConfidenceSlider) and not words.query("#confidence-label")
        await pilot.press(*"Name one owner early", "enter")
        await pilot.pause()
        given = events_of(app, Kind.ANSWER_GIVEN)[-1].payload
        assert (given["text"], given["confidence"]) == ("Name one owner early", None)


async def test_the_hot_wash_and_the_questions_the_end_closes_leave_no_notices_over_the_review(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """The answered hot-wash question and the two put off on the way close as the drill ends; how each
    came out is in the review's Discussion panel, so no "Question closed" notice covers the review
    (the flagship's three covered half of it at 80×24), and the drill's own notices ("Hot wash", each
    Esc's "Answer later") are cleared as the review opens."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await answer_the_hot_wash(pilot, app)
        closed_by_the_end = [e for e in events_of(app, Kind.QUESTION_CLOSED) if e.payload["reason"] == "end"]
        assert len(closed_by_the_end) == 2
        assert not [n for n in app._notifications if str(n.title).startswith("Question closed")]
        assert not [str(n.title) for n in app._notifications], "no drill notice is left over the review"


async def test_the_dialog_counts_down_to_the_closing_time_with_the_drill_clock(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """The "closes at … (in …)" line follows the live clock (it used to keep the time left when the
    dialog opened): a team seat's clock goes on while a question is open."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_first_question(pilot, app)
        closes = screen.question.closes
        assert closes is not None and screen.clock is not None
        screen.clock = lambda: closes - 90.0
        screen.tick()
        await pilot.pause()
        assert "(in 1m30s)" in str(screen.query_one("#question-closes", Static).render())


async def test_the_confidence_slider_moves_in_steps_of_five_within_0_and_100(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """←/→ move 5 %, home/end jump to 0 and 100 %, and the value never leaves 0..100; the bar fills
    with the value and the percentage shows beside it."""
    app = app_for(discussion, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await to_first_question(pilot, app)
        slider = screen.query_one(ConfidenceSlider)
        slider.focus()
        await pilot.press("right")
        assert slider.value == 55
        await pilot.press(*["left"] * 20)
        assert slider.value == 0
        await pilot.press("end", "right")
        assert slider.value == 100
        await pilot.press("pagedown", "left")
        assert slider.value == 70
        assert str(slider.render()).endswith("  70 %")
    assert (snapped(-3), snapped(47), snapped(103)) == (0, 45, 100)
    assert (bar(50, 20), bar(0, 10)) == ((10, 10), (0, 10))


def test_pasted_line_breaks_become_spaces_in_an_answer() -> None:
    """The wire takes displayable text only: line breaks and tabs in a pasted answer become spaces."""
    assert one_line("first line\nsecond\tthird  \r\n") == "first line second third"
    assert AnswerText.Submitted is not None


async def test_the_facilitator_writes_an_observation_and_missing_fields_are_refused_in_words(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """``o`` opens the observation: without an objective, a tag or a text it says which is missing;
    saved, it is an ``observation`` event hidden from players, with the objective, tag and text."""
    app = app_for(discussion, tmp_path, seat=FACILITATOR)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ObservationScreen)
        await pilot.press("ctrl+s")
        assert error_text(app) == "Choose the objective it is about (or General)."
        screen.query_one("#observe-objective", Select).value = OBJECTIVES[0]
        await pilot.press("ctrl+s")
        assert error_text(app) == "Choose whether it is a strength or an area for improvement."
        screen.query_one("#observe-tag", Select).value = "improvement"
        await pilot.press("ctrl+s")
        assert error_text(app) == "Write what you saw."
        screen.query_one("#observe-text", Input).focus()
        await pilot.press(*"Nobody owned containment for 12 minutes", "enter")
        await pilot.pause()
        observed = events_of(app, Kind.OBSERVATION)
        assert [(o.payload["objective"], o.payload["tag"], o.payload["text"], o.hidden)
                for o in observed] == [
            (OBJECTIVES[0], "improvement", "Nobody owned containment for 12 minutes", True)]


async def test_an_evaluators_dashboard_has_no_steering_keys_but_observes(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """An evaluator sees the dashboard without the clock, next-inject and end keys; ``o`` observes."""
    app = app_for(discussion, tmp_path, seat=EVALUATOR)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        shown = {b.binding.action for b in app.screen.active_bindings.values() if b.enabled}
        assert {"app.toggle_clock", "app.next_inject", "app.end_drill", "app.speed(1)"}.isdisjoint(shown)
        assert {"app.observe", "app.open_questions"} <= shown
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, ObservationScreen)


async def test_the_facilitator_sees_answers_in_the_feed_and_closes_a_question_from_the_list(
        discussion: LoadedScenario, tmp_path: Path) -> None:
    """The facilitator's feed entry of a question lists every answer with its role and confidence and,
    once closed, the expected answer; ``w`` then ``enter`` and ``y`` close an open question now."""
    from simulator.format.commands import Command
    from tui.screens.dialogs import ConfirmScreen

    app = app_for(discussion, tmp_path, seat=FACILITATOR)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter", "n")
        await pilot.pause()
        assert isinstance(app.screen, DashboardScreen), "the facilitator is not asked"
        await app.live().submit(Command(role="ic", action="answer", params={
            "question": "who-decides", "choices": ["exec"], "confidence": 90, "note": "exec owns it"}))
        await pilot.pause()
        assert app.dashboard is not None
        entry = next(i for i in app.dashboard.query_one(InjectFeed).injects if i.inject == "who-decides")
        assert "Answers (1):" in entry.body
        assert "IC: Only an executive · 90 % sure — exec owns it" in entry.body
        assert "Expected: The incident commander, on their own authority." in entry.body

        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, OpenQuestionsScreen)
        assert [q.question for q, _ in app.screen.questions] == ["who-told"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        closed = [e.payload for e in events_of(app, Kind.QUESTION_CLOSED)]
        assert [(c["question"], c["reason"]) for c in closed] == [("who-decides", "answered"),
                                                                   ("who-told", "facilitator")]
