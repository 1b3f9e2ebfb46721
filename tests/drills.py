"""Drills to record in history tests: journals of bot runs, and journals written as if people played them."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from simulator.engine.journal import write_journal
from simulator.engine.policies import load_policy
from simulator.engine.runner import run_policy
from simulator.format.loader import LoadedScenario

HESITANT = """\
name: hesitant
decisions:
  - at: 1h10m
    role: ic
    action: declare_incident
    params: {commander: ic}
  - at: 1h20m
    role: ml
    action: tighten-filter
  - at: 1h30m
    role: ic
    action: escalate
    params: {to: exec}
"""
"""A slow team: declares 70 minutes in, filters late, escalates once, never blocks the prompts."""


def journal(loaded: LoadedScenario, path: Path, *, policy: str = "textbook", seed: int = 7,
            people: bool = False, played: datetime | None = None) -> Path:
    """Run ``policy`` headless and write its journal; with ``people``, the header says people played it
    (``human``, as ``ttx play`` writes), so the history files it as a drill by people. ``played`` sets the
    file's modification time, which the history takes as the drill's date."""
    if policy == "hesitant":
        script = path.with_suffix(".policy.yaml")
        script.write_text(HESITANT, encoding="utf-8")
        policy = str(script)
    run = run_policy(loaded, load_policy(policy, loaded.scenario), seed)
    write_journal(path, run.drill.header("human" if people else run.result.policy), run.drill.events)
    if played is not None:
        stamp = played.timestamp()
        os.utime(path, (stamp, stamp))
    return path
