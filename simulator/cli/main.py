"""The ``ttx`` entry point: builds the parser from the command modules and turns errors into one line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

from simulator import __version__
from simulator.cli.usage import Parser, UsageError, os_error_text, print_error, problems_summary
from simulator.format.yamlsafe import FileProblems

Handler = Callable[[argparse.Namespace], int]


def command_modules() -> list[Any]:
    """The modules that each register a group of subcommands, in the order ``ttx --help`` lists them."""
    from simulator.cli import authoring, play, report, runs, scenarios, sweep, team, watch

    return [scenarios, runs, play, watch, authoring, team, report, sweep]


def build_parser() -> Parser:
    """The full ``ttx`` argument parser; every subcommand knows its own name as ``args.prog``."""
    parser = Parser(prog="ttx", description="Tabletop-exercise simulator for AI incident response.")
    parser.add_argument("--version", action="version", version=f"ttx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in command_modules():
        module.register(sub)
    _name_subcommands(parser)
    return parser


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    return [choice for action in parser._actions if isinstance(action, argparse._SubParsersAction)
            for choice in action.choices.values()]


def _name_subcommands(parser: argparse.ArgumentParser) -> None:
    """Set ``prog`` (``ttx run``, ``ttx msel import`` …) as a default of every subcommand."""
    for child in _subparsers(parser):
        child.set_defaults(prog=child.prog)
        _name_subcommands(child)


def _chosen(parser: Parser, name: str | None) -> Parser | None:
    chosen = next((c for c in _subparsers(parser) if c.prog == f"ttx {name}"), None)
    return chosen if isinstance(chosen, Parser) else None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ttx`` command: parse, run the subcommand, print any failure as one line."""
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        (_chosen(parser, getattr(args, "command", None)) or parser).error(
            f"unrecognized arguments: {' '.join(extras)}")
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 0
    return run_handler(handler, args, str(getattr(args, "prog", "ttx")))


def run_handler(handler: Handler, args: argparse.Namespace, prog: str) -> int:
    """Run one subcommand; typed failures become ``PROG: error: …`` and exit 2.

    Located problems (``file:line:col: …``) are printed as they are, in the form editors jump to,
    and closed by a ``PROG: error: N problems in FILE (above)`` line. Ctrl+C exits 130.
    """
    from simulator.engine.journal import JournalError
    from simulator.format.msel import MselError

    try:
        return handler(args)
    except (FileProblems, MselError) as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print_error(prog, problems_summary(exc.problems))
        return 2
    except (UsageError, JournalError) as exc:
        print_error(prog, str(exc))
        return 2
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except OSError as exc:
        print_error(prog, os_error_text(exc))
        return 2
