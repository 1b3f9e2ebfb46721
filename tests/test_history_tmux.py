"""The history in a real terminal: ``ttx play --team`` records each drill and its review names the team's
last run; ``ttx history --tui`` lists the drills and opens a review."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.analysis.history import open_history
from tests.tmux import TmuxServer as Terminal

TTX = Path(sys.executable).parent / "ttx"

pytestmark = pytest.mark.tmux  # skipped without tmux outside CI, failed in CI (tests/tools.py)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """A private tmux server (it inherits this test's private history through ``TTX_DB``)."""
    term = Terminal(f"ttx-history-test-{os.getpid()}")
    try:
        yield term
    finally:
        term.kill()


def run(term: Terminal, cwd: Path, command: str) -> None:
    """Start ``command`` in a fresh 100×30 window."""
    term.tmux("kill-session", "-t", "drill")
    term.tmux("new-session", "-d", "-s", "drill", "-x", "100", "-y", "30", "-c", str(cwd),
              f"stty cols 100 rows 30; exec {command}")


def play_and_end(term: Terminal, cwd: Path, injects: int) -> str:
    """Play the flagship as team Red, jump ``injects`` injects ahead, end it; the review's screen."""
    run(term, cwd, f"{TTX} play --seed 7 --team Red")
    term.wait_for("Start the drill")
    term.keys("Enter")
    term.wait_for("Signals (what you can observe)")
    for _ in range(injects):
        term.keys("n")
    term.keys("e")
    term.wait_for("go to the review?")
    term.keys("y")
    return term.wait_for("Recorded as")


def test_play_records_each_drill_and_the_review_shows_the_last_run(terminal: Terminal, tmp_path: Path,
                                                                   private_history: Path) -> None:
    first = play_and_end(terminal, tmp_path, 3)
    assert "Your last run of this drill" not in first
    terminal.keys("q")
    play_and_end(terminal, tmp_path, 1)
    second = terminal.wait_for("Your last run of this drill")
    assert "team Red" in second and "score " in second and "→" in second
    terminal.keys("q")
    with open_history(str(private_history), create=False) as history:
        assert [r.team for r in history.drills()] == ["Red", "Red"]


def test_history_tui_lists_the_drills_and_opens_a_review(terminal: Terminal, tmp_path: Path) -> None:
    play_and_end(terminal, tmp_path, 2)
    terminal.keys("q")
    run(terminal, tmp_path, f"{TTX} history --tui")
    listed = terminal.wait_for("jailbreak-wave")
    assert "Drill history · 1 drill(s)" in listed and "Red" in listed
    terminal.keys("Enter")
    review = terminal.wait_for("Score breakdown")
    assert "Score " in review and "/ 100" in review
    terminal.keys("Escape")
    terminal.wait_for("Drill history · 1 drill(s)")
    terminal.keys("q")
