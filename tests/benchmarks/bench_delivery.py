"""CPU per delivery, in one process and without sockets: what the load of a shared machine does not
blur (run it under ``valgrind --tool=callgrind`` with ``PYTHONHASHSEED=0`` for instruction counts).

*Server*: a ``DrillServer`` (the flagship, seed 7) with ``--seats`` joined seats on fake sockets
that take every write (no kernel, no fsync: ``os.fsync`` is a no-op here), one seat posting
war-room lines; CPU per command from the frame arriving to the broadcast written to every seat and
the ack queued, and what of it is per seat. *Client*: the frames a seat of ``--role`` receives
over a textbook run of the flagship (one per batch: a tick, or a command and what it caused), read
and folded by a ``RemoteSession`` as ``ttx join`` does; CPU per frame. *Loopback* (``--only
loopback``, wall clock, real sockets): the kernel's part of a fan-out on this machine — one frame of a
war-room line's size written to ``--seats`` loopback sockets held by ``--processes`` reader processes,
the time until the last socket has it, with readers that only read and with readers that also spend
``--work`` µs of CPU per frame (what a benchmark seat spends on one, parsing and folding included),
as the clients of ``bench_server.py`` do on the same cores. Prints one JSON object.

    python tests/benchmarks/bench_delivery.py [--seats 50] [--commands 400] [--role ic] [--rounds 5]
                                              [--only server|client|loopback] [--processes 8] [--work 130]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from websockets.frames import Frame, Opcode  # noqa: E402
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


def loopback_fan_out(sockets: int, processes: int, work_us: float, rounds: int = 200) -> dict[str, Any]:
    """Milliseconds to write one ~400-byte frame to ``sockets`` loopback sockets (``send`` as the
    server's direct write path does), read by ``processes`` processes that spend ``work_us`` of CPU on
    each frame; p50 / p99 over ``rounds`` rounds 50 ms apart, and this process's CPU per round."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=sockets)
    port = listener.getsockname()[1]
    shares = [sockets // processes + (i < sockets % processes) for i in range(processes)]
    readers = [subprocess.Popen([sys.executable, __file__, "--reader", str(port), str(n), str(work_us)])
               for n in shares]
    conns = [listener.accept()[0] for _ in range(sockets)]
    for conn in conns:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as asyncio's transports do
        conn.setblocking(False)
    frame = Frame(Opcode.TEXT, b"x" * 400).serialize(mask=False)
    walls: list[float] = []
    cpu = time.process_time()
    for _ in range(rounds):
        time.sleep(0.05)
        began = time.perf_counter()
        for conn in conns:
            conn.send(frame)
        walls.append((time.perf_counter() - began) * 1e3)
    cpu = (time.process_time() - cpu) / rounds
    for conn in conns:
        conn.close()
    for reader in readers:
        reader.wait(30)
    listener.close()
    walls.sort()
    return {"p50": round(walls[len(walls) // 2], 2), "p99": round(walls[int(0.99 * (len(walls) - 1))], 2),
            "cpu_ms_per_round": round(cpu * 1e3, 2)}


def reader(port: int, count: int, work_us: float) -> None:
    """A reader process of :func:`loopback_fan_out`: ``count`` connections, read until closed, with
    ``work_us`` of CPU spent on every read."""
    conns = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    with selectors.DefaultSelector() as selector:
        for conn in conns:
            selector.register(conn, selectors.EVENT_READ)
        open_ = count
        while open_:
            for key, _ in selector.select():
                conn = key.fileobj  # type: ignore[assignment]
                if not conn.recv(65536):
                    selector.unregister(conn)
                    open_ -= 1
                    continue
                until = time.thread_time() + work_us / 1e6
                while time.thread_time() < until:
                    pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--commands", type=int, default=400)
    parser.add_argument("--role", default="ic", help="the seat whose frames the client part reads")
    parser.add_argument("--rounds", type=int, default=5, help="times the client part reads the run")
    parser.add_argument("--only", choices=("server", "client", "loopback"), help="measure one part only")
    parser.add_argument("--processes", type=int, default=8, help="reader processes of the loopback part")
    parser.add_argument("--work", type=float, default=130.0,
                        help="µs of CPU a loopback reader spends per frame (the busy readers)")
    args = parser.parse_args()
    out: dict[str, Any] = {}
    if args.only in (None, "server"):
        out.update(asyncio.run(server_cpu(args.seats, args.commands)))
    if args.only in (None, "client"):
        out.update(client_cpu(args.role, args.rounds))
    if args.only == "loopback":
        out["loopback"] = {"sockets": args.seats, "processes": args.processes, "work_us": args.work}
        for name, work in (("idle_readers_ms", 0.0), ("busy_readers_ms", args.work)):
            out["loopback"][name] = loopback_fan_out(args.seats, args.processes, work)
    out["load_average"] = os.getloadavg()
    print(json.dumps(out))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--reader"]:
        reader(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        main()
