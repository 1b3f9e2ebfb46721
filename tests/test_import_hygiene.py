"""The headless core never imports the TUI toolkit."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import simulator


def test_importing_every_simulator_module_leaves_textual_out():
    modules = sorted(m.name for m in pkgutil.walk_packages(simulator.__path__, "simulator."))
    assert "simulator.engine" in modules
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print('textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"
