"""Snapshots: round trip through a memory map, and clear errors for damaged or foreign files."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from suraksha.signals.index import (
    DigestIndex,
    PdqIndex,
    SnapshotError,
    SnapshotVersionError,
)
from suraksha.signals.index.snapshot import read_snapshot

from ._data import as_tuples, clustered_hashes, planted_queries


@pytest.fixture(scope="module")
def built() -> tuple[PdqIndex, np.ndarray]:
    rng = np.random.default_rng(21)
    hashes = clustered_hashes(rng, 4000)
    index = PdqIndex.build(np.arange(4000) * 2, hashes, rng.integers(0, 3, 4000))
    return index, hashes


@pytest.fixture
def snapshot(built: tuple[PdqIndex, np.ndarray], tmp_path: Path) -> Path:
    path = tmp_path / "pdq.snap"
    built[0].save(path)
    return path


def test_round_trip_is_memory_mapped_and_answers_the_same(
    built: tuple[PdqIndex, np.ndarray], snapshot: Path
) -> None:
    index, hashes = built
    opened = PdqIndex.open(snapshot)
    queries, _, _ = planted_queries(np.random.default_rng(1), hashes, list(range(40)) * 2)
    for threshold in (31, {0: 20, 2: 40}):
        assert as_tuples(opened.query(queries, threshold=threshold)) == as_tuples(
            index.query(queries, threshold=threshold)
        )
    stored = read_snapshot(snapshot, kind="pdq").arrays["hashes"]
    assert isinstance(stored.base, np.memmap) or isinstance(stored, np.memmap)
    assert not stored.flags.writeable
    # removals on the opened copy work (tombstones live in memory, the map stays read-only)
    first = opened.query(queries[:1], threshold=0)
    assert opened.remove(first.entry_id) == len(first)
    assert len(opened.query(queries[:1], threshold=0)) == 0


def test_pending_changes_survive_a_save(built: tuple[PdqIndex, np.ndarray], tmp_path: Path) -> None:
    index, hashes = built
    copy = PdqIndex.open(_save(index, tmp_path / "a.snap"))
    copy.remove([0, 2, 4])
    copy.add([1, 3], hashes[:2], 9)
    reopened = PdqIndex.open(_save(copy, tmp_path / "b.snap"))
    assert as_tuples(reopened.query(hashes[:4], threshold=0)) == as_tuples(
        copy.query(hashes[:4], threshold=0)
    )
    found = {m.entry_id for m in reopened.query_one(hashes[0], threshold=0)}
    assert 1 in found
    assert 0 not in found
    compacted = PdqIndex.open(copy.save(tmp_path / "c.snap", compact=True).path)
    assert compacted.stats().delta_entries == 0
    assert as_tuples(compacted.query(hashes[:4], threshold=0)) == as_tuples(
        copy.query(hashes[:4], threshold=0)
    )


def _save(index: PdqIndex, path: Path) -> Path:
    index.save(path)
    return path


def _rewrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(offset)
        f.write(data)


def test_flipped_byte_in_an_array_is_reported(snapshot: Path) -> None:
    size = snapshot.stat().st_size
    with open(snapshot, "rb") as f:
        f.seek(size - 100)
        byte = f.read(1)
    _rewrite(snapshot, size - 100, bytes([byte[0] ^ 0x10]))
    with pytest.raises(SnapshotError, match="corrupted"):
        PdqIndex.open(snapshot)
    # without verification the damage goes unnoticed: that is what verify is for
    PdqIndex.open(snapshot, verify=False)


def test_damaged_header_is_reported(snapshot: Path) -> None:
    _rewrite(snapshot, 30, b"X")
    with pytest.raises(SnapshotError, match="header"):
        PdqIndex.open(snapshot)


def test_truncated_snapshot_is_reported(snapshot: Path) -> None:
    data = snapshot.read_bytes()
    snapshot.write_bytes(data[: len(data) - 4096])
    with pytest.raises(SnapshotError, match="truncated"):
        PdqIndex.open(snapshot)
    snapshot.write_bytes(data[:10])
    with pytest.raises(SnapshotError, match="truncated"):
        PdqIndex.open(snapshot)


def test_other_format_version_is_reported(snapshot: Path) -> None:
    _rewrite(snapshot, 8, struct.pack("<I", 99))
    with pytest.raises(SnapshotVersionError, match="version 99"):
        PdqIndex.open(snapshot)


def test_foreign_files_are_reported(tmp_path: Path, snapshot: Path) -> None:
    other = tmp_path / "notes.txt"
    other.write_text("hello, this is not an index\n" * 10)
    with pytest.raises(SnapshotError, match="not a Suraksha index snapshot"):
        PdqIndex.open(other)
    with pytest.raises(SnapshotError, match="does not exist"):
        PdqIndex.open(tmp_path / "missing.snap")
    with pytest.raises(SnapshotError, match="not a 'digest' index"):
        DigestIndex.open(snapshot)


def test_consistent_checksums_but_wrong_shapes_are_reported(snapshot: Path) -> None:
    """A header edited to lie about the arrays (checksums recomputed) still does not load."""
    data = bytearray(snapshot.read_bytes())
    length = struct.unpack_from("<I", data, 12)[0]
    header = json.loads(bytes(data[24 : 24 + length]))
    header["params"]["row_bytes"] = 4  # was 3: the row arrays no longer fit
    new = json.dumps(header, sort_keys=True).encode()
    assert len(new) == length
    data[24 : 24 + length] = new
    struct.pack_into("<I", data, 16, zlib.crc32(new))
    snapshot.write_bytes(bytes(data))
    with pytest.raises(SnapshotError, match="inconsistent"):
        PdqIndex.open(snapshot)


def test_write_is_atomic_and_leaves_no_temporary_files(
    built: tuple[PdqIndex, np.ndarray], tmp_path: Path
) -> None:
    index, _ = built
    path = tmp_path / "pdq.snap"
    first = index.save(path)
    second = index.save(path)
    assert first.snapshot_id != second.snapshot_id
    assert [p.name for p in tmp_path.iterdir()] == ["pdq.snap"]
    assert PdqIndex.open(path).stats().snapshot == second.snapshot_id
