"""TLS for the drill server: the self-signed certificate kept beside the journal, its pin, and the contexts.

``ttx host`` serves ``wss://`` with a certificate it makes once per folder (or an organisation's
own, ``--cert/--key``) and prints the certificate's SHA-256 fingerprint. ``ttx join --pin`` checks
the certificate the server presents against that fingerprint before a single byte of the
websocket handshake is sent, so a machine in the middle learns nothing and gets nothing: not the
join code, not a token, not the chat. No certificate authority is involved; the pin is the trust,
and it travels with the join command (read it out, paste it in the chat, print it on the sheet).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from simulator.team.keyfiles import KeyFileError, beside, check_private, create_private, create_public

if TYPE_CHECKING:  # cryptography is imported where certificates are made: ttx join never needs it
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec

CERT_FILE = "ttx-tls-cert.pem"
"""The generated certificate, beside the journal (public)."""
KEY_FILE = "ttx-tls-key.pem"
"""Its private key, beside the journal (mode 0600)."""
VALID_DAYS = 365
"""How long a generated certificate is valid; a new one (and so a new pin) is made 30 days before."""
RENEW_DAYS = 30
PIN_PREFIX = "SHA256:"


class PinMismatch(Exception):
    """The server presented a certificate other than the pinned one: nothing was sent to it."""

    def __init__(self, where: str, presented: str, pinned: str) -> None:
        super().__init__(f"the server at {where} presented certificate {presented}, but --pin is {pinned}: "
                         "someone may be intercepting the connection, or the host made a new certificate "
                         "(check the pin with the facilitator)")
        self.presented, self.pinned = presented, pinned


class TlsHandshakeFailed(ConnectionError):
    """Something answered at ``where`` but no TLS handshake came of it: most often a host serving
    plain ``ws://`` (``ttx host`` on loopback without ``--tls``), or not a ttx host at all."""

    def __init__(self, where: str, cause: BaseException) -> None:
        why = str(cause) or type(cause).__name__
        super().__init__(f"the TLS handshake with {where} failed ({why}): the host there may serve "
                         "plain ws:// (its banner prints the URL to join), or it is not a ttx host")
        self.where, self.why = where, why

    def while_reconnecting(self, trying_for: str) -> str:
        """What a seat that was on this host over TLS says: most likely the host is going down or
        starting again, so that comes first; the plain-ws:// hint after."""
        return (f"the TLS handshake with {self.where} failed ({self.why}): the host may be stopping or "
                f"starting again; still trying, for {trying_for} at most. If it came back serving plain "
                "ws://, join again with the URL its banner prints")


def handshake_failure(exc: BaseException) -> bool:
    """Whether ``exc``, raised opening a ``wss://`` connection, means the TLS handshake itself failed
    (a reset, an end of stream or a protocol error in it) rather than no server listening, a name
    that does not resolve, or a certificate this machine does not trust (each said in its own words)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return False
    return isinstance(exc, (ssl.SSLError, ConnectionResetError, ConnectionAbortedError, BrokenPipeError))


@dataclass(frozen=True)
class TlsIdentity:
    """The certificate the server presents and its pin."""

    cert: Path
    key: Path
    pin: str
    """``SHA256:`` and the unpadded base64 of the SHA-256 of the certificate (DER), as ``--pin`` takes it."""
    generated: bool
    """Made by ttx (self-signed, beside the journal) rather than given with ``--cert/--key``."""


def loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (``localhost``, 127.0.0.0/8, ``::1``): traffic to it never
    crosses a network."""
    if host.strip("[]").lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def certificate_pin(der: bytes) -> str:
    """The pin of a certificate: ``SHA256:`` + unpadded base64 of the SHA-256 of its DER bytes."""
    return PIN_PREFIX + base64.b64encode(hashlib.sha256(der).digest()).decode().rstrip("=")


def parse_pin(text: str) -> str:
    """Read a ``--pin``: ``SHA256:base64`` (what ttx prints) or the hex fingerprint openssl prints.

    Raises:
        ValueError: it is neither, or not 32 bytes long.
    """
    body = text.strip()
    if body[:len(PIN_PREFIX)].upper() == PIN_PREFIX:
        body = body[len(PIN_PREFIX):]
        try:
            raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        except binascii.Error:
            raw = b""
    else:
        try:
            raw = bytes.fromhex(body.replace(":", ""))
        except ValueError:
            raw = b""
    if len(raw) != hashlib.sha256().digest_size:
        raise ValueError(f"bad pin {text!r}: give the SHA256:… fingerprint ttx host printed")
    return PIN_PREFIX + base64.b64encode(raw).decode().rstrip("=")


def generated_identity(journal: str | Path) -> TlsIdentity:
    """The self-signed certificate beside ``journal``: made on first use, renewed when near expiry.

    Raises:
        KeyFileError: the key file there is not private (see :func:`~simulator.team.keyfiles.check_private`).
    """
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    cert_path, key_path = beside(journal, CERT_FILE), beside(journal, KEY_FILE)
    if not key_path.exists():
        fresh = ec.generate_private_key(ec.SECP256R1())
        pem = fresh.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption())
        create_private(key_path, pem)
    check_private(key_path)
    loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise KeyFileError(f"{key_path}: not the EC key ttx makes; remove it and a new one is made")
    key = loaded
    cert = _current_certificate(cert_path, key)
    if cert is None:
        cert = _self_signed(key)
        create_public(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    der = cert.public_bytes(serialization.Encoding.DER)
    return TlsIdentity(cert_path, key_path, certificate_pin(der), True)


def given_identity(cert: str | Path, key: str | Path) -> TlsIdentity:
    """An organisation's certificate and key (``--cert/--key``), checked by loading them.

    Raises:
        KeyFileError: they cannot be read, or do not belong together.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
        first = x509.load_pem_x509_certificates(Path(cert).read_bytes())[0]
    except (OSError, ssl.SSLError, ValueError) as exc:
        raise KeyFileError(f"cannot use --cert {cert} --key {key}: {exc}") from None
    return TlsIdentity(Path(cert), Path(key), certificate_pin(first.public_bytes(serialization.Encoding.DER)),
                       False)


def server_context(identity: TlsIdentity) -> ssl.SSLContext:
    """What ``ttx host`` serves ``wss://`` with: TLS 1.2 or later, the identity's certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(identity.cert, identity.key)
    return context


def client_context(pin: str | None) -> ssl.SSLContext:
    """What ``ttx join`` connects to ``wss://`` with.

    With a pin, the certificate chain and name are not checked here (a self-signed certificate
    has neither); the pin is, by :func:`presented_pin` as soon as the TLS handshake is done.
    Without one, the system's certificate authorities (or ``SSL_CERT_FILE``) and the host name are.
    """
    if pin is None:
        context = ssl.create_default_context()
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def presented_pin(ssl_object: ssl.SSLObject | ssl.SSLSocket | None) -> str:
    """The pin of the certificate a connected TLS peer presented (``""`` when it presented none)."""
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    return certificate_pin(der) if der else ""


def _current_certificate(path: Path, key: ec.EllipticCurvePrivateKey) -> x509.Certificate | None:
    """The certificate at ``path`` if it belongs to ``key`` and is not near expiry."""
    from cryptography import x509

    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return None
    fresh = cert.not_valid_after_utc - dt.timedelta(days=RENEW_DAYS) > dt.datetime.now(dt.UTC)
    return cert if fresh and cert.public_key() == key.public_key() else None


def _self_signed(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    """A server certificate for this machine, signed by its own key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    host = socket.gethostname() or "localhost"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"ttx drill host {host}"[:64])])
    now = dt.datetime.now(dt.UTC)
    alt = x509.SubjectAlternativeName([x509.DNSName(host), x509.DNSName("localhost"),
                                       x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                       x509.IPAddress(ipaddress.ip_address("::1"))])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(alt, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(key, hashes.SHA256()))
