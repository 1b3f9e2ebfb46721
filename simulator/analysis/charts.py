"""After-action charts drawn by matplotlib (no pyplot, no GUI backend) and returned as inline SVG."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the trend chart is drawn without importing the engine
    from simulator.analysis.aar import Branch, Series

INK, TEAM, IDLE, ACTION, STAGE, ALERT = "#222222", "#1f5fa8", "#b0b0b0", "#2e8b57", "#8a4fbf", "#c0392b"
REAL = "#d9822b"
"""The real team's run (the scenario's historical policy)."""
OTHER = "#d9822b"
"""The second drill of a comparison (the first is ``TEAM``)."""
PALETTE = (TEAM, OTHER, "#6a3d9a", "#33a02c", "#e31a1c", "#1f78b4", "#b15928", "#636363")
"""One colour per team in a trend chart."""

_RC: dict[str, Any] = {"svg.fonttype": "path", "text.parse_math": False, "font.size": 9,
       "axes.spines.top": False, "axes.spines.right": False, "svg.image_inline": True}
"""Text as paths (no font requests), no mathtext (journal text may hold ``$``), tidy axes."""

_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>", re.DOTALL)
_NAMESPACES = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')


def harm_chart(s: Series) -> str:
    """Cumulative harmful outputs and the harmful rate against the do-nothing run and the real team's
    (when the scenario has a historical policy), this drill's actions marked."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(_rc("ttx-harm")):
        fig = Figure(figsize=(8.0, 5.2))
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
        top.plot(_hours(s.idle_t), s.idle_total, color=IDLE, lw=2, label="do nothing (same seed)")
        if s.real_t:
            top.plot(_hours(s.real_t), s.real_total, color=REAL, lw=1.8, ls="--",
                     label="the real team (historical, same seed)")
        top.plot(_hours(s.harm_t), s.harm_total, color=TEAM, lw=2, label="this drill")
        top.set_ylabel("harmful outputs (cumulative)")
        top.yaxis.set_major_formatter(_thousands())
        bottom.plot(_hours(s.idle_t), [r * 60 for r in s.idle_rate], color=IDLE, lw=1.5)
        if s.real_t:
            bottom.plot(_hours(s.real_t), [r * 60 for r in s.real_rate], color=REAL, lw=1.2, ls="--")
        bottom.plot(_hours(s.harm_t), [r * 60 for r in s.harm_rate], color=TEAM, lw=1.5)
        if s.threshold is not None:
            bottom.axhline(s.threshold * 60, color=INK, ls=":", lw=1, label="containment threshold")
        bottom.set_ylabel("harmful outputs / min")
        bottom.set_xlabel("hours since harm began")
        for ax in (top, bottom):
            _marks(ax, s)
        top.legend(handles=_legend_handles(top, s), loc="upper left", fontsize=8, frameon=True,
                   framealpha=0.92, facecolor="white", edgecolor="none")
        fig.align_ylabels()
        fig.tight_layout()
        return _svg(fig)


def branch_chart(s: Series, branch: Branch) -> str:
    """Cumulative harmful outputs from the fork point on: this branch against the drill it forked from."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    later = [i for i, t in enumerate(s.harm_t) if t >= branch.at]
    with rc_context(_rc("ttx-branch")):
        fig = Figure(figsize=(8.0, 3.6))
        ax = fig.subplots()
        ax.plot(_hours(branch.parent_t), branch.parent_total, color=IDLE, lw=2,
                label=f"the original ({branch.parent})")
        ax.plot(_hours([s.harm_t[i] for i in later]), [s.harm_total[i] for i in later], color=TEAM, lw=2,
                label="this branch")
        ax.axvline(branch.at / 3600, color=INK, ls=":", lw=1)
        ax.set_ylabel("harmful outputs (cumulative)")
        ax.set_xlabel("hours since harm began")
        ax.yaxis.set_major_formatter(_thousands())
        ax.legend(loc="upper left", fontsize=8, frameon=True, framealpha=0.92, facecolor="white",
                  edgecolor="none")
        fig.tight_layout()
        return _svg(fig)


def signals_chart(s: Series) -> str:
    """What the team's monitoring showed, one small panel per instrumented signal, alerts marked."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    sids = list(s.signals)
    with rc_context(_rc("ttx-signals")):
        fig = Figure(figsize=(8.0, 1.6 + 1.5 * max(1, len(sids))))
        axes = fig.subplots(max(1, len(sids)), 1, sharex=True, squeeze=False)[:, 0]
        for ax, sid in zip(axes, sids, strict=False):
            points = s.signals[sid]
            ax.plot(_hours([t for t, _ in points]), [v for _, v in points], color=TEAM, lw=1.2)
            ax.set_title(s.signal_titles.get(sid, sid), loc="left", fontsize=9)
            for t, alerted in s.alerts:
                if alerted == sid:
                    ax.axvline(t / 3600, color=ALERT, lw=1.2, ls="--")
                    ax.annotate("alert", (t / 3600, 1), xycoords=("data", "axes fraction"),
                                color=ALERT, fontsize=7, ha="left", va="top")
            if s.declared is not None:
                ax.axvline(s.declared / 3600, color=INK, lw=1, ls=":")
        axes[-1].set_xlabel("hours since harm began (dotted: incident declared)")
        fig.tight_layout()
        return _svg(fig)


def compare_chart(a: Series, b: Series) -> str:
    """Two drills' harm on one chart: cumulative outputs and the harmful rate, doing nothing behind."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    with rc_context(_rc("ttx-compare")):
        fig = Figure(figsize=(8.0, 5.2))
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
        top.plot(_hours(a.idle_t), a.idle_total, color=IDLE, lw=2, label="do nothing (A's seed)")
        bottom.plot(_hours(a.idle_t), [r * 60 for r in a.idle_rate], color=IDLE, lw=1.5)
        for s, colour, name in ((a, TEAM, "A"), (b, OTHER, "B")):
            top.plot(_hours(s.harm_t), s.harm_total, color=colour, lw=2, label=f"drill {name}")
            bottom.plot(_hours(s.harm_t), [r * 60 for r in s.harm_rate], color=colour, lw=1.5)
            for ax in (top, bottom):
                if s.declared is not None:
                    ax.axvline(s.declared / 3600, color=colour, lw=1, ls=":")
                if s.contained is not None:
                    ax.axvline(s.contained / 3600, color=colour, lw=1.2, ls="--")
        if a.threshold is not None:
            bottom.axhline(a.threshold * 60, color=INK, ls=":", lw=1)
        top.set_ylabel("harmful outputs (cumulative)")
        top.yaxis.set_major_formatter(_thousands())
        bottom.set_ylabel("harmful outputs / min")
        bottom.set_xlabel("hours since harm began")
        handles = list(top.get_legend_handles_labels()[0])
        handles += [Line2D([], [], color=INK, ls=":", label="incident declared (dotted)"),
                    Line2D([], [], color=INK, ls="--", label="contained (dashed)")]
        top.legend(handles=handles, loc="upper left", fontsize=8, frameon=True, framealpha=0.92,
                   facecolor="white", edgecolor="none")
        fig.align_ylabels()
        fig.tight_layout()
        return _svg(fig)


@dataclass(frozen=True)
class TrendPanel:
    """One metric of a trend chart, in plotted units."""

    title: str
    points: list[tuple[datetime, float | None, str]]
    """(when, value, team) per drill; ``None``: never reached."""
    best: float | None
    bot: float | None


MARKED_POINTS = 60
"""Up to this many drills per team a trend shows a dot per drill; beyond, only the line."""


def trend_chart(panels: list[TrendPanel]) -> str:
    """Small multiples: each metric per drill over time, the best and the bot's median as lines.

    Dates are plotted as day numbers with a plain locator and formatter (matplotlib's date locator costs
    seconds on a thousand drills), and the layout is fixed rather than measured by a draw.
    """
    _without_setter_docstrings()
    from matplotlib import rc_context
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    columns = 3
    rows = max(1, -(-len(panels) // columns))
    with rc_context(_rc("ttx-trends") | {"axes.titley": 1.03}):  # a fixed title spot: no layout pass
        fig = Figure(figsize=(10.0, 0.8 + 2.3 * rows))
        fig.subplots_adjust(left=0.07, right=0.985, top=1 - 0.3 / (0.8 + 2.3 * rows),
                            bottom=0.9 / (0.8 + 2.3 * rows), hspace=0.55, wspace=0.28)
        axes = fig.subplots(rows, columns, sharex=True, squeeze=False).ravel()
        teams = sorted({team for p in panels for _, _, team in p.points})
        colours = {team: PALETTE[i % len(PALETTE)] for i, team in enumerate(teams)}
        for ax, panel in zip(axes, panels, strict=False):
            _trend_panel(ax, panel, colours)
        for ax in axes[len(panels):]:
            ax.set_visible(False)
        bottom = [axes[max(i for i in range(len(panels)) if i % columns == c)]
                  for c in range(min(columns, len(panels)))]
        for ax in axes:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
            ax.xaxis.set_major_formatter(FuncFormatter(_day_label))
        for ax in bottom:
            ax.tick_params(axis="x", labelbottom=True, labelrotation=25)
        handles = [Line2D([], [], color=c, marker="o", label=team) for team, c in colours.items()]
        handles += [Line2D([], [], color=ACTION, ls="--", label="best"),
                    Line2D([], [], color=IDLE, ls=":", lw=1.5, label="textbook bot (median)"),
                    Line2D([], [], color=ALERT, marker="x", ls="", label="never reached")]
        fig.legend(handles=handles, loc="lower center", ncol=min(7, len(handles)), fontsize=8, frameon=False)
        return _svg(fig)


def _without_setter_docstrings() -> None:
    """Spare matplotlib writing the docstring of every artist class's ``set`` while its modules load
    (``Artist.__init_subclass__`` lists each class's properties: ~0.12 s of a trend's ~1.4 s, for help
    text no page shows). Only before ``matplotlib.figure`` is first imported; a no-op if matplotlib
    changes the hook."""
    import sys

    if "matplotlib.figure" in sys.modules:
        return
    from matplotlib.artist import Artist

    def signature_only(cls: type) -> None:
        cls.set._autogenerated_signature = True  # type: ignore[attr-defined]  # what subclasses look for

    if hasattr(Artist, "_update_set_signature_and_docstring"):
        Artist._update_set_signature_and_docstring = classmethod(signature_only)


def _day(when: datetime) -> float:
    """A date as a day number (days since year 1, the fraction is the time of day)."""
    return when.toordinal() + (when.hour * 3600 + when.minute * 60 + when.second) / 86400


def _day_label(value: float, _: object) -> str:
    """A day number as the date it is."""
    try:
        return datetime.fromordinal(int(value)).strftime("%Y-%m-%d")
    except ValueError:
        return ""


def _trend_panel(ax: Any, panel: TrendPanel, colours: dict[str, str]) -> None:
    """One metric: points per team joined by a line, never-reached as × at the top, the two yardsticks."""
    for team, colour in colours.items():
        mine = [(_day(when), value) for when, value, t in panel.points if t == team]
        reached = [(when, value) for when, value in mine if value is not None]
        marker = "o" if len(mine) <= MARKED_POINTS else None
        ax.plot([w for w, _ in reached], [v for _, v in reached], color=colour, lw=1.2, marker=marker, ms=3)
        never = [when for when, value in mine if value is None]
        if never:
            ax.scatter(never, [0.96] * len(never), transform=ax.get_xaxis_transform(), marker="x",
                       color=ALERT, s=18, lw=1, clip_on=False)
    if panel.best is not None:
        ax.axhline(panel.best, color=ACTION, ls="--", lw=1)
    if panel.bot is not None:
        ax.axhline(panel.bot, color=IDLE, ls=":", lw=1.5)
    from matplotlib.ticker import MaxNLocator

    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))  # few labels: each is drawn as glyph paths
    values = [v for _, v, _ in panel.points if v is not None]
    if values and max(abs(v) for v in values) >= 10_000:
        ax.yaxis.set_major_formatter(_thousands())
    ax.set_title(panel.title, loc="left", fontsize=9)


def _rc(salt: str) -> Any:
    """Our rc settings plus a per-chart id salt (stable output; no id clashes between inlined charts)."""
    return _RC | {"svg.hashsalt": salt}


def _marks(ax: Any, s: Series) -> None:
    if s.declared is not None:
        ax.axvline(s.declared / 3600, color=INK, lw=1, ls=":")
    seen: set[str] = set()
    repeats = []
    for t, title, stage in s.effective:
        if title in seen:
            repeats.append(t / 3600)
            continue
        seen.add(title)
        ax.axvline(t / 3600, color=ACTION, lw=0.9, alpha=0.35 + 0.15 * stage)
    if repeats:  # re-applied mitigations (a refreshed block list): ticks along the bottom, not lines
        ax.scatter(repeats, [0.03] * len(repeats), transform=ax.get_xaxis_transform(), marker="|",
                   color=ACTION, s=40, lw=1)
    for t, _ in s.stages:
        ax.axvline(t / 3600, color=STAGE, lw=1.2, ls="--")
    if s.contained is not None:
        ax.axvspan(s.contained / 3600, (s.harm_t[-1] if s.harm_t else s.contained) / 3600,
                   color=ACTION, alpha=0.07)


def _legend_handles(ax: Any, s: Series) -> list[Any]:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = list(ax.get_legend_handles_labels()[0])
    handles += [Line2D([], [], color=INK, ls=":", label="incident declared"),
                Line2D([], [], color=ACTION, label="containment action in effect (| re-applied)"),
                Line2D([], [], color=STAGE, ls="--", label="stage declared done")]
    if s.contained is not None:
        handles.append(Patch(color=ACTION, alpha=0.15, label="contained"))
    return handles


def _hours(times: list[float]) -> list[float]:
    return [t / 3600 for t in times]


def _thousands() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v:,.0f}")


def _svg(fig: Any) -> str:
    """The figure as an ``<svg>`` element for inlining in HTML: no prolog, comments or metadata."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None,
                                             "Type": None})
    text = _PROLOG.sub("", buf.getvalue()).strip()
    head, rest = text.split(">", 1)
    head = _NAMESPACES.sub("", head).replace("<svg", '<svg role="img"', 1)
    return head + ">" + rest
