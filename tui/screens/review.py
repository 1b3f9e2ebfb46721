"""After-action review: the facts ``ttx report`` renders (score, harm vs doing nothing, timeline).

The screen shows a :class:`~simulator.analysis.aar.AfterAction`, the same object the saved report
is rendered from, so the hot seat, a team seat, the host's summary and the report agree to the digit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, OptionList, Static
from textual.widgets.option_list import Option

from simulator.analysis.aar import AfterAction
from simulator.analysis.metrics import BY_NAME, REVIEWED, measures
from simulator.analysis.report import (
    answers_table,
    discussion_summary,
    observations_table,
    question_head,
    real_team_lines,
    real_team_table,
)
from simulator.analysis.summary import seconds
from simulator.format.durations import clock
from simulator.format.scenario import Scenario
from tui.widgets.chart import LineChart, Point, Series
from tui.widgets.footer import DrillFooter
from tui.widgets.signals import UNITS

if TYPE_CHECKING:
    from simulator.analysis.history import DrillRow

BREAKDOWN_FIXED = 44
"""Columns the breakdown's component, points and weight columns, borders and scroll bar take."""

WHY_MIN = 20
"""The narrowest the breakdown's "why" column gets before the table scrolls sideways."""

STATUS_STYLE = {"met": ("✔ met    ", "bold $text-success"), "late": ("◔ late   ", "bold $text-warning"),
                "missed": ("✘ missed ", "bold $text-error"), "open": ("… open   ", "dim")}
"""How each expectation status is marked."""


def headline(review: AfterAction) -> Content:
    """Score and the two numbers that matter first: time to contain and harm volume."""
    r = review.result
    idle = (f", doing nothing {review.idle_harm_volume:,}" if review.idle_harm_volume is not None else "")
    return Content.assemble(
        (f" Score {r.score:.1f} / 100 ", "bold reverse $accent"), "  ",
        ("detect ", "dim"), seconds(r.time_to_detect), ("  contain ", "dim"),
        (seconds(r.time_to_contain), "bold"), ("  harm ", "dim"),
        f"{r.harm_volume:,} ({r.harm_averted:.0%} averted{idle})",
        ("  collateral ", "dim"), f"{r.collateral:.2%}")


def last_run_line(previous: DrillRow, review: AfterAction) -> Content:
    """This run beside the team's last run of the drill: score, detect and contain, each change arrowed
    and coloured (green better, red worse)."""
    from simulator.analysis.history import local

    now = measures(review)
    team = f", team {previous.team}" if previous.team else ""
    parts: list[Content | tuple[str, str] | str] = [
        ("Your last run of this drill ", "bold"),
        (f"({local(previous.played_at)}{team}, {previous.short})", "dim")]
    for i, name in enumerate(REVIEWED):
        metric = BY_NAME[name]
        before, after = getattr(previous, name), now[name]
        better = metric.better(before, after)
        style = "dim" if better is None else ("bold $text-success" if better else "bold $text-error")
        parts += [("  ·  " if i else ":  ", "dim"), (metric.title.removeprefix("time to ") + " ", "dim"),
                  f"{metric.text(before)} → {metric.text(after)} ", (metric.change(before, after), style)]
    return Content.assemble(*parts)


def per_minute(times: list[float], rates: list[float]) -> list[Point]:
    """Harmful outputs per second as a per-minute curve."""
    return [(t, rate * 60.0) for t, rate in zip(times, rates, strict=True)]


def harm_series(review: AfterAction) -> list[Series]:
    """The hidden truth: this run's harmful outputs per minute against the do-nothing run's and the
    real team's (when the scenario has a historical policy)."""
    s = review.series
    real = ([Series("the real team (historical)", per_minute(s.real_t, s.real_rate), "○", "$text-warning")]
            if s.real_t else [])
    return [Series("doing nothing (same seed)", per_minute(s.idle_t, s.idle_rate), "·", "$text-muted"),
            *real, Series("this run", per_minute(s.harm_t, s.harm_rate), "●", "$text-error")]


def real_team_content(review: AfterAction) -> Content:
    """You vs the real team: the report's table and lines, figure for figure."""
    head, rows = real_team_table(review)
    if not head:
        return Content.styled("This scenario has no historical policy to compare with.", "dim")
    widths = [max(len(str(row[i])) for row in [head, *rows]) for i in range(len(head))]

    def line(cells: list[str], style: str = "") -> Content:
        text = "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True))
        return Content.styled(text, style) if style else Content(text)

    table = [line(head, "bold"), *[line(r) for r in rows]]
    notes = [Content.styled(text, "dim") for text in real_team_lines(review)]
    return Content("\n").join([*table, Content(""), *notes])


def observed_signal(review: AfterAction, scenario: Scenario | None) -> tuple[str, list[Point]]:
    """The signal a team watches first: user reports if instrumented, else the first instrumented one."""
    if scenario is None:
        return "", []
    instrumented = [(sid, spec) for sid, spec in scenario.signals.items() if spec.instrumented]
    if not instrumented:
        return "", []
    sid, spec = next(((i, s) for i, s in instrumented if s.kind == "user_reports"), instrumented[0])
    return f"{spec.title} ({UNITS.get(spec.kind, 'reading')})", list(review.series.signals.get(sid, []))


def expectation_lines(review: AfterAction) -> Content:
    """Every expected action of every inject that fired: met, late, missed or open."""
    if not review.expectations:
        return Content.styled("No expectation fell due.", "dim")
    rows = sorted(review.expectations, key=lambda x: x.fired or 0.0)
    return Content("\n").join(
        Content.assemble(STATUS_STYLE[x.status], (clock(x.fired or 0.0), "dim"),
                         f"  {x.objective or x.action}", (f"  ({x.role}, {x.inject})", "dim"))
        for x in rows)


ANSWER_MARK = {"": ("", ""), "right": ("✔ ", "bold $text-success"), "wrong": ("✘ ", "bold $text-error")}
"""How the report's right / wrong column is marked in the review."""


def discussion_lines(review: AfterAction) -> Content:
    """The report's Discussion section: each question with who answered what, how sure, right or
    wrong, the team's alignment and the expected answer with why; then the observations."""
    lines: list[Content] = [Content.styled(discussion_summary(review), "dim")]
    for q in review.discussion:
        lines += [Content(""), Content.styled(q.prompt, "bold"),
                  *[Content.styled(f"  {line}", "dim") for line in question_head(q)]]
        if not q.answers:
            lines.append(Content.styled("  no answers", "dim"))
        header, rows = answers_table(q)
        for row in rows:
            cell = dict(zip(header, row, strict=True))
            sure = f"  {cell['confidence']} sure" if cell.get("confidence") else ""
            note = f" — {cell['note']}" if cell["note"] else ""
            who = cell["role"] if cell["who"] == cell["role"] else f"{cell['who']} ({cell['role']})"
            lines.append(Content.assemble("  ", ANSWER_MARK[cell.get("", "")], (cell["time"], "dim"),
                                          f"  {who}: ", cell["answer"], (sure + note, "dim")))
    if review.observations:
        _, rows = observations_table(review)
        lines += [Content(""), Content.styled("Observations", "bold")]
        lines += [Content.assemble((f"  {t}  ", "dim"), f"{by} · {tag} · {objective}: ", text)
                  for t, by, tag, objective, text in rows]
    return Content("\n").join(lines)


def timeline_rows(review: AfterAction) -> list[Option]:
    """Injects, decisions, approvals and messages in order, with who did them; one option each."""
    def who(actor: str, player: str | None) -> str:
        return f"{actor} ({player})" if player else actor

    return [Option(Content.assemble((clock(e.t), "dim"), "  ", (who(e.actor, e.player), "bold"), "  ",
                                    e.text), id=str(i)) for i, e in enumerate(review.timeline)]


def branch_line(review: AfterAction) -> Content:
    """A fork's review: this branch against the drill it was forked from."""
    b = review.branch
    if b is None:
        return Content("")
    mine, theirs = review.result, b.parent_result
    return Content.assemble(
        (f" This branch vs the original from {clock(b.at)} ", "bold reverse $secondary"), "  ",
        ("score ", "dim"), f"{mine.score:.1f} vs {theirs.score:.1f}", ("  contain ", "dim"),
        f"{seconds(mine.time_to_contain)} vs {seconds(theirs.time_to_contain)}", ("  harm ", "dim"),
        f"{mine.harm_volume:,} vs {theirs.harm_volume:,}")


class ReviewScreen(Screen[None]):
    """The end of a drill; the truth is revealed here."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "save", "Save journal + report", id="review.save"),
        Binding("w", "rewind", "Try again from here", id="review.rewind",
                tooltip="Start a new drill at the highlighted row's moment, before the decisions taken then"),
    ]

    class SaveRequested(Message):
        """The players want the journal and report written."""

    class RewindRequested(Message):
        """The players want to go back to a moment of the timeline and decide again from there."""

        def __init__(self, at: float) -> None:
            super().__init__()
            self.at = at

    def __init__(self, review: AfterAction, scenario: Scenario | None, can_rewind: bool = False,
                 previous: DrillRow | None = None) -> None:
        """Show ``review``; ``scenario`` is ``None`` when its file is gone (a drill from the history).

        ``can_rewind``: the hot seat, where ``w`` forks the drill at a timeline row; ``previous``: the
        team's last run of this drill, when the history has one.
        """
        super().__init__()
        self.review = review
        self.scenario = scenario
        self.can_rewind = can_rewind
        self.previous = previous

    def compose(self) -> ComposeResult:
        title, _ = observed_signal(self.review, self.scenario)
        with VerticalScroll(id="review"):
            yield Static(headline(self.review), id="review-headline")
            if self.review.branch is not None:
                yield Static(branch_line(self.review), id="review-branch")
            last = Static(last_run_line(self.previous, self.review) if self.previous else "", id="last-run")
            last.display = self.previous is not None
            yield last
            yield DataTable(id="breakdown", cursor_type="row", zebra_stripes=True)
            real = Static(real_team_content(self.review), id="real-team")
            real.border_title = "You vs the real team"
            yield real
            chart = LineChart(id="harm-chart")
            chart.border_title = ("Harmful outputs per minute (the hidden truth): this run vs "
                                  + ("the real team and " if self.review.series.real_t else "")
                                  + "doing nothing")
            yield chart
            observed = LineChart(id="observed-chart")
            observed.border_title = f"What you observed: {title or 'no signal instrumented'}"
            yield observed
            expectations = Static(expectation_lines(self.review), id="expectations")
            expectations.border_title = "Expectations (MSEL)"
            yield expectations
            if self.review.discussion or self.review.observations:
                discussion = Static(discussion_lines(self.review), id="discussion")
                discussion.border_title = "Discussion: questions, answers, observations"
                yield discussion
            timeline = OptionList(*timeline_rows(self.review), id="timeline")
            timeline.border_title = "Timeline" + ("  (w: try again from the highlighted moment)"
                                                  if self.can_rewind else "")
            yield timeline
        yield DrillFooter()  # wraps rather than cutting keys off (the watch keys at 100 columns)

    def on_mount(self) -> None:
        """Fill the breakdown table (heaviest component first, as the report) and the charts."""
        self.fill_breakdown()
        end = self.scenario.duration if self.scenario is not None else max(self.review.duration, 1.0)
        title, observed = observed_signal(self.review, self.scenario)
        self.query_one("#harm-chart", LineChart).plot(harm_series(self.review), end, "/min")
        marks = [Series(title, observed, "+", "$text-accent")] if observed else []
        self.query_one("#observed-chart", LineChart).plot(marks, end, "")
        self.query_one(VerticalScroll).focus()

    def show_previous(self, previous: DrillRow) -> None:
        """Show the team's last run of this drill beside this one (the history answered after the end).

        An answer that comes before the review is composed is kept, and compose draws it.
        """
        self.previous = previous
        for line in self.query("#last-run").results(Static):
            line.update(last_run_line(previous, self.review))
            line.display = True

    def fill_breakdown(self) -> None:
        """The score breakdown; the "why" column takes the width left and wraps, so nothing is cut."""
        table = self.query_one(DataTable)
        table.clear(columns=True)
        table.border_title = "Score breakdown"
        why = max(WHY_MIN, self.app.size.width - BREAKDOWN_FIXED)
        table.add_column("component")
        table.add_column("points")
        table.add_column("weight")
        table.add_column("why", width=why)
        for c in self.review.result.ordered():
            table.add_row(c.name, f"{c.points:.1f}", f"{c.weight:g}", Text(c.why), height=None)

    def on_resize(self) -> None:
        """Re-wrap the breakdown's "why" column to the new width."""
        self.fill_breakdown()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Rewinding is the hot seat's (a team drill's review belongs to the whole team)."""
        return self.can_rewind if action == "rewind" else True

    def action_rewind(self) -> None:
        """Fork the drill at the highlighted timeline row's moment (the first row's if none)."""
        timeline = self.query_one("#timeline", OptionList)
        index = timeline.highlighted or 0
        if self.review.timeline:
            self.post_message(self.RewindRequested(self.review.timeline[index].t))

    def action_save(self) -> None:
        """Ask the app to save the journal and the report."""
        self.post_message(self.SaveRequested())
