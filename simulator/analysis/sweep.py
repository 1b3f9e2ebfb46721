"""Monte Carlo runs of bot policies over many seeds, locally (process pool) or on Dask.

Every run is a pure function of (scenario, policy, seed), so the results are the same whatever the
number of workers or where they run. Work is shipped in chunks of seeds; a worker loads the scenario
once (the scenario and scripted-policy YAML travel with the task, so remote workers need no files)
and every policy of a seed runs on the same worker, so the do-nothing baseline of that seed is
computed once (:mod:`simulator.engine.baseline` caches it per process).
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import importlib
import math
import multiprocessing
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import IO, Any

from simulator.format.durations import clock

DASK_HINT = "ttx sweep --dask needs dask.distributed: pip install 'ttx[dask]'"
HEARTBEAT_SECONDS = 0.25
"""How often a local pool's driver reports progress while no chunk finishes (the bar's clock ticks)."""


@dataclass(frozen=True)
class PolicySource:
    """A policy as given on the command line, with a scripted policy's YAML text."""

    name: str
    text: str | None = None


@dataclass(frozen=True)
class SweepSpec:
    """What every worker needs: the scenario's YAML and the policies, as text."""

    scenario: str
    """The scenario argument (a path or built-in id), for labels."""
    scenario_text: str
    policies: tuple[PolicySource, ...]

    @property
    def key(self) -> str:
        """Identity of the spec, for the per-worker cache."""
        digest = hashlib.sha256(self.scenario_text.encode())
        for p in self.policies:
            digest.update(f"\0{p.name}\0{p.text or ''}".encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class RunOutcome:
    """One run's numbers (one CSV row)."""

    policy: str
    seed: int
    score: float
    time_to_detect: float | None
    time_to_contain: float | None
    harm_volume: int
    weighted_harm: float
    harm_averted: float
    collateral: float


@dataclass
class Distribution:
    """Median, p10 and p90 of one measure (``None`` stands for 'never' in time measures)."""

    median: float | None
    p10: float | None
    p90: float | None


@dataclass
class PolicySummary:
    """One policy's distributions over all its runs."""

    policy: str
    runs: int
    contained: float
    """Share of runs that reached containment."""
    time_to_contain: Distribution
    harm_volume: Distribution
    score: Distribution


@dataclass
class SweepResult:
    """All runs (ordered by policy, then seed) and the per-policy summaries."""

    scenario: str
    seeds: list[int]
    runs: list[RunOutcome]
    summaries: list[PolicySummary] = field(default_factory=list)
    seconds: float = 0.0
    interrupted: bool = False
    """Ctrl+C stopped the sweep: ``seeds`` and ``runs`` are those that finished (whole seeds)."""
    planned: int = 0
    """Runs asked for (policies × seeds)."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl+C during a sweep, after the workers were stopped; ``partial`` summarises what finished."""

    def __init__(self, partial: SweepResult) -> None:
        super().__init__()
        self.partial = partial


def make_spec(scenario: str, policies: Sequence[str]) -> SweepSpec:
    """Read the scenario and scripted policies once, checking them before any worker starts.

    Raises:
        FileNotFoundError: an unknown scenario or policy.
        FileProblems: an invalid scenario or scripted policy.
    """
    from simulator.engine.policies import load_policy, policy_file
    from simulator.format.loader import load_scenario

    loaded = load_scenario(scenario)
    sources = []
    for name in policies:
        load_policy(name, loaded.scenario)
        path = policy_file(name, loaded.scenario)
        sources.append(PolicySource(name, None if path is None else path.read_text(encoding="utf-8")))
    return SweepSpec(scenario, Path(loaded.path).read_bytes().decode("utf-8"), tuple(sources))


# --- the work, wherever it runs --------------------------------------------------------------

_prepared: dict[str, tuple[Any, dict[str, Callable[[], Any]]]] = {}
"""Per worker process: spec key → (loaded scenario, policy factories)."""
_spec: SweepSpec | None = None


def _prepare(spec: SweepSpec) -> tuple[Any, dict[str, Callable[[], Any]]]:
    """Load the scenario and policies once per worker (cached by the spec's content)."""
    if spec.key in _prepared:
        return _prepared[spec.key]
    from simulator.engine.policies import Idle, Scripted, Textbook, load_policy
    from simulator.format.loader import load_scenario

    folder = Path(tempfile.mkdtemp(prefix="ttx-sweep-"))
    path = folder / "scenario.yaml"
    path.write_text(spec.scenario_text, encoding="utf-8")
    loaded = load_scenario(str(path))
    factories: dict[str, Callable[[], Any]] = {
        "idle": Idle, "textbook": lambda: Textbook(loaded.scenario)}
    for n, source in enumerate(spec.policies):
        if source.text is not None:
            script = folder / f"policy-{n}.yaml"
            script.write_text(source.text, encoding="utf-8")
            policy = load_policy(str(script), loaded.scenario)
            assert isinstance(policy, Scripted)
            factories[source.name] = partial(Scripted, policy.spec)
    _prepared[spec.key] = (loaded, factories)
    return loaded, factories


def run_chunk(spec: SweepSpec, seeds: Sequence[int]) -> list[RunOutcome]:
    """Run every policy on every seed of a chunk (the unit of work shipped to a worker).

    The do-nothing policy runs first on each seed: its drill is also that seed's baseline, so the
    baseline is never simulated twice.
    """
    from simulator.engine.runner import idle_run, run_policy

    loaded, factories = _prepare(spec)
    ordered = sorted(spec.policies, key=lambda p: p.name != "idle")
    out = []
    for seed in seeds:
        for source in ordered:
            run = (idle_run(loaded, seed, journal=False) if source.name == "idle"
                   else run_policy(loaded, factories[source.name](), seed, journal=False))
            r = run.result
            out.append(RunOutcome(source.name, seed, r.score, r.time_to_detect, r.time_to_contain,
                                  r.harm_volume, r.weighted_harm, r.harm_averted, r.collateral))
    return out


WORKER_GC_THRESHOLD = 20_000
"""A worker's generation-0 collection threshold (Python's default is 700): a run allocates and drops
many short-lived objects, and a collection every 700 of them costs ~1.5 % of its instructions."""


def _init_worker(spec: SweepSpec) -> None:
    """Process-pool initializer: remember the spec and load it before the first chunk arrives.

    A forked worker finds it loaded already (the parent prepared it before forking). What is loaded
    now lives as long as the worker, so it is frozen out of the collector's reach, and collections
    come less often. Ctrl+C is the parent's to handle (it stops the workers at once), so a worker
    ignores it rather than printing a traceback of its own.
    """
    global _spec
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _spec = spec
    _prepare(spec)
    gc.freeze()
    gc.set_threshold(WORKER_GC_THRESHOLD, *gc.get_threshold()[1:])


def _run_initialized(seeds: Sequence[int]) -> list[RunOutcome]:
    assert _spec is not None
    return run_chunk(_spec, seeds)


def chunked(seeds: Sequence[int], workers: int) -> list[list[int]]:
    """Split seeds into chunks: several per worker (for balance and progress), at most 25 seeds each.

    Each worker's first chunk is a single seed, so the first results (and the progress bar's first
    step) arrive as soon as the workers have started, not a whole chunk later.
    """
    first = [[seed] for seed in seeds[:workers]]
    rest = seeds[workers:]
    size = max(1, min(25, math.ceil(len(rest) / (workers * 8)))) if rest else 1
    return first + [list(rest[i:i + size]) for i in range(0, len(rest), size)]


# --- drivers -----------------------------------------------------------------------------------

Progress = Callable[[int], None]
"""Told the number of runs finished: 0 at once, then after each chunk (and on heartbeats)."""
Batches = Generator[list[RunOutcome] | None, None, None]
"""Finished chunks as they come; None is a heartbeat (nothing new yet)."""


def run_sweep(spec: SweepSpec, seeds: Sequence[int], workers: int = 1, dask: str | None = None,
              progress: Progress | None = None) -> SweepResult:
    """Run every policy on every seed and summarise; ``progress`` gets the number of runs finished.

    Ctrl+C (SIGINT) only raises a flag while the sweep runs, checked between results and on each
    heartbeat: a KeyboardInterrupt thrown into the pool's locks could leave them held and hang
    the exit.

    Raises:
        SweepInterrupted: Ctrl+C; the workers are stopped first and ``partial`` holds the summary
            of the seeds that finished.
    """
    started = time.perf_counter()
    report = progress or (lambda done: None)
    runs: list[RunOutcome] = []
    batches: Batches | None = None
    stop = threading.Event()
    with _ctrl_c_sets(stop):
        try:
            report(0)
            batches = _batches(spec, seeds, workers, dask)
            for batch in batches:
                runs.extend(batch or [])
                report(len(runs))
                if stop.is_set():
                    break
        except KeyboardInterrupt:  # raised by the progress callback, or outside the main thread
            stop.set()
        if stop.is_set():
            if batches is not None:
                batches.close()
            raise SweepInterrupted(_result(spec, seeds, runs, started, interrupted=True))
    return _result(spec, seeds, runs, started)


@contextlib.contextmanager
def _ctrl_c_sets(stop: threading.Event) -> Iterator[None]:
    """While inside, SIGINT sets ``stop`` instead of raising (main thread only; signals go there)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: stop.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _batches(spec: SweepSpec, seeds: Sequence[int], workers: int, dask: str | None) -> Batches:
    if dask is not None:
        return _dask_chunks(spec, chunked(seeds, 8), dask)
    if workers <= 1:
        return (run_chunk(spec, [seed]) for seed in seeds)
    return _pool_chunks(spec, chunked(seeds, workers), workers)


def _result(spec: SweepSpec, seeds: Sequence[int], runs: list[RunOutcome], started: float,
            interrupted: bool = False) -> SweepResult:
    order = {p.name: i for i, p in enumerate(spec.policies)}
    runs.sort(key=lambda r: (order[r.policy], r.seed))
    done = sorted({r.seed for r in runs}) if interrupted else list(seeds)
    result = SweepResult(spec.scenario, done, runs, seconds=time.perf_counter() - started,
                         interrupted=interrupted, planned=len(seeds) * len(spec.policies))
    result.summaries = [summarise(p.name, [r for r in runs if r.policy == p.name]) for p in spec.policies]
    return result


WORKER_PRELOAD = ["simulator.engine.runner", "simulator.engine.policies", "simulator.analysis.sweep"]
"""Imported once by the fork server (where workers cannot be forked from the sweep itself), so every
worker forks with the engine (NumPy, SimPy, pydantic models) already loaded."""


def worker_context() -> multiprocessing.context.BaseContext:
    """How workers start: forked from the sweep itself on Linux, else from a fork server (or spawned).

    A worker forked from the sweep, after :func:`_prepare`, starts with the engine imported and the
    scenario and policies built: it runs its first seed at once. macOS can fork but its system
    libraries are not safe across a fork, so it keeps the fork server.
    """
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(WORKER_PRELOAD)
    return context


def _pool_chunks(spec: SweepSpec, chunks: list[list[int]], workers: int) -> Batches:
    context = worker_context()
    forks = context.get_start_method() == "fork"
    if forks:
        _prepare(spec)
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                               initargs=(spec,))
    futures: list[Future[list[RunOutcome]]] = []
    try:
        with _ctrl_c_held(), _frozen(forks):  # the workers start in these submits, Ctrl+C blocked for good
            futures.extend(pool.submit(_run_initialized, c) for c in chunks)
        pending = set(futures)
        while pending:
            done, pending = wait(pending, timeout=HEARTBEAT_SECONDS, return_when=FIRST_COMPLETED)
            if not done:
                yield None
            for future in done:
                yield future.result()
    except BaseException:  # Ctrl+C, a failed chunk, or the caller closing the generator
        _stop(pool)
        raise
    pool.shutdown(wait=True)


@contextlib.contextmanager
def _frozen(forking: bool) -> Iterator[None]:
    """While workers fork: the parent's objects are frozen, so no worker's collector touches (and
    copies) the pages they share with the parent; the parent's own collector gets them back after."""
    if not forking:
        yield
        return
    gc.collect()
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@contextlib.contextmanager
def _ctrl_c_held() -> Iterator[None]:
    """Block SIGINT while worker processes start, then let a Ctrl+C that came meanwhile through.

    A blocked signal mask is inherited across fork and exec, so workers (and the forkserver they
    come from) never see a terminal's Ctrl+C, not even while importing before their initializer
    runs: stopping them is the parent's job. The parent's own Ctrl+C waits here and is handled
    as soon as the block ends.
    """
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no masks; the initializer still ignores it
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Drop the queued chunks and end the workers now, not after the chunk each is running.

    The queued chunks are cancelled by the pool's own manager thread (``cancel_futures``), never
    from here: on CPython 3.11 a future cancelled from another thread while a terminated worker
    marks the pool broken makes that thread raise ``InvalidStateError`` and print a traceback.
    """
    workers = list((pool._processes or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.join(timeout=1.0)


def _dask_chunks(spec: SweepSpec, chunks: list[list[int]], address: str) -> Batches:
    try:
        distributed: Any = importlib.import_module("dask.distributed")
    except ImportError:
        raise RuntimeError(DASK_HINT) from None
    try:
        client = distributed.Client(address)
    except (OSError, TimeoutError) as exc:
        raise RuntimeError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    with client:
        futures = client.map(run_chunk, [spec] * len(chunks), chunks, pure=False)
        pending = set(futures)
        try:
            while pending:
                try:
                    done, pending = distributed.wait(pending, timeout=HEARTBEAT_SECONDS,
                                                     return_when="FIRST_COMPLETED")
                except TimeoutError:
                    yield None
                    continue
                for future in done:
                    yield future.result()
        except BaseException:  # Ctrl+C or a failed chunk: the cluster drops the rest
            client.cancel(futures)
            raise


# --- statistics --------------------------------------------------------------------------------


def quantile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of sorted-able values; infinity propagates ('never')."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    a, b = ordered[lo], ordered[hi]
    if math.isinf(a) or math.isinf(b):
        return b if pos > lo else a
    return a + (b - a) * (pos - lo)


def distribution(values: Sequence[float | None]) -> Distribution:
    """Median, p10, p90; ``None`` values count as 'never' (later than any time)."""
    if not values:
        return Distribution(None, None, None)
    finite = [math.inf if v is None else float(v) for v in values]

    def q(x: float) -> float | None:
        value = quantile(finite, x)
        return None if math.isinf(value) else round(value, 3)

    return Distribution(q(0.5), q(0.1), q(0.9))


def summarise(policy: str, runs: list[RunOutcome]) -> PolicySummary:
    contained = sum(1 for r in runs if r.time_to_contain is not None)
    return PolicySummary(policy, len(runs), round(contained / len(runs), 4) if runs else 0.0,
                         distribution([r.time_to_contain for r in runs]),
                         distribution([r.harm_volume for r in runs]),
                         distribution([r.score for r in runs]))


# --- output ------------------------------------------------------------------------------------


def table(result: SweepResult) -> str:
    """Policies side by side: time to contain, harm volume and score (median, p10, p90), share contained."""
    names = [s.policy for s in result.summaries]
    width = max(16, *(len(n) + 2 for n in names))

    def when(v: float | None) -> str:
        return "never" if v is None else clock(v)

    def count(v: float | None) -> str:
        return "–" if v is None else f"{v:,.0f}"

    def points(v: float | None) -> str:
        return "–" if v is None else f"{v:.1f}"

    rows: list[tuple[str, list[str]]] = [("runs", [str(s.runs) for s in result.summaries]),
                                         ("contained", [f"{s.contained:.0%}" for s in result.summaries])]
    for label, attr, fmt in (("time to contain", "time_to_contain", when),
                             ("harm volume", "harm_volume", count), ("score", "score", points)):
        for stat in ("median", "p10", "p90"):
            values = [fmt(getattr(getattr(s, attr), stat)) for s in result.summaries]
            rows.append((f"{label} {stat}", values))
    lines = [_heading(result), "",
             f"{'':<22}" + "".join(f"{n:>{width}}" for n in names)]
    lines += [f"{label:<22}" + "".join(f"{v:>{width}}" for v in values) for label, values in rows]
    return "\n".join(lines)


def _heading(result: SweepResult) -> str:
    seeds = result.seeds
    if result.interrupted:
        span = (f"{_count(len(seeds), 'seed')} from {seeds[0]} to {seeds[-1]}" if seeds
                else "no seed finished")
        return (f"{result.scenario}  {span}  ({len(result.runs):,} of {result.planned:,} runs in "
                f"{result.seconds:.1f} s; interrupted)")
    span = f"seeds {seeds[0]}–{seeds[-1]}" if seeds else "no seeds"
    return f"{result.scenario}  {span}  ({len(result.runs):,} runs in {result.seconds:.1f} s)"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def to_json(result: SweepResult) -> dict[str, Any]:
    """The sweep for scripts: per-policy summaries (times in sim seconds, ``null`` = never)."""
    return {"scenario": result.scenario, "seeds": [result.seeds[0], result.seeds[-1]] if result.seeds else [],
            "runs": len(result.runs), "seconds": round(result.seconds, 3),
            "interrupted": result.interrupted, "planned_runs": result.planned,
            "policies": {s.policy: {k: v for k, v in asdict(s).items() if k != "policy"}
                         for s in result.summaries}}


def write_csv(result: SweepResult, out: IO[str]) -> None:
    """One row per run."""
    names = list(RunOutcome.__dataclass_fields__)
    writer = csv.writer(out)
    writer.writerow(names)
    for r in result.runs:
        writer.writerow(["" if getattr(r, n) is None else getattr(r, n) for n in names])


def outcomes(result: SweepResult) -> Iterable[tuple[Any, ...]]:
    """Every run as a plain tuple (for comparing sweeps)."""
    return (tuple(asdict(r).values()) for r in result.runs)
