"""Adds, removals and compaction: the index always answers like the oracle given the same changes."""

from __future__ import annotations

import threading

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from suraksha.signals.index import PdqIndex, ReferencePdqIndex

from ._data import as_tuples, clustered_hashes, flip_bits, random_hashes

THRESHOLDS = {0: 31, 1: 12, 2: 50}


class IndexVersusOracle(RuleBasedStateMachine):
    """Random sequences of add / re-add / remove / compact / save-and-reopen against the oracle."""

    def __init__(self) -> None:
        super().__init__()
        self.rng = np.random.default_rng(0)
        self.pool = clustered_hashes(self.rng, 400, cluster_size=20, spread=25)
        initial = np.arange(150)
        groups = initial % 3
        self.index = PdqIndex.build(initial, self.pool[initial], groups)
        self.oracle = ReferencePdqIndex()
        self.oracle.add(initial, self.pool[initial], groups)

    @rule(ids=st.lists(st.integers(0, 399), min_size=1, max_size=30), group=st.integers(0, 3))
    def add(self, ids: list[int], group: int) -> None:
        values = self.pool[[(i * 7) % 400 for i in ids]]
        self.index.add(ids, values, group)
        self.oracle.add(ids, values, group)

    @rule(ids=st.lists(st.integers(0, 450), min_size=1, max_size=40))
    def remove(self, ids: list[int]) -> None:
        assert self.index.remove(ids) == self.oracle.remove(ids)

    @rule()
    def compact(self) -> None:
        self.index.compact()

    @rule()
    def save_and_reopen(self) -> None:
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "pdq.snap"
            self.index.save(path)
            self.index = PdqIndex.open(path)

    @invariant()
    def same_answers(self) -> None:
        queries = np.stack([flip_bits(self.rng, self.pool[i], int(i % 40)) for i in range(0, 400, 23)])
        for threshold in (31, THRESHOLDS):
            assert as_tuples(self.index.query(queries, threshold=threshold)) == as_tuples(
                self.oracle.query(queries, threshold=threshold)
            )
        assert len(self.index) == len(self.oracle)


TestIndexVersusOracle = IndexVersusOracle.TestCase
TestIndexVersusOracle.settings = settings(
    max_examples=25, stateful_step_count=12, deadline=None, suppress_health_check=list(HealthCheck)
)


def test_removed_entries_stop_matching_at_once_and_adds_match_at_once() -> None:
    rng = np.random.default_rng(1)
    hashes = random_hashes(rng, 2000)
    index = PdqIndex.build(np.arange(2000), hashes)
    assert [m.entry_id for m in index.query_one(hashes[10], threshold=0)] == [10]
    assert index.remove([10, 10, 99999]) == 1
    assert index.query_one(hashes[10], threshold=0) == []
    assert 10 not in index
    index.add([5000], hashes[10:11])
    assert [m.entry_id for m in index.query_one(hashes[10], threshold=0)] == [5000]
    # re-adding an id replaces its hash and group
    index.add([5000], hashes[11:12], 4)
    assert index.query_one(hashes[10], threshold=0) == []
    assert [(m.entry_id, m.group) for m in index.query_one(hashes[11], threshold=0)] == [(11, 0), (5000, 4)]
    assert len(index) == 2000


def test_compaction_in_a_thread_keeps_changes_made_meanwhile() -> None:
    rng = np.random.default_rng(2)
    hashes = random_hashes(rng, 30_000)
    index = PdqIndex.build(np.arange(20_000), hashes[:20_000])
    oracle = ReferencePdqIndex()
    oracle.add(np.arange(20_000), hashes[:20_000])
    index.add(np.arange(20_000, 25_000), hashes[20_000:25_000])
    oracle.add(np.arange(20_000, 25_000), hashes[20_000:25_000])
    index.remove(np.arange(0, 1000))
    oracle.remove(np.arange(0, 1000))
    worker = threading.Thread(target=index.compact)
    worker.start()
    # changes racing with the compaction: removals of base and delta entries, new entries, re-adds
    for step in range(50):
        ids = np.arange(25_000 + step * 100, 25_000 + step * 100 + 100)
        index.add(ids, hashes[ids])
        oracle.add(ids, hashes[ids])
        gone = rng.integers(0, 30_000, 40)
        assert index.remove(gone) == oracle.remove(gone)
        readd = rng.integers(0, 25_000, 5)
        index.add(readd, hashes[(readd + 1) % 30_000])
        oracle.add(readd, hashes[(readd + 1) % 30_000])
        queries = hashes[rng.integers(0, 30_000, 8)]
        assert as_tuples(index.query(queries)) == as_tuples(oracle.query(queries))
    worker.join()
    queries = np.concatenate([hashes[rng.integers(0, 30_000, 100)], random_hashes(rng, 10)])
    assert as_tuples(index.query(queries)) == as_tuples(oracle.query(queries))
    assert len(index) == len(oracle)
    index.compact()
    assert index.stats().delta_entries == 0
    assert index.stats().removed_in_base == 0
    assert as_tuples(index.query(queries)) == as_tuples(oracle.query(queries))


def test_needs_compaction_after_many_adds() -> None:
    rng = np.random.default_rng(3)
    index = PdqIndex.build(np.arange(100), random_hashes(rng, 100))
    assert not index.needs_compaction
    index.add(np.arange(1000, 4000), random_hashes(rng, 3000))
    assert index.needs_compaction
    index.compact()
    assert not index.needs_compaction
    assert len(index) == 3100


def test_wide_ids_and_groups_are_kept_exactly() -> None:
    """Ids spanning more than 2**32 and groups above 255 take the wide storage; small ones the narrow."""
    rng = np.random.default_rng(4)
    hashes = random_hashes(rng, 600)
    ids = np.concatenate([np.arange(300) - 2**40, np.arange(300) + 2**50])
    groups = np.arange(600) % 300
    index = PdqIndex.build(ids, hashes, groups)
    base = index._state.base  # type: ignore[union-attr]
    assert (base.ids.dtype, base.groups.dtype) == (np.int64, np.uint16)
    oracle = ReferencePdqIndex()
    oracle.add(ids, hashes, groups)
    assert as_tuples(index.query(hashes[::7], threshold=0)) == as_tuples(
        oracle.query(hashes[::7], threshold=0)
    )
    got = index.query(hashes[[0, 599]], threshold=0)
    assert got.entry_id.tolist() == [-(2**40), 2**50 + 299]
    assert got.group.tolist() == [0, 299]
    assert index.remove([2**50 + 299, -(2**40)]) == 2
    assert len(index.query(hashes[[0, 599]], threshold=0)) == 0
    narrow = PdqIndex.build(np.arange(10) + 10**12, hashes[:10], 7)
    assert (narrow._state.base.ids.dtype, narrow._state.base.groups.dtype) == (np.uint32, np.uint8)  # type: ignore[union-attr]
    assert narrow.query_one(hashes[3], threshold=0)[0].entry_id == 10**12 + 3
    assert narrow.remove([10**12 + 3]) == 1
