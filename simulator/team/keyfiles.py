"""Private key files kept beside the journal: created once, readable by their owner only, never overwritten.

The TLS certificate's key and the SSH host key live next to a drill's journal, so every drill
hosted from that folder shows the same fingerprints (players check them once). A key file that
other users could read is refused, the way OpenSSH refuses an unprotected private key: a key
someone else may have copied proves nothing.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class KeyFileError(Exception):
    """A key or certificate file cannot be used; the message names the file and what to do."""


def beside(journal: str | Path, name: str) -> Path:
    """The path of ``name`` in the journal's folder."""
    return Path(journal).resolve().parent / name


def check_private(path: Path) -> None:
    """Refuse a private key file that is not a regular file owned by us with no group or other access.

    Raises:
        KeyFileError: the file is a link, someone else's, or readable by others.
    """
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
        raise KeyFileError(f"{path}: a private key must be a regular file, not a link or a device")
    if info.st_uid != os.getuid():
        raise KeyFileError(f"{path}: this private key belongs to another user; remove it and a new one "
                           "is made")
    if info.st_mode & 0o077:
        raise KeyFileError(f"{path}: this private key can be read by other users (mode "
                           f"{stat.S_IMODE(info.st_mode):o}); run: chmod 600 {path}")


def create_private(path: Path, content: bytes) -> bool:
    """Write ``content`` to a new owner-only (0600) file at ``path``, atomically.

    Returns ``False`` and leaves the file alone when ``path`` exists already (another ``ttx host``
    in the same folder made it first); the caller then loads that one.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
            out.flush()
            os.fsync(out.fileno())
        os.link(temp, path)
    except FileExistsError:
        return False
    finally:
        temp.unlink(missing_ok=True)
    return True


def create_public(path: Path, content: bytes) -> None:
    """Write a public file (a certificate) beside its key, replacing an older one atomically."""
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temp.write_bytes(content)
    temp.chmod(0o644)
    temp.replace(path)
