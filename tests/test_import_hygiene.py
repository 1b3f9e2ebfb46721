"""The headless core never imports the TUI toolkit or the command line, and the layers import one way."""

from __future__ import annotations

import ast
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import simulator
from tests.tools import tool

ROOT = Path(__file__).resolve().parents[1]


def core_modules() -> list[str]:
    """Every module of the headless core: ``simulator`` less its command line."""
    names = (m.name for m in pkgutil.walk_packages(simulator.__path__, "simulator."))
    return sorted(n for n in names if not n.startswith("simulator.cli"))


def test_importing_every_core_module_leaves_textual_out() -> None:
    """Importing the whole core (format, engine, team, analysis) never loads textual."""
    modules = core_modules()
    assert "simulator.engine.drill" in modules
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'tui')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_layer_contracts_hold_for_every_import_including_those_inside_functions() -> None:
    """``lint-imports`` checks the contracts in pyproject.toml: format ← engine ← team / analysis ← cli,
    and neither the core nor the TUI imports the command line (a lazy import counts as much as a top one).
    """
    out = subprocess.run([tool("lint-imports"), "--no-cache"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Contracts: " in out.stdout and " broken" in out.stdout
    assert "0 broken" in out.stdout, out.stdout


def test_no_module_of_simulator_or_tui_is_part_of_an_import_cycle() -> None:
    """Every import counts, lazy ones inside functions too (grimp reads the source, not what ran)."""
    import grimp

    graph = grimp.build_graph("simulator", "tui", cache_dir=None)
    cycles = [(a, b) for a in graph.modules for b in graph.find_modules_directly_imported_by(a)
              if graph.chain_exists(importer=b, imported=a)]
    assert cycles == []


def test_the_scenario_models_are_built_when_a_scenario_is_first_read_not_when_imported() -> None:
    """Importing the scenario format builds no validator (``defer_build``): ``ttx validate`` and
    ``ttx run`` build the one for a whole scenario as they read the file, not one per model at start-up."""
    code = ("from simulator.format import scenario\n"
            "print(scenario.Inject.__pydantic_complete__, scenario.Scenario.__pydantic_complete__)\n"
            "from simulator.format.loader import load_scenario\n"
            "load_scenario('jailbreak-wave')\n"
            "print(scenario.Scenario.__pydantic_complete__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False", "True"]


def imported_after(code: str, modules: tuple[str, ...] = ("numpy", "simpy", "faker")) -> list[str]:
    """Which of ``modules`` a fresh interpreter has loaded after running ``code``."""
    probe = f"{code}\nimport sys\nprint(sorted(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return list(ast.literal_eval(out.stdout.strip()))


def test_the_tui_and_the_session_protocol_load_no_engine_so_the_briefing_shows_first() -> None:
    """``ttx play`` draws the briefing from the scenario alone: the app, its screens and the session
    protocol import neither NumPy nor SimPy (~0.2 s); the engine is imported when the drill is built,
    after the briefing's first frame (``tui.app.Opening``)."""
    assert imported_after("import tui.app, simulator.engine.session, simulator.engine.clock\n"
                          "from simulator.format.loader import load_scenario\n"
                          "load_scenario('jailbreak-wave')") == []
    assert imported_after("from simulator.engine.session import LocalSession\n"
                          "from simulator.format.loader import load_scenario\n"
                          "LocalSession(load_scenario('jailbreak-wave'), seed=7)") == ["numpy", "simpy"]


BRIEFING_KEEPS_OUT = ("pydantic", "pydantic_core", "numpy", "simpy", "faker", "sqlalchemy",
                      "simulator.format.scenario", "simulator.format.commands", "simulator.format.loader",
                      "tui.screens.dashboard", "tui.screens.dialogs", "tui.screens.discussion",
                      "tui.screens.help", "tui.screens.picker", "tui.screens.review")
"""What ``ttx play`` on a built-in does not import before the briefing's first frame: pydantic and the
scenario models (~0.1 s; the scenario is checked after the frame, with the engine), and the screens
and dialogs that only later show (~25 ms)."""


def test_a_built_in_briefing_is_drawn_without_pydantic_or_the_later_screens() -> None:
    """The app, the briefing and the built-in's brief load none of :data:`BRIEFING_KEEPS_OUT`; the
    drill the briefing opens onto loads them (the check, then the engine)."""
    briefing = ("import tui.app\nfrom simulator.format.brief import builtin_brief\n"
                "assert builtin_brief('jailbreak-wave') is not None")
    assert imported_after(briefing, BRIEFING_KEEPS_OUT) == []
    play = ("import simulator.cli.play\nfrom simulator.cli.main import build_parser\n"
            "from unittest import mock\n"
            "args = build_parser('play').parse_args(['play', '--seed', '7'])\n"
            "with mock.patch('tui.app.run_drill') as run:\n"
            "    simulator.cli.play.cmd_play(args)\n"
            "assert run.call_count == 1")
    assert imported_after(play, BRIEFING_KEEPS_OUT) == [], "ttx play itself, up to the app"
    built = briefing + "\nfrom tui.app import DrillApp\nimport tui.screens.dashboard, tui.screens.dialogs"
    assert "pydantic" in imported_after(built, BRIEFING_KEEPS_OUT), "the later screens do load it"


def test_ttx_runs_numpy_with_one_blas_thread_unless_told_otherwise() -> None:
    """``ttx run`` imports NumPy, whose OpenBLAS would start a thread per core (~0.1 s of CPU, nothing
    to do: the engine does no linear algebra); the command line asks for one, and keeps a caller's choice."""
    code = ("import os, sys\nfrom simulator.cli.main import main\n"
            "main(['run', 'jailbreak-wave', '--json'])\n"
            "print(os.environ['OPENBLAS_NUM_THREADS'], len(os.listdir('/proc/self/task')), file=sys.stderr)")
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stderr.split() == ["1", "1"], "one BLAS thread: the process has no other"
    chosen = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**env, "OPENBLAS_NUM_THREADS": "2"})
    assert chosen.stderr.split()[0] == "2"
    omp = subprocess.run([sys.executable, "-c", code.replace("os.environ['OPENBLAS_NUM_THREADS']",
                                                             "os.environ.get('OPENBLAS_NUM_THREADS')")],
                         capture_output=True, text=True, timeout=60, env={**env, "OMP_NUM_THREADS": "2"})
    assert omp.stderr.split()[0] == "None", "a caller's OMP_NUM_THREADS is not overridden"
