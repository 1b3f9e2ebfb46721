"""Engine benchmark (run by hand: ``python tests/benchmarks/bench_engine.py [--compare PATH]``); prints JSON.

CPU time (``process_time``, so other jobs on the machine weigh less than on a wall clock) of:

- the flagship (4 h at ~10,000 requests/s) played by the textbook bot, as a sweep plays it (no
  per-tick events, no inject text) and as ``ttx run --journal`` does (every event built);
- its do-nothing baseline;
- the 5-day ``sycophancy-drift`` played by the textbook bot;
- beside them, in the same process, the per-output SimPy oracle over the flagship's horizon at a
  reduced rate, normalised per simulated output.

The same medians are then taken again with the garbage collector set up as a ``ttx sweep`` worker
sets it (``cpu_ms_median_in_a_sweep_worker``); the headline figures and the speedup keep Python's
defaults.

Each figure is the median of many runs, taken in rounds that alternate the workloads. Targets:
textbook ≤ 5 ms, baseline ≤ 2 ms, sycophancy-drift ≤ 10 ms, ≥ 200,000× per output vs the oracle.
With ``--compare PATH`` (a checkout of an earlier version, e.g. ``git archive`` of ``layout``) the
same figures of that version are measured in a subprocess right after, for the ratio.

CPU time on a loaded machine is noisy; instruction counts are not. ``--instructions WORKLOAD N``
(``textbook``, ``journal``, ``baseline`` or ``drift``) runs N runs of one workload on fixed seeds
under callgrind, counting only the runs themselves (``callgrind_control`` switches the count on after
the imports and warm-up runs and off after the last run), and prints instructions per run::

    PYTHONHASHSEED=0 python tests/benchmarks/bench_engine.py --instructions textbook 10
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from simulator.engine import baseline
from simulator.engine.policies import Textbook
from simulator.engine.rates import Shape
from simulator.engine.runner import baseline_of, run_policy
from simulator.format.loader import LoadedScenario, load_scenario
from simulator.format.scenario import Scenario
from tests.oracle import oracle_harm

ORACLE_RPS = 20.0
ROUNDS = 5
RUNS_PER_ROUND = 20


def outputs(scenario: Scenario) -> float:
    """Model outputs the scenario simulates over its duration."""
    total = 0.0
    for feature in scenario.features.values():
        shape, n = Shape(feature.shape), 2000
        dt = scenario.duration / n
        total += sum(feature.traffic_rps * shape((i + 0.5) * dt) * dt for i in range(n))
    return total


def cpu_ms(work: Callable[[int], object], seeds: range) -> list[float]:
    """CPU milliseconds of ``work(seed)`` for each seed."""
    out = []
    for seed in seeds:
        start = time.process_time()
        work(seed)
        out.append((time.process_time() - start) * 1000)
    return out


def textbook(loaded: LoadedScenario, journal: bool) -> Callable[[int], object]:
    """A textbook run on a seed whose baseline is cached (as in a sweep, where idle runs first)."""
    def run(seed: int) -> object:
        return run_policy(loaded, Textbook(loaded.scenario), seed, journal=journal)
    return run


def measure(loaded: LoadedScenario, drift: LoadedScenario) -> dict[str, float]:
    """Median CPU ms per run of each workload, over alternating rounds."""
    samples: dict[str, list[float]] = {"textbook": [], "textbook_journal": [], "baseline": [],
                                       "sycophancy_drift": []}
    for r in range(ROUNDS):
        seeds = range(1000 * (r + 1), 1000 * (r + 1) + RUNS_PER_ROUND)
        samples["baseline"] += cpu_ms(lambda s: baseline_of(loaded, s), seeds)
        samples["textbook"] += cpu_ms(textbook(loaded, journal=False), seeds)
        samples["textbook_journal"] += cpu_ms(textbook(loaded, journal=True), seeds)
        for s in seeds[:5]:
            baseline_of(drift, s)
        samples["sycophancy_drift"] += cpu_ms(textbook(drift, journal=False), seeds[:5])
        baseline._cache.clear()
    return {k: round(statistics.median(v), 2) for k, v in samples.items()}


def in_a_sweep_worker(loaded: LoadedScenario, drift: LoadedScenario) -> dict[str, float]:
    """The same medians with the collector set up as a sweep worker sets it (``_init_worker``: what is
    loaded frozen, generation 0 collected every ``WORKER_GC_THRESHOLD`` allocations), restored after.
    The headline figures keep Python's defaults; this is what a run costs inside ``ttx sweep``."""
    import gc

    from simulator.analysis.sweep import WORKER_GC_THRESHOLD

    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(WORKER_GC_THRESHOLD, *before[1:])
    try:
        return measure(loaded, drift)
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def main() -> None:
    loaded, drift = load_scenario("jailbreak-wave"), load_scenario("sycophancy-drift")
    scenario = loaded.scenario
    for seed in range(3):
        baseline_of(loaded, seed)
        run_policy(loaded, Textbook(scenario), seed)
    figures = measure(loaded, drift)
    worker = in_a_sweep_worker(loaded, drift)
    slow = scenario.model_copy(update={"features": {
        "chat": scenario.features["chat"].model_copy(update={"traffic_rps": ORACLE_RPS})}})
    start = time.process_time()
    oracle_harm(slow, 1, scenario.duration)
    oracle_ms = (time.process_time() - start) * 1000
    speedup = (oracle_ms / outputs(slow)) / (figures["textbook"] / outputs(scenario))
    report: dict[str, object] = {
        "scenario": scenario.id, "simulated_hours": scenario.duration / 3600,
        "load_average": os.getloadavg()[0], "cpu_ms_median": figures,
        "cpu_ms_median_in_a_sweep_worker": worker,
        "engine_outputs_simulated": round(outputs(scenario)),
        "oracle_rps": ORACLE_RPS, "oracle_outputs_simulated": round(outputs(slow)),
        "oracle_cpu_ms": round(oracle_ms, 1), "speedup_per_output": round(speedup),
        "targets": {"textbook": 5, "baseline": 2, "sycophancy_drift": 10, "speedup_per_output": 200_000},
    }
    if "--compare" in sys.argv:
        report["earlier"] = earlier(Path(sys.argv[sys.argv.index("--compare") + 1]))
    print(json.dumps(report, indent=2))


EARLIER = """
import inspect, statistics, time
from simulator.engine import baseline
from simulator.engine.policies import Textbook
from simulator.engine.runner import baseline_of, run_policy
from simulator.format.loader import load_scenario
loaded, drift = load_scenario("jailbreak-wave"), load_scenario("sycophancy-drift")
sweep = {"journal": False} if "journal" in inspect.signature(run_policy).parameters else {}
def cpu(work, seeds):
    out = []
    for s in seeds:
        t = time.process_time(); work(s); out.append((time.process_time() - t) * 1000)
    return out
for s in range(3): baseline_of(loaded, s); run_policy(loaded, Textbook(loaded.scenario), s)
b, t, j, d = [], [], [], []
for r in range(ROUNDS):
    seeds = range(1000 * (r + 1), 1000 * (r + 1) + RUNS)
    b += cpu(lambda s: baseline_of(loaded, s), seeds)
    t += cpu(lambda s: run_policy(loaded, Textbook(loaded.scenario), s, **sweep), seeds)
    j += cpu(lambda s: run_policy(loaded, Textbook(loaded.scenario), s), seeds)
    for s in seeds[:5]: baseline_of(drift, s)
    d += cpu(lambda s: run_policy(drift, Textbook(drift.scenario), s, **sweep), seeds[:5])
    baseline._cache.clear()
print(*(round(statistics.median(x), 2) for x in (t, j, b, d)), bool(sweep))
"""


def earlier(path: Path) -> dict[str, float | bool]:
    """The same figures in an earlier checkout (same interpreter, same rounds); ``textbook`` is its
    sweep-mode run where it has one (``sweep_mode``), else its only kind of run."""
    env = {**os.environ, "PYTHONPATH": str(path)}
    script = EARLIER.replace("ROUNDS", str(ROUNDS)).replace("RUNS", str(RUNS_PER_ROUND))
    out = subprocess.run([sys.executable, "-c", script], cwd=path, env=env, capture_output=True,
                         text=True, check=True).stdout.split()
    return {"textbook": float(out[0]), "textbook_journal": float(out[1]), "baseline": float(out[2]),
            "sycophancy_drift": float(out[3]), "sweep_mode": out[4] == "True"}


def instructions(workload: str, runs: int) -> None:
    """Instructions per run of one workload, counted by callgrind around the runs only."""
    if os.environ.get("BENCH_UNDER_CALLGRIND") != "1":
        out = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null",
             sys.executable, __file__, "--instructions", workload, str(runs)],
            env={**os.environ, "BENCH_UNDER_CALLGRIND": "1"}, capture_output=True, text=True, check=True)
        collected = int(out.stderr.split("Collected :")[1].split()[0])
        print(json.dumps({"workload": workload, "runs": runs, "instructions_per_run": collected // runs,
                          "pythonhashseed": os.environ.get("PYTHONHASHSEED")}))
        return
    loaded = load_scenario("sycophancy-drift" if workload == "drift" else "jailbreak-wave")
    journal = workload == "journal"
    for seed in range(2):
        baseline_of(loaded, seed)
        run_policy(loaded, Textbook(loaded.scenario), seed, journal=journal)
    seeds = range(100, 100 + runs)
    if workload != "baseline":
        for seed in seeds:
            baseline_of(loaded, seed)
    subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], capture_output=True, check=False)
    for seed in seeds:
        if workload == "baseline":
            baseline._cache.clear()
            baseline_of(loaded, seed)
        else:
            run_policy(loaded, Textbook(loaded.scenario), seed, journal=journal)
    subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], capture_output=True, check=False)


if __name__ == "__main__":
    if "--instructions" in sys.argv:
        at = sys.argv.index("--instructions")
        instructions(sys.argv[at + 1], int(sys.argv[at + 2]))
    else:
        main()
