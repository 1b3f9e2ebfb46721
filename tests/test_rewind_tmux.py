"""Rewind from the review in a real terminal: end a drill, pick a timeline row, try again from there."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.engine.journal import read_journal
from tests.tmux import TmuxServer as Terminal
from tests.tmux import end_drill_in_terminal, play_terminal, start_paused

pytestmark = pytest.mark.tmux  # skipped without tmux outside CI, failed in CI (tests/tools.py)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """``ttx play --seed 7`` in a 110×34 tmux window, cwd ``tmp_path``."""
    term = play_terminal(f"ttx-rewind-{os.getpid()}", tmp_path, 110, 34)
    try:
        yield term
    finally:
        term.kill()


def test_the_review_rewinds_to_a_timeline_row_and_the_branch_is_compared_with_the_original(
        terminal: Terminal, tmp_path: Path) -> None:
    """Jump to the second inject and end the drill; on the review pick the first inject's row and press
    w: the briefing says what we know so far, the clock waits there; end again, and the new review puts
    this branch beside the original. Each end goes through the flagship's hot wash."""
    start_paused(terminal)
    terminal.keys("n")
    terminal.wait_for("0:15:00 TCKT")
    terminal.keys("n")
    terminal.wait_for("(2 unread)")
    end_drill_in_terminal(terminal)
    terminal.keys("Tab")  # from the scroll container to the timeline, its cursor on the first row
    terminal.wait_for("try again from the highlighted moment", timeout=60)  # once the notices have gone
    for _ in range(2):
        terminal.keys("Down")
    terminal.keys("w")
    briefing = terminal.wait_for("what you know so far")
    assert "Forked from ttx-jailbreak-wave-seed7-" in briefing
    saved = [p for p in tmp_path.iterdir() if p.suffix == ".jsonl"]
    assert len(saved) == 1, "the original drill was saved so the fork has a parent"

    terminal.keys("Enter")
    dashboard = terminal.wait_for("PAUSED")
    at = dashboard.split("sim ", 1)[1].split(" /", 1)[0]
    assert "0:00:00" < at < "1:00:00"
    review = end_drill_in_terminal(terminal, review="This branch vs the original")
    assert f"from {at}" in review
    parent = read_journal(saved[0])
    assert parent.header.get("fork") is None and parent.header["seed"] == 7
