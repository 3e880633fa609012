"""The PDQ match index: exact Hamming-distance search, incremental, snapshot-backed.

    index = PdqIndex.build(ids, hashes, groups)          # or PdqIndex.open(path)
    matches = index.query(batch, threshold={1: 31, 2: 20})  # per-group thresholds
    index.add(ids, hashes, groups); index.remove(ids)     # effective at once, no rebuild
    index.compact(); index.save(path)

State: an immutable base (`MihTables`), a tombstone bitmap over base rows, and a small delta of
added entries (searched by brute force). Adds are upserts (an id added again replaces its old
entry), so replaying a change log twice is harmless. Compaction builds a new base aside from the
live entries and swaps one reference; queries running meanwhile finish on the old state, and adds or
removals made meanwhile are carried over.

Thread safety: queries take no lock (the kernels release the GIL); add, remove and compact
serialise on a lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from suraksha.errors import InvalidInput
from suraksha.signals.index import _bitmap, _kernels
from suraksha.signals.index.errors import IndexNotReady, SnapshotError
from suraksha.signals.index.hashes import as_group_array, as_hash_array, as_id_array, as_words
from suraksha.signals.index.mih import MihTables, Words
from suraksha.signals.index.results import PdqMatch, PdqMatches
from suraksha.signals.index.snapshot import SnapshotInfo, read_snapshot, write_snapshot

SNAPSHOT_KIND = "pdq"
DEFAULT_THRESHOLD = 31
MAX_THRESHOLD = 256

Thresholds = int | Mapping[int, int]


@dataclass(frozen=True, eq=False)
class _DeltaView:
    """Added entries in slots [0, count); published as a whole so a query sees a consistent view."""

    ids: npt.NDArray[np.int64]
    hashes: Words
    groups: npt.NDArray[np.uint16]
    dead: npt.NDArray[np.uint8]
    count: int

    @classmethod
    def empty(cls, capacity: int = 1024) -> _DeltaView:
        return cls(
            np.zeros(capacity, np.int64),
            np.zeros((capacity, 4), np.uint64),
            np.zeros(capacity, np.uint16),
            _bitmap.empty(capacity),
            0,
        )

    def live(self) -> npt.NDArray[np.bool_]:
        return _bitmap.live_rows(self.dead, self.count)[: self.count]


@dataclass(eq=False)
class _State:
    base: MihTables
    dead: npt.NDArray[np.uint8]
    n_dead: int
    delta: _DeltaView
    delta_slots: dict[int, int]
    max_group: int
    source: SnapshotInfo | None = None

    @property
    def live_count(self) -> int:
        return self.base.n - self.n_dead + len(self.delta_slots)


@dataclass(frozen=True)
class PdqIndexStats:
    entries: int
    base_entries: int
    removed_in_base: int
    delta_entries: int
    key_bits: int
    nbytes: int
    snapshot: str | None


@dataclass
class _Journal:
    removed: list[npt.NDArray[np.int64]] = field(default_factory=list)


class PdqIndex:
    """Exact PDQ match index. A new `PdqIndex()` is not loaded: querying it raises IndexNotReady."""

    search_method: Literal["auto", "probe", "scan"] = "auto"
    """How the base is searched: "auto" (the cost model picks), or forced (tests, benchmarks)."""

    def __init__(self) -> None:
        self._state: _State | None = None
        self._lock = threading.RLock()
        self._compaction_lock = threading.Lock()
        self._journal: _Journal | None = None
        self._threshold_cache: dict[tuple[Any, int], tuple[npt.NDArray[np.int64], int]] = {}

    # -- lifecycle -------------------------------------------------------------------------------

    @classmethod
    def build(cls, ids: Any, hashes: Any, groups: Any = 0, *, key_bits: int | None = None) -> PdqIndex:
        """Build from unique entry ids, 32-byte hashes (array, bytes or hex) and uint16 group ids."""
        id_array = as_id_array(ids)
        hash_array = as_hash_array(hashes) if len(id_array) else np.zeros((0, 32), np.uint8)
        if hash_array.shape[0] != id_array.shape[0]:
            raise InvalidInput(f"{id_array.shape[0]} ids but {hash_array.shape[0]} hashes")
        group_array = as_group_array(groups, id_array.shape[0])
        base = MihTables.build(id_array, as_words(hash_array), group_array, key_bits=key_bits)
        index = cls()
        index._state = _new_state(base)
        return index

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, verify: bool = True) -> PdqIndex:
        """Open a snapshot written by `save`: memory-mapped read-only, nothing rebuilt."""
        snapshot = read_snapshot(path, kind=SNAPSHOT_KIND, verify=verify)
        try:
            base = MihTables.from_arrays(snapshot.arrays, snapshot.info.params)
            dead = np.array(snapshot.arrays["dead"], dtype=np.uint8)
            if dead.shape != ((base.n + 7) // 8,):
                raise ValueError("tombstone bitmap does not match the entry count")
            delta_ids = np.array(snapshot.arrays["delta_ids"], dtype=np.int64)
            delta_hashes = np.array(snapshot.arrays["delta_hashes"], dtype=np.uint64).reshape(-1, 4)
            delta_groups = np.array(snapshot.arrays["delta_groups"], dtype=np.uint16)
        except (KeyError, ValueError) as exc:
            raise SnapshotError(f"index snapshot {path} is inconsistent ({exc}); rebuild it") from exc
        state = _new_state(base, dead=dead)
        state.source = snapshot.info
        index = cls()
        index._state = state
        if delta_ids.shape[0]:
            index.add(delta_ids, delta_hashes.view(np.uint8).reshape(-1, 32), delta_groups)
        return index

    def save(self, path: str | os.PathLike[str], *, compact: bool = False) -> SnapshotInfo:
        """Write the current state (base, tombstones, delta) atomically; `compact` first if asked."""
        if compact:
            self.compact()
        with self._lock:
            state = self._require()
            live = state.delta.live()
            delta = state.delta
            arrays = dict(state.base.arrays())
            arrays["dead"] = state.dead.copy()
            arrays["delta_ids"] = delta.ids[: delta.count][live]
            arrays["delta_hashes"] = delta.hashes[: delta.count][live]
            arrays["delta_groups"] = delta.groups[: delta.count][live]
        return write_snapshot(path, SNAPSHOT_KIND, state.base.params(), arrays)

    def close(self) -> None:
        """Drop the loaded state (and its memory maps); later queries raise IndexNotReady."""
        with self._lock:
            self._state = None

    @property
    def ready(self) -> bool:
        return self._state is not None

    def _require(self) -> _State:
        state = self._state
        if state is None:
            raise IndexNotReady("the PDQ index is not loaded: open a snapshot or build it before querying")
        return state

    def __len__(self) -> int:
        return self._require().live_count

    def __contains__(self, entry_id: object) -> bool:
        if not isinstance(entry_id, int | np.integer):
            return False
        state = self._require()
        if int(entry_id) in state.delta_slots:
            return True
        row = int(state.base.rows_of(np.array([entry_id], np.int64))[0])
        return row >= 0 and not bool(_bitmap.is_set(state.dead, np.array([row]))[0])

    def stats(self) -> PdqIndexStats:
        state = self._require()
        delta = state.delta
        nbytes = state.base.nbytes + state.dead.nbytes + delta.ids.nbytes + delta.hashes.nbytes
        return PdqIndexStats(
            entries=state.live_count,
            base_entries=state.base.n,
            removed_in_base=state.n_dead,
            delta_entries=len(state.delta_slots),
            key_bits=state.base.key_bits,
            nbytes=nbytes,
            snapshot=None if state.source is None else state.source.snapshot_id,
        )

    @property
    def needs_compaction(self) -> bool:
        """True when the delta or the tombstones have grown enough to slow queries noticeably."""
        state = self._require()
        delta_large = state.delta.count > max(2048, state.base.n // 1024)
        return delta_large or state.n_dead > max(1024, state.base.n // 8)

    # -- queries ---------------------------------------------------------------------------------

    def query(self, hashes: Any, *, threshold: Thresholds = DEFAULT_THRESHOLD) -> PdqMatches:
        """Every live entry within the threshold of each query, with its distance.

        `hashes`: (n, 32) uint8, or hex strings / bytes; (n, v, 32) gives v variants per query (the
        8 dihedral variants for rotation-aware matching): each entry is reported once per query with
        its best distance and the variant that gave it. `threshold`: one int for every group, or
        {group: threshold} (groups not listed are not matched).
        """
        state = self._require()
        batch = as_hash_array(hashes, max_dims=3)
        n_variants = batch.shape[1] if batch.ndim == 3 else 1
        words = as_words(batch.reshape(-1, 32))
        table, max_threshold = self._threshold_table(threshold, state.max_group)
        sub, rows, distance = state.base.search(
            words, table, max_threshold, state.dead, method=self.search_method
        )
        entry_id = state.base.entry_ids(rows)
        group = state.base.group_ids(rows)
        delta = state.delta
        if delta.count and max_threshold >= 0:
            d_sub, d_rows, d_distance = _kernels.scan_search(
                delta.hashes[: delta.count], delta.groups, delta.dead, words, table, max_threshold
            )
            if d_sub.shape[0]:
                sub = np.concatenate([sub, d_sub])
                distance = np.concatenate([distance, d_distance])
                entry_id = np.concatenate([entry_id, delta.ids[d_rows]])
                group = np.concatenate([group, delta.groups[d_rows]])
        variant: npt.NDArray[np.int64] | None = None
        query_index = sub
        if batch.ndim == 3 and n_variants == 1:
            # one variant per query (how the pipeline asks when rotations are off): nothing to merge
            variant = np.zeros(sub.shape[0], dtype=np.int64)
        elif batch.ndim == 3:
            query_index, variant = np.divmod(sub, n_variants)
            # best variant per (query, entry): smallest distance, then lowest variant
            order = np.lexsort((variant, distance, entry_id, query_index))
            first = np.ones(order.shape[0], dtype=bool)
            first[1:] = (query_index[order][1:] != query_index[order][:-1]) | (
                entry_id[order][1:] != entry_id[order][:-1]
            )
            order = order[first]
            query_index, entry_id, distance = query_index[order], entry_id[order], distance[order]
            group, variant = group[order], variant[order]
        if query_index.shape[0] > 1:
            order = np.lexsort((entry_id, distance, query_index))
            query_index, entry_id, distance = query_index[order], entry_id[order], distance[order]
            group = group[order]
            variant = None if variant is None else variant[order]
        return PdqMatches(query_index, entry_id, distance, group, variant)

    def query_one(
        self, hash_or_variants: Any, *, threshold: Thresholds = DEFAULT_THRESHOLD
    ) -> list[PdqMatch]:
        """Matches of one hash (hex, bytes or a (32,) array), or of one query's variants given as a
        list of hashes or a (v, 32) array (then each match says which variant was closest)."""
        batch = as_hash_array(hash_or_variants)
        if isinstance(hash_or_variants, list | tuple) or (
            isinstance(hash_or_variants, np.ndarray) and hash_or_variants.ndim == 2
        ):
            batch = batch.reshape(1, -1, 32)
        return self.query(batch, threshold=threshold).for_query(0)

    def _threshold_table(self, threshold: Thresholds, max_group: int) -> tuple[npt.NDArray[np.int64], int]:
        key: Any = threshold if isinstance(threshold, int) else tuple(sorted(threshold.items()))
        cached = self._threshold_cache.get((key, max_group))
        if cached is not None:
            return cached
        if isinstance(threshold, int | np.integer):
            _check_threshold(int(threshold))
            table = np.full(max_group + 1, int(threshold), dtype=np.int64)
            result = (table, int(threshold))
        else:
            size = max([max_group, *threshold.keys()]) + 1 if threshold else max_group + 1
            table = np.full(size, -1, dtype=np.int64)
            for group, value in threshold.items():
                if not 0 <= int(group) <= 0xFFFF:
                    raise InvalidInput(f"group ids are between 0 and 65535, not {group}")
                _check_threshold(int(value))
                table[int(group)] = int(value)
            result = (table, int(table.max()) if table.size else -1)
        if len(self._threshold_cache) > 256:
            self._threshold_cache.clear()
        self._threshold_cache[(key, max_group)] = result
        return result

    # -- changes ---------------------------------------------------------------------------------

    def add(self, ids: Any, hashes: Any, groups: Any = 0) -> None:
        """Add (or replace) entries; they match from the next query on."""
        id_array = as_id_array(ids)
        if id_array.shape[0] == 0:
            return
        hash_array = as_hash_array(hashes)
        if hash_array.shape[0] != id_array.shape[0]:
            raise InvalidInput(f"{id_array.shape[0]} ids but {hash_array.shape[0]} hashes")
        group_array = as_group_array(groups, id_array.shape[0])
        # the same id twice in one call: the last one wins, as if added one after the other
        _, last = np.unique(id_array[::-1], return_index=True)
        keep = np.sort(id_array.shape[0] - 1 - last)
        id_array, group_array = id_array[keep], group_array[keep]
        words = as_words(hash_array)[keep]
        with self._lock:
            state = self._require()
            self._remove_locked(state, id_array)
            _append(state, id_array, words, group_array)

    def remove(self, ids: Any) -> int:
        """Remove entries by id (unknown ids are ignored); returns how many were removed."""
        id_array = as_id_array(ids)
        with self._lock:
            return self._remove_locked(self._require(), id_array)

    def _remove_locked(self, state: _State, ids: npt.NDArray[np.int64]) -> int:
        if ids.shape[0] == 0:
            return 0
        if self._journal is not None:
            self._journal.removed.append(ids.copy())
        rows = state.base.rows_of(ids)
        removed = _bitmap.set_rows(state.dead, rows[rows >= 0])
        state.n_dead += removed
        slots = [state.delta_slots.pop(i) for i in ids.tolist() if i in state.delta_slots]
        if slots:
            removed += _bitmap.set_rows(state.delta.dead, np.array(slots, dtype=np.int64))
        return removed

    def compact(self) -> None:
        """Merge the delta and drop tombstones into a new base, built aside; then swap it in.

        Safe to run in a background thread: queries keep using the old state until the swap, and
        adds or removals made while the new base is built are applied to it before the swap.
        """
        with self._compaction_lock:
            with self._lock:
                state = self._require()
                if state.n_dead == 0 and state.delta.count == 0:
                    return
                cut = state.delta
                base = state.base
                base_live = _bitmap.live_rows(state.dead, base.n)
                delta_live = cut.live()
                self._journal = _Journal()
            try:
                ids = np.concatenate([base.entry_ids(base_live), cut.ids[: cut.count][delta_live]])
                words = np.concatenate([base.hashes[base_live], cut.hashes[: cut.count][delta_live]])
                groups = np.concatenate([base.group_ids(base_live), cut.groups[: cut.count][delta_live]])
                new_base = MihTables.build(ids, words, groups)
                del ids, words, groups
            except BaseException:
                with self._lock:
                    self._journal = None
                raise
            with self._lock:
                journal, self._journal = self._journal, None
                current = self._require()
                new_state = _new_state(new_base)
                for removed in journal.removed:
                    rows = new_base.rows_of(removed)
                    new_state.n_dead += _bitmap.set_rows(new_state.dead, rows[rows >= 0])
                # entries added while the new base was built
                tail = current.delta
                slots = np.arange(cut.count, tail.count, dtype=np.int64)
                slots = slots[~_bitmap.is_set(tail.dead, slots)]
                if slots.size:
                    _append(new_state, tail.ids[slots], tail.hashes[slots], tail.groups[slots])
                new_state.max_group = max(new_state.max_group, current.max_group)
                self._state = new_state


def _append(state: _State, ids: npt.NDArray[np.int64], words: Words, groups: npt.NDArray[np.uint16]) -> None:
    """Append entries (ids not live anywhere in `state`) to its delta and publish the new view."""
    delta = state.delta
    count = delta.count + ids.shape[0]
    if count > delta.ids.shape[0]:
        capacity = max(count, 2 * delta.ids.shape[0])
        extra = capacity - delta.count
        delta = _DeltaView(
            np.concatenate([delta.ids[: delta.count], np.zeros(extra, np.int64)]),
            np.concatenate([delta.hashes[: delta.count], np.zeros((extra, 4), np.uint64)]),
            np.concatenate([delta.groups[: delta.count], np.zeros(extra, np.uint16)]),
            _bitmap.grown(delta.dead, capacity),
            delta.count,
        )
    delta.ids[delta.count : count] = ids
    delta.hashes[delta.count : count] = words
    delta.groups[delta.count : count] = groups
    for slot, entry_id in enumerate(ids.tolist(), start=delta.count):
        state.delta_slots[entry_id] = slot
    state.max_group = max(state.max_group, int(groups.max()))
    state.delta = _DeltaView(delta.ids, delta.hashes, delta.groups, delta.dead, count)


def _check_threshold(value: int) -> None:
    if not 0 <= value <= MAX_THRESHOLD:
        raise InvalidInput(f"a PDQ threshold is a distance between 0 and {MAX_THRESHOLD}, not {value}")


def _new_state(base: MihTables, *, dead: npt.NDArray[np.uint8] | None = None) -> _State:
    bitmap = _bitmap.empty(base.n) if dead is None else dead
    n_dead = int(np.bitwise_count(bitmap).sum()) if dead is not None else 0
    max_group = int(base.groups.max()) if base.n else 0
    return _State(base, bitmap, n_dead, _DeltaView.empty(), {}, max_group)
