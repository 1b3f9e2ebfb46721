"""Answering a discussion question in `ttx play` in a real 80×24 terminal: tmux runs it, keys go in,
the screen text comes back out."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.discussion_scenario import DISCUSSION
from tests.tmux import TmuxServer as Terminal
from tests.tmux import start_paused
from tui.app import KEY_GRACE

TTX = Path(sys.executable).parent / "ttx"

pytestmark = pytest.mark.tmux  # skipped without tmux outside CI, failed in CI (tests/tools.py)


@pytest.fixture
def terminal(tmp_path: Path) -> Iterator[Terminal]:
    """``ttx play`` of the discussion scenario (seed 7) in an 80×24 tmux window; the server dies after."""
    (tmp_path / "discussion.yaml").write_text(DISCUSSION, encoding="utf-8")
    term = Terminal(f"discussui-test-{os.getpid()}")
    term.tmux("new-session", "-d", "-s", "drill", "-x", "80", "-y", "24", "-c", str(tmp_path),
              f"stty cols 80 rows 24; exec {TTX} play discussion.yaml --seed 7")
    try:
        yield term
    finally:
        term.kill()


def test_a_question_is_answered_with_a_confidence_and_its_expected_answer_follows(terminal: Terminal) -> None:
    """Jumping past 5m opens the question dialog at 80×24 with the prompt, both options, the slider
    and the keys; ↓ picks, → → raises the confidence to 60 %, Enter answers, the closed question's
    expected answer and why are shown in full (nothing covers them), and Enter opens the next
    question with no notice over it."""
    start_paused(terminal)
    terminal.keys("n")
    dialog = terminal.wait_for(lambda screen: "Who has the authority to take the model offline?" in screen
                               and "esc Later" in screen)
    for shown in ("Question for IC, ML", "The incident commander, on their own authority",
                  "Only an executive", "50 %", "esc Later"):
        assert shown in dialog, shown
    time.sleep(KEY_GRACE)  # it opened by itself: it takes keys once a person could have read it
    terminal.keys("Down", "Tab", "Right", "Right")
    assert "60 %" in terminal.wait_for("60 %")
    terminal.keys("Enter")
    closed = terminal.wait_for(lambda screen: "Question closed" in screen and "Next question" in screen)
    assert "Expected: The incident commander, on their own authority." in closed
    assert "hours." in closed, "the why, to its last word"
    terminal.keys("Enter")
    after = terminal.wait_for(lambda screen: "Who must be told in the first hour?" in screen
                              and "esc Later" in screen)
    assert "Question closed" not in after and "Submit (enter)" in after, "no notice covers the dialog"
    time.sleep(KEY_GRACE)
    terminal.keys("Escape")
    feed = terminal.wait_for("QSTN")
    assert "Who has the authority" in feed
