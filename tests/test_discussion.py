"""Discussion questions, answers with confidence, observations and the hot wash: format, engine,
replay and fork, scoring, bots and the report."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.analysis.aar import facts
from simulator.analysis.report import build_report, render_html, render_markdown
from simulator.engine.drill import Drill
from simulator.engine.events import Event, Kind
from simulator.engine.fork import before, fork
from simulator.engine.journal import Journal, read_journal, write_journal
from simulator.engine.payloads import describe
from simulator.engine.policies import TEXTBOOK_CONFIDENCE, Idle, Textbook, load_policy
from simulator.engine.replay import replay
from simulator.engine.runner import finish, run_policy
from simulator.engine.scoring import calibration, discussion_points, judge
from simulator.engine.session import LocalSession
from simulator.engine.view import DrillView
from simulator.format.commands import EVALUATOR_REFUSAL, Command
from simulator.format.loader import LoadedScenario, lint_scenario, load_scenario
from simulator.format.msel import MselError, export_csv, merge
from simulator.format.yamlsafe import FileProblems
from tests.conftest import MINIMAL, WriteScenario

OBJECTIVE = "Declare within 15 minutes of the first page."

QUESTIONS = f"""\
objectives:
  - {OBJECTIVE}
  - Keep the team informed.
questions:
  - id: who-declares
    prompt: Who declares the incident?
    to: [ic, ml]
    ask: {{at: 20m}}
    kind: one
    options:
      - {{id: ic, text: The incident commander}}
      - {{id: anyone, text: Anyone on call}}
    expected: [ic]
    why: The IC owns the declaration.
    within: 10m
    objective: {OBJECTIVE}
  - id: who-hears
    prompt: Who must hear about it first?
    ask: {{with: first}}
    kind: several
    options:
      - {{id: exec, text: Executives}}
      - {{id: legal, text: Legal}}
      - {{id: press, text: The press}}
    expected: [exec, legal]
    why: Executives and legal before anything public.
    pauses: true
  - id: lessons
    prompt: What would you change?
    ask: {{hot_wash: true}}
    kind: text
"""
"""Three questions for :data:`MINIMAL`: at a time, with an inject (pausing), and in the hot wash."""

DISCUSSED = MINIMAL + QUESTIONS


@pytest.fixture
def discussed(write_scenario: WriteScenario) -> LoadedScenario:
    """The minimal scenario with its three questions, loaded from a file."""
    return load_scenario(str(write_scenario(DISCUSSED, "discussed.yaml")))


def problems_of(path: Path) -> list[str]:
    """The located problems loading ``path`` fails with."""
    with pytest.raises(FileProblems) as caught:
        load_scenario(str(path))
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the first line containing ``needle``."""
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def answer(role: str, question: str, choices: list[str], confidence: int | None,
           player: str | None = None, text: str = "") -> Command:
    """An ``answer`` command: choices or text, with the confidence unless it is ``None``."""
    params: dict[str, object] = {"question": question, "text": text} if text else {
        "question": question, "choices": choices}
    if confidence is not None:
        params["confidence"] = confidence
    return Command(role=role, action="answer", params=params, player=player)


def close(question: str) -> Command:
    return Command(role="facilitator", action="close_question", params={"question": question})


def kinds(events: list[Event], *wanted: Kind) -> list[Event]:
    return [e for e in events if e.kind in wanted]


def at_twenty_minutes(scenario: LoadedScenario) -> Drill:
    """A drill of the discussed scenario at 0:20, its pausing 0:10 question closed unanswered."""
    drill = Drill(scenario.scenario, 1)
    drill.advance_to(700)
    drill.submit(close("who-hears"))
    drill.advance_to(20 * 60)
    return drill


# --- the format --------------------------------------------------------------------------------


def test_a_scenario_with_questions_loads_and_lints_clean(discussed: LoadedScenario) -> None:
    """Each way of asking loads; the three questions come out in file order."""
    _, warnings = lint_scenario(discussed.path)
    s = discussed.scenario
    assert warnings == []
    assert [q.id for q in s.questions] == ["who-declares", "who-hears", "lessons"]
    assert s.questions[0].deadline == 600 and s.questions[1].ask.with_ == "first"
    assert s.questions[2].hot_wash and s.questions[2].deadline is None


@pytest.mark.parametrize(("old", "new", "needle", "message"), [
    ("    expected: [ic]\n", "    expected: [boss]\n", "expected: [boss]",
     "expected answer 'boss' is not an option of 'who-declares'"),
    ("    ask: {with: first}", "    ask: {with: frist}", "with: frist",
     "unknown inject 'frist'; did you mean 'first'?"),
    (f"    objective: {OBJECTIVE}", "    objective: Declare fast", "objective: Declare fast",
     "objective 'Declare fast' is not one of the scenario's 'objectives'"),
    ("    to: [ic, ml]", "    to: [legal, ts]", "to: [legal, ts]",
     "nobody in play can answer this question (asks legal, ts; in play: comms, ic, ml), "
     "so it is never asked"),
    ("    ask: {at: 20m}", "    ask: {at: 3h}", "at: 3h",
     "this question is never asked: its time is after the drill's duration"),
    ("    ask: {at: 20m}", "    ask: {at: 2h}", "at: 2h",
     "this question is never asked: its time is the drill's end; "
     "to ask it when the drill ends, use 'ask: {hot_wash: true}'"),
])
def test_a_question_that_cannot_work_is_an_error_at_its_line(
        write_scenario: WriteScenario, old: str, new: str, needle: str, message: str) -> None:
    """Cross-references are checked where they are written: file:line:col and what is wrong."""
    text = DISCUSSED.replace(old, new, 1)
    path = write_scenario(text)
    found = problems_of(path)
    assert any(p.startswith(f"{path}:{line_of(text, needle)}:") and message in p for p in found), found


@pytest.mark.parametrize(("old", "new", "message"), [
    ("    kind: text\n", "    kind: text\n    options:\n      - {id: a, text: A}\n      - {id: b, text: B}\n",
     "a 'text' question takes no 'options'"),
    ("    ask: {at: 20m}", "    ask: {at: 20m, hot_wash: true}",
     "'ask' needs exactly one of 'at', 'trigger', 'with' or 'hot_wash: true'; found at, hot_wash"),
    ("    expected: [ic]\n", "    expected: [ic, anyone]\n",
     "a 'one' question expects exactly one option; found 2 in 'expected' (ic, anyone)"),
])
def test_a_question_of_the_wrong_shape_is_refused_with_the_rule(
        write_scenario: WriteScenario, old: str, new: str, message: str) -> None:
    path = write_scenario(DISCUSSED.replace(old, new, 1))
    assert any(message in p and p.startswith(f"{path}:") for p in problems_of(path))


def test_a_misspelt_expected_answer_is_named_even_when_there_are_too_many(
        write_scenario: WriteScenario) -> None:
    """``expected: [ic, anyon]`` on a 'one' question said only "found 2 in 'expected'": the count hid
    the misspelling. Both are reported, the unknown id by name, with the option it was likely meant as."""
    text = DISCUSSED.replace("    expected: [ic]\n", "    expected: [ic, anyon]\n", 1)
    found = problems_of(write_scenario(text))
    assert any("expected answer 'anyon' is not an option of 'who-declares'; did you mean 'anyone'?" in p
               for p in found), found
    assert any("found 2 in 'expected' (ic, anyon)" in p for p in found), found


def test_lint_warns_of_an_expected_answer_without_why_and_a_window_that_cannot_run(
        write_scenario: WriteScenario) -> None:
    text = (DISCUSSED.replace("    why: The IC owns the declaration.\n", "")
            .replace("    pauses: true\n", "    pauses: true\n    within: 5m\n"))
    _, warnings = lint_scenario(str(write_scenario(text)))
    messages = [w.message for w in warnings]
    assert any("has an expected answer but no 'why'" in m for m in messages)
    assert any("'within' has no effect on a question that stops the clock" in m for m in messages)


def test_questions_round_trip_through_the_msel_sheet_losslessly(
        discussed: LoadedScenario, write_scenario: WriteScenario) -> None:
    """Export then import gives the same questions; an unchanged section is kept as written, an edited
    one is rewritten and loads back to the edit."""
    text = Path(discussed.path).read_text()
    sheet = export_csv(discussed.scenario)
    assert "Answer Window" in sheet.splitlines()[0]
    merged = merge(sheet, "msel.csv", discussed.scenario, text)
    assert merged[merged.index("\nquestions:"):] == text[text.index("\nquestions:"):]
    edited = sheet.replace("Who declares the incident?", "Who declares it?")
    again = load_scenario(str(write_scenario(merge(edited, "msel.csv", discussed.scenario, text), "e.yaml")))
    assert again.scenario.questions[0].prompt == "Who declares it?"
    assert [q.model_dump() for q in again.scenario.questions[1:]] == [
        q.model_dump() for q in discussed.scenario.questions[1:]]
    assert export_csv(again.scenario) == edited


def test_a_bad_question_row_is_reported_with_row_and_column(discussed: LoadedScenario) -> None:
    sheet = export_csv(discussed.scenario).replace("* ic: The incident commander",
                                                   "ic The incident commander")
    with pytest.raises(MselError) as caught:
        merge(sheet, "msel.csv", discussed.scenario, Path(discussed.path).read_text())
    assert ("msel.csv:4: column Expected Player Action: line 1: expected '[*] option-id: text' on a "
            "question row, found 'ic The incident commander'") in caught.value.problems


def test_a_scenario_without_questions_exports_the_sheet_it_always_did(write_scenario: WriteScenario) -> None:
    plain = load_scenario(str(write_scenario(MINIMAL, "plain.yaml")))
    assert "Answer Window" not in export_csv(plain.scenario)


# --- the engine --------------------------------------------------------------------------------


def test_a_question_is_asked_at_its_time_to_its_roles_and_closes_when_its_window_runs_out(
        discussed: LoadedScenario) -> None:
    drill = at_twenty_minutes(discussed)
    asked = kinds(drill.events, Kind.QUESTION_ASKED)[-1]
    assert asked.to == ("ic", "ml") and asked.payload["closes"] == 1800.0
    assert asked.payload["options"] == [{"id": "ic", "text": "The incident commander"},
                                        {"id": "anyone", "text": "Anyone on call"}]
    drill.advance_to(30 * 60)
    closed = kinds(drill.events, Kind.QUESTION_CLOSED)[-1]
    assert closed.t == 1800.0 and closed.payload["reason"] == "time"
    assert closed.payload["expected"] == ["ic"] and closed.payload["why"] == "The IC owns the declaration."


def test_answers_are_refused_in_deterministic_words_when_they_do_not_fit(discussed: LoadedScenario) -> None:
    early = Drill(discussed.scenario, 1).submit(answer("ic", "who-declares", ["ic"], 80))
    drill = at_twenty_minutes(discussed)
    reasons = [drill.submit(c).payload.get("reason") for c in (
        answer("comms", "who-declares", ["ic"], 80),
        answer("ic", "who-declares", ["boss"], 80),
        answer("ic", "who-declares", ["ic", "anyone"], 80),
        answer("ic", "who-declares", [], 80, text="me"),
        answer("ic", "who-declares", ["ic"], 80, player="Ana"),
        answer("ic", "who-declares", ["anyone"], 20, player="Ana"),
    )]
    assert early.payload["reason"] == "question 'who-declares' has not been asked yet"
    assert reasons == [
        "question 'who-declares' is not addressed to comms",
        "'boss' is not an option of 'who-declares' (options: ic, anyone)",
        "question 'who-declares' takes exactly one choice; found 2",
        "question 'who-declares' takes choices, not text (write remarks in 'note')",
        None,
        "Ana has already answered 'who-declares'",
    ]


def test_answers_and_observations_are_hidden_from_players_and_the_closing_tells_the_roles_asked(
        discussed: LoadedScenario) -> None:
    """Answers stay independent: a player seat never sees another's answer (nor the command carrying
    it) or an evaluator's note; the facilitator and evaluator see both, and the closing reaches ic/ml."""
    drill = at_twenty_minutes(discussed)
    drill.submit(answer("ic", "who-declares", ["ic"], 90, player="Ana"))
    drill.submit(Command(role="evaluator", action="observe", player="Eve",
                         params={"objective": OBJECTIVE, "tag": "strength", "text": "Clear ownership."}))
    drill.submit(close("who-declares"))
    ml = DrillView(seat="ml").extend(drill.events)
    facilitator = DrillView(seat="evaluator").extend(drill.events)
    assert ml.questions["who-declares"].answers == [] and ml.observations == []
    assert ml.questions["who-declares"].expected == ["ic"] and not ml.questions["who-declares"].open
    assert [a["player"] for a in facilitator.questions["who-declares"].answers] == ["Ana"]
    assert facilitator.observations[0]["by"] == "Eve" and facilitator.observations[0]["seat"] == "evaluator"
    assert list(DrillView(seat="comms").extend(drill.events).questions) == ["who-hears"]



def test_a_free_text_answer_carries_no_confidence_and_a_choice_answer_needs_one(
        discussed: LoadedScenario) -> None:
    """Words are not right or wrong, so a free-text answer asks no confidence: it is taken without one
    and its event says ``None`` (the timeline says no "% sure"); a choice answer without one is
    refused in words."""
    drill = at_twenty_minutes(discussed)
    refused = drill.submit(answer("ic", "who-declares", ["ic"], None))
    drill.run_to_end()
    taken = drill.submit(answer("ic", "lessons", [], None, text="Page legal with the IC."))
    (given,) = kinds(drill.events, Kind.ANSWER_GIVEN)
    assert refused.payload["reason"] == (
        "question 'who-declares' needs a confidence with its choice (0-100: how sure)")
    assert taken.kind == Kind.COMMAND and given.payload["confidence"] is None
    assert describe(given) == "ic answered lessons: 'Page legal with the IC.'"


def test_an_old_journal_with_a_confidence_on_a_free_text_answer_replays_and_reports_without_it(
        discussed: LoadedScenario, tmp_path: Path) -> None:
    """Journals from before the rule carry a confidence on free-text answers: they still load and
    replay bit for bit, and the report's table of a free-text question has no confidence column,
    so no "50 %" shows beside the words (the choice answers keep theirs)."""
    drill = Drill(discussed.scenario, 1, content_hash=discussed.content_hash, source=discussed.label)
    drill.advance_to(700)
    drill.submit(close("who-hears"))
    drill.advance_to(20 * 60)
    drill.submit(answer("ic", "who-declares", ["ic"], 90))
    drill.run_to_end()
    drill.submit(answer("ic", "lessons", [], 50, text="Page legal with the IC."))
    drill.submit(close("lessons"))
    finish(drill, discussed, "human")
    path = tmp_path / "old.jsonl"
    write_journal(path, drill.header("human"), drill.events)
    assert replay(read_journal(path), discussed).matches
    md = render_markdown(build_report(path))
    lessons = md[md.index("### What would you change?"):md.index("## Strengths")]
    assert "| time | who | role | answer | note |" in lessons
    assert "| ic | Page legal with the IC. |" in lessons
    assert "50 %" not in lessons and "sure" not in lessons
    assert "| The incident commander | 90 % | right |" in md


def test_an_evaluator_may_only_observe(discussed: LoadedScenario) -> None:
    drill = Drill(discussed.scenario, 1)
    refused = drill.submit(Command(role="evaluator", action="end_drill"))
    bad = drill.submit(Command(role="evaluator", action="observe",
                               params={"objective": "Nope", "tag": "strength", "text": "x"}))
    assert refused.kind == Kind.REFUSED and refused.payload["reason"] == EVALUATOR_REFUSAL
    assert bad.payload["reason"].startswith("unknown objective 'Nope'")
    assert not drill.finished


def test_a_question_asked_with_an_inject_that_pauses_holds_the_clock_until_it_is_closed(
        discussed: LoadedScenario) -> None:
    drill = Drill(discussed.scenario, 1)
    drill.advance_to(11 * 60)
    asked = kinds(drill.events, Kind.QUESTION_ASKED)
    assert [e.payload["question"] for e in asked] == ["who-hears"] and asked[0].t == 600.0
    assert asked[0].payload["closes"] is None and drill.held
    drill.advance_to(3600)
    assert drill.now == 600.0, "time stands still while a pausing question is open"
    drill.submit(answer("ic", "who-hears", ["exec", "legal"], 70))
    drill.submit(Command(role="facilitator", action="close_question",
                         params={"question": "who-hears", "reason": "answered"}))
    drill.advance_to(3600)
    assert not drill.held and drill.now == 3600.0
    assert kinds(drill.events, Kind.QUESTION_CLOSED)[0].payload["alignment"] == 1.0


def test_the_hot_wash_holds_the_end_until_its_questions_close(discussed: LoadedScenario) -> None:
    """At the end the hot-wash questions are asked and the drill waits; other commands are refused;
    closing the last one ends the drill (reason: its time ran out)."""
    drill = Drill(discussed.scenario, 1)
    drill.advance_to(700)
    drill.submit(close("who-hears"))
    drill.run_to_end()
    assert not drill.finished and drill.discussion.in_hot_wash
    (wash,) = kinds(drill.events, Kind.HOT_WASH)
    assert wash.payload == {"reason": "time", "questions": ["lessons"]}
    refused = drill.submit(Command(role="ic", action="declare_incident"))
    assert refused.payload["reason"].startswith("the drill's time is up")
    drill.submit(answer("comms", "lessons", [], 60, text="Page the IC sooner."))
    drill.submit(close("lessons"))
    assert drill.finished and kinds(drill.events, Kind.DRILL_ENDED)[0].payload["reason"] == "time"


def test_ending_the_drill_again_during_the_hot_wash_ends_it(discussed: LoadedScenario) -> None:
    drill = Drill(discussed.scenario, 1)
    drill.advance_to(700)
    drill.submit(close("who-hears"))
    drill.submit(Command(role="facilitator", action="end_drill"))
    assert drill.discussion.in_hot_wash and not drill.finished
    drill.submit(Command(role="facilitator", action="end_drill"))
    closed = kinds(drill.events, Kind.QUESTION_CLOSED)
    assert drill.finished and closed[-1].payload == {
        "question": "lessons", "reason": "end", "answers": 0, "expected": [], "why": "", "alignment": None}


async def test_the_hot_seat_closes_a_question_as_soon_as_its_player_answers(
        discussed: LoadedScenario) -> None:
    session = LocalSession(discussed, seed=1)
    session.drill.advance_to(700)
    session.drill.submit(close("who-hears"))
    session.drill.advance_to(20 * 60)
    accepted = await session.submit(answer("ic", "who-declares", ["ic"], 75))
    closed = kinds(session.drill.events, Kind.QUESTION_CLOSED)[1:]
    assert accepted.kind == Kind.COMMAND
    assert closed[0].payload["reason"] == "answered" and closed[0].t == 1200.0
    assert not session.view.questions["who-declares"].open
    await session.close()


async def test_the_hot_seat_clock_stops_while_a_pausing_question_is_open_and_runs_again_after(
        discussed: LoadedScenario) -> None:
    """The pausing 0:10 question stops the drill clock where it was asked; answering it (which closes
    it) lets the clock run again."""
    session = LocalSession(discussed, seed=1, speed=60.0)
    session.clock.resume()
    session.clock.jump(660.0)
    session.pacer.sync()
    assert session.drill.held and session.clock.paused and session.clock.now() == 600.0
    await session.submit(answer("ic", "who-hears", ["exec", "legal"], 70))
    assert not session.drill.held and not session.clock.paused
    await session.close()


# --- bots, replay and fork ---------------------------------------------------------------------


def test_textbook_answers_the_expected_answer_at_85_and_the_runner_closes_it(
        discussed: LoadedScenario) -> None:
    run = run_policy(discussed, Textbook(discussed.scenario), 1)
    given = kinds(run.drill.events, Kind.ANSWER_GIVEN)
    assert {e.payload["question"]: e.payload["choices"] for e in given} == {
        "who-hears": ["exec", "legal"], "who-declares": ["ic"], "lessons": []}
    assert {e.payload["question"]: e.payload["confidence"] for e in given} == {
        "who-hears": TEXTBOOK_CONFIDENCE, "who-declares": TEXTBOOK_CONFIDENCE, "lessons": None}, (
        "a choice at 85 %; the free-text answer asks no confidence")
    assert [e.payload["reason"] for e in kinds(run.drill.events, Kind.QUESTION_CLOSED)] == ["answered"] * 3
    assert run.drill.finished and run.result.breakdown[-1].name == "discussion"


def test_idle_answers_nothing_and_still_finishes(discussed: LoadedScenario) -> None:
    """A team that answers nothing scores nothing for the discussion: silence earns no calibration."""
    run = run_policy(discussed, Idle(), 1)
    assert kinds(run.drill.events, Kind.ANSWER_GIVEN) == []
    assert run.drill.finished
    part = next(c for c in run.result.breakdown if c.name == "discussion")
    assert part.value == 0 and part.points == 0.0


def test_a_drill_ended_before_any_scored_question_leaves_the_discussion_out_of_the_score(
        discussed: LoadedScenario) -> None:
    """Ended before any scored question was asked: the component is shown, weighted 0, not 100 points."""
    drill = Drill(discussed.scenario, 1, content_hash=discussed.content_hash, source=discussed.label)
    drill.submit(Command(role="facilitator", action="end_drill"))
    drill.submit(Command(role="facilitator", action="end_drill"))
    assert drill.finished
    part = next(c for c in finish(drill, discussed, None).breakdown if c.name == "discussion")
    assert (part.weight, part.points) == (0.0, 0.0) and "not counted" in part.why


def test_a_scripted_policy_answers_and_a_bad_answer_step_is_located(
        discussed: LoadedScenario, tmp_path: Path) -> None:
    script = tmp_path / "team.yaml"
    script.write_text("answers:\n  - question: who-declares\n    choices: [anyone]\n    confidence: 95\n"
                      "    delay: 2m\n")
    run = run_policy(discussed, load_policy(str(script), discussed.scenario), 1)
    (given,) = kinds(run.drill.events, Kind.ANSWER_GIVEN)
    assert given.t == 1320.0 and given.payload["choices"] == ["anyone"] and given.payload["role"] == "ic"
    script.write_text("answers:\n  - question: who-declares\n    choices: [boss]\n    confidence: 95\n"
                      "  - question: who-decides\n    confidence: 10\n")
    with pytest.raises(FileProblems) as caught:
        load_policy(str(script), discussed.scenario)
    assert [str(p) for p in caught.value.problems] == [
        f"{script}:3:14: 'boss' is not an option of 'who-declares' (options: ic, anyone)",
        f"{script}:5:15: question: 'mini' has no question 'who-decides'; did you mean 'who-declares'?"]



def test_a_scripted_answer_in_words_takes_no_confidence_and_a_choice_needs_one(
        discussed: LoadedScenario, tmp_path: Path) -> None:
    """A policy file's free-text answer with a confidence, or choice answer without one, is an error at
    its line; the right shapes load and play."""
    script = tmp_path / "team.yaml"
    script.write_text("answers:\n  - question: lessons\n    text: Page legal.\n    confidence: 60\n"
                      "  - question: who-declares\n    choices: [ic]\n")
    with pytest.raises(FileProblems) as caught:
        load_policy(str(script), discussed.scenario)
    assert [str(p) for p in caught.value.problems] == [
        f"{script}:4:17: confidence: question 'lessons' is answered in words and takes no confidence "
        "(remove it)",
        f"{script}:5:5: confidence: question 'who-declares' is answered with a choice: say how sure (0-100)"]
    script.write_text("answers:\n  - question: lessons\n    text: Page legal.\n"
                      "  - question: who-declares\n    choices: [ic]\n    confidence: 70\n")
    run = run_policy(discussed, load_policy(str(script), discussed.scenario), 1)
    assert {e.payload["question"]: e.payload["confidence"] for e in kinds(run.drill.events, Kind.ANSWER_GIVEN)
            } == {"who-declares": 70, "lessons": None}


def test_the_same_seed_and_answers_give_the_same_journal_and_replay_rederives_it(
        discussed: LoadedScenario, tmp_path: Path) -> None:
    runs = [run_policy(discussed, Textbook(discussed.scenario), 4) for _ in range(2)]
    assert [e.to_json() for e in runs[0].drill.events] == [e.to_json() for e in runs[1].drill.events]
    path = tmp_path / "run.jsonl"
    write_journal(path, runs[0].drill.header("textbook"), runs[0].drill.events)
    report = replay(read_journal(path), discussed)
    assert report.matches, report.first_difference


def test_a_fork_keeps_the_answers_given_before_the_fork_point(
        discussed: LoadedScenario, tmp_path: Path) -> None:
    """Forked at 0:25, the branch has the parent's answer to the 0:20 question, event for event."""
    parent = run_policy(discussed, Textbook(discussed.scenario), 2)
    path = tmp_path / "parent.jsonl"
    write_journal(path, parent.drill.header("textbook"), parent.drill.events)
    branch = fork(read_journal(path), discussed, 25 * 60, path)
    mine = [e.to_json() for e in before(branch.events, 1500.0)]
    assert mine == [e.to_json() for e in before(parent.drill.events, 1500.0)]
    assert any(e.kind == Kind.ANSWER_GIVEN and e.payload["question"] == "who-declares" for e in branch.events)


# --- scoring -----------------------------------------------------------------------------------


def test_the_discussion_score_of_a_hand_computed_case() -> None:
    """Q1 (one, expect a): a@80 right, a@60 right, b@90 wrong — 2/3 right, 2/3 agree (aligned).
    Q2 (several, expect {x, y}): {x, y}@50 right, {x}@100 wrong — 1/2 right, 1/2 agree (not aligned).
    Q3 unanswered: earns nothing (silence gets no calibration credit).
    Brier terms of the answers given 0.04 + 0.16 + 0.81 + 0.25 + 1.0 = 2.26 over 5: calibration
    1 − 0.452 = 0.548. Score = 100 × ((0.5 × 2/3 + 0.3 × 0.548 + 0.2 × 1)
    + (0.5 × 1/2 + 0.3 × 0.548 + 0.2 × 0) + 0) / 3 = 100 × (0.697733 + 0.4144) / 3 = 37.07."""
    figures = [judge("q1", ["a"], [(["a"], 80), (["a"], 60), (["b"], 90)]),
               judge("q2", ["x", "y"], [(["y", "x"], 50), (["x"], 100)]),
               judge("q3", ["a"], [])]
    assert [round(f.correct_share, 4) for f in figures] == [0.6667, 0.5, 0.0]
    assert [f.aligned for f in figures] == [True, False, False]
    assert calibration(figures) == pytest.approx(0.548, abs=1e-6)
    assert discussion_points(figures) == pytest.approx(37.07, abs=0.005)


def test_confident_and_wrong_costs_more_than_unsure_and_wrong() -> None:
    sure = calibration([judge("q", ["a"], [(["b"], 95)])])
    unsure = calibration([judge("q", ["a"], [(["b"], 30)])])
    assert sure < unsure


def test_a_scenario_without_scored_questions_has_no_discussion_component(
        write_scenario: WriteScenario) -> None:
    plain = load_scenario(str(write_scenario(MINIMAL, "plain.yaml")))
    assert not plain.scenario.questions
    run = run_policy(plain, Idle(), 3)
    assert "discussion" not in {c.name for c in run.result.breakdown}


# --- the report --------------------------------------------------------------------------------


def _played(discussed: LoadedScenario) -> Drill:
    """Two players answer (one right, one wrong, split), an evaluator notes both kinds, hot wash answered."""
    drill = Drill(discussed.scenario, 1, content_hash=discussed.content_hash, source=discussed.label)
    drill.advance_to(700)
    drill.submit(close("who-hears"))
    drill.advance_to(20 * 60)
    drill.submit(answer("ic", "who-declares", ["ic"], 90, player="Ana"))
    drill.submit(answer("ml", "who-declares", ["anyone"], 85, player="Ben"))
    for tag, text in (("strength", "Ana named herself IC at once."), ("improvement", "Nobody paged legal.")):
        drill.submit(Command(role="evaluator", action="observe", player="Eve",
                             params={"objective": OBJECTIVE, "tag": tag, "text": text}))
    drill.run_to_end()
    drill.submit(answer("ic", "lessons", [], None, text="Page legal with the IC.", player="Ana"))
    drill.submit(close("lessons"))
    return drill


def test_the_report_has_a_discussion_section_with_every_answer_and_the_observations_in_the_findings(
        discussed: LoadedScenario, tmp_path: Path) -> None:
    drill = _played(discussed)
    result = finish(drill, discussed, "human")
    aar = facts(Journal(drill.header("human"), drill.events), discussed.scenario, result, None)
    md = render_markdown(aar)
    section = md[md.index("## Discussion"):md.index("## Strengths")]
    assert "### Who declares the incident?" in section
    assert "| 0:20:00 | Ana | ic | The incident commander | 90 % | right |  |" in section
    assert "| 0:20:00 | Ben | ml | Anyone on call | 85 % | wrong |  |" in section
    assert "alignment 50% (not aligned, ≥60 %)" in section
    assert "expected: The incident commander — The IC owns the declaration." in section
    assert "Page legal with the IC." in section
    strengths = md[md.index("## Strengths"):md.index("## Areas for improvement")]
    improvements = md[md.index("## Areas for improvement"):md.index("## Investigation findings")]
    assert "Ana named herself IC at once. [" + OBJECTIVE + "] — observed by Eve (evaluator)" in strengths
    assert "Nobody paged legal." in improvements and "The team was split on 'Who declares" in improvements
    assert "1 answer(s) were confident (≥80 %) and wrong." in improvements
    row = next(line for line in md.splitlines() if line.startswith(f"| {OBJECTIVE} |"))
    assert row == f"| {OBJECTIVE} | M | 0 met, 0 missed | 1 of 1 answered; 0 right, 1 wrong | " \
                  "1 strength(s), 1 for improvement |"


def test_ttx_report_renders_the_discussion_from_a_journal_file(
        discussed: LoadedScenario, tmp_path: Path) -> None:
    drill = _played(discussed)
    finish(drill, discussed, "human")
    path = tmp_path / "drill.jsonl"
    write_journal(path, drill.header("human"), drill.events)
    aar = build_report(path)
    assert [q.question for q in aar.discussion] == ["who-hears", "who-declares", "lessons"]
    assert [o.tag for o in aar.observations] == ["strength", "improvement"]
    assert next(c for c in aar.result.breakdown if c.name == "discussion").weight == 6
    html = render_html(aar)
    assert '<section id="discussion"><h2>Discussion</h2>' in html and "Ben" in html
    assert '<a href="#discussion">Discussion</a>' in html


def test_a_report_without_questions_or_observations_has_no_discussion_section(
        write_scenario: WriteScenario) -> None:
    plain = load_scenario(str(write_scenario(MINIMAL, "plain.yaml")))
    run = run_policy(plain, Idle(), 3)
    aar = facts(Journal(run.drill.header("idle"), run.drill.events), plain.scenario, run.result, None)
    assert "## Discussion" not in render_markdown(aar)
    assert 'id="discussion"' not in render_html(aar)


def test_a_team_seat_may_send_an_answer_and_its_parameters_are_checked_strictly() -> None:
    from simulator.team.protocol import params_problem

    assert params_problem("answer", {"question": "who-declares", "choices": ["ic"], "confidence": 80}) is None
    assert params_problem("answer", {"question": "who-declares", "confidence": 101}) == (
        "bad parameter confidence: Input should be less than or equal to 100")


def test_next_stops_when_a_question_is_asked_so_the_team_gets_its_whole_window(
        flagship: LoadedScenario) -> None:
    """The flagship asks ``who-is-on-point`` 2 minutes after the declaration, for 10 minutes. The
    facilitator's "next" stops when it is asked (it used to run on to the next inject, leaving 2 of
    its 10 minutes); a second "next" goes on to the inject, and the open question keeps its closing
    time, closing on the way if that came first."""
    drill = Drill(flagship.scenario, seed=7)
    drill.submit(Command(role="ic", action="declare_incident", params={"commander": "ic"}))
    drill.skip_to_next_inject()
    asked = drill.events[-1]
    assert (asked.kind, asked.payload["question"]) == (Kind.QUESTION_ASKED, "who-is-on-point")
    assert drill.now == asked.t + 0.001 == 2 * 60 + 0.001
    assert asked.payload["closes"] - drill.now == pytest.approx(10 * 60, abs=0.01), "the whole window"

    drill.skip_to_next_inject()
    arrived = [e for e in drill.events if e.t > asked.t and e.kind in (Kind.INJECT, Kind.QUESTION_ASKED)]
    assert arrived and arrived[0].kind == Kind.INJECT, "an open question does not stop it"
    question = drill.discussion.questions["who-is-on-point"]
    closed = question.closed_at is not None
    assert closed == (drill.now > asked.payload["closes"]), "it closes at its own time, not at the skip"
