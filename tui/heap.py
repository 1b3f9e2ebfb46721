"""Key presses without garbage-collector pauses: the objects alive once a screen is up are frozen.

A TUI process holds some 120,000 objects once its screen is up (Textual's widgets and caches, the
scenario, NumPy and the rest) and keeps nearly all of them to the end. Python's full collection
walks every one: about 100 ms, and a theme switch's restyle and repaint allocate enough to set one
off every fourth or fifth press, which was most of an SSH seat's worst key press → update times
(issue 11). :func:`gc.freeze` moves the objects alive now out of the collector's sight; later
ones are collected as before. Frozen objects that become garbage stay in memory: a few screens'
worth at most, as the app freezes only when a screen is first up, and it thaws everything when it
ends (:func:`thaw`), so a process that runs apps one after another (the tests) frees each.
"""

from __future__ import annotations

import gc


def freeze_what_is_alive() -> None:
    """Move every object alive now out of the garbage collector's sight: later full collections
    walk only the objects made after it."""
    gc.freeze()


def thaw() -> None:
    """Give every frozen object back to the garbage collector (the app has ended)."""
    gc.unfreeze()
