"""CPU per delivery, in one process and without sockets: what the load of a shared machine does not
blur (run it under ``valgrind --tool=callgrind`` with ``PYTHONHASHSEED=0`` for instruction counts).

*Server*: a ``DrillServer`` (the flagship, seed 7) with ``--seats`` joined seats on fake sockets
that take every write (no kernel, no fsync: ``os.fsync`` is a no-op here), one seat posting
war-room lines; CPU per command from the frame arriving to the broadcast written to every seat and
the ack queued, and what of it is per seat. *Client*: the frames a seat of ``--role`` receives
over a textbook run of the flagship (one per batch: a tick, or a command and what it caused), read
and folded by a ``RemoteSession`` as ``ttx join`` does; CPU per frame. Prints one JSON object.

    python tests/benchmarks/bench_delivery.py [--seats 50] [--commands 400] [--role ic] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from websockets.protocol import State  # noqa: E402

from simulator.engine.events import Kind  # noqa: E402
from simulator.engine.runner import run_named  # noqa: E402
from simulator.format.loader import load_scenario  # noqa: E402
from simulator.team.limits import Bucket  # noqa: E402
from simulator.team.outbox import Outbox, events_frame, wire_json  # noqa: E402
from simulator.team.protocol import Join, JoinFacilitator, Start  # noqa: E402
from simulator.team.remote import RemoteSession, _parse  # noqa: E402
from simulator.team.server import Connection, DrillServer, Limits, Seating, delivered  # noqa: E402

CODE = "BENCH4"
TOKEN = "bench-facilitator-token"
ROLES = ("ic", "ml", "ts", "comms", "legal")
SENDERS: list[asyncio.Task[None]] = []
"""Each seat's outbox sender (it writes the welcome, snapshot and anything else queued)."""


class FakeTransport:
    """A socket that takes every write at once (counts the bytes)."""

    def __init__(self) -> None:
        self.written = 0
        self.first: list[bytes] = []
        """The first frames written (the welcome is among them)."""

    def write(self, data: bytes) -> None:
        self.written += len(data)
        if len(self.first) < 8:
            self.first.append(data)

    def get_write_buffer_size(self) -> int:
        return 0

    def is_closing(self) -> bool:
        return False

    def abort(self) -> None:
        pass


class FakeWebsocket:
    """What ``Outbox`` and ``DrillServer`` use of a websocket connection."""

    def __init__(self) -> None:
        self.transport = FakeTransport()
        self.protocol = type("Protocol", (), {"state": State.OPEN})()
        self.request = None

    async def send(self, message: str) -> None:
        self.transport.write(message.encode())


def seat(server: DrillServer, hello: Any) -> Connection:
    """A connection on a fake socket, joined with ``hello``."""
    ws = FakeWebsocket()
    limits = server.limits
    conn = Connection(ws, Outbox(ws, limits.backlog, limits.outbox_bytes),  # type: ignore[arg-type]
                      Bucket(10_000.0, 10_000.0), "127.0.0.1")
    server.connections[conn] = None
    server._dispatch(conn, hello)
    SENDERS.append(asyncio.get_running_loop().create_task(conn.outbox.run()))
    return conn


def written(conn: Connection) -> int:
    """Bytes the server wrote to a seat's fake socket."""
    transport: FakeTransport = conn.ws.transport  # type: ignore[assignment]
    return transport.written


def token_of(server: DrillServer, conn: Connection) -> str:
    """The token the server's welcome gave the player on ``conn``."""
    for data in conn.ws.transport.first:  # type: ignore[attr-defined]
        start = data.find(b'{"kind":"welcome"')
        if start >= 0:
            return str(json.loads(data[start:])["token"])
    raise SystemExit("no welcome")


async def server_cpu(seats: int, commands: int) -> dict[str, Any]:
    """CPU per war-room command with ``seats`` seats (and without any), from frame in to broadcast out."""
    os.fsync = lambda fd: None  # no disk here: the server's part without its fsync
    loaded = load_scenario(REPO / "scenarios" / "jailbreak-wave.yaml")
    per_command: dict[int, float] = {}
    for count in (1, seats):
        with tempfile.TemporaryDirectory() as folder:
            server = DrillServer.host(loaded, Path(folder) / "drill.jsonl", seed=7, code=CODE,
                                      facilitator_token=TOKEN, speed=60.0,
                                      limits=Limits(max_players=seats + 10, rate=10_000.0, burst=10_000.0,
                                                    command_rate=10_000.0, command_burst=10_000.0,
                                                    address_rate=1e6, address_burst=1e6))
            facilitator = seat(server, JoinFacilitator(token=TOKEN, name="Lee"))
            conns = [seat(server, Join(code=CODE, role=ROLES[i % len(ROLES)], name=f"p{i}"))
                     for i in range(count)]
            assert facilitator.player is not None and conns[0].player is not None
            server._dispatch(facilitator, Start(token=token_of(server, facilitator), id=1))
            assert server.started
            token = token_of(server, conns[0])
            while any(c.outbox._items or c.outbox._busy for c in (facilitator, *conns)):
                await asyncio.sleep(0.01)  # the welcomes and snapshots go out: the outboxes are empty
            texts = [json.dumps({"kind": "chat", "token": token, "id": n, "text": f"line {n}"})
                     for n in range(commands)]
            cpu = time.process_time()
            for text in texts:
                server._receive(conns[0], text)
            per_command[count] = (time.process_time() - cpu) / commands
            messages = sum(1 for e in server.drill.events if e.kind == Kind.MESSAGE)
            if messages != commands or written(conns[-1]) < commands * 100:
                raise SystemExit(f"only {messages} of {commands} lines were taken and sent")
            await server.stop()
            for sender in SENDERS:
                sender.cancel()
            SENDERS.clear()
    return {"seats": seats, "server_cpu_ms_per_command": round(per_command[seats] * 1000, 3),
            "server_cpu_ms_per_command_one_seat": round(per_command[1] * 1000, 3),
            "server_cpu_us_per_seat_per_command": round(
                (per_command[seats] - per_command[1]) / (seats - 1) * 1e6, 2) if seats > 1 else 0.0}


def seat_frames(role: str) -> list[str]:
    """The events frames a seat of ``role`` receives over a textbook run of the flagship (seed 7),
    one per batch of events at one sim time."""
    run = run_named("jailbreak-wave", "textbook", seed=7)
    seating = Seating()
    frames: list[str] = []
    for _, batch in itertools.groupby(run.drill.events, key=lambda e: e.t):
        texts = []
        for event in batch:
            seating.track(event)
            copy = delivered(event, role, seating)
            if copy is not None:
                texts.append(wire_json(copy))
        if texts:
            frames.append(events_frame(texts))
    return frames


def client_cpu(role: str, rounds: int) -> dict[str, Any]:
    """CPU per events frame a seat reads and folds into its view."""
    frames = seat_frames(role)

    def play() -> None:
        session = RemoteSession("ws://127.0.0.1:1", name="bench", role=role, code=CODE)
        session.subscribe(lambda event: None)
        read = getattr(session, "_receive", None)  # a tree from before it read frames through _parse
        for raw in frames:
            if read is not None:
                read(raw)
            else:
                session._handle(_parse(raw))

    play()
    cpu = time.process_time()
    for _ in range(rounds):
        play()
    spent = (time.process_time() - cpu) / rounds / len(frames)
    return {"role": role, "frames": len(frames), "bytes_per_frame": sum(map(len, frames)) // len(frames),
            "client_cpu_us_per_frame": round(spent * 1e6, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--commands", type=int, default=400)
    parser.add_argument("--role", default="ic", help="the seat whose frames the client part reads")
    parser.add_argument("--rounds", type=int, default=5, help="times the client part reads the run")
    parser.add_argument("--only", choices=("server", "client"), help="measure one part only")
    args = parser.parse_args()
    out: dict[str, Any] = {}
    if args.only != "client":
        out.update(asyncio.run(server_cpu(args.seats, args.commands)))
    if args.only != "server":
        out.update(client_cpu(args.role, args.rounds))
    out["load_average"] = os.getloadavg()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
