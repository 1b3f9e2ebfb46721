"""Sim seconds written as ``H:MM:SS``: the one clock format every view uses; and ``1h30m`` read.

Apart from :mod:`simulator.format.durations` (which parses durations with pydantic types) so a
command that only prints times, such as ``ttx history``, and the ``ttx play`` briefing, drawn
before the scenario is validated, do not load pydantic.
"""

from __future__ import annotations

import re

UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
"""One ``<number><unit>`` part of a duration."""


def seconds_in(text: str) -> float | None:
    """The seconds in a duration such as ``"1h30m"``, or ``None`` when it is not one (spaces allowed)."""
    cleaned = text.strip().replace(" ", "")
    if not cleaned or PART.sub("", cleaned):
        return None
    return sum(float(n) * UNIT_SECONDS[u] for n, u in PART.findall(cleaned))


def clock(seconds: float) -> str:
    """Format sim seconds as ``H:MM:SS`` for clocks and timelines."""
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def day_clock(seconds: float) -> str:
    """:func:`clock`, but past 24 hours with days in front, for a multi-day drill's header:
    ``5:02`` → ``0:05:02``, 5 days → ``5d``, 500 days and 5 minutes → ``500d 0:05:00``."""
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    if not days:
        return clock(rest)
    return f"{days}d" + (f" {clock(rest)}" if rest else "")


def day_span(seconds: float) -> str:
    """A drill's length for its header: :func:`clock` up to 24 hours, then days and what is left in
    compact units (36 h → ``1d12h``, 5 days → ``5d``, 500 days → ``500d``), never longer than the clock."""
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    if not days:
        return clock(rest)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{days}d" + "".join(f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
