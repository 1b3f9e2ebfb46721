"""Sim seconds written as ``H:MM:SS``: the one clock format every view uses.

Apart from :mod:`simulator.format.durations` (which parses durations with pydantic types) so a
command that only prints times, such as ``ttx history``, does not load pydantic.
"""

from __future__ import annotations


def clock(seconds: float) -> str:
    """Format sim seconds as ``H:MM:SS`` for clocks and timelines."""
    whole = max(0, int(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
