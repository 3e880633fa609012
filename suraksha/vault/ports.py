"""Where the vault's encrypted blobs live (``BlobStorage``), and the platform's optional enrichment
answer (``EnrichmentSource``, in enrichment.py).

A storage backend only ever sees ciphertext and opaque object names; encryption, content addressing
and retention are the vault's. The filesystem backend is the default; an object store (S3 with object
lock, GCS, Azure Blob) implements the same four methods.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from pathlib import Path
from typing import Protocol

from suraksha.errors import InvalidInput
from suraksha.files import create_private, private_dir

_NAME = re.compile(r"^[0-9a-f]{64}\.[0-9a-f]{32}$")


def object_name(sha256: str) -> str:
    """A new object name for one sealing of a blob: its plaintext digest and a random suffix, so two
    workers sealing the same evidence at once never overwrite each other's (differently keyed) bytes."""
    return f"{sha256}.{uuid.uuid4().hex}"


class BlobStorage(Protocol):
    """Stores ciphertext by name. ``put`` is atomic (a reader sees all of an object or none of it)
    and durable when it returns; ``delete`` of a missing object is not an error."""

    def put(self, name: str, data: bytes) -> None: ...

    def get(self, name: str) -> bytes | None: ...

    def delete(self, name: str) -> None: ...

    def exists(self, name: str) -> bool: ...


class FilesystemBlobStorage:
    """Objects as files under ``root/<2 hex>/<2 hex>/<name>``, written to a temporary file, fsynced,
    renamed into place and the folder fsynced: evidence survives a power cut once ``put`` returns."""

    def __init__(self, root: str | os.PathLike[str], *, max_bytes: int | None = None) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def __repr__(self) -> str:
        return f"FilesystemBlobStorage({str(self.root)!r})"

    def _path(self, name: str) -> Path:
        if not _NAME.fullmatch(name):
            raise InvalidInput(f"not a vault object name: {name[:100]!r}")
        return self.root / name[:2] / name[2:4] / name

    def put(self, name: str, data: bytes) -> None:
        if self.max_bytes is not None and len(data) > self.max_bytes:
            raise InvalidInput(f"vault object of {len(data)} bytes is over the limit of {self.max_bytes}")
        path = self._path(name)
        private_dir(path.parent)
        tmp = path.with_name(f".{name}.{uuid.uuid4().hex}.tmp")
        try:
            with create_private(tmp) as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            raise
        _fsync_dir(path.parent)

    def get(self, name: str) -> bytes | None:
        path = self._path(name)
        try:
            with open(path, "rb") as f:
                if self.max_bytes is not None and os.fstat(f.fileno()).st_size > self.max_bytes + 64:
                    raise InvalidInput(f"vault object {name} is larger than any blob the vault writes")
                return f.read()
        except FileNotFoundError:
            return None

    def delete(self, name: str) -> None:
        path = self._path(name)
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            _fsync_dir(path.parent)

    def exists(self, name: str) -> bool:
        return self._path(name).exists()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened for fsync
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
