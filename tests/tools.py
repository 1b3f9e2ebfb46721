"""The programs some tests drive: ``tmux`` (real terminals) and Chromium (the HTML report).

A test marked ``@pytest.mark.tmux`` or ``@pytest.mark.chromium`` is skipped, with the reason and
how to install the program, only when it is truly absent (not on PATH under any of its names)
and the suite is not running in CI. In CI (``CI`` set, as CI services and ``.ci/run`` do) a
missing program fails those tests instead: a CI run that skipped them would pass without testing.
"""

from __future__ import annotations

import os
import shutil

import pytest

NAMES = {"tmux": ("tmux",), "chromium": ("chromium", "chromium-browser")}
"""Each marker's program, under the names distributions install it as."""
PACKAGES = {"tmux": "tmux", "chromium": "chromium"}
"""The Debian package ``.ci/run`` installs for each."""


def tool(marker: str) -> str | None:
    """The path of the program a marker needs, or None when none of its names is on PATH."""
    return next((found for name in NAMES[marker] if (found := shutil.which(name))), None)


def in_ci() -> bool:
    """Whether the suite runs in CI: ``CI`` is set to anything but an empty, 0, false or no value."""
    return os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Skip (outside CI) or fail (in CI) a test whose program is missing, before its fixtures run."""
    for marker in NAMES:
        if item.get_closest_marker(marker) is None or tool(marker) is not None:
            continue
        names = " or ".join(NAMES[marker])
        reason = (f"{names} is not on PATH: install it (apt-get install {PACKAGES[marker]}; "
                  ".ci/run does) to run this test")
        if in_ci():
            pytest.fail(f"CI={os.environ['CI']}: {reason}; in CI it must run, not skip", pytrace=False)
        pytest.skip(reason)
