"""``wss://`` for ``ttx join``, on loopback: the certificate ``ttx host`` makes and pins, a wrong pin
refused before anything is sent, an organisation's own certificate, and plain ``ws://`` kept to this
machine."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from websockets.asyncio.server import serve

from simulator.format.loader import LoadedScenario
from simulator.team.remote import RemoteSession, tls_for
from simulator.team.server import DrillServer
from simulator.team.tls import (
    KEY_FILE,
    PinMismatch,
    generated_identity,
    given_identity,
    parse_pin,
    server_context,
)

CODE = "K7Q2MD"
FACILITATOR_TOKEN = "white-cell-secret"


async def ttx(*args: str, env: dict[str, str] | None = None, until: str | None = None,
              cwd: Path | None = None) -> tuple[int | None, str, str]:
    """Run ``ttx ARGS``; with ``until``, stop it once its output shows that text. Exit code, out, err."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env={**os.environ, **(env or {})}, cwd=cwd)
    assert proc.stdout is not None and proc.stderr is not None
    if until is None:
        out, err = await asyncio.wait_for(proc.communicate(), 60)
        return proc.returncode, out.decode(), err.decode()
    seen = ""
    try:
        while until not in seen:
            line = await asyncio.wait_for(proc.stdout.readline(), 60)
            if not line:
                break
            seen += line.decode()
    finally:
        if proc.returncode is None:
            proc.terminate()
        err_bytes = await proc.stderr.read()
        await proc.wait()
    return proc.returncode, seen, err_bytes.decode()


@pytest.fixture
async def wss(tmp_path: Path, flagship: LoadedScenario) -> AsyncIterator[tuple[DrillServer, str, str]]:
    """A drill served over TLS with the certificate made beside its journal: server, URL, pin."""
    journal = tmp_path / "drill.jsonl"
    identity = generated_identity(journal)
    server = DrillServer.host(flagship, journal, seed=7, code=CODE, facilitator_token=FACILITATOR_TOKEN)
    port = await server.start("127.0.0.1", 0, tls=server_context(identity))
    yield server, f"wss://127.0.0.1:{port}", identity.pin
    await server.stop()


async def test_a_player_joins_over_wss_with_the_pin_and_reconnects_over_it(
        wss: tuple[DrillServer, str, str]) -> None:
    """``ttx join wss://… --pin=…`` as printed joins; a dropped connection comes back over TLS with the
    pin checked again."""
    server, url, pin = wss
    _, out, err = await ttx("join", url, f"--pin={pin}", f"--code={CODE}", "--role=ic", "--name=Dana",
                            "--headless", until="joined as ic")
    assert "joined as ic (Dana)" in out, err
    session = await RemoteSession.open(url, name="Max", role="ml", code=CODE, pin=pin)
    await session.drop()
    await session.wait_until(lambda s: s.reconnects == 1 and s.connected)
    await session.close()
    assert {p.name for p in server.players.values()} == {"Dana", "Max"}


async def test_a_wrong_pin_is_refused_in_one_line_naming_both_and_nothing_is_sent(tmp_path: Path) -> None:
    """A server presenting another certificate (an impostor in the middle) gets nothing — not even
    the websocket upgrade — and the player gets one line with both fingerprints."""
    impostor = generated_identity(tmp_path / "impostor" / "x.jsonl")
    expected = generated_identity(tmp_path / "real" / "x.jsonl")
    received = bytearray()

    async def record(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.extend(await reader.read())
        writer.close()

    listener = await asyncio.start_server(record, "127.0.0.1", 0, ssl=server_context(impostor))
    port = listener.sockets[0].getsockname()[1]
    async with listener:
        code, _, err = await ttx("join", f"wss://127.0.0.1:{port}", f"--pin={expected.pin}",
                                 f"--code={CODE}", "--role=ic", "--name=Dana", "--headless")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "certificate mismatch" in err and impostor.pin in err and expected.pin in err
    assert bytes(received) == b"", "not one byte after the TLS handshake"


async def test_a_session_with_a_wrong_pin_raises_pin_mismatch(wss: tuple[DrillServer, str, str]) -> None:
    """Library users get :class:`PinMismatch`, not a connection error to retry."""
    _, url, _ = wss
    with pytest.raises(PinMismatch):
        await RemoteSession.open(url, name="Dana", role="ic", code=CODE, pin="SHA256:" + "A" * 43)


def _ca_and_leaf(folder: Path) -> tuple[Path, Path, Path]:
    """An organisation's certificate authority and a server certificate it signed for localhost."""
    now = dt.datetime.now(dt.UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example Org CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                                       key_cert_sign=True, crl_sign=True, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(leaf_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    paths[2].chmod(0o600)
    return paths


async def test_an_organisations_own_certificate_with_cert_and_key(tmp_path: Path) -> None:
    """``ttx host --cert --key`` serves wss:// with the organisation's certificate (and prints its pin);
    a player whose machine trusts the organisation's CA joins without a pin, one whose does not is
    told to use the pin."""
    ca, cert, key = _ca_and_leaf(tmp_path)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "simulator.cli", "host", "jailbreak-wave", "--port", "0", "--code", CODE,
        "--journal", str(tmp_path / "drill.jsonl"), "--cert", str(cert), "--key", str(key),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert proc.stdout is not None
        banner = ""
        while "facilitator token:" not in banner:
            banner += (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        url = banner.split("listening on ")[1].split()[0]
        pin = given_identity(cert, key).pin
        assert url.startswith("wss://") and f"TLS certificate: {pin}" in banner
        assert "given with --cert" in banner
        assert not (tmp_path / KEY_FILE).exists(), "no certificate of ttx's own is made"
        port = url.rsplit(":", 1)[1]
        trusted = await ttx("join", f"wss://localhost:{port}", f"--code={CODE}", "--role=ic", "--name=Dana",
                            "--headless", env={"SSL_CERT_FILE": str(ca)}, until="joined as ic")
        assert "joined as ic (Dana)" in trusted[1], trusted[2]
        untrusted = await ttx("join", f"wss://localhost:{port}", f"--code={CODE}", "--role=ml", "--name=Max",
                              "--headless", env={"SSL_CERT_FILE": str(tmp_path / "none.pem")})
        assert untrusted[0] == 2 and "does not trust its certificate: use the --pin" in untrusted[2]
    finally:
        proc.terminate()
        await proc.wait()


async def test_cert_without_key_or_a_key_that_does_not_fit_is_one_line(tmp_path: Path) -> None:
    """Half of an identity, or a key that is not the certificate's, is refused before anything listens."""
    _, cert, _ = _ca_and_leaf(tmp_path)
    other = generated_identity(tmp_path / "x.jsonl")
    alone = await ttx("host", "jailbreak-wave", "--port", "0", "--cert", str(cert), cwd=tmp_path)
    assert alone[0] == 2 and "--cert and --key go together" in alone[2]
    misfit = await ttx("host", "jailbreak-wave", "--port", "0", "--cert", str(cert), "--key", str(other.key),
                       "--journal", "d.jsonl", cwd=tmp_path)
    assert misfit[0] == 2 and "cannot use --cert" in misfit[2] and "Traceback" not in misfit[2]
    assert not (tmp_path / "d.jsonl").exists()


async def test_plain_ws_to_another_machine_is_refused_without_insecure() -> None:
    """``ttx join ws://other-machine`` would send the join code in clear: refused before connecting,
    pointing at wss:// and SSH seats; a pin on a ws:// URL is a mistake said so."""
    code, _, err = await ttx("join", "ws://192.0.2.10:8765", f"--code={CODE}", "--role=ic", "--name=Dana")
    assert code == 2 and "is not encrypted" in err and "wss://" in err and "--insecure" in err
    with pytest.raises(ValueError, match="--pin is for wss://"):
        tls_for("ws://127.0.0.1:8765", parse_pin("SHA256:" + "A" * 43))
    assert tls_for("ws://127.0.0.1:8765", None) is None and tls_for("ws://[::1]:8765", None) is None
    assert tls_for("ws://192.0.2.10:8765", None, insecure=True) is None


def test_the_certificate_is_made_once_its_key_private_and_its_pin_what_openssl_computes(
        tmp_path: Path) -> None:
    """Every drill hosted from one folder shows the same pin; the key is 0600; the pin is the SHA-256
    of the certificate (what ``openssl x509 -fingerprint -sha256`` prints, which --pin accepts too)."""
    first, again = generated_identity(tmp_path / "a.jsonl"), generated_identity(tmp_path / "b.jsonl")
    assert first.pin == again.pin and first.key.stat().st_mode & 0o777 == 0o600
    der = x509.load_pem_x509_certificate(first.cert.read_bytes()).public_bytes(serialization.Encoding.DER)
    openssl_style = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
    assert parse_pin(openssl_style) == first.pin
    with pytest.raises(ValueError, match="bad pin"):
        parse_pin("SHA256:tooshort")


async def test_any_bind_off_loopback_is_served_over_tls_and_the_banner_pins_it(
        tmp_path: Path, flagship: LoadedScenario, capsys: pytest.CaptureFixture[str]) -> None:
    """``--bind 0.0.0.0`` (a LAN drill) always gets TLS; loopback stays plain ws:// unless ``--tls``;
    the banner prints wss:// join commands with ``--pin=`` and the address to use."""
    from simulator.cli.team import _banner, _tls_identity

    def args(bind: str, tls: bool = False) -> argparse.Namespace:
        return argparse.Namespace(bind=bind, tls=tls, cert=None, key=None, advertise=None)

    journal = str(tmp_path / "drill.jsonl")
    assert _tls_identity(args("127.0.0.1"), journal) is None
    assert _tls_identity(args("127.0.0.1", tls=True), journal) is not None
    lan = _tls_identity(args("0.0.0.0"), journal)
    assert lan is not None and lan.generated
    server = DrillServer.host(flagship, journal, code=CODE, facilitator_token=FACILITATOR_TOKEN)
    lan_args = args("0.0.0.0")
    lan_args.advertise = "drill-host.example"
    _banner(server, lan_args, 8765, FACILITATOR_TOKEN, lan)
    await server.stop()
    shown = capsys.readouterr().out
    assert "listening on wss://drill-host.example:8765" in shown
    assert f"ttx join wss://drill-host.example:8765 --pin={lan.pin} --code={CODE}" in shown


async def test_joining_a_plain_ws_host_with_wss_says_the_tls_handshake_failed(tmp_path: Path) -> None:
    """``ttx join wss://… --pin`` against a host serving plain ws:// said "cannot reach …
    (ConnectionResetError); is ttx host running there?" — it is; it does not speak TLS."""
    pin = generated_identity(tmp_path / "x.jsonl").pin
    async with serve(lambda ws: ws.close(), "127.0.0.1", 0) as plain:
        port = plain.sockets[0].getsockname()[1]
        code, _, err = await ttx("join", f"wss://127.0.0.1:{port}", f"--pin={pin}", f"--code={CODE}",
                                 "--role=ic", "--name=Dana", "--headless")
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert f"the TLS handshake with 127.0.0.1:{port} failed" in err and "plain ws://" in err
    assert "is ttx host running there" not in err
