"""Sweep benchmark (by hand: ``python tests/benchmarks/bench_sweep.py [RUNS] [--command [TREE]]``).

Prints JSON.

Runs of the flagship per second and per minute with 1 and 2 local workers, textbook and idle
policies on the same seeds (each seed's do-nothing baseline is simulated once and shared), best of
two. The wall time includes starting the worker processes; with 1 worker the CPU time per run is
given too (it depends less on other jobs sharing the machine). Targets: textbook + idle ≥ 10,000
runs per minute on 2 workers, and 2 workers ≥ 1.8× one.

``--command`` times the target itself instead, as whole processes: ``ttx sweep jailbreak-wave --policy
textbook --policy idle --runs RUNS --workers W --quiet`` (default 5,000 runs) with 2 and 1 workers,
alternating, best of two each, wall time and the CPU time of the process and its workers. Given a
TREE (another checkout), the same command of that tree runs right after each one, in the same
conditions, for a before/after comparison.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from simulator.analysis.sweep import make_spec, outcomes, run_sweep


def measure(runs_per_policy: int, workers: int, policies: list[str], repeat: int = 2) -> dict[str, float]:
    """Best of ``repeat`` sweeps over the same fresh seeds (in-process caches cleared between them)."""
    from simulator.analysis import sweep
    from simulator.engine import baseline

    spec = make_spec("jailbreak-wave", policies)
    seeds = list(range(100_000, 100_000 + runs_per_policy))
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        baseline._cache.clear()
        sweep._prepared.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        result = run_sweep(spec, seeds, workers=workers)
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    seconds, cpu_seconds = best
    runs = len(result.runs)
    row: dict[str, float] = {
        "workers": workers, "policies": len(policies), "runs": runs, "seconds": round(seconds, 2),
        "runs_per_second": round(runs / seconds, 1), "runs_per_minute": round(60 * runs / seconds),
        "fingerprint": hash(tuple(outcomes(result)))}
    if workers == 1:
        row["cpu_ms_per_run"] = round(1000 * cpu_seconds / runs, 1)
    return row


def command(runs_per_policy: int, workers: int, tree: Path) -> tuple[float, float]:
    """Wall and CPU seconds (the process and its reaped workers) of one ``ttx sweep`` from ``tree``."""
    args = [sys.executable, "-m", "simulator.cli", "sweep", "jailbreak-wave", "--policy", "textbook",
            "--policy", "idle", "--runs", str(runs_per_policy), "--workers", str(workers), "--quiet"]
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(args, env=env, cwd=tree, check=True, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def commands(runs_per_policy: int, trees: list[Path], repeat: int = 2) -> dict[str, object]:
    """The target command on 2 and 1 workers from each tree, alternating; best wall time of each."""
    best: dict[tuple[str, int], tuple[float, float]] = {}
    loads = [os.getloadavg()[0]]
    for _ in range(repeat):
        for workers in (2, 1):
            for tree in trees:
                got = command(runs_per_policy, workers, tree)
                key = (str(tree), workers)
                best[key] = min(best.get(key, got), got)
                loads.append(os.getloadavg()[0])
    runs = 2 * runs_per_policy
    rows = [{"tree": tree, "workers": workers, "seconds": round(wall, 2),
             "runs_per_minute": round(60 * runs / wall), "cpu_ms_per_run": round(1000 * cpu / runs, 2)}
            for (tree, workers), (wall, cpu) in best.items()]
    scaling = {str(tree): round(best[(str(tree), 1)][0] / best[(str(tree), 2)][0], 2) for tree in trees}
    return {"command": f"ttx sweep jailbreak-wave --policy textbook --policy idle --runs {runs_per_policy}",
            "load_average": [round(min(loads), 1), round(max(loads), 1)], "results": rows,
            "two_workers_over_one": scaling}


def main() -> None:
    if {"-h", "--help"} & set(sys.argv):
        print(__doc__)
        return
    if "--command" in sys.argv:
        rest = sys.argv[sys.argv.index("--command") + 1:]
        numbers = [a for a in sys.argv[1:] if a.isdigit()]
        trees = [Path(__file__).resolve().parents[2]] + [Path(a).resolve() for a in rest if not a.isdigit()]
        print(json.dumps(commands(int(numbers[0]) if numbers else 5000, trees), indent=2))
        return
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rows = [measure(runs, workers, policies) for policies in (["textbook", "idle"], ["textbook"])
            for workers in (1, 2)]
    same = {tuple(r["fingerprint"] for r in rows if r["policies"] == n) for n in (1, 2)}
    print(json.dumps({"scenario": "jailbreak-wave", "cores": os.cpu_count(), "runs_per_policy": runs,
                      "results": [{k: v for k, v in r.items() if k != "fingerprint"} for r in rows],
                      "identical_across_workers": all(len(set(t)) == 1 for t in same)}, indent=2))


if __name__ == "__main__":
    main()
