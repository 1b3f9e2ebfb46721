"""The one plain-text summary of a scored result, printed by ``ttx run`` and by ``ttx host`` at the end."""

from __future__ import annotations

from simulator.engine.scoring import Result
from simulator.format.durations import clock


def seconds(value: float | None) -> str:
    """A duration from a result, as ``H:MM:SS``, or ``never``."""
    return "never" if value is None else clock(value)


def summary_table(result: Result) -> str:
    """A readable summary of a result: the headline figures, then every component (heaviest first)."""
    lines = [
        f"{result.scenario}  seed {result.seed}  policy {result.policy}",
        "",
        f"  score            {result.score:>6.1f} / 100",
        f"  time to detect   {seconds(result.time_to_detect):>8}",
        f"  time to contain  {seconds(result.time_to_contain):>8}",
        f"  harm volume      {result.harm_volume:>8,} harmful outputs",
        f"  harm averted     {result.harm_averted:>8.0%} vs doing nothing",
        f"  collateral       {result.collateral:>8.2%} of legitimate requests blocked",
        "",
        f"  {'component':<15}{'points':>7}{'weight':>8}  why",
    ]
    for c in result.ordered():
        lines.append(f"  {c.name:<15}{round(c.points, 1):>7.1f}{c.weight:>8g}  {c.why}")
    return "\n".join(lines)
