"""Events: what happened in a drill, in order. The journal, the views and the score are folds of them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from simulator.format.taxonomy import OBSERVERS


class Kind(StrEnum):
    """Every kind of event the engine emits."""

    DRILL_STARTED = "drill_started"
    TICK = "tick"
    """Observed signal readings and responder loads for one monitoring interval (coalescable)."""
    HARM = "harm"
    """Hidden truth for one interval: harmful outputs per stream and the harmful rate."""
    ALERT = "alert"
    ALERT_CLEARED = "alert_cleared"
    INJECT = "inject"
    COMMAND = "command"
    """An accepted command, exactly as submitted (replay re-submits these)."""
    REFUSED = "refused"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL_GRANTED = "approval_granted"
    APPROVAL_DENIED = "approval_denied"
    ACTION_STARTED = "action_started"
    ACTION_EFFECTIVE = "action_effective"
    INCIDENT_DECLARED = "incident_declared"
    SEVERITY_SET = "severity_set"
    CLASSIFIED = "classified"
    ESCALATED = "escalated"
    UPDATE_SENT = "update_sent"
    INVESTIGATION_STARTED = "investigation_started"
    FINDINGS = "findings"
    WATCH_STARTED = "watch_started"
    WATCH_ENDED = "watch_ended"
    STAGE_DECLARED = "stage_declared"
    RESURGENCE = "resurgence"
    ROTATED = "rotated"
    RESTED = "rested"
    REGULATOR_NOTIFIED = "regulator_notified"
    MESSAGE = "message"
    RESOLVED = "resolved"
    EXPECTATION_MET = "expectation_met"
    EXPECTATION_MISSED = "expectation_missed"
    CLOCK_STARTED = "clock_started"
    CLOCK_MET = "clock_met"
    CLOCK_MISSED = "clock_missed"
    QUESTION_ASKED = "question_asked"
    """A discussion question reaches the roles it is addressed to."""
    ANSWER_GIVEN = "answer_given"
    """One player's answer (hidden from players until the end, so answers stay independent)."""
    QUESTION_CLOSED = "question_closed"
    """A question closed: the expected answer and why, to the roles it was addressed to."""
    OBSERVATION = "observation"
    """A facilitator's or evaluator's observation against an objective (hidden from players)."""
    HOT_WASH = "hot_wash"
    """The drill's time is up and the hot-wash questions are open; the clock stands still."""
    DRILL_ENDED = "drill_ended"
    RESULT = "result"
    PLAYER_JOINED = "player_joined"
    """Session events (team drills): recorded with :meth:`Drill.note`, replayed as they were."""
    PLAYER_LEFT = "player_left"
    CLOCK_CHANGED = "clock_changed"
    SESSION_NOTE = "session_note"


SESSION_KINDS = frozenset({Kind.PLAYER_JOINED, Kind.PLAYER_LEFT, Kind.CLOCK_CHANGED,
                           Kind.SESSION_NOTE})
"""Kinds that record the session around the drill rather than the drill itself."""


TRUTH = frozenset({Kind.HARM, Kind.EXPECTATION_MET, Kind.EXPECTATION_MISSED, Kind.RESURGENCE})
"""The hidden truth a team sees only at the end (the review), and the facilitator all along."""


TICK_KINDS = frozenset({Kind.TICK, Kind.HARM})
"""The per-tick kinds: built only where someone reads them; everything else is news a policy reacts to."""


COALESCABLE = TICK_KINDS
"""Kinds a slow client may receive only the latest of; injects and actions are never coalesced."""


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened at a sim time.

    ``to`` is the roles it is addressed to (``None``: everyone); ``hidden`` marks the
    truth only the facilitator and the after-action review see.
    """

    t: float
    """Sim seconds from harm start."""
    seq: int
    """Position in the journal, from 1."""
    kind: Kind
    actor: str | None = None
    """Role (or ``engine``/``facilitator``) that caused it."""
    payload: dict[str, Any] = field(default_factory=dict)
    to: tuple[str, ...] | None = None
    hidden: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (the journal line)."""
        out: dict[str, Any] = {"t": round(self.t, 6), "seq": self.seq, "kind": str(self.kind),
                               "actor": self.actor, "payload": self.payload}
        if self.to is not None:
            out["to"] = list(self.to)
        if self.hidden:
            out["hidden"] = True
        return out

    def to_json(self) -> str:
        """One compact, key-sorted JSON line: the same event always gives the same bytes."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """Rebuild an event from its journal form."""
        to = data.get("to")
        return cls(t=float(data["t"]), seq=int(data["seq"]), kind=Kind(data["kind"]),
                   actor=data.get("actor"), payload=dict(data.get("payload") or {}),
                   to=tuple(to) if to is not None else None, hidden=bool(data.get("hidden", False)))

    def visible_to(self, role: str) -> bool:
        """Whether a player holding ``role`` receives this event (the facilitator and evaluators
        receive all)."""
        if role in OBSERVERS:
            return True
        if self.hidden:
            return False
        return self.to is None or role in self.to


_NEW = object.__new__
_SET_T, _SET_SEQ, _SET_KIND, _SET_ACTOR, _SET_PAYLOAD, _SET_TO, _SET_HIDDEN = (
    getattr(Event, name).__set__ for name in ("t", "seq", "kind", "actor", "payload", "to", "hidden"))


def new_event(t: float, seq: int, kind: Kind, actor: str | None, payload: dict[str, Any],
              to: tuple[str, ...] | None, hidden: bool) -> Event:
    """``Event(t, seq, kind, actor, payload, to, hidden)``, built for the engine's hot path: every
    field is given, so each slot is set through its descriptor directly, not through the frozen
    dataclass's ``object.__setattr__`` per field (a fifth of an event's cost, ~140 events a run)."""
    event: Event = _NEW(Event)
    _SET_T(event, t)
    _SET_SEQ(event, seq)
    _SET_KIND(event, kind)
    _SET_ACTOR(event, actor)
    _SET_PAYLOAD(event, payload)
    _SET_TO(event, to)
    _SET_HIDDEN(event, hidden)
    return event
