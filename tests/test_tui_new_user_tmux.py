"""`ttx play` in a real terminal, as a first-time player drove it (issue 12): `q` asks first, the
regulator form takes the summary where it was typed, and nothing a player needs is cut at 80×24
or 120×35. tmux runs the program, keys go in, the screen text comes back out."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from simulator.engine.journal import read_journal
from tests.tmux import TmuxServer, end_drill_in_terminal, play_terminal

pytestmark = pytest.mark.tmux  # skipped without tmux outside CI, failed in CI (tests/tools.py)

Play = Callable[[int, int], TmuxServer]

WAIT = 60.0
"""Seconds a screen may take to show what a key led to (other test runs share the machine)."""


@pytest.fixture
def play(tmp_path: Path) -> Iterator[Play]:
    """Start ``ttx play --seed 7`` at a given size (cwd ``tmp_path``); it prints EXITED when it ends."""
    started: list[TmuxServer] = []

    def start(cols: int, rows: int) -> TmuxServer:
        term = play_terminal(f"ttx-newuser-{os.getpid()}", tmp_path, cols, rows)
        started.append(term)
        term.wait_for("Start the drill", timeout=WAIT)  # start-up is slow on a loaded machine
        term.keys("Enter")
        term.wait_for("Signals (what you can observe)", timeout=WAIT)
        term.keys("Space")
        term.wait_for("PAUSED", timeout=WAIT)
        return term

    try:
        yield start
    finally:
        for term in started:
            term.kill()


def test_q_in_a_running_drill_asks_and_only_y_quits(play: Play) -> None:
    """At 80×24: `q` shows the question instead of quitting; `n` goes back to the drill; `q` `y` quits."""
    term = play(80, 24)
    term.keys("q")
    question = term.wait_for("The drill is still running", timeout=WAIT)
    assert "Quit (y)" in question and "Stay (n)" in question
    term.keys("n")
    term.wait_for(lambda s: "The drill is still running" not in s and "Signals" in s, timeout=WAIT)
    assert "EXITED" not in term.screen()
    term.keys("q")
    term.wait_for("The drill is still running", timeout=WAIT)
    term.keys("y")
    term.wait_for("EXITED", timeout=WAIT)


def test_the_regulator_form_sends_the_authority_and_summary_as_typed(play: Play, tmp_path: Path) -> None:
    """Legal opens "Notify the regulator" from the palette and types at once: the authority (blank,
    focused: the model's "data protection authority" was wrong for the flagship's EU AI Act
    report), Enter, the summary, Enter: the saved journal holds both as typed (it once held
    authority = the summary)."""
    term = play(100, 30)
    term.keys("C-p")
    term.wait_for("Search for commands", timeout=WAIT)
    term.keys("Legal: Notify the regulator")
    term.wait_for("Legal: Notify the regulator", timeout=WAIT)
    term.keys("Enter")
    term.wait_for("summary (optional)", timeout=WAIT)
    term.keys("market surveillance authority")
    term.wait_for("market surveillance authority", timeout=WAIT)
    term.keys("Enter")
    term.keys("Serious incident, EU users affected")
    term.wait_for("Serious incident, EU users affected", timeout=WAIT)
    term.keys("Enter")
    term.wait_for(lambda s: "summary (optional)" not in s, timeout=WAIT)
    end_drill_in_terminal(term, timeout=WAIT)
    term.keys("s")
    term.wait_for("Saved", timeout=WAIT)
    journal = next(tmp_path.glob("ttx-*.jsonl"))
    sent = [e.payload["params"] for e in read_journal(journal).events
            if e.kind == "command" and e.payload["action"] == "notify_regulator"]
    assert sent == [{"authority": "market surveillance authority",
                     "summary": "Serious incident, EU users affected"}]


def test_at_120_columns_action_details_and_the_whole_footer_show(play: Play) -> None:
    """120×35, acting as ML with the injects focused: the rows say "needs IC approval" in full and the
    footer keeps every key, ending with "d Theme q Quit" (they were cut at "needs …" and lost)."""
    term = play(120, 35)
    term.keys("n", "n", "r")
    term.wait_for("needs IC approval", timeout=WAIT)
    term.keys("i")
    screen = term.wait_for("f Filter", timeout=WAIT)
    assert "stage 3 · 2h · needs IC approval" in screen
    first, last = screen.rstrip().splitlines()[-2:]  # the flagship's "w Questions" wraps the footer
    assert first.startswith("f Filter") and "w Questions" in first + last
    assert last.rstrip().endswith("d Theme q Quit")


def test_at_80_by_24_the_readings_and_every_key_show(play: Play) -> None:
    """80×24 after the report spike: the guard-confidence row keeps its reading and state (it was cut
    at "mean c…"), the footer wraps to a second line ending in "q Quit", and once the incident panel
    overflows its border says how much more there is."""
    term = play(80, 24)
    term.keys("n", "n")
    screen = term.wait_for(lambda s: "ALERT" in s and "Guard classifier confidence 0." in s
                           and s.rstrip().splitlines()[-1].rstrip().endswith("q Quit"), timeout=WAIT)
    guard = next(line for line in screen.splitlines() if "Guard classifier confidence" in line)
    assert re.search(r"confidence \d\.\d{3}  ok ", guard) and "…" not in guard
    assert screen.rstrip().splitlines()[-1].rstrip().endswith("q Quit")
    assert "? Help" in screen.splitlines()[-2]
    term.keys("Down", "Enter")
    term.wait_for("Submit (ctrl+s)", timeout=WAIT)
    term.keys("Enter")
    term.wait_for("Incident declared", timeout=WAIT)
    term.keys("r", "Enter")
    term.wait_for("⧗ Block known jailbreak prompts", timeout=WAIT)
    term.keys("Down", "Enter")
    term.wait_for(lambda s: "↓ " in s and "more (m, then ↑↓)" in s, timeout=WAIT)
