"""Sweep benchmark (run by hand: ``python tests/benchmarks/bench_sweep.py [RUNS]``); prints JSON.

Runs of the flagship per second and per minute with 1 and 2 local workers, textbook and idle
policies on the same seeds (each seed's do-nothing baseline is simulated once and shared). The
wall time includes starting the worker processes. Target: thousands of runs per minute on 2 cores.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from simulator.sweep import make_spec, outcomes, run_sweep


def measure(runs_per_policy: int, workers: int, policies: list[str]) -> dict[str, float]:
    """One sweep over fresh seeds; runs counted over all policies."""
    spec = make_spec("jailbreak-wave", policies)
    seeds = list(range(100_000, 100_000 + runs_per_policy))
    start = time.perf_counter()
    result = run_sweep(spec, seeds, workers=workers)
    seconds = time.perf_counter() - start
    runs = len(result.runs)
    return {"workers": workers, "policies": len(policies), "runs": runs, "seconds": round(seconds, 2),
            "runs_per_second": round(runs / seconds, 1), "runs_per_minute": round(60 * runs / seconds),
            "fingerprint": hash(tuple(outcomes(result)))}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rows = [measure(runs, workers, policies) for policies in (["textbook", "idle"], ["textbook"])
            for workers in (1, 2)]
    same = {tuple(r["fingerprint"] for r in rows if r["policies"] == n) for n in (1, 2)}
    print(json.dumps({"scenario": "jailbreak-wave", "cores": os.cpu_count(), "runs_per_policy": runs,
                      "results": [{k: v for k, v in r.items() if k != "fingerprint"} for r in rows],
                      "identical_across_workers": all(len(set(t)) == 1 for t in same)}, indent=2))


if __name__ == "__main__":
    main()
