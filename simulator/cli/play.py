"""``ttx play``: the hot-seat drill in the terminal. Textual is imported only when the command runs."""

from __future__ import annotations

import argparse
import gc
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simulator.cli.recording import add_recording_options, recording_target
from simulator.cli.runs import add_fork_options, fork_args, forking
from simulator.cli.usage import UsageError, seed_value, speed_value

if TYPE_CHECKING:
    from simulator.analysis.recording import Target
    from simulator.engine.session import Session
    from simulator.format.loader import LoadedScenario
    from tui.screens.briefing import Briefed

FLAGSHIP = "jailbreak-wave"
"""The scenario ``ttx play`` opens without an argument."""


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
    add_fork_options(p)
    add_recording_options(p)
    p.set_defaults(handler=cmd_play)


def cmd_play(args: argparse.Namespace) -> int:
    """Open the drill TUI on one scenario, or on the picker with ``--pick``."""
    if args.pick and args.scenario:
        raise UsageError("give a SCENARIO or --pick, not both")
    if not args.save_dir.is_dir():
        raise UsageError(f"--save-dir {args.save_dir}: no such folder")
    history = recording_target(args)
    if forking(args):
        return play_fork(args)
    if args.pick:
        from tui.app import run_picker

        run_picker(seed=args.seed, speed=args.speed, save_dir=args.save_dir, history=history)
        return 0
    gc.disable()  # until the drill is built: see build()
    try:
        return play_briefed(args, history)
    finally:
        gc.enable()


def play_briefed(args: argparse.Namespace, history: Target | None) -> int:
    """The drill's briefing first, then the drill, built after the briefing's first frame.

    The cyclic garbage collector is paused from here until the drill is built: up to the first
    frame it ran ~185 times (169 young, 15 middle, 1 full) over the imports' and Textual's first
    layouts' objects, ~5 % of the launch's instructions, and freed ~3,000 of them (~79,000 live);
    it runs again once the drill is built, after the frame (or when the app ends unbuilt).
    """
    from simulator.format.brief import builtin_brief

    name = args.scenario or FLAGSHIP
    briefed = builtin_brief(name)
    loaded: LoadedScenario | None = None
    brief: Briefed
    if briefed is None:  # a scenario file: its problems are printed before any screen opens
        from simulator.format.loader import load_scenario

        loaded = load_scenario(name)
        path, brief = Path(name), loaded.scenario
    else:  # a built-in (the tests validate each): its briefing shows first, its check follows
        path, brief = briefed
    from tui.app import Opening, run_drill

    def build() -> Session:
        """The hot-seat drill, built once its briefing shows (for a built-in, pydantic and the
        scenario check come after that frame too, with the engine's imports)."""
        from simulator.engine.session import LocalSession
        from simulator.format.loader import load_scenario

        gc.enable()
        return LocalSession(loaded or load_scenario(path), seed=args.seed, speed=args.speed)

    run_drill(Opening(brief, build), save_dir=args.save_dir, history=history)
    return 0


def play_fork(args: argparse.Namespace) -> int:
    """``ttx play --from J --at T``: the journal's drill up to T, handed to the players paused at T."""
    from simulator.engine.fork import ForkError, load_fork
    from simulator.engine.session import LocalSession
    from tui.app import run_drill

    origin, at, insist = fork_args(args)
    if args.seed is not None or args.pick:
        raise UsageError("--from keeps the journal's scenario and seed: leave out --seed and --pick")
    try:
        drill, loaded = load_fork(origin, at, insist)
    except ForkError as exc:
        raise UsageError(str(exc)) from None
    run_drill(LocalSession(loaded, speed=args.speed, drill=drill), save_dir=args.save_dir,
              history=recording_target(args))
    return 0
