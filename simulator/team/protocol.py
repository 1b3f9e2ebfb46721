"""Wire messages of a team drill: pydantic models shared by server and client, one union per direction.

Every frame is one JSON object discriminated on ``kind``. A client joins (``join`` with the
join code, or ``join_facilitator`` with the facilitator token) and receives a ``welcome``
carrying its token; every later frame carries that token. After a dropped connection it sends
``reconnect`` with the token and the last event ``seq`` it saw, and gets a ``snapshot`` of
every event after that seq for its seat, then live ``events``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from simulator.format.commands import AdhocParams

FRAME_LIMIT = 64 * 1024
"""Largest frame the server reads (bytes); a larger one gets a ``frame_too_large`` error reply."""
HARD_FRAME_LIMIT = 1024 * 1024
"""Largest frame the websocket layer accepts at all; beyond it the connection is closed (1009)."""

Token = Annotated[str, Field(min_length=1, max_length=128)]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f]+$")]
RequestId = Annotated[int, Field(ge=0)]
"""Client-chosen number echoed in the ``ack`` or ``error`` for this frame."""


class Frame(BaseModel):
    """Base of every wire message: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --- client → server ------------------------------------------------------------------------


class Join(Frame):
    """Enter the drill as a player holding ``role``."""

    kind: Literal["join"] = "join"
    code: Annotated[str, Field(min_length=1, max_length=32)]
    """The join code the host printed."""
    role: Annotated[str, Field(min_length=1, max_length=32)]
    name: Name


class JoinFacilitator(Frame):
    """Enter the drill as the facilitator (white cell)."""

    kind: Literal["join_facilitator"] = "join_facilitator"
    token: Token
    """The facilitator token the host printed."""
    name: Name


class Reconnect(Frame):
    """Come back after a dropped connection (or a server restart)."""

    kind: Literal["reconnect"] = "reconnect"
    token: Token
    last_seq: Annotated[int, Field(ge=0)]
    """Seq of the last event this client received; the snapshot holds everything after it."""


class Authed(Frame):
    """A frame sent after joining: carries the player's token and a request id."""

    token: Token
    id: RequestId = 0


class Act(Authed):
    """A player's command; ``role`` must be the role the player holds."""

    kind: Literal["command"] = "command"
    role: Annotated[str, Field(min_length=1, max_length=32)]
    action: Annotated[str, Field(min_length=1, max_length=64)]
    params: dict[str, Any] = {}


class Chat(Authed):
    """A war-room message (``to`` empty) or a direct message to roles; journaled as the ``message`` verb."""

    kind: Literal["chat"] = "chat"
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    to: list[str] = []


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
    """Facilitator: jump forward to the next inject."""

    kind: Literal["skip"] = "skip"


class FireInject(Authed):
    """Facilitator: fire a scripted inject now."""

    kind: Literal["fire_inject"] = "fire_inject"
    inject: Annotated[str, Field(min_length=1, max_length=64)]


class AdhocInject(Authed):
    """Facilitator: send an ad-hoc inject to chosen roles."""

    kind: Literal["adhoc_inject"] = "adhoc_inject"
    inject: AdhocParams


class End(Authed):
    """Facilitator: end the drill now; everyone lands on the review."""

    kind: Literal["end"] = "end"


ClientFrame = Annotated[Join | JoinFacilitator | Reconnect | Act | Chat | Start | Pause | Resume | Speed
                        | Skip | FireInject | AdhocInject | End, Field(discriminator="kind")]
"""Anything a client may send."""
client_frames: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)

FACILITATOR_FRAMES = (Start, Pause, Resume, Speed, Skip, FireInject, AdhocInject, End)
"""Frames only the facilitator token unlocks."""


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
    """The player's role, or ``facilitator``."""
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


class Lobby(Frame):
    """Who holds which role and who is connected."""

    kind: Literal["lobby"] = "lobby"
    roles: list[str]
    players: list[Seat]
    started: bool


class Snapshot(Frame):
    """Every event after ``since`` this seat may see, up to ``seq``; live ``events`` follow."""

    kind: Literal["snapshot"] = "snapshot"
    since: int
    seq: int
    events: list[dict[str, Any]]
    clock: ClockState


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
               "bad_code", "bad_token", "unknown_role", "wrong_role", "not_facilitator", "not_started",
               "already_joined", "server_full", "internal")
"""Every error code the server sends."""


class Error(Frame):
    """A frame was refused; ``id`` names it when the server could read one. The session goes on."""

    kind: Literal["error"] = "error"
    code: str
    message: str
    id: int | None = None


class DoNothingFigures(BaseModel):
    """The do-nothing run on the drill's seed, for a seat's review (the server simulates it once)."""

    model_config = ConfigDict(extra="forbid")

    curve: list[tuple[float, int, float]]
    """(sim time, harmful outputs so far, harmful rate per second), one per monitoring tick."""
    harm_volume: int
    """Harmful outputs up to when this drill ended."""


class RealTeamFigures(BaseModel):
    """The real team's run on the drill's seed (the scenario's historical policy), for a seat's review."""

    model_config = ConfigDict(extra="forbid")

    curve: list[tuple[float, int, float]]
    """(sim time, harmful outputs so far, harmful rate per second), one per monitoring tick."""
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
    ``header`` is the journal header to save it under. A long drill comes in several parts, in
    order (each well under the frame limit); ``last`` marks the final one.
    """

    kind: Literal["reveal"] = "reveal"
    header: dict[str, Any]
    events: list[dict[str, Any]]
    last: bool = True
    do_nothing: DoNothingFigures | None = None
    """On the last part: the do-nothing run the review compares with (no seat re-simulates it)."""
    real_team: RealTeamFigures | None = None
    """On the last part: the real team's run, when the scenario has a historical policy."""


ServerFrame = Annotated[ClockState | Welcome | Lobby | Snapshot | Events | Ack | Error | Reveal,
                        Field(discriminator="kind")]
"""Anything the server sends."""
server_frames: TypeAdapter[ServerFrame] = TypeAdapter(ServerFrame)
