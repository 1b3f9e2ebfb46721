"""MSEL portability: a scenario's injects as an HSEEP-style CSV sheet, and an edited sheet merged back.

Export writes one row per inject with the HSEEP columns (event number, scenario time, synopsis,
from, to, channel, message, expected player action, objective, notes) plus what a lossless round
trip needs (trigger, subject, sender title, inject id, red herring). Import turns the rows back
into injects, checks each cell, and splices a freshly written ``injects:`` section into the
scenario's YAML, leaving every other line (and comment) of the file as it was.

Cell syntax, as a facilitator types it:

- Scenario Time: hours, minutes and seconds from harm start (``0:15:00``; ``2:30`` is H:MM) or a
  duration such as ``15m`` / ``1h30m``. Empty when the row has a trigger.
- Trigger: ``signal user_reports``, ``inject viral-post``, ``action take-offline``,
  ``action_effective block-list``, ``harm_at_least 60000`` or ``declared``, each optionally
  followed by ``+ 40m`` (a delay); or ``contingency`` for a row fired only when an expectation
  naming it is missed.
- To: roles separated by commas (``ts, ic``).
- Expected Player Action: one line per expectation, ``[role:] action [within 20m] [else inject-id]``;
  Objective / Capability holds the matching objective on the same line number.
- Red Herring: ``yes`` or empty.

Discussion questions are rows too, after the injects, with Method / Channel ``question``:

- Scenario Time or Trigger as for an inject, or Trigger ``with INJECT-ID`` (asked when that inject
  is delivered) or ``hot wash`` (asked at the end); To: the roles that answer (empty: everyone).
- Subject: the kind, ``one``, ``several`` or ``text``; Message: the prompt.
- Expected Player Action: one option per line, ``id: text``; a leading ``*`` marks an expected one.
- Objective / Capability: the objective it evidences; Notes: why the expected answer is right.
- Inject ID: the question id; Answer Window: ``10m``, ``pauses``, ``10m, pauses`` or empty (15m).
- From, From Title, Event Synopsis and Red Herring stay empty.

The Answer Window column is written only when the scenario has questions. A sheet with question
rows (or that column) replaces the scenario's questions; one without either leaves them alone, and
an unchanged ``questions:`` section is left as it was written.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from simulator.format.commands import VERBS
from simulator.format.durations import format_duration, parse_duration
from simulator.format.loader import suggest
from simulator.format.scenario import Expectation, Inject, Question, Scenario, Trigger
from simulator.format.taxonomy import Channel, Role
from simulator.format.templating import FIELDS, unknown_placeholders

COLUMNS: tuple[tuple[str, str], ...] = (
    ("event", "Event No."),
    ("time", "Scenario Time"),
    ("trigger", "Trigger"),
    ("synopsis", "Event Synopsis"),
    ("sender", "From"),
    ("sender_title", "From Title"),
    ("to", "To"),
    ("channel", "Method / Channel"),
    ("subject", "Subject"),
    ("message", "Message"),
    ("expected", "Expected Player Action"),
    ("objective", "Objective / Capability"),
    ("notes", "Notes"),
    ("inject_id", "Inject ID"),
    ("red_herring", "Red Herring"),
)
"""(key, header) of every column, in sheet order."""

QUESTION_COLUMNS: tuple[tuple[str, str], ...] = (("window", "Answer Window"),)
"""Columns only question rows use; written when the scenario has questions."""

QUESTION_CHANNEL = "question"
"""The Method / Channel of a discussion question's row."""

HEADERS = dict(COLUMNS + QUESTION_COLUMNS)
OPTIONAL = frozenset({"event", "window"})
"""Columns a sheet may leave out; every other column is needed for a lossless merge."""
TRIGGER_KINDS = ("signal", "inject", "action", "action_effective", "harm_at_least", "declared")
_YES = frozenset({"yes", "y", "true", "1", "x"})
_NO = frozenset({"", "no", "n", "false", "0"})
_CLOCK = re.compile(r"^(\d+):([0-5]\d)(?::([0-5]\d))?$")
_EXPECTED = re.compile(
    r"^(?:(?P<role>[a-z]+)\s*:\s*)?(?P<action>[a-z0-9][a-z0-9_-]*)"
    r"(?:\s+within\s+(?P<within>\S+))?(?:\s+else\s+(?P<contingency>[a-z0-9][a-z0-9_-]*))?$")


class MselError(Exception):
    """A sheet could not be merged; ``problems`` lists each ``file:ROW: column X: …`` line."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


# --- export -----------------------------------------------------------------------------------


def export_csv(scenario: Scenario) -> str:
    """The scenario's injects, then its questions, as CSV text, one row each, header first."""
    columns = COLUMNS + (QUESTION_COLUMNS if scenario.questions else ())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([header for _, header in columns])
    rows = [inject_cells(i) for i in scenario.injects] + [question_cells(q) for q in scenario.questions]
    for number, cells in enumerate(rows, start=1):
        cells["event"] = str(number)
        writer.writerow([cells.get(key, "") for key, _ in columns])
    return out.getvalue()


def question_cells(q: Question) -> dict[str, str]:
    """One discussion question as sheet cells keyed by column key (without the event number)."""
    ask = q.ask
    trigger = ("hot wash" if ask.hot_wash else f"with {ask.with_}" if ask.with_ is not None
               else _trigger_cell(ask.trigger))
    window = [format_duration(q.within)] if q.within is not None else []
    return {
        "event": "", "time": _clock_cell(ask.at) if ask.at is not None else "", "trigger": trigger,
        "synopsis": "", "sender": "", "sender_title": "", "to": ", ".join(r.value for r in q.to),
        "channel": QUESTION_CHANNEL, "subject": q.kind, "message": q.prompt.rstrip("\n"),
        "expected": "\n".join(("* " if o.id in q.expected else "") + f"{o.id}: {o.text}" for o in q.options),
        "objective": q.objective, "notes": q.why.rstrip("\n"), "inject_id": q.id, "red_herring": "",
        "window": ", ".join(window + (["pauses"] if q.pauses else [])),
    }


def inject_cells(inject: Inject) -> dict[str, str]:
    """One inject as sheet cells keyed by column key (without the event number)."""
    return {
        "event": "",
        "time": _clock_cell(inject.at) if inject.at is not None else "",
        "trigger": "contingency" if inject.contingency else _trigger_cell(inject.trigger),
        "synopsis": inject.synopsis,
        "sender": inject.sender.name,
        "sender_title": inject.sender.title,
        "to": ", ".join(r.value for r in inject.to),
        "channel": inject.channel.value,
        "subject": inject.subject,
        "message": inject.body.rstrip("\n"),
        "expected": "\n".join(_expected_cell(e) for e in inject.expects),
        "objective": "\n".join(e.objective for e in inject.expects),
        "notes": inject.notes.rstrip("\n"),
        "inject_id": inject.id,
        "red_herring": "yes" if inject.red_herring else "",
    }


def _clock_cell(seconds: float) -> str:
    if seconds != int(seconds):
        return format_duration(seconds)
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _trigger_cell(trigger: Trigger | None) -> str:
    if trigger is None:
        return ""
    kind = next(k for k in TRIGGER_KINDS if getattr(trigger, k) is not None)
    text = kind if kind == "declared" else f"{kind} {getattr(trigger, kind)}"
    return text + (f" + {format_duration(trigger.delay)}" if trigger.delay else "")


def _expected_cell(e: Expectation) -> str:
    text = (f"{e.role.value}: " if e.role else "") + e.action
    if e.within is not None:
        text += f" within {format_duration(e.within)}"
    if e.contingency is not None:
        text += f" else {e.contingency}"
    return text


# --- import -----------------------------------------------------------------------------------


@dataclass
class _Sheet:
    """The rows of a sheet being read, and what is wrong with them."""

    name: str
    scenario: Scenario
    problems: list[str] = field(default_factory=list)

    def bad(self, row: int, column: str, message: str) -> None:
        """Record ``file:ROW: column X: message``."""
        self.problems.append(f"{self.name}:{row}: column {HEADERS.get(column, column)}: {message}")


@dataclass(frozen=True)
class SheetContent:
    """What a sheet holds: inject data, and question data (``None``: the sheet leaves questions alone)."""

    injects: list[dict[str, Any]]
    questions: list[dict[str, Any]] | None


def read_injects(csv_text: str, csv_name: str, scenario: Scenario) -> list[dict[str, Any]]:
    """Turn sheet rows into inject data (YAML-ready: durations as text), checked against ``scenario``.

    Row numbers are spreadsheet rows: the header is row 1.

    Raises:
        MselError: one ``csv_name:ROW: column X: what was wrong`` line per problem.
    """
    return read_sheet(csv_text, csv_name, scenario).injects


def read_sheet(csv_text: str, csv_name: str, scenario: Scenario) -> SheetContent:
    """Turn sheet rows into inject and question data, checked against ``scenario``.

    Raises:
        MselError: one ``csv_name:ROW: column X: what was wrong`` line per problem.
    """
    sheet = _Sheet(csv_name, scenario)
    rows = list(csv.reader(io.StringIO(csv_text)))
    if not rows:
        raise MselError([f"{csv_name}:1: the sheet is empty; expected a header row"])
    keys = _header_keys(rows[0], sheet)
    if sheet.problems:
        raise MselError(sheet.problems)
    injects: list[tuple[int, dict[str, Any]]] = []
    questions: list[tuple[int, dict[str, Any]]] = []
    for number, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) > len(rows[0]):
            sheet.bad(number, "event", f"the row has {len(cells)} cells but the header only "
                      f"{len(rows[0])}")
            continue
        values = {key: (cells[i] if i < len(cells) else "") for i, key in keys.items()}
        row = {k: values.get(k, "") for k in HEADERS}
        if row["channel"].strip().lower() == QUESTION_CHANNEL:
            question = _row_question(number, row, sheet)
            if question is not None:
                questions.append((number, question))
            continue
        if row["window"].strip():
            sheet.bad(number, "window", "only question rows (Method / Channel: question) have an "
                      "answer window")
        data = _row_inject(number, row, sheet)
        if data is not None:
            injects.append((number, data))
    _assign_ids(injects)
    _cross_check(injects, sheet)
    _cross_check_questions(questions, [d["id"] for _, d in injects], sheet)
    if sheet.problems:
        raise MselError(sheet.problems)
    authoritative = bool(questions) or "window" in keys.values()
    return SheetContent([data for _, data in injects],
                        [data for _, data in questions] if authoritative else None)


def _header_keys(header: Sequence[str], sheet: _Sheet) -> dict[int, str]:
    """Column index → key; unknown columns are ignored, missing required ones are problems."""
    wanted = {_norm(h): key for key, h in COLUMNS + QUESTION_COLUMNS}
    found: dict[int, str] = {}
    for index, title in enumerate(header):
        key = wanted.get(_norm(title))
        if key is not None:
            if key in found.values():
                sheet.bad(1, key, "appears twice in the header")
            found[index] = key
    for key, _ in COLUMNS + QUESTION_COLUMNS:
        if key not in found.values() and key not in OPTIONAL:
            sheet.bad(1, key, "missing from the header row")
    return found


def _norm(title: str) -> str:
    return re.sub(r"[^a-z0-9]", "", title.lower())


def _row_inject(row: int, cells: dict[str, str], sheet: _Sheet) -> dict[str, Any] | None:
    """Check one row's cells; inject data, or ``None`` when a cell is wrong."""
    before = len(sheet.problems)
    data: dict[str, Any] = {"id": cells["inject_id"].strip()}
    event = cells["event"].strip()
    if event and not event.isdigit():
        sheet.bad(row, "event", f"expected a whole number, found {event!r}")
    _timing(row, cells, data, sheet)
    channel = cells["channel"].strip().lower()
    if channel not in {c.value for c in Channel}:
        sheet.bad(row, "channel", f"expected one of {', '.join(c.value for c in Channel)} "
                  f"(or {QUESTION_CHANNEL} for a discussion question), found {cells['channel']!r}")
    data["channel"] = channel
    data["sender"] = {"name": cells["sender"].strip(), "title": cells["sender_title"].strip()}
    if not data["sender"]["name"]:
        sheet.bad(row, "sender", "empty; name who the inject is from (e.g. '{name}')")
    data["to"] = _roles(row, cells["to"], sheet)
    for key in ("subject", "message"):
        if not cells[key].strip():
            sheet.bad(row, key, "empty")
    data["subject"] = cells["subject"].strip()
    data["body"] = cells["message"].rstrip() + "\n"
    for key in ("sender", "sender_title", "subject", "message"):
        _placeholders(row, key, cells[key], sheet)
    if cells["synopsis"].strip():
        data["synopsis"] = cells["synopsis"].strip()
    expects = _expectations(row, cells["expected"], cells["objective"], sheet)
    if expects:
        data["expects"] = expects
    herring = cells["red_herring"].strip().lower()
    if herring not in _YES | _NO:
        sheet.bad(row, "red_herring", f"expected 'yes' or empty, found {cells['red_herring']!r}")
    if herring in _YES:
        data["red_herring"] = True
    notes = cells["notes"].rstrip()
    if notes:
        data["notes"] = notes + "\n" if "\n" in notes else notes
    return data if len(sheet.problems) == before else None


def _row_question(row: int, cells: dict[str, str], sheet: _Sheet) -> dict[str, Any] | None:
    """Check one question row's cells; question data, or ``None`` when a cell is wrong."""
    before = len(sheet.problems)
    for key in ("sender", "sender_title", "synopsis", "red_herring"):
        if cells[key].strip():
            sheet.bad(row, key, "stays empty on a question row")
    data: dict[str, Any] = {"id": cells["inject_id"].strip()}
    if not data["id"]:
        sheet.bad(row, "inject_id", "empty; a question row needs its question id")
    data["prompt"] = cells["message"].strip()
    if not data["prompt"]:
        sheet.bad(row, "message", "empty; write the question")
    roles = [r.strip().lower() for r in cells["to"].split(",") if r.strip()]
    if roles:
        data["to"] = _roles(row, cells["to"], sheet)
    data["ask"] = _question_timing(row, cells, sheet)
    kind = cells["subject"].strip().lower()
    if kind not in ("one", "several", "text"):
        sheet.bad(row, "subject", "on a question row: the kind, one, several or text; "
                  f"found {cells['subject']!r}")
    data["kind"] = kind
    options, expected = _options(row, cells["expected"], sheet)
    if options:
        data["options"] = options
    if expected:
        data["expected"] = expected
    if cells["notes"].strip():
        data["why"] = cells["notes"].strip()
    _window(row, cells["window"], data, sheet)
    if cells["objective"].strip():
        data["objective"] = cells["objective"].strip()
    if len(sheet.problems) == before:
        try:
            Question.model_validate(data)
        except ValidationError as exc:
            sheet.bad(row, "inject_id", f"the row does not make a valid question: {exc.errors()[0]['msg']}")
    return data if len(sheet.problems) == before else None


def _question_timing(row: int, cells: dict[str, str], sheet: _Sheet) -> dict[str, Any]:
    """A question row's ``ask``: a time, a trigger, ``with INJECT`` or ``hot wash``."""
    trigger = cells["trigger"].strip()
    words = trigger.split()
    if cells["time"].strip() and trigger:
        sheet.bad(row, "trigger", "a row has a scenario time or a trigger, not both")
    elif trigger.lower() == "hot wash":
        return {"hot_wash": True}
    elif len(words) == 2 and words[0].lower() == "with":
        return {"with": words[1]}
    elif trigger.lower() == "contingency":
        sheet.bad(row, "trigger", "a question is asked at a time, on a trigger, 'with INJECT-ID' or at "
                  "the 'hot wash'; 'contingency' is for injects")
    else:
        data: dict[str, Any] = {}
        _timing(row, cells, data, sheet)
        return data
    return {}


def _options(row: int, text: str, sheet: _Sheet) -> tuple[list[dict[str, str]], list[str]]:
    """``[*] id: text`` lines as options, and the ids marked expected."""
    options: list[dict[str, str]] = []
    expected: list[str] = []
    for index, line in enumerate(line.strip() for line in text.strip().splitlines()):
        marked = line.startswith("*")
        option_id, colon, option_text = line.lstrip("*").strip().partition(":")
        if not colon or not option_id.strip() or not option_text.strip():
            sheet.bad(row, "expected", f"line {index + 1}: expected '[*] option-id: text' on a question "
                      f"row, found {line!r}")
            continue
        options.append(_Flow({"id": option_id.strip(), "text": option_text.strip()}))
        if marked:
            expected.append(option_id.strip())
    return options, expected


def _window(row: int, text: str, data: dict[str, Any], sheet: _Sheet) -> None:
    """``10m``, ``pauses`` or ``10m, pauses`` into ``within`` and ``pauses``."""
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part.lower() == "pauses":
            data["pauses"] = True
            continue
        try:
            data["within"] = format_duration(parse_duration(part))
        except ValueError:
            sheet.bad(row, "window", f"expected a duration such as 10m and/or 'pauses', found {part!r}")


def _cross_check_questions(questions: list[tuple[int, dict[str, Any]]], injects: list[str],
                           sheet: _Sheet) -> None:
    """Question ids unique, ``with`` naming a row's inject, objectives the scenario lists."""
    s = sheet.scenario
    ids = [d["id"] for _, d in questions]
    for row, data in questions:
        if ids.count(data["id"]) > 1:
            sheet.bad(row, "inject_id", f"duplicate question id {data['id']!r}")
        target = data["ask"].get("with")
        if target is not None and target not in injects:
            sheet.bad(row, "trigger", f"no inject row has the id {target!r}{suggest(target, injects)}")
        trigger = data["ask"].get("trigger") or {}
        for kind, known in (("signal", set(s.signals)), ("inject", set(injects))):
            if kind in trigger and trigger[kind] not in known:
                sheet.bad(row, "trigger", f"{s.id!r} has no {kind} {trigger[kind]!r}"
                          f"{suggest(trigger[kind], known)}")
        objective = data.get("objective")
        if objective is not None and objective not in s.objectives:
            sheet.bad(row, "objective", f"{objective!r} is not one of the scenario's objectives"
                      f"{suggest(objective, s.objectives)}")


def _timing(row: int, cells: dict[str, str], data: dict[str, Any], sheet: _Sheet) -> None:
    time, trigger = cells["time"].strip(), cells["trigger"].strip()
    if time and trigger:
        sheet.bad(row, "trigger", "a row has a scenario time or a trigger, not both")
    elif not time and not trigger:
        sheet.bad(row, "time", "empty; give a time such as 0:15:00 or 15m, or fill in Trigger")
    elif time:
        seconds = _time(time)
        if seconds is None:
            sheet.bad(row, "time", f"expected a time such as 0:15:00 or a duration such as 15m, "
                      f"found {time!r}")
        elif seconds > sheet.scenario.duration:
            sheet.bad(row, "time", f"{time} is after the end of the drill "
                      f"({format_duration(sheet.scenario.duration)})")
        else:
            data["at"] = format_duration(seconds)
    elif trigger.lower() == "contingency":
        data["contingency"] = True
    else:
        parsed = _trigger(trigger)
        if isinstance(parsed, str):
            sheet.bad(row, "trigger", parsed)
        else:
            data["trigger"] = parsed


def _time(text: str) -> float | None:
    match = _CLOCK.match(text)
    if match:
        hours, minutes, seconds = match.groups()
        return int(hours) * 3600 + int(minutes) * 60 + int(seconds or 0)
    try:
        return parse_duration(text)
    except ValueError:
        return None


def _trigger(text: str) -> dict[str, Any] | str:
    """Trigger data from ``kind [value] [+ delay]``, or what is wrong with it."""
    condition, _, delay_text = text.partition("+")
    words = condition.split()
    out: dict[str, Any] = {}
    if delay_text.strip():
        try:
            out["delay"] = format_duration(parse_duration(delay_text))
        except ValueError:
            return f"delay: expected a duration such as 40m after '+', found {delay_text.strip()!r}"
    kind = words[0].lower() if words else ""
    if kind not in TRIGGER_KINDS:
        return (f"expected 'contingency' or one of {', '.join(TRIGGER_KINDS)} (then a value and an "
                f"optional '+ delay'), found {text!r}")
    if kind == "declared":
        if len(words) != 1:
            return f"'declared' takes no value, found {condition.strip()!r}"
        return {"declared": True, **out}
    if len(words) != 2:
        return f"'{kind}' takes exactly one value, e.g. '{kind} {_example(kind)}', found {text!r}"
    if kind == "harm_at_least":
        if not words[1].isdigit() or int(words[1]) == 0:
            return f"harm_at_least needs a positive whole number, found {words[1]!r}"
        return {"harm_at_least": int(words[1]), **out}
    return {kind: words[1], **out}


def _example(kind: str) -> str:
    return {"signal": "user_reports", "inject": "viral-post", "action": "take-offline",
            "action_effective": "block-list", "harm_at_least": "60000"}[kind]


def _roles(row: int, text: str, sheet: _Sheet) -> list[str]:
    roles = [r.strip().lower() for r in text.split(",") if r.strip()]
    allowed = {r.value for r in Role}
    if not roles:
        sheet.bad(row, "to", f"empty; name at least one role ({', '.join(sorted(allowed))})")
    for role in roles:
        if role not in allowed:
            sheet.bad(row, "to", f"unknown role {role!r} (roles: {', '.join(r.value for r in Role)})")
    return roles


def _placeholders(row: int, column: str, text: str, sheet: _Sheet) -> None:
    try:
        unknown = unknown_placeholders(text)
    except ValueError as exc:
        sheet.bad(row, column, f"braces do not parse ({exc}); write {{{{ and }}}} for literal braces")
        return
    if unknown:
        sheet.bad(row, column, f"unknown placeholder {{{unknown[0]}}} (known: {', '.join(sorted(FIELDS))})")


def _expectations(row: int, expected: str, objectives: str, sheet: _Sheet) -> list[dict[str, Any]]:
    lines = [line.strip() for line in expected.strip().splitlines()]
    goals = objectives.rstrip().splitlines() if objectives.strip() else []
    if len(goals) > len(lines):
        sheet.bad(row, "objective", f"{len(goals)} objective lines for {len(lines)} expected actions; "
                  "write one objective per expected-action line")
    out = []
    for index, line in enumerate(lines):
        parsed = _expectation(line)
        if isinstance(parsed, str):
            sheet.bad(row, "expected", f"line {index + 1}: {parsed}")
            continue
        objective = goals[index].strip() if index < len(goals) else ""
        if objective:
            parsed["objective"] = objective
        out.append(parsed)
    return out


def _expectation(line: str) -> dict[str, Any] | str:
    match = _EXPECTED.match(line)
    if not match:
        return (f"expected '[role:] action [within 20m] [else inject-id]', found {line!r}")
    data: dict[str, Any] = {"action": match["action"]}
    if match["role"] and match["role"] != "any":
        if match["role"] not in {r.value for r in Role}:
            return f"unknown role {match['role']!r} (roles: {', '.join(r.value for r in Role)})"
        data["role"] = match["role"]
    if match["within"]:
        try:
            data["within"] = format_duration(parse_duration(match["within"]))
        except ValueError:
            return f"'within' needs a duration such as 20m, found {match['within']!r}"
    if match["contingency"]:
        data["contingency"] = match["contingency"]
    return data


def _assign_ids(injects: list[tuple[int, dict[str, Any]]]) -> None:
    """Give rows without an Inject ID one made from their subject, unique in the sheet."""
    taken = {d["id"] for _, d in injects if d["id"]}
    for _, data in injects:
        if data["id"]:
            continue
        base = re.sub(r"[^a-z0-9]+", "-", data["subject"].lower()).strip("-")[:40].strip("-") or "inject"
        candidate, n = base, 2
        while candidate in taken:
            candidate, n = f"{base}-{n}", n + 1
        taken.add(candidate)
        data["id"] = candidate


def _cross_check(injects: list[tuple[int, dict[str, Any]]], sheet: _Sheet) -> None:
    """References between rows and to the scenario: ids, triggers, expected actions, contingencies."""
    s = sheet.scenario
    ids = [d["id"] for _, d in injects]
    takeable = {a.id for a in s.actions} | set(VERBS)
    contingencies = {d["id"] for _, d in injects if d.get("contingency")}
    for row, data in injects:
        if not re.match(r"^[a-z0-9][a-z0-9_-]*$", data["id"]) or len(data["id"]) > 64:
            sheet.bad(row, "inject_id",
                      f"expected lower-case letters, digits, '-' or '_', found {data['id']!r}")
        if ids.count(data["id"]) > 1:
            sheet.bad(row, "inject_id", f"duplicate inject id {data['id']!r}")
        trigger = data.get("trigger") or {}
        checks = (("signal", set(s.signals), "signal"), ("inject", set(ids), "inject"),
                  ("action", takeable, "action"), ("action_effective", {a.id for a in s.actions},
                                                   "catalogue action"))
        for kind, known, noun in checks:
            if kind in trigger and trigger[kind] not in known:
                sheet.bad(row, "trigger", f"{s.id!r} has no {noun} {trigger[kind]!r}"
                          f"{suggest(trigger[kind], known)}")
        for n, exp in enumerate(data.get("expects", []), start=1):
            if exp["action"] not in takeable:
                sheet.bad(row, "expected", f"line {n}: {s.id!r} has no action {exp['action']!r}"
                          f"{suggest(exp['action'], takeable)}")
            target = exp.get("contingency")
            if target is not None and target not in contingencies:
                why = "is not a contingency row (Trigger: contingency)" if target in ids else "does not exist"
                sheet.bad(row, "expected", f"line {n}: contingency inject {target!r} {why}")
            if target is not None and "within" not in exp:
                sheet.bad(row, "expected", f"line {n}: a contingency needs a deadline ('within 20m')")
        if not _valid_inject(data):
            sheet.bad(row, "inject_id", "the row does not make a valid inject")


def _valid_inject(data: dict[str, Any]) -> bool:
    try:
        Inject.model_validate(data)
    except ValidationError:
        return False
    return True


# --- writing YAML -----------------------------------------------------------------------------


class _Flow(dict[str, Any]):
    """A small mapping written on one line: ``{name: …, title: …}``."""


class _FlowList(list[str]):
    """A short list written on one line: ``[ts, ic]``."""


class _Dumper(yaml.SafeDumper):
    """Block style, multi-line text as ``|`` literals, senders and role lists inline."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        """Indent lists inside mappings, as people write them."""
        super().increase_indent(flow, False)


def _str(dumper: _Dumper, value: str, flow: bool = False) -> yaml.ScalarNode:
    """Literal blocks for multi-line text; plain when unambiguous where it stands; else double quotes."""
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    analysis = dumper.analyze_scalar(value)
    plain = ((analysis.allow_flow_plain if flow else analysis.allow_block_plain) and not analysis.empty
             and _implicit_tag(dumper, value) == "tag:yaml.org,2002:str")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=None if plain else '"')


def _flow_mapping(dumper: _Dumper, value: _Flow) -> yaml.MappingNode:
    """``{key: value, …}`` on one line; strings quoted where a flow context needs it."""
    pairs = [(dumper.represent_data(k), _str(dumper, v, flow=True) if isinstance(v, str)
              else dumper.represent_data(v)) for k, v in value.items()]
    return yaml.MappingNode("tag:yaml.org,2002:map", pairs, flow_style=True)


def _implicit_tag(dumper: _Dumper, value: str) -> str:
    """The tag a plain scalar ``value`` would be read back as."""
    tag: str = dumper.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag


_Dumper.add_representer(str, _str)
_Dumper.add_representer(_Flow, _flow_mapping)
_Dumper.add_representer(_FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v,
                                                                     flow_style=True))

_EXPECTATION_ORDER = ("action", "role", "within", "objective", "contingency")
_FIELD_ORDER = ("id", "at", "trigger", "contingency", "channel", "sender", "to", "subject", "body",
                "synopsis", "expects", "red_herring", "notes")


def injects_yaml(injects: list[dict[str, Any]]) -> str:
    """The ``injects:`` section for a scenario file, in the style of the built-ins."""
    chunks = []
    for data in injects:
        item: dict[str, Any] = {}
        for key in _FIELD_ORDER:
            if key not in data:
                continue
            value = data[key]
            if key in ("trigger", "sender"):
                value = _Flow(value)
            elif key == "to":
                value = _FlowList(value)
            elif key == "expects":
                value = [{k: e[k] for k in _EXPECTATION_ORDER if k in e} for e in value]
            item[key] = value
        text = yaml.dump([item], Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                         indent=2)
        chunks.append("".join("  " + line if line.strip() else line
                              for line in text.splitlines(keepends=True)))
    return "injects:\n" + "\n".join(chunks) if chunks else "injects: []\n"


_QUESTION_ORDER = ("id", "prompt", "to", "ask", "kind", "options", "expected", "why", "within", "pauses",
                   "objective")


def questions_yaml(questions: list[dict[str, Any]]) -> str:
    """The ``questions:`` section for a scenario file."""
    chunks = []
    for data in questions:
        item: dict[str, Any] = {}
        for key in (k for k in _QUESTION_ORDER if k in data):
            value = data[key]
            if key == "ask":
                value = _Flow(value)
            elif key in ("to", "expected"):
                value = _FlowList(value)
            elif key == "options":
                value = [_Flow(o) for o in value]
            item[key] = value
        text = yaml.dump([item], Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100, indent=2)
        chunks.append("".join("  " + line if line.strip() else line
                              for line in text.splitlines(keepends=True)))
    return "questions:\n" + "\n".join(chunks) if chunks else "questions: []\n"


def splice_questions(scenario_text: str, section: str) -> str:
    """Replace (or add, at the end) the ``questions:`` section of a scenario's YAML text."""
    root = yaml.compose(scenario_text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        raise ValueError("the scenario is not a YAML mapping")
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "questions":
            start = key.start_mark.index
            end = _content_end(scenario_text, start, value.end_mark.index)
            return scenario_text[:start] + section.rstrip("\n") + "\n" + scenario_text[end:]
    return scenario_text.rstrip("\n") + "\n\n" + section


def splice_injects(scenario_text: str, section: str) -> str:
    """Replace the ``injects:`` section of a scenario's YAML text, leaving every other line as it was."""
    root = yaml.compose(scenario_text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        raise ValueError("the scenario is not a YAML mapping")
    keys = [k for k, _ in root.value]
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "injects":
            start = key.start_mark.index
            end = _content_end(scenario_text, start, value.end_mark.index)
            return scenario_text[:start] + section.rstrip("\n") + "\n" + scenario_text[end:]
    before = next((k for k in keys if isinstance(k, yaml.ScalarNode) and k.value == "actions"), None)
    if before is not None:
        at = before.start_mark.index
        return scenario_text[:at] + section + "\n" + scenario_text[at:]
    return scenario_text.rstrip("\n") + "\n\n" + section


def _content_end(text: str, start: int, end: int) -> int:
    """Back off from ``end`` over trailing blank lines and unindented comments (they belong to the
    section that follows)."""
    lines = text[start:end].splitlines(keepends=True)
    while len(lines) > 1 and (not lines[-1].strip() or lines[-1].startswith("#")):
        lines.pop()
    return start + sum(len(line) for line in lines)


def merge(csv_text: str, csv_name: str, scenario: Scenario, scenario_text: str) -> str:
    """The scenario's YAML text with its injects replaced by the sheet's rows.

    Raises:
        MselError: a row is wrong (``csv_name:ROW: column X: …``).
    """
    content = read_sheet(csv_text, csv_name, scenario)
    merged = splice_injects(scenario_text, injects_yaml(content.injects))
    if content.questions is None or _same_questions(content.questions, scenario):
        return merged
    return splice_questions(merged, questions_yaml(content.questions))


def _same_questions(questions: list[dict[str, Any]], scenario: Scenario) -> bool:
    """Whether the sheet's questions are the scenario's (then its section is kept as written)."""
    parsed = [Question.model_validate(q) for q in questions]
    return [_comparable(q) for q in parsed] == [_comparable(q) for q in scenario.questions]


def _comparable(q: Question) -> dict[str, Any]:
    """A question's fields, text without trailing line breaks (spreadsheets drop them)."""
    data = q.model_dump()
    data["prompt"], data["why"] = q.prompt.rstrip("\n"), q.why.rstrip("\n")
    return data
