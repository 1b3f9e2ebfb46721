"""Modal dialogs: approval (a typed ``ModalScreen[bool]``), parameters, update composer, confirm."""

from __future__ import annotations

import enum
import types
import typing
from dataclasses import dataclass
from typing import Any, ClassVar

from annotated_types import MinLen
from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails
from rich.segment import Segment
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Footer, Input, Label, OptionList, Select, SelectionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from simulator.format.commands import Params, UpdateParams
from simulator.format.durations import clock
from simulator.format.scenario import Scenario
from simulator.format.taxonomy import FACILITATOR, HARM_TYPE_LABELS, HAZARD_LABELS, HarmType, Hazard, Role
from tui.format import CHOICE_LABELS, role_name, short_role
from tui.widgets.form_select import FormSelect
from tui.widgets.typeahead import TypeaheadInput

Options = list[tuple[str, str]]


def approval_question(approver: str, title: str, by: str) -> str:
    """The dialog's question, naming the approving role first."""
    return f"{short_role(approver)}: approve “{title}” (asked by {short_role(by)})?"


class ApprovalScreen(ModalScreen[bool]):
    """Approval ("IC: approve taking the assistant offline?"): ``y`` yes, ``n`` no, ``escape`` later."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "decide(True)", "Approve", id="approval.yes"),
                Binding("n", "decide(False)", "Deny", id="approval.no"),
                Binding("escape", "later", "Decide later", id="approval.later")]

    def __init__(self, request: int, title: str, by: str, approver: str, consequence: str = "") -> None:
        """``consequence``: what approving cuts (a kill switch), shown under the question; Enter then
        presses Later rather than Approve."""
        super().__init__()
        self.request, self.title_text, self.by, self.approver = request, title, by, approver
        self.consequence = consequence

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(approval_question(self.approver, self.title_text, self.by), id="approval-question",
                        classes="dialog-title")
            if self.consequence:
                yield Static(self.consequence, id="approval-consequence", classes="dialog-body")
            yield Static(f"Request #{self.request} from {role_name(self.by)}. You decide as "
                         f"{role_name(self.approver)}.", classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Approve (y)", variant="success", id="approve")
                yield Button("Deny (n)", variant="error", id="deny")
                yield Button("Later (esc)", id="later")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """A request that cuts service starts on Later: only ``y`` (or a click) approves it."""
        if self.consequence:
            self.query_one("#later", Button).focus()

    def action_decide(self, approved: bool) -> None:
        """Close with the decision."""
        self.dismiss(approved)

    def action_later(self) -> None:
        """Close without deciding; the request stays pending (``a`` reopens it)."""
        self.app.pop_screen()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Mouse: the same three choices."""
        if event.button.id == "later":
            self.action_later()
        else:
            self.dismiss(event.button.id == "approve")


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question (ending the drill early)."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "answer(True)", "Yes", id="confirm.yes"),
                Binding("n,escape", "answer(False)", "No", id="confirm.no")]

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Yes (y)", variant="warning", id="yes")
                yield Button("No (n)", id="no")
        yield Footer(compact=True)

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Mouse answer."""
        self.dismiss(event.button.id == "yes")


class QuitScreen(ConfirmScreen):
    """Quitting with something to lose (a running drill, an unsaved review): ``y`` quits, ``n`` stays."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("y", "answer(True)", "Quit", id="quit.yes"),
                Binding("n,escape", "answer(False)", "Stay", id="quit.no")]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="quit-dialog"):
            yield Label(self.question, id="quit-question", classes="dialog-title")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Quit (y)", variant="error", id="yes")
                yield Button("Stay (n)", id="no")
        yield Footer(compact=True)


class CutServiceScreen(ModalScreen[bool]):
    """An action that cuts service (a kill switch): its consequence, then ``t`` takes it and ``n`` or
    ``escape`` goes back. Enter goes back too, so a stray second Enter after the briefing cuts nothing,
    and ``y`` only says which key takes it: a ``y`` typed for another dialog (End the drill?) after
    a stray Enter opened this one took the assistant offline."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("t", "answer(True)", "Take it", id="cut.yes"),
                Binding("n,escape", "answer(False)", "Back", id="cut.no"),
                Binding("y", "which_key", show=False)]
    AUTO_FOCUS = "#no"

    def __init__(self, question: str, consequence: str) -> None:
        super().__init__()
        self.question, self.consequence = question, consequence

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="cut-dialog"):
            yield Label(self.question, id="cut-question", classes="dialog-title")
            yield Static(self.consequence, id="cut-consequence", classes="dialog-body")
            yield Static("", id="cut-error", classes="dialog-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Take it (t)", variant="error", id="yes")
                yield Button("Back (n)", id="no")
        yield Footer(compact=True)

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)

    def action_which_key(self) -> None:
        """``y`` takes nothing here: say which key does."""
        self.query_one("#cut-error", Static).update(
            f"{self.question} t takes it, n goes back (y answers other dialogs).")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Mouse answer (Enter on the focused Back button lands here too)."""
        self.dismiss(event.button.id == "yes")


def _enum_options(kind: type[enum.Enum], roles: list[str]) -> Options:
    """Choices for an enum parameter: roles in play, harm types and hazards by their labels."""
    if kind is Role:
        return [(role_name(r), r) for r in roles]
    if kind is HarmType:
        return [(HARM_TYPE_LABELS[HarmType(m.value)], str(m.value)) for m in kind]
    if kind is Hazard:
        return [(f"{m.value} {HAZARD_LABELS[Hazard(m.value)]}", str(m.value)) for m in kind]
    return [(CHOICE_LABELS.get(str(m.value), str(m.value)), str(m.value)) for m in kind]


def field_options(annotation: Any, roles: list[str]) -> tuple[Options | None, bool]:
    """How to ask for a parameter: (choices, or ``None`` for free text; a list?)."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return field_options(next(a for a in args if a is not type(None)), roles)
    if origin is list:
        return field_options(args[0], roles)[0], True
    if origin is typing.Literal:
        return [(CHOICE_LABELS.get(str(a), str(a)), str(a)) for a in args], False
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return _enum_options(annotation, roles), False
    return None, False


def parse_value(raw: Any, annotation: Any, many: bool) -> Any:
    """A form value as the params model expects it (lists for list fields, ints for int literals)."""
    if isinstance(raw, str):
        raw = raw.strip()
    if raw is Select.NULL or raw == "":
        return [] if many else None
    literal = typing.get_origin(annotation) is typing.Literal
    if literal and all(isinstance(a, int) for a in typing.get_args(annotation)):
        return int(raw)
    return [raw] if many else raw


def field_required(info: FieldInfo) -> bool:
    """Whether the form must have a value: the model requires the field or refuses it empty."""
    return info.is_required() or any(isinstance(m, MinLen) and m.min_length > 0 for m in info.metadata)


def field_optional(info: FieldInfo) -> bool:
    """Whether the field may be left empty (``None``, ``""`` or ``[]`` is its default)."""
    return not field_required(info) and info.get_default(call_default_factory=True) in (None, "", [])


def field_label(name: str) -> str:
    """A parameter's name as the form shows it (``harm_type`` → ``harm type``)."""
    return name.replace("_", " ")


def problem_text(error: ErrorDetails, choice: bool = False) -> str:
    """A refused form value in a player's words (never pydantic's own message); ``choice``: the
    field is picked from a list rather than typed."""
    label = field_label(str(error["loc"][0])) if error["loc"] else "the form"
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "missing" and choice:
        return f"Choose “{label}”: it is required."
    if kind in ("missing", "string_too_short"):
        return f"Fill in “{label}”: it is required."
    if kind == "too_short":
        return f"Choose at least one for “{label}” (space ticks the highlighted one)."
    if kind in ("string_too_long", "too_long"):
        return f"“{label}” is too long: at most {ctx.get('max_length')} characters."
    if kind in ("enum", "literal_error"):
        return f"Choose “{label}” from the list."
    return f"“{label}” is not valid here ({error['msg'].lower()})."


class TickList(SelectionList[str]):
    """A multiple choice whose unticked boxes are empty (the stock list draws ▐X▌ for both states)."""

    def render_line(self, y: int) -> Strip:
        """The stock line, with the box's mark blanked when its option is not ticked."""
        strip = super().render_line(y)
        try:
            selection = self.get_option_at_index(self.scroll_offset.y + y)
        except OptionDoesNotExist:
            return strip
        if selection.value in self.selected:
            return strip
        segments = list(strip)
        if len(segments) > 1 and segments[1].text == Checkbox.BUTTON_INNER:
            segments[1] = Segment(" " * len(Checkbox.BUTTON_INNER), segments[1].style)
        return Strip(segments, strip.cell_length)


class ParamsScreen(ModalScreen[dict[str, Any] | None]):
    """A form for a verb's parameters, built from its params model; returns the params or ``None``.

    It opens on the first empty field that needs a value (typing goes there at once), Tab follows
    the form, Enter moves to the next field and submits from the last one, and a value the model
    would refuse is refused here, in words, with the field focused.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "submit", "Submit", id="params.submit"),
                Binding("escape", "cancel", "Cancel", id="params.cancel")]

    def __init__(self, title: str, role: str, model: type[Params], roles: list[str],
                 blank: frozenset[str] = frozenset(), hints: dict[str, str] | None = None) -> None:
        """``blank``: text fields that start empty in spite of the model's default (it would be wrong
        for this scenario; the player writes it, and an empty one is refused); ``hints``: a text
        field's placeholder, by parameter name."""
        super().__init__()
        self.title_text, self.role, self.model, self.roles = title, role, model, roles
        self.blank, self.hints = blank, hints or {}

    def compose(self) -> ComposeResult:
        # Scrolls when the form is taller than the terminal (the ad-hoc inject form at 80×24).
        with VerticalScroll(classes="dialog", id="params-form"):
            who = "White cell" if self.role == FACILITATOR else short_role(self.role)
            yield Label(f"{who}: {self.title_text}", classes="dialog-title")
            for name, info in self.model.model_fields.items():
                yield from self.field(name, info)
            with Vertical(classes="dialog-send"):
                yield Static("", id="params-error", classes="dialog-error")
                with Horizontal(classes="dialog-buttons"):
                    yield Button("Submit (ctrl+s)", variant="primary", id="submit")
                    yield Button("Cancel (esc)", id="cancel")
        yield Footer(compact=True)

    def field(self, name: str, info: FieldInfo) -> ComposeResult:
        """The label and the input for one parameter, prefilled with its default."""
        options, many = field_options(info.annotation, self.roles)
        optional = field_optional(info)
        hint = " (space ticks a role)" if options is not None and many else ""
        yield Label(field_label(name) + (" (optional)" if optional else "") + hint)
        blank = info.is_required() or name in self.blank
        default = None if blank else info.get_default(call_default_factory=True)
        if options is not None and many:
            chosen = {str(v) for v in default} if isinstance(default, list) else set()
            yield TickList(*[(label, v, v in chosen) for label, v in options], id=f"field-{name}",
                           classes="multi")
        elif options is not None:
            # A choice the model needs and has no default for starts blank: the player picks it.
            values = [v for _, v in options]
            value = str(default) if default is not None and str(default) in values else Select.NULL
            yield FormSelect(options, id=f"field-{name}", allow_blank=value is Select.NULL, value=value,
                             prompt="(none)" if optional else "Choose…", compact=True)
        else:
            # typeahead: a burst typed with its Enters (a field, ⏎, the next) fills each field in turn;
            # the last keeps the focus as its Enter submits, so keys typed after stay in the form
            last = name == list(self.model.model_fields)[-1]
            yield TypeaheadInput(value=str(default or ""), placeholder=self.hints.get(name, ""),
                                 id=f"field-{name}", compact=True, after_enter="stay" if last else "next")

    def on_mount(self) -> None:
        """Focus the first empty field that needs a value, else the first empty one; when every field
        is filled in already (defaults), Submit, so Enter takes the action at once."""
        self.first_to_fill().focus()

    def first_to_fill(self) -> Widget:
        """Where typing should start."""
        fields = [(self.query_one(f"#field-{name}"), field_required(info))
                  for name, info in self.model.model_fields.items()]
        empty = [(widget, required) for widget, required in fields if self.unfilled(widget)]
        chosen = next((w for w, required in empty if required), None) or next((w for w, _ in empty), None)
        return chosen or self.query_one("#submit", Button)

    @staticmethod
    def unfilled(widget: Widget) -> bool:
        """Whether a field has no value yet."""
        if isinstance(widget, SelectionList):
            return not widget.selected
        if isinstance(widget, Select):
            return widget.value is Select.NULL
        return isinstance(widget, Input) and not widget.value.strip()

    def collect(self, entered: dict[str, str] | None = None) -> dict[str, Any]:
        """The form's values, keyed by parameter name (empty optional ones left out); ``entered``: a
        text field's value as its Enter found it (keys typed after it are not part of the form)."""
        params: dict[str, Any] = {}
        for name, info in self.model.model_fields.items():
            _, many = field_options(info.annotation, self.roles)
            widget = self.query_one(f"#field-{name}")
            if isinstance(widget, SelectionList):
                params[name] = list(widget.selected)
                continue
            raw = widget.value if isinstance(widget, Select | Input) else None
            raw = (entered or {}).get(name, raw)
            value = parse_value(raw, info.annotation, many)
            if value is None and field_required(info) and not info.is_required():
                value = ""  # cleared on purpose: refuse it rather than fall back to the default
            if value is not None:
                params[name] = value
        return params

    def action_submit(self, entered: dict[str, str] | None = None) -> None:
        """Check the form against the params model; close with it when valid, else say what to fix
        (``entered``: see :meth:`collect`)."""
        params = self.collect(entered)
        try:
            self.model.model_validate(params)
        except ValidationError as exc:
            errors = exc.errors()
            fields = [str(e["loc"][0]) if e["loc"] else "" for e in errors]
            chosen = {name for name in fields if name in self.model.model_fields
                      and not isinstance(self.query_one(f"#field-{name}"), Input)}
            self.query_one("#params-error", Static).update(
                "\n".join(problem_text(e, name in chosen) for e, name in zip(errors, fields, strict=True)))
            if fields[0] in self.model.model_fields:
                self.query_one(f"#field-{fields[0]}").focus()
            return
        self.dismiss(params)

    def action_cancel(self) -> None:
        """Close without acting."""
        self.dismiss(None)

    @on(Input.Submitted)
    @on(FormSelect.Submitted)
    def next_field(self, event: Input.Submitted | FormSelect.Submitted) -> None:
        """Enter in a text field, or on a chosen drop-down, moves to the next field; in the last one it
        submits the form."""
        event.stop()
        names = list(self.model.model_fields)
        here = (event.control.id or "").removeprefix("field-")
        if here in names and names.index(here) < len(names) - 1:
            self.query_one(f"#field-{names[names.index(here) + 1]}").focus()
        elif isinstance(event, Input.Submitted) and here in names:
            self.action_submit({here: event.value})
        else:
            self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Mouse submit or cancel."""
        if event.button.id == "submit":
            self.action_submit()
        else:
            self.action_cancel()


@dataclass(frozen=True)
class UpdateDraft:
    """A stakeholder update as composed: who sends it, to whom, and the three parts."""

    role: str
    audience: str
    know: str
    suspect: str
    doing: str

    def params(self) -> dict[str, str]:
        """The ``send_update`` parameters."""
        return {"audience": self.audience, "know": self.know, "suspect": self.suspect, "doing": self.doing}


AUDIENCES: Options = [(a, a) for a in typing.get_args(UpdateParams.model_fields["audience"].annotation)]
"""Who an update can go to."""


class ComposerScreen(ModalScreen[UpdateDraft | None]):
    """The communications composer: audience, then what we know, suspect and are doing."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+s", "send", "Send update", id="composer.send"),
                Binding("escape", "cancel", "Cancel", id="composer.cancel")]

    AUTO_FOCUS = "#update-know"

    def __init__(self, senders: list[str], role: str) -> None:
        super().__init__()
        self.senders = senders
        self.role = role if role in senders else (senders[0] if senders else role)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog composer"):
            yield Label("Stakeholder update", classes="dialog-title")
            with Horizontal(classes="composer-row"):
                yield FormSelect([(role_name(r), r) for r in self.senders], value=self.role,
                                 allow_blank=False, id="update-from", compact=True)
                yield FormSelect(AUDIENCES, value="internal", allow_blank=False, id="update-audience",
                                 compact=True)
            yield Label("What we know")
            yield TypeaheadInput(placeholder="facts, with times and numbers", id="update-know", compact=True,
                                 after_enter="next")
            yield Label("What we suspect")
            yield TypeaheadInput(placeholder="hypotheses, labelled as such", id="update-suspect",
                                 compact=True, after_enter="next")
            yield Label("What we are doing")
            yield TypeaheadInput(placeholder="actions under way, next update time", id="update-doing",
                                 compact=True)
            yield Static("A structured update has all three parts.", id="composer-hint",
                         classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Send (ctrl+s)", variant="primary", id="send")
                yield Button("Cancel (esc)", id="cancel")
        yield Footer(compact=True)

    def draft(self) -> UpdateDraft:
        """The update as currently written."""
        def text(wid: str) -> str:
            return self.query_one(f"#update-{wid}", Input).value.strip()

        return UpdateDraft(str(self.query_one("#update-from", Select).value),
                           str(self.query_one("#update-audience", Select).value),
                           text("know"), text("suspect"), text("doing"))

    def action_send(self) -> None:
        """Close with the draft (empty updates are not sent)."""
        draft = self.draft()
        if not (draft.know or draft.suspect or draft.doing):
            self.query_one("#composer-hint", Static).update("Write at least one part before sending.")
            return
        self.dismiss(draft)

    def action_cancel(self) -> None:
        """Close without sending."""
        self.dismiss(None)

    def on_form_select_submitted(self, event: FormSelect.Submitted) -> None:
        """Enter on the sender or the audience moves to the next field."""
        event.stop()
        self.focus_next()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter on the last field sends (on the others the field has moved the focus on itself)."""
        if event.input.id == "update-doing":
            self.action_send()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        """Mouse send or cancel."""
        if event.button.id == "send":
            self.action_send()
        else:
            self.action_cancel()


def inject_option(inject_id: str, at: float | None, subject: str, to: list[str], fired: bool) -> Content:
    """A row of the inject picker: when it is scheduled, who it goes to, its subject."""
    when = clock(at) if at is not None else "trigger"
    mark = Content.styled("✔ fired ", "dim") if fired else Content("")
    return Content.assemble(mark, (f"{when:>8} ", "dim"), (f"{inject_id} ", "bold"),
                            (f"→{','.join(short_role(r) for r in to)} ", "dim"), subject)


class InjectPickerScreen(ModalScreen[str | None]):
    """Facilitator: pick a scripted inject (the MSEL) to fire now; ``enter`` fires, ``escape`` cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel", id="picker.cancel")]

    def __init__(self, scenario: Scenario, fired: set[str]) -> None:
        super().__init__()
        self.scenario, self.fired = scenario, fired

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Fire a scripted inject now (enter)", classes="dialog-title")
            yield OptionList(*[Option(inject_option(i.id, i.at, i.subject, [r.value for r in i.to],
                                                    i.id in self.fired), id=i.id)
                               for i in self.scenario.injects], id="inject-picker")
        yield Footer(compact=True)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        """Enter on an inject: fire it."""
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        """Close without firing."""
        self.dismiss(None)
