"""Headless runs: a policy drives a drill as fast as possible, then the run is scored."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simulator.engine import baseline
from simulator.engine.drill import Drill
from simulator.engine.journal import write_journal
from simulator.engine.policies import Policy, load_policy
from simulator.engine.scoring import Result, score
from simulator.engine.view import DrillView
from simulator.format.loader import LoadedScenario, load_scenario


def new_drill(loaded: LoadedScenario, seed: int | None) -> Drill:
    """A drill of a loaded scenario, carrying its hash and source for the journal header."""
    return Drill(loaded.scenario, seed, content_hash=loaded.content_hash, source=loaded.label)


def baseline_of(loaded: LoadedScenario, seed: int, until: float | None = None) -> baseline.Baseline:
    """The cached do-nothing run of a loaded scenario (keyed by its content hash)."""
    return baseline.do_nothing(loaded.scenario, seed, until, key=loaded.content_hash)


def finish(drill: Drill, loaded: LoadedScenario, policy: str | None) -> Result:
    """Score a finished drill against doing nothing over the same stretch; record the result last."""
    result = score(drill, baseline_of(loaded, drill.seed, until=drill.now).weighted_harm, policy)
    drill.record_result(result.to_dict())
    return result


@dataclass
class Run:
    """A finished headless run."""

    drill: Drill
    result: Result


def run_policy(loaded: LoadedScenario, policy: Policy, seed: int | None = None,
               drill: Drill | None = None) -> Run:
    """Play a whole drill with ``policy`` deciding, as fast as possible.

    ``drill``: go on from this one (a fork) instead of starting a new drill on ``seed``.
    """
    drill = new_drill(loaded, seed) if drill is None else drill
    view = DrillView(seat=None)
    drill.listeners.append(view.apply)
    view.extend(drill.events)
    wakes = sorted(policy.wake_times())
    tick = loaded.scenario.tick
    while not drill.finished:
        view.now = drill.now
        for command in policy.decide(view):
            drill.submit(command)
        upcoming = [w for w in wakes if w > drill.now]
        step = (int(drill.now // tick) + 1) * tick
        drill.advance_to(min([step, *upcoming]))
    return Run(drill, finish(drill, loaded, policy.name))


def idle_run(loaded: LoadedScenario, seed: int) -> Run:
    """The do-nothing run, scored; its drill doubles as the seed's baseline (simulated once, not twice).

    Gives the same events and result as ``run_policy(loaded, Idle(), seed)``.
    """
    drill = new_drill(loaded, seed)
    drill.run_to_end()
    end = loaded.scenario.duration
    baseline.remember((loaded.content_hash or loaded.scenario.id, seed, round(end, 3)),
                      baseline.of_drill(drill, end))
    return Run(drill, finish(drill, loaded, "idle"))


def run_named(scenario: str, policy: str = "textbook", seed: int | None = None,
              journal: str | Path | None = None) -> Run:
    """Load a scenario and a policy by name or path, run, and optionally write the journal."""
    loaded = load_scenario(scenario)
    run = run_policy(loaded, load_policy(policy, loaded.scenario), seed)
    if journal is not None:
        write_journal(journal, run.drill.header(run.result.policy), run.drill.events)
    return run
