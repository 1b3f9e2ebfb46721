"""Screens of the drill TUI: briefing, dashboard, review, scenario picker, help and dialogs."""
