"""``ttx run`` and ``ttx replay``: a drill played headless by a bot, and a journal re-derived."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from simulator.cli.recording import add_recording_options, record_run, recording_target
from simulator.cli.usage import UsageError, output_path, seed_value

if TYPE_CHECKING:
    from simulator.engine.runner import Run


def register(sub: Any) -> None:
    """Add ``run`` and ``replay`` to the ``ttx`` subcommands."""
    p = sub.add_parser("run", help="run a drill headless with a bot policy (or a fork of a journal)")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO",
                   help="scenario file or built-in id (with --from: the journal's, unless given)")
    p.add_argument("--policy", default="textbook",
                   help="idle, textbook, historical (the real team's published timeline) or a "
                   "scripted policy YAML file (default: textbook)")
    p.add_argument("--seed", type=seed_value, default=None, help="seed (default: the scenario's)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--journal", metavar="PATH", type=output_path, help="write the JSONL journal here")
    add_fork_options(p)
    add_recording_options(p, bots=True)
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser("replay", help="re-derive a run from its journal and check it matches")
    p.add_argument("journal", metavar="JOURNAL")
    p.add_argument("--scenario", help="scenario file to use instead of the one the journal names")
    p.set_defaults(handler=cmd_replay)


def cmd_run(args: argparse.Namespace) -> int:
    """Run a drill headless with a bot policy and print the scored result (``--from``: a fork)."""
    from simulator.analysis.summary import summary_table
    from simulator.engine.runner import run_named

    target = recording_target(args) if args.record else None
    if forking(args):
        run = run_fork(args)
    elif args.scenario is None:
        raise UsageError("give a SCENARIO (or --from JOURNAL --at T to fork a drill)")
    else:
        run = run_named(args.scenario, args.policy, args.seed, args.journal, events=False)
    if args.json:
        print(json.dumps(run.result.to_dict(), indent=2))
    else:
        print(summary_table(run.result))
    if args.journal:
        print(f"journal written to {args.journal}", file=sys.stderr)
    if target is not None:
        record_run(run, target, args.journal)
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """Re-derive a run from its journal and say whether it matches (exit 1 when it does not)."""
    from simulator.engine.fork import ForkError, check_parent
    from simulator.engine.replay import load_journal_scenario, replay
    from simulator.format.durations import clock

    journal, loaded = load_journal_scenario(args.journal, args.scenario)
    if journal.header.get("scenario_hash") not in ("", None, loaded.content_hash):
        print(f"warning: {loaded.path} has changed since the journal was written "
              "(content hash differs)", file=sys.stderr)
    report = replay(journal, loaded)
    result = report.replayed
    if report.matches:
        try:
            lineage = check_parent(journal, args.journal)
        except ForkError as exc:
            print(f"replay DIFFERS from its parent: {exc}", file=sys.stderr)
            return 1
        print(f"replay matches: {report.events} events identical; score {result.score}, "
              f"harm volume {result.harm_volume:,}" + (f"\n{lineage}" if lineage else ""))
        return 0
    print(f"replay DIFFERS: {report.first_difference}", file=sys.stderr)
    if report.recorded is None:
        end = max((e.t for e in journal.events), default=0.0)
        print(f"note: the journal stops at {clock(end)} without a result (a drill cut short or a crash), "
              "so the replay, which runs to the end, has more events; ttx report re-derives its result",
              file=sys.stderr)
    return 1


def add_fork_options(p: argparse.ArgumentParser) -> None:
    """``--from JOURNAL --at T [--scenario FILE]``: start from a journal's decisions up to T."""
    p.add_argument("--from", dest="origin", metavar="JOURNAL",
                   help="fork this journal: its decisions up to --at, then new ones")
    p.add_argument("--at", metavar="T",
                   help="with --from: a time (45m, 1h10m), an inject id, or an event seq (#412)")
    p.add_argument("--scenario", dest="insist", metavar="FILE",
                   help="with --from: fork onto this scenario file even if it changed since the journal")


def forking(args: argparse.Namespace) -> bool:
    """Whether ``--from`` was given; ``--at`` or ``--scenario`` without it is a usage error, not ignored."""
    if args.origin is None and (args.at is not None or args.insist is not None):
        raise UsageError("--at and --scenario go with --from JOURNAL (fork a journal at T)")
    return args.origin is not None


def fork_args(args: argparse.Namespace) -> tuple[str, str, str | None]:
    """The journal, T and insisted-on scenario of ``--from``/``--at``, checked."""
    if args.at is None:
        raise UsageError("--from needs --at T (a time like 45m, an inject id, or an event seq like #412)")
    return args.origin, args.at, args.insist or getattr(args, "scenario", None)


def run_fork(args: argparse.Namespace) -> Run:
    """``ttx run --from J --at T``: the journal's decisions up to T, then the policy's."""
    from simulator.engine.fork import ForkError, load_fork
    from simulator.engine.journal import write_journal
    from simulator.engine.policies import load_policy
    from simulator.engine.runner import run_policy

    origin, at, insist = fork_args(args)
    if args.seed is not None:
        raise UsageError("--seed cannot go with --from: a fork keeps its journal's seed")
    try:
        drill, loaded = load_fork(origin, at, insist)
    except ForkError as exc:
        raise UsageError(str(exc)) from None
    run = run_policy(loaded, load_policy(args.policy, loaded.scenario), drill=drill)
    if args.journal:
        write_journal(args.journal, run.drill.header(run.result.policy), run.drill.events)
    return run

