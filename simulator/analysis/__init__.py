"""After the drill: after-action facts and findings, the rendered report, charts, summaries and sweeps.

Imports the engine and the format; never the team server, the command line or the TUI.
"""
