"""The programs tests need besides Python packages, never silently missing in CI.

Two kinds: the command-line checkers some tests run (ruff, mypy, lint-imports; :func:`tool`,
found in the venv first), and the programs some tests drive: ``tmux`` (real terminals) and
Chromium (the HTML report). A test marked ``@pytest.mark.tmux`` or ``@pytest.mark.chromium`` is
skipped, with the reason and how to install the program, only when it is truly absent (not on
PATH under any of its names) and the suite is not running in CI. In CI (``CI`` set, as CI
services and ``.ci/run`` do) a missing program fails those tests instead: a CI run that skipped
them would pass without testing.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

PROGRAMS = {"tmux": ("tmux",), "chromium": ("chromium", "chromium-browser")}
"""Each marker's program, under the names distributions install it as."""
PACKAGES = {"tmux": "tmux", "chromium": "chromium"}
"""The Debian package ``.ci/run`` installs for each."""


def in_ci() -> bool:
    """Whether this runs in CI (``CI`` set to ``true`` or ``1``, as CI services and ``.ci/run`` do)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def tool(name: str) -> str:
    """The path of the ``name`` executable: the one installed beside this Python (the venv's bin)
    first, then one on ``PATH``. Missing, it fails the calling test in CI and skips it elsewhere."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        missing = (f"{name} is neither beside {sys.executable} nor on PATH; "
                   "install the test extra: pip install -e '.[test]'")
        if in_ci():
            pytest.fail(missing)
        pytest.skip(missing)
    return found


def program(marker: str) -> str | None:
    """The path of the program a marker (``tmux``, ``chromium``) needs, or None when none of its
    names is on PATH."""
    return next((found for name in PROGRAMS[marker] if (found := shutil.which(name))), None)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (outside CI) or fail (in CI) a test whose program is missing, before its fixtures run."""
    for marker in PROGRAMS:
        if item.get_closest_marker(marker) is None or program(marker) is not None:
            continue
        names = " or ".join(PROGRAMS[marker])
        reason = (f"{names} is not on PATH: install it (apt-get install {PACKAGES[marker]}; "
                  ".ci/run does) to run this test")
        if in_ci():
            pytest.fail(f"CI={os.environ['CI']}: {reason}; in CI it must run, not skip", pytrace=False)
        pytest.skip(reason)
