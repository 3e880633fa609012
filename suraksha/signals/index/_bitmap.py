"""Tombstone bitmaps: bit i set means row i is removed (checked at verify time, no rebuild)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def empty(n: int) -> npt.NDArray[np.uint8]:
    return np.zeros((n + 7) // 8, dtype=np.uint8)


def is_set(bitmap: npt.NDArray[np.uint8], rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    bits: npt.NDArray[np.bool_] = ((bitmap[rows >> 3] >> (rows & 7).astype(np.uint8)) & 1).astype(bool)
    return bits


def set_rows(bitmap: npt.NDArray[np.uint8], rows: npt.NDArray[np.int64]) -> int:
    """Set the bits of `rows`; returns how many were not set before."""
    rows = np.unique(rows)
    rows = rows[~is_set(bitmap, rows)]
    np.bitwise_or.at(bitmap, rows >> 3, (1 << (rows & 7)).astype(np.uint8))
    return int(rows.shape[0])


def live_rows(bitmap: npt.NDArray[np.uint8], n: int) -> npt.NDArray[np.bool_]:
    return ~np.unpackbits(bitmap, bitorder="little", count=n).astype(bool)


def grown(bitmap: npt.NDArray[np.uint8], n: int) -> npt.NDArray[np.uint8]:
    out = empty(n)
    out[: bitmap.shape[0]] = bitmap[: out.shape[0]]
    return out
