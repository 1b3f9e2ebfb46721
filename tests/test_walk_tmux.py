"""What a second first-time walk through ttx found, driven in a real terminal the way it was found:
tmux runs the program at the size the person had, keys go in, the screen text comes back out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tmux import EXITED, TTX, TmuxServer, sized_terminal

pytestmark = pytest.mark.tmux  # skipped without tmux outside CI, failed in CI (tests/tools.py)

WAIT = 180.0
"""Seconds a whole command may take on a loaded machine."""


@pytest.fixture
def terminals() -> Iterator[list[TmuxServer]]:
    """Terminals a test starts; each is killed after it."""
    started: list[TmuxServer] = []
    try:
        yield started
    finally:
        for term in started:
            term.kill()


def test_the_sweep_bar_at_80_columns_redraws_in_place(terminals: list[TmuxServer], tmp_path: Path) -> None:
    """A long sweep at 80 columns, stopped with Ctrl+C once the bar shows its rate: the bar with
    "… runs/s, about 480 s left" was wider than the terminal, which wrapped it, and every redraw left
    a copy on a line of its own (a screenful of bars). Now it redraws on one line, and it is gone
    when the summary of the runs done so far prints."""
    term = sized_terminal(f"ttx-walk-sweep-{os.getpid()}", tmp_path, 80, 24,
                          f"{TTX} sweep jailbreak-wave --runs 20000 --workers 1")
    terminals.append(term)
    term.wait_for(lambda screen: "runs/s" in screen and "left" in screen, timeout=WAIT, history=True)
    term.keys("C-c")
    screen = term.wait_for(EXITED, timeout=WAIT, history=True)
    assert "score median" in screen and "interrupted after" in screen
    assert [line for line in screen.splitlines() if line.startswith("[")] == []
