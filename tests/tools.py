"""The command-line checkers some tests run (ruff, mypy, lint-imports): found in the venv first, never
silently missing in CI."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest


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
