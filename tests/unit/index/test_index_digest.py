"""Exact digest index (MD5, SHA-256) against a plain dict."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from suraksha.signals.index import DigestIndex, IndexNotReady, InvalidHash


def _digests(algorithm: str, n: int, salt: str = "") -> list[bytes]:
    return [hashlib.new(algorithm, f"{salt}{i}".encode()).digest() for i in range(n)]


def _expected(table: dict[int, tuple[bytes, int]], query: bytes, groups: set[int] | None = None) -> list[int]:
    return sorted(i for i, (d, g) in table.items() if d == query and (groups is None or g in groups))


@pytest.mark.parametrize(("algorithm", "size"), [("md5", 16), ("sha256", 32)])
def test_lookups_add_remove_compact_snapshot(algorithm: str, size: int, tmp_path: Path) -> None:
    rng = np.random.default_rng(size)
    values = _digests(algorithm, 3000)
    # some digests shared by several entries (the same file in two banks)
    table = {i: (values[i % 2500], i % 4) for i in range(3000)}
    index = DigestIndex.build(
        list(table), [d for d, _ in table.values()], [g for _, g in table.values()], digest_size=size
    )
    queries = [values[i] for i in rng.integers(0, 2500, 50)] + _digests(algorithm, 10, salt="absent")

    def check() -> None:
        got = index.lookup(queries)
        for q, query in enumerate(queries):
            assert [m.entry_id for m in got.for_query(q)] == _expected(table, query)
        some = {1, 3}
        for query in queries:  # present, absent, and (after adds) only in the delta
            assert [m.entry_id for m in index.lookup_one(query, groups=some)] == _expected(table, query, some)
            assert [m.entry_id for m in index.lookup_one(query)] == _expected(table, query)
        assert len(index) == len(table)

    check()
    for step in range(3):
        gone = [int(i) for i in rng.integers(0, 3500, 200)]
        assert index.remove(gone) == sum(table.pop(i, None) is not None for i in set(gone))
        new = {
            int(i): (values[int(rng.integers(0, 2500))], int(rng.integers(0, 4)))
            for i in rng.integers(0, 4000, 150)
        }
        index.add(list(new), [d for d, _ in new.values()], [g for _, g in new.values()])
        table.update(new)
        check()
        if step == 1:
            index.compact()
            check()
    path = tmp_path / f"{algorithm}.snap"
    index.save(path)
    index = DigestIndex.open(path)
    check()
    index.compact()
    check()


def test_not_ready_and_bad_digests() -> None:
    with pytest.raises(IndexNotReady):
        DigestIndex(16).lookup([b"\0" * 16])
    index = DigestIndex.build([1], [b"\1" * 16], digest_size=16)
    with pytest.raises(InvalidHash):
        index.lookup([b"\1" * 32])
    assert index.lookup_one("01" * 16) == index.lookup_one(b"\1" * 16)
    index.close()
    with pytest.raises(IndexNotReady):
        index.lookup_one(b"\1" * 16)
