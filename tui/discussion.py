"""What one keyboard does with the drill's discussion questions: which it answers, which wait for
their dialog, how they read in the inject feed and in the notices.

The engine decides everything (:mod:`simulator.engine.discussion`); this is the seat's side: a
question addressed to the seat is *due* until it is answered here or closes, the dialog opens for
the first due question when no other dialog is open, and the feed carries every question asked
of this seat like an inject (its body grows the answers for the facilitator and evaluators, and
the expected answer and why once it closes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simulator.format.hms import clock
from simulator.format.taxonomy import OBSERVERS
from tui.format import short_role

if TYPE_CHECKING:  # the view's payload types (~15 ms of named tuples) load with the drill, after the briefing
    from simulator.engine.view import DrillView, InjectSeen, QuestionSeen

QUESTION_CHANNEL = "question"
"""The feed's channel for discussion questions (shown as ``QSTN``)."""

CLOSE_REASONS = {"answered": "everyone asked has answered", "time": "time ran out",
                 "facilitator": "the facilitator closed it", "end": "the drill ended"}


def option_text(question: QuestionSeen, option_id: str) -> str:
    """An option's text by its id (the id itself when unknown)."""
    return next((o["text"] for o in question.options if o["id"] == option_id), option_id)


def said(question: QuestionSeen, answer: dict[str, Any]) -> str:
    """What an answer said: its options' texts, or its text."""
    choices = [str(c) for c in answer.get("choices") or []]
    return "; ".join(option_text(question, c) for c in choices) if choices else f"“{answer.get('text', '')}”"


def expected_text(question: QuestionSeen) -> str:
    """The expected answer and why, once closed (empty for a question without one)."""
    parts = []
    if question.expected:
        parts.append("Expected: " + "; ".join(option_text(question, e) for e in question.expected) + ".")
    if question.why:
        parts.append(f"Why: {question.why}")
    return " ".join(parts)


def answer_line(question: QuestionSeen, answer: dict[str, Any]) -> str:
    """One answer as the facilitator and evaluators read it."""
    role = short_role(str(answer.get("role")))
    who = f"{answer['player']} ({role})" if answer.get("player") else role
    note = f" — {answer['note']}" if answer.get("note") else ""
    sure = f" · {answer['confidence']} % sure" if answer.get("choices") and \
        answer.get("confidence") is not None else ""
    return f"{clock(float(answer.get('t', 0.0)))} {who}: {said(question, answer)}{sure}{note}"


def feed_body(question: QuestionSeen, observer: bool) -> str:
    """The question's text in the feed: prompt, options, state, the answers (observers), the outcome."""
    lines = [question.prompt, ""]
    lines += [f"  {n}. {o['text']}" for n, o in enumerate(question.options, 1)]
    if question.kind == "several":
        lines.append("  (tick each that applies)")
    elif question.kind == "text":
        lines.append("  (answered in words)")
    from tui.screens.discussion import addressed  # its dialogs (pydantic) load with the first question

    lines += ["", f"Asked of {addressed(question)} at {clock(question.t)}."]
    if question.open:
        closes = (f"Closes at {clock(question.closes)}" if question.closes is not None
                  else "Open until the team has answered")
        lines.append(closes + ("; w lists the open questions." if observer else "."))
    else:
        lines.append(f"Closed at {clock(question.closed_at or 0.0)}: "
                     f"{CLOSE_REASONS.get(question.reason, question.reason)}.")
        if question.alignment is not None:
            lines.append(f"Team alignment: {question.alignment:.0%} agreed with the most common answer.")
        outcome = expected_text(question)
        if outcome:
            lines += ["", outcome]
    if observer:
        lines += ["", f"Answers ({len(question.answers)}):"]
        lines += [f"  {answer_line(question, a)}" for a in question.answers] or ["  none yet"]
    elif question.open:
        lines.append("w answers it (or reopens it after esc).")
    return "\n".join(lines)


class QuestionDesk:
    """The discussion at one keyboard: what is due, what was answered here, the feed entries."""

    def __init__(self, seat: str | None) -> None:
        """``seat``: the team seat (a role, ``facilitator``, ``evaluator``) or ``None`` for the hot seat."""
        self.seat = seat
        self.due: list[str] = []
        """Questions waiting for their dialog here, oldest first."""
        self.answered: set[str] = set()
        """Questions answered at this keyboard (the engine keeps players' answers from them)."""
        self.seen: set[str] = set()
        """Questions whose dialog opened here: their feed entries are read."""
        self.said: dict[str, str] = {}
        """What this keyboard answered, by question (:func:`said`): how it came out echoes it."""
        self._entries: dict[str, InjectSeen] = {}
        self.notice = ""
        """A line for the next question dialog to show (the hot wash began), said once."""

    def take_notice(self) -> str:
        """The line for the dialog opening now (then it is said)."""
        notice, self.notice = self.notice, ""
        return notice

    @property
    def observer(self) -> bool:
        """Whether this seat watches the discussion (facilitator, evaluator) rather than answering."""
        return self.seat in OBSERVERS

    def answers(self, question: QuestionSeen) -> bool:
        """Whether this keyboard is asked: the hot seat everything, a player what goes to its role."""
        return bool(question.to) if self.seat is None else self.seat in question.to

    def role_for(self, question: QuestionSeen, acting: str) -> str:
        """The role the answer goes in as: the acting role when it is asked, else the first asked."""
        return acting if acting in question.to or not question.to else question.to[0]

    def asked(self, question: QuestionSeen) -> None:
        """A question arrived: due here when this keyboard answers it."""
        wanted = question.question
        if self.answers(question) and wanted not in self.answered and wanted not in self.due:
            self.due.append(wanted)

    def catch_up(self, view: DrillView) -> None:
        """Every open question already asked (a seat joining late, or reconnecting) is due too."""
        for question in view.open_questions:
            self.asked(question)

    def next_due(self, view: DrillView) -> QuestionSeen | None:
        """The first due question still open and not answered here (dropping those that are not)."""
        while self.due:
            question = view.questions.get(self.due[0])
            if question is not None and question.open and question.question not in self.answered:
                return question
            self.due.pop(0)
        return None

    def answering(self, question: QuestionSeen, answer: dict[str, Any]) -> None:
        """This keyboard sends ``answer`` (the ``answer`` command's parameters): keep what it says."""
        sure = answer.get("confidence")
        how_sure = f" ({sure} % sure)" if sure is not None else ""
        self.said[question.question] = said(question, answer) + how_sure

    def you_answered(self, question_id: str) -> str:
        """The line echoing this keyboard's answer ("You answered: Legal; The executive on call."), or
        ``""`` when it did not answer."""
        answer = self.said.get(question_id)
        return f"You answered: {answer}." if answer else ""

    def took(self, question_id: str) -> None:
        """The dialog for this question opened: it is no longer due (esc puts it in the list only)."""
        if question_id in self.due:
            self.due.remove(question_id)

    def opened(self, question_id: str) -> None:
        """The question's dialog opened: it is no longer due, and its feed entry is read."""
        self.took(question_id)
        self.seen.add(question_id)

    def open_list(self, view: DrillView) -> list[tuple[QuestionSeen, bool]]:
        """(question, answered here) for every open question this keyboard answers or watches."""
        return [(q, q.question in self.answered) for q in view.open_questions
                if self.observer or self.answers(q)]

    def feed(self, view: DrillView) -> list[InjectSeen]:
        """The feed entries of the questions asked of this seat (kept, so read marks stay)."""
        from simulator.engine.view import InjectSeen

        entries = []
        for question in view.questions.values():
            entry = self._entries.get(question.question)
            if entry is None:
                entry = self._entries[question.question] = InjectSeen(
                    question.t, question.seq, question.question, QUESTION_CHANNEL, "Exercise control",
                    "hot wash" if question.hot_wash else "discussion", question.prompt, "", question.to)
            entry.body = feed_body(question, self.observer)
            entry.read = entry.read or question.question in self.seen | self.answered
            entries.append(entry)
        return entries
