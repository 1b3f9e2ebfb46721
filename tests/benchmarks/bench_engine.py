"""Engine benchmark (run by hand: ``python tests/benchmarks/bench_engine.py``); prints JSON.

Compares the aggregated engine on the flagship (4 h at ~10,000 requests/s, textbook policy)
with the per-output SimPy oracle over the same horizon at a reduced rate, normalised per
simulated output. Target: ≥ 1,000× faster per output.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from simulator.engine.policies import Textbook
from simulator.engine.rates import Shape
from simulator.engine.runner import baseline_of, run_policy
from simulator.format.loader import load_scenario
from simulator.format.scenario import Scenario
from tests.oracle import oracle_harm

ORACLE_RPS = 20.0


def outputs(scenario: Scenario) -> float:
    """Model outputs the scenario simulates over its duration."""
    total = 0.0
    for feature in scenario.features.values():
        shape, n = Shape(feature.shape), 2000
        dt = scenario.duration / n
        total += sum(feature.traffic_rps * shape((i + 0.5) * dt) * dt for i in range(n))
    return total


def main() -> None:
    loaded = load_scenario("jailbreak-wave")
    scenario = loaded.scenario
    for seed in range(3):
        baseline_of(loaded, seed)
    engine_ms = []
    for seed in range(20):
        baseline_of(loaded, seed)
        start = time.perf_counter()
        run_policy(loaded, Textbook(scenario), seed)
        engine_ms.append((time.perf_counter() - start) * 1000)
    slow = scenario.model_copy(update={"features": {
        "chat": scenario.features["chat"].model_copy(update={"traffic_rps": ORACLE_RPS})}})
    start = time.perf_counter()
    oracle_harm(slow, 1, scenario.duration)
    oracle_ms = (time.perf_counter() - start) * 1000
    engine_per_output = statistics.median(engine_ms) / outputs(scenario)
    oracle_per_output = oracle_ms / outputs(slow)
    print(json.dumps({
        "scenario": scenario.id,
        "simulated_hours": scenario.duration / 3600,
        "engine_outputs_simulated": round(outputs(scenario)),
        "engine_ms_per_run_median": round(statistics.median(engine_ms), 2),
        "engine_ms_per_run_p90": round(sorted(engine_ms)[int(0.9 * len(engine_ms))], 2),
        "oracle_rps": ORACLE_RPS,
        "oracle_outputs_simulated": round(outputs(slow)),
        "oracle_ms": round(oracle_ms, 1),
        "speedup_per_output": round(oracle_per_output / engine_per_output),
        "target_speedup": 1000,
    }, indent=2))


if __name__ == "__main__":
    main()
