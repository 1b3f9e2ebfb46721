"""Discussion questions and evaluators in a team drill, over real websockets on loopback.

Each holder of an addressed role answers on their own seat; answers stay hidden from the players
until the question closes (the server closes it once every connected holder has answered); the
facilitator and the evaluator see every answer arrive; the evaluator observes and is refused
anything that steers; ``--resume`` keeps the evaluator token working; the journal holds it all.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from simulator.engine.events import Event, Kind
from simulator.engine.journal import read_journal
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario, load_scenario
from simulator.format.taxonomy import EVALUATOR, FACILITATOR
from simulator.team.remote import RemoteError, RemoteSession
from simulator.team.server import DrillServer, Limits, _rederive, digest
from tests.conftest import WriteScenario
from tests.discussion_scenario import DISCUSSION, OBJECTIVES

CODE = "K7Q2MD"
TOKEN = "white-cell-secret"
EVALUATOR_TOKEN = "evaluator-secret"


class Team:
    """A drill server with the discussion scenario and the sessions opened against it."""

    def __init__(self, server: DrillServer, url: str) -> None:
        self.server, self.url = server, url
        self.sessions: list[RemoteSession] = []

    async def open(self, **kwargs: object) -> RemoteSession:
        """A seat (``role`` and ``code``, ``facilitator_token`` or ``evaluator_token``)."""
        session = await RemoteSession.open(self.url, timeout=5.0, **kwargs)
        self.sessions.append(session)
        return session


@pytest.fixture
def discussion(write_scenario: WriteScenario) -> LoadedScenario:
    return load_scenario(str(write_scenario(DISCUSSION)))


@pytest.fixture
async def team(tmp_path: Path, discussion: LoadedScenario) -> AsyncIterator[Team]:
    """The discussion scenario hosted with an evaluator token on a free loopback port."""
    server = DrillServer.host(discussion, tmp_path / "drill.jsonl", seed=7, code=CODE,
                              facilitator_token=TOKEN, evaluator_token=EVALUATOR_TOKEN,
                              limits=Limits(max_evaluators=2))
    port = await server.start("127.0.0.1", 0)
    made = Team(server, f"ws://127.0.0.1:{port}")
    yield made
    for session in made.sessions:
        await session.close()
    await made.server.stop()


def kinds(session: RemoteSession, kind: Kind, question: str | None = None) -> list[Event]:
    """The events of one kind this seat received (about one question)."""
    return [e for e in session.received if e.kind == kind
            and (question is None or e.payload.get("question") == question)]


def answer(role: str, question: str, choices: list[str], confidence: int) -> Command:
    """An ``answer`` command as a player's seat sends it."""
    return Command(role=role, action="answer", params={"question": question, "choices": choices,
                                                       "confidence": confidence, "note": ""})


async def test_each_seat_answers_on_its_own_and_the_facilitator_and_evaluator_see_the_answers(
        team: Team) -> None:
    """Two players of different roles answer on their own seats; neither sees the other's answer,
    the facilitator and the evaluator see both; once both have answered the server closes the
    question and each player is told the expected answer and why."""
    facilitator = await team.open(name="Lee", facilitator_token=TOKEN)
    evaluator = await team.open(name="Eve", evaluator_token=EVALUATOR_TOKEN)
    dana = await team.open(name="Dana", role="ic", code=CODE)
    sam = await team.open(name="Sam", role="ml", code=CODE)
    await facilitator.start()
    await facilitator.next_inject()
    for seat in (dana, sam):
        await seat.wait_until(lambda s: "who-decides" in s.view.questions)
    assert evaluator.seat == EVALUATOR and "who-decides" in evaluator.view.questions

    first = await dana.submit(answer("ic", "who-decides", ["ic"], 80))
    assert first.kind == Kind.COMMAND
    await facilitator.wait_until(lambda s: len(kinds(s, Kind.ANSWER_GIVEN, "who-decides")) == 1)
    assert not kinds(sam, Kind.ANSWER_GIVEN), "answers stay independent"
    assert sam.view.questions["who-decides"].open
    assert (await sam.submit(answer("ml", "who-decides", ["exec"], 40))).kind == Kind.COMMAND

    for seat in (dana, sam):
        await seat.wait_until(lambda s: not s.view.questions["who-decides"].open)
        closed = seat.view.questions["who-decides"]
        assert (closed.reason, closed.expected) == ("answered", ["ic"])
        assert closed.why.startswith("The IC owns containment")
    for seat in (facilitator, evaluator):
        await seat.wait_until(lambda s: len(kinds(s, Kind.ANSWER_GIVEN, "who-decides")) == 2)
        assert {(e.payload["player"], e.payload["role"], tuple(e.payload["choices"]))
                for e in kinds(seat, Kind.ANSWER_GIVEN, "who-decides")} == {
            ("Dana", "ic", ("ic",)), ("Sam", "ml", ("exec",))}

    again = await sam.submit(answer("ml", "who-decides", ["ic"], 90))
    assert again.kind == Kind.REFUSED and "is closed" in again.payload["reason"]


async def test_the_facilitators_next_stops_when_questions_are_asked_and_goes_on_past_open_ones(
        team: Team) -> None:
    """Over real websockets: the facilitator's "next" stops at 0:05, when both questions are asked
    (the first inject comes at 0:10), so the team gets their whole 20 minutes; a second "next" goes
    on to the inject while they stay open, closing at 0:25 as asked."""
    facilitator = await team.open(name="Lee", facilitator_token=TOKEN)
    dana = await team.open(name="Dana", role="ic", code=CODE)
    await facilitator.start()
    await facilitator.next_inject()
    await dana.wait_until(lambda s: {"who-decides", "who-told"} <= set(s.view.questions))
    assert not dana.view.injects, "it stopped at the questions, before the inject"
    assert team.server.drill.now == pytest.approx(5 * 60, abs=0.01)
    asked = kinds(dana, Kind.QUESTION_ASKED, "who-decides")[0]
    assert asked.payload["closes"] == 25 * 60, "the whole window"

    await facilitator.next_inject()
    await dana.wait_until(lambda s: bool(s.view.injects))
    assert team.server.drill.now == pytest.approx(10 * 60, abs=0.01)
    assert dana.view.questions["who-decides"].open and dana.view.questions["who-told"].open


async def test_a_question_closes_once_every_connected_holder_of_its_roles_has_answered(team: Team) -> None:
    """``who-told`` goes to IC and comms; nobody holds comms, so IC's answer closes it."""
    facilitator = await team.open(name="Lee", facilitator_token=TOKEN)
    dana = await team.open(name="Dana", role="ic", code=CODE)
    await facilitator.start()
    await facilitator.next_inject()
    await dana.wait_until(lambda s: "who-told" in s.view.questions)
    await dana.submit(answer("ic", "who-told", ["legal", "exec"], 70))
    await dana.wait_until(lambda s: not s.view.questions["who-told"].open)
    closes = [e for e in read_journal(team.server.journal.path).events
              if e.kind == Kind.COMMAND and e.payload["action"] == "close_question"]
    assert [(e.actor, e.payload["params"]) for e in closes] == [
        (FACILITATOR, {"question": "who-told", "reason": "answered"})]


async def test_a_refused_answer_reaches_only_the_player_who_sent_it(team: Team) -> None:
    """Sam and Max both hold ML. Sam's answer naming no option is refused: Sam, the facilitator and
    the evaluator see the refusal (with its choices); Max, in the same role, does not, so answers
    stay independent (the refusal used to go to every holder of the role)."""
    facilitator = await team.open(name="Lee", facilitator_token=TOKEN)
    evaluator = await team.open(name="Eve", evaluator_token=EVALUATOR_TOKEN)
    sam = await team.open(name="Sam", role="ml", code=CODE)
    max_ = await team.open(name="Max", role="ml", code=CODE)
    await facilitator.start()
    await facilitator.next_inject()
    await max_.wait_until(lambda s: "who-decides" in s.view.questions)

    refused = await sam.submit(answer("ml", "who-decides", ["boss"], 90))
    assert refused.kind == Kind.REFUSED
    for seat in (sam, facilitator, evaluator):
        await seat.wait_until(lambda s: bool(kinds(s, Kind.REFUSED)))
        assert kinds(seat, Kind.REFUSED)[0].payload["params"]["choices"] == ["boss"]
    await sam.chat("after my refusal")
    await max_.wait_until(lambda s: any(m["text"] == "after my refusal" for m in s.view.messages))
    assert not kinds(max_, Kind.REFUSED), "events arrive in order: the refusal would have come first"


async def test_two_players_of_one_name_in_one_role_answer_as_two_people(team: Team) -> None:
    """Two players called Sam hold ML: the first Sam's answer leaves the question open for the
    second, whose answer is taken too; the question closes once both have answered, and the
    alignment counts two people (one for each option: 50 %). Answers are counted by the player's
    id; by name the second Sam was one person who had already answered."""
    facilitator = await team.open(name="Lee", facilitator_token=TOKEN)
    first = await team.open(name="Sam", role="ml", code=CODE)
    second = await team.open(name="Sam", role="ml", code=CODE)
    assert first.player != second.player
    await facilitator.start()
    await facilitator.next_inject()
    await second.wait_until(lambda s: "who-decides" in s.view.questions)

    assert (await first.submit(answer("ml", "who-decides", ["ic"], 80))).kind == Kind.COMMAND
    assert team.server.drill.discussion.questions["who-decides"].open, "the other Sam has not answered"
    assert (await second.submit(answer("ml", "who-decides", ["exec"], 40))).kind == Kind.COMMAND

    await facilitator.wait_until(lambda s: not s.view.questions["who-decides"].open)
    closed = facilitator.view.questions["who-decides"]
    assert (closed.reason, len(closed.answers), closed.alignment) == ("answered", 2, 0.5)
    assert [e.payload["player_id"] for e in read_journal(team.server.journal.path).events
            if e.kind == Kind.COMMAND and e.payload["action"] == "answer"] == [first.player, second.player]


async def test_the_evaluator_observes_and_is_refused_anything_that_steers(team: Team) -> None:
    """The evaluator's observation is journaled (hidden from players) and reaches the facilitator;
    pausing, ending, acting, chatting and closing a question are refused with one reason; the
    journal keeps the refusals and re-derives event for event."""
    facilitator = await team.open(name="Lee", facilitator_token=TOKEN)
    evaluator = await team.open(name="Eve", evaluator_token=EVALUATOR_TOKEN)
    dana = await team.open(name="Dana", role="ic", code=CODE)
    await facilitator.start()

    noted = await evaluator.submit(Command(role=EVALUATOR, action="observe", params={
        "objective": OBJECTIVES[0], "tag": "strength", "text": "Dana named an owner at once"}))
    assert noted.kind == Kind.COMMAND
    await facilitator.wait_until(lambda s: bool(kinds(s, Kind.OBSERVATION)))
    assert kinds(facilitator, Kind.OBSERVATION)[0].payload == {
        "by": "Eve", "seat": EVALUATOR, "objective": OBJECTIVES[0], "tag": "strength",
        "text": "Dana named an owner at once"}

    await evaluator.pause()
    await evaluator.end()
    acted = await evaluator.submit(Command(role=EVALUATOR, action="declare_incident"))
    chat = await evaluator.chat("I should not be heard")
    closed = await evaluator.submit(Command(role=FACILITATOR, action="close_question",
                                            params={"question": "who-decides"}))
    reasons = [e.message for e in evaluator.errors] + [str(acted.payload["reason"]), str(chat.reason),
                                                       str(closed.payload["reason"])]
    assert all("an evaluator observes and cannot steer the drill" in r for r in reasons), reasons
    assert not facilitator.clock.paused and not dana.view.ended
    assert not kinds(dana, Kind.OBSERVATION) and not dana.view.messages

    await dana.submit(Command(role="ic", action="declare_incident"))
    await facilitator.end()
    await dana.wait_until(lambda s: "lessons" in s.view.questions)
    assert dana.view.questions["lessons"].hot_wash and not dana.view.ended, "the hot wash comes first"
    await facilitator.end()  # again: the facilitator ends the hot wash
    await dana.wait_until(lambda s: s.revealed)
    journal = read_journal(team.server.journal.path)
    refused = [e for e in journal.events if e.kind == Kind.SESSION_NOTE
               and e.payload.get("event") == "refused_frame" and e.actor == EVALUATOR]
    assert len(refused) == 5 and {e.payload["code"] for e in refused} == {"observes_only"}
    observations = [e for e in journal.events if e.kind == Kind.OBSERVATION]
    assert [e.hidden for e in observations] == [True]
    assert _rederive(team.server.journal.path, journal, team.server.loaded).events[:len(journal.events)] \
        == journal.events[:len(journal.events)]


async def test_a_wrong_evaluator_token_and_a_full_evaluator_bench_are_refused(team: Team) -> None:
    """The evaluator token is checked like the facilitator's; the evaluator seats are capped."""
    with pytest.raises(RemoteError, match="bad_token"):
        await team.open(name="Mallory", evaluator_token="not-the-token")
    await team.open(name="Eve", evaluator_token=EVALUATOR_TOKEN)
    await team.open(name="Eli", evaluator_token=EVALUATOR_TOKEN)
    with pytest.raises(RemoteError, match="role_full"):
        await team.open(name="Ezra", evaluator_token=EVALUATOR_TOKEN)


async def test_a_resumed_drill_keeps_the_evaluator_token(tmp_path: Path, discussion: LoadedScenario) -> None:
    """``ttx host --resume`` rebuilds the evaluator's gate from the journal's hash; a journal hosted
    without one takes a fresh token (and says so)."""
    path = tmp_path / "drill.jsonl"
    server = DrillServer.host(discussion, path, seed=7, code=CODE, facilitator_token=TOKEN,
                              evaluator_token=EVALUATOR_TOKEN)
    await server.stop()
    resumed = DrillServer.resume(path, code=CODE, evaluator_token="a-fresh-one")
    assert (resumed.evaluator_hash, resumed.evaluator_fresh) == (digest(EVALUATOR_TOKEN), False)
    port = await resumed.start("127.0.0.1", 0)
    try:
        eve = await RemoteSession.open(f"ws://127.0.0.1:{port}", name="Eve", evaluator_token=EVALUATOR_TOKEN,
                                       timeout=5.0)
        assert eve.seat == EVALUATOR
        await eve.close()
    finally:
        await resumed.stop()

    older = tmp_path / "older.jsonl"
    server = DrillServer.host(discussion, older, seed=7, code=CODE, facilitator_token=TOKEN)
    await server.stop()
    resumed = DrillServer.resume(older, code=CODE, evaluator_token="a-fresh-one")
    assert (resumed.evaluator_hash, resumed.evaluator_fresh) == (digest("a-fresh-one"), True)
    await resumed.stop()
    again = DrillServer.resume(older, code=CODE, evaluator_token="yet-another")
    assert again.evaluator_hash == digest("a-fresh-one"), "the fresh token is journaled and kept"
    await again.stop()


async def test_ttx_host_prints_the_evaluator_join_command_beside_the_facilitators(
        tmp_path: Path, discussion: LoadedScenario, capsys: pytest.CaptureFixture[str]) -> None:
    """The banner gives the evaluator token and its join command, the secret as an option value."""
    from simulator.cli.team import _banner

    server = DrillServer.host(discussion, tmp_path / "d.jsonl", code=CODE, facilitator_token=TOKEN,
                              evaluator_token="-evalsecret")
    _banner(server, argparse.Namespace(bind="127.0.0.1"), 8765, TOKEN, evaluator="-evalsecret")
    await server.stop()
    out = capsys.readouterr().out
    assert "evaluator token: -evalsecret" in out
    assert "ttx join ws://127.0.0.1:8765 --evaluator-token=-evalsecret --name=NAME" in out
    assert out.index("--facilitator-token=") < out.index("--evaluator-token=")


async def test_an_ssh_evaluator_logs_in_with_the_evaluator_token_and_no_other_secret_will_do(
        team: Team, tmp_path: Path) -> None:
    """``ssh evaluator@host`` asks for the evaluator token (the join code and the facilitator token
    do not open that seat) and gets the evaluator's lobby; the gate knows the token for what it is."""
    import asyncssh

    from simulator.team.ssh import Credential, SshSeats, drill_gate, host_key
    from tests.ssh_client import log_in

    gate = drill_gate(team.server)
    assert gate.identify("127.0.0.1", EVALUATOR_TOKEN) == Credential("evaluator")
    seats = SshSeats(gate, team.url, host_key(tmp_path / "drill.jsonl"), workdir=tmp_path)
    port = await seats.start("127.0.0.1", 0)
    conns = []
    try:
        for wrong in (CODE, TOKEN):
            with pytest.raises(asyncssh.PermissionDenied):
                await log_in(port, EVALUATOR, [wrong, "Eve"], seats.key.convert_to_public())
        conn, screen, answers = await log_in(port, EVALUATOR, [EVALUATOR_TOKEN, "Eve"],
                                             seats.key.convert_to_public())
        conns.append(conn)
        await screen.wait_for("Eve ● ← you")
        assert [p for p in answers.asked if p.endswith(": ")] == ["Evaluator token: ", "Your name: "]
        assert [(p.name, p.seat) for p in team.server.players.values()] == [("Eve", EVALUATOR)]
    finally:
        for conn in conns:
            conn.close()
        await seats.stop()


async def test_a_pausing_question_stops_every_seats_clock_until_it_closes(
        tmp_path: Path, write_scenario: WriteScenario) -> None:
    """A question with ``pauses: true`` holds the drill: the server tells every seat the clock has
    stopped, and that it runs again once the question has closed."""
    text = DISCUSSION.replace("    within: 20m\n    objective:", "    pauses: true\n    objective:", 1)
    loaded = load_scenario(str(write_scenario(text, "pausing.yaml")))
    server = DrillServer.host(loaded, tmp_path / "drill.jsonl", seed=7, code=CODE, facilitator_token=TOKEN,
                              speed=600.0)
    port = await server.start("127.0.0.1", 0)
    url = f"ws://127.0.0.1:{port}"
    sessions = [await RemoteSession.open(url, name="Lee", facilitator_token=TOKEN, timeout=5.0),
                await RemoteSession.open(url, name="Dana", role="ic", code=CODE, timeout=5.0)]
    facilitator, dana = sessions
    try:
        await facilitator.start()
        await dana.wait_until(lambda s: "who-decides" in s.view.questions)
        await dana.wait_until(lambda s: s.clock_state is not None and s.clock_state.paused)
        held_at = dana.clock.now()
        assert held_at == pytest.approx(300.0, abs=1.0), "held where the question was asked (5m)"
        await dana.submit(answer("ic", "who-decides", ["ic"], 90))
        await dana.wait_until(lambda s: s.clock_state is not None and not s.clock_state.paused)
        assert not dana.view.questions["who-decides"].open
    finally:
        for session in sessions:
            await session.close()
        await server.stop()


async def test_an_observation_frame_out_of_shape_is_refused_before_the_engine_sees_it(team: Team) -> None:
    """Observations are checked on the wire like chat: an escape character, an unknown tag or a text
    over 500 characters is a ``bad_frame`` reply, and nothing reaches the journal or another seat."""
    from simulator.team.protocol import Observe

    evaluator = await team.open(name="Eve", evaluator_token=EVALUATOR_TOKEN)
    bad = [{"objective": "", "tag": "strength", "text": "\x1b[2Jgone"},
           {"objective": "", "tag": "praise", "text": "fine"},
           {"objective": "", "tag": "strength", "text": "x" * 501}]
    for fields in bad:
        ack = await evaluator.request(lambda token, rid, f=fields: Observe.model_construct(  # type: ignore[misc]
            token=token, id=rid, kind="observe", **f))
        assert not ack.accepted and str(ack.reason).startswith("bad_frame"), ack
    assert not [e for e in team.server.drill.events if e.kind == Kind.OBSERVATION]
