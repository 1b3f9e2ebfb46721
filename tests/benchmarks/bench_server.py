"""Live server benchmark: N scripted clients in their own processes, each acting every few seconds.

Runs ``ttx host`` as a subprocess (fsync per command, as always) under :mod:`server_probe`, which
timestamps each message inside the server, and the clients in ``--processes`` worker processes
(none in the server's), each a real :class:`RemoteSession` (parsing every frame and folding it into
its view, as ``ttx join`` does) posting war-room messages stamped with ``CLOCK_MONOTONIC``, which
every process on the machine shares. For every message and every client it measures command →
broadcast (sending it to that client having folded the event) and its parts: inbound (the write →
the server's frame handler), server (the handler → the broadcast written to the last socket: to
the fsync, the fsync, back to the loop, the fan-out) and outbound (that write → the seat folded it,
also for the first and the last seat of each process to fold it); the sender's command → ack time;
the server's and the clients' CPU, how late their event loops wake and their full garbage
collections; and the machine's load average (other work on the machine shows up in the tail).
Prints one JSON object.

    python tests/benchmarks/bench_server.py [--clients 50] [--seconds 30] [--every 3] [--processes P]
                                            [--no-client-gc] [--nice N] [--host-session]

``--every`` is the mean seconds between one client's messages (default: 3 s at 50 clients, and
the same team-wide rate, ~17 commands/s, at any other size). ``--no-client-gc``: no cyclic garbage
collection in the workers while they play (a worker holds many seats' heaps; a real seat's process
holds one). ``--host-session``: ``ttx host`` in a session of its own, as one started from its own
terminal is; with Linux's sched_autogroup the cores are then shared between the host's session and
the benchmark's (the clients') as two groups. Targets (DESIGN.md): p99 < 20 ms with 50 clients,
< 50 ms with 200.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from simulator.engine.events import Event, Kind  # noqa: E402
from simulator.team.remote import RemoteSession  # noqa: E402
from tests.benchmarks.server_probe import loop_lag, watch_collections  # noqa: E402

CODE = "BENCH2"
PROBE = Path(__file__).with_name("server_probe.py")
ROLES = ("ic", "ml", "ts", "comms", "legal")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_host(journal: Path, marks: Path, clients: int, nice: int, port: int = 0,
                     own_session: bool = False) -> tuple[asyncio.subprocess.Process, str, str]:
    """``ttx host`` under :mod:`server_probe` (which writes its timestamps to ``marks`` at exit);
    ``own_session``: in a session of its own, as a host started from its own terminal is (Linux
    schedules each session's processes as one group against the others: sched_autogroup)."""
    proc = await asyncio.create_subprocess_exec(
        *(["nice", "-n", str(nice)] if nice else []), sys.executable, str(PROBE), str(marks), "host",
        "jailbreak-wave", "--port", str(port), "--code", CODE,
        "--journal", str(journal), "--speed", "60", "--linger", "0", "--max-players", str(2 * clients + 10),
        cwd=REPO, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        start_new_session=own_session)
    url = token = ""
    assert proc.stdout is not None
    while not token:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        if not line:
            raise SystemExit("ttx host exited early")
        if "listening on " in line:
            url = line.split("listening on ")[1].strip()
        if line.startswith("facilitator token:"):
            token = line.split(": ", 1)[1].strip()
    _draining.append(asyncio.get_running_loop().create_task(_drain(proc.stdout)))
    return proc, url, token


_draining: list[asyncio.Task[None]] = []
"""The tasks reading the hosts' output (kept, so none is collected while it runs)."""


async def _drain(stream: asyncio.StreamReader) -> None:
    """Read what ``ttx host`` prints after its banner (a line per join, start and end): a pipe nobody
    reads fills, and then the host's event loop blocks on its next line."""
    while await stream.readline():
        pass


# --- a worker process ---------------------------------------------------------------------


async def player(session: RemoteSession, every: float, until: float, acks: list[float],
                 rng: random.Random) -> int:
    """Post a war-room message every ``every`` seconds (± 50%); returns how many were acknowledged."""
    acted = 0
    await asyncio.sleep(rng.uniform(0, every))
    while time.monotonic() < until:
        sent = time.monotonic_ns()
        ack = await session.chat(f"status {session.name}-{acted} {sent}")
        acks.append((time.monotonic_ns() - sent) / 1e6)
        acted += ack.accepted
        await asyncio.sleep(every * rng.uniform(0.5, 1.5))
    return acted


async def worker(url: str, first: int, count: int, every: float, seconds: float, collect: bool) -> None:
    """``count`` clients named c{first}…; waits for ``go`` on stdin, plays, prints its measurements.

    ``collect=False``: no cyclic garbage collection while playing (a real seat is one process with one
    seat's heap; a worker holds ``count`` seats' heaps, and its full collections stop them all)."""
    folded: list[tuple[int, str, int]] = []
    """(the seat's place in this process, message key, monotonic ns it was folded) per delivery."""
    acks: list[float] = []
    lags: list[float] = []
    pauses: list[float] = []
    watch_collections(pauses)
    sessions = []
    for i in range(first, first + count):
        session = await RemoteSession.open(url, name=f"c{i}", role=ROLES[i % len(ROLES)], code=CODE,
                                           timeout=30.0)

        def received(event: Event, place: int = i - first) -> None:
            text = str(event.payload.get("text", ""))
            if event.kind == Kind.MESSAGE and text.startswith("status "):
                folded.append((place, text[len("status "):], time.monotonic_ns()))

        session.subscribe(received)
        sessions.append(session)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    if not collect:
        gc.disable()
    cpu0 = time.process_time()
    lag = asyncio.get_running_loop().create_task(loop_lag(lags))
    until = time.monotonic() + seconds
    rng = random.Random(first)
    acted = await asyncio.gather(*(player(s, every, until, acks, rng) for s in sessions))
    await asyncio.sleep(1.0)
    cpu = time.process_time() - cpu0
    lag.cancel()
    for session in sessions:
        await session.close()
    print(json.dumps({"folded": folded, "acks": acks, "commands": sum(acted), "cpu": cpu,
                      "lags": lags, "collections": pauses}), flush=True)


# --- the coordinator ----------------------------------------------------------------------


async def main(clients: int, seconds: float, every: float, processes: int, nice: int,
               client_gc: bool, port: int = 0, own_session: bool = False) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        marks_path = Path(tmp) / "marks.json"
        proc, url, token = await start_host(Path(tmp) / "bench.jsonl", marks_path, clients, nice, port,
                                              own_session)
        fac = await RemoteSession.open(url, name="bench-facilitator", facilitator_token=token)
        shares = [clients // processes + (i < clients % processes) for i in range(processes)]
        workers: list[asyncio.subprocess.Process] = []
        try:
            for i, count in enumerate(shares):  # one after the other: a join storm is bench_lobby's
                workers.append(await asyncio.create_subprocess_exec(
                    sys.executable, __file__, "--worker", url, str(sum(shares[:i])), str(count), str(every),
                    str(seconds), "gc" if client_gc else "no-gc", stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE, cwd=REPO, limit=1 << 28))
                assert workers[-1].stdout is not None
                ready = await asyncio.wait_for(workers[-1].stdout.readline(), 120)
                if ready.strip() != b"ready":
                    raise SystemExit(f"client process {i} could not join its seats")
            await fac.start()
            cpu0, wall0, load0 = cpu_seconds(proc.pid or 0), time.monotonic(), os.getloadavg()[0]
            for w in workers:
                assert w.stdin is not None
                w.stdin.write(b"go\n")
                await w.stdin.drain()
            results = [json.loads((await w.stdout.readline()).decode()) for w in workers if w.stdout]
            cpu1, wall1, load1 = cpu_seconds(proc.pid or 0), time.monotonic(), os.getloadavg()[0]
            for w in workers:
                await w.wait()
            await fac.end()  # the flagship's hot wash opens: a second end closes it and the drill
            await fac.end()
            await fac.close()
            await asyncio.wait_for(proc.wait(), 120)  # it scores the drill and writes the reveal first
        finally:
            for started in [*workers, proc]:
                if started.returncode is None:
                    started.kill()
                    await started.wait()
        probed = json.loads(marks_path.read_text())
    marks: dict[str, dict[str, int]] = probed["marks"]
    marks_lags: list[float] = probed["lags"]
    server_collections: list[float] = probed["collections"]
    in_play = [ms for ms, at in zip(server_collections, probed["collections_at"], strict=True)
               if wall0 * 1e9 <= at <= wall1 * 1e9]
    commands = sum(r["commands"] for r in results)
    wall = wall1 - wall0
    return {
        "clients": clients, "processes": processes, "client_gc": client_gc, "every_s": every,
        "server_nice": nice, "server_own_session": own_session,
        "seconds": round(wall, 1), "commands": commands, "commands_per_s": round(commands / seconds, 1),
        **_latencies(results, marks, commands * clients),
        "ack_ms": _summary(x for r in results for x in r["acks"]),
        "server_cpu_percent": round(100 * (cpu1 - cpu0) / wall, 1),
        "server_loop_lag_ms": _summary(marks_lags),
        "server_full_collections_ms": _summary(server_collections),
        "server_full_collections_in_play_ms": _summary(in_play),
        "server_tracked_objects": probed["tracked"],
        "server_stalls": dict(sorted(probed["stalls"].items(), key=lambda kv: -kv[1])[:8]),
        "clients_cpu_percent": round(100 * sum(r["cpu"] for r in results) / wall, 1),
        "clients_loop_lag_ms": _summary(x for r in results for x in r["lags"]),
        "clients_full_collections_ms": _summary(x for r in results for x in r["collections"]),
        "load_average": [round(load0, 2), round(load1, 2)],
        "python": sys.version.split()[0], "cpus": os.cpu_count(),
    }


def _latencies(results: list[dict[str, Any]], marks: dict[str, dict[str, int]],
               expected: int) -> dict[str, object]:
    """Command → broadcast per delivery, and its parts: the client's write → the server's handler
    (``inbound``), the handler → the broadcast written to the last socket (``server``: the engine, the
    journal's group commit with its fsync, the fan-out), and that write → the seat having folded the
    event (``outbound``: the kernel, the seat process waiting for a core and for its other seats,
    parsing and folding), the last also for the first and the last seat of each client process to
    fold each message (the seats of one process take turns)."""
    folded = [(n, key, t) for n, r in enumerate(results) for _, key, t in r["folded"]]
    turns: dict[tuple[int, str], list[int]] = {}
    for n, key, t in folded:
        turns.setdefault((n, key), []).append(t)
    first = [(min(ts) - marks[key]["sent"]) / 1e6 for (_, key), ts in turns.items() if key in marks]
    last = [(max(ts) - marks[key]["sent"]) / 1e6 for (_, key), ts in turns.items() if key in marks]
    return {
        "deliveries": len(folded), "expected_deliveries": expected,
        "command_to_broadcast_ms": _summary((t - int(key.rsplit(" ", 1)[1])) / 1e6 for _, key, t in folded),
        "inbound_ms": _summary((m["received"] - int(k.rsplit(" ", 1)[1])) / 1e6 for k, m in marks.items()),
        "server_ms": _gap(marks, "received", "sent"),
        "server_to_fsync_start_ms": _gap(marks, "received", "fsync_start"),
        "server_fsync_ms": _gap(marks, "fsync_start", "fsync_end"),
        "server_fsync_to_delivery_ms": _gap(marks, "fsync_end", "durable"),
        "server_fan_out_ms": _gap(marks, "durable", "sent"),
        "queued_per_broadcast_max": max((m["queued"] for m in marks.values()), default=0),
        "outbound_ms": _summary((t - marks[key]["sent"]) / 1e6 for _, key, t in folded if key in marks),
        "outbound_first_seat_ms": _summary(first),
        "outbound_last_seat_ms": _summary(last),
    }


def _gap(marks: dict[str, dict[str, int]], start: str, end: str) -> dict[str, float]:
    """Milliseconds from one server timestamp to another, over every message."""
    return _summary((m[end] - m[start]) / 1e6 for m in marks.values())


def _summary(values: Iterable[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {}
    return {"p50": round(statistics.median(ordered), 2), "p99": round(_pct(ordered, 0.99), 2),
            "max": round(ordered[-1], 2), "n": len(ordered)}


def _pct(sorted_ms: list[float], q: float) -> float:
    """The nearest-rank ``q`` quantile (of two values the p99 is the larger, never below the median)."""
    return sorted_ms[max(0, math.ceil(q * len(sorted_ms)) - 1)]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        url, first, count, every, seconds, collect = sys.argv[2:8]
        asyncio.run(worker(url, int(first), int(count), float(every), float(seconds), collect == "gc"))
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=None,
                        help="mean seconds between one client's messages (default: 3 × clients / 50)")
    parser.add_argument("--processes", type=int, default=None,
                        help="client processes (default: one per 25 clients, at least 2)")
    parser.add_argument("--nice", type=int, default=0,
                        help="run ttx host under nice -n N (negative: ahead of other work on a shared "
                             "machine; needs root)")
    parser.add_argument("--no-client-gc", action="store_true",
                        help="no garbage collection in the client processes while they play (each holds "
                             "many seats' heaps; a real seat's process holds one)")
    parser.add_argument("--port", type=int, default=0, help="the host's port (0: a free one)")
    parser.add_argument("--host-session", action="store_true",
                        help="run ttx host in a session of its own, as one started from its own terminal "
                             "is (Linux's sched_autogroup then shares the cores between the host and the "
                             "clients' session as two groups, not between 1 + P processes of one)")
    args = parser.parse_args()
    every = args.every if args.every is not None else 3.0 * args.clients / 50
    processes = args.processes or max(2, args.clients // 25)
    run = main(args.clients, args.seconds, every, processes, args.nice, not args.no_client_gc, args.port,
               args.host_session)
    print(json.dumps(asyncio.run(asyncio.wait_for(run, args.seconds + 300)), indent=2))
