"""Durations written the way people write them: ``90s``, ``15m``, ``4h``, ``1h30m``, ``2d``."""

from __future__ import annotations

import difflib
import math
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from simulator.format.hms import clock as clock  # re-exported: where the other modules find it
from simulator.format.hms import seconds_in

DURATION_PATTERN = r"^(\d+(\.\d+)?[smhd])+$"
EXAMPLES = "'90s', '15m', '4h' or '1h30m'"
"""The forms every duration message shows."""

_UNIT_WORDS = {
    "s": ("s", "sec", "secs", "second", "seconds"),
    "m": ("m", "min", "mins", "minute", "minutes"),
    "h": ("h", "hr", "hrs", "hour", "hours"),
    "d": ("d", "day", "days"),
}
_UNIT_OF_WORD = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}
_WORDED_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)")
_COLON_FORM = re.compile(r"^(\d+):(\d+(?:\.\d+)?)$|^(\d+):(\d+):(\d+(?:\.\d+)?)$")
_NEXT_UNIT = {"d": "h", "h": "m", "m": "s"}


def parse_duration(text: str) -> float:
    """Return the seconds in a duration such as ``"1h30m"``.

    Raises:
        ValueError: the text is not one or more ``<number><unit>`` parts with
            unit ``s``, ``m``, ``h`` or ``d``; the message names a form that works when
            the text is a near miss (``10:05``, ``15 min``, ``4H``, ``1h30``).
    """
    seconds = seconds_in(text)
    if seconds is None:
        raise ValueError(f"expected a duration like {EXAMPLES}, found {text!r}{_suggestion(text)}")
    return seconds


def colon_durations(text: str) -> list[str]:
    """What ``10:05``-style text means as durations: ``["10m5s", "10h5m"]``; ``1:30:00`` → ``["1h30m"]``.

    Two parts are ambiguous (minutes and seconds, or hours and minutes), so both readings
    come back, minutes and seconds first; anything else gives ``[]``.
    """
    match = _COLON_FORM.match(text.strip().replace("_", ""))
    if match is None:
        return []
    if match[1] is not None:
        return [_joined((match[1], "m"), (match[2], "s")), _joined((match[1], "h"), (match[2], "m"))]
    return [_joined((match[3], "h"), (match[4], "m"), (match[5], "s"))]


def colon_hint(text: str) -> str:
    """``write 10m5s (minutes and seconds) or 10h5m (hours and minutes)`` for ``10:05``, else ``""``."""
    readings = colon_durations(text)
    if len(readings) == 2:
        return f"write {readings[0]} (minutes and seconds) or {readings[1]} (hours and minutes)"
    return f"write {readings[0]}" if readings else ""


def _joined(*parts: tuple[str, str]) -> str:
    """``(("10", "m"), ("05", "s"))`` → ``10m5s``: zero parts dropped, leading zeros trimmed."""
    kept = [f"{_trimmed(number)}{unit}" for number, unit in parts if float(number) != 0]
    return "".join(kept) or f"0{parts[-1][1]}"


def _trimmed(number: str) -> str:
    whole, dot, fraction = number.partition(".")
    fraction = fraction.rstrip("0")
    return (whole.lstrip("0") or "0") + (dot + fraction if fraction else "")


def _suggestion(text: str) -> str:
    """``; write X`` for a near-miss duration, where X is a form :func:`parse_duration` accepts."""
    stripped = text.strip()
    if stripped.startswith("-"):
        return "; a duration cannot be negative"
    if colon_durations(stripped):
        return "; " + colon_hint(stripped)
    if re.fullmatch(r"\d+(\.\d+)?", stripped):
        return f"; write {stripped}s or {stripped}m (a duration needs a unit)"
    candidate = _repaired(stripped)
    return f"; write {candidate}" if candidate is not None else ""


def _unit_of(word: str) -> str:
    """The unit a word names (``minutes``, and a near miss of one: ``minuts``, ``secnds``), or ``""``."""
    if word in _UNIT_OF_WORD:
        return _UNIT_OF_WORD[word]
    close = difflib.get_close_matches(word, [w for w in _UNIT_OF_WORD if len(w) > 3], n=1, cutoff=0.8)
    return _UNIT_OF_WORD[close[0]] if close else ""


def _repaired(text: str) -> str | None:
    """``15 min`` → ``15m``, ``4H`` → ``4h``, ``PT1H30M`` → ``1h30m``, ``1h30`` → ``1h30m``; or None."""
    lowered = text.lower().replace(",", " ")
    if re.fullmatch(r"p(\d+d)?t?[\d.hms]*", lowered.replace(" ", "")):
        lowered = lowered.replace("p", "").replace("t", "")
    parts = _WORDED_PART.findall(lowered)
    if not parts or re.sub(r"\band\b", "", _WORDED_PART.sub("", lowered)).strip():
        trailing = re.fullmatch(r"(.*\d[dhm])(\d+(?:\.\d+)?)", lowered.replace(" ", ""))
        if trailing is None:
            return None
        candidate = trailing[1] + trailing[2] + _NEXT_UNIT[trailing[1][-1]]
    elif all(_unit_of(word) for _, word in parts):
        candidate = "".join(f"{number}{_unit_of(word)}" for number, word in parts)
    else:
        return None
    return candidate if re.fullmatch(DURATION_PATTERN, candidate) else None


def format_duration(seconds: float) -> str:
    """Format seconds compactly (``5400`` → ``"1h30m"``); the inverse of :func:`parse_duration`."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


def plain_number(value: float) -> str:
    """A number as :func:`parse_duration` reads it: ``90``, ``1.5``, ``0.00001`` (never ``1e-05``)."""
    if float(value).is_integer():
        return str(int(value))
    return format(Decimal(repr(float(value))), "f")


def _coerce(value: Any) -> Any:
    """Validate a duration field; each failure is a ``duration`` error naming a form that works."""
    if isinstance(value, bool):
        raise _invalid(f"expected a duration like {EXAMPLES}, found a boolean")
    if isinstance(value, int | float):
        raise _invalid(_bare_number(value))
    if isinstance(value, str):
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise _invalid(str(exc)) from None
    raise _invalid(f"expected a duration like {EXAMPLES}, found {type(value).__name__}")


def _invalid(message: str) -> PydanticCustomError:
    """A ``duration`` validation error (the loader adds YAML hints to this kind)."""
    return PydanticCustomError("duration", "{message}", {"message": message})


def _bare_number(value: float) -> str:
    if not math.isfinite(value):
        return f"expected a duration like {EXAMPLES}, found the number {value}"
    if value < 0:
        return f"expected a duration like {EXAMPLES} (never negative), found the number {value}"
    number = plain_number(value)
    return f"expected a duration with a unit like '{number}s' or '{number}m', found the bare number {value}"


class _DurationField:
    """How pydantic reads, writes and describes a :data:`Duration` field.

    The same schema as ``BeforeValidator(_coerce)``, ``PlainSerializer(format_duration)`` and
    ``WithJsonSchema(...)`` would give, without pydantic inspecting both functions' signatures
    for each of the ~30 duration fields as the scenario models are defined (~10 % of defining them).
    """

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(
            _coerce, core_schema.float_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(
                format_duration, return_schema=core_schema.str_schema()))

    def __get_pydantic_json_schema__(self, schema: CoreSchema,
                                     handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        return {"type": "string", "pattern": DURATION_PATTERN, "examples": ["90s", "15m", "4h"]}


Duration = Annotated[float, _DurationField()]
"""Seconds, written in YAML as a string with a unit (``90s``, ``15m``, ``4h``)."""
