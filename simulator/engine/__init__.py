"""The drill engine: the SimPy drill and its parts, events, journal, view, scoring, policies and runs.

Imports :mod:`simulator.format` only. Also here: the do-nothing baseline (:mod:`baseline`) and
replaying a journal (:mod:`replay`), because scoring and crash recovery both need them.
"""
