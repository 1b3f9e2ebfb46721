"""Open a page in headless Chromium and read back its DOM (the HTML report and charts tests)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.tools import program


def chromium_dom(page: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    """Load ``page`` in headless Chromium with no network extras; stdout is the DOM, stderr the log."""
    return subprocess.run(
        [str(program("chromium")), "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--no-first-run", "--enable-logging=stderr", f"--user-data-dir={profile}", "--dump-dom",
         page.as_uri()],
        capture_output=True, text=True, timeout=90)
