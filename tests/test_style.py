"""The code stays as the style guide asks: ruff clean and strictly typed (the tools from pyproject.toml).

The tools come from the test extra (``pip install -e '.[test]'``). In CI (``CI=true``) a missing
tool fails these tests; elsewhere they skip and say which tool is missing, so a check is never
passed by not running it.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

from tests.tools import tool

REPO = Path(__file__).resolve().parent.parent
CHECKED = ("simulator", "tui", "tests")
"""What ruff and mypy check: the whole code base, the tests included."""


def test_ruff_finds_nothing() -> None:
    """``ruff check`` passes over the code and the tests."""
    out = subprocess.run([tool("ruff"), "check", *CHECKED], cwd=REPO, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_strict_passes_on_the_code_and_the_tests() -> None:
    """A bare ``mypy`` checks the code and the tests under ``strict`` (pyproject.toml), and passes."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert config["strict"] is True
    assert set(CHECKED) <= set(config["packages"]), "mypy must check the tests too"
    out = subprocess.run([tool("mypy")], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("Success: no issues found"), out.stdout
