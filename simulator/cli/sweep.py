"""``ttx sweep``: Monte Carlo runs of bot policies over many seeds, with a progress bar."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from typing import IO, Any

from simulator.analysis.sweep import (
    SweepInterrupted,
    SweepResult,
    make_spec,
    run_sweep,
    table,
    to_json,
    write_csv,
)
from simulator.cli.usage import UsageError, output_path, seed_value

BAR_CELLS = 30
"""Width of the bar itself on a terminal wide enough for the whole line."""

RATE_WINDOW_SECONDS = 3.0
"""The bar shows a rate and the time left only once results have come in for this long (chunks
finish in lumps, so a shorter window swings wildly)."""


class ProgressBar:
    """A carriage-return progress bar on a terminal stream (silent when it is not a terminal).

    It is drawn at once, saying what is starting while no run has finished, then the runs done,
    their rate and the time left; every call redraws it, so its clock moves even between results.
    The line always fits the terminal: a line that wrapped would leave a copy behind on every redraw
    (a carriage return goes back only to the start of the last row).
    """

    def __init__(self, total: int, stream: IO[str], enabled: bool, starting: str = "starting…",
                 columns: Callable[[], int] | None = None) -> None:
        self.total, self.stream, self.enabled, self.starting = total, stream, enabled, starting
        self.columns = columns or terminal_columns
        """The terminal's width now (asked on every redraw: the window may be resized)."""
        self.started = time.perf_counter()
        self.first: tuple[float, int] | None = None
        """When the first runs finished and how many: the rate is measured from there, not
        from the start (worker start-up is not run time)."""
        self.width = 0
        """Length of the line last drawn, so a shorter one blanks its tail."""

    def __call__(self, done: int) -> None:
        if not self.enabled or self.total <= 0:
            return
        now = time.perf_counter()
        if done and self.first is None:
            self.first = (now, done)
        share = done / self.total
        rest = f" {done:,}/{self.total:,} runs {share:4.0%}  {self._note(now, done)}"
        room = self.room()
        cells = max(10, min(BAR_CELLS, room - len(rest) - 2))
        filled = int(cells * share)
        line = f"[{'#' * filled}{'.' * (cells - filled)}]{rest}"[:room]
        self.stream.write("\r" + line.ljust(min(self.width, room)))
        self.stream.flush()
        self.width = len(line)

    def room(self) -> int:
        """Cells the line may take: the terminal's width, less the last column (some terminals wrap
        there) and the ``^C`` a terminal echoes after the bar when Ctrl+C stops the sweep."""
        return max(1, self.columns() - 1 - len("^C"))

    def _note(self, now: float, done: int) -> str:
        """What is going on: starting (with the seconds so far), running, or the rate and time left."""
        if self.first is None:
            return f"{self.starting} {now - self.started:.0f} s"
        since, first_done = self.first
        if done <= first_done or now - since < RATE_WINDOW_SECONDS:
            return f"running… {now - self.started:.0f} s"
        rate = (done - first_done) / (now - since)
        return f"{rate:,.0f} runs/s, about {(self.total - done) / rate:.0f} s left"

    def close(self) -> None:
        """Blank the bar (and a ^C the terminal echoed after it)."""
        if self.enabled and self.width:
            self.stream.write("\r" + " " * (self.room() + len("^C")) + "\r")
            self.stream.flush()


def terminal_columns() -> int:
    """Columns of the terminal the bar is drawn on (stderr); 80 when it cannot be asked or says 0
    (a pseudo-terminal nobody has sized)."""
    try:
        columns = os.get_terminal_size(sys.stderr.fileno()).columns
    except (OSError, ValueError):
        columns = shutil.get_terminal_size().columns
    return columns if columns > 0 else 80


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep and print the side-by-side table (or JSON), optionally writing a CSV.

    Ctrl+C stops the workers at once; the summary of the seeds that finished is printed (and
    written to ``--csv``), then ``ttx sweep: interrupted …`` and exit status 130.
    """
    if args.runs < 1 or args.workers < 1:
        raise UsageError("--runs and --workers must be at least 1")
    policies = args.policy or ["textbook", "idle"]
    seeds = list(range(args.seed_start, args.seed_start + args.runs))
    shown = sys.stderr.isatty() and not args.quiet
    bar = ProgressBar(args.runs * len(policies), sys.stderr, shown, f"checking {args.scenario}…")
    try:
        bar(0)
        spec = make_spec(args.scenario, policies)
        bar.starting = _starting(args)
        result = run_sweep(spec, seeds, args.workers, args.dask, bar)
    except SweepInterrupted as stop:
        result = stop.partial
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    finally:
        bar.close()
    if result.runs or not result.interrupted:
        _print_result(result, args)
    if result.interrupted:
        print(f"{args.prog}: {_interrupted(result)}", file=sys.stderr)
        return 130
    return 0


def _interrupted(result: SweepResult) -> str:
    """``interrupted after 312 of 1,000 runs; the summary covers the 156 seeds that finished``."""
    line = f"interrupted after {len(result.runs):,} of {result.planned:,} runs"
    if not result.runs:
        return line
    seeds = f"{len(result.seeds):,} seed{'' if len(result.seeds) == 1 else 's'}"
    return f"{line}; the summary covers the {seeds} that finished"


def _print_result(result: SweepResult, args: argparse.Namespace) -> None:
    if args.csv:
        with open(args.csv, "w", encoding="utf-8", newline="") as out:
            write_csv(result, out)
    print(json.dumps(to_json(result), indent=2) if args.json else table(result), flush=True)


def _starting(args: argparse.Namespace) -> str:
    """What the bar says until the first run finishes."""
    if args.dask:
        return f"connecting to {args.dask}…"
    return f"starting {args.workers} workers…" if args.workers > 1 else "starting…"


def register(sub: Any) -> None:
    """Add ``ttx sweep`` to the command line."""
    p = sub.add_parser("sweep", help="Monte Carlo: run bot policies over many seeds, compare distributions")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or built-in id")
    p.add_argument("--policy", action="append", metavar="POLICY",
                   help="idle, textbook, historical or a scripted policy YAML; repeat to compare "
                   "(default: textbook, idle)")
    p.add_argument("--runs", type=int, default=200, help="seeds per policy (default: 200)")
    p.add_argument("--seed-start", type=seed_value, default=0, help="first seed (default: 0)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="local worker processes (default: all cores)")
    p.add_argument("--dask", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://scheduler:8786")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the summaries as JSON")
    out.add_argument("--csv", metavar="PATH", type=output_path, help="also write one CSV row per run to PATH")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_sweep)
