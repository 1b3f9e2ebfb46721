"""After-action review: score and breakdown, harm truth vs observed vs doing nothing, timeline."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from simulator.format.durations import clock
from tui.report import seconds
from tui.review_data import Review
from tui.widgets.chart import LineChart, Series


def headline(review: Review) -> Content:
    """Score and the two numbers that matter first: time to contain and harm volume."""
    r = review.result
    return Content.assemble(
        (f" Score {r.get('score', 0):.1f} / 100 ", "bold reverse $accent"), "  ",
        ("detect ", "dim"), seconds(r.get("time_to_detect")), ("  contain ", "dim"),
        (seconds(r.get("time_to_contain")), "bold"), ("  harm ", "dim"),
        f"{r.get('harm_volume', 0):,} ({r.get('harm_averted', 0):.0%} averted)",
        ("  collateral ", "dim"), f"{r.get('collateral', 0):.2%}")


def harm_series(review: Review) -> list[Series]:
    """The hidden truth: this run's harmful outputs per minute against the do-nothing run's."""
    return [Series("doing nothing (same seed)", review.baseline, "·", "$text-muted"),
            Series("this run", review.harm, "●", "$text-error")]


def observed_series(review: Review) -> list[Series]:
    """What the team could see over the same time axis: the main observable signal."""
    return [Series(review.observed_title, review.observed, "+", "$text-accent")] if review.observed else []


def expectation_lines(review: Review) -> Content:
    """Expectations met and missed."""
    if not review.expectations:
        return Content.styled("No expectation fell due.", "dim")
    return Content("\n").join(
        Content.assemble(("✔ met    ", "bold $text-success") if x.met else ("✘ missed ", "bold $text-error"),
                         (clock(x.t), "dim"), f"  {x.objective or x.action}", (f"  ({x.inject})", "dim"))
        for x in review.expectations)


def timeline_lines(review: Review) -> Content:
    """Decisions and injects in order."""
    return Content("\n").join(Content.assemble((clock(t), "dim"), "  ", text) for t, text in review.timeline)


class ReviewScreen(Screen[None]):
    """The end of a drill; the truth is revealed here."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("s", "save", "Save journal + report", id="review.save")]

    class SaveRequested(Message):
        """The players want the journal and report written."""

    def __init__(self, review: Review) -> None:
        super().__init__()
        self.review = review

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="review"):
            yield Static(headline(self.review), id="review-headline")
            yield DataTable(id="breakdown", cursor_type="row", zebra_stripes=True)
            chart = LineChart(id="harm-chart")
            chart.border_title = "Harmful outputs per minute (the hidden truth): this run vs doing nothing"
            yield chart
            observed = LineChart(id="observed-chart")
            seen = self.review.observed_title or "no signal instrumented"
            observed.border_title = f"What you observed: {seen}"
            yield observed
            expectations = Static(expectation_lines(self.review), id="expectations")
            expectations.border_title = "Expectations (MSEL)"
            yield expectations
            timeline = Static(timeline_lines(self.review), id="timeline")
            timeline.border_title = "Timeline"
            yield timeline
        yield Footer(compact=True)

    def on_mount(self) -> None:
        """Fill the breakdown table and the chart."""
        table = self.query_one(DataTable)
        table.border_title = "Score breakdown"
        table.add_columns("component", "points", "weight", "why")
        for name, c in self.review.result.get("breakdown", {}).items():
            table.add_row(name, f"{c['points']:.1f}", f"{c['weight']:g}", c["why"])
        end = self.review.scenario.duration
        self.query_one("#harm-chart", LineChart).plot(harm_series(self.review), end, "/min")
        self.query_one("#observed-chart", LineChart).plot(observed_series(self.review), end, "")
        self.query_one(VerticalScroll).focus()

    def action_save(self) -> None:
        """Ask the app to save the journal and the report."""
        self.post_message(self.SaveRequested())
