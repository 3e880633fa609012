"""Cryptographic digests of a file's bytes: MD5 and SHA-256, lowercase hex.

They match only byte-identical files, but they are what most hash lists (NCMEC, many industry lists)
carry, and they can be taken from any file, even one we cannot decode. MD5 is used as an identifier
here, never for security (``usedforsecurity=False``, so it also works on FIPS-mode Pythons).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

__all__ = ["FileDigests", "digests_of_bytes", "digests_of_file", "md5_of_bytes", "sha256_of_bytes"]

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class FileDigests:
    md5: str
    sha256: str
    size: int


def md5_of_bytes(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def sha256_of_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def digests_of_bytes(data: bytes) -> FileDigests:
    return FileDigests(md5_of_bytes(data), sha256_of_bytes(data), len(data))


def digests_of_file(source: Path | str | BinaryIO) -> FileDigests:
    """MD5 and SHA-256 in one streaming read (1 MiB at a time) of a path or an open binary file.

    An open file is read from its current position to the end and left open.
    """
    if isinstance(source, (str, Path)):
        with Path(source).open("rb") as handle:
            return _stream(handle)
    return _stream(source)


def _stream(handle: BinaryIO) -> FileDigests:
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()
    size = 0
    while chunk := handle.read(READ_CHUNK):
        md5.update(chunk)
        sha256.update(chunk)
        size += len(chunk)
    return FileDigests(md5.hexdigest(), sha256.hexdigest(), size)
