"""``ttx list``, ``ttx validate`` and ``ttx schema``: the scenario library and checking scenario files."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from simulator.cli.usage import print_error, problems_summary
from simulator.format.yamlsafe import FileProblems


def register(sub: Any) -> None:
    """Add ``list``, ``validate`` and ``schema`` to the ``ttx`` subcommands."""
    p = sub.add_parser("list", help="list the built-in scenarios")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("validate", help="check scenario files (exit 2 on errors)")
    p.add_argument("files", nargs="+", metavar="SCENARIO", help="scenario file or built-in id")
    p.add_argument("--lint", action="store_true", help="also print warnings")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("schema", help="print the scenario JSON Schema (for editors)")
    p.set_defaults(handler=cmd_schema)


def cmd_list(args: argparse.Namespace) -> int:
    """Print the built-in scenarios, one line each."""
    from simulator.format.durations import clock
    from simulator.format.loader import builtin_ids, load_scenario

    for sid in builtin_ids():
        s = load_scenario(sid).scenario
        print(f"{sid:<28} {clock(s.duration):>9}  {len(s.roles)} roles  {s.summary}")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    """Check scenario files; print every problem of each in one pass; exit 2 on any error.

    Every file is checked. Errors go to stderr as ``file:line:col: …``; with ``--lint`` the
    warnings go to stdout among them, all in file order.
    """
    from simulator.format.loader import scenario_problems

    failed, errors = False, []
    for name in args.files:
        try:
            problems = scenario_problems(name)
        except FileProblems as exc:
            problems = exc.problems
        except FileNotFoundError as exc:
            failed = True
            print_error(args.prog, str(exc))
            continue
        for problem in problems:
            if problem.level == "error":
                print(problem, file=sys.stderr)
            elif args.lint:
                print(problem)
        if any(p.level == "error" for p in problems):
            errors += [p for p in problems if p.level == "error"]
        else:
            print(f"{name}: ok")
    if errors:
        print_error(args.prog, problems_summary(errors))
    return 2 if failed or errors else 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the scenario JSON Schema."""
    from simulator.format.schema import schema_text

    sys.stdout.write(schema_text())
    return 0
