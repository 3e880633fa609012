"""Sharing an index between processes through a snapshot folder and its change log."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from suraksha.errors import Conflict
from suraksha.signals.index import IndexDirectory, IndexNotReady, PdqIndex

from ._data import random_hashes

N = 3000


def _hashes() -> np.ndarray:
    return random_hashes(np.random.default_rng(42), N + 100)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    hashes = _hashes()
    IndexDirectory.pdq(tmp_path / "pdq").publish(PdqIndex.build(np.arange(N), hashes[:N]))
    return tmp_path / "pdq"


def _ids(index: PdqIndex, value: np.ndarray) -> list[int]:
    return [m.entry_id for m in index.query_one(value, threshold=0)]


def test_follower_sees_adds_and_removals_after_its_poll(folder: Path) -> None:
    hashes = _hashes()
    directory = IndexDirectory.pdq(folder)
    follower = directory.follower(poll_interval=0.0)
    assert _ids(follower.index, hashes[5]) == [5]
    directory.record_remove([5])
    directory.record_add([N + 1], hashes[N + 1 : N + 2], 2)
    assert _ids(follower.index, hashes[5]) == []
    assert _ids(follower.index, hashes[N + 1]) == [N + 1]
    # a slow poll interval: the change waits for the next poll, never longer
    slow = directory.follower(poll_interval=60.0)
    assert _ids(slow.index, hashes[6]) == [6]
    directory.record_remove([6])
    assert _ids(slow.index, hashes[6]) == [6]
    assert slow.refresh()
    assert _ids(slow.index, hashes[6]) == []


def test_publish_carries_over_changes_recorded_meanwhile(folder: Path) -> None:
    hashes = _hashes()
    directory = IndexDirectory.pdq(folder)
    follower = directory.follower(poll_interval=0.0)
    directory.record_remove([1, 2])
    index, position = directory.load()
    # recorded after the position the compacted index was built from: must survive the switch
    directory.record_remove([3])
    directory.record_add([N + 7], hashes[N + 7 : N + 8])
    index.compact()
    new_position = directory.publish(index, through=position)
    assert new_position.generation == position.generation + 1
    assert directory.position() > new_position
    for entry, expected in [(1, []), (2, []), (3, []), (4, [4]), (N + 7, [N + 7])]:
        assert _ids(follower.index, hashes[entry]) == expected
    assert follower.position == directory.position()
    # a publish based on an older generation is refused rather than losing changes
    with pytest.raises(Conflict):
        directory.publish(index, through=position)
    directory.compact()
    assert _ids(follower.index, hashes[3]) == []
    assert len(list(folder.glob("*.snap"))) <= 2


def test_follower_without_snapshot_or_refresh_is_not_ready(tmp_path: Path, folder: Path) -> None:
    with pytest.raises(IndexNotReady):
        _ = IndexDirectory.pdq(tmp_path / "empty").follower().index
    follower = IndexDirectory.pdq(folder).follower(poll_interval=0.0, max_staleness=0.2)
    assert follower.index is not None
    (folder / "CURRENT").write_text("{not json")
    time.sleep(0.3)
    with pytest.raises(IndexNotReady, match="not been refreshed"):
        _ = follower.index


def _serve(folder: str, entry: int, ready: Any, seen_at: Any) -> None:
    """Process A: serve queries from the shared folder until the entry stops matching."""
    hashes = _hashes()
    follower = IndexDirectory.pdq(folder).follower(poll_interval=1.0)
    assert _ids(follower.index, hashes[entry]) == [entry]
    ready.set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _ids(follower.index, hashes[entry]) == []:
            seen_at.value = time.time()
            return
        time.sleep(0.05)


def _disable(folder: str, entry: int, done_at: Any) -> None:
    """Process B: disable the entry (one log record), as a bank service would."""
    IndexDirectory.pdq(folder).record_remove([entry])
    done_at.value = time.time()


def test_removal_in_one_process_is_seen_by_another_within_ten_seconds(folder: Path) -> None:
    context = multiprocessing.get_context("spawn")
    ready = context.Event()
    seen_at = context.Value("d", 0.0)
    done_at = context.Value("d", 0.0)
    server = context.Process(target=_serve, args=(str(folder), 17, ready, seen_at))
    server.start()
    try:
        assert ready.wait(60), "the serving process did not start"
        writer = context.Process(target=_disable, args=(str(folder), 17, done_at))
        writer.start()
        writer.join(60)
        server.join(40)
    finally:
        server.kill()
    assert writer.exitcode == 0
    assert server.exitcode == 0
    assert done_at.value > 0
    assert seen_at.value > 0, "the removal never became visible to the serving process"
    assert seen_at.value - done_at.value < 10
