"""SSH seats over a real asyncssh client on loopback: players log in with the join code and a role and
get the same dashboard as ``ttx join``, each seat its own process; a dropped connection rejoins its
seat; the terminal's size follows the player's; what an SSH login may do is narrow."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from websockets.exceptions import InvalidStatus

from simulator.engine.events import Kind
from simulator.format.commands import AdhocParams
from simulator.format.loader import LoadedScenario
from simulator.team.keyfiles import KeyFileError
from simulator.team.limits import AddressBuckets
from simulator.team.remote import RemoteError, RemoteSession
from simulator.team.server import DrillServer, Limits
from simulator.team.ssh import (
    HOST_KEY_FILE,
    TERMINAL_RESTORE,
    Failures,
    SshSeats,
    drill_gate,
    host_key,
    seat_environment,
)
from tests.ssh_client import Screen, connect, log_in

CODE = "K7Q2MD"
FACILITATOR_TOKEN = "white-cell-secret"
LOBBY = "Waiting for the facilitator"


class Drill:
    """A drill server and its SSH seats on free loopback ports, and the clients a test opened."""

    def __init__(self, server: DrillServer, seats: SshSeats, url: str) -> None:
        self.server, self.seats, self.url = server, seats, url
        self.conns: list[asyncssh.SSHClientConnection] = []
        self.sessions: list[RemoteSession] = []

    async def ssh(self, username: str, *answers: str, width: int = 100, height: int = 30) -> Screen:
        assert self.seats.port is not None
        conn, screen, _ = await log_in(self.seats.port, username, answers, self.seats.key.convert_to_public(),
                                       width=width, height=height)
        self.conns.append(conn)
        return screen

    async def facilitator(self) -> RemoteSession:
        session = await RemoteSession.open(self.url, name="Lee", facilitator_token=FACILITATOR_TOKEN)
        self.sessions.append(session)
        return session

    def journal(self, kind: Kind) -> list[dict[str, Any]]:
        return [e.payload for e in self.server.drill.events if e.kind == kind]


@pytest.fixture
async def drill(tmp_path: Path, flagship: LoadedScenario) -> AsyncIterator[Drill]:
    async with _serving(tmp_path, flagship, None) as made:
        yield made


@contextlib.asynccontextmanager
async def _serving(tmp_path: Path, flagship: LoadedScenario, limits: Limits | None) -> AsyncIterator[Drill]:
    """A drill server under ``limits`` and its SSH seats, closed (with every client) at the end."""
    journal = tmp_path / "drill.jsonl"
    server = DrillServer.host(flagship, journal, seed=7, code=CODE, facilitator_token=FACILITATOR_TOKEN,
                              limits=limits)
    port = await server.start("127.0.0.1", 0)
    url = f"ws://127.0.0.1:{port}"
    seats = SshSeats(drill_gate(server), url, host_key(journal), workdir=tmp_path)
    await seats.start("127.0.0.1", 0)
    made = Drill(server, seats, url)
    yield made
    for conn in made.conns:
        conn.close()
    for session in made.sessions:
        await session.close()
    await seats.stop()
    await server.stop()


async def _until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``condition`` until it holds; fail after ``timeout`` seconds."""
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


def _seat_processes(seats: SshSeats) -> list[int]:
    return [t.process.pid for t in seats.live.values()
            if t.process is not None and t.process.returncode is None]


async def test_a_player_logs_in_with_the_join_code_and_a_role_and_gets_the_dashboard(drill: Drill) -> None:
    """``ssh dana@host``: the login asks for the join code, then a role; the terminal shows the
    lobby of ``ttx join`` with Dana in the IC seat, and the server has her as a player."""
    screen = await drill.ssh("dana", CODE, "ic")
    shown = await screen.wait_for(LOBBY)
    assert "dana ● ← you" in shown
    assert [(p.name, p.seat) for p in drill.server.players.values()] == [("dana", "ic")]


async def test_a_role_as_the_user_name_asks_only_for_a_name(drill: Drill) -> None:
    """``ssh ic@host`` takes the role from the user name and asks who you are instead."""
    assert drill.seats.port is not None
    conn, screen, answers = await log_in(drill.seats.port, "ic", [CODE, "Dana Reyes"],
                                         drill.seats.key.convert_to_public())
    drill.conns.append(conn)
    await screen.wait_for("Dana Reyes ● ← you")
    assert [p for p in answers.asked if p.endswith(": ")] == ["Join code: ", "Your name: "]


async def test_a_wrong_join_code_fails_the_login_and_starts_no_seat(drill: Drill) -> None:
    """A wrong code is an SSH login failure: no session, no process, no player, and the next answer
    from that address waits longer."""
    with pytest.raises(asyncssh.PermissionDenied):
        await drill.ssh("dana", "WRONG1", "ic")
    assert drill.seats.live == {} and drill.server.players == {}
    assert drill.seats.failures.delay("127.0.0.1") > 0


async def test_after_a_wrong_join_code_the_login_says_what_was_wrong_and_how_many_tries_are_left(
        drill: Drill) -> None:
    """The player's ``ssh`` used to repeat the prompt with no reason, then say "Permission denied";
    the second challenge now says the code was wrong, where the right one is, and the tries left."""
    assert drill.seats.port is not None
    conn, answers = await connect(drill.seats.port, "dana", ["WRONG1", CODE, "ic"],
                                  drill.seats.key.convert_to_public())
    drill.conns.append(conn)
    wrong = [text for text in answers.asked if text.startswith("Wrong join code")]
    assert wrong == ["Wrong join code (ask the facilitator for the code ttx host printed). 2 tries left. "
                     "Give the join code from the facilitator (or your seat token to rejoin)."]
    assert not answers.asked[0].startswith("Wrong"), "the first challenge has nothing to apologise for"


async def test_the_facilitator_logs_in_with_the_facilitator_token_and_no_join_code_will_do(
        drill: Drill) -> None:
    """``ssh facilitator@host`` asks for the facilitator token; the join code does not open that seat."""
    with pytest.raises(asyncssh.PermissionDenied):
        await drill.ssh("facilitator", CODE, "Lee")
    screen = await drill.ssh("facilitator", FACILITATOR_TOKEN, "Lee")
    await screen.wait_for("Lee")
    await screen.wait_for(lambda text: CODE in text)  # the facilitator's lobby shows the code to hand out
    assert [(p.name, p.seat) for p in drill.server.players.values()] == [("Lee", "facilitator")]


async def test_two_ssh_seats_are_two_processes_and_see_only_what_their_roles_may(drill: Drill) -> None:
    """The IC and the ML engineer log in at once: each seat is its own ``ttx join`` process; an
    inject for the IC alone reaches the IC's terminal and not the ML engineer's; closing one seat
    leaves the other going."""
    ic = await drill.ssh("dana", CODE, "ic")
    ml = await drill.ssh("max", CODE, "ml")
    await ic.wait_for("max ●")
    await ml.wait_for("dana ●")
    pids = _seat_processes(drill.seats)
    assert len(set(pids)) == 2 and os.getpid() not in pids
    fac = await drill.facilitator()
    await fac.start()
    ack = await fac.adhoc_inject(AdhocParams(to=["ic"], channel="email", subject="For the IC alone",
                                             body="Only the incident commander reads this."))
    assert ack.accepted
    await ic.wait_for("For the IC alone")
    drill.conns[0].close()
    await ml.wait_for(lambda text: "dana" not in text or "dana ○" in text or "offline" in text, timeout=30)
    await fac.adhoc_inject(AdhocParams(to=["ml"], channel="chat", subject="Still with us", body="ML only."))
    await ml.wait_for("Still with us")
    assert "For the IC alone" not in ml.text()


async def test_a_dropped_ssh_connection_logs_in_again_to_the_same_seat(drill: Drill) -> None:
    """The network drops Dana's SSH connection: her seat's ``ttx join`` ends by itself on the SIGHUP
    (status 129, not killed), its terminal and connection slot are freed, and she shows offline; she
    logs in again the same way and is the same player (rejoined with her seat's token), not a new one."""
    screen = await drill.ssh("dana", CODE, "ic")
    await screen.wait_for(LOBBY)
    first = next(iter(drill.server.players.values()))
    (seat,) = drill.seats.live.values()
    assert seat.process is not None
    drill.conns[0].abort()
    fac = await drill.facilitator()
    await fac.wait_until(lambda s: s.lobby is not None and any(
        h.name == "dana" and not h.connected for h in s.lobby.players), timeout=30)
    await _until(lambda: drill.seats.live == {})  # the seat's ttx join ended with the connection
    assert (seat.process.returncode, seat.master, drill.seats.connections) == (129, None, {})
    again = await drill.ssh("dana", CODE, "ic")
    await again.wait_for("dana ● ← you")
    assert [p.id for p in drill.server.players.values() if p.seat == "ic"] == [first.id]
    assert any(p.get("rejoined") for p in drill.journal(Kind.PLAYER_JOINED))


async def test_when_the_ssh_server_forgot_her_token_dana_logs_in_again_to_her_seat(drill: Drill) -> None:
    """A host killed and resumed starts an SSH server that remembers no seat's token: Dana, dropped,
    logs in the same way with the join code and is still the same player (the drill server gives
    an offline player of that role and name the seat back), not a ghost beside a new one. The SSH
    server's log line says only that she logged in: whether that joined or rejoined is the drill
    server's to say, and it says "rejoined"."""
    logged: list[str] = []
    drill.seats.log = logged.append
    screen = await drill.ssh("dana", CODE, "ic")
    await screen.wait_for(LOBBY)
    (first,) = drill.server.players.values()
    drill.conns[0].abort()
    await _until(lambda: drill.seats.live == {} and first.online == 0)
    drill.seats.tokens.clear()  # what a restarted host's SSH server knows
    again = await drill.ssh("dana", CODE, "ic")
    await again.wait_for("dana ● ← you")
    assert list(drill.server.players) == [first.id]
    assert [p.get("rejoined", False) for p in drill.journal(Kind.PLAYER_JOINED)] == [False, True]
    assert logged == ["dana (ic) logged in from 127.0.0.1"] * 2


async def test_the_seat_token_opens_the_seat_in_place_of_the_join_code(drill: Drill) -> None:
    """A player who joined with ``ttx join`` (and has its token) can move to SSH: the token, given at
    the join-code prompt, opens the same seat without asking for a role."""
    web = await RemoteSession.open(drill.url, name="Sam", role="comms", code=CODE)
    drill.sessions.append(web)
    assert web.token is not None
    screen = await drill.ssh("whoever", web.token)
    await screen.wait_for("Sam ● ← you")
    assert len(drill.server.players) == 1


async def test_the_seat_follows_the_players_terminal_size(drill: Drill) -> None:
    """The seat starts at the SSH pty's size and redraws at the new size when the player resizes."""
    screen = await drill.ssh("dana", CODE, "ic", width=100, height=30)
    shown = await screen.wait_for(LOBBY)
    assert shown.splitlines()[0].rstrip().endswith("╮") and len(shown.splitlines()[0].rstrip()) == 100
    screen.resize(72, 26)
    await screen.wait_for(lambda text: text.splitlines()[0].rstrip() == "╭" + "─" * 70 + "╮")


async def test_an_ssh_login_gets_a_dashboard_and_nothing_else(drill: Drill) -> None:
    """No commands, no subsystems (sftp), no port forwarding; a session without a terminal is told to
    use ``ssh -t``; and only one seat per connection."""
    assert drill.seats.port is not None
    key = drill.seats.key.convert_to_public()
    conn, screen, _ = await log_in(drill.seats.port, "dana", [CODE, "ic"], key)
    drill.conns.append(conn)
    with pytest.raises(asyncssh.ChannelOpenError):
        await conn.create_session(lambda: Screen(80, 24), encoding=None)
    with pytest.raises(asyncssh.ChannelOpenError):
        await conn.open_connection("127.0.0.1", int(drill.url.rsplit(":", 1)[1]))

    conn2, _ = await connect(drill.seats.port, "max", [CODE, "ml"], key)
    drill.conns.append(conn2)
    with pytest.raises(asyncssh.ChannelOpenError):
        await conn2.run("cat /etc/passwd")
    with pytest.raises(asyncssh.ChannelOpenError):
        await conn2.start_sftp_client()

    conn3, _ = await connect(drill.seats.port, "sam", [CODE, "comms"], key)
    drill.conns.append(conn3)
    plain = await conn3.create_process(encoding="utf-8")  # a shell without a pty
    out = await plain.stdout.read()
    await plain.wait_closed()
    assert "needs a terminal" in out and plain.exit_status == 1
    await screen.wait_for(LOBBY)
    assert {p.seat for p in drill.server.players.values()} == {"ic"}, "none of those joined the drill"
    await screen.wait_for(LOBBY)


async def test_the_host_key_is_made_once_kept_private_and_refused_when_others_can_read_it(
        tmp_path: Path) -> None:
    """Players check the fingerprint once: the key beside the journal is reused, mode 0600; a key file
    others can read is refused, as OpenSSH refuses one."""
    first, again = host_key(tmp_path / "a.jsonl"), host_key(tmp_path / "b.jsonl")
    assert first.get_fingerprint("sha256") == again.get_fingerprint("sha256")
    path = tmp_path / HOST_KEY_FILE
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    with pytest.raises(KeyFileError, match="can be read by other users"):
        host_key(tmp_path / "a.jsonl")


def test_wrong_answers_from_one_address_wait_longer_and_longer_up_to_a_cap() -> None:
    """The back-off that makes guessing the join code over SSH hopeless: it doubles per wrong answer
    from an address, stops at 30 s, and an address that got it right starts afresh."""
    failures = Failures()
    delays = []
    for _ in range(10):
        failures.failed("10.0.0.7")
        delays.append(failures.delay("10.0.0.7"))
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0] and delays[-1] == 30.0
    assert failures.delay("10.0.0.8") == 0.0
    failures.forgive("10.0.0.7")
    assert failures.delay("10.0.0.7") == 0.0


async def test_connections_from_one_address_are_capped_before_any_login(drill: Drill) -> None:
    """Connections that never log in cannot take every slot: past the cap per address, the server
    hangs up at once, before any login is offered."""
    drill.seats.max_per_address = 2
    assert drill.seats.port is not None
    opened = [await asyncio.open_connection("127.0.0.1", drill.seats.port) for _ in range(3)]
    greetings = [await asyncio.wait_for(reader.readline(), 10) for reader, _ in opened[:2]]
    third = await asyncio.wait_for(opened[2][0].read(), 10)  # to the end: the server hung up
    for _, writer in opened:
        writer.close()
    assert greetings[0].startswith(b"SSH-2.0-ttx") and greetings[1].startswith(b"SSH-2.0-ttx")
    assert b"SSH-2.0" not in third


async def test_new_connections_from_one_address_are_capped_per_second_before_the_key_exchange(
        drill: Drill) -> None:
    """Each SSH connection costs the host a key exchange: past the burst of new connections from one
    address, the server hangs up at once, while connections from another address are still greeted."""
    drill.seats.arrivals = AddressBuckets(rate=0.01, burst=2)
    assert drill.seats.port is not None
    opened = [await asyncio.open_connection("127.0.0.1", drill.seats.port) for _ in range(3)]
    other = await asyncio.open_connection("127.0.0.1", drill.seats.port, local_addr=("127.0.0.9", 0))
    greetings = [await asyncio.wait_for(reader.readline(), 10) for reader, _ in [*opened[:2], other]]
    third = await asyncio.wait_for(opened[2][0].read(), 10)
    for _, writer in [*opened, other]:
        writer.close()
    assert all(g.startswith(b"SSH-2.0-ttx") for g in greetings) and b"SSH-2.0" not in third


def test_a_seat_inherits_the_hosts_ttx_settings_but_never_its_secrets_nor_the_clients_settings() -> None:
    """The seat records to the history the host was started with (``TTX_DB``); a facilitator token or
    join code in the host's environment never reaches a player's seat (it would make the seat the
    facilitator's), nor does any ``TTX_`` setting or other variable the player's SSH client sends;
    the client's checked locale, COLORTERM and terminal type do, and the seat's own secret wins."""
    host = {"PATH": "/usr/bin", "TTX_DB": "/srv/drills/history.db", "TTX_FACILITATOR_TOKEN": "white-cell",
            "TTX_CODE": "HOSTCODE", "TTX_OBSERVER_TOKEN": "later-seat", "TTX_SEAT_TICKET": "host-ticket",
            "TERM": "screen", "TMUX": "/tmp/tmux-0/default"}
    client = {"TTX_DB": "/tmp/mine.db", "TTX_FACILITATOR_TOKEN": "guess", "LD_PRELOAD": "/tmp/evil.so",
              "LANG": "de_DE.UTF-8", "COLORTERM": "truecolor"}
    env = seat_environment(host, client, "xterm-256color", {"TTX_CODE": CODE, "TTX_SEAT_FD": "5"})
    assert env == {"PATH": "/usr/bin", "TTX_DB": "/srv/drills/history.db", "LANG": "de_DE.UTF-8",
                   "COLORTERM": "truecolor", "TERM": "xterm-256color", "TTX_CODE": CODE, "TTX_SEAT_FD": "5"}


async def test_an_ssh_seats_process_has_the_hosts_history_setting_and_joins_as_the_player(
        drill: Drill, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """End to end: with ``TTX_DB`` and a facilitator token in the host's environment and other values
    sent by the player's ``ssh``, the seat's ``ttx join`` runs with the host's ``TTX_DB``, no
    facilitator token, and joins as the player who logged in."""
    history = str(tmp_path / "host-history.db")
    monkeypatch.setenv("TTX_DB", history)
    monkeypatch.setenv("TTX_FACILITATOR_TOKEN", FACILITATOR_TOKEN)
    assert drill.seats.port is not None
    conn, _ = await connect(drill.seats.port, "dana", [CODE, "ic"], drill.seats.key.convert_to_public())
    drill.conns.append(conn)
    screen = Screen(100, 30)
    await conn.create_session(lambda: screen, term_type="xterm-256color", term_size=(100, 30), encoding=None,
                              env={"TTX_DB": str(tmp_path / "player.db"), "LANG": "C.UTF-8"})
    await screen.wait_for(LOBBY)
    [pid] = _seat_processes(drill.seats)
    variables = dict(item.split("=", 1) for item in
                     Path(f"/proc/{pid}/environ").read_text().split("\0") if "=" in item)
    assert variables["TTX_DB"] == history and variables["LANG"] == "C.UTF-8"
    assert "TTX_FACILITATOR_TOKEN" not in variables
    assert [(p.name, p.seat) for p in drill.server.players.values()] == [("dana", "ic")]


async def test_stopping_the_host_ends_every_seat(drill: Drill) -> None:
    """When ``ttx host`` stops, each SSH seat is told and its process ends: nothing outlives the drill.
    The player's terminal is given back as it was (main screen, cursor shown, no mouse reports)
    before the reason: the seat is killed before its TUI could undo its modes itself."""
    screen = await drill.ssh("dana", CODE, "ic")
    await screen.wait_for(LOBBY)
    pids = _seat_processes(drill.seats)
    await drill.seats.stop()
    await asyncio.wait_for(screen.closed.wait(), 10)
    assert screen.tail.endswith(TERMINAL_RESTORE + b"\r\nttx: the drill host is shutting down.\r\n")
    assert all(mode in TERMINAL_RESTORE for mode in (b"\x1b[?1049l", b"\x1b[?25h", b"\x1b[?1003l"))
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


async def test_ttx_host_with_tls_runs_its_ssh_seats_over_its_own_pinned_wss(tmp_path: Path) -> None:
    """``ttx host --tls --ssh``: the seats' ``ttx join`` reach the drill over wss:// with the server's
    own pin (no plain websocket at all), and the banner's SSH line names the key it serves."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", "host", "jailbreak-wave", "--port", "0", "--ssh", "0", "--tls",
        "--code", CODE, "--journal", str(tmp_path / "drill.jsonl"), stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        banner = ""
        while "facilitator token:" not in banner:
            banner += (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert "listening on wss://" in banner
        port = int(banner.split("SSH seats: port ")[1].split(",")[0])
        key = host_key(tmp_path / "drill.jsonl")
        assert f"host key {key.get_fingerprint('sha256')}" in banner
        conn, screen, _ = await log_in(port, "dana", [CODE, "ic"], key.convert_to_public())
        await screen.wait_for("dana ● ← you")
        conn.close()
    finally:
        proc.terminate()
        await proc.wait()


# --- the drill server's limits see the SSH player's own address --------------------------------

STRICT = Limits(pending_per_address=1, connect_rate=0.01, connect_burst=2, address_rate=40.0,
                free_failures=1)
"""Per-address limits tight enough that three seats sharing the SSH front-end's loopback address
would trip every one of them: one unjoined connection, two new connections, for each address."""


@pytest.fixture
async def strict(tmp_path: Path, flagship: LoadedScenario) -> AsyncIterator[Drill]:
    """A drill (and its SSH seats) under :data:`STRICT` limits."""
    async with _serving(tmp_path, flagship, STRICT) as made:
        yield made


async def _ssh_from(drill: Drill, address: str, username: str, *answers: str) -> Screen:
    """Log in to the SSH seats from ``address`` (a loopback address of its own: 127.0.0.2, …)."""
    assert drill.seats.port is not None
    conn, screen, _ = await log_in(drill.seats.port, username, answers, drill.seats.key.convert_to_public(),
                                   local_addr=(address, 0))
    drill.conns.append(conn)
    return screen


async def test_ssh_seats_count_against_their_players_addresses_not_the_hosts_loopback(strict: Drill) -> None:
    """Every SSH seat's ``ttx join`` reaches the drill server from loopback, with its login's ticket,
    so the per-address limits count it against the SSH player's address: three players logging in
    at once from three addresses all get their seats, while loopback itself is locked out (wrong
    codes) and has used its new connections (the facilitator), and an SSH login from there is refused."""
    for _ in range(10):
        strict.server.secret_refused("127.0.0.1")
    assert strict.server.locked_for("127.0.0.1") > 60
    await strict.facilitator()
    screens = await asyncio.gather(*(_ssh_from(strict, f"127.0.0.{n}", name, CODE, role) for n, name, role in
                                     ((2, "dana", "ic"), (3, "max", "ml"), (4, "sam", "comms"))))
    for screen, name in zip(screens, ("dana", "max", "sam"), strict=True):
        await screen.wait_for(f"{name} ● ← you")
    seats = {c.player.name: c.address for c in strict.server.connections if c.player is not None}
    assert seats == {"Lee": "127.0.0.1", "dana": "127.0.0.2", "max": "127.0.0.3", "sam": "127.0.0.4"}
    with pytest.raises(asyncssh.PermissionDenied):
        await _ssh_from(strict, "127.0.0.1", "kim", CODE, "ts")
    with pytest.raises(RemoteError, match="locked_out"):
        await RemoteSession.open(strict.url, name="Kim", role="ts", code=CODE, auto_reconnect=False)
    with pytest.raises(InvalidStatus, match="429"):  # loopback's two new connections are spent
        await RemoteSession.open(strict.url, name="Kim", role="ts", code=CODE, auto_reconnect=False)


async def test_a_seat_ticket_is_honoured_only_while_its_login_lasts_and_only_from_loopback(
        strict: Drill) -> None:
    """A ticket is a secret of one SSH login: once the login ends it counts for nothing, and a made-up
    one counts for nothing; neither moves a connection off its own address."""
    screen = await _ssh_from(strict, "127.0.0.2", "dana", CODE, "ic")
    await screen.wait_for("dana ● ← you")
    (ticket,) = [t.ticket for t in strict.seats.live.values()]
    assert ticket is not None
    strict.conns.pop().close()
    await _until(lambda: strict.seats.live == {})
    for made_up in (ticket, "not-a-ticket"):
        web = await RemoteSession.open(strict.url, name="Kim", role="ts", code=CODE, ticket=made_up)
        strict.sessions.append(web)
        assert [c.address for c in strict.server.connections if c.player and c.player.name == "Kim"][-1] \
            == "127.0.0.1"
        await web.close()


async def test_wrong_codes_over_ssh_lock_the_address_out_of_the_websocket_too_and_alert_the_facilitator(
        strict: Drill) -> None:
    """The SSH gate asks the drill server, so guesses over SSH and over websockets share one count per
    address: the second wrong code from 127.0.0.5 (one is free here) starts a lock-out the
    facilitator's terminal is told of, and the journal notes it with that address."""
    fac = await strict.facilitator()
    with pytest.raises(asyncssh.PermissionDenied):
        await _ssh_from(strict, "127.0.0.5", "dana", "WRONG1", "WRONG2")
    assert strict.server.locked_for("127.0.0.5") > 0 and strict.server.locked_for("127.0.0.6") == 0
    notes = [p for p in strict.journal(Kind.SESSION_NOTE) if p.get("event") == "join_lockout"]
    assert [n["address"] for n in notes] == ["127.0.0.5"]
    await fac.wait_until(lambda s: any(e.payload.get("event") == "join_lockout" for e in s.received))
    assert any("wrong join codes from 127.0.0.5" in n.text for n in fac.take_notices())


async def test_a_misspelt_role_at_the_prompt_is_pointed_to_the_one_meant(drill: Drill) -> None:
    """``coms`` at the role prompt: not a role in play, and the prompt says which one was meant."""
    assert drill.seats.port is not None
    conn, screen, answers = await log_in(drill.seats.port, "dana", [CODE, "coms", "comms"],
                                         drill.seats.key.convert_to_public())
    drill.conns.append(conn)
    await screen.wait_for("dana ● ← you")
    assert any("'coms' is not a role in play. Did you mean comms?" in said for said in answers.asked)
