"""Saving a finished drill: the journal (through the session) and its Markdown after-action report.

The report is :mod:`simulator.analysis.report`'s (``ttx report``) whenever the journal could be saved;
:func:`markdown_report` is the short fallback for a session that cannot write its journal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from simulator.format.durations import clock
from tui.review_data import Review


@runtime_checkable
class JournalKeeper(Protocol):
    """A session that can write its journal (``LocalSession`` can; a remote one asks its server)."""

    def save_journal(self, path: str | Path) -> Path:
        """Write the journal to ``path``."""
        ...


def seconds(value: float | None) -> str:
    """A duration from the result, or ``never``."""
    return "never" if value is None else clock(value)


def markdown_report(review: Review) -> str:
    """A short after-action report: score, breakdown, expectations and timeline."""
    r = review.result
    lines = [f"# After-action report: {review.scenario.title}", "",
             f"Seed {r.get('seed')} · score **{r.get('score', 0):.1f} / 100**", "",
             f"- time to detect: {seconds(r.get('time_to_detect'))}",
             f"- time to contain: {seconds(r.get('time_to_contain'))}",
             f"- harm volume: {r.get('harm_volume', 0):,} harmful outputs "
             f"({r.get('harm_averted', 0):.0%} averted vs doing nothing)",
             f"- collateral: {r.get('collateral', 0):.2%} of legitimate requests blocked", "",
             "| component | points | weight | why |", "|---|---:|---:|---|"]
    for name, c in r.get("breakdown", {}).items():
        lines.append(f"| {name} | {c['points']:.1f} | {c['weight']:g} | {c['why']} |")
    lines += ["", "## Expectations", ""]
    lines += [f"- {'met' if x.met else 'MISSED'} at {clock(x.t)}: {x.objective or x.action} ({x.inject})"
              for x in review.expectations] or ["- none fell due"]
    lines += ["", "## Timeline", ""] + [f"- {clock(t)} {text}" for t, text in review.timeline]
    return "\n".join(lines) + "\n"


def save_drill(review: Review, keeper: object, folder: Path, stem: str) -> list[Path]:
    """Write ``<stem>.jsonl`` (when the session can) and ``<stem>.md`` into ``folder``; returns the paths."""
    saved: list[Path] = []
    text = None
    if isinstance(keeper, JournalKeeper):
        journal = keeper.save_journal(folder / f"{stem}.jsonl")
        saved.append(journal)
        text = full_report(journal)
    report = folder / f"{stem}.md"
    report.write_text(text or markdown_report(review), encoding="utf-8")
    saved.append(report)
    return saved


def full_report(journal: Path) -> str | None:
    """The after-action report of :mod:`simulator.analysis.report` (Markdown), or ``None`` if it fails."""
    from simulator.analysis.report import build_report, render
    from simulator.engine.journal import JournalError

    try:
        return render(build_report(journal), "md")
    except (OSError, ValueError, JournalError):
        return None
