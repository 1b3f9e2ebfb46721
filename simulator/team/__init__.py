"""Team drills: the wire protocol, the authoritative drill server and the remote session a seat uses.

Imports the engine and the format; never the analysis, the command line or the TUI.
"""
