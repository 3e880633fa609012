"""Synthetic PDQ-like hash sets for index tests: random bits, no image involved."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Hashes = npt.NDArray[np.uint8]


def flip_bits(rng: np.random.Generator, value: Hashes, count: int) -> Hashes:
    """A copy of one 32-byte hash with exactly `count` distinct bits flipped."""
    out = value.copy()
    for bit in rng.choice(256, size=count, replace=False):
        out[bit >> 3] ^= np.uint8(1 << (bit & 7))
    return out


def random_hashes(rng: np.random.Generator, n: int) -> Hashes:
    return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)


def clustered_hashes(rng: np.random.Generator, n: int, *, cluster_size: int = 40, spread: int = 12) -> Hashes:
    """Clusters of near-duplicates: each member within `spread` bits of its cluster's centre."""
    centres = random_hashes(rng, -(-n // cluster_size))
    out = np.empty((n, 32), dtype=np.uint8)
    for i in range(n):
        out[i] = flip_bits(rng, centres[i // cluster_size], int(rng.integers(0, spread + 1)))
    return out


def skewed_hashes(rng: np.random.Generator, n: int) -> Hashes:
    """Bits set with very different frequencies (0.03 to 0.97): crowded buckets in some tables."""
    p = rng.uniform(0.03, 0.97, size=256)
    bits = rng.random((n, 256)) < p
    return np.packbits(bits, axis=1, bitorder="little")


def planted_queries(
    rng: np.random.Generator, hashes: Hashes, distances: range | list[int]
) -> tuple[Hashes, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """One query per distance: a random entry's hash with exactly that many bits flipped.

    Returns (queries, row of the planted entry, planted distance).
    """
    distances = list(distances)
    rows = rng.integers(0, hashes.shape[0], size=len(distances))
    queries = np.stack([flip_bits(rng, hashes[r], d) for r, d in zip(rows, distances, strict=True)])
    return queries, rows.astype(np.int64), np.array(distances, dtype=np.int64)


def as_tuples(matches: object) -> list[tuple[int, int, int]]:
    query_index = matches.query_index  # type: ignore[attr-defined]
    entry_id = matches.entry_id  # type: ignore[attr-defined]
    distance = matches.distance  # type: ignore[attr-defined]
    return list(zip(query_index.tolist(), entry_id.tolist(), distance.tolist(), strict=True))
