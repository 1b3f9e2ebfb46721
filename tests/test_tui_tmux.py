"""`ttx play` in a real terminal: tmux runs it, keys go in, the screen text comes back out."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tmux import TmuxServer as Terminal
from tests.tmux import play_terminal, start_paused

pytestmark = pytest.mark.tmux  # skipped without tmux outside CI, failed in CI (tests/tools.py)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """``ttx play --seed 7`` running in a 100×30 tmux window, cwd ``tmp_path``; the server dies after."""
    term = play_terminal(f"ttx-test-{os.getpid()}", tmp_path, 100, 30)
    try:
        yield term
    finally:
        term.kill()


def test_taking_an_action_changes_the_incident_panel_and_the_feed(terminal: Terminal) -> None:
    """Start, pause, jump to the first inject, take the kill switch as IC (Enter, then t to what it
    cuts), then see its fallout arrive."""
    start_paused(terminal)
    before = terminal.screen()
    assert "NOT DECLARED" in before and "No mitigations yet." in before
    assert "Every enterprise customer" not in before

    terminal.keys("n")
    terminal.wait_for("0:15:00 TCKT")
    terminal.keys("Enter")
    asked = terminal.wait_for("IC: Take the assistant offline?")
    assert "turns off Atlas chat assistant" in asked, "the kill switch says what it cuts first"
    terminal.keys("t")
    after = terminal.wait_for(lambda s: "⧗ Take the assistant offline" in s and "0:20:00" in s)
    assert "ETA" in after and "0:20:00" in after
    assert "No mitigations yet." not in after

    terminal.keys("n")
    fallout = terminal.wait_for("Every enterprise customer")
    assert "✔ Take the assistant offline" in fallout
    assert "(2 unread)" in fallout
