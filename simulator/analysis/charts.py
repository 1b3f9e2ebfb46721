"""After-action charts drawn by matplotlib (no pyplot, no GUI backend) and returned as inline SVG."""

from __future__ import annotations

import io
import re
from typing import Any

from simulator.analysis.aar import Branch, Series

INK, TEAM, IDLE, ACTION, STAGE, ALERT = "#222222", "#1f5fa8", "#b0b0b0", "#2e8b57", "#8a4fbf", "#c0392b"

_RC: dict[str, Any] = {"svg.fonttype": "path", "text.parse_math": False, "font.size": 9,
       "axes.spines.top": False, "axes.spines.right": False, "svg.image_inline": True}
"""Text as paths (no font requests), no mathtext (journal text may hold ``$``), tidy axes."""

_PROLOG = re.compile(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>", re.DOTALL)
_NAMESPACES = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')


def harm_chart(s: Series) -> str:
    """Cumulative harmful outputs and the harmful rate against the do-nothing run, actions marked."""
    from matplotlib import rc_context
    from matplotlib.figure import Figure

    with rc_context(_rc("ttx-harm")):
        fig = Figure(figsize=(8.0, 5.2))
        top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
        top.plot(_hours(s.idle_t), s.idle_total, color=IDLE, lw=2, label="do nothing (same seed)")
        top.plot(_hours(s.harm_t), s.harm_total, color=TEAM, lw=2, label="this drill")
        top.set_ylabel("harmful outputs (cumulative)")
        top.yaxis.set_major_formatter(_thousands())
        bottom.plot(_hours(s.idle_t), [r * 60 for r in s.idle_rate], color=IDLE, lw=1.5)
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
