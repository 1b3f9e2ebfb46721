"""The discussion in play: questions asked and closed, answers with confidence, observations, the hot wash.

Everything here happens on a command or a scheduled time, so it is journaled and re-derived like
the rest of the drill: a question is asked at a time, on a trigger, with an inject, or in the hot
wash at the end; it closes when its time runs out, on ``close_question``, or when the drill ends.
Answers and observations are hidden from players until the end, so answers stay independent; the
closing event tells the addressed roles the expected answer and why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from simulator.engine.events import Kind
from simulator.engine.index import index_of
from simulator.engine.intent import Intent
from simulator.engine.stage import Stage
from simulator.format.commands import AnswerParams, ObserveParams
from simulator.format.scenario import Question, Trigger

ALIGNED = 0.60
"""A team is aligned on a question when at least this share agree with the most common answer
(the threshold Immersive Labs uses)."""


@dataclass(frozen=True)
class Answer:
    """One player's answer to a question."""

    t: float
    role: str
    player: str | None
    choices: tuple[str, ...]
    text: str
    confidence: int | None
    """How sure, 0–100 % (``None``: a free-text answer, which asks no confidence)."""
    note: str = ""
    player_id: str | None = None
    """The team server's id of the person (``None`` in the hot seat and headless runs)."""

    @property
    def who(self) -> str:
        """The person (or, without a name, the role) who answered, as the report names them."""
        return self.player or self.role

    @property
    def person(self) -> str:
        """Who answered, as answers are counted: the player's id, else their name, else the role."""
        return self.player_id or self.who


@dataclass
class QuestionState:
    """One scenario question in this drill: waiting, open or closed, and its answers."""

    spec: Question
    roles: tuple[str, ...]
    """The roles in play it is addressed to."""
    asked_at: float | None = None
    closed_at: float | None = None
    reason: str = ""
    answers: list[Answer] = field(default_factory=list)

    @property
    def open(self) -> bool:
        """Asked and not yet closed."""
        return self.asked_at is not None and self.closed_at is None

    def answered_by(self, person: str) -> bool:
        """Whether this person (see :attr:`Answer.person`) has answered."""
        return any(a.person == person for a in self.answers)

    def alignment(self) -> float | None:
        """Share of answers agreeing with the most common answer (``None``: no choice answers)."""
        return alignment(frozenset(a.choices) for a in self.answers if a.choices)


def alignment(picks: Iterable[frozenset[str]]) -> float | None:
    """Share of the picks agreeing with the most common one (``None``: no picks); the team is
    aligned at :data:`ALIGNED` or more."""
    counts = Counter(picks)
    if not counts:
        return None
    return counts.most_common(1)[0][1] / counts.total()


class Discussion:
    """The scenario's questions, their answers, the observations, and the hot-wash phase."""

    def __init__(self, drill: Stage, finish: Callable[[str], None], *, ask: bool = True) -> None:
        self.drill = drill
        self._finish = finish
        addressed = index_of(drill.scenario).question_roles
        self.questions: dict[str, QuestionState] = {
            q.id: QuestionState(q, roles if ask else ())
            for q, roles in zip(drill.scenario.questions, addressed, strict=True)}
        self.observations: list[dict[str, Any]] = []
        """``observation`` payloads with their time ``t``."""
        self.hot_wash_reason: str | None = None
        """Why the drill is ending while its hot wash runs (``None``: no hot wash yet)."""
        self._pausing = 0
        """Open questions that stop the clock (kept as a count: the engine asks every step)."""
        self._open = 0
        """Questions asked and not yet closed (kept as a count: a headless run asks every turn)."""

    # --- asking ---------------------------------------------------------------------------

    def schedule(self) -> None:
        """Wait for every question's moment (hot-wash questions wait for the end)."""
        for q in self.drill.scenario.questions:
            if not self.questions[q.id].roles:
                continue
            ask = q.ask
            if ask.at is not None:
                self.drill.after(ask.at, _bind(self.ask, q.id))
            elif ask.trigger is not None:
                self.drill.triggers.when(ask.trigger, _bind(self.ask, q.id))
            elif ask.with_ is not None:
                self.drill.triggers.when(self._asked_with(q), _bind(self.ask, q.id))

    def _asked_with(self, q: Question) -> Trigger:
        """The trigger of a question asked with an inject (built once per scenario)."""
        known = index_of(self.drill.scenario).asked_with.get(q.id)
        return known if known is not None and known.inject == q.ask.with_ else Trigger(inject=q.ask.with_)

    def ask(self, question_id: str) -> None:
        """Put a question to its roles (once); a timed one closes when its ``within`` runs out."""
        state = self.questions[question_id]
        drill = self.drill
        if state.asked_at is not None or drill.finished or not state.roles:
            return
        if self.in_hot_wash and not state.spec.hot_wash:
            return
        q = state.spec
        state.asked_at = drill.now
        self._pausing += q.pauses
        self._open += 1
        deadline = q.deadline
        drill.emit(Kind.QUESTION_ASKED, "engine", {
            "question": q.id, "prompt": q.prompt, "kind": q.kind,
            "options": [{"id": o.id, "text": o.text} for o in q.options], "to": list(state.roles),
            "closes": None if deadline is None else round(drill.now + deadline, 6),
            "pauses": q.pauses, "hot_wash": q.hot_wash}, to=state.roles)
        if deadline is not None:
            drill.after(deadline, _bind(self._time_up, question_id))

    def _time_up(self, question_id: str) -> None:
        if self.questions[question_id].open:
            self.close(question_id, "time")

    # --- answering ------------------------------------------------------------------------

    def answer_refusal(self, command: Intent, p: AnswerParams) -> str | None:
        """Why this answer cannot be taken (deterministic words), or ``None``."""
        state = self.questions.get(p.question)
        if state is None:
            return f"unknown question {p.question!r}"
        if not state.open:
            return (f"question {p.question!r} has not been asked yet" if state.asked_at is None
                    else f"question {p.question!r} is closed")
        if command.role not in state.roles:
            return f"question {p.question!r} is not addressed to {command.role}"
        if state.answered_by(command.player_id or command.player or command.role):
            return f"{command.player or command.role} has already answered {p.question!r}"
        return answer_problem(state.spec, p)

    def answer(self, command: Intent, p: AnswerParams) -> None:
        """Record an answer (hidden from players until the end)."""
        drill = self.drill
        state = self.questions[p.question]
        answer = Answer(drill.now, command.role, command.player, tuple(p.choices), p.text.strip(),
                        p.confidence, p.note.strip(), command.player_id)
        state.answers.append(answer)
        drill.emit(Kind.ANSWER_GIVEN, command.role, {
            "question": p.question, "role": answer.role, "player": answer.player,
            "choices": list(answer.choices), "text": answer.text, "confidence": answer.confidence,
            "note": answer.note}, hidden=True)

    # --- closing --------------------------------------------------------------------------

    def close_refusal(self, question_id: str) -> str | None:
        """Why the facilitator cannot close this question now, or ``None``."""
        state = self.questions.get(question_id)
        if state is None:
            return f"unknown question {question_id!r}"
        if not state.open:
            return (f"question {question_id!r} has not been asked yet" if state.asked_at is None
                    else f"question {question_id!r} is already closed")
        return None

    def close(self, question_id: str, reason: str) -> None:
        """Close an open question: the addressed roles see the expected answer and why.

        Closing the last open hot-wash question ends the drill.
        """
        state = self.questions[question_id]
        drill = self.drill
        state.closed_at, state.reason = drill.now, reason
        alignment = state.alignment()
        q = state.spec
        self._pausing -= q.pauses
        self._open -= 1
        drill.emit(Kind.QUESTION_CLOSED, "engine", {
            "question": q.id, "reason": reason, "answers": len(state.answers),
            "expected": list(q.expected), "why": q.why,
            "alignment": None if alignment is None else round(alignment, 4)}, to=state.roles)
        if self.in_hot_wash and reason != "end" and not self.open_hot_wash():
            self._finish(self.hot_wash_reason or "time")

    def close_all(self, reason: str = "end") -> None:
        """Close every open question (the drill is ending)."""
        for question_id, state in self.questions.items():
            if state.open:
                self.close(question_id, reason)

    @property
    def open_questions(self) -> list[QuestionState]:
        """Questions asked and not yet closed, in scenario order."""
        if not self._open:
            return []
        return [s for s in self.questions.values() if s.open]

    def open_hot_wash(self) -> list[QuestionState]:
        """Hot-wash questions still open."""
        return [s for s in self.open_questions if s.spec.hot_wash]

    # --- the clock ------------------------------------------------------------------------

    @property
    def held(self) -> bool:
        """Whether the drill clock stands still: a pausing question is open, or the hot wash runs."""
        if not self._pausing and self.hot_wash_reason is None:
            return False
        return not self.drill.finished

    @property
    def in_hot_wash(self) -> bool:
        """Whether the drill's time is up and its hot-wash questions are being answered."""
        return self.hot_wash_reason is not None

    def begin_hot_wash(self, reason: str) -> bool:
        """The drill is ending: open the hot wash if there is one to hold. ``False``: end now.

        Ending again during the hot wash (the facilitator's ``end_drill``) ends the drill.
        """
        if self.in_hot_wash:
            return False
        waiting = [s for s in self.questions.values()
                   if s.spec.hot_wash and s.asked_at is None and s.roles]
        if not waiting:
            return False
        self.close_all("end")
        self.hot_wash_reason = reason
        self.drill.emit(Kind.HOT_WASH, "engine", {"reason": reason,
                                                  "questions": [s.spec.id for s in waiting]})
        for state in waiting:
            self.ask(state.spec.id)
        return True

    # --- observations ---------------------------------------------------------------------

    def observe_refusal(self, p: ObserveParams) -> str | None:
        """Why an observation cannot be recorded, or ``None``."""
        objectives = self.drill.scenario.objectives
        if p.objective and p.objective not in objectives:
            listed = "; ".join(repr(o) for o in objectives) or "none"
            return f"unknown objective {p.objective!r} (objectives: {listed})"
        if not p.text.strip():
            return "an observation needs some text"
        return None

    def observe(self, command: Intent, p: ObserveParams) -> None:
        """Record an observation (hidden from players until the end)."""
        payload = {"by": command.player or command.role, "seat": command.role,
                   "objective": p.objective, "tag": p.tag, "text": p.text.strip()}
        self.observations.append({"t": self.drill.now, **payload})
        self.drill.emit(Kind.OBSERVATION, command.role, payload, hidden=True)


def answer_problem(q: Question, p: AnswerParams) -> str | None:
    """Why the answer does not fit the question's kind and options, or ``None``."""
    if q.kind == "text":
        if p.choices:
            return f"question {q.id!r} takes a text answer, not choices"
        return None if p.text.strip() else f"question {q.id!r} needs a text answer"
    if p.text.strip():
        return f"question {q.id!r} takes choices, not text (write remarks in 'note')"
    unknown = [c for c in p.choices if q.option(c) is None]
    if unknown:
        return (f"{unknown[0]!r} is not an option of {q.id!r} "
                f"(options: {', '.join(o.id for o in q.options)})")
    if len(set(p.choices)) != len(p.choices):
        return "an option is chosen twice"
    if q.kind == "one" and len(p.choices) != 1:
        return f"question {q.id!r} takes exactly one choice; found {len(p.choices)}"
    if not p.choices:
        return f"question {q.id!r} takes at least one choice"
    if p.confidence is None:
        return f"question {q.id!r} needs a confidence with its choice (0-100: how sure)"
    return None


def _bind(fn: Callable[..., None], *args: Any) -> Callable[[], None]:
    """``fn`` with ``args`` bound, as a no-argument callback."""
    return lambda: fn(*args)
