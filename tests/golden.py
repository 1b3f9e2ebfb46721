"""Golden runs and the balance table of the built-in scenario library.

Each built-in scenario, played by the ``textbook`` bot on the scenario's own seed, produces a
journal saved as ``tests/golden/<id>.jsonl`` and diffed byte for byte on every test run (the
SimPy documentation's example-with-transcript practice).

    python -m tests.golden --update     # regenerate every golden journal after a deliberate change
    python -m tests.golden --table      # print the idle / textbook / historical table for scenarios/README.md
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from simulator.engine.journal import write_journal
from simulator.engine.runner import run_named
from simulator.format.durations import clock
from simulator.format.loader import builtin_ids, load_scenario
from simulator.format.scenario import PublishedTime

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
VERSIONS = GOLDEN_DIR / "versions.json"
"""Library versions the goldens were recorded with (generated text and random draws depend on them)."""
UPDATE_COMMAND = "python -m tests.golden --update"
TABLE_SEEDS = range(20)
"""Seeds the README table's medians are taken over."""


def golden_path(scenario_id: str) -> Path:
    """Where a scenario's golden journal lives."""
    return GOLDEN_DIR / f"{scenario_id}.jsonl"


def golden_seed(scenario_id: str) -> int:
    """The fixed seed of a golden run: the scenario's own default seed."""
    return load_scenario(scenario_id).scenario.seed


def journal_text(scenario_id: str) -> str:
    """The journal of the textbook bot on the scenario's seed, exactly as ``ttx run --journal`` writes it."""
    run = run_named(scenario_id, "textbook", golden_seed(scenario_id))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.jsonl"
        write_journal(path, run.drill.header(run.result.policy), run.drill.events)
        return path.read_text(encoding="utf-8")


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose output a golden journal depends on."""
    return {name: metadata.version(name) for name in ("faker", "numpy", "simpy")}


def update() -> list[Path]:
    """Rewrite every golden journal (and drop goldens of scenarios that no longer exist)."""
    GOLDEN_DIR.mkdir(exist_ok=True)
    ids = builtin_ids()
    for stale in GOLDEN_DIR.glob("*.jsonl"):
        if stale.stem not in ids:
            stale.unlink()
    written = []
    for sid in ids:
        path = golden_path(sid)
        path.write_text(journal_text(sid), encoding="utf-8")
        written.append(path)
    VERSIONS.write_text(json.dumps(library_versions(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return written


TABLE_POLICIES = ("idle", "textbook", "historical")
"""The columns of the README table: doing nothing, the generic competent team, the real team."""


def span(seconds: float) -> str:
    """A time for the table: H:MM:SS up to two days, days beyond."""
    return clock(seconds) if seconds < 48 * 3600 else f"{seconds / 86400:.1f} d"


def _median_time(values: list[float | None]) -> str:
    """Median of times where ``None`` (never) counts as later than any time."""
    ordered = sorted(values, key=lambda v: float("inf") if v is None else v)
    middle = ordered[(len(ordered) - 1) // 2]
    return "never" if middle is None else span(middle)


def _hours_or_days(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds < 48 * 3600 else f"{seconds / 86400:g} d"


def published_figure(when: PublishedTime | None) -> str:
    """The real team's published time to contain, compactly (``about`` or a range), and its origin."""
    if when is None:
        return "not published"
    if when.about is not None:
        figure = f"~{_hours_or_days(when.about)}"
    elif when.at_most is None:
        figure = f"≥ {_hours_or_days(when.at_least or 0.0)}"
    elif when.at_least is None:
        figure = f"≤ {_hours_or_days(when.at_most)}"
    else:
        figure = f"{_hours_or_days(when.at_least)} – {_hours_or_days(when.at_most)}"
    after = {"harm_start": "", "first_signal": " after the first signal",
             "public_statement": " after the first statement"}[when.counted_from]
    return figure + after


def table(seeds: range = TABLE_SEEDS) -> str:
    """The Markdown table of idle, textbook and historical medians over ``seeds`` for every built-in,
    with the real team's published time to contain beside the historical run's."""
    lines = ["| scenario | duration | time to contain (idle / textbook / historical) | real team, published "
             "| harm volume (idle / textbook / historical) | score (idle / textbook / historical) |",
             "|---|---|---|---|---|---|"]
    for sid in builtin_ids():
        cells = {}
        for policy in TABLE_POLICIES:
            results = [run_named(sid, policy, seed).result for seed in seeds]
            cells[policy] = (_median_time([r.time_to_contain for r in results]),
                             statistics.median(r.harm_volume for r in results),
                             statistics.median(r.score for r in results))
        scenario = load_scenario(sid).scenario
        published = published_figure(scenario.published.contained if scenario.published else None)
        times, harms, scores = (" / ".join(fmt(cells[p][i]) for p in TABLE_POLICIES) for i, fmt in
                                ((0, str), (1, lambda v: f"{v:,.0f}"), (2, lambda v: f"{v:.1f}")))
        lines.append(f"| `{sid}` | {span(scenario.duration)} | {times} | {published} | {harms} | {scores} |")
    lines.append("")
    lines.append(f"Medians over seeds {seeds.start}–{seeds.stop - 1}; `never` = not contained in the drill.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--update`` rewrites the goldens, ``--table`` prints the README table."""
    parser = argparse.ArgumentParser(prog="python -m tests.golden", description=__doc__.splitlines()[0])
    parser.add_argument("--update", action="store_true", help="regenerate tests/golden/*.jsonl")
    parser.add_argument("--table", action="store_true",
                        help="print the scenarios/README.md balance table (idle, textbook, historical)")
    args = parser.parse_args(argv)
    if not (args.update or args.table):
        parser.print_help()
        return 2
    if args.update:
        for path in update():
            print(f"wrote {path.relative_to(GOLDEN_DIR.parent.parent)}", file=sys.stderr)
    if args.table:
        print(table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
