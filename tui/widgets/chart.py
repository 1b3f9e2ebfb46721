"""A terminal line chart: several series over one time axis, drawn with text marks and theme colours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from textual.content import Content
from textual.widget import Widget

from simulator.format.durations import clock

Point = tuple[float, float]
"""(sim time, value)."""


@dataclass(frozen=True)
class Series:
    """One line of a chart."""

    label: str
    points: Sequence[Point]
    mark: str
    """The character drawn for this series."""
    colour: str
    """A theme colour variable such as ``$error``."""
    scale: float = 1.0
    """Multiplier applied before plotting (to fit a differently scaled signal on the same axis)."""


def column_values(points: Sequence[Point], start: float, end: float, columns: int) -> list[float | None]:
    """The largest value in each of ``columns`` equal time buckets (``None`` where a bucket is empty)."""
    values: list[float | None] = [None] * columns
    span = max(end - start, 1e-9)
    for t, v in points:
        col = min(columns - 1, max(0, int((t - start) / span * columns)))
        current = values[col]
        values[col] = v if current is None else max(current, v)
    return values


def chart_grid(series: Sequence[Series], end: float, width: int, height: int) -> list[list[int]]:
    """Which series (index, or -1 for none) owns each cell; later series draw over earlier ones."""
    top = max((v * s.scale for s in series for _, v in s.points), default=0.0) or 1.0
    grid = [[-1] * width for _ in range(height)]
    for index, s in enumerate(series):
        for col, value in enumerate(column_values(s.points, 0.0, end, width)):
            if value is None:
                continue
            row = height - 1 - min(height - 1, round(value * s.scale / top * (height - 1)))
            grid[row][col] = index
    return grid


def y_label(value: float) -> str:
    """A short axis label (``1.2k``, ``35``, ``0.4``)."""
    if value >= 1000:
        return f"{value / 1000:.1f}k"
    return f"{value:.0f}" if value >= 10 else f"{value:.1f}"


class LineChart(Widget):
    """Series over sim time, with a y axis in the first series' units and a legend line."""

    DEFAULT_CSS = """
    LineChart { height: 12; }
    """

    def __init__(self, series: Sequence[Series] = (), end: float = 1.0, unit: str = "",
                 *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.series = list(series)
        self.end = end
        self.unit = unit

    def plot(self, series: Sequence[Series], end: float, unit: str) -> None:
        """Replace the series and redraw."""
        self.series, self.end, self.unit = list(series), end, unit
        self.refresh()

    def render(self) -> Content:
        """Draw the chart to fit the widget's size."""
        axis = 7
        width = max(10, self.size.width - axis)
        height = max(3, self.size.height - 2)
        top = max((v * s.scale for s in self.series for _, v in s.points), default=0.0)
        grid = chart_grid(self.series, self.end, width, height)
        lines: list[Content] = []
        for r, row in enumerate(grid):
            label = y_label(top) if r == 0 else ("0" if r == height - 1 else "")
            parts = [Content(f"{label:>5} │")]
            for owner in row:
                if owner < 0:
                    parts.append(Content(" "))
                else:
                    s = self.series[owner]
                    parts.append(Content.styled(s.mark, s.colour))
            lines.append(Content("").join(parts))
        ticks = f"0:00:00{'':>{max(1, width - 14)}}{clock(self.end)}"
        lines.append(Content(f"{'':>5} └" + ticks[:width]))
        legend = [Content.styled(f"{s.mark} {s.label}", s.colour) for s in self.series]
        lines.append(Content(f"{self.unit:>5}  " if self.unit else "       ").append(
            Content("   ").join(legend)))
        return Content("\n").join(lines)
