"""Wire messages of a team drill: pydantic models shared by server and client, one union per direction.

Every frame is one JSON object discriminated on ``kind``, validated strictly (no coercion: ``"7"``
is not an id) and, from a client, to a bounded, displayable shape (:func:`shape_problem`,
:func:`unsafe_character`), so nothing a client sends can break another seat's parser or terminal.

A client joins (``join`` with the join code, ``join_facilitator`` with the facilitator token, or
``join_evaluator`` with the evaluator token) and receives a ``welcome`` carrying its token; every
later frame carries that token. After a dropped connection it sends ``reconnect`` with the token
and the last event ``seq`` it saw, and gets a ``snapshot`` of every event after that seq for its
seat (in parts), then live ``events``. An evaluator sees what the facilitator sees and may send
only ``observe``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from simulator.format.commands import PLAYER_VERBS, AdhocParams

FRAME_LIMIT = 64 * 1024
"""Largest frame the server reads (bytes); a larger one gets a ``frame_too_large`` error reply."""
HARD_FRAME_LIMIT = 1024 * 1024
"""Largest frame a client accepts; beyond it the connection is closed (1009). Every frame the
server sends is built to fit it (see :data:`PAGE_LIMIT`)."""
PAGE_LIMIT = 256 * 1024
"""Bytes of events the server puts in one ``events``, ``snapshot`` or ``reveal`` frame; more go in
further frames. One event is far smaller (client text is bounded below), so a frame never nears
:data:`HARD_FRAME_LIMIT`."""
SEAT_TICKET_HEADER = "X-Ttx-Seat-Ticket"
"""HTTP header of the websocket upgrade by which an SSH seat's ``ttx join`` (on the host, so from
loopback) names the SSH login it serves: the server then counts the connection against that
player's address. The ticket is a secret the SSH front-end gets from the server per login."""

MAX_DEPTH = 4
"""Nesting of objects and arrays a client may send inside a frame's free-form parts (``params``)."""
MAX_ITEMS = 32
"""Keys of one object, or items of one array, a client may send."""
MAX_TEXT = 2000
"""Characters of one string a client may send."""
MAX_INT = 2**53
"""Largest integer (either sign) a client may send: beyond it JSON readers disagree."""

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_JOINERS = frozenset("\u200c\u200d")
"""Zero-width (non-)joiners: format characters that emoji and several scripts need."""


def unsafe_character(text: str) -> str | None:
    """The first character of ``text`` a terminal would act on or display deceptively, or ``None``.

    Control characters (C0 incl. newline and tab, DEL, C1: terminal escapes start with them),
    bidirectional overrides and isolates (U+202E …), line and paragraph separators, surrogates,
    private-use and unassigned code points. Format characters other than the zero-width joiners
    (needed by emoji) are refused too.
    """
    for ch in text:
        if ch in _BIDI or not (ch.isprintable() or ch in _JOINERS):
            return ch
    return None


def printable(text: str) -> str:
    """``text`` with every :func:`unsafe_character` shown as an escape (``\\x1b``, ``\\u202e``)."""
    if unsafe_character(text) is None:
        return text
    return "".join(ch if ch not in _BIDI and (ch.isprintable() or ch in _JOINERS)
                   else ch.encode("unicode_escape").decode("ascii") for ch in text)


def _safe_text(text: str) -> str:
    bad = unsafe_character(text)
    if bad is not None:
        raise PydanticCustomError("unsafe_text", "character U+{code} is not allowed (control, escape, "
                                  "bidirectional or invisible)", {"code": f"{ord(bad):04X}"})
    return text


def _name(text: str) -> str:
    _safe_text(text)
    if not text.strip():
        raise PydanticCustomError("blank_name", "a name needs a visible character")
    return text


TOKEN_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
"""What a seat, facilitator or evaluator token is: up to 128 letters, digits, ``-`` and ``_``."""
Token = Annotated[str, Field(min_length=1, max_length=128, pattern=TOKEN_PATTERN)]
Name = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_name)]
"""A person's name as shown to the team: visible characters only."""
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
"""A role, action or inject id."""
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9 ]+$")]
RequestId = Annotated[int, Field(ge=0, le=MAX_INT)]
"""Client-chosen number echoed in the ``ack`` or ``error`` for this frame."""
SafeText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(_safe_text)]
OBSERVATION_TEXT = 500
"""Characters of one observation (the engine's limit for ``observe``)."""
ObservationText = Annotated[str, Field(min_length=1, max_length=OBSERVATION_TEXT), AfterValidator(_safe_text)]
Objective = Annotated[str, Field(max_length=300), AfterValidator(_safe_text)]
"""One of the scenario's objectives (the engine checks which), or ``""`` for a general observation."""
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def shape_problem(value: Any, where: str = "", depth: int = 0) -> str | None:
    """Why ``value`` (decoded JSON from a client) is not of a bounded, displayable shape, or ``None``.

    Bounded: at most :data:`MAX_DEPTH` levels of objects and arrays, :data:`MAX_ITEMS` entries in
    each, strings of at most :data:`MAX_TEXT` characters without :func:`unsafe_character`, keys
    that are short identifiers, finite numbers within :data:`MAX_INT`.
    """
    at = where or "value"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if -MAX_INT <= value <= MAX_INT else f"{at}: integers are limited to ±2**53"
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{at}: numbers must be finite (no NaN or Infinity)"
    if isinstance(value, str):
        bad = unsafe_character(value)
        if bad is not None:
            return (f"{at}: character U+{ord(bad):04X} is not allowed "
                    "(control, escape, bidirectional or invisible)")
        return None if len(value) <= MAX_TEXT else f"{at}: strings are limited to {MAX_TEXT} characters"
    if not isinstance(value, dict | list):
        return f"{at}: {type(value).__name__} is not JSON"
    if depth >= MAX_DEPTH:
        return f"{at}: nested more than {MAX_DEPTH} levels"
    if len(value) > MAX_ITEMS:
        return f"{at}: more than {MAX_ITEMS} entries"
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if isinstance(key, str) and _KEY.fullmatch(key) is None:
            return f"{at}: keys are identifiers of at most 64 letters, digits and _"
        problem = shape_problem(item, f"{where}.{key}" if where else str(key), depth + 1)
        if problem is not None:
            return problem
    return None


def params_problem(action: str, params: dict[str, Any]) -> str | None:
    """Why ``params`` are not what ``action`` takes, strictly (no coercion), or ``None``.

    A built-in verb's parameters are validated against its model in strict JSON mode (``"1.0"``
    or ``true`` is not a request number); a catalogue action takes none. The engine checks them
    again; this keeps what it and the journal receive to the exact shapes the verbs define.
    """
    shape = shape_problem(params)
    if shape is not None:
        return shape
    verb = PLAYER_VERBS.get(action)
    if verb is None:
        return f"{action!r} takes no parameters" if params else None
    try:
        verb.params.model_validate_json(json.dumps(params, sort_keys=True), strict=True)
    except ValidationError as exc:
        first = min(exc.errors(), key=lambda e: [str(p) for p in e["loc"]])
        where = ".".join(str(p) for p in first["loc"]) or "params"
        return f"bad parameter {where}: {first['msg']}"
    return None


class Frame(BaseModel):
    """Base of every wire message: unknown fields are refused, nothing is coerced, numbers are finite."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


# --- client → server ------------------------------------------------------------------------


class Join(Frame):
    """Enter the drill as a player holding ``role``."""

    kind: Literal["join"] = "join"
    code: Code
    """The join code the host printed."""
    role: Ident
    name: Name


class JoinFacilitator(Frame):
    """Enter the drill as the facilitator (white cell)."""

    kind: Literal["join_facilitator"] = "join_facilitator"
    token: Token
    """The facilitator token the host printed."""
    name: Name


class JoinEvaluator(Frame):
    """Enter the drill as an evaluator: sees what the facilitator sees, writes observations, never steers."""

    kind: Literal["join_evaluator"] = "join_evaluator"
    token: Token
    """The evaluator token the host printed."""
    name: Name


class Reconnect(Frame):
    """Come back after a dropped connection (or a server restart)."""

    kind: Literal["reconnect"] = "reconnect"
    token: Token
    last_seq: Annotated[int, Field(ge=0, le=MAX_INT)]
    """Seq of the last event this client received; the snapshot holds everything after it."""


class Authed(Frame):
    """A frame sent after joining: carries the player's token and a request id."""

    token: Token
    id: RequestId = 0


class Act(Authed):
    """A player's command; ``role`` must be the role the player holds.

    ``params`` must be what the action takes, checked strictly (:func:`params_problem`): a frame
    that is not is refused before the engine, the journal or any other seat sees it.
    """

    kind: Literal["command"] = "command"
    role: Ident
    action: Ident
    params: dict[str, Any] = {}

    @model_validator(mode="after")
    def _params_fit_the_action(self) -> Act:
        problem = params_problem(self.action, self.params)
        if problem is not None:
            raise PydanticCustomError("bad_params", "{problem}", {"problem": problem})
        return self


class Chat(Authed):
    """A war-room message (``to`` empty) or a direct message to roles; journaled as the ``message`` verb."""

    kind: Literal["chat"] = "chat"
    text: SafeText
    to: Annotated[list[Ident], Field(max_length=MAX_ITEMS)] = []


class Start(Authed):
    """Facilitator: start the drill (the clock begins to run)."""

    kind: Literal["start"] = "start"


class Pause(Authed):
    """Facilitator: stop the clock."""

    kind: Literal["pause"] = "pause"


class Resume(Authed):
    """Facilitator: let the clock run again."""

    kind: Literal["resume"] = "resume"


class Speed(Authed):
    """Facilitator: change the speed (sim seconds per wall second)."""

    kind: Literal["speed"] = "speed"
    speed: Annotated[float, Field(gt=0, le=100_000)]


class Skip(Authed):
    """Facilitator: jump forward to the next inject or question asked."""

    kind: Literal["skip"] = "skip"


class FireInject(Authed):
    """Facilitator: fire a scripted inject now."""

    kind: Literal["fire_inject"] = "fire_inject"
    inject: Ident


class AdhocInject(Authed):
    """Facilitator: send an ad-hoc inject to chosen roles (its texts are checked like chat)."""

    kind: Literal["adhoc_inject"] = "adhoc_inject"
    inject: AdhocParams

    @model_validator(mode="after")
    def _texts_are_displayable(self) -> AdhocInject:
        problem = shape_problem(self.inject.model_dump(mode="json"), "inject")
        if problem is not None:
            raise PydanticCustomError("bad_inject", "{problem}", {"problem": problem})
        return self


class End(Authed):
    """Facilitator: end the drill now; everyone lands on the review."""

    kind: Literal["end"] = "end"


class CloseQuestion(Authed):
    """Facilitator: close an open discussion question now (its expected answer goes to the roles asked)."""

    kind: Literal["close_question"] = "close_question"
    question: Ident


class Observe(Authed):
    """Facilitator or evaluator: a time-stamped observation against an objective (journaled as the
    ``observe`` command, hidden from players until the end)."""

    kind: Literal["observe"] = "observe"
    objective: Objective = ""
    tag: Literal["strength", "improvement"]
    """A strength, or an area for improvement."""
    text: ObservationText


ClientFrame = Annotated[Join | JoinFacilitator | JoinEvaluator | Reconnect | Act | Chat | Start | Pause
                        | Resume | Speed | Skip | FireInject | AdhocInject | End | CloseQuestion | Observe,
                        Field(discriminator="kind")]
"""Anything a client may send."""
client_frames: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)

FACILITATOR_FRAMES = (Start, Pause, Resume, Speed, Skip, FireInject, AdhocInject, End, CloseQuestion)
"""Frames only the facilitator token unlocks."""
OBSERVER_FRAMES = (Observe,)
"""Frames the facilitator and the evaluators send (an evaluator sends nothing else)."""


# --- server → client ------------------------------------------------------------------------


class ClockState(Frame):
    """The server's drill clock at the moment the frame was sent."""

    kind: Literal["clock"] = "clock"
    sim: float
    """Sim seconds from harm start."""
    speed: float
    paused: bool
    started: bool
    ended: bool = False


class Welcome(Frame):
    """Reply to a join or reconnect: who you are, and the scenario (facilitator notes only for them)."""

    kind: Literal["welcome"] = "welcome"
    token: str
    player: str
    """Player id, e.g. ``p3``."""
    name: str
    seat: str
    """The player's role, ``facilitator`` or ``evaluator``."""
    scenario: dict[str, Any]
    """The scenario as JSON (``Scenario.model_validate`` rebuilds it)."""
    seed: int
    code: str | None = None
    """The join code, sent to the facilitator only."""


class Seat(Frame):
    """One player in the lobby."""

    player: str
    name: str
    role: str
    connected: bool


def lobby_order(player: str) -> tuple[int, str]:
    """Where a player stands in the lobby: players are listed in the order they first joined (their
    ids ``p1``, ``p2``, … ``p10`` count up), so a lobby kept up to date by :class:`LobbyChange`
    frames lists them as the whole :class:`Lobby` does."""
    return len(player), player


class Lobby(Frame):
    """Who holds which role and who is connected: the whole lobby, which a seat gets when it joins
    or reconnects (seats already in get :class:`LobbyChange` frames)."""

    kind: Literal["lobby"] = "lobby"
    roles: list[str]
    players: list[Seat]
    """In :func:`lobby_order`."""
    started: bool


class LobbyChange(Frame):
    """What changed in the lobby since this seat's last ``lobby`` or ``lobby_change`` frame, sent
    once per batch of changes (a join storm costs each seat one small frame per batch, not the
    whole lobby per join). Each change is the player's seat as it is now, so applying one twice,
    or one the seat's whole lobby already showed, changes nothing."""

    kind: Literal["lobby_change"] = "lobby_change"
    seats: list[Seat]
    """Players who joined, or whose connection came or went: their seat now."""
    gone: list[str]
    """Ids of players no longer listed (gone longer than the server's offline limit)."""
    started: bool


class Snapshot(Frame):
    """Every event after ``since`` this seat may see, up to ``seq``; live ``events`` follow.

    Paged by size (:data:`PAGE_LIMIT`): parts ``0, 1, …`` in order, ``last`` on the final one.
    """

    kind: Literal["snapshot"] = "snapshot"
    since: int
    seq: int
    events: list[dict[str, Any]]
    clock: ClockState
    part: int = 0
    last: bool = True


class Events(Frame):
    """New events for this seat, in order (journal form, see :meth:`Event.to_dict`)."""

    kind: Literal["events"] = "events"
    events: list[dict[str, Any]]


class Ack(Frame):
    """The outcome of request ``id``: accepted or refused, with the event it produced."""

    kind: Literal["ack"] = "ack"
    id: int
    accepted: bool
    seq: int | None = None
    event: dict[str, Any] | None = None
    reason: str | None = None


ERROR_CODES = ("malformed", "bad_frame", "frame_too_large", "binary", "rate_limited", "not_joined",
               "bad_code", "bad_token", "locked_out", "unknown_role", "role_full", "wrong_role",
               "not_facilitator", "not_observer", "observes_only", "not_started", "already_joined",
               "server_full", "join_timeout", "flooding", "internal")
"""Every error code the server sends (``internal`` only for a server bug, which no frame should reach)."""


class Error(Frame):
    """A frame was refused; ``id`` names it when the server could read one. The session goes on."""

    kind: Literal["error"] = "error"
    code: str
    message: str
    id: int | None = None


class Alert(Frame):
    """Something the facilitator should know now (an address guessing join codes is locked out);
    the journal has it as well."""

    kind: Literal["alert"] = "alert"
    message: str


class DoNothingFigures(Frame):
    """The do-nothing run on the drill's seed, for a seat's review (the server simulates it once)."""

    curve: list[tuple[float, int, float]]
    """(sim time, harmful outputs so far, harmful rate per second), one per monitoring tick; in a
    ``reveal`` this is one part's piece of it (the parts' pieces, in order, make the curve)."""
    harm_volume: int
    """Harmful outputs up to when this drill ended."""


class RealTeamFigures(Frame):
    """The real team's run on the drill's seed (the scenario's historical policy), for a seat's review."""

    curve: list[tuple[float, int, float]]
    """(sim time, harmful outputs so far, harmful rate per second), one per monitoring tick; in a
    ``reveal``, one part's piece of it."""
    harm_volume: int
    """Harmful outputs up to when this drill ended."""
    time_to_detect: float | None
    time_to_contain: float | None
    first_signal: float | None
    """When the real team's first signal fired in its run."""


class Reveal(Frame):
    """Sent to every seat once the drill has ended and been scored: the whole drill, hidden truth included.

    ``events`` is every event of the drill (secret hashes stripped), so each player's after-action
    review can show the harm curve and the expectations met and missed, and save the journal;
    ``header`` is the journal header to save it under. It comes in parts paged by size
    (:data:`PAGE_LIMIT`), in order: the events, then the do-nothing curve; ``last`` marks the final one.
    """

    kind: Literal["reveal"] = "reveal"
    header: dict[str, Any]
    events: list[dict[str, Any]]
    last: bool = True
    do_nothing: DoNothingFigures | None = None
    """The do-nothing run the review compares with (no seat re-simulates it): a piece of its curve
    in each part that carries one (the pieces, in order, make the curve)."""
    real_team: RealTeamFigures | None = None
    """The real team's run, when the scenario has a historical policy: likewise a piece of its curve
    in each part that carries one."""


ServerFrame = Annotated[ClockState | Welcome | Lobby | LobbyChange | Snapshot | Events | Ack | Error | Alert
                        | Reveal, Field(discriminator="kind")]
"""Anything the server sends."""
server_frames: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)
