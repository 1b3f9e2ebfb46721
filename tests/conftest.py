"""Shared fixtures: a small valid scenario to mutate, the flagship loaded once, a private drill history."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import pytest

from simulator.engine.drill import Drill
from simulator.engine.session import LocalSession, Session
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario, load_scenario
from tests.tools import pytest_runtest_setup

__all__ = ["MINIMAL", "pytest_runtest_setup"]

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
