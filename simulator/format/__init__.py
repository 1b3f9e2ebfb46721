"""The scenario format: pydantic models, the safe YAML loader, durations, taxonomy, schema, MSEL CSV, starter.

The bottom layer: it imports nothing else of ``simulator``. The command vocabulary (:mod:`commands`)
lives here too, because scenarios name verbs in their expectations and scripted policies.
"""
