"""A hot-seat drill is not lost with its terminal: when ``ttx play`` ends without the players quitting
(the terminal closed, SIGHUP or SIGTERM), the drill so far is saved in the save folder and the
command says how to go on from it. Quitting on purpose (``q`` ``y``) still saves nothing."""

from __future__ import annotations

import os
import time
from pathlib import Path

from simulator.engine.journal import read_journal
from simulator.engine.session import LocalSession
from simulator.format.loader import LoadedScenario
from tests.conftest import until
from tests.tmux import play_terminal, start_paused
from tui.app import DrillApp, cut_short_line
from tui.screens.dashboard import DashboardScreen

SIZE = (100, 30)


def drill_app(flagship: LoadedScenario, tmp_path: Path) -> DrillApp:
    """The flagship at seed 7, clock paused, saving into ``tmp_path``, run as ``ttx play`` runs it
    (ending on SIGHUP and SIGTERM, keeping a drill cut short)."""
    app = DrillApp(LocalSession(flagship, seed=7), wall=lambda: 0.0, start_paused=True, save_dir=tmp_path)
    app.ends_on_signals = True
    return app


def journals(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jsonl"))


async def test_a_drill_ended_by_a_signal_is_saved_and_says_how_to_go_on(flagship: LoadedScenario,
                                                                         tmp_path: Path) -> None:
    """At the first inject (0:15) the terminal goes away: the app ends as SIGHUP ends it, and the
    journal of those fifteen minutes is in the save folder, with the command that goes on from there."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await app.live().next_inject()
        await pilot.pause()
        app.on_signal_to_end()
    assert app.cut_short is not None and journals(tmp_path) == [app.cut_short]
    kept = read_journal(app.cut_short)
    assert kept.events and kept.events[-1].t == 15 * 60
    assert cut_short_line(app) == (
        f"ttx play: ended at 0:15:00 without being quit; the drill so far is kept in {app.cut_short}: "
        f"ttx play --from {app.cut_short} --at 15m goes on from there")


async def test_quitting_on_purpose_saves_nothing(flagship: LoadedScenario, tmp_path: Path) -> None:
    """``q`` asks "nothing is saved", ``y`` agrees: no journal appears."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen))
        await pilot.press("q", "y")
        await pilot.pause()
    assert app.cut_short is None and journals(tmp_path) == []


async def test_a_drill_that_never_started_leaves_nothing(flagship: LoadedScenario, tmp_path: Path) -> None:
    """Ended on the briefing, before the drill: nothing to keep."""
    app = drill_app(flagship, tmp_path)
    async with app.run_test(size=SIZE):
        app.on_signal_to_end()
    assert app.cut_short is None and journals(tmp_path) == []


def test_closing_the_terminal_mid_drill_keeps_the_journal(tmp_path: Path) -> None:
    """In a real terminal: start the drill, step to the first inject, close the terminal (tmux
    kills the session: the program gets SIGHUP). The drill so far is in the folder it ran in."""
    term = play_terminal(f"ttx-cutshort-{os.getpid()}", tmp_path, 100, 30)
    try:
        start_paused(term)
        term.keys("n")
        term.wait_for("0:15:00 TCKT")
        term.tmux("kill-session", "-t", "drill")
        deadline = time.monotonic() + 20
        while not journals(tmp_path) and time.monotonic() < deadline:
            time.sleep(0.2)
        kept = journals(tmp_path)
        assert len(kept) == 1, "the drill's journal is kept"
        time.sleep(0.5)  # written whole before the process ends
        assert any(e.t >= 15 * 60 for e in read_journal(kept[0]).events), "up to the inject"
    finally:
        term.kill()


def test_ttx_play_does_not_outlive_its_closed_terminal(tmp_path: Path) -> None:
    """Closing the terminal on the briefing: the program ends within seconds, even though with its
    terminal gone Textual's shutdown can wait forever on its output thread (a process was found
    left behind, idle, 40 minutes after its tmux server was killed)."""
    term = play_terminal(f"ttx-outlive-{os.getpid()}", tmp_path, 100, 30)
    try:
        term.wait_for("Start the drill")
        shell = term.tmux("display-message", "-p", "-t", "drill", "#{pane_pid}").strip()
        children = Path(f"/proc/{shell}/task/{shell}/children").read_text().split()
        assert children, "ttx play runs in the pane"
        player = int(children[0])
    finally:
        term.kill()
    deadline = time.monotonic() + 15
    while Path(f"/proc/{player}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    status = Path(f"/proc/{player}/status")
    assert not status.exists() or "zombie" in status.read_text(), "ttx play still runs"
