"""``ttx list``, ``ttx validate`` and ``ttx schema``: the scenario library and checking scenario files."""

from __future__ import annotations

import argparse
import sys
from typing import Any

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
    """Check scenario files; print file:line:col problems; exit 2 on any error (every file is checked)."""
    from simulator.format.loader import lint_scenario, load_scenario

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
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            continue
        except FileNotFoundError as exc:
            failed = True
            print(f"{name}: {exc}", file=sys.stderr)
            continue
        print(f"{name}: ok")
    return 2 if failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the scenario JSON Schema."""
    from simulator.format.schema import schema_text

    sys.stdout.write(schema_text())
    return 0
