"""The ``ttx`` entry point: builds the parser from the command modules and turns errors into one line.

Only the module of the subcommand being run is imported (``ttx validate`` never loads the engine,
NumPy, SimPy or Faker); ``ttx --help`` and a mistyped command load them all.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from simulator import __version__
from simulator.cli.usage import Parser, UsageError, os_error_text, print_error, problems_summary

Handler = Callable[[argparse.Namespace], int]


COMMANDS: dict[str, tuple[str, ...]] = {
    "scenarios": ("list", "validate", "schema"),
    "runs": ("run", "replay"),
    "play": ("play",),
    "watch": ("watch",),
    "authoring": ("new", "msel"),
    "team": ("host", "join"),
    "report": ("report",),
    "history": ("history", "compare"),
    "sweep": ("sweep",),
}
"""Command module (under ``simulator.cli``) → the subcommands it registers, in ``ttx --help`` order."""


def command_modules(only: str | None = None) -> list[Any]:
    """The modules that register subcommands (only the one registering ``only``, when it is known)."""
    names = [m for m, commands in COMMANDS.items() if only in commands] or list(COMMANDS)
    return [importlib.import_module(f"simulator.cli.{name}") for name in names]


def build_parser(command: str | None = None) -> Parser:
    """The ``ttx`` argument parser; every subcommand knows its own name as ``args.prog``.

    With ``command`` (the subcommand about to run) only its module is imported and registered.
    """
    parser = Parser(prog="ttx", description="Tabletop-exercise simulator for AI incident response.")
    parser.add_argument("--version", action="version", version=f"ttx {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for module in command_modules(command):
        module.register(sub)
    _name_subcommands(parser)
    return parser


def _command_in(argv: Sequence[str]) -> str | None:
    """The subcommand named on a command line (its first word that is not an option)."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


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


NUMERIC_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
"""Thread pools NumPy's BLAS starts as it is imported, one thread per core."""


def one_numeric_thread() -> None:
    """Ask NumPy's BLAS for one thread, unless the caller chose a number with either variable.

    The engine does element-wise array work and no linear algebra, so the pool OpenBLAS starts when
    NumPy is imported does nothing but cost ~0.1 s of CPU per ``ttx run`` and compete with the
    workers of a sweep; set before any command imports NumPy (and inherited by those workers). A
    caller's ``OMP_NUM_THREADS`` is left to decide (OpenBLAS's own variable would override it).
    """
    if not any(name in os.environ for name in NUMERIC_THREADS):
        os.environ["OPENBLAS_NUM_THREADS"] = "1"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ttx`` command: parse, run the subcommand, print any failure as one line."""
    one_numeric_thread()
    parser = build_parser(_command_in(sys.argv[1:] if argv is None else argv))
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
    try:
        return handler(args)
    except KeyboardInterrupt:
        print(f"\n{prog}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:
        if (_is(exc, "simulator.format.yamlsafe", "FileProblems")
                or _is(exc, "simulator.format.msel", "MselError")):
            problems = exc.problems  # type: ignore[attr-defined]
            for problem in problems:
                print(problem, file=sys.stderr)
            print_error(prog, problems_summary(problems))
            return 2
        if isinstance(exc, UsageError) or _is(exc, "simulator.engine.journal", "JournalError"):
            print_error(prog, str(exc))
            return 2
        if isinstance(exc, OSError):
            print_error(prog, os_error_text(exc))
            return 2
        raise


def _is(exc: BaseException, module: str, name: str) -> bool:
    """Whether ``exc`` is ``module.name`` — without importing the module (if it is not loaded, it is not)."""
    loaded = sys.modules.get(module)
    return loaded is not None and isinstance(exc, getattr(loaded, name))
