"""A small scenario with discussion questions of every kind, for the answering and evaluator tests."""

from __future__ import annotations

from tests.conftest import MINIMAL

OBJECTIVES = ["Take the model offline within the hour", "Tell the right people in time"]

DISCUSSION = MINIMAL + """\
objectives:
  - "Take the model offline within the hour"
  - "Tell the right people in time"
questions:
  - id: who-decides
    prompt: "Who has the authority to take the model offline?"
    to: [ic, ml]
    ask: {at: 5m}
    kind: one
    options:
      - {id: ic, text: "The incident commander, on their own authority"}
      - {id: exec, text: "Only an executive"}
    expected: [ic]
    why: "The IC owns containment; waiting for an executive costs hours."
    within: 20m
    objective: "Take the model offline within the hour"
  - id: who-told
    prompt: "Who must be told in the first hour?"
    to: [ic, comms]
    ask: {at: 5m}
    kind: several
    options:
      - {id: legal, text: "Legal"}
      - {id: press, text: "The press"}
      - {id: exec, text: "The executive on call"}
    expected: [legal, exec]
    why: "Legal and the executive on call; the press hears from comms later."
    within: 20m
  - id: lessons
    prompt: "What would you do differently next time?"
    ask: {hot_wash: true}
    kind: text
"""
"""MINIMAL plus two objectives and three questions: one choice (IC, ML at 5m), several (IC, comms, asked at
the same moment, so it waits behind the first's dialog), and a free-text hot-wash question for everyone."""
