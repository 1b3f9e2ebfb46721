"""Live plots of what the team can observe: one sparkline per instrumented signal, alerts marked."""

from __future__ import annotations

from collections.abc import Sequence

from textual import events
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Label, Sparkline

from simulator.format.scenario import Scenario

PLOT_POINTS = 120
"""Readings kept on a plot (two hours at a one-minute tick)."""

UNITS = {"user_reports": "reports/h", "classifier_confidence": "mean conf.",
         "social_posts": "mentions/h", "output_anomaly": "flagged/min", "drift": "drift"}
"""Units of each signal kind's reading."""


def reading_text(value: float | None, kind: str) -> str:
    """A reading as shown beside its plot."""
    if value is None:
        return "—"
    return f"{value:.3f}" if kind == "classifier_confidence" else f"{value:,.0f}"


def signal_label(title: str, reading: str, unit: str, state: Content, width: int) -> Content:
    """Title, reading, unit and alert state in ``width`` cells: the unit goes first, then the
    title is shortened; the reading and the state always show."""
    full = Content.assemble((f"{title} ", "bold"), f"{reading} {unit} ", state)
    if not width or full.cell_length <= width:
        return full
    bare = Content.assemble((f"{title} ", "bold"), f"{reading} ", state)
    if bare.cell_length <= width:
        return bare
    room = max(1, width - (bare.cell_length - len(title)))
    return Content.assemble((f"{title[:room - 1]}… ", "bold"), f"{reading} ", state)


class SignalRow(Vertical):
    """A signal's title, latest reading, alert state and sparkline."""

    def __init__(self, signal: str, title: str, kind: str) -> None:
        super().__init__(id=f"signal-{signal}", classes="signal-row")
        self.signal, self.title, self.kind = signal, title, kind
        self.latest: float | None = None
        self.alerting = False
        self._plotted: tuple[int, int, float | None, bool] | None = None
        """What :meth:`show` last drew: the readings' identity and count, the latest, the alert."""
        self._label = ""
        """The title line last drawn (its markup)."""

    def show_label(self) -> None:
        """The title line, fitted to the row's width (redrawn only when it changes; one line whatever
        it says, so the screen's layout is left alone)."""
        state = (Content.styled(" ALERT ", "bold reverse $error") if self.alerting
                 else Content.styled(" ok ", "dim"))
        label = self.query_one(Label)
        line = signal_label(self.title, reading_text(self.latest, self.kind), UNITS.get(self.kind, ""),
                            state, label.size.width or self.size.width)
        if line.markup != self._label:
            self._label = line.markup
            label.update(line, layout=False)

    def on_resize(self, event: events.Resize) -> None:
        """Fit the title line to the new width."""
        self.show_label()

    def compose(self) -> ComposeResult:
        yield Label(self.title, classes="signal-label")
        yield Sparkline([], classes="signal-plot")

    def show(self, readings: Sequence[tuple[float, float]], alerting: bool) -> None:
        """Plot the latest readings (one cell each until the row is full) and mark an alert; nothing
        is redrawn when neither has changed (a view's readings only grow, so their count says)."""
        plotted = (id(readings), len(readings), readings[-1][1] if readings else None, alerting)
        if plotted == self._plotted:
            return
        self._plotted = plotted
        values = [v for _, v in readings[-PLOT_POINTS:]]
        self.latest, self.alerting = (values[-1] if values else None), alerting
        self.show_label()
        plot = self.query_one(Sparkline)
        plot.styles.max_width = max(1, len(values))
        plot.data = values
        self.set_class(alerting, "-alerting")


class SignalPlots(Vertical):
    """Every instrumented signal of the scenario, plus the hidden harm rate when truth is shown."""

    BORDER_TITLE = "Signals (what you can observe)"

    def __init__(self, scenario: Scenario, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.scenario = scenario

    def compose(self) -> ComposeResult:
        for sid, spec in self.scenario.signals.items():
            if spec.instrumented:
                yield SignalRow(sid, spec.title, spec.kind)
        truth = SignalRow("truth", "Harmful outputs/s (TRUTH)", "truth")
        truth.display = False
        yield truth

    def show(self, signals: dict[str, list[tuple[float, float]]], alerting: set[str],
             truth: Sequence[tuple[float, float]] | None) -> None:
        """Redraw every plot; ``truth`` is the hidden harm rate, or ``None`` to hide it."""
        for row in self.query(SignalRow):
            if row.signal == "truth":
                row.display = truth is not None
                if truth is not None:
                    row.show(truth, False)
            else:
                row.show(signals.get(row.signal, []), row.signal in alerting)
        title = "Signals + TRUTH (training)" if truth is not None else self.BORDER_TITLE
        if self.border_title != title:
            self.border_title = title
