"""Headless runs: a policy drives a drill as fast as possible, then the run is scored.

The policy is asked when something happens (after every non-tick event), again at the same
instant while its own commands change something (an approval it can grant appears), and at the
times it asks to be woken (its own deadlines: an update due, a stage gate opening). Between those
the drill closes ticks in batches without asking anyone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from simulator.engine import baseline
from simulator.engine.drill import Drill
from simulator.engine.events import Event, Kind
from simulator.engine.intent import BotCommand
from simulator.engine.journal import write_journal
from simulator.engine.policies import Policy, load_policy
from simulator.engine.scoring import Result, score
from simulator.engine.view import DrillView
from simulator.format.loader import LoadedScenario, load_scenario
from simulator.format.taxonomy import FACILITATOR

ROUNDS_PER_INSTANT = 20
"""Most times a policy is asked again at one instant (each time because its last commands were taken)."""


def new_drill(loaded: LoadedScenario, seed: int | None, *, journal: bool = True) -> Drill:
    """A drill of a loaded scenario, carrying its hash and source for the journal header.

    ``journal=False`` is for runs only their result is wanted from (sweeps): no per-tick events,
    no inject text.
    """
    return Drill(loaded.scenario, seed, content_hash=loaded.content_hash, source=loaded.label,
                 record_ticks=journal, render_text=journal)


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
               drill: Drill | None = None, until: float | None = None, *, journal: bool = True) -> Run:
    """Play a whole drill with ``policy`` deciding, as fast as possible.

    ``drill``: go on from this one (a fork) instead of starting a new drill on ``seed``.
    ``until``: the facilitator ends the drill then (as one ended early), before the policy decides
    at that time.
    """
    drill = new_drill(loaded, seed, journal=journal) if drill is None else drill
    view = DrillView(seat=None, keep_timeline=False)
    drill.listeners.append(view.apply)
    view.extend(drill.events)
    end = loaded.scenario.duration if until is None else min(until, loaded.scenario.duration)
    while not drill.finished:
        if drill.now >= end and not drill.discussion.in_hot_wash:
            drill.submit(BotCommand(FACILITATOR, "end_drill", {}))
            if drill.finished:
                break
        _ask(policy, drill, view)
        close_answered_questions(drill)
        if drill.held:
            release(drill)
            continue
        wake = policy.wake_at(view)
        drill.advance_until_news(min(wake, end) if wake is not None and wake > drill.now else end)
    return Run(drill, finish(drill, loaded, policy.name))


def _ask(policy: Policy, drill: Drill, view: DrillView) -> None:
    """Ask the policy what to do now, again while its commands are taken and change what it sees
    (bounded; see :attr:`~simulator.engine.policies.Policy.quiet_after`)."""
    for _ in range(ROUNDS_PER_INSTANT):
        view.now = drill.now
        if not drill.record_ticks:
            at = drill.latest_tick_at
            if at is not None and (view.tick_t is None or at > view.tick_t):
                latest = drill.latest_loads()
                assert latest is not None
                view.observe_loads(*latest)
        commands = policy.decide(view)
        if not commands or drill.finished:
            return
        seen, tick_at = len(drill.events), drill.latest_tick_at
        taken = [drill.submit(command) for command in commands]
        if all(event.kind == "refused" for event in taken):
            return
        if drill.latest_tick_at == tick_at and _only_quiet(drill.events, seen, policy.quiet_after):
            return


def _only_quiet(events: list[Event], start: int, quiet: frozenset[Kind]) -> bool:
    """Whether every event from ``start`` that a bot's view folds (hidden ones it never sees) is
    of a ``quiet`` kind."""
    for i in range(start, len(events)):
        event = events[i]
        if not event.hidden and event.kind not in quiet:
            return False
    return True


def close_answered(question: str) -> BotCommand:
    """The white cell closing a question everyone asked has answered (journaled like any command)."""
    return BotCommand(FACILITATOR, "close_question", {"question": question, "reason": "answered"})


def close_answered_questions(drill: Drill) -> None:
    """A single-seat run: close every open question the policy has answered (it answers for the team)."""
    for state in drill.discussion.open_questions:
        if state.answers:
            drill.submit(close_answered(state.spec.id))


def release(drill: Drill) -> None:
    """Nobody is left to answer: close the questions that hold the clock (a pausing question, the
    hot wash), so a headless run goes on."""
    for state in drill.discussion.open_questions:
        if drill.held and (state.spec.pauses or state.spec.hot_wash):
            drill.submit(BotCommand(FACILITATOR, "close_question", {"question": state.spec.id}))


def play_out(drill: Drill) -> None:
    """Play the rest of the drill with nobody acting; questions that hold the clock are closed."""
    drill.run_to_end()
    while not drill.finished:
        release(drill)
        drill.run_to_end()


def idle_run(loaded: LoadedScenario, seed: int, *, journal: bool = True) -> Run:
    """The do-nothing run, scored; its drill doubles as the seed's baseline (simulated once, not twice).

    Gives the same events and result as ``run_policy(loaded, Idle(), seed)``.
    """
    drill = new_drill(loaded, seed, journal=journal)
    play_out(drill)
    end = loaded.scenario.duration
    baseline.remember((loaded.content_hash or loaded.scenario.id, seed, round(end, 3)),
                      baseline.of_drill(drill, end))
    return Run(drill, finish(drill, loaded, "idle"))


def run_named(scenario: str, policy: str = "textbook", seed: int | None = None,
              journal: str | Path | None = None, *, events: bool = True) -> Run:
    """Load a scenario and a policy by name or path, run, and optionally write the journal.

    ``events=False`` (and no journal): only the result is wanted, so no per-tick events and no
    inject text are built.
    """
    loaded = load_scenario(scenario)
    run = run_policy(loaded, load_policy(policy, loaded.scenario), seed,
                     journal=events or journal is not None)
    if journal is not None:
        write_journal(journal, run.drill.header(run.result.policy), run.drill.events)
    return run
