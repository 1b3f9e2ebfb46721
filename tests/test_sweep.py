"""Monte Carlo sweeps: the same seeds give the same numbers on 1 or 2 workers and on Dask."""

from __future__ import annotations

import csv
import importlib
import io
import json
from pathlib import Path
from typing import NoReturn

import pytest

from simulator.analysis import sweep
from simulator.analysis.sweep import distribution, make_spec, outcomes, run_sweep
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


def test_idle_shortcut_is_the_idle_policy_event_for_event(flagship: LoadedScenario) -> None:
    """The sweep's do-nothing run (which doubles as the baseline) equals the idle bot's run exactly."""
    from simulator.engine.policies import Idle
    from simulator.engine.runner import idle_run, run_policy

    for seed in (3, 4):
        fast, slow = idle_run(flagship, seed), run_policy(flagship, Idle(), seed)
        assert [e.to_json() for e in fast.drill.events] == [e.to_json() for e in slow.drill.events]
        assert fast.result.to_dict() == slow.result.to_dict()
