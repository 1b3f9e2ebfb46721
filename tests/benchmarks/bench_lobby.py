"""Lobby join storm: N players join one ``DrillServer`` at once; what the lobby costs the server.

One process: the server on loopback and N :class:`RemoteSession` seats opened together. Counts
the lobby frames (``lobby`` and ``lobby_change``) the server hands to its connections and their
bytes, and the wall and CPU time (server and seats together) until every seat's lobby lists all N.
Prints one JSON object.

    python tests/benchmarks/bench_lobby.py [--players 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pydantic import BaseModel  # noqa: E402

from simulator.format.loader import load_scenario  # noqa: E402
from simulator.team.outbox import Outbox, Shared  # noqa: E402
from simulator.team.remote import RemoteSession  # noqa: E402
from simulator.team.server import DrillServer, Limits  # noqa: E402

CODE = "BENCH4"
ROLES = ("ic", "ml", "ts", "comms", "legal")
counted = {"frames": 0, "bytes": 0}


def count_lobby_frames() -> None:
    """Wrap :meth:`Outbox.frame` to count the lobby frames handed to connections, and their bytes."""
    frame = Outbox.frame

    def counting(self: Outbox, message: BaseModel | str | Shared) -> None:
        text = (message.text if isinstance(message, Shared)
                else message if isinstance(message, str) else message.model_dump_json())
        if text.startswith('{"kind":"lobby'):
            counted["frames"] += 1
            counted["bytes"] += len(text)
        frame(self, message)

    Outbox.frame = counting  # type: ignore[method-assign]


async def storm(players: int) -> dict[str, Any]:
    count_lobby_frames()
    loaded = load_scenario(REPO / "scenarios" / "jailbreak-wave.yaml")
    limits = Limits(max_players=players + 10, pending_per_address=players + 10, pending_total=players + 10)
    with tempfile.TemporaryDirectory() as tmp:
        server = DrillServer.host(loaded, Path(tmp) / "storm.jsonl", seed=7, code=CODE,
                                  facilitator_token="bench-facilitator", limits=limits)
        port = await server.start("127.0.0.1", 0)
        url = f"ws://127.0.0.1:{port}"
        wall0, cpu0 = time.monotonic(), time.process_time()
        seats = await asyncio.gather(*(RemoteSession.open(url, name=f"p{i}", role=ROLES[i % len(ROLES)],
                                                          code=CODE, timeout=120.0)
                                       for i in range(players)))
        await asyncio.gather(*(s.wait_until(lambda s: s.lobby is not None and len(s.lobby.players) == players,
                                            timeout=300.0) for s in seats))
        wall, cpu = time.monotonic() - wall0, time.process_time() - cpu0
        for seat in seats:
            await seat.close()
        await server.stop()
    return {"players": players, "lobby_frames": counted["frames"], "lobby_bytes": counted["bytes"],
            "storm_wall_s": round(wall, 2), "storm_cpu_s": round(cpu, 2),
            "load_average": os.getloadavg()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=200)
    print(json.dumps(asyncio.run(storm(parser.parse_args().players)), indent=2))
