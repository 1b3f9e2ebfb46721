"""The recording options ``ttx play``, ``ttx host``, ``ttx run`` and ``ttx join`` share (``--team``,
``--no-history`` or ``--record``, ``--db``) and the calls that record a drill they played.

Apart from :mod:`simulator.cli.history` (the ``ttx history`` commands, which can open the TUI) so that
``ttx run`` never imports the TUI; nothing here imports SQLAlchemy until a drill is recorded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.cli.usage import UsageError

if TYPE_CHECKING:
    from simulator.analysis.recording import Target

DB_HELP = ("history database: a SQLite file or postgresql://USER@HOST:PORT/DB (default: $TTX_DB, else "
           "history.sqlite in your user data dir)")


def add_db_option(p: argparse.ArgumentParser, inherited: bool = False) -> None:
    """``--db URL`` (``inherited``: a subcommand's copy, leaving the parent's value alone if not given)."""
    extra: dict[str, Any] = {"default": argparse.SUPPRESS} if inherited else {}
    p.add_argument("--db", metavar="URL", help=DB_HELP, **extra)


def add_recording_options(p: argparse.ArgumentParser, *, bots: bool = False) -> None:
    """``--team``, ``--no-history`` (for bots: ``--record``) and ``--db`` on a command that plays a drill."""
    if bots:
        p.add_argument("--record", action="store_true",
                       help="record this bot run in the drill history (bot runs are not, otherwise)")
    else:
        p.add_argument("--no-history", action="store_true",
                       help="do not record this drill in the history (by default it is, when it ends)")
    p.add_argument("--team", metavar="NAME", type=team_value,
                   help="team name the history files this drill under")
    add_db_option(p)


def add_seat_history_options(p: argparse.ArgumentParser) -> None:
    """``--team``, ``--record`` and ``--db`` on ``ttx join``: which history the seat's review reads for the
    team's last run, and whether the seat records the drill there too."""
    p.add_argument("--team", metavar="NAME", type=team_value,
                   help="the team whose last run of this drill the review shows (default: any team's)")
    p.add_argument("--record", action="store_true",
                   help="also record this drill in your own history (the host records the team drill; "
                        "a seat's copy would be a second row in a history you share with the host)")
    add_db_option(p)


def seat_target(args: argparse.Namespace) -> Target:
    """The history a team seat reads (and, with ``--record``, records into).

    Raises:
        UsageError: ``--db`` or ``$TTX_DB`` is not a database URL ttx can use.
    """
    from simulator.analysis.recording import Target, url_problem

    problem = url_problem(args.db)
    if problem is not None:
        raise UsageError(problem)
    return Target(args.db, args.team, record=args.record)


def team_value(text: str) -> str:
    """Parse ``--team``: a name of 1–120 characters, no control characters.

    Raises:
        argparse.ArgumentTypeError: empty, too long or with control characters.
    """
    name = text.strip()
    if not name or len(name) > 120 or any(ord(c) < 32 for c in name):
        raise argparse.ArgumentTypeError(f"expected a team name of 1 to 120 printable characters, "
                                         f"found {text!r}")
    return name


def recording_target(args: argparse.Namespace) -> Target | None:
    """Where a played drill is recorded (``None`` with ``--no-history``); a bad ``--db`` fails here, early.

    Raises:
        UsageError: ``--db`` or ``$TTX_DB`` is not a database URL ttx can use.
    """
    from simulator.analysis.recording import Target, url_problem

    if getattr(args, "no_history", False):
        return None
    problem = url_problem(args.db)
    if problem is not None:
        raise UsageError(problem)
    return Target(args.db, args.team)


def record_after(path: str | Path, target: Target | None, source: str, ended: bool = True) -> None:
    """Record a finished drill's journal file (``ttx host``); a failure is a warning, never a lost journal."""
    from simulator.analysis.history import HistoryError, open_history, record_journal
    from simulator.engine.journal import JournalError

    if target is None:
        return
    if not ended:
        print(f"history: not recorded: the drill did not end (continue it with --resume {path}; it is "
              "recorded when it ends)", file=sys.stderr, flush=True)
        return
    try:
        with open_history(target.url) as history:
            recorded = record_journal(history, path, team=target.team, source=source)
    except (HistoryError, JournalError, OSError) as exc:
        print(f"warning: not recorded in the history: {exc}; the journal is safe at {path} "
              f"(ttx history add {path} records it later)", file=sys.stderr, flush=True)
        return
    print(f"history: {recorded.line()}", file=sys.stderr, flush=True)


def record_run(run: Any, target: Target, journal: str | None) -> None:
    """Record a bot run (``ttx run --record``), from the same facts its report would show.

    Raises:
        UsageError: the history refused it (the run's result has been printed already).
    """
    from simulator.analysis.aar import analyse
    from simulator.analysis.history import HistoryError, entry_of, open_history
    from simulator.engine.journal import Journal, journal_text
    from simulator.engine.replay import load_recorded_scenario

    header = run.drill.header(run.result.policy)
    played = Journal(header, list(run.drill.events))
    aar = analyse(played, load_recorded_scenario(played), journal)
    data = journal_text(header, run.drill.events).encode("utf-8")
    entry = entry_of(aar, data, team=target.team, source="run", path=journal, header=header)
    try:
        with open_history(target.url) as history:
            recorded = history.record(entry)
    except HistoryError as exc:
        raise UsageError(str(exc)) from None
    print(f"history: {recorded.line()}", file=sys.stderr)
