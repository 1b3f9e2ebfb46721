"""``ttx host --resume`` serves the drill the way it was served: the same scheme, port and certificate
(players' pins still match), the same SSH seats and host key, unless the facilitator says otherwise;
a journal hosted before ttx kept that record resumes as before, with a hint. A host that cannot
listen leaves no key of its own behind."""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from pathlib import Path

import pytest

from simulator.cli.team import settle_serving
from simulator.cli.usage import UsageError
from simulator.engine.journal import read_journal
from simulator.team.remote import RemoteSession
from simulator.team.serving import Serving, read_serving, serving_path
from simulator.team.ssh import HOST_KEY_FILE, host_key
from simulator.team.tls import CERT_FILE, KEY_FILE, generated_identity
from tests.ssh_client import log_in
from tests.test_server_crash import Host

CODE = "K7Q2MD"
RECONNECTING = {"reconnect_for": 30.0, "timeout": 5.0}
BANNER_END = "facilitator token:"
"""The banner line ``Host.start`` reads up to (fresh or resumed, every banner has it)."""


def _banner_value(host: Host, prefix: str) -> str:
    """The rest of the banner line starting with ``prefix``."""
    return next(line for line in host.banner if line.startswith(prefix))[len(prefix):]


async def test_a_resumed_host_without_options_serves_wss_with_the_same_pin_and_the_same_ssh_seats(
        tmp_path: Path) -> None:
    """Hosted with ``--tls --ssh``, killed, resumed with only ``--resume`` and the code: the pinned
    wss:// player and the facilitator reconnect by themselves with the pin they had, an SSH player
    logs in again on the same port against the same host key, and the banner says what is kept."""
    journal = tmp_path / "drill.jsonl"
    host = await Host.start("jailbreak-wave", "--tls", "--ssh", "0", "--port", "0", "--journal", str(journal),
                            "--code", CODE, until=BANNER_END)
    pin = _banner_value(host, "TLS certificate: ").split()[0]
    ssh_port = int(_banner_value(host, "SSH seats: port ").split(",")[0])
    assert host.url.startswith("wss://") and host.token is not None
    fac = await RemoteSession.open(host.url, name="Lee", facilitator_token=host.token, pin=pin,
                                   **RECONNECTING)
    dana = await RemoteSession.open(host.url, name="Dana", role="ic", code=CODE, pin=pin, **RECONNECTING)
    try:
        await host.kill()
        host = await Host.start("--resume", str(journal), "--code", CODE, until=BANNER_END)
        assert host.url == fac.url, "the same scheme and port: the seats' URL still reaches the drill"
        assert _banner_value(host, "TLS certificate: ").split()[0] == pin
        assert int(_banner_value(host, "SSH seats: port ").split(",")[0]) == ssh_port
        assert any(line.startswith("served as before (kept in drill.jsonl.serving.json): same address, port, "
                                   "scheme, certificate, SSH port, SSH host key") for line in host.banner)
        for seat in (fac, dana):
            await seat.wait_until(lambda s: s.reconnects >= 1, timeout=20)
        conn, screen, _ = await log_in(ssh_port, "max", [CODE, "ml"],
                                       host_key(journal).convert_to_public())
        await screen.wait_for("max ● ← you")
        conn.close()
    finally:
        await fac.close()
        await dana.close()
        await host.kill()
    assert "serving" not in journal.read_text(), "how it was served stays out of the journal"
    assert read_journal(journal).events, "the journal reads as any other"


async def test_options_given_on_resume_override_the_record_and_the_banner_says_what_changed(
        tmp_path: Path) -> None:
    """``--port`` and ``--no-ssh`` on resume win over the record; the banner names each change, and
    the record then holds what this host serves, for the next resume."""
    journal = tmp_path / "drill.jsonl"
    host = await Host.start("jailbreak-wave", "--tls", "--ssh", "0", "--port", "0", "--journal", str(journal),
                            "--code", CODE, until=BANNER_END)
    first = read_serving(journal)
    await host.kill()
    assert first is not None and first.port == host.port and first.tls == "made" and first.ssh is not None
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    host = await Host.start("--resume", str(journal), "--port", str(free), "--no-ssh",
                            until=BANNER_END)
    await host.kill()
    assert host.url == f"wss://127.0.0.1:{free}", "TLS is kept though the port changed"
    changed = _banner_value(host, "changed: ")
    assert f"port {first.port} → {free}" in changed and f"SSH port {first.ssh} → none" in changed
    assert not any(line.startswith("SSH seats:") for line in host.banner)
    now = first.model_copy(update={"port": free, "ssh": None, "ssh_fingerprint": None})
    assert read_serving(journal) == now


async def test_a_journal_without_a_record_resumes_on_the_options_given_and_says_to_give_them_again(
        tmp_path: Path) -> None:
    """A drill hosted by an older ttx (no serving record) resumes as it always did, plain ws:// on
    loopback, and the banner says why and what to give."""
    journal = tmp_path / "drill.jsonl"
    host = await Host.start("jailbreak-wave", "--tls", "--port", "0", "--journal", str(journal),
                            "--code", CODE, until=BANNER_END)
    await host.kill()
    serving_path(journal).unlink()
    host = await Host.start("--resume", str(journal), "--port", "0", until=BANNER_END)
    await host.kill()
    assert host.url.startswith("ws://127.0.0.1:")
    assert any("no record of how this drill was served (drill.jsonl.serving.json is missing" in line
               and "give them again" in line for line in host.banner)


async def test_a_record_ttx_did_not_write_is_refused_in_one_line_naming_it(tmp_path: Path) -> None:
    """A damaged record stops the resume with the file and what to do, not a traceback."""
    journal = tmp_path / "drill.jsonl"
    host = await Host.start("jailbreak-wave", "--port", "0", "--journal", str(journal),
                            until=BANNER_END)
    await host.kill()
    serving_path(journal).write_text('{"bind": "127.0.0.1", "port": "8765"}')
    code, err = await _ttx_host("--resume", str(journal))
    assert code == 2 and "drill.jsonl.serving.json: not a serving record ttx wrote (port:" in err
    assert "Traceback" not in err


async def test_an_organisations_certificate_is_served_again_and_one_gone_is_named_as_the_records(
        tmp_path: Path) -> None:
    """Hosted with ``--cert/--key``, a resume serves the same certificate without them; if it has
    gone since, the resume stops in one line naming it and where it was recorded."""
    org = generated_identity(tmp_path / "org" / "issued.jsonl")
    journal = tmp_path / "drill.jsonl"
    host = await Host.start("jailbreak-wave", "--port", "0", "--cert", str(org.cert), "--key", str(org.key),
                            "--journal", str(journal), until=BANNER_END)
    await host.kill()
    host = await Host.start("--resume", str(journal), until=BANNER_END)
    await host.kill()
    assert _banner_value(host, "TLS certificate: ").startswith(f"{org.pin} ({org.cert}, given with --cert)")
    org.cert.unlink()
    code, err = await _ttx_host("--resume", str(journal))
    assert code == 2 and f"cannot use --cert {org.cert}" in err
    assert "served with, as drill.jsonl.serving.json says; give --cert and --key" in err


async def test_a_host_whose_ssh_port_is_in_use_leaves_no_key_journal_or_record_behind(tmp_path: Path) -> None:
    """``ttx host --tls --ssh PORT`` on a taken port fails in one line and leaves the folder as it was:
    no SSH host key, certificate or journal nobody ever saw."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, err = await _ttx_host("jailbreak-wave", "--tls", "--port", "0", "--ssh",
                                    str(taken.getsockname()[1]), "--journal", str(tmp_path / "drill.jsonl"))
    assert code == 2 and "cannot listen for SSH seats" in err and "in use" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


async def test_keys_made_before_are_kept_when_a_port_is_in_use(tmp_path: Path) -> None:
    """The folder's keys from an earlier drill stay (players know their fingerprints); only what
    this host made is removed."""
    host_key(tmp_path / "earlier.jsonl")
    made = (tmp_path / HOST_KEY_FILE).read_bytes()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, _ = await _ttx_host("jailbreak-wave", "--tls", "--port", str(taken.getsockname()[1]),
                                  "--ssh", "0", "--journal", str(tmp_path / "drill.jsonl"))
    assert code == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [HOST_KEY_FILE]
    assert (tmp_path / HOST_KEY_FILE).read_bytes() == made
    assert not (tmp_path / CERT_FILE).exists() and not (tmp_path / KEY_FILE).exists()


async def _ttx_host(*args: str) -> tuple[int | None, str]:
    """Run ``ttx host ARGS`` to its end: exit code and stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", "host", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode, err.decode()


# --- which setting wins ----------------------------------------------------------------------

RECORDED = Serving(bind="0.0.0.0", port=18601, tls="given", cert="/etc/ttx/org.pem", key="/etc/ttx/org.key",
                   pin="SHA256:" + "A" * 43, ssh=18602, ssh_fingerprint="SHA256:x", advertise="drill-host")


def _given(**options: object) -> argparse.Namespace:
    """``ttx host`` options as argparse leaves them when none of the serving ones is given."""
    base: dict[str, object] = {"bind": None, "port": None, "advertise": None, "ssh": None, "no_ssh": False,
                               "tls": None, "cert": None, "key": None}
    return argparse.Namespace(**{**base, **options})


def test_what_the_command_line_does_not_give_comes_from_the_record() -> None:
    args = _given()
    settle_serving(args, RECORDED)
    assert (args.bind, args.port, args.advertise, args.ssh) == ("0.0.0.0", 18601, "drill-host", 18602)
    assert (args.cert, args.key) == ("/etc/ttx/org.pem", "/etc/ttx/org.key"), "the organisation's certificate"


def test_what_the_command_line_gives_wins_over_the_record() -> None:
    args = _given(port=9000, bind="127.0.0.1", no_ssh=True, tls=False)
    settle_serving(args, RECORDED)
    assert (args.bind, args.port, args.ssh, args.cert, args.tls) == ("127.0.0.1", 9000, None, None, False)


def test_without_a_record_the_defaults_are_as_they_always_were() -> None:
    args = _given()
    settle_serving(args, None)
    assert (args.bind, args.port, args.ssh, args.cert) == ("127.0.0.1", 8765, None, None) and not args.tls


@pytest.mark.parametrize(("options", "message"), [
    ({"ssh": 2222, "no_ssh": True}, "--ssh and --no-ssh contradict"),
    ({"tls": False, "cert": "org.pem", "key": "org.key"}, "--no-tls and --cert contradict"),
    ({"tls": False}, "plain ws:// is served on loopback only, not on --bind 0.0.0.0"),
])
def test_contradicting_options_are_refused_in_one_line(options: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        settle_serving(_given(**options), RECORDED)
