"""What the app needs from a team-drill seat beyond the ``Session`` protocol, and the lobby as text.

``ttx join`` hands the app a :class:`simulator.team.remote.RemoteSession`; the app only relies on the
:class:`TeamSeat` protocol here (lobby, frames, chat, facilitator verbs), so the TUI never imports
the websocket client and the hot seat (``LocalSession``) simply does not match it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

from textual.content import Content

from simulator.format.commands import AdhocParams
from simulator.format.scenario import Scenario
from simulator.format.taxonomy import FACILITATOR, Role
from simulator.team.protocol import Ack, ClockState, Error, Frame, Lobby
from tui.format import role_name, short_role


@runtime_checkable
class TeamSeat(Protocol):
    """One seat of a team drill (``RemoteSession`` implements it)."""

    lobby: Lobby | None
    clock_state: ClockState | None
    errors: list[Error]
    name: str
    join_code: str | None
    connected: bool
    lost: bool

    def on_frame(self, handler: Callable[[Frame], None]) -> None:
        """Call ``handler`` with every frame received (lobby, clock, errors …)."""
        ...

    async def chat(self, text: str, to: list[str] | None = None) -> Ack:
        """Post to the war room, or a direct message to ``to`` roles."""
        ...

    async def fire_inject(self, inject: str) -> Ack:
        """Facilitator: fire a scripted inject now."""
        ...

    async def adhoc_inject(self, params: AdhocParams) -> Ack:
        """Facilitator: send an ad-hoc inject."""
        ...


def is_team(session: Any) -> bool:
    """Whether ``session`` is a seat of a team drill (rather than the hot seat)."""
    return isinstance(session, TeamSeat)


def lobby_content(lobby: Lobby | None, scenario: Scenario, seat: str | None, code: str | None) -> Content:
    """Who holds which role and who is connected; unfilled roles; whether the drill has started."""
    if lobby is None:
        return Content.styled("Connecting to the lobby…", "dim")
    lines: list[Content] = [Content.styled("Lobby", "bold $text-accent")]
    in_play = [r.value for r in scenario.roles]
    for role in [*in_play, FACILITATOR]:
        holders = [p for p in lobby.players if p.role == role]
        if holders:
            people = Content(", ").join(
                Content.assemble(p.name, (" ●", "bold $text-success") if p.connected else (" ○ away", "dim"))
                for p in holders)
        elif role == FACILITATOR:
            people = Content.styled("not joined yet", "dim")
        else:
            note = " (private injects go to the IC)" if role != Role.IC.value else ""
            people = Content.styled(f"nobody{note}", "dim")
        label = "Facilitator" if role == FACILITATOR else role_name(role)
        mine = " ← you" if role == seat else ""
        lines.append(Content.assemble((f"{label:<22}", "bold" if mine else ""), people,
                                      (mine, "bold $text-accent")))
    if code:
        lines.append(Content.assemble(("Join code ", "dim"), (code, "bold")))
    style = "bold $text-success" if lobby.started else "bold $text-warning"
    lines.append(Content.styled(status_text(lobby, seat), style))
    return Content("\n").join(lines)


def status_text(lobby: Lobby, seat: str | None) -> str:
    """One line on where the drill stands for this seat."""
    if lobby.started:
        return "The drill is running: enter opens the dashboard."
    if seat == FACILITATOR:
        return "Enter starts the drill for everyone."
    return "Waiting for the facilitator to start the drill (the dashboard opens by itself)."


def sender_label(message: dict[str, Any]) -> str:
    """Who wrote a message: the person and their role in a team drill ("Dana (IC)"), else the role."""
    role = short_role(str(message.get("from")))
    return f"{message['name']} ({role})" if message.get("name") else role


def message_line(message: dict[str, Any], seat: str | None) -> Content:
    """One chat line: time, sender, audience (war room or direct), text."""
    from simulator.format.durations import clock

    to = list(message.get("to") or [])
    audience = "war room" if not to else "→ " + ",".join(short_role(r) for r in to)
    mine = message.get("from") == seat
    return Content.assemble((clock(float(message["t"])), "dim"), " ",
                            (sender_label(message), "bold $text-accent" if mine else "bold"),
                            (f" [{audience}] ", "dim" if not to else "$text-warning"), str(message["text"]))
