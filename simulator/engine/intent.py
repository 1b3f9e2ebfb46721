"""What the drill takes as a command: a player's validated ``Command``, or a bot's plain record."""

from __future__ import annotations

from typing import Any, NamedTuple

from simulator.format.commands import Command


class BotCommand(NamedTuple):
    """A command a bot builds from its scenario's roles, verbs and catalogue.

    It has the attributes the drill reads of a :class:`~simulator.format.commands.Command` and is
    journaled the same way; it is a plain record because a bot sends dozens a run and a pydantic
    model costs ten times as much to build. The drill still validates its parameters and refuses
    it by the same rules as any command.
    """

    role: str
    action: str
    params: dict[str, Any]
    player: str | None = None
    player_id: str | None = None


Intent = Command | BotCommand
"""Anything :meth:`~simulator.engine.drill.Drill.submit` takes."""
