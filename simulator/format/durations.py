"""Durations written the way people write them: ``90s``, ``15m``, ``4h``, ``1h30m``, ``2d``."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from simulator.format.hms import clock as clock  # re-exported: where the other modules find it

_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
DURATION_PATTERN = r"^(\d+(\.\d+)?[smhd])+$"


def parse_duration(text: str) -> float:
    """Return the seconds in a duration such as ``"1h30m"``.

    Raises:
        ValueError: the text is not one or more ``<number><unit>`` parts with
            unit ``s``, ``m``, ``h`` or ``d``.
    """
    cleaned = text.strip().replace(" ", "")
    if not cleaned or _PART.sub("", cleaned):
        raise ValueError(
            f"expected a duration like '90s', '15m', '4h' or '1h30m', found {text!r}"
        )
    return sum(float(n) * _UNIT_SECONDS[u] for n, u in _PART.findall(cleaned))


def format_duration(seconds: float) -> str:
    """Format seconds compactly (``5400`` → ``"1h30m"``); the inverse of :func:`parse_duration`."""
    if seconds < 0:
        return "-" + format_duration(-seconds)
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else "", f"{secs}s" if secs else ""]
    return "".join(parts) or "0s"


def _coerce(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("expected a duration like '15m', found a boolean")
    if isinstance(value, int | float):
        raise ValueError(
            f"expected a duration with a unit like '{value}s' or '{value}m', found the bare number {value}"
        )
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError(f"expected a duration like '15m', found {type(value).__name__}")


Duration = Annotated[
    float,
    BeforeValidator(_coerce),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema({"type": "string", "pattern": DURATION_PATTERN, "examples": ["90s", "15m", "4h"]}),
]
"""Seconds, written in YAML as a string with a unit (``90s``, ``15m``, ``4h``)."""
