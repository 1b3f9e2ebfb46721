"""Start-up benchmark (run by hand: ``python tests/benchmarks/bench_startup.py``); prints JSON.

Whole-process wall and CPU time (user + system of the child) of ``ttx validate
scenarios/jailbreak-wave.yaml`` and ``ttx run jailbreak-wave``, best and median of several
launches, and which heavy libraries each imports. Targets: validate ≤ 0.3 s, run ≤ 0.5 s.

The checkout's bytecode is written first (``compileall``): a shell with ``PYTHONDONTWRITEBYTECODE``
(this machine's) would otherwise make every launch compile the sources, which no installed
``ttx`` does. ``--instructions`` also counts each command's instructions under valgrind
(``PYTHONHASHSEED=0``; one launch each, ~30 s), which the machine's load does not change.
"""

from __future__ import annotations

import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TTX = Path(sys.executable).parent / "ttx"
LAUNCHES = 7
COMMANDS = {"validate": ["validate", str(REPO / "scenarios" / "jailbreak-wave.yaml")],
            "run": ["run", "jailbreak-wave"]}
PROBE = ("import sys; sys.argv = ['ttx', *sys.argv[1:]]\n"
         "try:\n    from simulator.cli import main; main()\nfinally:\n"
         "    print(sorted(m for m in ('numpy', 'simpy', 'faker', 'textual') if m in sys.modules), "
         "file=sys.stderr)\n")


def launch(args: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``ttx`` process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([str(TTX), *args], capture_output=True, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def imported(args: list[str]) -> str:
    """The heavy libraries a command imports."""
    return subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          check=True).stderr.strip().splitlines()[-1]


def instructions(args: list[str]) -> int:
    """Instructions one ``ttx`` process executes (valgrind's callgrind, no output file)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    err = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", str(TTX), *args],
                         capture_output=True, text=True, check=True, env=env).stderr
    return int(err.rsplit("Collected : ", 1)[1].split()[0])


def main() -> None:
    for folder in ("simulator", "tui"):
        compileall.compile_dir(REPO / folder, quiet=1)
    out: dict[str, object] = {"load_average": os.getloadavg()[0]}
    for name, args in COMMANDS.items():
        launch(args)
        times = [launch(args) for _ in range(LAUNCHES)]
        walls, cpus = [w for w, _ in times], [c for _, c in times]
        figures: dict[str, object] = {"wall_best_s": round(min(walls), 3),
                                      "wall_median_s": round(statistics.median(walls), 3),
                                      "cpu_min_s": round(min(cpus), 3),
                                      "cpu_median_s": round(statistics.median(cpus), 3),
                                      "imports": imported(args)}
        if "--instructions" in sys.argv:
            figures["instructions"] = instructions(args)
        out[name] = figures
    out["targets_s"] = {"validate": 0.3, "run": 0.5}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
