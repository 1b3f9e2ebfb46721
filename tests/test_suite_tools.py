"""The suite's own promise about tmux and Chromium: without them their tests are skipped with a
reason (and how to install them) outside CI, and fail in CI, where skipping would hide them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.tools import program

REPO = Path(__file__).resolve().parent.parent
NEEDS_TOOLS = ["tests/test_tui_tmux.py::test_taking_an_action_changes_the_incident_panel_and_the_feed",
               "tests/test_report.py::test_html_loads_in_headless_chromium"]
"""One test that drives tmux and one that drives Chromium."""


def pytest_without_tools(tmp_path: Path, ci: str | None) -> subprocess.CompletedProcess[str]:
    """``python -m pytest`` on :data:`NEEDS_TOOLS` with a PATH that holds neither program."""
    empty = tmp_path / "bin"
    empty.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env["PATH"] = str(empty)
    if ci is not None:
        env["CI"] = ci
    # Plugins the two tests do not use stay off: the child's own start-up is most of this test's cost.
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "-p", "no:randomly",
               "-p", "no:hypothesispytest", *NEEDS_TOOLS]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_outside_ci_a_missing_tool_skips_with_the_reason_and_the_fix(tmp_path: Path) -> None:
    run = pytest_without_tools(tmp_path, ci=None)
    assert run.returncode == 0, run.stdout[-3000:]
    assert "2 skipped" in run.stdout
    assert "tmux is not on PATH: install it (apt-get install tmux; .ci/run does)" in run.stdout
    assert "chromium or chromium-browser is not on PATH: install it (apt-get install chromium" in run.stdout


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_a_missing_tool_fails_instead_of_skipping(tmp_path: Path, ci: str) -> None:
    run = pytest_without_tools(tmp_path, ci=ci)
    assert run.returncode == 1, run.stdout[-3000:]
    assert "2 errors" in run.stdout and "skipped" not in run.stdout
    assert f"CI={ci}: tmux is not on PATH" in run.stdout and "in CI it must run, not skip" in run.stdout


def test_chromium_is_found_under_the_name_ubuntu_gives_it(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    browser = tmp_path / "chromium-browser"
    browser.write_text("#!/bin/sh\n")
    browser.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert program("chromium") == str(browser) and program("tmux") is None
