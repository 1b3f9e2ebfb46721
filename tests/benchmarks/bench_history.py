"""History benchmark (by hand: ``python tests/benchmarks/bench_history.py [--pg URL]``); prints JSON.

Measures, on a SQLite file (and on PostgreSQL with ``--pg``):

- recording one drill as ``ttx play`` does when it ends (the after-action facts are already built: the
  row, its components and figures, the compressed journal, one transaction), median and max of 30;
- ``ttx history add`` of one journal file (reading and analysing it too: the do-nothing baseline);
- ``ttx history`` over 10,000 drills, the whole process (best and median of 5);
- ``ttx history trends`` over 1,000 drills of one team, HTML with the charts and the textbook bot's
  median on the 5 seeds those drills used, the whole process: the first time (it plays the bot on
  each seed) and then (best and median of 3; the bot's figures are kept in the history).

Whole-process figures give the wall time and the CPU time: on a shared machine the load stretches
the first, not the second.

Targets: recording ≤ 50 ms; ``ttx history`` over 10,000 drills ≤ 0.5 s; trends over 1,000 ≤ 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from datetime import datetime, timedelta
from pathlib import Path

from simulator.analysis.aar import analyse
from simulator.analysis.history import (
    components,
    drills,
    entry_of,
    figures,
    journals,
    open_history,
    record_journal,
    sha256,
)
from simulator.engine.journal import write_journal
from simulator.engine.policies import load_policy
from simulator.engine.replay import load_journal_scenario
from simulator.engine.runner import run_policy
from simulator.format.loader import load_scenario

TTX = [sys.executable, "-m", "simulator.cli"]
SEEDS = (7, 3, 11, 19, 23)


def people_journal(path: Path, seed: int, policy: str = "textbook") -> Path:
    """A flagship journal written as if people played it."""
    loaded = load_scenario("jailbreak-wave")
    run = run_policy(loaded, load_policy(policy, loaded.scenario), seed)
    write_journal(path, run.drill.header("human"), run.drill.events)
    return path


def variant(data: bytes, i: int) -> bytes:
    """The journal with a marker in its header: another sha256, the same drill."""
    head, rest = data.split(b"\n", 1)
    return head[:-1] + f',"bench":{i}}}'.encode() + b"\n" + rest


def bench_record(url: str, source: Path, runs: int = 30) -> dict[str, float]:
    """Recording a drill whose after-action facts are built (what the end of ttx play does)."""
    aar = analyse(*load_journal_scenario(source), source)
    data = source.read_bytes()
    times = []
    with open_history(url) as history:
        for i in range(runs):
            entry = variant(data, i)
            start = time.perf_counter()
            history.record(entry_of(aar, entry, team="Bench", source="play"))
            times.append((time.perf_counter() - start) * 1000)
        add = []
        for i in range(5):
            copy = source.with_name(f"add-{i}.jsonl")
            copy.write_bytes(variant(data, 1000 + i))
            start = time.perf_counter()
            record_journal(history, copy, team="Bench")
            add.append((time.perf_counter() - start) * 1000)
    return {"record_ms_median": round(statistics.median(times), 1), "record_ms_max": round(max(times), 1),
            "history_add_ms_median": round(statistics.median(add), 1)}


def populate(url: str, count: int, journals_by_seed: dict[int, Path], team: str = "Red") -> None:
    """``count`` drills of one team, one a day back from now, cycling through the seeds' journals.

    Inserted in bulk (one transaction per 1,000) from real after-action entries with distinct ids,
    each with its compressed journal, as ``record`` would store them.
    """
    bases = {}
    for seed, path in journals_by_seed.items():
        aar = analyse(*load_journal_scenario(path), path)
        bases[seed] = (entry_of(aar, path.read_bytes(), team=team, source="import"), path.read_bytes())
    start = datetime(2026, 1, 1)
    with open_history(url) as history:
        for chunk in range(0, count, 1000):
            rows, parts, figs, bodies = [], [], [], []
            for i in range(chunk, min(count, chunk + 1000)):
                entry, data = bases[SEEDS[i % len(journals_by_seed)]]
                body = variant(data, i)
                drill_id = sha256(body)
                rows.append({**entry.values, "id": drill_id, "played_at": start + timedelta(hours=6 * i)})
                parts += [{"drill_id": drill_id, **c} for c in entry.components]
                figs += [{"drill_id": drill_id, **f} for f in entry.figures]
                bodies.append({"drill_id": drill_id, "encoding": "zlib", "body": zlib.compress(body, 6)})
            with history.engine.begin() as conn:
                conn.execute(drills.insert(), rows)
                conn.execute(components.insert(), parts)
                conn.execute(figures.insert(), figs)
                conn.execute(journals.insert(), bodies)


def whole_process(args: list[str], env: dict[str, str], runs: int) -> dict[str, float]:
    """Wall time of ``ttx ARGS`` as a process, and its CPU time (user + system), which a shared
    machine's load does not inflate the way it inflates the wall clock."""
    times, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        out = subprocess.run([*TTX, *args], capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"best_s": round(min(times), 3), "median_s": round(statistics.median(times), 3),
            "cpu_best_s": round(min(cpu), 3), "stdout_bytes": len(out.stdout)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="also record into this PostgreSQL URL (an empty database)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="h15-bench-") as tmp:
        home = Path(tmp)
        by_seed = {seed: people_journal(home / f"seed{seed}.jsonl", seed) for seed in SEEDS}
        out: dict[str, object] = {"record_sqlite": bench_record(str(home / "record.sqlite"), by_seed[7])}
        if args.pg:
            out["record_postgresql"] = bench_record(args.pg, by_seed[7])
        big = home / "big.sqlite"
        populate(str(big), 10_000, by_seed)
        env = {**os.environ, "TTX_DB": str(big)}
        out["history_10000_drills"] = whole_process(["history"], env, 5)
        out["history_10000_drills_json"] = whole_process(["history", "--json"], env, 3)
        trend = home / "trend.sqlite"
        populate(str(trend), 1_000, by_seed)
        env = {**os.environ, "TTX_DB": str(trend)}
        trend_args = ["history", "trends", "--team", "Red", "--scenario", "jailbreak-wave", "-o",
                      str(home / "trends.html")]
        out["trends_1000_drills_html_first"] = whole_process(trend_args, env, 1)  # plays the bot
        out["trends_1000_drills_html"] = whole_process(trend_args, env, 3)  # the bot's figures are kept
        out["big_sqlite_mb"] = round(big.stat().st_size / 1e6, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
