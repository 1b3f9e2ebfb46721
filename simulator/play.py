"""``ttx play``: the hot-seat drill in the terminal. Textual is imported only when the command runs."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from simulator.cli import fail, print_problems

FLAGSHIP = "jailbreak-wave"
"""The scenario ``ttx play`` opens without an argument."""

MAX_SPEED = 3600.0
"""Fastest clock a player may ask for (sim seconds per wall second)."""


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


def register(sub: Any) -> None:
    """Add the ``play`` subcommand to the ``ttx`` parser."""
    p = sub.add_parser("play", help="play a drill in the terminal, every role at one keyboard (hot seat)")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO",
                   help=f"scenario file or built-in id (default: {FLAGSHIP})")
    p.add_argument("--pick", action="store_true", help="choose a built-in scenario from a list")
    p.add_argument("--seed", type=seed_value, default=None, help="seed (default: the scenario's)")
    p.add_argument("--speed", type=speed_value, default=1.0,
                   help="sim seconds per wall second (default: 1; keys 1/2/3 give 1×/10×/60×)")
    p.add_argument("--save-dir", type=Path, default=Path.cwd(), metavar="DIR",
                   help="where the review saves the journal and report (default: the current folder)")
    p.set_defaults(handler=cmd_play)


def cmd_play(args: argparse.Namespace) -> int:
    """Open the drill TUI on one scenario, or on the picker with ``--pick``."""
    from simulator.loader import load_scenario
    from simulator.yamlsafe import FileProblems

    if args.pick and args.scenario:
        return _play_fail("give a SCENARIO or --pick, not both")
    if not args.save_dir.is_dir():
        return _play_fail(f"--save-dir {args.save_dir}: no such folder")
    if args.pick:
        from tui.app import run_picker

        run_picker(seed=args.seed, speed=args.speed, save_dir=args.save_dir)
        return 0
    try:
        loaded = load_scenario(args.scenario or FLAGSHIP)
    except FileProblems as exc:
        return print_problems(exc.problems)
    except FileNotFoundError as exc:
        return _play_fail(str(exc))
    from simulator.session import LocalSession
    from tui.app import run_drill

    run_drill(LocalSession(loaded, seed=args.seed, speed=args.speed), save_dir=args.save_dir)
    return 0



def _play_fail(message: str) -> int:
    """A ``ttx play: error: …`` line and exit status 2."""
    return fail(message, prog="ttx play")
