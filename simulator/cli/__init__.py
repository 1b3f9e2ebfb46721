"""The ``ttx`` command line: one module per group of subcommands, on top of every other layer.

Command modules parse arguments, call the core and print; they fail by raising
:class:`~simulator.cli.usage.UsageError` (or letting a core error through), and
:func:`~simulator.cli.main.main` prints that once as ``ttx CMD: error: …`` with exit status 2.
Only ``play`` and ``team`` (``ttx join``) import the TUI, and only when a terminal UI opens.
"""

from simulator.cli.main import main

__all__ = ["main"]
