"""Sweep benchmark (run by hand: ``python tests/benchmarks/bench_sweep.py [RUNS]``); prints JSON.

Runs of the flagship per second and per minute with 1 and 2 local workers, textbook and idle
policies on the same seeds (each seed's do-nothing baseline is simulated once and shared), best of
two. The wall time includes starting the worker processes; with 1 worker the CPU time per run is
given too (it depends less on other jobs sharing the machine). Targets: textbook + idle ≥ 10,000
runs per minute on 2 workers, and 2 workers ≥ 1.8× one.
"""

from __future__ import annotations

import json
import os
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


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rows = [measure(runs, workers, policies) for policies in (["textbook", "idle"], ["textbook"])
            for workers in (1, 2)]
    same = {tuple(r["fingerprint"] for r in rows if r["policies"] == n) for n in (1, 2)}
    print(json.dumps({"scenario": "jailbreak-wave", "cores": os.cpu_count(), "runs_per_policy": runs,
                      "results": [{k: v for k, v in r.items() if k != "fingerprint"} for r in rows],
                      "identical_across_workers": all(len(set(t)) == 1 for t in same)}, indent=2))


if __name__ == "__main__":
    main()
