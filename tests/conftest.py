"""Shared fixtures: a small valid scenario to mutate, the flagship loaded once, a private drill history,
``ttx`` run in this process."""

from __future__ import annotations

import gc
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import pytest

from simulator.engine.drill import Drill
from simulator.engine.session import LocalSession, Session
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario, load_scenario
from tests.tools import pytest_runtest_setup

__all__ = ["MINIMAL", "TtxInProcess", "pytest_collection_finish", "pytest_runtest_setup",
           "pytest_runtest_teardown"]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Move what importing and collecting built (modules, test items: alive to the end anyway) out of the
    garbage collector's full passes. Textual allocates so much that those passes run every few
    seconds, each walking the whole heap; the TUI test files spend ~12% less CPU without re-walking
    these objects. They live to the end of the session anyway (at worst a little of what collection
    made is never freed), and no test asserts on them."""
    gc.collect()
    gc.freeze()


def pytest_runtest_teardown(item: pytest.Item) -> None:
    """Freeze again after a test that thawed everything (``gc.unfreeze``: a sweep that forks workers
    does, and its tests do), so the files after it keep the cheaper collections."""
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


MINIMAL = """\
id: mini
title: Minimal drill
summary: A small scenario for tests.
briefing: Something is wrong.
duration: 2h
roles: [ic, ml, comms]
features:
  chat:
    title: Chat
    traffic_rps: 50
streams:
  bad-advice:
    title: Bad advice
    harm_type: confabulation
    feature: chat
    harmful_fraction: {model: constant, value: 0.02}
signals:
  reports:
    kind: user_reports
    title: User reports
injects:
  - id: first
    at: 10m
    channel: pager
    sender: {name: "{name}", title: On-call}
    to: [ic]
    subject: Reports are up
    body: "Sample: {sample}"
    expects:
      - action: declare_incident
        within: 15m
        contingency: nudge
  - id: nudge
    contingency: true
    channel: chat
    sender: {name: VP, title: VP}
    to: [ic]
    subject: Anyone on this?
    body: Please declare.
actions:
  - id: filter
    title: Filter it
    roles: [ml]
    latency: 10m
    stage: 1
    effects:
      - {stream: bad-advice, harmful_multiplier: 0.1}
scoring:
  containment_threshold: 0.05
"""


class WriteScenario(Protocol):
    """The ``write_scenario`` fixture: write scenario text to ``tmp_path / name`` and return the path."""

    def __call__(self, text: str, name: str = "scenario.yaml") -> Path: ...


@pytest.fixture
def write_scenario(tmp_path: Path) -> WriteScenario:
    """Write scenario text to a file and return its path."""

    def write(text: str, name: str = "scenario.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


class TtxInProcess(Protocol):
    """The ``cli`` fixture: ``ttx ARGS`` in ``cwd``, answered as a subprocess would be."""

    def __call__(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]: ...


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> TtxInProcess:
    """Run ``ttx ARGS`` in this process (:func:`simulator.cli.main`) in ``cwd`` (default: where the test
    runs): its exit status (``SystemExit`` included, as argparse exits), stdout and stderr, as
    ``subprocess.run`` gives them, without the ~0.6 s of starting Python and importing ttx again.

    For tests of what a command does; what only a real process shows (the ``ttx`` entry point, exit
    codes as the shell sees them) stays with the subprocess helper in tests/test_cli.py, one test or
    more per command family."""

    def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        from simulator.cli import main  # here, not at the top: conftest must not load the CLI for every test

        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        try:
            status = main(list(args))
        except SystemExit as exited:
            status = exit_status(exited, sys.stderr)
        out = capsys.readouterr()
        return subprocess.CompletedProcess(["ttx", *args], status, out.out, out.err)

    return run


def exit_status(exited: SystemExit, stderr: Any) -> int:
    """The status a process leaving by ``exited`` gives its shell: an int as it is, ``None`` 0, any
    other code 1 (printed to ``stderr`` first, as Python does)."""
    if exited.code is None or isinstance(exited.code, int):
        return exited.code or 0
    print(exited.code, file=stderr)
    return 1


@pytest.fixture(scope="session")
def flagship() -> LoadedScenario:
    """The built-in flagship scenario."""
    return load_scenario("jailbreak-wave")


@pytest.fixture(autouse=True)
def private_history(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test records into a throwaway drill history, never the user's: ``TTX_DB`` (and, for code that
    asks platformdirs, ``XDG_DATA_HOME``) point into a fresh temporary folder, which subprocesses and tmux
    sessions inherit. Returns the database file (not created until something records)."""
    home = tmp_path_factory.mktemp("history")
    monkeypatch.setenv("TTX_DB", str(home / "history.sqlite"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg"))
    return home / "history.sqlite"


async def end_through_hot_wash(session: Session) -> None:
    """End the drill the way a facilitator does: ``end`` starts the hot wash (the clock stops and the
    hot-wash questions are asked), a second ``end`` closes them unanswered and the review follows.
    A hot seat without a hot wash ends on the first; a team seat ends twice, so its scenario must
    have a hot wash (every built-in has one)."""
    await session.end()
    if not isinstance(session, LocalSession) or session.drill.discussion.in_hot_wash:
        await session.end()


def end_drill_through_hot_wash(drill: Drill) -> None:
    """``end_drill`` on a bare drill, and again if that started the hot wash: the drill has ended."""
    drill.submit(Command(role="facilitator", action="end_drill"))
    if drill.discussion.in_hot_wash:
        drill.submit(Command(role="facilitator", action="end_drill"))


async def end_in_tui(pilot: Any) -> None:
    """``e`` ``y`` in the TUI as a user ends a drill: when that starts the hot wash, Esc postpones each
    hot-wash question as its dialog opens, and ``e`` ``y`` again ends the hot wash (a team's
    facilitator, who answers none, presses it at once); the review follows. ``pilot`` is a Textual
    ``Pilot``; the caller waits for the review as before."""
    from tui.screens.discussion import QuestionScreen

    app = pilot.app

    def in_hot_wash() -> bool:
        view = app.live().view
        return bool(view.hot_wash) and not view.ended

    await pilot.press("e", "y")
    for _ in range(100):
        await pilot.pause()
        if in_hot_wash() or app.review is not None:
            break
        await pilot.pause(0.05)
    while isinstance(app.screen, QuestionScreen) and app.screen.question.hot_wash:
        await pilot.press("escape")
        await pilot.pause()
    if in_hot_wash():
        await pilot.press("e", "y")
        await pilot.pause()


async def until(pilot: Any, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Let the app run until ``condition()`` holds (fails after ``timeout`` seconds: a loaded machine)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await pilot.pause(0.05)


async def take(app: Any, pilot: Any, action: str) -> None:
    """Highlight ``action`` in the action list and press enter on it, as a player does (``app``: a
    ``DrillApp`` on its dashboard; ``pilot``: its Textual ``Pilot``)."""
    from textual.widgets import OptionList

    actions = app.screen.query_one("#action-list", OptionList)
    actions.focus()
    actions.highlighted = actions.get_option_index(action)
    await pilot.press("enter")
    await pilot.pause()

