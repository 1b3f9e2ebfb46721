"""A team drill's lobby and chat lines as text (the seat itself is a :class:`Session` like any other)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from textual.content import Content

from simulator.engine.session import Link, LobbyState
from simulator.format.taxonomy import EVALUATOR, FACILITATOR, Role
from tui.format import role_name, short_role


class HasRoles(Protocol):
    """A scenario, or what its briefing shows: the roles in play."""

    @property
    def roles(self) -> Sequence[Role]: ...


def lobby_content(lobby: LobbyState | None, scenario: HasRoles, seat: str | None,
                  code: str | None, link: Link = Link.CONNECTED) -> Content:
    """Who holds which role and who is connected; unfilled roles; whether the drill has started.

    While this seat has no link to the server (``link`` is reconnecting or lost) the lobby is what
    was last heard: it says so, greys who was connected, and its last line says what is happening
    instead of "waiting for the facilitator" (a player in the lobby would otherwise wait for a host
    that is gone).
    """
    if lobby is None:
        return Content.styled("Connecting to the lobby…", "dim")
    heard = link in (Link.CONNECTED, Link.LOCAL)
    lines: list[Content] = [Content.assemble(("Lobby", "bold $text-accent"),
                                             ("" if heard else " (as last heard)", "dim"))]
    in_play = [r.value for r in scenario.roles]
    for role in [*in_play, FACILITATOR, EVALUATOR]:
        holders = [p for p in lobby.players if p.role == role]
        if role == EVALUATOR and not holders:
            continue
        if holders:
            people = Content(", ").join(
                Content.assemble(p.name, (" ●", "bold $text-success" if heard else "dim") if p.connected
                                 else (" ○ away", "dim"))
                for p in holders)
        elif role == FACILITATOR:
            people = Content.styled("not joined yet", "dim")
        else:
            note = " (private injects go to the IC)" if role != Role.IC.value else ""
            people = Content.styled(f"nobody{note}", "dim")
        label = ("Facilitator" if role == FACILITATOR else "Evaluators" if role == EVALUATOR
                 else role_name(role))
        mine = " ← you" if role == seat else ""
        lines.append(Content.assemble((f"{label:<22}", "bold" if mine else ""), people,
                                      (mine, "bold $text-accent")))
    if code:
        lines.append(Content.assemble(("Join code ", "dim"), (code, "bold")))
    if not heard:
        lines.append(Content.styled(link_text(link), "bold $text-error"))
    else:
        style = "bold $text-success" if lobby.started else "bold $text-warning"
        lines.append(Content.styled(status_text(lobby, seat), style))
    return Content("\n").join(lines)


def link_text(link: Link) -> str:
    """One line on a seat that has lost its server: trying again, or given up (and what to do)."""
    if link == Link.LOST:
        return ("Disconnected: could not reach the drill server again. Quit (q) and join again "
                "with the same code and role.")
    return "Lost the connection to the drill server: reconnecting…"


def status_text(lobby: LobbyState, seat: str | None) -> str:
    """One line on where the drill stands for this seat ("started", not "running": a resumed drill
    waits paused until the facilitator resumes the clock)."""
    if lobby.started:
        return "The drill has started: enter opens the dashboard."
    if seat == FACILITATOR:
        return "Enter starts the drill for everyone."
    return "Waiting for the facilitator to start the drill; the dashboard then opens by itself."


def sender_label(message: dict[str, Any]) -> str:
    """Who wrote a message: the person and their role in a team drill ("Dana (IC)"), else the role."""
    role = short_role(str(message.get("from")))
    return f"{message['name']} ({role})" if message.get("name") else role


def message_line(message: dict[str, Any], seat: str | None) -> Content:
    """One chat line: time, sender, audience (war room or direct), text."""
    from simulator.format.hms import clock

    to = list(message.get("to") or [])
    audience = "war room" if not to else "→ " + ",".join(short_role(r) for r in to)
    mine = message.get("from") == seat
    return Content.assemble((clock(float(message["t"])), "dim"), " ",
                            (sender_label(message), "bold $text-accent" if mine else "bold"),
                            (f" [{audience}] ", "dim" if not to else "$text-warning"), str(message["text"]))
