"""Load scenario files: safe YAML → validated :class:`Scenario`, with every error at ``file:line:col``."""

from __future__ import annotations

import difflib
import hashlib
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from simulator.format.brief import builtin_dir as builtin_dir  # re-exported: where the others find it
from simulator.format.commands import VERBS
from simulator.format.durations import format_duration
from simulator.format.salvage import Damage, Ref, salvage
from simulator.format.scenario import (
    ConstantFraction,
    HarmfulFraction,
    LogisticFraction,
    Question,
    Scenario,
    Trigger,
)
from simulator.format.taxonomy import Role
from simulator.format.templating import unknown_placeholders
from simulator.format.yamlsafe import Document, FileProblems, Problem, is_base60, read_document

M = TypeVar("M", bound=BaseModel)

MIN_TICK = 0.001
"""Shortest monitoring tick, seconds: the engine keeps time in whole milliseconds."""
MAX_TICKS = 1_000_000
"""Most monitoring ticks one drill may have (a finer tick is an authoring mistake, not a drill)."""
MAX_TRAFFIC_RPS = 1e9
"""Largest traffic a feature may serve, requests/s at its peak (a tick's outputs must stay a
Poisson draw NumPy can make, and the monitors' counts exact integers)."""


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario with where it came from."""

    scenario: Scenario
    path: str
    """File it was read from (a built-in's path inside the installed package)."""
    content_hash: str
    """``sha256:`` of the file's bytes; recorded in journal headers."""
    document: Document
    label: str = ""
    """``builtin:<id>`` for built-ins, else the path: what journal headers record as the source."""


def builtin_ids() -> list[str]:
    """Ids of the built-in scenarios, sorted."""
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def resolve(name: str) -> Path:
    """A scenario argument as a path: an existing file, else a built-in id.

    Raises:
        FileNotFoundError: neither; the message says which was meant (a name with a folder or a
            ``.yaml`` ending is a file) and lists the built-ins.
    """
    path = Path(name)
    if path.is_file():
        return path
    builtin = builtin_dir() / f"{name}.yaml"
    if builtin.is_file():
        return builtin
    ids = builtin_ids()
    if path.is_dir():
        raise FileNotFoundError(f"{name}: is a folder; expected a scenario file (.yaml) or a built-in id")
    if looks_like_a_path(name):
        raise FileNotFoundError(f"{name}: no such scenario file (built-in ids: {', '.join(ids)})")
    raise FileNotFoundError(
        f"no scenario file or built-in scenario named {name!r}{suggest(name, ids)} "
        f"(built-in: {', '.join(ids)})")


def looks_like_a_path(name: str) -> bool:
    """Whether a command-line name is meant as a file: it has a folder part or a YAML ending."""
    return "/" in name or "\\" in name or name.lower().endswith((".yaml", ".yml"))


def load_scenario(name: str | Path) -> LoadedScenario:
    """Load and fully check a scenario given as a path or a built-in id.

    Raises:
        FileNotFoundError: no such file or built-in.
        FileProblems: it is not a valid scenario; ``problems`` lists each place.
    """
    path = resolve(str(name))
    raw = path.read_bytes()
    document = read_document(raw.decode("utf-8", errors="replace"), str(path))
    scenario, problems = check_scenario(document)
    errors = [p for p in problems if p.level == "error"]
    if scenario is None or errors:
        raise FileProblems(errors)
    return LoadedScenario(scenario, str(path), "sha256:" + hashlib.sha256(raw).hexdigest(), document,
                          _label(path))


def _label(path: Path) -> str:
    """``builtin:<id>`` for the library's own files (so journals travel between machines), else the path."""
    try:
        if path.resolve().parent == builtin_dir().resolve():
            return f"builtin:{path.stem}"
    except OSError:
        pass
    return str(path)


def scenario_problems(name: str | Path) -> list[Problem]:
    """Every problem of a scenario file, errors and warnings, in one pass and in file order.

    Raises:
        FileNotFoundError: no such file or built-in.
        FileProblems: the file is not readable YAML (nothing else can be checked then).
    """
    path = resolve(str(name))
    document = read_document(path.read_bytes().decode("utf-8", errors="replace"), str(path))
    return check_scenario(document)[1]


def check_scenario(document: Document) -> tuple[Scenario | None, list[Problem]]:
    """The scenario in a document (None when it has schema errors) and all its problems, in file order.

    Schema errors and the cross-reference checks come together: where the schema fails, the
    checks run on the rest (:mod:`simulator.format.salvage`), so fixing the schema errors never
    uncovers a second list.
    """
    return check_model(Scenario, document, semantic_problems, SCENARIO_STAND_INS)


SCENARIO_STAND_INS: dict[str, Any] = {
    "id": "salvaged", "title": "", "summary": "", "briefing": "", "duration": "1h",
    "roles": [role.value for role in Role],
    "features": {"salvaged": {"title": "", "traffic_rps": 1}},
    "streams": {"salvaged": {"title": "", "harm_type": "confabulation", "feature": "salvaged",
                             "harmful_fraction": {"model": "constant", "value": 0}}},
    "scoring": {"containment_threshold": 0},
}
"""A valid value for each required top-level field, used while salvaging a broken file's checks."""

Checks = Callable[[M, Document, Damage | None], list[Problem]]
"""The cross-reference checks of a model: (valid instance, its document, what salvaging cut)."""


def check_model(model: type[M], document: Document, checks: Checks[M],
                stand_ins: dict[str, Any] | None = None) -> tuple[M | None, list[Problem]]:
    """Validate a document and run ``checks`` on it, or on what validates of it; problems in file order."""
    try:
        instance = model.model_validate(document.data)
    except ValidationError as exc:
        problems = [_locate(model, document, err) for err in exc.errors()]
        salvaged = salvage(model, document, stand_ins or {})
        if salvaged is not None:
            problems += checks(*salvaged)
        return None, _in_file_order(problems)
    return instance, _in_file_order(checks(instance, document, None))


def _in_file_order(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.line, p.column, p.level != "error", p.message))


def validate_model(model: type[M], document: Document) -> M:
    """Validate a document's data against a pydantic model, errors located in the file.

    Raises:
        FileProblems: one problem per validation error.
    """
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        problems = [_locate(model, document, err) for err in exc.errors()]
        raise FileProblems(_in_file_order(problems)) from None


def _locate(model: type[BaseModel], document: Document, err: ErrorDetails) -> Problem:
    """Turn one pydantic error into a located, plain-words problem."""
    loc = tuple(err["loc"])
    kind = err["type"]
    if kind == "missing":
        parent = document.node_at(loc[:-1])
        return document.problem(parent, f"missing required field {loc[-1]!r}{_context(loc[:-1])}")
    if kind == "extra_forbidden":
        node = document.key_node_at(loc)
        allowed = _allowed_fields(model, loc[:-1])
        hint = ""
        if allowed:
            close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
            hint = (f"; did you mean {close[0]!r}?" if close else "") + \
                f" (allowed here: {', '.join(allowed)})"
        return document.problem(node, f"unknown field {loc[-1]!r}{_context(loc[:-1])}{hint}")
    node = document.node_at(loc)
    message = err["msg"].removeprefix("Value error, ")
    found = err.get("input")
    if not loc and kind in {"model_type", "model_attributes_type", "dict_type"}:
        fields = ", ".join(f"{name}:" for name in list(model.model_fields)[:3])
        return document.problem(node, f"expected a mapping of fields ({fields} …), found {_kind_of(found)}")
    if kind in {"enum", "literal_error"}:
        message = message.replace("Input should be", "expected")
    elif kind.startswith("union_tag"):
        message = message.replace("Input tag", "tag")
    elif kind == "duration" and is_base60(node):
        message = "expected a duration with units"
    else:
        message = message[0].lower() + message[1:] if message else message
    if not isinstance(found, dict | list) and kind not in {"value_error", "assertion_error", "duration"}:
        message += f", found {_shown(found)}"
    if kind in {"enum", "literal_error"} and isinstance(found, str):
        expected = str(err.get("ctx", {}).get("expected", ""))
        message += _closest_value(found, re.findall(r"'([^']*)'", expected))
    wants = {"string_type": "text", "duration": "duration"}.get(kind, "other")
    return document.problem(node, f"{_field(loc)}: {message}{document.yaml11_hint(node, wants)}")


def _closest_value(found: str, values: list[str]) -> str:
    """``; did you mean 'data_privacy'?`` for a value close to one of ``values`` (spelt alike, or a
    word of it: ``privacy``), or ``""``."""
    close = difflib.get_close_matches(found.lower(), values, n=1)
    if not close:
        close = [v for v in values if found.lower() in v.split("_")] if found else []
    return f"; did you mean {close[0]!r}?" if len(close) == 1 else ""


def _kind_of(found: Any) -> str:
    """What a value is, in words: ``text``, ``a list``, ``a number``."""
    if isinstance(found, str):
        return "text"
    if isinstance(found, list):
        return "a list"
    return "a number" if isinstance(found, int | float) else type(found).__name__


def _shown(found: Any) -> str:
    """A found value as the message quotes it: its repr, cut short when it is long (a whole file's text)."""
    text = repr(found)
    return text if len(text) <= 60 else f"{text[:50]}… ({len(str(found)):,} characters)"


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if not isinstance(p, int)]
    return parts[-1] if parts else "document"


def _context(loc: tuple[Any, ...]) -> str:
    return f" in {'.'.join(str(p) for p in loc)}" if loc else ""


def _allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model found by walking ``loc`` through annotations (best effort)."""
    current: Any = model
    for part in loc:
        current = _step(current, part)
        if current is None:
            return []
    models = [m for m in _models_in(current)]
    return sorted(models[0].model_fields) if len(models) == 1 else []


def _step(annotation: Any, part: Any) -> Any:
    for candidate in _unwrap(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            if isinstance(part, str) and part in candidate.model_fields:
                return candidate.model_fields[part].annotation
            tagged = [m for m in _models_in(annotation) if _tag_of(m) == part]
            if tagged:
                return tagged[0]
        origin = typing.get_origin(candidate)
        if origin is list and isinstance(part, int):
            return typing.get_args(candidate)[0]
        if origin is dict and isinstance(part, str):
            return typing.get_args(candidate)[1]
    return None


def _tag_of(model: type[BaseModel]) -> Any:
    for name in ("kind", "model"):
        field = model.model_fields.get(name)
        if field is not None and typing.get_origin(field.annotation) is typing.Literal:
            return typing.get_args(field.annotation)[0]
    return None


def _unwrap(annotation: Any) -> Iterator[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        yield from _unwrap(typing.get_args(annotation)[0])
    elif origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            yield from _unwrap(arg)
    else:
        yield annotation


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    for candidate in _unwrap(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            yield candidate


# --- semantic checks ------------------------------------------------------------------------


def semantic_problems(s: Scenario, doc: Document, damage: Damage | None = None) -> list[Problem]:
    """Cross-reference checks and (as warnings) the lints of ``ttx validate --lint``.

    With ``damage`` (``s`` is what validated of a file with schema errors), findings that may
    only echo what was cut are left out.
    """
    out: list[Problem] = []

    def err(path: tuple[Any, ...], message: str, level: str = "error", about: tuple[Ref, ...] = ()) -> None:
        if damage is None or not damage.hides(doc, path, about):
            out.append(doc.problem(doc.node_at(path), message, level))

    _unique(doc, [i.id for i in s.injects], ("injects",), err)
    _unique(doc, [a.id for a in s.actions], ("actions",), err)
    _unique(doc, [c.id for c in s.clocks], ("clocks",), err)
    known = Known.of(s, damage)
    takeable = known.actions | set(VERBS)
    in_play = {r.value for r in s.roles}

    for sid, stream in s.streams.items():
        if stream.feature not in known.features:
            err(("streams", sid, "feature"), f"unknown feature {stream.feature!r}"
                f"{suggest(stream.feature, known.features, known_ids('features', known.features))}")
    for fid, feature in s.features.items():
        times = [p.at for p in feature.shape]
        if times != sorted(times):
            err(("features", fid, "shape"), "shape points must be in time order")
    for i, action in enumerate(s.actions):
        if action.id in VERBS:
            err(("actions", i, "id"), f"{action.id!r} is a built-in verb; choose another id")
        for j, effect in enumerate(action.effects):
            if effect.stream is not None and effect.stream not in known.streams:
                err(("actions", i, "effects", j, "stream"),
                    f"unknown stream {effect.stream!r}"
                    f"{suggest(effect.stream, known.streams, known_ids('streams', known.streams))}")
            if effect.feature is not None and effect.feature not in known.features:
                err(("actions", i, "effects", j, "feature"),
                    f"unknown feature {effect.feature!r}"
                    f"{suggest(effect.feature, known.features, known_ids('features', known.features))}")
        for j, role in enumerate(action.roles):
            if role.value not in in_play:
                err(("actions", i, "roles", j), f"role {role.value!r} is not in play", "warning",
                    about=(("roles",),))
        if action.approval is not None and action.approval.value not in in_play:
            err(("actions", i, "approval"), f"approval needs role {action.approval.value!r}, which is "
                "not in play, so this action could never be approved", about=(("roles",),))

    contingencies = {i.id for i in s.injects if i.contingency}
    referenced: set[str] = set()
    for i, inject in enumerate(s.injects):
        base = ("injects", i)
        if inject.at is not None and inject.at > s.duration:
            err((*base, "at"), "this inject never fires: its time is after the drill's duration",
                about=(("duration",),))
        elif inject.at is not None and inject.at == s.duration:
            err((*base, "at"), "this inject is never delivered: its time is the drill's end "
                "(the drill ends before anyone reads it)", "warning", about=(("duration",),))
        if inject.trigger is not None:
            _check_trigger(inject.trigger, (*base, "trigger"), s, known, err)
        for field in ("subject", "body"):
            _check_template(getattr(inject, field), (*base, field), err)
        _check_template(inject.sender.name, (*base, "sender", "name"), err)
        _check_template(inject.sender.title, (*base, "sender", "title"), err)
        for j, role in enumerate(inject.to):
            if role.value not in in_play:
                err((*base, "to", j), f"inject goes to role {role.value!r}, which is not in play "
                    "(it will reach the incident commander in a team drill)", "warning",
                    about=(("roles",),))
        for j, exp in enumerate(inject.expects):
            epath = (*base, "expects", j)
            if exp.action not in takeable:
                err((*epath, "action"), f"unknown action {exp.action!r}"
                                        f"{suggest(exp.action, takeable, catalogue_actions(known.actions))}")
            if exp.within is None:
                err(epath, "expectation has no deadline ('within'); it can never be missed", "warning")
                if exp.contingency is not None:
                    err((*epath, "contingency"), "a contingency needs a deadline ('within')")
            if exp.contingency is not None:
                referenced.add(exp.contingency)
                if exp.contingency not in known.injects:
                    err((*epath, "contingency"), f"unknown inject {exp.contingency!r}"
                        f"{suggest(exp.contingency, known.injects, known_ids('injects', known.injects))}")
                elif exp.contingency not in contingencies:
                    err((*epath, "contingency"), f"inject {exp.contingency!r} is not marked "
                        "'contingency: true'", about=(("injects", exp.contingency),))
    for i, inject in enumerate(s.injects):
        if inject.contingency and inject.id not in referenced:
            err(("injects", i, "contingency"), f"contingency inject {inject.id!r} is unreachable: "
                "no expectation names it", about=(("injects",),))
    if s.published is not None and s.published.first_signal.inject not in known.injects:
        signal = s.published.first_signal.inject
        err(("published", "first_signal", "inject"),
            f"unknown inject {signal!r}{suggest(signal, known.injects, known_ids('injects', known.injects))}")
    _check_cycles(s, doc, err)
    for i, c in enumerate(s.clocks):
        _check_trigger(c.starts, ("clocks", i, "starts"), s, known, err)
        if c.met_by not in takeable:
            err(("clocks", i, "met_by"), f"unknown action {c.met_by!r}"
                                         f"{suggest(c.met_by, takeable, catalogue_actions(known.actions))}")
    _check_questions(s, doc, known, err)
    _check_time_grid(s, err)
    _check_traffic(s, err)
    _check_fractions(s, err)
    if s.scoring.watch_period >= s.duration:
        err(("scoring", "watch_period"), "watch period is as long as the drill; nothing can be contained",
            about=(("duration",),))
    _lint(s, doc, err)
    return out


def _check_questions(s: Scenario, doc: Document, known: Known, err: Any) -> None:
    """Discussion questions: who answers, when they are asked, options, expected answers, objectives."""
    _unique(doc, [q.id for q in s.questions], ("questions",), err)
    in_play = {r.value for r in s.roles}
    for i, q in enumerate(s.questions):
        base = ("questions", i)
        _check_question_roles(q.to, base, in_play, err)
        _check_ask(q, base, s, known, err)
        _unique(doc, [o.id for o in q.options], (*base, "options"), err)
        options = {o.id for o in q.options}
        for j, expected in enumerate(q.expected):
            if expected not in options:
                err((*base, "expected", j), f"expected answer {expected!r} is not an option of "
                    f"{q.id!r}{suggest(expected, options)} (options: {', '.join(sorted(options))})")
        if len(set(q.expected)) != len(q.expected):
            err((*base, "expected"), "an option is listed twice in 'expected'")
        elif q.kind == "one" and len(q.expected) > 1:
            err((*base, "expected"), f"a 'one' question expects exactly one option; found "
                f"{len(q.expected)} in 'expected' ({', '.join(q.expected)})")
        if q.objective and q.objective not in s.objectives:
            err((*base, "objective"), f"objective {q.objective!r} is not one of the scenario's "
                f"'objectives'{suggest(q.objective, s.objectives)}", about=(("objectives",),))
        if q.expected and not q.why.strip():
            err((*base, "expected"), f"question {q.id!r} has an expected answer but no 'why': the "
                "team learns nothing when it closes", "warning")
        if q.within is not None and (q.pauses or q.hot_wash):
            err((*base, "within"), "'within' has no effect on a question that stops the clock "
                "(pauses, or the hot wash): it stays open until answered or closed", "warning")


def _check_question_roles(to: list[Role], base: tuple[Any, ...], in_play: set[str], err: Any) -> None:
    if to and not any(r.value in in_play for r in to):
        err((*base, "to"), f"nobody in play can answer this question (asks {', '.join(r.value for r in to)}; "
            f"in play: {', '.join(sorted(in_play))}), so it is never asked", about=(("roles",),))
        return
    for j, role in enumerate(to):
        if role.value not in in_play:
            err((*base, "to", j), f"role {role.value!r} is not in play; the others answer",
                "warning", about=(("roles",),))


def _check_ask(q: Question, base: tuple[Any, ...], s: Scenario, known: Known, err: Any) -> None:
    ask = (*base, "ask")
    if q.ask.at is not None and q.ask.at > s.duration:
        err((*ask, "at"), "this question is never asked: its time is after the drill's duration",
            about=(("duration",),))
    elif q.ask.at is not None and q.ask.at == s.duration:
        err((*ask, "at"), "this question is never asked: its time is the drill's end; "
            "to ask it when the drill ends, use 'ask: {hot_wash: true}'", about=(("duration",),))
    if q.ask.trigger is not None:
        _check_trigger(q.ask.trigger, (*ask, "trigger"), s, known, err)
    if q.ask.with_ is not None and q.ask.with_ not in known.injects:
        err((*ask, "with"), f"unknown inject {q.ask.with_!r}"
                            f"{suggest(q.ask.with_, known.injects, known_ids('injects', known.injects))}")
    if q.ask.hot_wash and q.pauses:
        err((*base, "pauses"), "a hot-wash question always stops the clock; 'pauses' is redundant",
            "warning")


def _check_time_grid(s: Scenario, err: Any) -> None:
    """A tick the engine can step: positive, a whole millisecond, and not millions per drill."""
    if s.tick < MIN_TICK:
        err(("tick",), f"tick must be at least {MIN_TICK * 1000:.0f}ms; found {s.tick:g}s")
    elif s.duration / s.tick > MAX_TICKS:
        err(("tick",), f"tick {s.tick:g}s gives {s.duration / s.tick:,.0f} ticks over the drill's "
            f"{format_duration(s.duration)}; at most {MAX_TICKS:,} are allowed (choose a longer tick)",
            about=(("duration",),))
    elif s.tick > s.duration:
        err(("tick",), "tick is longer than the drill's duration", about=(("duration",),))


def _check_traffic(s: Scenario, err: Any) -> None:
    """Traffic finite and small enough that one tick's outputs are a Poisson draw NumPy can make."""
    for fid, feature in s.features.items():
        peak = feature.traffic_rps * max([1.0, *(p.factor for p in feature.shape)])
        if not math.isfinite(peak) or peak > MAX_TRAFFIC_RPS:
            err(("features", fid, "traffic_rps"),
                f"traffic_rps × the largest shape factor is {peak:g} requests/s; at most "
                f"{MAX_TRAFFIC_RPS:g} requests/s are allowed (beyond that one tick's outputs overflow "
                "the harm draw)")


def _check_fractions(s: Scenario, err: Any) -> None:
    """The streams on one feature can together be at most all of its outputs."""
    by_feature: dict[str, list[str]] = {}
    for sid, stream in s.streams.items():
        by_feature.setdefault(stream.feature, []).append(sid)
    for fid, sids in by_feature.items():
        peaks = [peak_fraction(s.streams[sid].harmful_fraction) for sid in sids]
        if len(sids) > 1 and sum(peaks) > 1.0 + 1e-9:
            listed = ", ".join(f"{sid} {peak:g}" for sid, peak in zip(sids, peaks, strict=True))
            err(("streams", sids[-1], "harmful_fraction"),
                f"the harmful fractions of the streams on feature {fid!r} can add up to "
                f"{sum(peaks):g} ({listed}); together they may be at most 1 (all of its outputs)")


def peak_fraction(curve: HarmfulFraction) -> float:
    """The largest harmful fraction a curve reaches."""
    if isinstance(curve, ConstantFraction):
        return curve.value
    if isinstance(curve, LogisticFraction):
        return max(curve.floor, curve.ceiling)
    return curve.ceiling


def _lint(s: Scenario, doc: Document, err: Any) -> None:
    for sid, stream in s.streams.items():
        reducible = any(e.stream == sid or (e.feature == stream.feature and e.traffic_multiplier is not None
                                             and e.traffic_multiplier < 1)
                        for a in s.actions for e in a.effects)
        if not reducible:
            err(("streams", sid), f"no action can reduce harm stream {sid!r}", "warning",
                about=(("actions",),))
    if not any(sig.instrumented for sig in s.signals.values()):
        err(("signals",), "no signal is instrumented: the team learns only from injects", "warning",
            about=(("signals",),))
    if "ic" not in {r.value for r in s.roles}:
        only_ic = sorted(v for v, verb in VERBS.items() if verb.roles == {Role.IC})
        err(("roles",), "no incident commander (ic) in play: nobody can "
            f"{', '.join(only_ic)}", "warning", about=(("roles",),))


def _unique(doc: Document, ids: list[str], path: tuple[Any, ...], err: Any) -> list[str]:
    seen: set[str] = set()
    for index, ident in enumerate(ids):
        if ident in seen:
            err((*path, index, "id"), f"duplicate id {ident!r}")
        seen.add(ident)
    return ids


def _check_trigger(t: Trigger, path: tuple[Any, ...], s: Scenario, known: Known, err: Any) -> None:
    takeable = known.actions | set(VERBS)
    if t.signal is not None and t.signal not in known.signals:
        err((*path, "signal"), f"unknown signal {t.signal!r}"
                               f"{suggest(t.signal, known.signals, known_ids('signals', known.signals))}")
    elif t.signal in s.signals and not s.signals[t.signal].instrumented:
        err((*path, "signal"), f"signal {t.signal!r} is not instrumented, so this never fires",
            "warning", about=(("signals", t.signal),))
    if t.inject is not None and t.inject not in known.injects:
        err((*path, "inject"), f"unknown inject {t.inject!r}"
                               f"{suggest(t.inject, known.injects, known_ids('injects', known.injects))}")
    if t.action is not None and t.action not in takeable:
        err((*path, "action"), f"unknown action {t.action!r}"
                               f"{suggest(t.action, takeable, catalogue_actions(known.actions))}")
    if t.action_effective is not None and t.action_effective not in known.actions:
        err((*path, "action_effective"), f"unknown catalogue action {t.action_effective!r}"
            f"{suggest(t.action_effective, known.actions, known_ids('actions', known.actions))}")


@dataclass(frozen=True)
class Known:
    """The names a scenario's references may use, per section.

    For what validated of a broken file these are the names as written, cut items included, so
    a reference to an item with a schema error is not also reported as unknown.
    """

    features: set[str]
    streams: set[str]
    signals: set[str]
    injects: set[str]
    actions: set[str]

    @classmethod
    def of(cls, s: Scenario, damage: Damage | None) -> Known:
        present = {"features": set(s.features), "streams": set(s.streams), "signals": set(s.signals),
                   "injects": {i.id for i in s.injects}, "actions": {a.id for a in s.actions}}
        if damage is not None:
            data = damage.original.data if isinstance(damage.original.data, dict) else {}
            for section, names in present.items():
                written = _written_names(data.get(section))
                present[section] = written if section in damage.replaced else names | written
        return cls(**present)


def _written_names(section: Any) -> set[str]:
    """Keys of a mapping section, or the ``id`` of each item of a list section, as written."""
    if isinstance(section, dict):
        return {str(key) for key in section}
    if isinstance(section, list):
        return {item["id"] for item in section if isinstance(item, dict) and isinstance(item.get("id"), str)}
    return set()


def _check_template(text: str, path: tuple[Any, ...], err: Any) -> None:
    try:
        unknown = unknown_placeholders(text)
    except ValueError as exc:
        err(path, f"template braces do not parse: {exc}; write {{{{ and }}}} for literal braces")
        return
    if unknown:
        from simulator.format.templating import FIELDS
        err(path, f"unknown placeholder {{{unknown[0]}}} (known: {', '.join(sorted(FIELDS))})")


def _check_cycles(s: Scenario, doc: Document, err: Any) -> None:
    """Injects triggered by injects must not wait on each other in a loop."""
    edges = {i.id: i.trigger.inject for i in s.injects if i.trigger and i.trigger.inject}
    index = {i.id: n for n, i in enumerate(s.injects)}
    reported: set[str] = set()
    for start in edges:
        path, node = [start], edges.get(start)
        while node is not None and node not in path:
            path.append(node)
            node = edges.get(node)
        if node == start and start not in reported:
            reported.update(path)
            err(("injects", index[start], "trigger"),
                f"trigger cycle: {' → '.join([*path, start])}; none of these can ever fire")


LISTED_OPTIONS = 12
"""Up to how many ids an "unknown …" error lists when none is close to what was written."""


def suggest(name: str, options: Iterable[str], listed: tuple[str, Iterable[str]] | None = None) -> str:
    """``; did you mean 'x'?`` for the closest of ``options`` to a misspelt ``name``. Else, with
    ``listed`` = (what they are, ids), ``; what they are: a, b, c`` when there are at most
    :data:`LISTED_OPTIONS` (an author who wrote a name from memory sees what there is); else ``""``."""
    close = difflib.get_close_matches(name, list(options), n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    ids = sorted(listed[1]) if listed is not None else []
    if listed is not None and 0 < len(ids) <= LISTED_OPTIONS:
        return f"; {listed[0]}: {', '.join(ids)}"
    return ""


def catalogue_actions(actions: Iterable[str]) -> tuple[str, Iterable[str]]:
    """What an unknown action lists: the catalogue's (the built-in verbs are in ``ttx schema``)."""
    return "the catalogue's actions (besides the built-in verbs)", actions


def known_ids(what: str, ids: Iterable[str]) -> tuple[str, Iterable[str]]:
    """What :func:`suggest` lists: ``known_ids('injects', ...)`` reads "; the injects here: a, b"."""
    return f"the {what} here", ids


def lint_scenario(name: str | Path) -> tuple[LoadedScenario, list[Problem]]:
    """Load a scenario and also return its warnings."""
    loaded = load_scenario(name)
    warnings = [p for p in semantic_problems(loaded.scenario, loaded.document) if p.level == "warning"]
    return loaded, warnings


__all__ = ["FileProblems", "LoadedScenario", "Problem", "builtin_ids", "check_model", "check_scenario",
           "lint_scenario", "load_scenario", "looks_like_a_path", "resolve", "scenario_problems", "suggest",
           "validate_model"]
