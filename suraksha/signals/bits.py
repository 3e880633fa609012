"""Bit-level helpers for 256-bit hashes (PDQ): hex <-> bytes, Hamming distance, one against many.

A hash is held as 32 bytes, big-endian: ``bytes.fromhex`` of the reference's 64-digit hex string, so
``value.hex()`` round-trips and byte order never needs thinking about. For one-against-many search the
hashes are rows of an (N, 32) uint8 array, or the same memory viewed as (N, 4) uint64 (``pack_hashes``):
the Hamming distance is the same either way, since XOR and popcount do not care how bits are grouped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

HASH_BYTES = 32
HASH_BITS = 256
HEX_DIGITS = 2 * HASH_BYTES

_HEX_DIGITS = re.compile(r"[0-9a-fA-F]+")
_POPCOUNT_8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def hex_to_bytes(value: str, *, nbytes: int = HASH_BYTES, what: str = "PDQ hash") -> bytes:
    """Parse ``nbytes * 2`` hex digits (either case, surrounding whitespace ignored) into bytes.

    Raises ValueError naming ``what`` was expected and what was given.
    """
    text = value.strip()
    if len(text) != 2 * nbytes:
        raise ValueError(
            f"not a {what}: expected {2 * nbytes} hexadecimal digits, got {len(text)} characters "
            f"({_show(value)})"
        )
    if not _HEX_DIGITS.fullmatch(text):
        raise ValueError(f"not a {what}: {_show(value)} has characters other than 0-9 and a-f")
    return bytes.fromhex(text)


def bytes_to_hex(value: bytes) -> str:
    """Lowercase hex, two digits a byte (the reference's convention)."""
    return value.hex()


def hamming_distance(a: bytes, b: bytes) -> int:
    """Number of differing bits between two equal-length byte strings."""
    if len(a) != len(b):
        raise ValueError(f"cannot compare hashes of {len(a)} and {len(b)} bytes")
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).bit_count()


def pack_hashes(values: Iterable[bytes]) -> npt.NDArray[np.uint64]:
    """Stack 32-byte hashes into an (N, 4) uint64 array (native byte order view of the bytes)."""
    joined = b"".join(values)
    if len(joined) % HASH_BYTES:
        raise ValueError(f"every hash must be {HASH_BYTES} bytes")
    return np.frombuffer(joined, dtype=np.uint64).reshape(-1, HASH_BYTES // 8).copy()


def hamming_distances(
    query: bytes, hashes: npt.NDArray[np.uint8] | npt.NDArray[np.uint64]
) -> npt.NDArray[np.int32]:
    """Hamming distance from ``query`` (32 bytes) to every row of ``hashes``.

    ``hashes`` is (N, 32) uint8 (each row the hash's bytes) or (N, 4) uint64 (from ``pack_hashes``).
    Returns (N,) int32. This is the brute-force matcher's inner loop: one XOR and one popcount per
    64 bits, no Python per row.
    """
    if len(query) != HASH_BYTES:
        raise ValueError(f"query must be {HASH_BYTES} bytes, got {len(query)}")
    if hashes.ndim != 2:
        raise ValueError(f"hashes must be a 2-D array, got shape {hashes.shape}")
    words: npt.NDArray[np.uint64]
    if hashes.dtype == np.uint8 and hashes.shape[1] == HASH_BYTES:
        words = np.ascontiguousarray(hashes).view(np.uint64)
    elif hashes.dtype == np.uint64 and hashes.shape[1] == HASH_BYTES // 8:
        words = np.asarray(hashes, dtype=np.uint64)
    else:
        raise ValueError(
            f"hashes must be (N, {HASH_BYTES}) uint8 or (N, {HASH_BYTES // 8}) uint64, "
            f"got {hashes.shape} {hashes.dtype}"
        )
    q = np.frombuffer(query, dtype=np.uint64)
    xored = np.bitwise_xor(words, q)
    distances: npt.NDArray[np.int32]
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0: hardware popcount
        distances = np.bitwise_count(xored).sum(axis=1, dtype=np.int32)
    else:  # pragma: no cover - numpy 1.x
        distances = _POPCOUNT_8[xored.view(np.uint8)].sum(axis=1, dtype=np.int32)
    return distances


def _show(value: str, limit: int = 80) -> str:
    return repr(value if len(value) <= limit else value[:limit] + "...")
