"""The ``ttx host`` and ``ttx join`` commands: a team drill over websockets, one terminal per player.

Across machines, players join over SSH seats (``--ssh``) or ``wss://`` with the certificate's pin;
plain ``ws://`` never leaves this machine (see :data:`BIND_HELP`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import gc
import json
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from simulator.cli.recording import (
    add_recording_options,
    add_seat_history_options,
    record_after,
    recording_target,
    seat_target,
)
from simulator.cli.runs import add_fork_options, fork_args, forking
from simulator.cli.usage import UsageError, output_path, port_value, seed_value
from simulator.format.taxonomy import Role, role_named, role_near

DEFAULT_PORT = 8765
"""The websocket's port when neither ``--port`` nor (on ``--resume``) the serving record gives one."""
DEFAULT_BIND = "127.0.0.1"
"""The address listened on when neither ``--bind`` nor the serving record gives one: this machine only."""
BIND_HELP = ("address to listen on (default 127.0.0.1: this machine only, plain ws://). Any other "
             "address, e.g. 0.0.0.0 for a drill on a LAN, is served over TLS only (wss://, with a "
             "certificate made once beside the journal, or --cert/--key); players join with the pin "
             "the banner prints, or over SSH seats (--ssh). Whoever can reach the port can try the "
             "join code: keep the drill on a network you trust, or behind a firewall")
SECRETS = {"code": "TTX_CODE", "token": "TTX_TOKEN", "facilitator_token": "TTX_FACILITATOR_TOKEN",
           "evaluator_token": "TTX_EVALUATOR_TOKEN"}
"""Environment variables ``ttx join`` reads a secret from when its option is not given (the SSH
seats pass theirs so; it keeps secrets out of the process list and the shell history)."""
SEAT_FD = "TTX_SEAT_FD"
"""If set, ``ttx join`` writes its seat (token, player, seat, name) as one JSON line to this file
descriptor once it has joined, and closes it (how an SSH seat learns its token, to rejoin with)."""
SEAT_TICKET = "TTX_SEAT_TICKET"
"""An SSH seat's ticket from the host (``ttx host --ssh`` sets it): the seat's connections count
against the SSH player's address."""


def register(sub: Any) -> None:
    """Add ``host`` and ``join`` to the ``ttx`` subcommands."""
    p = sub.add_parser("host", help="host a team drill: a websocket server players join",
                       description="Host a live team drill. Prints the join code, the facilitator "
                                   "and evaluator tokens and the exact join commands.")
    p.add_argument("scenario", nargs="?", metavar="SCENARIO", help="scenario file or built-in id")
    p.add_argument("--port", type=port_value, help=f"port (default {DEFAULT_PORT}; 0 picks a free one; with "
                                            "--resume, the port the drill was served on)")
    p.add_argument("--bind", metavar="ADDR", help=BIND_HELP)
    p.add_argument("--journal", metavar="PATH", type=output_path,
                   help="journal file (default drill-SCENARIO-YYYYmmdd-HHMMSS.jsonl here)")
    p.add_argument("--seed", type=seed_value, default=None, help="seed (default: the scenario's)")
    p.add_argument("--code", help="join code to use: 6-32 letters and digits (default: a fresh random "
                                  "one; with --resume, the drill's earlier code to keep showing it)")
    p.add_argument("--speed", type=float, default=1.0,
                   help="sim seconds per wall second when the drill starts (default 1)")
    p.add_argument("--resume", metavar="JOURNAL",
                   help="after a crash: rebuild the drill from its journal; the clock waits paused. It is "
                        "served as it was (--bind, --port, TLS and its certificate, --ssh, --advertise, "
                        "kept in JOURNAL.serving.json) unless an option here says otherwise")
    p.add_argument("--linger", type=float, default=600.0, metavar="SECONDS",
                   help="keep serving the review this long after the drill ends (default 600)")
    p.add_argument("--max-players", type=int, default=40, metavar="N",
                   help="most players in the lobby (default 40; one role may hold at most half)")
    p.add_argument("--ssh", type=port_value, metavar="PORT",
                   help="also serve seats over SSH on PORT: players run ssh -p PORT NAME@HOST, nothing "
                        "to install (host key made once beside the journal)")
    p.add_argument("--no-ssh", action="store_true",
                   help="with --resume: no SSH seats, though the drill was hosted with them")
    p.add_argument("--tls", action=argparse.BooleanOptionalAction,
                   help="serve wss:// on loopback too (it always is on any other --bind); --no-tls: "
                        "with --resume on loopback, plain ws:// though the drill was hosted with TLS")
    p.add_argument("--cert", metavar="PEM", help="your organisation's certificate (chain) for wss://, "
                   "instead of the self-signed one ttx makes; needs --key")
    p.add_argument("--key", metavar="PEM", help="the private key of --cert")
    p.add_argument("--advertise", metavar="HOST",
                   help="the address players use to reach this machine, for the printed commands "
                        "(default: --bind, or this machine's name when --bind is 0.0.0.0 or ::)")
    add_fork_options(p)
    add_recording_options(p)
    p.set_defaults(handler=cmd_host)

    p = sub.add_parser("join", help="join a team drill hosted with ttx host",
                       description="Join a team drill as a role (with the join code), as the "
                                   "facilitator (with the facilitator token) or as an evaluator (with "
                                   "the evaluator token: sees what the facilitator sees, writes "
                                   "observations, cannot steer).")
    p.add_argument("url", metavar="URL", help="wss://HOST:PORT (or ws://127.0.0.1:PORT on this machine)")
    p.add_argument("--pin", metavar="SHA256:…",
                   help="the certificate fingerprint ttx host printed: the server must present exactly "
                        "that certificate, or nothing is sent")
    p.add_argument("--insecure", action="store_true",
                   help="allow ws:// to another machine: the join code, tokens and chat cross the network "
                        "unencrypted")
    p.add_argument("--code", help="the join code the host printed (or set TTX_CODE)")
    p.add_argument("--role", help="role to hold: ic, ml, ts, comms or legal")
    p.add_argument("--facilitator-token", metavar="TOKEN",
                   help="join as the facilitator (or set TTX_FACILITATOR_TOKEN)")
    p.add_argument("--evaluator-token", metavar="TOKEN",
                   help="join as an evaluator (or set TTX_EVALUATOR_TOKEN)")
    p.add_argument("--token", help="rejoin as the player this token was issued to (or set TTX_TOKEN)")
    p.add_argument("--name", required=True, help="your name, shown to the team")
    p.add_argument("--headless", action="store_true",
                   help="no TUI: print this seat's events as lines until the drill's result")
    add_seat_history_options(p)
    p.set_defaults(handler=cmd_join)


# --- host -----------------------------------------------------------------------------------


def settle_heap() -> None:
    """Leave everything loaded so far (modules, the scenario, the drill as set up) out of every later
    garbage collection, so a full collection walks only what the drill has made since. In ``ttx host``
    a full collection of that heap (~56,000 objects) cost 28–35 ms of CPU on a busy machine, a pause
    of the event loop every broadcast in flight waited behind. The command models are built first
    (they are built lazily otherwise), so they are frozen too and no first command waits for them."""
    from simulator.format.commands import build_models

    build_models()
    gc.collect()
    gc.freeze()


def cmd_host(args: argparse.Namespace) -> int:
    """Run the drill server until the drill has ended and lingered, or until interrupted."""
    from simulator.team.keyfiles import KeyFileError
    from simulator.team.server import ResumeError
    from simulator.team.serving import ServingError

    if not args.resume and not args.scenario and args.origin is None:
        raise UsageError("give a SCENARIO, or --resume JOURNAL, or --from JOURNAL --at T")
    args.history = recording_target(args)
    if bool(args.cert) != bool(args.key):
        raise UsageError("--cert and --key go together: the certificate (chain) and its private key")
    try:
        return asyncio.run(_host(args))
    except (ResumeError, ServingError, OSError, KeyFileError) as exc:
        raise UsageError(str(exc)) from None


async def _host(args: argparse.Namespace) -> int:
    from simulator.format.loader import load_scenario
    from simulator.team.server import Limits, new_token
    from simulator.team.serving import read_serving

    if args.max_players < 1:
        raise UsageError(f"--max-players {args.max_players}: give at least 1")
    limits = Limits(max_players=args.max_players)
    evaluator = new_token()
    drill, loaded = None, None
    if args.resume:
        journal = args.resume
    else:
        drill, loaded = host_fork(args) if forking(args) else (None, load_scenario(args.scenario))
        journal = args.journal or f"drill-{loaded.scenario.id}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    served_before = read_serving(journal) if args.resume else None
    settle_serving(args, served_before)
    with _removed_unless_served(_unmade_key_files(args, journal)):
        tls, ssh_key = _served_identity(args, journal, served_before), _ssh_key(args, journal)
        server, token = _drill_server(args, journal, drill, loaded, limits, evaluator)
        seats, port = await _listen(server, args, tls, ssh_key, fresh=token is not None)
    serving = _record_serving(server, args, port, tls, seats)
    notes = _serving_lines(served_before, serving, server.journal.path) if args.resume else []
    _banner(server, args, port, token, tls, seats,
            evaluator=evaluator if token is not None or server.evaluator_fresh else None, notes=notes)
    server.watchers.append(_log_event)
    server.host_log.append(lambda text: _log_line(server.drill.now, text))
    settle_heap()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await _wait_first(server.done.wait(), stop.wait())
        if server.done.is_set() and not stop.is_set():
            _print_result(server)
            recorded = " and then records the drill in the history" if args.history is not None else ""
            print(f"serving the review to the players for {args.linger:g} s more (--linger){recorded}; "
                  "Ctrl+C stops now", flush=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.linger)
    finally:
        if seats is not None:
            await seats.stop()
        await server.stop()
    record_after(server.journal.path, args.history, "host", ended=server.done.is_set())
    return 0


def _drill_server(args: argparse.Namespace, journal: str, drill: Any, loaded: Any, limits: Any,
                  evaluator: str) -> tuple[Any, str | None]:
    """The drill to serve and its new facilitator token: resumed from ``journal`` (no new token: the
    journal keeps the first one's hash), or a new drill of ``loaded`` (or the fork ``drill``)."""
    from simulator.team.server import DrillServer, new_token

    if args.resume:
        return DrillServer.resume(journal, limits=limits, code=args.code, evaluator_token=evaluator), None
    token = new_token()
    server = DrillServer.host(loaded, journal, seed=args.seed, code=args.code, facilitator_token=token,
                              speed=args.speed, limits=limits, drill=drill, evaluator_token=evaluator)
    return server, token


async def _listen(server: Any, args: argparse.Namespace, tls: Any, ssh_key: Any,
                  fresh: bool) -> tuple[Any, int]:
    """Listen for websockets (and with ``ssh_key`` SSH seats): the seats and the websocket's port.

    Raises:
        UsageError: a port cannot be had; the server is stopped, and a ``fresh`` journal (a drill
            that never ran) removed.
    """
    from simulator.team.tls import server_context

    seats, port = None, None
    try:
        port = await server.start(args.bind, args.port, tls=server_context(tls) if tls else None)
        if ssh_key is not None:
            seats = await _ssh_seats(server, args, port, tls, ssh_key)
    except OSError as exc:
        await server.stop()
        if fresh:
            Path(server.journal.path).unlink(missing_ok=True)
        raise UsageError(_cannot_listen(args, exc, ssh=port is not None)) from None
    return seats, port


def settle_serving(args: argparse.Namespace, recorded: Any) -> None:
    """Settle how this host serves, in ``args``: each setting the command line gives; else, resuming,
    what the drill's serving record kept (``recorded``, see :mod:`simulator.team.serving`); else the
    default. A journal without a record resumes on the options given, as before there were records.

    Raises:
        UsageError: options that contradict each other (``--no-tls`` with ``--cert`` or off loopback,
            ``--no-ssh`` with ``--ssh``).
    """
    from simulator.team.tls import loopback

    if args.no_ssh and args.ssh is not None:
        raise UsageError("--ssh and --no-ssh contradict each other: give one")
    if recorded is not None:
        args.bind = recorded.bind if args.bind is None else args.bind
        args.port = recorded.port if args.port is None else args.port
        args.advertise = recorded.advertise if args.advertise is None else args.advertise
        args.ssh = recorded.ssh if args.ssh is None and not args.no_ssh else args.ssh
        if args.tls is None and not args.cert and recorded.tls == "given":
            args.cert, args.key = recorded.cert, recorded.key
        elif args.tls is None and not args.cert:
            args.tls = recorded.tls == "made"
    args.bind = DEFAULT_BIND if args.bind is None else args.bind
    args.port = DEFAULT_PORT if args.port is None else args.port
    if args.tls is False and args.cert:
        raise UsageError("--no-tls and --cert contradict each other: give one")
    if args.tls is False and not loopback(args.bind):
        raise UsageError(f"--no-tls: plain ws:// is served on loopback only, not on --bind {args.bind}; "
                         "players elsewhere join over wss:// with the pin, or over SSH seats")


def _unmade_key_files(args: argparse.Namespace, journal: str) -> list[Path]:
    """The key files this host is about to make beside ``journal`` (the ones it needs that are not
    there yet): the TLS certificate and key ttx makes, the SSH host key."""
    from simulator.team.keyfiles import beside
    from simulator.team.tls import CERT_FILE, KEY_FILE, loopback

    made: list[Path] = []
    key = beside(journal, KEY_FILE)
    if not args.cert and (args.tls or not loopback(args.bind)) and not key.exists():
        made += [key, beside(journal, CERT_FILE)]
    if args.ssh is not None:
        from simulator.team.ssh import HOST_KEY_FILE

        made += [path for path in [beside(journal, HOST_KEY_FILE)] if not path.exists()]
    return made


@contextlib.contextmanager
def _removed_unless_served(made: list[Path]) -> Iterator[None]:
    """Remove the key files this host made (``made``) if it fails before serving, e.g. on a port in
    use: nobody has seen their fingerprints, and a later host in the folder should make its own
    rather than show ones no drill was ever served with. (Another host starting in the same folder
    at the same instant could have made one of them first; keys are made so rarely that this is
    left to the next start, which makes the key again.)"""
    try:
        yield
    except BaseException:
        for path in made:
            path.unlink(missing_ok=True)
        raise


def _record_serving(server: Any, args: argparse.Namespace, port: int, tls: Any, seats: Any) -> Any:
    """Write how this host serves beside its journal, for a later ``--resume`` (see
    :mod:`simulator.team.serving`), and return it."""
    from simulator.team.serving import Serving, write_serving

    given = tls is not None and not tls.generated
    serving = Serving(bind=args.bind, port=port,
                      tls=None if tls is None else "given" if given else "made",
                      cert=str(tls.cert.resolve()) if given else None,
                      key=str(tls.key.resolve()) if given else None,
                      pin=tls.pin if tls else None, ssh=seats.port if seats else None,
                      ssh_fingerprint=seats.fingerprint if seats else None, advertise=args.advertise)
    write_serving(server.journal.path, serving)
    return serving


def _serving_lines(recorded: Any, now: Any, journal: Path) -> list[str]:
    """What a resumed host's banner says about how it serves: what is as the drill was served before
    (from its serving record) and what changed, or that the journal has no record of it."""
    from simulator.team.serving import serving_path

    record = serving_path(journal).name
    if recorded is None:
        return [f"no record of how this drill was served ({record} is missing: hosted by an older ttx?), "
                "so it is served as the options given say: if it was hosted with --tls, --ssh, --bind "
                "or --port, give them again"]
    same, changed = [], []
    for label, was, is_ in _serving_settings(recorded, now):
        if was == is_ == "none":
            continue
        if was == is_:
            same.append(label)
        else:
            changed.append(f"{label} {was} → {is_}")
    lines = [f"served as before (kept in {record}): same {', '.join(same)}" if same
             else f"served otherwise than before (kept in {record})"]
    if changed:
        lines.append("changed: " + "; ".join(changed))
    if recorded.pin and now.pin and recorded.pin != now.pin:
        lines.append("the TLS certificate is not the one players pinned: hand them the join commands below")
    if recorded.ssh_fingerprint and now.ssh_fingerprint and recorded.ssh_fingerprint != now.ssh_fingerprint:
        lines.append("the SSH host key is new: players' ssh warns that it changed (check the fingerprint)")
    return lines


def _serving_settings(recorded: Any, now: Any) -> list[tuple[str, str, str]]:
    """Each setting a serving record keeps, by the name the banner gives it: (name, before, now)."""
    def scheme(s: Any) -> str:
        return {"made": "wss://", "given": "wss:// (--cert)", None: "ws://"}[s.tls]

    def text(value: object) -> str:
        return "none" if value is None else str(value)

    settings = [("address", recorded.bind, now.bind), ("port", str(recorded.port), str(now.port)),
                ("scheme", scheme(recorded), scheme(now))]
    if recorded.tls and now.tls:
        settings.append(("certificate", text(recorded.pin), text(now.pin)))
    settings.append(("SSH port", text(recorded.ssh), text(now.ssh)))
    if recorded.ssh and now.ssh:
        settings.append(("SSH host key", text(recorded.ssh_fingerprint), text(now.ssh_fingerprint)))
    return [*settings, ("advertised name", text(recorded.advertise), text(now.advertise))]


def _cannot_listen(args: argparse.Namespace, exc: OSError, ssh: bool) -> str:
    """One line for a port that cannot be had (the websocket's, or with ``ssh`` the SSH seats'): which
    one, why, what to do."""
    what, port, option = (("listen for SSH seats", args.ssh, "--ssh") if ssh
                          else ("listen", args.port, "--port"))
    reason = "in use (another ttx host?)" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
    return (f"cannot {what} on {args.bind}:{port}: {reason}; pick another {option}, "
            f"or {option} 0 for a free one")


def _tls_identity(args: argparse.Namespace, journal: str) -> Any:
    """The certificate to serve wss:// with: ``--cert/--key``; else, off loopback or with ``--tls``,
    the one made beside the journal; else none (plain ws:// on loopback)."""
    from simulator.team.tls import generated_identity, given_identity, loopback

    if args.cert:
        return given_identity(args.cert, args.key)
    if args.tls or not loopback(args.bind):
        return generated_identity(journal)
    return None


def _served_identity(args: argparse.Namespace, journal: str, recorded: Any) -> Any:
    """:func:`_tls_identity`, saying so when a certificate the serving record names cannot be used
    (the facilitator gave no ``--cert`` this time)."""
    from simulator.team.keyfiles import KeyFileError
    from simulator.team.serving import serving_path

    try:
        return _tls_identity(args, journal)
    except KeyFileError as exc:
        if recorded is None or recorded.tls != "given" or args.cert != recorded.cert:
            raise
        raise KeyFileError(f"{exc} (the certificate this drill was served with, as "
                           f"{serving_path(journal).name} says; give --cert and --key, or --no-tls "
                           "on loopback)") from None


def _ssh_key(args: argparse.Namespace, journal: str) -> Any:
    if args.ssh is None:
        return None
    from simulator.team.ssh import host_key

    return host_key(journal)


async def _ssh_seats(server: Any, args: argparse.Namespace, port: int, tls: Any, key: Any) -> Any:
    """Start the SSH seats; each runs ``ttx join`` against this server from this machine."""
    from simulator.team.ssh import SshSeats, drill_gate

    host = _local_host(args.bind)
    url = f"{'wss' if tls else 'ws'}://{host}:{port}"
    seats = SshSeats(drill_gate(server), url, key, pin=tls.pin if tls else None,
                     workdir=Path(server.journal.path).resolve().parent)
    await seats.start(args.bind, args.ssh)
    return seats


def _local_host(bind: str) -> str:
    """Where this machine reaches a server bound to ``bind``."""
    if bind in ("0.0.0.0", ""):
        return "127.0.0.1"
    if bind == "::":
        return "[::1]"
    return f"[{bind}]" if ":" in bind else bind


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


def _banner(server: Any, args: argparse.Namespace, port: int, token: str | None, tls: Any = None,
            seats: Any = None, evaluator: str | None = None, notes: list[str] | None = None) -> None:
    """What the facilitator needs: where, the journal, the fingerprints to check, the secrets, the
    exact commands to hand out (secrets as ``--opt=value``, so none is ever read as an option).

    ``evaluator``: the evaluator token to print (``None`` after a resume that keeps the earlier one).
    ``notes``: lines after the journal's (a resumed host's: how it serves, against how it did).
    """
    from simulator.format.durations import clock

    host = _advertised(args)
    url = f"{'wss' if tls else 'ws'}://{host}:{port}"
    pin = f" --pin={tls.pin}" if tls else ""
    ssh = f"ssh -p {seats.port} " if seats else ""
    scenario = server.drill.scenario
    roles = ", ".join(r.value for r in scenario.roles)
    lines = [f"ttx host: {scenario.id} (seed {server.drill.seed}) listening on {url}",
             f"journal: {server.journal.path}", *(notes or [])]
    if tls:
        made = "made by ttx, kept beside the journal" if tls.generated else "given with --cert"
        lines.append(f"TLS certificate: {tls.pin} ({tls.cert}, {made})")
    else:
        lines.append("plain ws:// on loopback: this machine only (--tls or another --bind serves wss://)")
    if seats:
        lines.append(f"SSH seats: port {seats.port}, host key {seats.fingerprint} (ssh shows it on first "
                     "connect: it must match)")
    if server.drill.fork is not None and token is not None:
        lines.append(f"forked from {server.drill.fork.parent} at {clock(server.drill.fork.at)}: players "
                     "join as usual and see the drill so far; the clock starts there")
    if token is None:
        fresh = "" if server.code_unchanged else " (new; earlier codes of this drill still work)"
        where = (f"resumed a drill that has ended (at sim time {clock(server.drill.now)}): serving its "
                 "review; players reconnect by themselves" if server.drill.finished else
                 f"resumed at sim time {clock(server.drill.now)}, clock paused; players reconnect by "
                 "themselves; the facilitator resumes the clock")
        lines += [where,
                  f"join code: {server.code}{fresh}",
                  "facilitator token: unchanged, the one this drill's first banner printed (the journal "
                  "keeps only its hash, so it cannot be shown again; a facilitator seat still open "
                  "reconnects by itself)",
                  "evaluator token: " + (f"{evaluator} (new: the journal had none)" if evaluator
                                         else "unchanged (the journal keeps only its hash)"), "",
                  f"new players ({roles}):"]
        if seats:
            lines.append(f"  {ssh}NAME@{host}    (asks for the join code and a role; or ROLE@{host})")
        lines.append(f"  ttx join {url}{pin} --code={server.code} --role=ROLE --name=NAME")
        if evaluator:
            lines += ["evaluators:", f"  ttx join {url}{pin} --evaluator-token={evaluator} --name=NAME"]
    else:
        lines += [f"join code: {server.code}", f"facilitator token: {token}",
                  f"evaluator token: {evaluator}", "", f"players ({roles}):"]
        if seats:
            lines.append(f"  {ssh}NAME@{host}    (asks for the join code and a role; or ROLE@{host})")
        lines += [f"  ttx join {url}{pin} --code={server.code} --role=ROLE --name=NAME", "facilitator:"]
        if seats:
            lines.append(f"  {ssh}facilitator@{host}    (asks for the facilitator token)")
        lines.append(f"  ttx join {url}{pin} --facilitator-token={token} --name=NAME")
        lines.append("evaluators (see everything, write observations with o, cannot steer):")
        if seats:
            lines.append(f"  {ssh}evaluator@{host}    (asks for the evaluator token)")
        lines.append(f"  ttx join {url}{pin} --evaluator-token={evaluator} --name=NAME")
    print("\n".join(lines), flush=True)


def _advertised(args: argparse.Namespace) -> str:
    """The host name the printed commands use: ``--advertise``, the bound address, or this machine's name."""
    import socket

    given = getattr(args, "advertise", None)
    if given:
        return f"[{given}]" if ":" in given and not given.startswith("[") else given
    if args.bind in ("0.0.0.0", "::", ""):
        return socket.gethostname() or "127.0.0.1"
    return f"[{args.bind}]" if ":" in args.bind else args.bind


def host_line(event: Any) -> str | None:
    """The host's log line for a journaled event (joins, leaves, clock changes, refusals, the end),
    or ``None`` for the drill's own events."""
    from simulator.engine.events import Kind
    from simulator.engine.payloads import drill_ended_text

    p = event.payload
    who = f"{p.get('name')} ({p.get('role')})"
    lines = {
        Kind.PLAYER_JOINED: lambda: f"{who} {'rejoined' if p.get('rejoined') else 'joined'}",
        Kind.PLAYER_LEFT: lambda: f"{who} left",
        Kind.CLOCK_CHANGED: lambda: _clock_line(p),
        Kind.REFUSED: lambda: (f"refused {event.actor}'s {p.get('action')}: {p.get('reason')}"
                               + (f" ({p['player']})" if p.get("player") else "")),
        Kind.DRILL_ENDED: lambda: drill_ended_text(str(p.get("reason"))),
    }
    if event.kind == Kind.SESSION_NOTE and p.get("event") == "refused_frame":
        sender = event.actor or "a connection that has not joined"
        text = f"refused a frame from {sender}: {p.get('code')} ({p.get('reason')})"
    elif event.kind == Kind.SESSION_NOTE and p.get("event") == "join_lockout":
        text = (f"locked out {p.get('address')} for {p.get('seconds')} s after {p.get('failures')} "
                "wrong join codes")
    elif event.kind in lines:
        text = lines[event.kind]()
    else:
        return None
    return _stamped(event.t, text)


def _stamped(t: float, text: str) -> str:
    """A host log line: wall time, sim time, what happened."""
    from simulator.format.durations import clock

    return f"{time.strftime('%H:%M:%S')} sim {clock(t)}  {text}"


def _log_line(t: float, text: str) -> None:
    """Print a host log line for something the journal does not keep (a refused join)."""
    print(_stamped(t, text), flush=True)


def _clock_line(p: dict[str, Any]) -> str:
    what = {"start": "started the drill", "pause": "paused the clock", "resume": "resumed the clock",
            "speed": "set the speed", "skip": "skipped to the next inject or question"}.get(
                str(p.get("reason")), str(p.get("reason")))
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


def _role_id(text: str) -> str:
    """The role id for ``--role``: an id, or a role as the lobby shows it (``ML``, ``ML engineer``).

    Raises:
        UsageError: ``text`` names no role (which roles a drill puts in play, the server says).
    """
    role = role_named(text)
    if role is None:
        near = role_near(text)
        hint = f"; did you mean {near.value!r}?" if near is not None else ""
        raise UsageError(f"argument --role: expected a role: {', '.join(r.value for r in Role)} "
                         f"(or its name as the lobby shows it, e.g. 'ML engineer'), found {text!r}{hint}")
    return role.value


def _secret(option: str, given: str, variable: str) -> str:
    """A secret as given on the command line or in ``variable``, without the spaces and line breaks
    a paste or ``export TTX_…=$(cat file)`` brings along; a token must look like one.

    Raises:
        UsageError: a token with characters no ttx token has.
    """
    import re

    from simulator.team.protocol import TOKEN_PATTERN

    secret = given.strip()
    if option != "code" and not re.fullmatch(TOKEN_PATTERN, secret):
        flag = "--" + option.replace("_", "-")
        raise UsageError(f"argument {flag} (or {variable}): expected the token ttx host printed: up to 128 "
                         "letters, digits, - and _; this one has other characters")
    return secret


def cmd_join(args: argparse.Namespace) -> int:
    """Connect a seat; run the TUI with it, or print its events with ``--headless``."""
    for option, variable in SECRETS.items():
        if getattr(args, option) is None and os.environ.get(variable):
            setattr(args, option, os.environ[variable])
        if getattr(args, option) is not None:
            setattr(args, option, _secret(option, getattr(args, option), variable))
    if not (args.facilitator_token or args.evaluator_token or args.token or (args.code and args.role)):
        raise UsageError("give --code and --role, or --facilitator-token, or --evaluator-token")
    if args.role is not None:
        args.role = _role_id(args.role)
    args.history = seat_target(args)
    from websockets.exceptions import InvalidHandshake

    from simulator.team.remote import tls_for
    from simulator.team.tls import PinMismatch, TlsHandshakeFailed, parse_pin

    try:
        args.pin = parse_pin(args.pin) if args.pin is not None else None
        tls_for(args.url, args.pin, args.insecure)
    except ValueError as exc:
        raise UsageError(f"bad URL '{args.url}': {exc}; use the URL ttx host printed, "
                         "e.g. wss://drill-host:8765 --pin=SHA256:…" if "must start" in str(exc)
                         else f"cannot join {args.url}: {exc}") from None
    try:
        return asyncio.run(_join(args))
    except PinMismatch as exc:
        raise UsageError(f"certificate mismatch: {exc}") from None
    except TlsHandshakeFailed as exc:
        raise UsageError(f"cannot join {args.url}: {exc}") from None
    except (OSError, TimeoutError, InvalidHandshake) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise UsageError(f"cannot reach {args.url} ({reason}); {_reach_hint(exc, args)}") from None


def _reach_hint(exc: BaseException, args: argparse.Namespace) -> str:
    """What to try when the server cannot be reached, by what went wrong."""
    import ssl

    if isinstance(exc, ssl.SSLCertVerificationError):
        return ("this machine does not trust its certificate: use the --pin ttx host printed (or "
                "SSL_CERT_FILE=your-ca.pem for an organisation's certificate authority)")
    if isinstance(exc, ssl.SSLError):
        return "it does not speak TLS there: if its banner printed a ws:// URL, use that"
    if getattr(getattr(exc, "response", None), "status_code", None) == 429:
        return "the host refuses new connections from your address for a moment: try again in a few seconds"
    if args.url.startswith("ws://"):
        return ("is ttx host running there? Use the URL its banner printed: if that is wss://, join with it "
                "and its --pin")
    return "is ttx host running there? Use the URL its banner printed."


async def _join(args: argparse.Namespace) -> int:
    from simulator.team.remote import RemoteError, RemoteSession, UnreadableEvent, print_events

    run_drill = None if args.headless else _tui_entry()
    try:
        session = await RemoteSession.open(args.url, name=args.name, role=args.role, code=args.code,
                                           facilitator_token=args.facilitator_token, token=args.token,
                                           evaluator_token=args.evaluator_token,
                                           pin=args.pin, insecure=args.insecure,
                                           ticket=os.environ.pop(SEAT_TICKET, None))
    except RemoteError as exc:
        raise UsageError(f"refused: {exc}{_join_hint(exc.code, args)}") from None
    except UnreadableEvent as exc:
        raise UsageError(str(exc)) from None
    _report_seat(session)
    try:
        with terminal_watch(_terminal_fds(args.headless)) as hung_up:
            if run_drill is None:
                print(f"joined as {session.seat} ({session.name}); token {session.token}", flush=True)
                seat = asyncio.ensure_future(print_events(session, sys.stdout))
            else:
                seat = asyncio.ensure_future(run_drill(session, history=args.history))
            ended = await _until_hang_up(seat, hung_up)
    finally:
        await session.close()
    if session.unreadable is not None:
        raise UsageError(str(session.unreadable))
    return 0 if ended else HANGUP_STATUS


HANGUP_STATUS = 128 + signal.SIGHUP
"""``ttx join``'s exit status when its terminal went away (129, as for a shell killed by SIGHUP)."""
CANCEL_SECONDS = 5.0
"""How long a seat whose terminal went away waits for its app to wind down before leaving anyway."""
EXIT_WATCHDOG_SECONDS = CANCEL_SECONDS + 10.0
"""How long after its terminal went away a seat's process ends, whatever it is doing by then."""


def leave_anyway(after: float) -> threading.Timer:
    """End the process with :data:`HANGUP_STATUS` ``after`` seconds from now, whatever its threads are
    doing then: a seat whose terminal went away was seen blocked for good in its TUI's shutdown,
    where no asyncio timeout reaches, its connection open and its player shown online. The cause
    is Textual's (8.x) output thread: its first write to a hung-up terminal raises ``EIO`` and ends
    the thread, so nothing empties its bounded queue (30 writes) and the main thread's next
    ``put`` waits for ever. A seat that winds down in time exits first, and the timer dies with it
    (a daemon thread)."""
    timer = threading.Timer(after, os._exit, args=(HANGUP_STATUS,))
    timer.daemon = True
    timer.start()
    return timer


def _terminal_fds(headless: bool) -> list[int]:
    """The file descriptors that are the seat's terminal: where it draws (stdout) and, for the TUI
    or a headless seat on a terminal, where its keys come from (stdin). A headless seat's stdin
    that is no terminal (``< /dev/null`` in a script) says nothing about where its lines go."""
    fds = [sys.__stdout__.fileno()] if sys.__stdout__ is not None else []
    if sys.__stdin__ is not None and (not headless or sys.__stdin__.isatty()):
        fds.append(sys.__stdin__.fileno())
    return fds


@contextlib.contextmanager
def terminal_watch(fds: list[int]) -> Iterator[asyncio.Event]:
    """An event set when the seat's terminal goes away: SIGHUP, or one of ``fds`` hung up or in
    error (a pseudo-terminal whose other end closed, a pipe whose reader left). Nothing is read
    from ``fds``: an epoll registered for no events at all still reports those two, and its own
    descriptor turns readable when it does, so the running loop wakes the moment it happens. A
    descriptor epoll cannot watch (a regular file, ``/dev/null``) never hangs up and is left out.

    Without it a seat whose terminal had closed without a SIGHUP (no controlling terminal: a
    benchmark's pty) kept running, its TUI's input thread spinning on end-of-file.
    """
    loop = asyncio.get_running_loop()
    gone = asyncio.Event()
    poll = select.epoll()
    for fd in set(fds):
        with contextlib.suppress(OSError):  # EPERM: a regular file; EBADF: closed already
            poll.register(fd, 0)

    def went_away() -> None:
        if not gone.is_set():
            gone.set()
            leave_anyway(EXIT_WATCHDOG_SECONDS)

    def hung_up() -> None:
        loop.remove_reader(poll.fileno())
        went_away()

    loop.add_reader(poll.fileno(), hung_up)
    loop.add_signal_handler(signal.SIGHUP, went_away)
    try:
        yield gone
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
        loop.remove_reader(poll.fileno())
        poll.close()


async def _until_hang_up(seat: asyncio.Future[Any], hung_up: asyncio.Event) -> bool:
    """Run the seat until it ends (``True``; its result ``False``: its output went away) or its
    terminal goes away (``False``: the seat is cancelled, given :data:`CANCEL_SECONDS` to wind down)."""
    watch = asyncio.ensure_future(hung_up.wait())
    await asyncio.wait({seat, watch}, return_when=asyncio.FIRST_COMPLETED)
    watch.cancel()
    if seat.done():
        return seat.result() is not False
    seat.cancel()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError, OSError):
        await asyncio.wait_for(seat, CANCEL_SECONDS)
    return False


def _report_seat(session: Any) -> None:
    """Tell whoever started this join (an SSH seat) the seat it got, through ``TTX_SEAT_FD``."""
    fd = os.environ.pop(SEAT_FD, None)
    if fd is None or not fd.isdigit():
        return
    report = {"token": session.token, "player": session.player, "seat": session.seat, "name": session.name}
    with contextlib.suppress(OSError), os.fdopen(int(fd), "w", encoding="utf-8") as out:
        out.write(json.dumps(report) + "\n")


def _join_hint(code: str, args: argparse.Namespace) -> str:
    """What to do about a refused join (the server's message says what was wrong)."""
    if code == "bad_code":
        return " (use the join code ttx host printed; the facilitator's lobby shows it too)"
    if code == "bad_token" and args.facilitator_token:
        return " (use the facilitator token ttx host printed when it started)"
    if code == "bad_token" and args.evaluator_token:
        return " (use the evaluator token ttx host printed when it started)"
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
