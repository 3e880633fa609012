"""Per-group thresholds, rotation variants, batch versus single queries, input handling."""

from __future__ import annotations

import numpy as np
import pytest

from suraksha.errors import InvalidInput
from suraksha.signals.index import IndexNotReady, InvalidHash, PdqIndex, PdqMatch, ReferencePdqIndex

from ._data import as_tuples, clustered_hashes, flip_bits, planted_queries, random_hashes

N = 5000


@pytest.fixture(scope="module")
def grouped() -> tuple[PdqIndex, ReferencePdqIndex, np.ndarray]:
    rng = np.random.default_rng(11)
    hashes = clustered_hashes(rng, N, spread=20)
    ids = np.arange(N, dtype=np.int64) * 3 + 5
    groups = rng.integers(0, 5, N)
    oracle = ReferencePdqIndex()
    oracle.add(ids, hashes, groups)
    return PdqIndex.build(ids, hashes, groups), oracle, hashes


@pytest.mark.parametrize(
    "thresholds",
    [{0: 31, 1: 10, 2: 0, 3: 45}, {4: 20}, {1: 63, 2: 31}, {}, {0: 31, 9: 40}],
)
def test_each_group_has_its_own_threshold(grouped: tuple, thresholds: dict[int, int]) -> None:
    index, oracle, hashes = grouped
    rng = np.random.default_rng(len(thresholds))
    queries, _, _ = planted_queries(rng, hashes, list(range(0, 50)))
    got = index.query(queries, threshold=thresholds)
    assert as_tuples(got) == as_tuples(oracle.query(queries, threshold=thresholds))
    # groups that are not listed never match
    assert set(got.group.tolist()) <= set(thresholds)


def test_rotation_variants_report_best_distance_and_variant(grouped: tuple) -> None:
    index, oracle, hashes = grouped
    rng = np.random.default_rng(5)
    # 8 variants per query: one near an entry, the others random or further away
    variants = random_hashes(rng, 40 * 8).reshape(40, 8, 32)
    for q in range(40):
        target = hashes[rng.integers(0, N)]
        variants[q, q % 8] = flip_bits(rng, target, q % 32)
        variants[q, (q + 3) % 8] = flip_bits(rng, target, 31)
    got = index.query(variants, threshold=dict.fromkeys(range(5), 31))
    expected = oracle.query(variants, threshold=dict.fromkeys(range(5), 31))
    assert got.variant is not None
    assert expected.variant is not None
    assert as_tuples(got) == as_tuples(expected)
    assert got.variant.tolist() == expected.variant.tolist()
    # each (query, entry) once
    pairs = list(zip(got.query_index.tolist(), got.entry_id.tolist(), strict=True))
    assert len(pairs) == len(set(pairs))


def test_identical_variants_report_the_first() -> None:
    rng = np.random.default_rng(2)
    hashes = random_hashes(rng, 100)
    index = PdqIndex.build(np.arange(100), hashes)
    variants = np.repeat(hashes[7][None, :], 8, axis=0)
    assert index.query_one(variants) == [PdqMatch(7, 0, 0, 0)]


def test_batch_equals_single_queries(grouped: tuple) -> None:
    index, _, hashes = grouped
    rng = np.random.default_rng(9)
    queries, _, _ = planted_queries(rng, hashes, list(range(0, 40)))
    batch = index.query(queries, threshold=31)
    for q in range(queries.shape[0]):
        assert batch.for_query(q) == index.query_one(queries[q], threshold=31)
    assert batch.for_query(queries.shape[0] + 5) == []
    # hex strings and bytes are accepted too
    assert index.query_one(queries[3].tobytes().hex()) == batch.for_query(3)
    assert index.query([queries[3].tobytes(), queries[4].tobytes()]).for_query(1) == batch.for_query(4)


def test_results_are_sorted_by_query_then_distance(grouped: tuple) -> None:
    index, _, hashes = grouped
    queries, _, _ = planted_queries(np.random.default_rng(4), hashes, [5, 0, 20, 31])
    got = index.query(queries, threshold=63)
    keys = list(zip(got.query_index.tolist(), got.distance.tolist(), got.entry_id.tolist(), strict=True))
    assert keys == sorted(keys)


def test_not_ready_is_an_error_not_an_empty_answer() -> None:
    index = PdqIndex()
    assert not index.ready
    with pytest.raises(IndexNotReady):
        index.query(np.zeros((1, 32), np.uint8))
    with pytest.raises(IndexNotReady):
        index.add([1], np.zeros((1, 32), np.uint8))
    built = PdqIndex.build([1], np.zeros((1, 32), np.uint8))
    built.close()
    with pytest.raises(IndexNotReady):
        built.query_one(np.zeros(32, np.uint8))


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("zz" * 32, InvalidHash),
        ("ab" * 31, InvalidHash),
        (b"\x00" * 31, InvalidHash),
        (np.zeros((2, 31), np.uint8), InvalidHash),
        (np.zeros((2, 32), np.int64), InvalidHash),
    ],
)
def test_bad_hashes_are_rejected(value: object, error: type[Exception]) -> None:
    index = PdqIndex.build([1], np.zeros((1, 32), np.uint8))
    with pytest.raises(error):
        index.query(value)


def test_bad_thresholds_and_ids_are_rejected() -> None:
    index = PdqIndex.build([1], np.zeros((1, 32), np.uint8))
    with pytest.raises(InvalidInput):
        index.query(np.zeros((1, 32), np.uint8), threshold=-1)
    with pytest.raises(InvalidInput):
        index.query(np.zeros((1, 32), np.uint8), threshold={70000: 3})
    with pytest.raises(InvalidInput):
        PdqIndex.build([1, 1], np.zeros((2, 32), np.uint8))
    with pytest.raises(InvalidInput):
        PdqIndex.build([1], np.zeros((1, 32), np.uint8), groups=[70000])
