"""Uploaded media bytes, kept content-addressed (SHA-256) under the data folder between intake and
processing. The pipeline deletes a file's bytes once its item is decided clean; bytes of items that
matched or wait for review stay for the reviewer and the evidence vault, until the vault purges the
same file (its holds ran out) or destroys it on a request (``suraksha.vault.purge``).

Those bytes are evidence too (18 USC 2258A(h) asks for secure storage with minimal access): they are
never written to disk in plain. Each file is sealed by a ``MediaCipher`` (the vault's envelope
encryption under its KEK, ``suraksha.vault.crypto.EnvelopeCipher``, which the Platform wires in),
one data key per file; files and folders are private (0600 / 0700). Without the KEK, storing media
answers NotReady with what to set: intake of media waits, nothing is kept in plain.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from suraksha.errors import ConfigError, InvalidInput, NotReady, SurakshaError
from suraksha.files import create_private, private_dir

log = logging.getLogger(__name__)
_HEX = frozenset("0123456789abcdef")


class MediaCipher(Protocol):
    """Seals bytes for the media store and opens them again; ``ConfigError`` when its key is missing."""

    def seal(self, data: bytes, sha256: str) -> bytes: ...

    def open(self, stored: bytes, sha256: str) -> bytes: ...

    def is_sealed(self, stored: bytes) -> bool: ...

    def rewrap(self, stored: bytes, sha256: str) -> bytes | None:
        """The stored file with its key wrapped under the current key; None when it already is."""
        ...


def _plain(stored: bytes, sha256: str) -> bool:
    """Whether ``stored`` is the file itself, in plain: written by a version before media was sealed
    (``suraksha vault seal-media`` seals it in place). Still read, so an upgrade loses nothing."""
    if hashlib.sha256(stored).hexdigest() != sha256:
        return False
    log.warning("event=media.plain_at_rest sha256=%s fix='suraksha vault seal-media'", sha256)
    return True


def _is_digest(name: str) -> bool:
    return len(name) == 64 and all(c in _HEX for c in name)


class MediaStore:
    def __init__(self, root: str | os.PathLike[str], cipher: MediaCipher) -> None:
        self.root = Path(root)
        self.cipher = cipher

    def __repr__(self) -> str:
        return f"MediaStore({str(self.root)!r})"

    def _path(self, sha256: str) -> Path:
        if not _is_digest(sha256):
            raise InvalidInput(f"not a SHA-256 hex digest: {sha256[:80]!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _sealing(self, data: bytes, sha256: str) -> bytes:
        try:
            return self.cipher.seal(data, sha256)
        except ConfigError as exc:
            # Not stored in plain instead: the submission waits (503) until the key is set.
            raise NotReady(f"media cannot be stored yet: {exc}") from None

    def put(self, data: bytes) -> str:
        """Store bytes (sealed); returns their SHA-256. Writing the same bytes twice stores them once."""
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        self._write(path, self._sealing(data, digest))
        return digest

    def _write(self, path: Path, stored: bytes) -> None:
        private_dir(path.parent)
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
        # Atomic (rename), not fsynced: as durable as the item row that names it, which SQLite in
        # WAL mode with synchronous=NORMAL also commits without an fsync. Evidence worth keeping
        # goes to the vault, which syncs.
        try:
            with create_private(tmp) as f:
                f.write(stored)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise

    def get(self, sha256: str) -> bytes | None:
        path = self._path(sha256)
        try:
            stored = path.read_bytes()
        except FileNotFoundError:
            return None
        if self.cipher.is_sealed(stored):
            try:
                return self.cipher.open(stored, sha256)
            except ConfigError as exc:
                raise NotReady(f"stored media cannot be opened yet: {exc}") from None
            except SurakshaError:
                if not _plain(stored, sha256):
                    raise
        elif not _plain(stored, sha256):
            raise InvalidInput(f"stored media {sha256} is neither sealed nor the file it names")
        return stored

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).exists()

    def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(sha256).unlink()

    def digests(self) -> Iterator[str]:
        """Every file the store holds (by SHA-256), in no particular order."""
        if not self.root.is_dir():
            return
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                if _is_digest(name) and Path(folder) == self.root / name[:2] / name[2:4]:
                    yield name

    def stray_temporary_files(self) -> Iterator[Path]:
        """Temporary files a process killed mid-write left behind (never named by anything)."""
        if not self.root.is_dir():
            return
        for folder, _dirs, names in os.walk(self.root):
            for name in names:
                if name.startswith(".") and name.endswith(".tmp"):
                    yield Path(folder) / name

    def read_stored(self, sha256: str) -> bytes | None:
        """The file as stored (sealed, or plain when written before sealing), for re-sealing."""
        try:
            return self._path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    def replace_stored(self, sha256: str, stored: bytes) -> None:
        """Atomically replace a stored file (re-sealed or re-wrapped) with ``stored``."""
        self._write(self._path(sha256), stored)
