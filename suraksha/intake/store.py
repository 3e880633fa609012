"""Uploaded media bytes, kept content-addressed (SHA-256) under the data folder between intake and
processing. The pipeline deletes a file's bytes once its item is decided clean; bytes of items that
matched or wait for review stay for the reviewer and the evidence vault."""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
from pathlib import Path

from suraksha.errors import InvalidInput


class MediaStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def _path(self, sha256: str) -> Path:
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            raise InvalidInput(f"not a SHA-256 hex digest: {sha256[:80]!r}")
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def put(self, data: bytes) -> str:
        """Store bytes; returns their SHA-256. Writing the same bytes twice stores them once."""
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{digest}.{uuid.uuid4().hex}.tmp")
        # Atomic (rename), not fsynced: as durable as the item row that names it, which SQLite in
        # WAL mode with synchronous=NORMAL also commits without an fsync. Evidence worth keeping
        # goes to the vault, which syncs.
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return digest

    def get(self, sha256: str) -> bytes | None:
        path = self._path(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None

    def delete(self, sha256: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(sha256).unlink()
