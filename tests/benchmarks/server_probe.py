"""``ttx host`` with timestamps taken inside the server, for ``bench_server.py`` only.

    python tests/benchmarks/server_probe.py OUT.json host SCENARIO …   (the arguments of ``ttx host``)

Wraps three :class:`DrillServer` methods in this process only (production code carries no hook
and pays nothing): for every benchmark war-room message (text ``status NAME-N SENT_NS``) it keeps,
on ``CLOCK_MONOTONIC`` (shared by every process on the machine):

- ``received``: the server's handler got the frame (after the socket read and the event loop's wait);
- ``fsync``: the start and end of the fsync that made it durable (the group commit's);
- ``durable``: its events are on disk (the group commit's fsync returned and the fan-out starts);
- ``sent``: the fan-out has written its broadcast to the last socket (or queued it for a client
  that is behind: ``queued`` counts those);

and writes them to OUT.json when ``ttx host`` exits (with the host's full garbage collections: how
long, and when each began), keyed by ``NAME-N SENT_NS``, with how late
the server's event loop woke from 5 ms sleeps meanwhile (:func:`loop_lag`).
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import re
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from simulator.cli import main  # noqa: E402
from simulator.engine.events import Event, Kind  # noqa: E402
from simulator.team.server import Connection, DrillServer  # noqa: E402

STAMP = re.compile(r"status (\S+ \d+)")
"""The key of a benchmark message: the sender's name and count, and its send time."""

marks: dict[str, dict[str, int]] = {}
lags: list[float] = []
pauses: list[float] = []
"""Full garbage collections (the oldest generation), in ms."""
paused_at: list[int] = []
"""When each of them began, monotonic ns."""
tracked: list[int] = []
"""Objects the collector tracks when the drill starts and when the host exits."""
fsyncs: list[tuple[int, int]] = []
"""(start, end) of every fsync, monotonic ns."""


def _stamps(batch: list[Event]) -> list[str]:
    found = (STAMP.match(str(e.payload.get("text", ""))) for e in batch if e.kind == Kind.MESSAGE)
    return [m.group(1) for m in found if m is not None]


heartbeat = [time.monotonic()]
stalls: dict[str, int] = {}
"""Where the event loop's thread was when it had not woken for 50 ms: its innermost frames, counted."""


async def loop_lag(lags: list[float], every: float = 0.005) -> None:
    """Keep how late this process's event loop wakes from an ``every``-second sleep, in ms (its own
    work and any wait for a core both make it late)."""
    while True:
        due = time.monotonic() + every
        await asyncio.sleep(every)
        heartbeat[0] = now = time.monotonic()
        lags.append((now - due) * 1e3)


def watch_stalls(loop_thread: int) -> None:
    """A thread that, whenever the loop has not woken for 50 ms, notes where the loop's thread is."""
    def watch() -> None:
        while True:
            time.sleep(0.01)
            if time.monotonic() - heartbeat[0] > 0.05:
                frame = sys._current_frames().get(loop_thread)
                where = " < ".join(f"{f.name}:{Path(f.filename).name}:{f.lineno}"
                                   for f in reversed(traceback.extract_stack(frame)[-4:])) if frame else "?"
                stalls[where] = stalls.get(where, 0) + 1
                heartbeat[0] = time.monotonic()
    threading.Thread(target=watch, daemon=True).start()


def watch_collections(pauses: list[float], at: list[int] | None = None) -> None:
    """Keep the length of every full garbage collection (the oldest generation) of this process, in
    ms: its event loop stops meanwhile; ``at`` keeps when each began (monotonic ns)."""
    began = [0]

    def timed(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            began[0] = time.monotonic_ns()
        elif info.get("generation") == 2:
            pauses.append((time.monotonic_ns() - began[0]) / 1e6)
            if at is not None:
                at.append(began[0])

    gc.callbacks.append(timed)


def install() -> None:
    """Wrap the server's frame handler, delivery and fan-out with timestamps."""
    receive, deliver, fan_out = DrillServer._receive, DrillServer._deliver, DrillServer._fan_out
    start = DrillServer.start
    watching: list[asyncio.Task[None]] = []

    async def lagged_start(self: DrillServer, *args: Any, **kwargs: Any) -> int:
        tracked.append(len(gc.get_objects()))
        watching.append(asyncio.get_running_loop().create_task(loop_lag(lags)))
        watch_stalls(threading.get_ident())
        return await start(self, *args, **kwargs)
    fsync = os.fsync

    def timed_fsync(fd: Any) -> None:
        start = time.monotonic_ns()
        fsync(fd)
        fsyncs.append((start, time.monotonic_ns()))

    def timed_receive(self: DrillServer, conn: Connection, raw: str | bytes) -> None:
        now = time.monotonic_ns()
        if isinstance(raw, str) and '"chat"' in raw:
            found = STAMP.search(raw)
            if found is not None:
                marks.setdefault(found.group(1), {})["received"] = now
        receive(self, conn, raw)

    def timed_deliver(self: DrillServer, batch: list[Event]) -> None:
        now = time.monotonic_ns()
        start, end = fsyncs[-1] if fsyncs else (now, now)
        for key in _stamps(batch):
            marks.setdefault(key, {}).update(durable=now, fsync_start=start, fsync_end=end)
        deliver(self, batch)

    def timed_fan_out(self: DrillServer, batch: list[Event]) -> None:
        direct = sum(c.outbox.direct for c in self.connections)
        fan_out(self, batch)
        now = time.monotonic_ns()
        queued = len(self._joined()) - (sum(c.outbox.direct for c in self.connections) - direct)
        for key in _stamps(batch):
            marks.setdefault(key, {}).update(sent=now, queued=queued)

    os.fsync = timed_fsync
    DrillServer.start = lagged_start  # type: ignore[method-assign]
    DrillServer._receive = timed_receive  # type: ignore[method-assign]
    DrillServer._deliver = timed_deliver  # type: ignore[method-assign]
    DrillServer._fan_out = timed_fan_out  # type: ignore[method-assign]


def _dump(path: str) -> None:
    complete: dict[str, Any] = {k: v for k, v in marks.items() if {"received", "durable", "sent"} <= v.keys()}
    tracked.append(len(gc.get_objects()))
    probed = {"marks": complete, "lags": lags, "collections": pauses,
              "collections_at": paused_at, "stalls": stalls, "tracked": tracked}
    Path(path).write_text(json.dumps(probed))


if __name__ == "__main__":
    out = sys.argv[1]
    install()
    watch_collections(pauses, paused_at)
    try:
        code = main(sys.argv[2:])
    finally:
        _dump(out)
    raise SystemExit(code)
