"""The ``ttx`` command line. Each subcommand is a small function; heavy imports happen inside it."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn

from simulator import __version__
from simulator.durations import clock
from simulator.yamlsafe import FileProblems

Handler = Callable[[argparse.Namespace], int]


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors say what is allowed and suggest the nearest option."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments:"):
            known = [s for a in self._actions for s in a.option_strings]
            hints = []
            for word in message.split(":", 1)[1].split():
                close = difflib.get_close_matches(word.split("=")[0], known, n=1)
                if close:
                    hints.append(f"{word} → did you mean {close[0]}?")
            allowed = ", ".join(sorted(o for o in known if o.startswith("--")))
            message += ("; " + "; ".join(hints) if hints else "") + f" (options here: {allowed})"
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def fail(message: str, prog: str = "ttx") -> int:
    """Print ``PROG: error: MESSAGE`` on stderr and return exit status 2 (every subcommand's way)."""
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def print_problems(problems: Iterable[object]) -> int:
    """Print located problems (``file:line:col: …``), one per line, and return exit status 2."""
    for problem in problems:
        print(problem, file=sys.stderr)
    return 2


# --- commands -----------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace) -> int:
    """Print the built-in scenarios, one line each."""
    from simulator.loader import builtin_ids, load_scenario

    for sid in builtin_ids():
        s = load_scenario(sid).scenario
        print(f"{sid:<28} {clock(s.duration):>9}  {len(s.roles)} roles  {s.summary}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files; print file:line:col problems; exit 2 on any error."""
    from simulator.loader import lint_scenario, load_scenario

    failed = False
    for name in args.files:
        try:
            if args.lint:
                _, warnings = lint_scenario(name)
                for warning in warnings:
                    print(warning)
            else:
                load_scenario(name)
        except FileProblems as exc:
            failed = True
            print_problems(exc.problems)
            continue
        except FileNotFoundError as exc:
            failed = True
            print(f"{name}: {exc}", file=sys.stderr)
            continue
        print(f"{name}: ok")
    return 2 if failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the scenario JSON Schema."""
    from simulator.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run a drill headless with a bot policy and print the scored result."""
    from simulator.runner import run_named

    try:
        run = run_named(args.scenario, args.policy, args.seed, args.journal)
    except FileProblems as exc:
        return print_problems(exc.problems)
    except FileNotFoundError as exc:
        return fail(str(exc))
    if args.json:
        print(json.dumps(run.result.to_dict(), indent=2))
    else:
        print(summary_table(run.result.to_dict()))
    if args.journal:
        print(f"journal written to {args.journal}", file=sys.stderr)
    return 0


def summary_table(result: dict[str, Any]) -> str:
    """A readable summary of a result."""
    def seconds(v: float | None) -> str:
        return "never" if v is None else clock(v)

    lines = [
        f"{result['scenario']}  seed {result['seed']}  policy {result['policy']}",
        "",
        f"  score            {result['score']:>6.1f} / 100",
        f"  time to detect   {seconds(result['time_to_detect']):>8}",
        f"  time to contain  {seconds(result['time_to_contain']):>8}",
        f"  harm volume      {result['harm_volume']:>8,} harmful outputs",
        f"  harm averted     {result['harm_averted']:>8.0%} vs doing nothing",
        f"  collateral       {result['collateral']:>8.2%} of legitimate requests blocked",
        "",
        f"  {'component':<15}{'points':>7}{'weight':>8}  why",
    ]
    for name, c in result["breakdown"].items():
        lines.append(f"  {name:<15}{c['points']:>7.1f}{c['weight']:>8g}  {c['why']}")
    return "\n".join(lines)


def cmd_replay(args: argparse.Namespace) -> int:
    """Re-derive a run from its journal and say whether it matches."""
    from simulator.journal import JournalError
    from simulator.runner import load_journal_scenario, replay

    try:
        journal, loaded = load_journal_scenario(args.journal, args.scenario)
    except (JournalError, FileNotFoundError) as exc:
        return fail(str(exc))
    except FileProblems as exc:
        return print_problems(exc.problems)
    if journal.header.get("scenario_hash") not in ("", None, loaded.content_hash):
        print(f"warning: {loaded.path} has changed since the journal was written "
              "(content hash differs)", file=sys.stderr)
    report = replay(journal, loaded)
    result = report.replayed.to_dict()
    if report.matches:
        print(f"replay matches: {report.events} events identical; score {result['score']}, "
              f"harm volume {result['harm_volume']:,}")
        return 0
    print(f"replay DIFFERS: {report.first_difference}", file=sys.stderr)
    if report.recorded is None:
        from simulator.durations import clock

        end = max((e.t for e in journal.events), default=0.0)
        print(f"note: the journal stops at {clock(end)} without a result (a drill cut short or a crash), "
              "so the replay, which runs to the end, has more events; ttx report re-derives its result",
              file=sys.stderr)
    return 1


# --- wiring -------------------------------------------------------------------------------


def build_parser() -> Parser:
    """The full ``ttx`` argument parser."""
    from simulator.play import seed_value

    parser = Parser(prog="ttx", description="Tabletop-exercise simulator for AI incident response.")
    parser.add_argument("--version", action="version", version=f"ttx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    p = sub.add_parser("list", help="list the built-in scenarios")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("validate", help="check scenario files (exit 2 on errors)")
    p.add_argument("files", nargs="+", metavar="SCENARIO", help="scenario file or built-in id")
    p.add_argument("--lint", action="store_true", help="also print warnings")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("schema", help="print the scenario JSON Schema (for editors)")
    p.set_defaults(handler=cmd_schema)

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

    for register in extra_commands():
        register(sub)
    return parser


def extra_commands() -> list[Callable[[Any], None]]:
    """Registration functions of the commands that live in their own modules."""
    from simulator import authoring, play, report, sweep, team

    return [play.register, authoring.register, team.register, report.register, sweep.register]


def _subparser(parser: Parser, name: str | None) -> Parser | None:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            chosen: Parser = action.choices[name]
            return chosen
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ttx`` command."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        sub = _subparser(parser, getattr(args, "command", None)) or parser
        sub.error(f"unrecognized arguments: {' '.join(extras)}")
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    try:
        return handler(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
