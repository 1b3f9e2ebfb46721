"""The history in a real terminal: ``ttx play --team`` records each drill and its review names the team's
last run; ``ttx history --tui`` lists the drills and opens a review."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from simulator.analysis.history import open_history
from tests.tmux import TmuxServer as Terminal
from tests.tmux import end_drill_in_terminal

TTX = Path(sys.executable).parent / "ttx"

pytestmark = pytest.mark.tmux  # skipped without tmux outside CI, failed in CI (tests/tools.py)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """A private tmux server (it inherits this test's private history through ``TTX_DB``), kept alive by
    an idle session so one program can quit and the next start without racing the server's exit."""
    term = Terminal(f"ttx-history-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")  # no dying server reused
    term.tmux("new-session", "-d", "-s", "keep", "cat", check=True)
    try:
        yield term
    finally:
        term.kill()


def run(term: Terminal, cwd: Path, command: str) -> None:
    """Start ``command`` in a fresh 100×30 session of its own, which the calls after address."""
    name = f"drill-{len(term.tmux('list-sessions', '-F', '#S').split())}"
    term.tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", "-c", str(cwd),
              f"stty cols 100 rows 30; exec {command}", check=True)
    term.target = name


def play_and_end(term: Terminal, cwd: Path, injects: int) -> str:
    """Play the flagship as team Red, jump ``injects`` injects ahead, end it (through its hot wash); the
    review's screen."""
    run(term, cwd, f"{TTX} play --seed 7 --team Red")
    term.wait_for("Start the drill")
    term.keys("Enter")
    term.wait_for("Signals (what you can observe)")
    for _ in range(injects):
        term.keys("n")
    return end_drill_in_terminal(term, review="Recorded as")


def test_play_records_each_drill_and_the_review_shows_the_last_run(terminal: Terminal, tmp_path: Path,
                                                                   private_history: Path) -> None:
    first = play_and_end(terminal, tmp_path, 3)
    assert "Your last run of this drill" not in first
    terminal.keys("q")
    play_and_end(terminal, tmp_path, 1)
    # the hot wash's notices may cover the line for a few seconds: wait until it reads in full
    second = terminal.wait_for(lambda s: "Your last run of this drill" in s
                               and all(part in s for part in ("team Red", "score ", "→")))
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
