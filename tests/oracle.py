"""A per-output SimPy model: one event per model output. Slow on purpose; the engine's test oracle."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import numpy as np
import simpy

from simulator.engine.rates import Shape, harmful_fraction
from simulator.format.scenario import Scenario


def model_output(env: simpy.Environment, scenario: Scenario, rng: np.random.Generator,
                 counts: dict[str, int]) -> Generator[simpy.Event, Any, None]:
    """Every output is its own event: arrivals at the feature's rate, each harmful with the stream's fraction.

    Traffic shapes are handled by thinning against the peak rate.
    """
    streams = list(scenario.streams.items())
    feature_id = streams[0][1].feature
    feature = scenario.features[feature_id]
    shape = Shape(feature.shape)
    peak = feature.traffic_rps * max([1.0, *shape.factors])
    while True:
        yield env.timeout(float(rng.exponential(1.0 / peak)))
        t = env.now
        if rng.random() * peak > feature.traffic_rps * shape(t):
            continue
        for sid, stream in streams:
            if stream.feature == feature_id and rng.random() < harmful_fraction(stream.harmful_fraction, t):
                counts[sid] += 1


def oracle_harm(scenario: Scenario, seed: int, horizon: float) -> int:
    """Harmful outputs over ``horizon`` seconds with no mitigation, one SimPy event per output."""
    env = simpy.Environment()
    counts = {sid: 0 for sid in scenario.streams}
    env.process(model_output(env, scenario, np.random.default_rng(seed), counts))
    env.run(until=horizon)
    return sum(counts.values())
