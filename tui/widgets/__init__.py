"""Widgets of the drill dashboard: signals, injects, incident, actions, updates, people and clocks."""
