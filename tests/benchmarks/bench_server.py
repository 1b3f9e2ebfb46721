"""Live server benchmark: 50 scripted clients on loopback, each acting every few seconds.

Runs ``ttx host`` as a subprocess, connects the clients from this process, and measures, for
every command, the wall time from sending it to each client receiving the resulting event
(command → broadcast; all 50 clients share this one process, so their parsing is included),
the sender's command → ack time, the server process's CPU and the machine's load average
(other work on the machine shows up in the tail). Prints one JSON object.

    python tests/benchmarks/bench_server.py [--clients 50] [--seconds 30] [--every 3]

Target (DESIGN.md): p99 under 50 ms on loopback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from simulator.engine.events import Event, Kind  # noqa: E402
from simulator.team.remote import RemoteSession  # noqa: E402

CODE = "BENCH2"
ROLES = ("ic", "ml", "ts", "comms", "legal")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_host(journal: Path) -> tuple[asyncio.subprocess.Process, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", "host", "jailbreak-wave", "--port", "0", "--code", CODE,
        "--journal", str(journal), "--speed", "60", "--linger", "0", cwd=REPO,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL)
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
    return proc, url, token


async def player(session: RemoteSession, every: float, until: float, sent: dict[str, float],
                 acks: list[float], rng: random.Random) -> int:
    """Post a war-room message every ``every`` seconds (± 50%); returns how many were acknowledged."""
    acted = 0
    await asyncio.sleep(rng.uniform(0, every))
    while time.monotonic() < until:
        tag = f"{session.name}-{acted}"
        sent[tag] = time.perf_counter()
        ack = await session.chat(f"status {tag}")
        acks.append(time.perf_counter() - sent[tag])
        acted += ack.accepted
        await asyncio.sleep(every * rng.uniform(0.5, 1.5))
    return acted


async def main(clients: int, seconds: float, every: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, token = await start_host(Path(tmp) / "bench.jsonl")
        fac = await RemoteSession.open(url, name="bench-facilitator", facilitator_token=token)
        sent: dict[str, float] = {}
        latencies: list[float] = []
        acks: list[float] = []
        sessions = []
        for i in range(clients):
            session = await RemoteSession.open(url, name=f"c{i}", role=ROLES[i % len(ROLES)], code=CODE)

            def received(event: Event) -> None:
                if event.kind == Kind.MESSAGE:
                    tag = str(event.payload["text"]).removeprefix("status ")
                    if tag in sent:
                        latencies.append(time.perf_counter() - sent[tag])

            session.subscribe(received)
            sessions.append(session)
        await fac.start()
        cpu0, wall0 = cpu_seconds(proc.pid or 0), time.monotonic()
        here0, load0 = time.process_time(), os.getloadavg()[0]
        until = wall0 + seconds
        rng = random.Random(7)
        acted = await asyncio.gather(*(player(s, every, until, sent, acks, rng) for s in sessions))
        await asyncio.sleep(0.5)
        cpu1, wall1 = cpu_seconds(proc.pid or 0), time.monotonic()
        here1, load1 = time.process_time(), os.getloadavg()[0]
        for session in sessions:
            await session.close()
        await fac.end()
        await fac.close()
        await asyncio.wait_for(proc.wait(), 30)
    ms = sorted(x * 1000 for x in latencies)
    ack_ms = sorted(x * 1000 for x in acks)
    wall = wall1 - wall0
    return {
        "clients": clients, "seconds": round(wall, 1), "commands": sum(acted),
        "deliveries": len(ms), "expected_deliveries": sum(acted) * clients,
        "p50_ms": round(statistics.median(ms), 2), "p99_ms": round(_pct(ms, 0.99), 2),
        "max_ms": round(ms[-1], 2),
        "ack_p50_ms": round(statistics.median(ack_ms), 2), "ack_p99_ms": round(_pct(ack_ms, 0.99), 2),
        "server_cpu_percent": round(100 * (cpu1 - cpu0) / wall, 1),
        "clients_process_cpu_percent": round(100 * (here1 - here0) / wall, 1),
        "load_average": [round(load0, 2), round(load1, 2)],
        "python": sys.version.split()[0], "cpus": os.cpu_count(),
    }


def _pct(sorted_ms: list[float], q: float) -> float:
    return sorted_ms[int(q * (len(sorted_ms) - 1))]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--every", type=float, default=3.0, help="mean seconds between one client's actions")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(asyncio.wait_for(main(args.clients, args.seconds, args.every),
                                                  args.seconds + 120)), indent=2))
