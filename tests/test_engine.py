"""The engine: deterministic, rate-independent in cost, faithful to the per-output model, strict."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.engine.drill import Drill
from simulator.engine.events import Kind
from simulator.engine.runner import Run, run_named
from simulator.engine.signals import ZScoreMonitor
from simulator.format.commands import Command
from simulator.format.loader import LoadedScenario, load_scenario
from simulator.format.scenario import Scenario
from tests.conftest import MINIMAL, WriteScenario
from tests.oracle import oracle_harm


def journal_bytes(run: Run) -> bytes:
    """A run's events as the journal lines they serialise to."""
    return "\n".join(e.to_json() for e in run.drill.events).encode()


def test_same_seed_and_policy_give_identical_journal_bytes() -> None:
    first = run_named("jailbreak-wave", "textbook", seed=11)
    second = run_named("jailbreak-wave", "textbook", seed=11)
    assert journal_bytes(first) == journal_bytes(second)


def test_different_seeds_give_different_runs() -> None:
    assert journal_bytes(run_named("jailbreak-wave", "idle", seed=1)) != \
        journal_bytes(run_named("jailbreak-wave", "idle", seed=2))


def _with_rate(scenario: Scenario, rps: float) -> Scenario:
    """The scenario at another traffic rate, without the signals and injects whose timing depends on it."""
    feature = scenario.features["chat"].model_copy(update={"traffic_rps": rps})
    return scenario.model_copy(update={"features": {"chat": feature}, "signals": {}, "injects": [],
                                       "clocks": []})


def test_engine_work_does_not_grow_with_the_output_rate(flagship: LoadedScenario) -> None:
    """At 1 output/s and at 10,000 outputs/s the engine takes the same number of steps."""
    def engine_steps(rps: float) -> int:
        drill = Drill(_with_rate(flagship.scenario, rps), seed=3)
        drill.run_to_end()
        return drill.steps

    slow, fast = engine_steps(1.0), engine_steps(10_000.0)
    assert fast == slow
    assert fast < 50, "ticks read ahead between change points, a step per scheduled event, none per output"


def _oracle_scenario(write_scenario: WriteScenario, fraction: str) -> Scenario:
    """The minimal scenario at 2 outputs/s with ``fraction`` as its harmful-fraction curve."""
    text = MINIMAL.replace("traffic_rps: 50", "traffic_rps: 2").replace(
        "harmful_fraction: {model: constant, value: 0.02}", f"harmful_fraction: {fraction}")
    return load_scenario(str(write_scenario(text))).scenario


@pytest.mark.parametrize("fraction", [
    "{model: constant, value: 0.05}",
    "{model: logistic, floor: 0.005, ceiling: 0.2, growth_per_hour: 6, midpoint: 20m}",
])
def test_aggregated_engine_agrees_with_the_per_output_oracle(write_scenario: WriteScenario,
                                                             fraction: str) -> None:
    """Mean and variance of harm volume over many seeds agree within statistical tolerance.

    Both counts are Poisson with the same mean λ, so over n runs the sample means differ by
    N(0, 2λ/n) and the sample variances by about N(0, 4λ²/(n−1)). We allow 4.5 standard errors:
    a false alarm once in ~150,000 runs of this test.
    """
    scenario = _oracle_scenario(write_scenario, fraction)
    horizon, n = 1800.0, 160
    engine = []
    for seed in range(n):
        drill = Drill(scenario.model_copy(update={"duration": horizon}), seed=seed)
        drill.run_to_end()
        engine.append(drill.truth.harm_volume)
    oracle = [oracle_harm(scenario, 10_000 + seed, horizon) for seed in range(n)]
    lam = (np.mean(engine) + np.mean(oracle)) / 2
    assert abs(np.mean(engine) - np.mean(oracle)) < 4.5 * math.sqrt(2 * lam / n)
    assert abs(np.var(engine, ddof=1) - np.var(oracle, ddof=1)) < 4.5 * math.sqrt(4 * lam**2 / (n - 1))


def test_a_refused_command_says_why_and_changes_nothing(flagship: LoadedScenario) -> None:
    drill = Drill(flagship.scenario, seed=1)
    drill.advance_to(600)
    before = (drill.incident, list(drill.mitigations))
    refusal = drill.submit(Command(role="comms", action="take-offline"))
    assert refusal.kind == Kind.REFUSED
    assert refusal.payload["reason"] == "comms may not take 'take-offline' (allowed: ml, ic)"
    assert (drill.incident, drill.mitigations) == before
    early = drill.submit(Command(role="ic", action="set_severity", params={"level": "sev1"}))
    assert early.payload["reason"] == "declare the incident first"
    bad = drill.submit(Command(role="ic", action="declare_incident", params={"commander": "boss"}))
    assert bad.payload["reason"].startswith("bad parameter commander: Input should be 'ic'")


def test_rotating_or_resting_a_role_not_in_play_is_refused(write_scenario: WriteScenario) -> None:
    """Only responders in the drill carry a load; naming another role used to add it to the loads."""
    drill = Drill(load_scenario(str(write_scenario(MINIMAL))).scenario, seed=1)
    drill.submit(Command(role="ic", action="declare_incident"))
    rotate = drill.submit(Command(role="ic", action="rotate", params={"target": "legal"}))
    rest = drill.submit(Command(role="ic", action="rest", params={"target": "ts"}))
    assert rotate.payload["reason"] == "legal is not in play"
    assert rest.payload["reason"] == "ts is not in play"
    drill.run_to_end()
    assert set(drill.loads) == {"ic", "ml", "comms"}


def test_a_traffic_shape_raises_no_anomaly_alert_without_harm(write_scenario: WriteScenario) -> None:
    """The output-anomaly baseline starts from the shaped traffic at t=0, not the feature's nominal rate.

    With traffic at 3× nominal when the drill starts, the monitor used to alert within two minutes
    on benign false positives alone.
    """
    shaped = "    traffic_rps: 50\n    shape: [{at: 0s, factor: 3.0}]\n"
    text = (MINIMAL.replace("    traffic_rps: 50\n", shaped)
            .replace("value: 0.02}", "value: 0.0}")
            .replace("kind: user_reports", "kind: output_anomaly"))
    scenario = load_scenario(str(write_scenario(text))).scenario
    for seed in range(3):
        drill = Drill(scenario, seed)
        drill.run_to_end()
        assert not [e for e in drill.events if e.kind == Kind.ALERT]


def test_approval_is_needed_from_the_named_role(flagship: LoadedScenario) -> None:
    drill = Drill(flagship.scenario, seed=1)
    drill.submit(Command(role="ml", action="take-offline"))
    (request,) = drill.pending
    wrong = drill.submit(Command(role="ml", action="approve", params={"request": request}))
    assert wrong.payload["reason"] == f"request #{request} needs ic to decide"
    drill.submit(Command(role="ic", action="approve", params={"request": request}))
    drill.advance_to(20 * 60)
    assert [m.action.id for m in drill.mitigations] == ["take-offline"]
    assert drill.current_rate() == 0.0


def test_a_missed_expectation_fires_its_contingency(write_scenario: WriteScenario) -> None:
    drill = Drill(load_scenario(str(write_scenario(MINIMAL))).scenario, seed=1)
    drill.run_to_end()
    fired = [e.payload["inject"] for e in drill.events if e.kind == Kind.INJECT]
    assert fired == ["first", "nudge"]
    assert [x.status for x in drill.expectations] == ["missed"]


def test_acting_before_the_inject_meets_its_expectation(write_scenario: WriteScenario) -> None:
    drill = Drill(load_scenario(str(write_scenario(MINIMAL))).scenario, seed=1)
    drill.submit(Command(role="ic", action="declare_incident"))
    drill.run_to_end()
    assert [x.status for x in drill.expectations] == ["met"]
    assert "nudge" not in drill.fired


def test_harmful_samples_are_redacted_placeholders(write_scenario: WriteScenario) -> None:
    drill = Drill(load_scenario(str(write_scenario(MINIMAL))).scenario, seed=1)
    drill.advance_to(11 * 60)
    (inject,) = [e for e in drill.events if e.kind == Kind.INJECT]
    assert inject.payload["body"].startswith("Sample: [REDACTED model output · harm: Confabulation · ")


def harm_rate_over_the_minute_to(drill: Drill, t: float) -> float:
    """Expected harmful outputs per second over the tick ending at ``t``, as the hidden harm event says."""
    drill.advance_to(t + 1)  # the tick at t itself has run
    return next(float(e.payload["rate"]) for e in reversed(drill.events) if e.kind == Kind.HARM and e.t == t)


def test_a_block_list_fades_but_a_tightened_filter_holds(flagship: LoadedScenario) -> None:
    """Block lists decay as adversaries adapt; durable fixes do not.

    On the flagship the block list (in effect at 0:15) cuts harm to 0.2 with a 2-hour half-life,
    the tighter filter (in effect at 0:20) to 0.35 for good: against doing nothing on the same
    seed, the harm rate over a minute is ``0.35 × (1 − 0.8 × ½^(s / 2h))`` where ``s`` is the time
    the block list has been in effect at the middle of that minute.
    """
    mitigated, idle = Drill(flagship.scenario, seed=2), Drill(flagship.scenario, seed=2)
    mitigated.submit(Command(role="ml", action="block-list"))
    mitigated.submit(Command(role="ml", action="tighten-filter"))

    def relative_harm(t: float) -> float:
        return harm_rate_over_the_minute_to(mitigated, t) / harm_rate_over_the_minute_to(idle, t)

    def block_list(in_effect_for: float) -> float:
        return 1 - 0.8 * float(0.5 ** (in_effect_for / 7200))

    assert relative_harm(30 * 60) == pytest.approx(0.35 * block_list(14.5 * 60), rel=1e-4)
    assert relative_harm(2 * 3600 + 15 * 60) == pytest.approx(0.35 * block_list(7200 - 30), rel=1e-4)
    assert relative_harm(4 * 3600) == pytest.approx(0.35 * block_list(3 * 3600 + 44.5 * 60), rel=1e-4)


def eta_of(drill: Drill, action: str) -> float:
    """When the drill's ``action_started`` event says ``action`` takes effect."""
    return next(float(e.payload["eta"]) for e in drill.events
                if e.kind == Kind.ACTION_STARTED and e.payload["action"] == action)


def test_load_slows_a_tired_role(flagship: LoadedScenario) -> None:
    """Latency grows with load: at 80 % load (the flagship's slowdown is 1) an action takes 1.8× as long."""
    fresh = Drill(flagship.scenario, seed=1)
    tired = Drill(flagship.scenario, seed=1)
    tired.loads["ml"] = 0.8
    for drill in (fresh, tired):
        drill.submit(Command(role="ml", action="tighten-filter"))
    assert eta_of(fresh, "tighten-filter") == 20 * 60
    assert eta_of(tired, "tighten-filter") == pytest.approx(1.8 * 20 * 60)


def z_by_hand(monitor: ZScoreMonitor, counts: list[int]) -> list[float]:
    """The z-score after each count, recomputed from the whole window and baseline every time."""
    history: list[int] = monitor.history.tolist()
    b, w = monitor.baseline_ticks, monitor.window_ticks
    out = []
    for count in counts:
        history = [*history[1:], count]
        base, window = history[:b], sum(history[b:])
        mean = sum(base) / b
        spread = (b * sum(x * x for x in base) - sum(base) ** 2) / b**2
        out.append((window - w * mean) / math.sqrt(w * max(spread, mean, 1 / w)))
    return out


def test_the_z_score_monitor_matches_recomputing_its_whole_baseline() -> None:
    """The running integer sums give the z-score a full recomputation over window and baseline gives."""
    rng = np.random.default_rng(5)
    monitor = ZScoreMonitor(60.0, 15 * 60.0, 2 * 3600.0, 3.0, 2.0, rng)
    counts = rng.poisson(4.0, 400)
    _, z = monitor.scores(counts)
    assert z.tolist() == pytest.approx(z_by_hand(monitor, counts.tolist()), rel=1e-12)


def test_a_drill_advanced_in_odd_steps_gives_the_events_of_one_advance() -> None:
    """Ticks read ahead are the same however the drill is advanced (a live drill and its replay)."""
    scenario = load_scenario("jailbreak-wave").scenario
    whole, pieces = Drill(scenario, seed=4), Drill(scenario, seed=4)
    whole.run_to_end()
    for t in range(0, int(scenario.duration) + 1, 7 * 60 + 13):
        pieces.advance_to(t)
    pieces.run_to_end()
    assert [e.to_json() for e in pieces.events] == [e.to_json() for e in whole.events]


def test_the_z_score_stays_exact_for_counts_too_large_for_64_bit_sums() -> None:
    """Counts near 10¹⁰ per tick (a feature at the 10⁹ requests/s limit) square past 64 bits; the
    monitor then sums with Python integers and still gives the full recomputation's z-scores."""
    rng = np.random.default_rng(6)
    monitor = ZScoreMonitor(60.0, 5 * 60.0, 20 * 60.0, 3.0, 4e9, rng)
    counts = rng.poisson(4e9, 50)
    _, z = monitor.scores(counts)
    assert z.tolist() == pytest.approx(z_by_hand(monitor, counts.tolist()), rel=1e-9)


def test_a_denial_names_the_action_it_denied_wherever_it_is_shown(flagship: LoadedScenario) -> None:
    """The denial event carries the action's title: the feed line and ``ttx join --headless`` say
    "denied request #1: Take the assistant offline (not yet)", not "denied #1 take-offline: "."""
    from simulator.engine.payloads import describe
    from simulator.engine.view import DrillView
    from simulator.team.remote import event_line

    drill = Drill(flagship.scenario, seed=1)
    view = DrillView(seat=None)
    drill.listeners.append(view.apply)
    drill.submit(Command(role="ml", action="take-offline"))
    (request,) = drill.pending
    drill.submit(Command(role="ic", action="deny", params={"request": request, "reason": "not yet"}))
    denied = next(e for e in drill.events if e.kind == Kind.APPROVAL_DENIED)
    said = f"denied request #{request}: Take the assistant offline (not yet)"
    assert describe(denied) == said
    assert event_line(denied).endswith(f"approval_denied ic: {said}")
    assert view.timeline[-1][1] == f"ic {said}"


def test_a_bot_command_is_journaled_and_refused_exactly_like_a_players_command(
        flagship: LoadedScenario) -> None:
    """A bot's plain ``BotCommand`` record goes through the same validation, refusals and journal
    form as a player's pydantic ``Command``: two drills fed one kind each end up byte for byte equal."""
    from simulator.engine.intent import BotCommand

    steps: list[tuple[str, str, dict[str, object]]] = [
        ("ic", "set_severity", {"level": "sev2"}), ("ic", "declare_incident", {"commander": "ic"}),
        ("ic", "set_severity", {"level": "sev9"}), ("comms", "block-list", {}),
        ("ic", "escalate", {"to": "exec", "extra": 1}), ("ml", "investigate", {})]
    drills = [Drill(flagship.scenario, 5), Drill(flagship.scenario, 5)]
    for role, action, params in steps:
        drills[0].advance_to(drills[0].now + 600)
        drills[1].advance_to(drills[1].now + 600)
        drills[0].submit(Command(role=role, action=action, params=params))
        drills[1].submit(BotCommand(role, action, dict(params)))
    journals = [[e.to_json() for e in d.events] for d in drills]
    assert any(e.kind == Kind.REFUSED for e in drills[1].events)
    assert journals[0] == journals[1]


def test_a_baseline_without_the_msel_has_the_same_truth_as_the_full_idle_drill(
        flagship: LoadedScenario) -> None:
    """A baseline plays no injects, expectations or clocks (nobody reads them), and its harm curve,
    volumes and weighted harm are exactly those of the idle drill that plays them all."""
    from simulator.engine import baseline
    from simulator.engine.runner import idle_run

    for seed in (3, 11):
        baseline._cache.clear()
        lean = baseline.do_nothing(flagship.scenario, seed, key="lean")
        full = baseline.of_drill(idle_run(flagship, seed, journal=False).drill, flagship.scenario.duration)
        assert lean == full


def test_ending_as_an_action_takes_effect_keeps_every_rate_finite(flagship: LoadedScenario) -> None:
    """The kill switch takes effect and the facilitator ends the drill in that same instant: the last
    piece of harm has no length. Its rate was 0/0, a NaN that is never under the containment
    threshold (and printed a RuntimeWarning in ``ttx replay``); it is 0, as nothing is expected of it."""
    drill = Drill(flagship.scenario, seed=1)
    drill.advance_to(306.144)  # between two ticks, as a player's moment is
    drill.submit(Command(role="ml", action="take-offline"))
    (request,) = drill.pending
    drill.submit(Command(role="ic", action="approve", params={"request": request}))
    drill.advance_to(eta_of(drill, "take-offline"))
    assert [m.action.id for m in drill.mitigations] == ["take-offline"]
    with np.errstate(all="raise"):
        drill.submit(Command(role="facilitator", action="end_drill"))
    _, _, rates = drill.truth.intervals()
    assert np.isfinite(rates).all()
