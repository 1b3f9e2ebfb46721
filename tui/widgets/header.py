"""The drill header: scenario, sim clock, speed, elapsed real time and the role at the keyboard."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from simulator.durations import clock
from tui.format import role_name, speed_label


class DrillHeader(Static):
    """One line: title · sim clock · speed · real time · acting role."""

    def show(self, title: str, sim: float, duration: float, speed: float, paused: bool,
             elapsed: float, role: str | None) -> None:
        """Redraw with the current clock state."""
        acting = f"acting as {role_name(role)}" if role else "facilitator"
        self.update(Content.assemble(
            (f" {title} ", "bold"), "│ ",
            ("sim ", "dim"), (clock(sim), "bold"), (f" / {clock(duration)} ", "dim"), "│ ",
            (speed_label(speed, paused), "bold $warning" if paused else "bold $success"), " │ ",
            ("real ", "dim"), clock(elapsed), " │ ", (acting, "bold $accent")))
