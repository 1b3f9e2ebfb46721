"""What every ``ttx`` subcommand shares: the argument parser, the typed usage error, argument types."""

from __future__ import annotations

import argparse
import difflib
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

MAX_SPEED = 3600.0
"""Fastest clock a player may ask for (sim seconds per wall second)."""


class UsageError(Exception):
    """A mistake on the command line or in what it names: ``ttx CMD: error: MESSAGE``, exit status 2.

    Command modules raise it; :func:`simulator.cli.main.main` prints it once, the same way for all.
    """


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


def print_error(prog: str, message: str) -> None:
    """Print ``PROG: error: MESSAGE`` on stderr, the one way every ``ttx`` command reports a failure."""
    print(f"{prog}: error: {message}", file=sys.stderr)


def problems_summary(problems: Sequence[object]) -> str:
    """The closing line under located problems: ``2 problems in my.yaml (above)``."""
    files = sorted({m[1] for p in problems if (m := re.match(r"^(.+?):\d+:", str(p)))})
    where = f" in {' and '.join(files)}" if files else ""
    return f"{len(problems)} problem{'' if len(problems) == 1 else 's'}{where} (above)"


def os_error_text(exc: OSError) -> str:
    """An operating-system error as a person reads it: ``run.jsonl: no such folder out``."""
    if exc.filename is None:
        return str(exc)
    path = Path(os.fsdecode(exc.filename))
    if isinstance(exc, FileNotFoundError):
        folder = path.parent
        return f"{path}: no such file" if folder.is_dir() else f"{path}: no such folder {folder}"
    reasons = {PermissionError: "permission denied", IsADirectoryError: "is a folder, expected a file",
               NotADirectoryError: "a part of the path is a file, not a folder"}
    reason = next((text for kind, text in reasons.items() if isinstance(exc, kind)), None)
    return f"{path}: {reason or (exc.strerror or str(exc)).lower()}"


def unwritable(path: Path) -> str | None:
    """Why a file cannot be written at ``path``, or None when it can (``-`` is standard output)."""
    if str(path) == "-":
        return None
    if path.is_dir():
        return f"cannot write {path}: it is a folder; give a file name"
    folder = path.parent
    if not folder.exists():
        return f"cannot write {path}: no such folder {folder}"
    if not folder.is_dir():
        return f"cannot write {path}: {folder} is a file, not a folder"
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"cannot write {path}: permission denied"
    return None


def output_path(text: str) -> str:
    """Parse an output file argument (``--journal``, ``-o``, ``--csv``), checked before any work starts.

    Raises:
        argparse.ArgumentTypeError: the file could not be written (no such folder, a folder …).
    """
    problem = unwritable(Path(text))
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return text


def port_value(text: str) -> int:
    """Parse a TCP port (``--port``, ``--ssh``): a whole number from 0 (pick a free one) to 65535.

    Raises:
        argparse.ArgumentTypeError: not a whole number, or out of range.
    """
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number like 8765, found {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 (a free one) to 65535, found {text!r}")
    return port


def seed_value(text: str) -> int:
    """Parse ``--seed``: a whole number, 0 or more (every run is a function of it).

    Raises:
        argparse.ArgumentTypeError: not a whole number, or negative.
    """
    try:
        seed = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number like 7, found {text!r}") from None
    if seed < 0:
        raise argparse.ArgumentTypeError(f"expected a seed of 0 or more, found {text!r}")
    return seed


def speed_value(text: str) -> float:
    """Parse ``--speed``: a positive number of sim seconds per wall second (``1``, ``10``, ``60`` …).

    Raises:
        argparse.ArgumentTypeError: not a number, or outside (0, 3600].
    """
    try:
        speed = float(text.removesuffix("x").removesuffix("×"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a speed like 1, 10 or 60, found {text!r}") from None
    if not 0 < speed <= MAX_SPEED:
        raise argparse.ArgumentTypeError(
            f"expected a speed above 0 and at most {MAX_SPEED:g}, found {text!r}")
    return speed
