"""``ttx run`` and ``ttx replay``: a drill played headless by a bot, and a journal re-derived."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from simulator.cli.usage import seed_value


def register(sub: Any) -> None:
    """Add ``run`` and ``replay`` to the ``ttx`` subcommands."""
    p = sub.add_parser("run", help="run a drill headless with a bot policy")
    p.add_argument("scenario", metavar="SCENARIO", help="scenario file or built-in id")
    p.add_argument("--policy", default="textbook",
                   help="idle, textbook, or a scripted policy YAML file (default: textbook)")
    p.add_argument("--seed", type=seed_value, default=None, help="seed (default: the scenario's)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--journal", metavar="PATH", help="write the JSONL journal here")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("replay", help="re-derive a run from its journal and check it matches")
    p.add_argument("journal", metavar="JOURNAL")
    p.add_argument("--scenario", help="scenario file to use instead of the one the journal names")
    p.set_defaults(handler=cmd_replay)


def cmd_run(args: argparse.Namespace) -> int:
    """Run a drill headless with a bot policy and print the scored result."""
    from simulator.analysis.summary import summary_table
    from simulator.engine.runner import run_named

    run = run_named(args.scenario, args.policy, args.seed, args.journal, events=False)
    if args.json:
        print(json.dumps(run.result.to_dict(), indent=2))
    else:
        print(summary_table(run.result))
    if args.journal:
        print(f"journal written to {args.journal}", file=sys.stderr)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Re-derive a run from its journal and say whether it matches (exit 1 when it does not)."""
    from simulator.engine.replay import load_journal_scenario, replay
    from simulator.format.durations import clock

    journal, loaded = load_journal_scenario(args.journal, args.scenario)
    if journal.header.get("scenario_hash") not in ("", None, loaded.content_hash):
        print(f"warning: {loaded.path} has changed since the journal was written "
              "(content hash differs)", file=sys.stderr)
    report = replay(journal, loaded)
    result = report.replayed
    if report.matches:
        print(f"replay matches: {report.events} events identical; score {result.score}, "
              f"harm volume {result.harm_volume:,}")
        return 0
    print(f"replay DIFFERS: {report.first_difference}", file=sys.stderr)
    if report.recorded is None:
        end = max((e.t for e in journal.events), default=0.0)
        print(f"note: the journal stops at {clock(end)} without a result (a drill cut short or a crash), "
              "so the replay, which runs to the end, has more events; ttx report re-derives its result",
              file=sys.stderr)
    return 1
