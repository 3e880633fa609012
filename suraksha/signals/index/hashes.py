"""Turn the hashes callers hold (hex strings, bytes, arrays) into the arrays the indexes use."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from suraksha.errors import InvalidInput
from suraksha.signals.index.errors import InvalidHash

PDQ_BYTES = 32

HashLike = str | bytes | bytearray | memoryview
HashInput = npt.ArrayLike | HashLike | Sequence[HashLike] | Sequence[Sequence[HashLike]]


def _one(value: HashLike, width: int) -> bytes:
    if isinstance(value, str):
        try:
            raw = bytes.fromhex(value)
        except ValueError as exc:
            raise InvalidHash(f"not a hex string: {value[:80]!r}; give {2 * width} hex digits") from exc
    else:
        raw = bytes(value)
    if len(raw) != width:
        raise InvalidHash(f"a hash of {len(raw)} bytes was given where {width} bytes are needed")
    return raw


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | bytes | bytearray | memoryview)


def _is_single(value: object) -> bool:
    return _is_scalar(value) or (isinstance(value, np.ndarray) and value.ndim == 1)


def as_hash_array(values: Any, width: int = PDQ_BYTES, *, max_dims: int = 2) -> npt.NDArray[np.uint8]:
    """Hashes as a C-contiguous uint8 array of shape (n, width), or (n, v, width) when max_dims is 3.

    Accepts an array whose last axis is `width` bytes, one hash (hex string, bytes or a 1-D array:
    shape (1, width)), a sequence of hashes, or (max_dims 3) a sequence of sequences of hashes.
    """
    if _is_scalar(values):
        return np.frombuffer(_one(values, width), dtype=np.uint8).reshape(1, width).copy()
    if isinstance(values, np.ndarray):
        array = values
        if array.dtype != np.uint8:
            raise InvalidHash(f"hash arrays must be uint8, not {array.dtype}")
        if array.ndim == 1:
            array = array.reshape(1, -1)
    else:
        items = list(values) if isinstance(values, Iterable) else [values]
        if not items:
            return np.zeros((0, width), dtype=np.uint8)
        if all(_is_scalar(item) for item in items):
            joined = b"".join(_one(item, width) for item in items)
            return np.frombuffer(joined, dtype=np.uint8).reshape(len(items), width).copy()
        parts = [as_hash_array(item, width) for item in items]
        if all(_is_single(item) for item in items):
            array = np.concatenate(parts)
        elif max_dims < 3:
            raise InvalidHash("expected a flat list of hashes, got a nested one")
        elif len({part.shape[0] for part in parts}) > 1:
            raise InvalidHash("every query must give the same number of hash variants")
        else:
            array = np.stack(parts)
    if array.shape[-1] != width or not 2 <= array.ndim <= max_dims:
        raise InvalidHash(
            f"hash array of shape {array.shape}: expected (n, {width})"
            + (f" or (n, variants, {width})" if max_dims == 3 else "")
        )
    return np.ascontiguousarray(array)


def as_words(hashes: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    """PDQ hashes (n, 32) uint8 as (n, 4) little-endian uint64 words (a view when possible)."""
    return np.ascontiguousarray(hashes).view("<u8").reshape(-1, 4)


def as_id_array(ids: Any) -> npt.NDArray[np.int64]:
    array = np.atleast_1d(np.asarray(ids))
    if array.ndim != 1 or (array.size and array.dtype.kind not in "iu"):
        raise InvalidInput(f"entry ids must be a flat sequence of integers, not {array.dtype} {array.shape}")
    if array.dtype.kind == "u" and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise InvalidInput("entry ids must fit in a signed 64-bit integer")
    result: npt.NDArray[np.int64] = np.ascontiguousarray(array, dtype=np.int64)
    return result


def as_group_array(groups: Any, n: int) -> npt.NDArray[np.uint16]:
    array = np.asarray(groups)
    if array.ndim == 0:
        array = np.full(n, int(array), dtype=np.int64)
    if array.shape != (n,) or (array.size and array.dtype.kind not in "iu"):
        raise InvalidInput(f"groups must be one integer or {n} integers, got {array.dtype} {array.shape}")
    if array.size and (int(array.min()) < 0 or int(array.max()) > 0xFFFF):
        raise InvalidInput("group ids must be between 0 and 65535")
    result: npt.NDArray[np.uint16] = np.ascontiguousarray(array, dtype=np.uint16)
    return result


def hamming_distances(query: npt.NDArray[np.uint8], hashes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
    """The obviously-correct comparison: XOR and popcount of one hash against many."""
    xor = np.bitwise_xor(hashes.reshape(-1, hashes.shape[-1]), query.reshape(1, -1))
    distances: npt.NDArray[np.int64] = np.bitwise_count(xor).sum(axis=1, dtype=np.int64)
    return distances
