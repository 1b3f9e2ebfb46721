"""How a hosted drill was served, kept beside its journal so ``ttx host --resume`` serves it the same way.

A player's seat holds the host's URL and, over ``wss://``, the certificate's pin; an SSH player's
client holds the host key. A host that came back on another scheme, port or certificate would
leave every pinned seat on "reconnecting…" for good. So the first ``ttx host`` records where it
listened (address, the port it got, TLS and which certificate, the SSH seats' port, the advertised
name) and the fingerprints it printed, and a resume takes every setting the command line does not
give from there.

Why a file of its own, ``JOURNAL.serving.json`` (``drill.jsonl.serving.json``), rather than the
journal: the journal is the drill, what ``ttx replay`` and ``--resume`` re-derive event by event
and what two runs of the same seed and decisions must agree on byte for byte; where it was served
from is the host's concern, and is only known once the ports are bound (``--port 0``), after the
journal's header and hosting note are written. The record is written once the host listens and
rewritten by every resume (a drill resumed twice serves as it did last); a host that never listened
writes none. It holds no secret: addresses, ports, certificate paths and public fingerprints (the
keys stay in their own owner-only files). A journal without a record (hosted by a ttx before this
one, or the record removed) resumes as it always did: the command line's options, else the defaults.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from simulator.team.keyfiles import create_public

SUFFIX = ".serving.json"
"""What the record's name adds to the journal's: ``drill.jsonl`` → ``drill.jsonl.serving.json``."""


class ServingError(Exception):
    """A serving record that cannot be read; the message names the file and what to do."""


class Serving(BaseModel):
    """Where and how one ``ttx host`` listened for its drill."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    bind: str
    """The address listened on (``--bind``)."""
    port: int
    """The websocket's port as bound (the free port it got, for ``--port 0``)."""
    tls: Literal["made", "given"] | None
    """``wss://`` with the certificate ttx made beside the journal, with ``--cert/--key``, or plain ``ws://``."""
    cert: str | None = None
    """With ``tls="given"``: the certificate (chain) file, as an absolute path."""
    key: str | None = None
    """With ``tls="given"``: its private key file, as an absolute path."""
    pin: str | None = None
    """The certificate's pin the banner printed (``SHA256:…``), to tell the facilitator if it changed."""
    ssh: int | None = None
    """The SSH seats' port as bound, or ``None``: no SSH seats."""
    ssh_fingerprint: str | None = None
    """The SSH host key's fingerprint the banner printed."""
    advertise: str | None = None
    """``--advertise``: the name the printed commands use."""


def serving_path(journal: str | Path) -> Path:
    """The serving record of ``journal``: beside it, its name plus :data:`SUFFIX`."""
    path = Path(journal)
    return path.with_name(path.name + SUFFIX)


def read_serving(journal: str | Path) -> Serving | None:
    """How the drill of ``journal`` was last served, or ``None`` when it has no record.

    Raises:
        ServingError: there is a record, but not one ttx wrote (unreadable, or not its fields).
    """
    path = serving_path(journal)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ServingError(f"{path}: cannot read how this drill was served ({exc.strerror}); fix or "
                           "remove it, then give --tls, --ssh, --bind, --port as it was hosted") from None
    try:
        return Serving.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the file"
        raise ServingError(f"{path}: not a serving record ttx wrote ({where}: {first['msg']}); remove it "
                           "and give --tls, --ssh, --bind, --port as the drill was hosted") from None


def write_serving(journal: str | Path, serving: Serving) -> Path:
    """Record how the drill of ``journal`` is served (atomically replacing an earlier record); the path."""
    path = serving_path(journal)
    create_public(path, (serving.model_dump_json(indent=2) + "\n").encode())
    return path
