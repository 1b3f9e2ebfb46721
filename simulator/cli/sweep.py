"""``ttx sweep``: Monte Carlo runs of bot policies over many seeds, with a progress bar."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import IO, Any

from simulator.analysis.sweep import make_spec, run_sweep, table, to_json, write_csv
from simulator.cli.usage import UsageError, seed_value


class ProgressBar:
    """A carriage-return progress bar on a terminal stream (silent when it is not a terminal)."""

    def __init__(self, total: int, stream: IO[str], enabled: bool) -> None:
        self.total, self.stream, self.enabled = total, stream, enabled
        self.started = time.perf_counter()

    def __call__(self, done: int) -> None:
        if not self.enabled or self.total <= 0:
            return
        share = done / self.total
        filled = int(30 * share)
        rate = done / max(1e-9, time.perf_counter() - self.started)
        self.stream.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{self.total:,} runs "
                          f"{share:4.0%}  {rate:,.0f} runs/s")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\r" + " " * 72 + "\r")
            self.stream.flush()


def cmd_sweep(args: argparse.Namespace) -> int:
    """Run the sweep and print the side-by-side table (or JSON), optionally writing a CSV."""
    if args.runs < 1 or args.workers < 1:
        raise UsageError("--runs and --workers must be at least 1")
    spec = make_spec(args.scenario, args.policy or ["textbook", "idle"])
    seeds = list(range(args.seed_start, args.seed_start + args.runs))
    bar = ProgressBar(args.runs * len(spec.policies), sys.stderr, sys.stderr.isatty() and not args.quiet)
    try:
        result = run_sweep(spec, seeds, args.workers, args.dask, bar)
    except RuntimeError as exc:
        raise UsageError(str(exc)) from None
    finally:
        bar.close()
    if args.csv:
        with open(args.csv, "w", encoding="utf-8", newline="") as out:
            write_csv(result, out)
    print(json.dumps(to_json(result), indent=2) if args.json else table(result))
    return 0


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
    out.add_argument("--csv", metavar="PATH", help="also write one CSV row per run to PATH")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(handler=cmd_sweep)
