"""The drill header: scenario, sim clock, speed, elapsed real time and the role at the keyboard."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from simulator.format.durations import clock
from simulator.format.hms import day_clock, day_span
from simulator.format.taxonomy import EVALUATOR
from tui.format import role_name, short_role, speed_label

Part = str | tuple[str, str]


TITLE_ROOM = 6
"""Fewest characters of a cut title worth showing ("Jailb…"); with less room the title goes (the
briefing and the review name the scenario, the tooltip holds it) and the clock starts the line."""


def cut(title: str, room: int) -> str:
    """``title`` in at most ``room`` characters, an ellipsis marking a cut; empty below
    :data:`TITLE_ROOM`."""
    if len(title) <= room:
        return title
    return title[:room - 1].rstrip() + "…" if room >= TITLE_ROOM else ""


class DrillHeader(Static):
    """One line: title · sim clock · speed · real time · acting role. Redrawn only when the line
    changes, and without a layout pass (it is one line high and as wide as the screen, whatever it says).

    When the line is wider than the terminal (80 columns and a long title), the role's long name is
    shortened first (``acting as IC``: the role tabs name it too), then the title is cut, or left
    out (the tooltip holds it whole). The real time, the clock and who is at the keyboard stay; only
    a line too wide even without its title loses the real time.
    """

    _shown = ""
    """The line last drawn (its markup)."""

    def show(self, title: str, sim: float, duration: float, speed: float, paused: bool,
             elapsed: float, role: str | None, link: str | None = None) -> None:
        """Redraw with the current clock state; ``link`` (a team seat lost its server) replaces the speed."""
        width = self.size.width
        state: tuple[str, str] = ((link, "bold $text-error") if link else
                 (speed_label(speed, paused), "bold $text-warning" if paused else "bold $text-success"))
        clock_part: list[Part] = [("sim ", "dim"), (day_clock(sim), "bold"),
                                  (f" / {day_span(duration)} ", "dim"),
                                  "│ ", state]
        real: list[Part] = [" │ ", ("real ", "dim"), clock(elapsed)]
        long_role = (f"acting as {role_name(role)}" if role and role != EVALUATOR
                     else "evaluator (observing)" if role else "facilitator")
        short = f"acting as {short_role(role)}" if role and role != EVALUATOR else role or "facilitator"
        for acting, real_part in ((long_role, real), (short, real), (short, [])):
            rest = Content.assemble(*clock_part, *real_part, " │ ", (acting, "bold $text-accent"))
            room = width - rest.cell_length - 4  # " title │ " around the title
            if not width or len(title) <= room or (real_part and acting == short and room >= 0):
                break
        shown = title if not width else cut(title, room)
        tooltip = title if shown != title else None
        if self.tooltip != tooltip:
            self.tooltip = tooltip
        line = Content.assemble((f" {shown} ", "bold"), "│ ", rest) if shown else Content.assemble(" ", rest)
        if line.markup != self._shown:
            self._shown = line.markup
            self.update(line, layout=False)
