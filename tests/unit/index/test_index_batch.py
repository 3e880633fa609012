"""The probe-major batch kernel (`mih_search_batch`) against the brute-force oracle and against the
query-at-a-time kernel (`mih_search`).

Small test indexes would run the batch kernel over a single region in a single sub-batch: the knobs
in `mih` are turned down so that the sweep crosses many regions and the queries many sub-batches.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from suraksha.signals.index import PdqIndex, ReferencePdqIndex, mih
from suraksha.signals.index._kernels import mih_search_batch
from suraksha.signals.index.hashes import hamming_distances
from suraksha.signals.index.mih import MihTables, flip_masks

from ._data import as_tuples, clustered_hashes, flip_bits, planted_queries, random_hashes, skewed_hashes

N = 6000
MAKERS = {"random": random_hashes, "clustered": clustered_hashes, "skewed": skewed_hashes}
# (region bytes, queries per sub-batch): many small regions and sub-batches, then the defaults
KNOBS = [(64, 100), (1024, 4096), (mih.REGION_BYTES, mih.MAX_BATCH)]


def _use_batch(monkeypatch: pytest.MonkeyPatch, region_bytes: int, max_batch: int) -> None:
    monkeypatch.setattr(mih, "BATCH_FROM", 1)
    monkeypatch.setattr(mih, "MIN_BATCH", 1)
    monkeypatch.setattr(mih, "REGION_BYTES", region_bytes)
    monkeypatch.setattr(mih, "MAX_BATCH", max_batch)


def _use_single(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mih, "BATCH_FROM", 1 << 62)


def _data(kind: str, seed: int, n: int = N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    hashes = MAKERS[kind](rng, n)
    ids = rng.permutation(10 * n)[:n].astype(np.int64) + 1
    groups = rng.integers(0, 4, n).astype(np.uint16)
    return ids, hashes, groups


def _queries(rng: np.random.Generator, hashes: np.ndarray, top: int, repeat: int = 6) -> np.ndarray:
    planted, _, _ = planted_queries(rng, hashes, list(range(top + 2)) * repeat)
    near = np.stack(
        [flip_bits(rng, hashes[i], int(rng.integers(0, 48))) for i in rng.integers(0, len(hashes), 60)]
    )
    return np.concatenate([planted, near, random_hashes(rng, 30), hashes[rng.integers(0, len(hashes), 10)]])


@pytest.mark.parametrize("knobs", KNOBS)
@pytest.mark.parametrize("kind", sorted(MAKERS))
@pytest.mark.parametrize("threshold", [0, 8, 31, 40])
def test_batch_kernel_matches_the_oracle(
    monkeypatch: pytest.MonkeyPatch, kind: str, threshold: int, knobs: tuple[int, int]
) -> None:
    _use_batch(monkeypatch, *knobs)
    ids, hashes, groups = _data(kind, seed=threshold)
    index = PdqIndex.build(ids, hashes, groups)
    oracle = ReferencePdqIndex()
    oracle.add(ids, hashes, groups)
    queries = _queries(np.random.default_rng(500 + threshold), hashes, threshold)
    assert as_tuples(index.query(queries, threshold=threshold)) == as_tuples(
        oracle.query(queries, threshold=threshold)
    )


@pytest.mark.parametrize("knobs", KNOBS[:2])
@pytest.mark.parametrize("thresholds", [{0: 31, 1: 10, 2: 0, 3: 40}, {2: 20}, {1: 8, 3: 31}])
def test_batch_kernel_per_group_thresholds_and_removed_rows(
    monkeypatch: pytest.MonkeyPatch, thresholds: dict[int, int], knobs: tuple[int, int]
) -> None:
    _use_batch(monkeypatch, *knobs)
    ids, hashes, groups = _data("clustered", seed=len(thresholds))
    index = PdqIndex.build(ids, hashes, groups)
    oracle = ReferencePdqIndex()
    oracle.add(ids, hashes, groups)
    rng = np.random.default_rng(7)
    gone = rng.choice(ids, 800, replace=False)
    assert index.remove(gone) == oracle.remove(gone) == 800
    queries = _queries(rng, hashes, 40)
    got = index.query(queries, threshold=thresholds)
    assert as_tuples(got) == as_tuples(oracle.query(queries, threshold=thresholds))
    assert not set(got.entry_id.tolist()) & set(gone.tolist())


@pytest.mark.parametrize("knobs", KNOBS[:2])
def test_batch_kernel_on_an_opened_snapshot(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, knobs: tuple[int, int]
) -> None:
    _use_batch(monkeypatch, *knobs)
    ids, hashes, groups = _data("clustered", seed=3)
    built = PdqIndex.build(ids, hashes, groups)
    built.save(tmp_path / "pdq.snap")
    opened = PdqIndex.open(tmp_path / "pdq.snap")
    assert not opened._require().base.fps.flags.writeable  # memory-mapped, read-only
    oracle = ReferencePdqIndex()
    oracle.add(ids, hashes, groups)
    queries = _queries(np.random.default_rng(4), hashes, 31)
    for threshold in (31, {0: 31, 2: 12}):
        expected = as_tuples(oracle.query(queries, threshold=threshold))
        assert as_tuples(opened.query(queries, threshold=threshold)) == expected
        assert as_tuples(built.query(queries, threshold=threshold)) == expected
    assert opened.remove(ids[:500]) == 500
    oracle.remove(ids[:500])
    assert as_tuples(opened.query(queries)) == as_tuples(oracle.query(queries))


@pytest.mark.parametrize("kind", sorted(MAKERS))
def test_batch_and_single_query_paths_agree(monkeypatch: pytest.MonkeyPatch, kind: str) -> None:
    ids, hashes, groups = _data(kind, seed=11)
    index = PdqIndex.build(ids, hashes, groups)
    queries = _queries(np.random.default_rng(12), hashes, 31, repeat=16)
    assert queries.shape[0] >= mih.BATCH_FROM  # the default choice runs the batch kernel
    batch = as_tuples(index.query(queries))
    _use_single(monkeypatch)
    single = as_tuples(index.query(queries))
    assert batch == single
    one_at_a_time = [(q, m.entry_id, m.distance) for q in range(40) for m in index.query_one(queries[q])]
    assert one_at_a_time == [x for x in batch if x[0] < 40]


@pytest.mark.parametrize("key_bits", [4, 8, 13, 18])
@pytest.mark.parametrize("row_bytes", [3, 4])
def test_batch_kernel_equals_the_single_kernel_for_every_layout(
    monkeypatch: pytest.MonkeyPatch, key_bits: int, row_bytes: int
) -> None:
    """Long buckets (small keys: window and binary search), short ones (wide keys, fingerprints
    under 8 bits), 3- and 4-byte row numbers; results are the same triples, each once."""
    rng = np.random.default_rng(key_bits)
    hashes = clustered_hashes(rng, 3000, spread=30)
    base = MihTables.build(
        np.arange(3000, dtype=np.int64),
        hashes.view("<u8"),
        np.zeros(3000, np.uint16),
        key_bits=key_bits,
        row_bytes=row_bytes,
    )
    queries = _queries(rng, hashes, 40, repeat=3).view("<u8")
    dead = np.zeros(375, np.uint8)
    dead[rng.integers(0, 375, 40)] = rng.integers(0, 256, 40).astype(np.uint8)
    for threshold in (0, 12, 31, 40):
        table = np.array([threshold])
        _use_single(monkeypatch)
        single = base.search(queries, table, threshold, dead, method="probe")
        _use_batch(monkeypatch, 256, 64)
        batch = base.search(queries, table, threshold, dead, method="probe")
        assert [a.tolist() for a in batch] == [a.tolist() for a in single]
        expected = set()
        for q in range(queries.shape[0]):
            distances = hamming_distances(
                queries.view(np.uint8)[q], base.hashes.view(np.uint8).reshape(-1, 32)
            )
            live = (dead[np.arange(3000) >> 3] >> (np.arange(3000) & 7)) & 1 == 0
            expected |= {
                (q, int(r), int(distances[r])) for r in np.flatnonzero((distances <= threshold) & live)
            }
        triples = list(zip(*[a.tolist() for a in batch], strict=True))
        assert len(triples) == len(set(triples))
        assert set(triples) == expected


def test_batch_kernel_with_one_query_per_sub_batch_and_one_region() -> None:
    rng = np.random.default_rng(5)
    hashes = random_hashes(rng, 2000)
    base = MihTables.build(np.arange(2000, dtype=np.int64), hashes.view("<u8"), np.zeros(2000, np.uint16))
    queries, rows, _ = planted_queries(rng, hashes, list(range(32)))
    plan = base.plan(31)
    masks, mask_starts = flip_masks(base.key_bits, int(plan.radii.max()))  # as search(method="probe")
    layout = base.layout
    dead = np.zeros(250, np.uint8)
    results = []
    for batch, region_bits in ((1, base.key_bits), (7, 0), (1000, 3)):
        got = mih_search_batch(
            base.hashes, base.groups, dead, base.offsets, base.fps, base.positions, base.row_bytes,
            base.key_bits, layout.start, layout.bits, layout.fp_bits, layout.fp_shift, plan.order,
            plan.radii, masks, mask_starts, queries.view("<u8"), np.array([31]), 31, batch,
            region_bits,
        )  # fmt: skip
        results.append(sorted(zip(*[a.tolist() for a in got], strict=True)))
        found = {(q, r) for q, r, _ in results[-1]}
        planted_rows = base.rows_of(np.asarray(rows))
        assert all((q, int(planted_rows[q])) in found for q in range(32))
    assert results[0] == results[1] == results[2]
