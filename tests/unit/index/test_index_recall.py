"""Exact recall: the PDQ index returns what the brute-force oracle returns, nothing more or less."""

from __future__ import annotations

import numpy as np
import pytest

from suraksha.signals.index import PdqIndex, ReferencePdqIndex
from suraksha.signals.index.hashes import hamming_distances
from suraksha.signals.index.mih import MihTables

from ._data import (
    as_tuples,
    clustered_hashes,
    flip_bits,
    planted_queries,
    random_hashes,
    skewed_hashes,
)

N = 6000
THRESHOLDS = [0, 8, 31, 40, 63]
MAKERS = {"random": random_hashes, "clustered": clustered_hashes, "skewed": skewed_hashes}


def _build(
    kind: str, seed: int, key_bits: int | None = None, method: str = "probe"
) -> tuple[PdqIndex, ReferencePdqIndex, np.ndarray]:
    rng = np.random.default_rng(seed)
    hashes = MAKERS[kind](rng, N)
    ids = rng.permutation(10 * N)[:N].astype(np.int64) + 1
    index = PdqIndex.build(ids, hashes, key_bits=key_bits)
    # at this size the cost model would scan: force each path so that both are checked
    index.search_method = method  # type: ignore[assignment]
    oracle = ReferencePdqIndex()
    oracle.add(ids, hashes)
    return index, oracle, hashes


@pytest.mark.parametrize("method", ["probe", "scan"])
@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("threshold", THRESHOLDS)
def test_planted_at_every_distance_up_to_threshold_plus_one(kind: str, threshold: int, method: str) -> None:
    index, oracle, hashes = _build(kind, seed=threshold, method=method)
    rng = np.random.default_rng(1000 + threshold)
    queries, rows, planted = planted_queries(rng, hashes, range(threshold + 2))
    got = index.query(queries, threshold=threshold)
    assert as_tuples(got) == as_tuples(oracle.query(queries, threshold=threshold))
    # the planted entry itself: found at its exact distance up to the threshold, never beyond
    planted_ids = index.query(hashes[rows], threshold=0)
    assert len(planted_ids) >= len(rows)
    for q, (row, d) in enumerate(zip(rows, planted, strict=True)):
        found = {(m.entry_id, m.distance) for m in got.for_query(q)}
        entry_id = int(oracle_ids_of(oracle, hashes[row]))
        true_distance = int(hamming_distances(queries[q], hashes[row : row + 1])[0])
        assert true_distance == d
        assert ((entry_id, int(d)) in found) == (d <= threshold)


def oracle_ids_of(oracle: ReferencePdqIndex, value: np.ndarray) -> int:
    return int(oracle.query(value, threshold=0).entry_id[0])


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_random_and_near_queries_match_oracle(kind: str) -> None:
    index, oracle, hashes = _build(kind, seed=7)
    rng = np.random.default_rng(8)
    near = np.stack([flip_bits(rng, hashes[i], int(rng.integers(0, 48))) for i in rng.integers(0, N, 60)])
    queries = np.concatenate([near, random_hashes(rng, 20), clustered_hashes(rng, 20)])
    for threshold in (31, 45):
        assert as_tuples(index.query(queries, threshold=threshold)) == as_tuples(
            oracle.query(queries, threshold=threshold)
        )


@pytest.mark.parametrize("key_bits", [4, 8, 13, 16, 18])
def test_every_table_layout_is_exact(key_bits: int) -> None:
    """Small keys (long buckets: interpolation window and binary search; chunk bits below the
    fingerprint left unindexed) and wide keys (fingerprints under 8 bits) give the same answers."""
    index, oracle, hashes = _build("clustered", seed=key_bits, key_bits=key_bits)
    rng = np.random.default_rng(key_bits)
    queries, _, _ = planted_queries(rng, hashes, list(range(0, 36)) * 2)
    assert as_tuples(index.query(queries)) == as_tuples(oracle.query(queries))


@pytest.mark.parametrize("threshold", [31, 40, 63])
@pytest.mark.parametrize("method", ["probe", "scan"])
def test_probe_and_scan_agree_at_any_threshold(threshold: int, method: str) -> None:
    rng = np.random.default_rng(threshold)
    hashes = clustered_hashes(rng, 3000, spread=30)
    base = MihTables.build(np.arange(3000, dtype=np.int64), hashes.view("<u8"), np.zeros(3000, np.uint16))
    queries, _, _ = planted_queries(rng, hashes, range(0, threshold + 2))
    dead = np.zeros(375, np.uint8)
    got = base.search(queries.view("<u8"), np.array([threshold]), threshold, dead, method=method)  # type: ignore[arg-type]
    expected = set()
    for q in range(queries.shape[0]):
        distances = hamming_distances(queries[q], base.hashes.view(np.uint8).reshape(-1, 32))
        expected |= {(q, int(r), int(distances[r])) for r in np.flatnonzero(distances <= threshold)}
    triples = list(zip(got[0].tolist(), got[1].tolist(), got[2].tolist(), strict=True))
    assert len(triples) == len(set(triples))
    assert set(triples) == expected


def test_four_byte_row_numbers_are_exact() -> None:
    """Above 2**24 entries rows take 4 bytes; the same small set stored that way answers the same."""
    rng = np.random.default_rng(12)
    hashes = clustered_hashes(rng, 2000)
    ids = np.arange(2000, dtype=np.int64)
    three = MihTables.build(ids, hashes.view("<u8"), np.zeros(2000, np.uint16))
    four = MihTables.build(ids, hashes.view("<u8"), np.zeros(2000, np.uint16), row_bytes=4)
    assert (three.row_bytes, four.row_bytes) == (3, 4)
    queries, _, _ = planted_queries(rng, hashes, list(range(32)))
    dead = np.zeros(250, np.uint8)
    a = three.search(queries.view("<u8"), np.array([31]), 31, dead)
    b = four.search(queries.view("<u8"), np.array([31]), 31, dead)
    assert [x.tolist() for x in a] == [x.tolist() for x in b]


def test_duplicate_hashes_are_all_returned() -> None:
    rng = np.random.default_rng(3)
    value = random_hashes(rng, 1)
    hashes = np.concatenate([np.repeat(value, 50, axis=0), random_hashes(rng, 500)])
    index = PdqIndex.build(np.arange(550), hashes)
    assert sorted(m.entry_id for m in index.query_one(value[0])) == list(range(50))


def test_empty_and_tiny_indexes() -> None:
    rng = np.random.default_rng(0)
    empty = PdqIndex.build([], [])
    assert len(empty.query(random_hashes(rng, 3))) == 0
    assert len(empty) == 0
    one = PdqIndex.build([9], random_hashes(rng, 1))
    assert [m.entry_id for m in one.query_one(np.zeros(32, np.uint8), threshold=256)] == [9]
    assert one.query_one(np.zeros(32, np.uint8), threshold=0) == []
