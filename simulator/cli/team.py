"""The ``ttx host`` and ``ttx join`` commands: a team drill over websockets, one terminal per player."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import signal
import sys
import time
from pathlib import Path
from typing import Any

from simulator.cli.runs import add_fork_options, fork_args, forking
from simulator.cli.usage import UsageError, output_path, seed_value

BIND_HELP = ("address to listen on (default 127.0.0.1: this machine only). RISK: any other address "
             "(0.0.0.0, a LAN or public IP) lets everyone who can reach it try the join code, and "
             "ws:// is not encrypted, so tokens and chat cross the network in clear. To reach a "
             "host from other machines, keep the default and use an SSH tunnel: "
             "ssh -L 8765:127.0.0.1:8765 HOST")


def register(sub: Any) -> None:
    """Add ``host`` and ``join`` to the ``ttx`` subcommands."""
    p = sub.add_parser("host", help="host a team drill: a websocket server players join",
                       description="Host a live team drill. Prints the join code, the facilitator "
                                   "token and the exact join commands.")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario file or built-in id")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765; 0 picks a free one)")
    p.add_argument("--bind", default="127.0.0.1", metavar="ADDR", help=BIND_HELP)
    p.add_argument("--journal", metavar="PATH", type=output_path,
                   help="journal file (default drill-SCENARIO-YYYYmmdd-HHMMSS.jsonl here)")
    p.add_argument("--seed", type=seed_value, default=None, help="seed (default: the scenario's)")
    p.add_argument("--code", help="join code to use (default: a fresh random one)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="sim seconds per wall second when the drill starts (default 1)")
    p.add_argument("--resume", metavar="JOURNAL",
                   help="after a crash: rebuild the drill from its journal; the clock waits paused")
    p.add_argument("--linger", type=float, default=600.0, metavar="SECONDS",
                   help="keep serving the review this long after the drill ends (default 600)")
    add_fork_options(p)
    p.set_defaults(handler=cmd_host)

    p = sub.add_parser("join", help="join a team drill hosted with ttx host",
                       description="Join a team drill as a role (with the join code) or as the "
                                   "facilitator (with the facilitator token).")
    p.add_argument("url", metavar="URL", help="ws://HOST:PORT")
    p.add_argument("--code", help="the join code the host printed")
    p.add_argument("--role", help="role to hold: ic, ml, ts, comms or legal")
    p.add_argument("--facilitator-token", metavar="TOKEN", help="join as the facilitator")
    p.add_argument("--token", help="rejoin as the player this token was issued to")
    p.add_argument("--name", required=True, help="your name, shown to the team")
    p.add_argument("--headless", action="store_true",
                   help="no TUI: print this seat's events as lines until the drill's result")
    p.set_defaults(handler=cmd_join)


# --- host -----------------------------------------------------------------------------------


def cmd_host(args: argparse.Namespace) -> int:
    """Run the drill server until the drill has ended and lingered, or until interrupted."""
    from simulator.team.server import ResumeError

    if not args.resume and not args.scenario and args.origin is None:
        raise UsageError("give a SCENARIO, or --resume JOURNAL, or --from JOURNAL --at T")
    try:
        return asyncio.run(_host(args))
    except (ResumeError, OSError) as exc:
        raise UsageError(str(exc)) from None


async def _host(args: argparse.Namespace) -> int:
    from simulator.format.loader import load_scenario
    from simulator.team.server import DrillServer, new_token

    token: str | None = None
    if args.resume:
        server = DrillServer.resume(args.resume)
    else:
        drill, loaded = host_fork(args) if forking(args) else (None, load_scenario(args.scenario))
        token = new_token()
        journal = args.journal or f"drill-{loaded.scenario.id}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        server = DrillServer.host(loaded, journal, seed=args.seed, code=args.code,
                                  facilitator_token=token, speed=args.speed, drill=drill)
    try:
        port = await server.start(args.bind, args.port)
    except OSError as exc:
        await server.stop()
        if token is not None:  # a fresh journal of a drill that never ran: leave no file behind
            Path(server.journal.path).unlink(missing_ok=True)
        reason = "in use (another ttx host?)" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise UsageError(f"cannot listen on {args.bind}:{args.port}: {reason}; pick another --port, "
                         "or --port 0 for a free one") from None
    _banner(server, args, port, token)
    server.watchers.append(_log_event)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await _wait_first(server.done.wait(), stop.wait())
        if server.done.is_set() and not stop.is_set():
            _print_result(server)
            print(f"serving the review to the players for {args.linger:g} s more (--linger); "
                  "Ctrl+C stops now", flush=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.linger)
    finally:
        await server.stop()
    return 0


def host_fork(args: argparse.Namespace) -> tuple[Any, Any]:
    """``ttx host --from J --at T``: the journal's drill up to T, in the lobby; players join as usual."""
    from simulator.engine.fork import ForkError, load_fork

    origin, at, insist = fork_args(args)
    if args.seed is not None:
        raise UsageError("--seed cannot go with --from: a fork keeps its journal's seed")
    try:
        return load_fork(origin, at, insist)
    except ForkError as exc:
        raise UsageError(str(exc)) from None


async def _wait_first(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    _, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()


def _banner(server: Any, args: argparse.Namespace, port: int, token: str | None) -> None:
    from simulator.format.durations import clock

    shown = "127.0.0.1" if args.bind in ("0.0.0.0", "::", "") else args.bind
    url = f"ws://{shown}:{port}"
    scenario = server.drill.scenario
    roles = ", ".join(r.value for r in scenario.roles)
    lines = [f"ttx host: {scenario.id} (seed {server.drill.seed}) listening on {url}",
             f"journal: {server.journal.path}"]
    if server.drill.fork is not None and token is not None:
        lines.append(f"forked from {server.drill.fork.parent} at {clock(server.drill.fork.at)}: players "
                     "join as usual and see the drill so far; the clock starts there")
    if token is None:
        lines += [f"resumed at sim time {clock(server.drill.now)}, clock paused; players reconnect by "
                  "themselves; the facilitator resumes the clock",
                  "join code and facilitator token: unchanged (the journal keeps only their hashes)"]
    else:
        lines += [f"join code: {server.code}", f"facilitator token: {token}", "",
                  f"players ({roles}):",
                  f"  ttx join {url} --code {server.code} --role ROLE --name NAME",
                  "facilitator:",
                  f"  ttx join {url} --facilitator-token {token} --name NAME"]
    if args.bind not in ("127.0.0.1", "localhost", "::1"):
        lines.append(f"WARNING: listening on {args.bind}: reachable from other machines, unencrypted")
    print("\n".join(lines), flush=True)


def host_line(event: Any) -> str | None:
    """The host's log line for a journaled event (joins, leaves, clock changes, refusals, the end),
    or ``None`` for the drill's own events."""
    from simulator.engine.events import Kind
    from simulator.format.durations import clock

    p = event.payload
    who = f"{p.get('name')} ({p.get('role')})"
    lines = {
        Kind.PLAYER_JOINED: lambda: f"{who} {'rejoined' if p.get('rejoined') else 'joined'}",
        Kind.PLAYER_LEFT: lambda: f"{who} left",
        Kind.CLOCK_CHANGED: lambda: _clock_line(p),
        Kind.REFUSED: lambda: (f"refused {event.actor}'s {p.get('action')}: {p.get('reason')}"
                               + (f" ({p['player']})" if p.get("player") else "")),
        Kind.DRILL_ENDED: lambda: ("drill ended: " + ("the facilitator ended it" if p.get("reason") ==
                                                      "facilitator" else "time ran out")),
    }
    if event.kind == Kind.SESSION_NOTE and p.get("event") == "refused_frame":
        sender = event.actor or "a connection that has not joined"
        text = f"refused a frame from {sender}: {p.get('code')} ({p.get('reason')})"
    elif event.kind in lines:
        text = lines[event.kind]()
    else:
        return None
    return f"{time.strftime('%H:%M:%S')} sim {clock(event.t)}  {text}"


def _clock_line(p: dict[str, Any]) -> str:
    what = {"start": "started the drill", "pause": "paused the clock", "resume": "resumed the clock",
            "speed": "set the speed", "skip": "skipped to the next inject"}.get(str(p.get("reason")),
                                                                                 str(p.get("reason")))
    state = f"{'running' if p.get('running') else 'paused'} at {float(p.get('speed', 1)):g}×"
    return f"{p.get('by') or 'the facilitator'} {what} (clock {state})"


def _log_event(event: Any) -> None:
    """Print the host's line for ``event`` (``ttx host`` between its banner and the result)."""
    line = host_line(event)
    if line is not None:
        print(line, flush=True)


def _print_result(server: Any) -> None:
    from simulator.analysis.summary import summary_table
    from simulator.engine.events import Kind
    from simulator.engine.scoring import Result

    result = next((e.payload for e in reversed(server.drill.events) if e.kind == Kind.RESULT), None)
    if result is not None:
        print("drill over\n" + summary_table(Result.from_dict(result)), flush=True)


# --- join -----------------------------------------------------------------------------------


def cmd_join(args: argparse.Namespace) -> int:
    """Connect a seat; run the TUI with it, or print its events with ``--headless``."""
    if not (args.facilitator_token or args.token or (args.code and args.role)):
        raise UsageError("give --code and --role, or --facilitator-token")
    from websockets.exceptions import InvalidHandshake, InvalidURI
    from websockets.uri import parse_uri

    try:
        parse_uri(args.url)
    except (InvalidURI, ValueError) as exc:
        why = "it must start with ws:// (or wss://)" if isinstance(exc, InvalidURI) else str(exc)
        raise UsageError(f"bad URL '{args.url}': {why}; use the URL ttx host printed, "
                         "e.g. ws://127.0.0.1:8765") from None
    try:
        return asyncio.run(_join(args))
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise UsageError(f"cannot reach {args.url} ({reason}); is ttx host running there? "
                         "Use the URL its banner printed (through an SSH tunnel from another "
                         "machine).") from None


async def _join(args: argparse.Namespace) -> int:
    from simulator.team.remote import RemoteError, RemoteSession, print_events

    run_drill = None if args.headless else _tui_entry()
    try:
        session = await RemoteSession.open(args.url, name=args.name, role=args.role, code=args.code,
                                           facilitator_token=args.facilitator_token, token=args.token)
    except RemoteError as exc:
        raise UsageError(f"refused: {exc}{_join_hint(exc.code, args)}") from None
    try:
        if run_drill is None:
            print(f"joined as {session.seat} ({session.name}); token {session.token}", flush=True)
            await print_events(session, sys.stdout)
        else:
            await run_drill(session)
    finally:
        await session.close()
    return 0


def _join_hint(code: str, args: argparse.Namespace) -> str:
    """What to do about a refused join (the server's message says what was wrong)."""
    if code == "bad_code":
        return " (use the join code ttx host printed; the facilitator's lobby shows it too)"
    if code == "bad_token" and args.facilitator_token:
        return " (use the facilitator token ttx host printed when it started)"
    if code == "bad_token" and args.token:
        return " (--token takes the token printed when you joined this drill; or join with --code and --role)"
    return ""


def _tui_entry() -> Any:
    """``tui.app.run_drill_async``: the drill app on an already connected session, awaited inside
    the running event loop that owns the session's websocket (``App.run_async``, never ``App.run``,
    which would start a loop of its own). Imported here, not at module level: ``simulator`` never
    imports textual until a TUI is actually opened.
    """
    from tui.app import run_drill_async

    return run_drill_async
