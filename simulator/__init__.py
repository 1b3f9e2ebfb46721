"""ttx: a tabletop-exercise simulator for AI incident response (headless core)."""

__version__ = "0.1.0"
