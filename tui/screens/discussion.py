"""The discussion dialogs: answering a question, the open questions, writing an observation.

A question opens a :class:`QuestionScreen` (one choice, several, or free text; a confidence slider
for a choice, none for words; an optional note): Enter submits, Esc postpones it to the open
questions (the footer's key reopens it). The facilitator and evaluators write observations in an
:class:`ObservationScreen`: an objective (or general), a strength or an area for improvement, and
what they saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, OptionList, Select, Static, TextArea
from textual.widgets.option_list import Option

from simulator.engine.view import QuestionSeen
from simulator.format.commands import MAX_ANSWER_TEXT
from simulator.format.durations import clock, format_duration
from tui.format import short_role
from tui.screens.dialogs import TickList
from tui.widgets.confidence import ConfidenceSlider
from tui.widgets.form_select import FormSelect

POSTPONED = "The question you put off stays open: w lists it."
"""What the next dialog says when Esc put a question off (a notice would cover the dialog)."""
GENERAL = "(general)"
"""The objective picker's entry for an observation about no one objective (sent as ``""``)."""
TAGS = [("Strength", "strength"), ("Area for improvement", "improvement")]


def one_line(text: str) -> str:
    """``text`` with every line break, tab or other control character turned into a space (the wire
    takes displayable text only) and runs of spaces collapsed."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())


def closing_text(question: QuestionSeen, now: float) -> str:
    """When the question closes, as the dialog's subtitle says it."""
    if question.closes is None:
        return "open until the team has answered" if not question.hot_wash else "hot wash: before the review"
    left = question.closes - now
    return f"closes at {clock(question.closes)} (in {format_duration(max(0.0, left))})"


def addressed(question: QuestionSeen) -> str:
    """Who is asked, short (``IC, ML``)."""
    return ", ".join(short_role(r) for r in question.to)


@dataclass(frozen=True)
class AnswerDraft:
    """An answer as the dialog collected it: the ``answer`` command's parameters."""

    question: str
    choices: tuple[str, ...]
    text: str
    confidence: int | None
    """How sure, 0–100 % (``None``: a free-text answer, which asks no confidence)."""
    note: str

    def params(self) -> dict[str, object]:
        """The ``answer`` parameters (a free-text answer's carry no confidence)."""
        params: dict[str, object] = {"question": self.question, "choices": list(self.choices),
                                     "text": self.text, "note": self.note}
        if self.confidence is not None:
            params["confidence"] = self.confidence
        return params


class AnswerText(TextArea):
    """The free-text answer: wraps as it grows; Enter submits (an answer is one paragraph)."""

    class Submitted(Message):
        """Enter was pressed in the answer."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self.post_message(self.Submitted())
            return
        await super()._on_key(event)


class AnswerChoice(OptionList):
    """The options of a one-choice question, as radio buttons: ↑/↓ pick one (``◉``), Enter submits
    (nothing picked: refused). The mark shows the choice in any terminal, colours or not."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.submit", "Submit", id="answer.submit.one", key_display="⏎")]

    def __init__(self, options: list[dict[str, str]], *, id: str | None = None) -> None:
        self.texts = {o["id"]: o["text"] for o in options}
        super().__init__(*[Option(f"○ {o['text']}", id=o["id"]) for o in options], id=id)

    def watch_highlighted(self, highlighted: int | None) -> None:
        """Mark the picked option ``◉``, the others ``○``."""
        super().watch_highlighted(highlighted)
        for index, (option_id, text) in enumerate(self.texts.items()):
            self.replace_option_prompt(option_id, f"{'◉' if index == highlighted else '○'} {text}")


class AnswerTicks(TickList):
    """The options of a several-choice question: ↑/↓ move the cursor (``›``), space ticks, Enter submits.

    It moves like the one-choice list: it starts with no cursor, so the first ↓ lands on option 1
    (its highlight used to sit on option 1 unseen, and ``↓↓↓ space`` ticked option 4, not 3). The
    ``›`` mark shows the cursor in any terminal, colours or not; space with no cursor yet ticks
    option 1, where the cursor then stands."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "screen.submit", "Submit", id="answer.submit.ticks", key_display="⏎")]

    def __init__(self, options: list[dict[str, str]], *, id: str | None = None) -> None:
        self.texts = [o["text"] for o in options]
        super().__init__(*[(f"  {o['text']}", o["id"]) for o in options], id=id)

    def watch_highlighted(self, highlighted: int | None) -> None:
        """Mark the option under the cursor ``›``."""
        super().watch_highlighted(highlighted)
        for index, text in enumerate(self.texts):
            self.replace_option_prompt_at_index(index, f"{'›' if index == highlighted else ' '} {text}")

    def action_select(self) -> None:
        """Tick or untick the option under the cursor (option 1 when there is no cursor yet)."""
        if self.highlighted is None and self.option_count:
            self.highlighted = 0
        super().action_select()


class QuestionScreen(ModalScreen[AnswerDraft | None]):
    """One question, answered: the choice and how sure (0–100 %), or the text; an optional note.

    Enter submits (from any field); a missing answer is refused in words with its field focused.
    Esc postpones: the question stays in the open questions, reopened with the footer's key. The line
    under the title carries a notice about the question before (one put off stays open), so no
    toast covers the dialog.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "submit", "Submit", id="answer.submit"),
        Binding("ctrl+s", "submit", "Submit", id="answer.submit.s", show=False),
        Binding("escape", "postpone", "Later", id="answer.later",
                tooltip="Answer later: the question stays in the open questions (w)"),
        # priority: it works from the answer's text too, where a plain `e` is typed (and ctrl+e
        # would move to the line's end)
        Binding("ctrl+e", "end_hot_wash", "End hot wash", id="answer.end", priority=True,
                tooltip="End the hot wash (after a confirmation) and open the review"),
        # not priority: a tick list ticks with space, and the note and the text type it
        Binding("space", "clock_note", "Clock", id="answer.clock",
                tooltip="Say what the drill clock does while this dialog is open"),
    ]

    def __init__(self, question: QuestionSeen, role: str, now: float,
                 clock: Callable[[], float] | None = None, notice: str = "", can_end: bool = False,
                 clock_note: str = "") -> None:
        """``role``: who answers at this keyboard; ``now``: the sim time, for the closing time;
        ``clock``: the live drill clock, so the countdown ticks while the dialog is open; ``notice``:
        one line about the question before (e.g. :data:`POSTPONED`), shown under the title;
        ``can_end``: this keyboard ends the drill (the hot seat, the facilitator), so a hot-wash
        question offers ``ctrl+e``; ``clock_note``: what the drill clock does meanwhile, said by
        ``space`` (meant to pause the dashboard's clock, it used to do nothing)."""
        super().__init__()
        self.question, self.role, self.now = question, role, now
        self.clock, self.notice, self.can_end = clock, notice, can_end
        self.clock_note = clock_note

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``ctrl+e`` only in a hot-wash question, for a keyboard that ends the drill; ``space`` only
        with a clock note."""
        if action == "end_hot_wash":
            return self.question.hot_wash and self.can_end
        if action == "clock_note":
            return bool(self.clock_note)
        return True

    def action_clock_note(self) -> None:
        """Say what the drill clock does while the dialog is open, on the line under the title."""
        self.query_one("#question-notice", Static).update(self.clock_note)

    async def action_end_hot_wash(self) -> None:
        """Ask to end the hot wash over this dialog ("no" comes back to it, the answer as it was)."""
        await self.app.run_action("app.end_drill")

    def compose(self) -> ComposeResult:
        q = self.question
        with VerticalScroll(classes="dialog question", id="question-dialog"):
            phase = "Hot wash" if q.hot_wash else "Question"
            yield Label(f"{phase} for {addressed(q)} — you answer as {short_role(self.role)}",
                        classes="dialog-title", id="question-title")
            yield Static(self.notice, id="question-notice", classes="dialog-hint", markup=False)
            yield Static(q.prompt, id="question-prompt")
            yield Static(closing_text(q, self.now), id="question-closes", classes="dialog-hint")
            yield from self.answer_field()
            if q.kind != "text":  # words are not right or wrong: nothing to be sure of
                yield Label("How sure are you? (←/→ in steps of 5 %)", id="confidence-label")
                yield ConfidenceSlider(50, id="confidence")
            yield Input(placeholder="note (optional): why, or what you would need to know",
                        max_length=MAX_ANSWER_TEXT, id="answer-note", compact=True)
            with Vertical(classes="dialog-send"):
                yield Static("", id="answer-error", classes="dialog-error")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Submit (enter)", variant="primary", id="submit")
                    yield Button("Later (esc)", id="later")
        yield Footer(compact=True)

    def answer_field(self) -> ComposeResult:
        """The list to pick one from, the boxes to tick, or the text to write."""
        q = self.question
        if q.kind == "one":
            yield Label("Your answer (↑/↓ picks one)")
            yield AnswerChoice(q.options, id="answer-one")
        elif q.kind == "several":
            yield Label("Your answer (↑/↓ moves, space ticks each that applies)")
            yield AnswerTicks(q.options, id="answer-several")
        else:
            yield Label(f"Your answer (at most {MAX_ANSWER_TEXT} characters)")
            yield AnswerText(id="answer-text", soft_wrap=True, compact=True)

    def on_mount(self) -> None:
        """Start in the answer with no cursor in either list (no option is suggested): the first ↓
        lands on option 1, in a one-choice and a several-choice question alike."""
        self.query_one(f"#answer-{self.question.kind}").focus()
        if self.clock is not None:
            self.set_interval(1.0, self.tick)
        if self.question.kind in ("one", "several"):
            self.query_one(f"#answer-{self.question.kind}", OptionList).highlighted = None

    def tick(self) -> None:
        """Count down to the closing time with the drill clock (a team drill's goes on)."""
        if self.clock is not None:
            self.now = self.clock()
            self.query_one("#question-closes", Static).update(closing_text(self.question, self.now))

    def draft(self) -> AnswerDraft:
        """The answer as it stands."""
        q = self.question
        choices: tuple[str, ...] = ()
        text = ""
        if q.kind == "one":
            picked = self.query_one("#answer-one", AnswerChoice).highlighted_option
            choices = (picked.id,) if picked is not None and picked.id is not None else ()
        elif q.kind == "several":
            ticked = set(self.query_one("#answer-several", AnswerTicks).selected)
            choices = tuple(o["id"] for o in q.options if o["id"] in ticked)
        else:
            text = one_line(self.query_one("#answer-text", AnswerText).text)
        note = one_line(self.query_one("#answer-note", Input).value)
        sure = None if q.kind == "text" else self.query_one(ConfidenceSlider).value
        return AnswerDraft(q.question, choices, text, sure, note)

    def problem(self, draft: AnswerDraft) -> str | None:
        """Why the answer cannot be sent yet, in words (``None``: it can)."""
        kind = self.question.kind
        if kind == "one" and not draft.choices:
            return "Choose an answer first: ↑/↓ picks one, then enter."
        if kind == "several" and not draft.choices:
            return "Tick at least one answer first (space ticks the highlighted one)."
        if kind == "text" and not draft.text:
            return "Write your answer first."
        if len(draft.text) > MAX_ANSWER_TEXT:
            return f"The answer is too long: at most {MAX_ANSWER_TEXT} characters ({len(draft.text)} now)."
        return None

    def action_submit(self) -> None:
        """Send the answer, or say what is missing and go there."""
        draft = self.draft()
        problem = self.problem(draft)
        if problem is not None:
            self.query_one("#answer-error", Static).update(problem)
            self.query_one(f"#answer-{self.question.kind}").focus()
            return
        self.dismiss(draft)

    def action_postpone(self) -> None:
        """Answer later: the question stays open in the list."""
        self.dismiss(None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """A click on an option: that is the answer; submit."""
        event.stop()
        self.action_submit()

    def on_answer_text_submitted(self, event: AnswerText.Submitted) -> None:
        """Enter in the text: submit."""
        self.action_submit()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the note: submit."""
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Mouse submit or later."""
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_postpone()



class QuestionClosedScreen(ModalScreen[None]):
    """How a question came out (the expected answer and why), read in full after answering it in the
    hot seat or when the next question waits for its dialog; Enter goes on (to the next question, if
    one waits). A notice would cover half of the next dialog, its options included, at 80×24 for
    10 s, and Enter meant to dismiss a notice would start an action on the dashboard."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,escape", "next", "Continue", id="closed.next", key_display="⏎"),
        # priority: the focused button would take space as a press, and the dialog vanished
        Binding("space", "clock_note", "Clock", id="closed.clock", priority=True,
                tooltip="Say what the drill clock does while this dialog is open")]

    def __init__(self, reason: str, prompt: str, outcome: str, next_waits: bool = True,
                 clock_note: str = "") -> None:
        """``reason``: why it closed, in words; ``outcome``: the expected answer and why;
        ``next_waits``: another question's dialog opens after this one; ``clock_note``: what the
        drill clock does meanwhile, said by ``space`` (a ``space`` meant to pause the clock used to
        press the button and close the dialog)."""
        super().__init__()
        self.reason, self.prompt, self.outcome = reason, prompt, outcome
        self.next_waits, self.clock_note = next_waits, clock_note

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``space`` only with a clock note."""
        return bool(self.clock_note) if action == "clock_note" else True

    def action_clock_note(self) -> None:
        """Say what the drill clock does while the dialog is open."""
        self.query_one("#closed-clock", Static).update(self.clock_note)

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog question", id="closed-dialog"):
            yield Label(f"Question closed: {self.reason}", classes="dialog-title")
            yield Static(self.prompt, id="closed-prompt", markup=False)
            yield Static(self.outcome, id="closed-outcome", classes="dialog-body", markup=False)
            yield Static("", id="closed-clock", classes="dialog-hint", markup=False)
            with Horizontal(classes="dialog-buttons dialog-send"):
                yield Button("Next question (enter)" if self.next_waits else "Back to the drill (enter)",
                             variant="primary", id="next")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Enter goes on from the button."""
        self.query_one("#next", Button).focus()

    def action_next(self) -> None:
        """On to the question that waits, or back to the drill."""
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Mouse: go on."""
        self.action_next()


def question_row(question: QuestionSeen, answered: bool, now: float) -> Content:
    """A row of the open questions: answered or not, who is asked, the prompt, when it closes."""
    mark = Content.styled("✔ ", "dim") if answered else Content.styled("● ", "bold $text-accent")
    state = "answered, waiting for the team" if answered else closing_text(question, now)
    return Content.assemble(mark, (f"→{addressed(question)} ", "dim"),
                            (question.prompt, "" if answered else "bold"), (f"  ({state})", "dim"))


class OpenQuestionsScreen(ModalScreen[str | None]):
    """The questions still open for this seat; Enter opens one (to answer it, or for the facilitator
    to close it now); Esc closes the list."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Close", id="questions.close")]

    def __init__(self, questions: list[tuple[QuestionSeen, bool]], now: float, hint: str) -> None:
        """``questions``: (question, answered here already) in the order asked; ``hint``: what Enter does."""
        super().__init__()
        self.questions, self.now, self.hint = questions, now, hint

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="questions-dialog"):
            yield Label(f"Open questions — {self.hint}", classes="dialog-title")
            yield OptionList(*[Option(question_row(q, answered, self.now), id=q.question)
                               for q, answered in self.questions], id="open-questions")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Start on the oldest question."""
        questions = self.query_one("#open-questions", OptionList)
        questions.focus()
        questions.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on a question: open it."""
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close the list."""
        self.dismiss(None)


@dataclass(frozen=True)
class ObservationDraft:
    """An observation as written: the ``observe`` command's parameters."""

    objective: str
    """One of the scenario's objectives, or ``""`` for a general observation."""
    tag: str
    text: str

    def params(self) -> dict[str, str]:
        """The ``observe`` parameters."""
        return {"objective": self.objective, "tag": self.tag, "text": self.text}


class ObservationScreen(ModalScreen[ObservationDraft | None]):
    """An observation at this moment of the drill: against which objective, a strength or an area for
    improvement, and what was seen. Every field is required (the objective may be "general")."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "submit", "Save", id="observe.save"),
        Binding("escape", "cancel", "Cancel", id="observe.cancel"),
    ]

    def __init__(self, objectives: list[str], at: float, seat: str) -> None:
        """``at``: the sim time it is written at; ``seat``: ``facilitator`` or ``evaluator``."""
        super().__init__()
        self.objectives, self.at, self.seat = objectives, at, seat

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog", id="observation-dialog"):
            yield Label(f"Observation from {clock(self.at)} ({self.seat}; stamped with the drill time when "
                        "saved, hidden from players until the end)", classes="dialog-title")
            yield Label("Objective")
            options = [(o, o) for o in self.objectives] + [("General (no one objective)", GENERAL)]
            yield FormSelect(options, prompt="Choose…", id="observe-objective", compact=True)
            yield Label("Strength or area for improvement")
            yield FormSelect(TAGS, prompt="Choose…", id="observe-tag", compact=True)
            yield Label("What you saw (enter saves)")
            yield Input(placeholder="e.g. IC named a single owner for containment within 5 minutes",
                        max_length=MAX_ANSWER_TEXT, id="observe-text", compact=True)
            with Vertical(classes="dialog-send"):
                yield Static("", id="observe-error", classes="dialog-error")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Save (ctrl+s)", variant="primary", id="save")
                    yield Button("Cancel (esc)", id="cancel")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Start with the objective."""
        self.query_one("#observe-objective", Select).focus()

    def on_form_select_submitted(self, event: FormSelect.Submitted) -> None:
        """Enter on a chosen objective or tag moves to the next field."""
        event.stop()
        self.focus_next()

    def draft(self) -> tuple[ObservationDraft | None, str, str]:
        """The observation, or ``None`` with what is missing and the field to go to."""
        objective = self.query_one("#observe-objective", Select).value
        tag = self.query_one("#observe-tag", Select).value
        text = one_line(self.query_one("#observe-text", Input).value)
        if objective is Select.NULL:
            return None, "Choose the objective it is about (or General).", "#observe-objective"
        if tag is Select.NULL:
            return None, "Choose whether it is a strength or an area for improvement.", "#observe-tag"
        if not text:
            return None, "Write what you saw.", "#observe-text"
        return ObservationDraft("" if objective == GENERAL else str(objective), str(tag), text), "", ""

    def action_submit(self) -> None:
        """Save the observation, or say what is missing and go there."""
        draft, problem, where = self.draft()
        if draft is None:
            self.query_one("#observe-error", Static).update(problem)
            self.query_one(where).focus()
            return
        self.dismiss(draft)

    def action_cancel(self) -> None:
        """Close without saving."""
        self.dismiss(None)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter in the text saves."""
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Mouse save or cancel."""
        if event.button.id == "save":
            self.action_submit()
        else:
            self.action_cancel()
