"""Monte Carlo sweeps: the same seeds give the same numbers on 1 or 2 workers and on Dask."""

from __future__ import annotations

import csv
import importlib
import io
import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NoReturn

import pytest

from simulator.analysis import sweep
from simulator.analysis.sweep import SweepInterrupted, distribution, make_spec, outcomes, run_sweep, table
from simulator.cli import main
from simulator.cli.sweep import ProgressBar
from simulator.engine.runner import run_named
from simulator.format.loader import LoadedScenario

SEEDS = list(range(10, 18))


@pytest.fixture(scope="module")
def spec() -> sweep.SweepSpec:
    """The flagship swept with the textbook and idle bots."""
    return make_spec("jailbreak-wave", ["textbook", "idle"])


@pytest.fixture(scope="module")
def one_worker(spec: sweep.SweepSpec) -> sweep.SweepResult:
    """That sweep over ``SEEDS`` on one worker: the reference the other runs are compared with."""
    return run_sweep(spec, SEEDS, workers=1)


def test_results_do_not_depend_on_the_worker_count(spec: sweep.SweepSpec,
                                                   one_worker: sweep.SweepResult) -> None:
    two = run_sweep(spec, SEEDS, workers=2)
    assert list(outcomes(two)) == list(outcomes(one_worker))
    assert [s.policy for s in two.summaries] == ["textbook", "idle"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers fork from the sweep on Linux")
def test_workers_fork_with_the_scenario_and_policies_the_sweep_prepared(spec: sweep.SweepSpec) -> None:
    """A worker loads nothing: it is forked after the parent built the scenario and the policies.

    Shown by preparing a textbook that is really the idle bot: the workers run what the parent built.
    """
    from simulator.engine.policies import Idle

    loaded, factories = sweep._prepare(spec)
    sweep._prepared[spec.key] = (loaded, {**factories, "textbook": Idle})
    try:
        two = run_sweep(spec, SEEDS[:4], workers=2)
    finally:
        del sweep._prepared[spec.key]
    textbook, idle = ([(r.seed, r.harm_volume) for r in two.runs if r.policy == name]
                      for name in ("textbook", "idle"))
    assert textbook == idle


def test_a_worker_freezes_what_it_loaded_and_collects_less_often(spec: sweep.SweepSpec) -> None:
    """What a worker loads lives as long as it does: it is frozen, and generation 0 waits longer."""
    import gc

    threshold, handler = gc.get_threshold(), signal.getsignal(signal.SIGINT)
    frozen = gc.get_freeze_count()  # the suite's own (tests/conftest.py) freezes what collection built
    try:
        sweep._init_worker(spec)
        assert gc.get_threshold()[0] == sweep.WORKER_GC_THRESHOLD
        assert gc.get_freeze_count() > frozen
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)
        signal.signal(signal.SIGINT, handler)
        sweep._spec = None


def test_sweep_runs_match_single_headless_runs(one_worker: sweep.SweepResult) -> None:
    """Each sweep run is exactly ``ttx run`` on that seed (the idle shortcut included)."""
    for run in one_worker.runs[::5]:
        single = run_named("jailbreak-wave", run.policy, run.seed).result
        assert (run.score, run.harm_volume, run.time_to_contain) == \
            (single.score, single.harm_volume, single.time_to_contain)


def test_dask_local_cluster_gives_the_same_results(spec: sweep.SweepSpec, one_worker: sweep.SweepResult,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        on_dask = run_sweep(spec, SEEDS, dask=cluster.scheduler_address)
        assert main(["sweep", "jailbreak-wave", "--runs", "2", "--seed-start", "10", "--json",
                     "--dask", cluster.scheduler_address]) == 0
    assert list(outcomes(on_dask)) == list(outcomes(one_worker))
    summary = json.loads(capsys.readouterr().out)["policies"]["textbook"]
    assert summary["runs"] == 2 and summary["contained"] == 1.0


def test_missing_dask_says_how_to_install(spec: sweep.SweepSpec, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dask(name: str) -> NoReturn:
        raise ImportError(name)

    monkeypatch.setattr(importlib, "import_module", no_dask)
    with pytest.raises(RuntimeError, match=r"pip install 'ttx\[dask\]'"):
        run_sweep(spec, [1], dask="tcp://nowhere:8786")


def quantiles(d: sweep.Distribution) -> tuple[float, float, float]:
    """p10, median and p90 of a measure that always has a value (harm, score)."""
    assert d.p10 is not None and d.median is not None and d.p90 is not None, d
    return d.p10, d.median, d.p90


def test_textbook_beats_idle_in_distribution(one_worker: sweep.SweepResult) -> None:
    """Over the same seeds, the textbook team's worst harm (p90) is below doing nothing's best (p10)."""
    textbook, idle = one_worker.summaries
    assert textbook.contained == 1.0 and idle.contained == 0.0
    assert idle.time_to_contain.median is None
    assert quantiles(textbook.harm_volume)[2] < quantiles(idle.harm_volume)[0]
    assert quantiles(textbook.score)[0] > quantiles(idle.score)[2]


def test_scripted_policy_what_if(tmp_path: Path) -> None:
    """A team can ask 'what if the kill switch took 5 minutes' with a scripted policy file."""
    script = tmp_path / "kill.yaml"
    script.write_text("name: kill-switch\ndecisions:\n"
                      "  - at: 30m\n    role: ic\n    action: declare_incident\n"
                      "  - at: 35m\n    role: ic\n    action: take-offline\n")
    result = run_sweep(make_spec("jailbreak-wave", [str(script)]), [1, 2], workers=1)
    summary = result.summaries[0]
    assert summary.policy == str(script) and summary.contained == 1.0
    assert summary.time_to_contain.median is not None and summary.time_to_contain.median < 45 * 60


def test_quantiles_treat_never_as_later_than_any_time() -> None:
    assert distribution([None, None, 10.0]).median is None
    d = distribution([1.0, 2.0, 3.0, 4.0, 5.0])
    assert (d.median, d.p10, d.p90) == (3.0, 1.4, 4.6)


def test_cli_json_and_csv(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_csv = tmp_path / "runs.csv"
    assert main(["sweep", "jailbreak-wave", "--policy", "idle", "--runs", "3", "--workers", "1",
                 "--seed-start", "5", "--csv", str(out_csv)]) == 0
    captured = capsys.readouterr()
    assert "time to contain median" in captured.out and captured.err == ""
    rows = list(csv.DictReader(out_csv.open()))
    assert [int(r["seed"]) for r in rows] == [5, 6, 7] and rows[0]["time_to_contain"] == ""
    assert main(["sweep", "jailbreak-wave", "--policy", "idle", "--runs", "2", "--workers", "1",
                 "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["runs"] == 2 and data["policies"]["idle"]["contained"] == 0.0


def test_cli_rejects_unknown_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sweep", "jailbreak-wave", "--policy", "nope", "--runs", "1"]) == 2
    assert "unknown policy" in capsys.readouterr().err


def test_progress_bar_draws_with_carriage_returns_only_when_enabled() -> None:
    shown, hidden = io.StringIO(), io.StringIO()
    ProgressBar(10, shown, enabled=True)(5)
    ProgressBar(10, hidden, enabled=False)(5)
    assert shown.getvalue().startswith("\r[") and "5/10 runs" in shown.getvalue()
    assert hidden.getvalue() == ""


def test_the_bar_is_drawn_before_any_run_finishes(spec: sweep.SweepSpec) -> None:
    """The first call comes at once, and the bar then says what is starting instead of a blank line."""
    calls: list[int] = []
    run_sweep(spec, SEEDS[:2], workers=1, progress=calls.append)
    assert calls[0] == 0 and calls[-1] == 4
    stream = io.StringIO()
    ProgressBar(400, stream, enabled=True, starting="starting 2 workers…")(0)
    assert "0/400 runs" in stream.getvalue() and "starting 2 workers…" in stream.getvalue()


def test_the_bar_fits_an_80_column_terminal_on_every_redraw() -> None:
    """At 80 columns the bar with its rate used to be 81 cells wide: the terminal wrapped it and
    every redraw left a copy of it on a line of its own. Each line drawn now fits in 77 cells, so
    the ``^C`` the terminal echoes after it fits on its line too."""
    stream = io.StringIO()
    bar = ProgressBar(4000, stream, enabled=True, columns=lambda: 80)
    bar.first = (time.perf_counter() - 10, 4)  # results came in ten seconds ago: rate and time left
    for done in (0, 104, 2204, 4000):
        bar(done)
    lines = stream.getvalue().split("\r")[1:]
    assert "runs/s, about" in stream.getvalue()
    assert lines and max(len(line) for line in lines) <= 77


def test_ctrl_c_keeps_the_seeds_that_finished(spec: sweep.SweepSpec) -> None:
    """Ctrl+C during a sweep raises SweepInterrupted holding whole seeds: every policy of each."""

    def interrupt_after_two_seeds(done: int) -> None:
        if done >= 4:
            raise KeyboardInterrupt

    with pytest.raises(SweepInterrupted) as caught:
        run_sweep(spec, SEEDS, workers=1, progress=interrupt_after_two_seeds)
    partial = caught.value.partial
    assert partial.interrupted and partial.seeds == SEEDS[:2] and partial.planned == 2 * len(SEEDS)
    assert [(r.policy, r.seed) for r in partial.runs] == [
        ("textbook", SEEDS[0]), ("textbook", SEEDS[1]), ("idle", SEEDS[0]), ("idle", SEEDS[1])]
    assert "2 seeds from 10 to 11  (4 of 16 runs in" in table(partial)


def read_until(fd: int, pattern: str, timeout: float) -> str:
    """Read a pseudo-terminal until ``pattern`` (a regex) shows up; fail with what it showed."""
    seen, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 0.2)[0]:
            try:
                seen += os.read(fd, 4096).decode(errors="replace")
            except OSError:  # the other side closed: the program ended
                break
            if re.search(pattern, seen):
                return seen
    raise AssertionError(f"{pattern!r} never showed; the terminal showed:\n{seen}")


def start_sweep_on_a_terminal() -> tuple[subprocess.Popen[str], int]:
    """`ttx sweep jailbreak-wave --runs 400 --workers 2`, stderr on a pseudo-terminal (so the bar shows),
    in its own session (so a signal to its group reaches the workers too, as Ctrl+C in a terminal does)."""
    leader, follower = pty.openpty()
    command = [str(Path(sys.executable).parent / "ttx"), "sweep", "jailbreak-wave", "--runs", "400",
               "--workers", "2"]
    sweep = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=follower,
                             text=True, start_new_session=True)
    os.close(follower)
    return sweep, leader


def interrupt(sweep: subprocess.Popen[str], leader: int, after: str, to_group: bool) -> tuple[str, str]:
    """Wait for ``after`` on the terminal, send SIGINT; return (stdout, everything the terminal showed)."""
    try:
        bar = read_until(leader, after, timeout=120)
        if to_group:
            os.killpg(sweep.pid, signal.SIGINT)
        else:
            sweep.send_signal(signal.SIGINT)
        summary, _ = sweep.communicate(timeout=60)
        return summary, bar + read_until(leader, r"interrupted after .*\n", timeout=10)
    finally:
        if sweep.poll() is None:
            os.killpg(sweep.pid, signal.SIGKILL)
        os.close(leader)


@pytest.mark.parametrize("to_group", [True, False], ids=["ctrl-c-in-a-terminal", "kill-INT-the-main-process"])
def test_ctrl_c_stops_a_sweep_and_prints_the_runs_done_so_far(to_group: bool) -> None:
    """Start `ttx sweep` on a terminal, press Ctrl+C once the bar has moved: it stops, prints the
    summary of what finished, says it was interrupted and exits 130, with no worker traceback."""
    sweep, leader = start_sweep_on_a_terminal()
    summary, terminal = interrupt(sweep, leader, r"\] [1-9][\d,]*/800 runs", to_group)
    assert sweep.returncode == 130
    assert "starting 2 workers…" in terminal
    heading = r"^jailbreak-wave  [\d,]+ seeds? from \d+ to \d+  \([\d,]+ of 800 runs in .*; interrupted\)"
    assert re.search(heading, summary) and "time to contain median" in summary, summary
    assert re.search(r"ttx sweep: interrupted after [\d,]+ of 800 runs; the summary covers the [\d,]+ seeds?",
                     terminal)
    assert "Traceback" not in terminal


def _slow_chunk(seed: int) -> int:
    time.sleep(0.02)
    return seed


def test_stopping_a_pool_with_queued_chunks_raises_nothing_in_its_threads(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopping the workers mid-sweep, 40 times over, never makes the pool's manager thread raise.

    On CPython 3.11 a queued future cancelled from the main thread while a terminated worker marks
    the pool broken raised ``InvalidStateError`` there (about 1 stop in 10), and its traceback
    landed under the sweep's summary after Ctrl+C; the pool now cancels its own queue.
    """
    raised: list[str] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(repr(args.exc_value)))
    for _ in range(40):
        pool = ProcessPoolExecutor(max_workers=2, mp_context=sweep.worker_context())
        chunks = [pool.submit(_slow_chunk, seed) for seed in range(30)]
        chunks[0].result()
        sweep._stop(pool)
        pool.shutdown(wait=True)
    assert raised == []


def test_ctrl_c_while_the_workers_start_says_nothing_finished() -> None:
    """Ctrl+C before any run finished: no table, one line saying so, exit 130, no traceback from a
    worker that was still importing."""
    sweep, leader = start_sweep_on_a_terminal()
    summary, terminal = interrupt(sweep, leader, "starting 2 workers…", to_group=True)
    assert sweep.returncode == 130 and "Traceback" not in terminal
    if summary == "":  # the usual case; on a fast machine a first seed may just have finished
        assert "ttx sweep: interrupted after 0 of 800 runs\r\n" in terminal
    else:
        assert "interrupted)" in summary.splitlines()[0]


def test_idle_shortcut_is_the_idle_policy_event_for_event(flagship: LoadedScenario) -> None:
    """The sweep's do-nothing run (which doubles as the baseline) equals the idle bot's run exactly."""
    from simulator.engine.policies import Idle
    from simulator.engine.runner import idle_run, run_policy

    for seed in (3, 4):
        fast, slow = idle_run(flagship, seed), run_policy(flagship, Idle(), seed)
        assert [e.to_json() for e in fast.drill.events] == [e.to_json() for e in slow.drill.events]
        assert fast.result.to_dict() == slow.result.to_dict()
