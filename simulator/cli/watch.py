"""``ttx watch JOURNAL``: play a recorded drill back in the dashboard, the hidden truth on."""

from __future__ import annotations

import argparse
from typing import Any

from simulator.cli.usage import speed_value


def register(sub: Any) -> None:
    """Add ``watch`` to the ``ttx`` subcommands."""
    p = sub.add_parser("watch", help="play a recorded drill back in the dashboard (for the debrief)",
                       description="Play a journal back: the truth on, pause, 1x/10x/60x, jump between "
                                   "decisions, injects and alerts, seek to a time.")
    p.add_argument("journal", metavar="JOURNAL", help="a journal (hot seat, team, bot or a crashed drill's)")
    p.add_argument("--scenario", help="scenario file to use instead of the one the journal names")
    p.add_argument("--speed", type=speed_value, default=10.0,
                   help="sim seconds per wall second to start with (default 10; keys 1/2/3 give 1×/10×/60×)")
    p.set_defaults(handler=cmd_watch)


def cmd_watch(args: argparse.Namespace) -> int:
    """Open the dashboard on a playback of the journal."""
    from simulator.engine.playback import Playback
    from simulator.engine.replay import load_journal_scenario
    from tui.watch import run_watch

    journal, loaded = load_journal_scenario(args.journal, args.scenario)
    run_watch(Playback(journal, loaded, args.journal, speed=args.speed))
    return 0
