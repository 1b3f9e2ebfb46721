"""The drill header: scenario, sim clock, speed, elapsed real time and the role at the keyboard."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from simulator.format.durations import clock
from simulator.format.taxonomy import EVALUATOR
from tui.format import role_name, short_role, speed_label

Part = str | tuple[str, str]


class DrillHeader(Static):
    """One line: title · sim clock · speed · real time · acting role. Redrawn only when the line
    changes, and without a layout pass (it is one line high and as wide as the screen, whatever it says).

    When the line is wider than the terminal (80 columns and a long title), the parts that matter
    least go first: the real time, then the role's long name (``acting as IC``), then the
    title is cut. Who is at the keyboard and the clock are always shown.
    """

    _shown = ""
    """The line last drawn (its markup)."""

    def show(self, title: str, sim: float, duration: float, speed: float, paused: bool,
             elapsed: float, role: str | None, link: str | None = None) -> None:
        """Redraw with the current clock state; ``link`` (a team seat lost its server) replaces the speed."""
        width = self.size.width
        state: tuple[str, str] = ((link, "bold $text-error") if link else
                 (speed_label(speed, paused), "bold $text-warning" if paused else "bold $text-success"))
        clock_part: list[Part] = [("sim ", "dim"), (clock(sim), "bold"), (f" / {clock(duration)} ", "dim"),
                                  "│ ", state]
        real: list[Part] = [" │ ", ("real ", "dim"), clock(elapsed)]
        long_role = (f"acting as {role_name(role)}" if role and role != EVALUATOR
                     else "evaluator (observing)" if role else "facilitator")
        short = f"acting as {short_role(role)}" if role and role != EVALUATOR else role or "facilitator"
        variants: list[tuple[str, list[Part], str]] = [(title, real, long_role), (title, [], long_role),
                                                       (title, [], short)]
        for name, real_part, acting in variants:
            line = Content.assemble((f" {name} ", "bold"), "│ ", *clock_part, *real_part, " │ ",
                                    (acting, "bold $text-accent"))
            if not width or line.cell_length <= width:
                break
        else:
            rest = Content.assemble("│ ", *clock_part, " │ ", (short, "bold $text-accent"))
            room = max(0, width - rest.cell_length - 2)
            cut = title if len(title) <= room else title[:max(0, room - 1)] + "…"
            line = Content.assemble((f" {cut} ", "bold"), rest)
        if line.markup != self._shown:
            self._shown = line.markup
            self.update(line, layout=False)
