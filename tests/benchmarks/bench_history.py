"""History benchmark (by hand: ``python tests/benchmarks/bench_history.py [--pg URL] [--compare DIR]``).

Prints JSON.

Measures, on a SQLite file (and on PostgreSQL with ``--pg``):

- recording one drill as ``ttx play`` does when it ends (the after-action facts are already built: the
  row, its components and figures, the compressed journal, one transaction), median and max of 30,
  into an open history and as a whole (open, record, the team's last run, close);
- ``ttx history add`` of one journal file (reading and analysing it too: the do-nothing baseline);
- ``ttx history`` over 10,000 drills, the whole process (best and median of 7), and where its CPU goes;
- ``ttx history trends`` over 1,000 drills of one team, HTML with the charts and the textbook bot's
  median on the 5 seeds those drills used, the whole process: the first time (it plays the bot on
  each seed) and then (best and median of 5; the bot's figures are kept in the history).

``--compare DIR`` runs the whole-process measures with an earlier checkout too, interleaved run by run
so both see the same load.

Whole-process figures give the wall time and the CPU time: on a shared machine the load stretches
the first more than the second. Both checkouts' bytecode is written first, as an installed ttx has it.

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
    remember,
    sha256,
)
from simulator.analysis.recording import Target
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
    """Recording a drill whose after-action facts are built: into an open history, and as the end of
    ``ttx play`` does it (:func:`remember`: open the history, record, find the team's last run, close),
    in a process that has recorded a drill before."""
    aar = analyse(*load_journal_scenario(source), source)
    data = source.read_bytes()
    times, whole = [], []
    with open_history(url) as history:
        for i in range(runs):
            entry = variant(data, i)
            start = time.perf_counter()
            history.record(entry_of(aar, entry, team="Bench", source="play"))
            times.append((time.perf_counter() - start) * 1000)
    for i in range(runs):
        entry = variant(data, 2000 + i)
        start = time.perf_counter()
        remember(Target(url, "Bench"), entry_of(aar, entry, team="Bench", source="play"))
        whole.append((time.perf_counter() - start) * 1000)
        add = []
        for i in range(5):
            copy = source.with_name(f"add-{i}.jsonl")
            copy.write_bytes(variant(data, 1000 + i))
            start = time.perf_counter()
            record_journal(history, copy, team="Bench")
            add.append((time.perf_counter() - start) * 1000)
    return {"record_ms_median": round(statistics.median(times), 1), "record_ms_max": round(max(times), 1),
            "remember_ms_median": round(statistics.median(whole), 1), "remember_ms_max": round(max(whole), 1),
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


def compiled(tree: Path) -> None:
    """Write the bytecode of a checkout's packages, as an installed ttx has it: a shell with
    ``PYTHONDONTWRITEBYTECODE`` set would otherwise compile every ttx module in every process timed."""
    import compileall

    for package in ("simulator", "tui"):
        compileall.compile_dir(tree / package, quiet=1)


def as_version_1(path: Path) -> Path:
    """A copy of a history as the first release left it (schema v1: no listing index), for ``--compare``
    with a checkout from before migration 2, which refuses a newer database."""
    import shutil
    import sqlite3

    copy = path.with_name(f"{path.stem}-v1.sqlite")
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP INDEX IF EXISTS drills_listed")
        conn.execute("CREATE INDEX IF NOT EXISTS drills_by_date ON drills (played_at)")
        conn.execute("DELETE FROM ttx_schema WHERE version > 1")
    return copy


def whole_process(args: list[str], env: dict[str, str], runs: int,
                  compare: tuple[str, dict[str, str]] | None = None) -> dict[str, object]:
    """Wall time of ``ttx ARGS`` as a process, and its CPU time (user + system), which a shared
    machine's load does not inflate the way it inflates the wall clock. With ``compare`` (a checkout and
    its environment) the same command of that checkout runs right after each run, in the same load."""
    sides = {"now": env} | ({"before": {**compare[1], "PYTHONPATH": compare[0]}} if compare else {})
    times: dict[str, list[float]] = {side: [] for side in sides}
    cpu: dict[str, list[float]] = {side: [] for side in sides}
    size = 0
    for _ in range(runs):
        for side, side_env in sides.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.perf_counter()
            out = subprocess.run([*TTX, *args], capture_output=True, env=side_env, check=True)
            times[side].append(time.perf_counter() - start)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu[side].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            size = len(out.stdout) if side == "now" else size
    figures: dict[str, object] = {"best_s": round(min(times["now"]), 3),
                                  "median_s": round(statistics.median(times["now"]), 3),
                                  "cpu_best_s": round(min(cpu["now"]), 3),
                                  "cpu_median_s": round(statistics.median(cpu["now"]), 3),
                                  "stdout_bytes": size}
    if compare:
        figures["before"] = {"best_s": round(min(times["before"]), 3),
                             "cpu_best_s": round(min(cpu["before"]), 3),
                             "cpu_median_s": round(statistics.median(cpu["before"]), 3)}
    return figures


def listing_phases(path: Path, runs: int = 7) -> dict[str, float]:
    """Where ``ttx history``'s CPU goes, each phase in a fresh process (best of ``runs``, ms): Python with
    the command line, the quick listing's modules (no SQLAlchemy), reading the SQLite file, the table; and,
    for reference, the store's way (what ``--json`` and a PostgreSQL history take): importing SQLAlchemy
    and the history's tables, opening the database, the query."""
    code = (
        "import importlib, sys, time\n"
        "from pathlib import Path\n"
        "T = time.process_time\n"
        "t0 = T(); importlib.import_module('simulator.cli.main').build_parser('history'); t1 = T()\n"
        "from simulator.analysis.history.listing import quick_listing\n"
        "from simulator.analysis.history.rows import Filters; t2 = T()\n"
        "rows = quick_listing(Path(sys.argv[1]), Filters()); t3 = T()\n"
        "import simulator.cli.history as c; c.listing_text(rows); t4 = T()\n"
        "import simulator.analysis.history.store as s; t5 = T()\n"
        "history = s.open_history(sys.argv[1], create=False); t6 = T()\n"
        "history.listing(); t7 = T()\n"
        "print(t0, t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6)\n")
    names = ("python", "command line", "quick listing modules", "quick query", "table",
             "store: sqlalchemy and tables", "store: open", "store: query")
    best = [float("inf")] * len(names)
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                             check=True)
        best = [min(b, float(x)) for b, x in zip(best, out.stdout.split(), strict=True)]
    return {f"{name}_ms": round(b * 1000, 1) for name, b in zip(names, best, strict=True)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", help="also record into this PostgreSQL URL (an empty database)")
    parser.add_argument("--compare", metavar="DIR",
                        help="also run the whole-process measures with the ttx checked out in DIR (e.g. "
                             "git archive of an earlier commit), interleaved, on a schema v1 copy")
    args = parser.parse_args()
    compiled(Path(__file__).resolve().parents[2])
    if args.compare:
        compiled(Path(args.compare))
    with tempfile.TemporaryDirectory(prefix="h15-bench-") as tmp:
        home = Path(tmp)
        by_seed = {seed: people_journal(home / f"seed{seed}.jsonl", seed) for seed in SEEDS}
        out: dict[str, object] = {"record_sqlite": bench_record(str(home / "record.sqlite"), by_seed[7])}
        if args.pg:
            out["record_postgresql"] = bench_record(args.pg, by_seed[7])
        big = home / "big.sqlite"
        populate(str(big), 10_000, by_seed)
        env = {**os.environ, "TTX_DB": str(big)}
        old = (args.compare, {**os.environ, "TTX_DB": str(as_version_1(big))}) if args.compare else None
        out["history_10000_drills"] = whole_process(["history"], env, 7, old)
        out["history_10000_drills_phases"] = listing_phases(big)
        out["history_10000_drills_json"] = whole_process(["history", "--json"], env, 3)
        trend = home / "trend.sqlite"
        populate(str(trend), 1_000, by_seed)
        env = {**os.environ, "TTX_DB": str(trend)}
        trend_args = ["history", "trends", "--team", "Red", "--scenario", "jailbreak-wave", "-o",
                      str(home / "trends.html")]
        out["trends_1000_drills_html_first"] = whole_process(trend_args, env, 1)  # plays the bot
        old = (args.compare, {**os.environ, "TTX_DB": str(as_version_1(trend))}) if args.compare else None
        out["trends_1000_drills_html"] = whole_process(trend_args, env, 5, old)  # the bot's figures are kept
        out["big_sqlite_mb"] = round(big.stat().st_size / 1e6, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
