"""``ttx history`` (list, add, show, trends, remove) and ``ttx compare``: the drill history database.

Listing a SQLite history imports neither SQLAlchemy nor the engine, so ``ttx history`` stays quick on a
big history. The
options that record a drill as it is played are in :mod:`simulator.cli.recording`.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.cli.recording import add_db_option, team_value
from simulator.cli.usage import UsageError

if TYPE_CHECKING:
    from simulator.analysis.history import DrillRow, Filters, History, Listed

# --- the commands ----------------------------------------------------------------------------


def register(sub: Any) -> None:
    """Add ``history`` (and its subcommands) and ``compare`` to the ``ttx`` subcommands."""
    p = sub.add_parser("history", help="the drills played so far: list, add, show, trends",
                       description="Every drill people played (and bot runs recorded with ttx run "
                                   "--record), oldest first. Subcommands add journals, show one drill, "
                                   "chart trends.")
    _filters(p)
    p.add_argument("--limit", type=int, metavar="N", help="only the N most recent drills")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the drills as JSON")
    out.add_argument("--csv", action="store_true", help="print the drills as CSV (for a spreadsheet)")
    out.add_argument("--tui", action="store_true",
                     help="browse the drills in the terminal and open any one's review")
    add_db_option(p)
    p.set_defaults(handler=cmd_history)
    verbs = p.add_subparsers(dest="verb", metavar="COMMAND")

    q = verbs.add_parser("add", help="record existing journals (the same journal twice is one drill)")
    q.add_argument("journals", nargs="+", metavar="JOURNAL")
    q.add_argument("--team", type=team_value, default=argparse.SUPPRESS, metavar="NAME",
                   help="the team that played them")
    q.add_argument("--scenario", default=argparse.SUPPRESS, metavar="FILE",
                   help="scenario file to use instead of the one the journals name")
    add_db_option(q, inherited=True)
    q.set_defaults(handler=cmd_add)

    q = verbs.add_parser("show", help="one drill's recorded figures; its report (-o) or journal (--journal)")
    q.add_argument("id", metavar="ID", help="drill id (or a unique prefix of 4 or more characters)")
    q.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print it as JSON")
    q.add_argument("-o", "--output", metavar="PATH", help="write its after-action report (.html or .md)")
    q.add_argument("--journal", metavar="PATH", help="write its journal, as recorded")
    add_db_option(q, inherited=True)
    q.set_defaults(handler=cmd_show)

    q = verbs.add_parser("trends", help="each metric over time, with the team's best and the textbook bot's")
    _filters(q, inherited=True)
    q.add_argument("-o", "--output", metavar="PATH", help="write the charts as an HTML page (trends.html)")
    q.add_argument("--branches", action="store_true",
                   help="count branches (rewinds of a drill) as attempts too; left out by default")
    add_db_option(q, inherited=True)
    q.set_defaults(handler=cmd_trends)

    q = verbs.add_parser("remove", help="delete a drill from the history (its journal file is not touched)")
    q.add_argument("id", metavar="ID")
    add_db_option(q, inherited=True)
    q.set_defaults(handler=cmd_remove)

    p = sub.add_parser("compare", help="two drills side by side (history ids or journal files)")
    p.add_argument("a", metavar="A", help="drill id from ttx history, or a journal file")
    p.add_argument("b", metavar="B")
    p.add_argument("-o", "--output", metavar="PATH",
                   help="write the comparison as an HTML page, both harm curves on one chart")
    add_db_option(p)
    p.set_defaults(handler=cmd_compare)


def _filters(p: argparse.ArgumentParser, inherited: bool = False) -> None:
    extra: dict[str, Any] = {"default": argparse.SUPPRESS} if inherited else {}
    p.add_argument("--team", metavar="NAME", help="only this team's drills (any case)", **extra)
    p.add_argument("--scenario", metavar="ID", help="only drills of this scenario id", **extra)
    p.add_argument("--since", metavar="WHEN", type=_since,
                   help="only drills since a date (2026-01-31) or a span back from now (30d, 12w)", **extra)
    p.add_argument("--policy", metavar="WHO", help="only drills played by 'people', or by this bot policy",
                   **extra)


def _since(text: str) -> Any:
    from simulator.analysis.history import since_value

    try:
        return since_value(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _open(args: argparse.Namespace, create: bool = False) -> History:
    from simulator.analysis.history import HistoryError, open_history

    try:
        return open_history(getattr(args, "db", None), create=create)
    except HistoryError as exc:
        raise UsageError(str(exc)) from None


def _history_errors() -> tuple[type[Exception], ...]:
    from simulator.analysis.history import HistoryError

    return (HistoryError,)


def cmd_history(args: argparse.Namespace) -> int:
    """List the recorded drills (table, JSON, CSV), or browse them with ``--tui``.

    The table of a SQLite file is read without SQLAlchemy when it can be (:mod:`simulator.analysis.history.
    listing`); anything that reading does not know opens the history as every other command does.
    """
    from simulator.analysis.history import Filters

    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit: expected 1 or more, found {args.limit}")
    filters = Filters(team=args.team, scenario=args.scenario, since=args.since, policy=args.policy)
    if not (args.json or args.csv or args.tui) and _quick_table(args.db, filters, args.limit):
        return 0
    from simulator.analysis.history import HistoryError, NoHistory, open_history

    try:
        history = open_history(args.db, create=False)
    except NoHistory as exc:
        if args.tui:
            raise UsageError(f"nothing to browse: {exc}") from None
        print(str(exc), file=sys.stderr)
        if args.json:
            print("[]")
        elif args.csv:
            _write_csv([])
        return 0
    except HistoryError as exc:
        raise UsageError(str(exc)) from None
    with history:
        if args.tui:
            return _browse(history, _guarded(lambda: history.drills(filters, limit=args.limit)))
        if args.json or args.csv:
            rows = _guarded(lambda: history.drills(filters, limit=args.limit))
            if args.json:
                print(json.dumps([r.to_dict() for r in rows], indent=2, default=str))
            else:
                _write_csv(rows)
        else:
            _print_rows(_guarded(lambda: history.listing(filters, limit=args.limit)), history.where)
    return 0


def _quick_table(db: str | None, filters: Filters, limit: int | None) -> bool:
    """Print the table of a SQLite history named by a path straight from its index; False when it was
    not (a URL, or a file that reading does not know: the caller opens the history to say why)."""
    from simulator.analysis.history.listing import quick_listing
    from simulator.analysis.recording import sqlite_path

    path = sqlite_path(db)
    rows = quick_listing(path, filters, limit) if path is not None else None
    if rows is None:
        return False
    _print_rows(rows, str(path))
    return True


def _guarded(call: Any) -> Any:
    """Run a history call, turning a database failure into the command's one-line error."""
    try:
        return call()
    except _history_errors() as exc:
        raise UsageError(str(exc)) from None


LIST_HEADER = ("id", "date", "team", "scenario", "score", "detect", "contain", "averted")


def _print_rows(rows: list[Listed], where: str) -> None:
    """The table: one line per drill, oldest first, and a count with the database on stderr."""
    if rows:
        sys.stdout.write(listing_text(rows))
    print(f"{len(rows)} drill(s) · history: {where}", file=sys.stderr)


def listing_text(rows: list[Listed]) -> str:
    """The lines of ``ttx history`` (header first): built column-wise, since a big history has 10,000
    lines and each cell is formatted once."""
    from simulator.analysis.history import SHORT_ID, local
    from simulator.format.hms import clock

    ids = [r.id[:SHORT_ID] for r in rows]
    dates = [local(r.played_at) for r in rows]
    teams = [r.by for r in rows]
    scenarios = [r.scenario_id if r.scenario_known else f"{r.scenario_id} (?)" for r in rows]
    scores = [f"{r.score:.1f}" for r in rows]
    detects = ["never" if r.time_to_detect is None else clock(r.time_to_detect) for r in rows]
    contains = ["never" if r.time_to_contain is None else clock(r.time_to_contain) for r in rows]
    averted = [f"{r.harm_averted:.0%}" for r in rows]
    columns: tuple[list[str], ...] = (ids, dates, teams, scenarios, scores, detects, contains, averted)
    header: tuple[str, ...] = LIST_HEADER
    branches = any(r.parent for r in rows)
    if branches:  # a rewind is not a fresh attempt: say which drill it branched from
        columns += (["↳ branch of " + r.parent[:SHORT_ID] if r.parent else "" for r in rows],)
        header += ("",)
    widths = [max(len(h), *map(len, c)) if c else len(h) for h, c in zip(header, columns, strict=True)]
    line = "  ".join(f"{{:{'>' if 4 <= i < 8 else '<'}{w}}}" for i, w in enumerate(widths))
    lines = [line.format(*header), *map(line.format, *columns)]
    return "\n".join([text.rstrip() for text in lines] if branches else lines) + "\n"


CSV_COLUMNS = ("id", "played_at", "team", "scenario_id", "scenario_title", "scenario_known", "seed", "policy",
               "mode", "source", "participants", "players", "score", "time_to_detect", "time_to_escalate",
               "time_to_contain", "time_to_first_update", "harm_volume", "idle_harm_volume", "weighted_harm",
               "baseline_weighted_harm", "harm_averted", "collateral", "resurgences", "expectations_met",
               "expectations_late", "expectations_missed", "expectations_open", "duration", "ended_at",
               "journal_path", "recorded_at", "parent")
"""The CSV's columns: every scalar figure, times in sim seconds, dates in ISO 8601 UTC; last, for a
branch (a rewind), the id of the drill it was forked from (empty for an original), as the table's
"↳ branch of" and ``--json``'s ``parent`` say (new columns go at the end: a sheet that reads the
columns by position keeps working)."""


def _write_csv(rows: list[DrillRow]) -> None:
    out = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    out.writeheader()
    for r in rows:
        data = r.to_dict()
        data["players"] = "; ".join(f"{p['name']} ({', '.join(p['roles'])})" for p in data["players"])
        out.writerow(data)


def _browse(history: History, rows: list[DrillRow]) -> int:
    from tui.history import run_history

    if not rows:
        raise UsageError("nothing to browse: no drills match")
    run_history(history.url, rows)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    """Record journal files; each one is added once however often it is given."""
    from simulator.analysis.history import HistoryError, record_journal
    from simulator.engine.journal import JournalError

    failed: list[str] = []
    with _open(args, create=True) as history:
        for path in args.journals:
            try:
                recorded = record_journal(history, path, team=getattr(args, "team", None),
                                          scenario=getattr(args, "scenario", None))
            except (JournalError, HistoryError, OSError) as exc:
                failed.append(str(exc) if str(path) in str(exc) else f"{path}: {exc}")
                continue
            print(f"{path}: {recorded.line()}")
    if failed:
        for reason in failed:  # one line each, like located problems; the summary line closes them
            print(reason, file=sys.stderr)
        raise UsageError(f"{len(failed)} of {len(args.journals)} journal(s) not recorded (above)")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print one drill's recorded figures, or write its report or journal."""
    with _open(args) as history:
        detail = _guarded(lambda: history.detail(args.id))
        if args.output or args.journal:
            _export(history, detail.row.id, args.output, args.journal)
            return 0
        if getattr(args, "json", False):
            print(json.dumps(_detail_dict(detail), indent=2, default=str))
            return 0
        sys.stdout.write(_detail_text(detail))
    return 0


def _export(history: History, drill_id: str, output: str | None, journal: str | None) -> None:
    from simulator.analysis.history import reopen
    from simulator.analysis.report import render

    if journal:
        Path(journal).write_bytes(_guarded(lambda: history.journal(drill_id)))
        print(f"journal written to {journal}", file=sys.stderr)
    if output:
        suffix = Path(output).suffix.lower()
        fmt = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}.get(suffix)
        if fmt is None:
            raise UsageError(f"-o {output}: cannot tell the format from the file name; use .html or .md")
        opened = _guarded(lambda: reopen(history, drill_id))
        Path(output).write_text(render(opened.aar, fmt), encoding="utf-8")
        print(f"report written to {output}", file=sys.stderr)


def _detail_dict(detail: Any) -> dict[str, Any]:
    from dataclasses import asdict

    out: dict[str, Any] = detail.row.to_dict()
    out["components"] = [asdict(c) for c in detail.components]
    out["figures"] = [asdict(f) for f in detail.figures]
    out.update(strengths=detail.strengths, improvements=detail.improvements, notes=detail.notes,
               discussion=detail.discussion)
    return out


def _detail_text(detail: Any) -> str:
    """Everything recorded about one drill, for the terminal."""
    from simulator.analysis.history import local
    from simulator.analysis.metrics import METRICS
    from simulator.analysis.report import text_table

    r: DrillRow = detail.row
    known = "" if r.scenario_known else "  [scenario file not found: recorded from the journal header]"
    lines = [f"drill {r.id}",
             f"  scenario      {r.scenario_title} ({r.scenario_id}), seed {r.seed}{known}",
             f"  played        {local(r.played_at)} ({r.mode}; recorded {local(r.recorded_at)} by "
             f"{SOURCES.get(r.source, r.source)})",
             f"  team          {r.team or '—'}",
             f"  who           {r.participants}",
             f"  journal       {r.journal_path or 'not saved to a file'} ({r.journal_bytes:,} bytes, kept in "
             "the history)"]
    if r.parent:
        lines.append(f"  forked from   {r.parent}")
    lines += ["", *[f"  {m.title:<22}{m.text(getattr(r, m.name))}" for m in METRICS],
              f"  {'expectations':<22}{r.expectations_met} met, {r.expectations_late} late, "
              f"{r.expectations_missed} missed, {r.expectations_open} open", "",
              "Score breakdown",
              text_table((["component", "points", "weight", "why"],
                          [[c.name, f"{c.points:.1f}", f"{c.weight:g}", c.why] for c in detail.components])),
              "", "Per role", text_table(_figure_table([f for f in detail.figures if f.kind == "role"]))]
    players = [f for f in detail.figures if f.kind == "player"]
    if players:
        lines += ["", "Per player", text_table(_figure_table(players))]
    improvements = [f"  - {x['text']}" for x in detail.improvements] or ["  (none)"]
    strengths = [f"  + {x['text']}" for x in detail.strengths] or ["  (none)"]
    lines += ["", "Areas for improvement", *improvements, "", "Strengths", *strengths]
    if detail.notes:
        lines += ["", "Notes", *[f"  {n}" for n in detail.notes]]
    return "\n".join(lines) + "\n"


SOURCES = {"play": "ttx play", "host": "ttx host", "join": "ttx join --record", "run": "ttx run --record",
           "import": "ttx history add"}
"""The command that recorded a drill, by its ``source``."""


def _figure_table(rows: list[Any]) -> tuple[list[str], list[list[str]]]:
    from simulator.format.hms import clock

    return (["name", "roles", "first action", "actions", "refusals", "approvals", "peak load"],
            [[f.name, ", ".join(f.roles), "no action" if f.first_action is None else clock(f.first_action),
              str(f.actions), str(f.refusals), str(f.approvals), f"{f.peak_load:.2f}"] for f in rows])


def cmd_trends(args: argparse.Namespace) -> int:
    """Each metric over time for one scenario, with the team's best and the textbook bot's median."""
    from simulator.analysis.report import text_table
    from simulator.analysis.trends import (
        render_html,
        summaries,
        textbook_reference,
        title_of,
        trend_drills,
        trends,
    )

    team = getattr(args, "team", None)
    with _open(args) as history:
        rows, left_out = _guarded(lambda: trend_drills(history, team, getattr(args, "scenario", None),
                                                       getattr(args, "since", None), branches=args.branches))
        reference = _guarded(lambda: textbook_reference(history, rows))
    found = trends(rows, reference)
    if args.output:
        Path(args.output).write_text(render_html(rows, found, reference, team), encoding="utf-8")
        note = f" ({left_out} branch(es) left out; --branches counts them)" if left_out else ""
        print(f"trends written to {args.output}{note}", file=sys.stderr)
        return 0
    how = reference.how if reference is not None else "no textbook bot reference: the scenario was not found"
    parts = [f"{title_of(rows, team)}: {len(rows)} drill(s)"
             + (f" ({left_out} branch(es) left out: rewinds, not fresh attempts; --branches counts them)"
                if left_out else "")]
    for name, table in summaries(found):
        parts += ([f"\nteam {name}"] if name else []) + [text_table(table)]
    print("\n".join(parts) + f"\n\ntextbook bot: {how}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """Delete one drill from the history."""
    with _open(args) as history:
        row = _guarded(lambda: history.remove(args.id))
    print(f"removed {row.short} ({row.scenario_id}, {row.by}, score {row.score:.1f}); "
          f"{row.journal_path or 'its journal was not saved to a file'}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Two drills side by side, in the terminal or as an HTML page."""
    from simulator.analysis.compare import compare, render_html, render_text

    history: History | None = None
    try:
        a, history = _side(args, args.a, history)
        b, history = _side(args, args.b, history)
    finally:
        if history is not None:
            history.close()
    comparison = compare(a, b)
    if args.output:
        Path(args.output).write_text(render_html(comparison), encoding="utf-8")
        print(f"comparison written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(render_text(comparison))
    return 0


def _side(args: argparse.Namespace, given: str, history: History | None) -> tuple[Any, History | None]:
    """A drill named on the command line: a journal file if one is there, else a history id."""
    from simulator.analysis.history import reopen, reopen_file

    if Path(given).is_file():
        return _guarded(lambda: reopen_file(given)), history
    if given.endswith(".jsonl") or "/" in given or Path(given).exists():
        raise UsageError(f"{given}: no such journal file (and not a drill id)")
    if history is None:
        history = _open(args)
    return _guarded(lambda: reopen(history, given)), history
