"""Exact-digest index (MD5, SHA-256): digest -> entry ids, with the PDQ index's lifecycle.

The base is sorted by the digest's first 8 bytes (big-endian, so the order is the bytes' order);
a lookup is a binary search plus a full-digest comparison. Adds go to a dict (upserts, as in
`PdqIndex`), removals set a tombstone bit; `compact` rebuilds the base aside and swaps it in.
Snapshots use the same format as the PDQ index (kind "digest").
"""

from __future__ import annotations

import os
import threading
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from suraksha.errors import InvalidInput
from suraksha.signals.index import _bitmap
from suraksha.signals.index.errors import IndexNotReady, SnapshotError
from suraksha.signals.index.hashes import as_group_array, as_hash_array, as_id_array
from suraksha.signals.index.results import DigestMatch, DigestMatches
from suraksha.signals.index.snapshot import SnapshotInfo, read_snapshot, write_snapshot

SNAPSHOT_KIND = "digest"
DIGEST_SIZES = {"md5": 16, "sha1": 20, "sha256": 32}


def _keys(digests: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint64]:
    prefix = np.zeros((digests.shape[0], 8), dtype=np.uint8)
    width = min(8, digests.shape[1])
    prefix[:, :width] = digests[:, :width]
    keys: npt.NDArray[np.uint64] = prefix.view(">u8").reshape(-1).astype(np.uint64)
    return keys


@dataclass(frozen=True, eq=False)
class _Base:
    keys: npt.NDArray[np.uint64]
    digests: npt.NDArray[np.uint8]
    ids: npt.NDArray[np.int64]
    groups: npt.NDArray[np.uint16]
    id_sorted: npt.NDArray[np.int64]
    id_rows: npt.NDArray[np.uint32]

    @property
    def n(self) -> int:
        return int(self.ids.shape[0])

    @classmethod
    def build(
        cls, ids: npt.NDArray[np.int64], digests: npt.NDArray[np.uint8], groups: npt.NDArray[np.uint16]
    ) -> _Base:
        keys = _keys(digests)
        order = np.argsort(keys, kind="stable")
        ids = ids[order]
        id_order = np.argsort(ids, kind="stable")
        id_sorted = ids[id_order]
        if id_sorted.shape[0] > 1 and bool(np.any(id_sorted[1:] == id_sorted[:-1])):
            duplicate = int(id_sorted[1:][id_sorted[1:] == id_sorted[:-1]][0])
            raise InvalidInput(f"entry id {duplicate} is given twice; ids in an index must be unique")
        return cls(
            keys[order],
            np.ascontiguousarray(digests[order]),
            ids,
            groups[order],
            id_sorted,
            id_order.astype(np.uint32),
        )

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        return {
            "keys": self.keys,
            "digests": self.digests,
            "ids": self.ids,
            "groups": self.groups,
            "id_sorted": self.id_sorted,
            "id_rows": self.id_rows,
        }

    def rows_of(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        if self.n == 0:
            return np.full(ids.shape, -1, dtype=np.int64)
        at = np.searchsorted(self.id_sorted, ids).clip(0, self.n - 1)
        return np.where(self.id_sorted[at] == ids, self.id_rows[at].astype(np.int64), -1)


@dataclass(eq=False)
class _State:
    base: _Base
    dead: npt.NDArray[np.uint8]
    n_dead: int
    delta: dict[bytes, dict[int, int]] = field(default_factory=dict)
    """digest -> {entry id: group} of added entries."""
    delta_ids: dict[int, bytes] = field(default_factory=dict)
    delta_seq: dict[int, int] = field(default_factory=dict)
    """When each added entry was added (a counter): compaction carries over those added after its cut."""
    next_seq: int = 0
    source: SnapshotInfo | None = None


class DigestIndex:
    """Exact match on a digest of fixed size. `DigestIndex(16)` is not loaded until built or opened."""

    def __init__(self, digest_size: int = 32) -> None:
        if not 1 <= digest_size <= 64:
            raise InvalidInput(f"digest size must be between 1 and 64 bytes, not {digest_size}")
        self.digest_size = digest_size
        self._state: _State | None = None
        self._lock = threading.RLock()
        self._compaction_lock = threading.Lock()
        self._journal: list[npt.NDArray[np.int64]] | None = None

    @classmethod
    def build(cls, ids: Any, digests: Any, groups: Any = 0, *, digest_size: int = 32) -> DigestIndex:
        index = cls(digest_size)
        id_array = as_id_array(ids)
        digest_array = (
            as_hash_array(digests, digest_size) if len(id_array) else np.zeros((0, digest_size), np.uint8)
        )
        if digest_array.shape[0] != id_array.shape[0]:
            raise InvalidInput(f"{id_array.shape[0]} ids but {digest_array.shape[0]} digests")
        base = _Base.build(id_array, digest_array, as_group_array(groups, id_array.shape[0]))
        index._state = _State(base, _bitmap.empty(base.n), 0)
        return index

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, verify: bool = True) -> DigestIndex:
        snapshot = read_snapshot(path, kind=SNAPSHOT_KIND, verify=verify)
        arrays = snapshot.arrays
        try:
            size = int(snapshot.info.params["digest_size"])
            index = cls(size)
            n = int(arrays["ids"].shape[0])
            base = _Base(
                arrays["keys"],
                arrays["digests"],
                arrays["ids"],
                arrays["groups"],
                arrays["id_sorted"],
                arrays["id_rows"],
            )
            shapes_ok = (
                base.keys.shape == (n,)
                and base.digests.shape == (n, size)
                and base.groups.shape == (n,)
                and base.id_sorted.shape == (n,)
                and base.id_rows.shape == (n,)
                and arrays["dead"].shape == ((n + 7) // 8,)
            )
            if not shapes_ok:
                raise ValueError("array shapes do not match the entry count")
            state = _State(base, np.array(arrays["dead"], dtype=np.uint8), 0, source=snapshot.info)
            state.n_dead = int(np.bitwise_count(state.dead).sum())
            delta_ids = np.array(arrays["delta_ids"], dtype=np.int64)
            delta_digests = np.array(arrays["delta_digests"], dtype=np.uint8).reshape(-1, size)
            delta_groups = np.array(arrays["delta_groups"], dtype=np.uint16)
        except (KeyError, ValueError) as exc:
            raise SnapshotError(f"index snapshot {path} is inconsistent ({exc}); rebuild it") from exc
        index._state = state
        if delta_ids.shape[0]:
            index.add(delta_ids, delta_digests, delta_groups)
        return index

    def save(self, path: str | os.PathLike[str], *, compact: bool = False) -> SnapshotInfo:
        if compact:
            self.compact()
        with self._lock:
            state = self._require()
            arrays = dict(state.base.arrays())
            arrays["dead"] = state.dead.copy()
            delta_ids, delta_digests, delta_groups = _delta_arrays(state, self.digest_size)
            arrays["delta_ids"] = delta_ids
            arrays["delta_digests"] = delta_digests
            arrays["delta_groups"] = delta_groups
        return write_snapshot(path, SNAPSHOT_KIND, {"digest_size": self.digest_size}, arrays)

    def close(self) -> None:
        with self._lock:
            self._state = None

    @property
    def ready(self) -> bool:
        return self._state is not None

    def _require(self) -> _State:
        state = self._state
        if state is None:
            raise IndexNotReady("the digest index is not loaded: open a snapshot or build it before lookups")
        return state

    def __len__(self) -> int:
        state = self._require()
        return state.base.n - state.n_dead + len(state.delta_ids)

    def __contains__(self, entry_id: object) -> bool:
        if not isinstance(entry_id, int | np.integer):
            return False
        state = self._require()
        if int(entry_id) in state.delta_ids:
            return True
        row = int(state.base.rows_of(np.array([entry_id], np.int64))[0])
        return row >= 0 and not bool(_bitmap.is_set(state.dead, np.array([row]))[0])

    @property
    def needs_compaction(self) -> bool:
        state = self._require()
        return len(state.delta_ids) > max(100_000, state.base.n // 8) or state.n_dead > max(
            1024, state.base.n // 8
        )

    def lookup(self, digests: Any, *, groups: Collection[int] | None = None) -> DigestMatches:
        """Entries whose digest equals each query's (in `groups` only, when given)."""
        state = self._require()
        queries = as_hash_array(digests, self.digest_size)
        base = state.base
        keys = _keys(queries)
        lo = np.searchsorted(base.keys, keys, side="left")
        hi = np.searchsorted(base.keys, keys, side="right")
        counts = hi - lo
        query_index = np.repeat(np.arange(queries.shape[0], dtype=np.int64), counts)
        rows = np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(query_index.shape[0])
        rows = rows.astype(np.int64)
        same = np.all(base.digests[rows] == queries[query_index], axis=1)
        keep = same & ~_bitmap.is_set(state.dead, rows)
        query_index, rows = query_index[keep], rows[keep]
        entry_id = base.ids[rows]
        group = base.groups[rows]
        if state.delta:
            extra = [
                (q, entry, g)
                for q, digest in enumerate(queries)
                for entry, g in state.delta.get(digest.tobytes(), {}).items()
            ]
            if extra:
                more = np.array(extra, dtype=np.int64).reshape(-1, 3)
                query_index = np.concatenate([query_index, more[:, 0]])
                entry_id = np.concatenate([entry_id, more[:, 1]])
                group = np.concatenate([group, more[:, 2].astype(np.uint16)])
        if groups is not None:
            wanted = np.isin(group, np.fromiter(groups, dtype=np.int64))
            query_index, entry_id, group = query_index[wanted], entry_id[wanted], group[wanted]
        order = np.lexsort((entry_id, query_index))
        return DigestMatches(query_index[order], entry_id[order], group[order])

    def lookup_one(self, digest: Any, *, groups: Collection[int] | None = None) -> list[DigestMatch]:
        """``lookup`` for one digest. A digest that no entry begins like (nearly every one) is
        answered from the sorted keys alone, without building match arrays."""
        state = self._require()
        if isinstance(digest, bytes) and len(digest) == self.digest_size:
            key = int.from_bytes(digest[:8].ljust(8, b"\0"), "big")
            keys = state.base.keys
            position = int(keys.searchsorted(np.uint64(key)))
            absent = position == keys.shape[0] or int(keys[position]) != key
            if absent and digest not in state.delta:
                return []
        return self.lookup(digest, groups=groups).for_query(0)

    def add(self, ids: Any, digests: Any, groups: Any = 0) -> None:
        """Add (or replace) entries; they match from the next lookup on."""
        id_array = as_id_array(ids)
        if id_array.shape[0] == 0:
            return
        digest_array = as_hash_array(digests, self.digest_size)
        if digest_array.shape[0] != id_array.shape[0]:
            raise InvalidInput(f"{id_array.shape[0]} ids but {digest_array.shape[0]} digests")
        group_array = as_group_array(groups, id_array.shape[0])
        with self._lock:
            state = self._require()
            self._remove_locked(state, id_array)
            for entry_id, digest, group in zip(
                id_array.tolist(), digest_array, group_array.tolist(), strict=True
            ):
                _delta_put(state, entry_id, digest.tobytes(), group)

    def remove(self, ids: Any) -> int:
        id_array = as_id_array(ids)
        with self._lock:
            return self._remove_locked(self._require(), id_array)

    def _remove_locked(self, state: _State, ids: npt.NDArray[np.int64]) -> int:
        if ids.shape[0] == 0:
            return 0
        if self._journal is not None:
            self._journal.append(ids.copy())
        rows = state.base.rows_of(ids)
        removed = _bitmap.set_rows(state.dead, rows[rows >= 0])
        state.n_dead += removed
        for entry_id in ids.tolist():
            digest = state.delta_ids.pop(entry_id, None)
            if digest is not None:
                del state.delta_seq[entry_id]
                entries = state.delta[digest]
                del entries[entry_id]
                if not entries:
                    del state.delta[digest]
                removed += 1
        return removed

    def compact(self) -> None:
        """Merge added entries and drop removed ones into a new base, built aside, then swapped in."""
        with self._compaction_lock:
            with self._lock:
                state = self._require()
                if state.n_dead == 0 and not state.delta_ids:
                    return
                base = state.base
                live = _bitmap.live_rows(state.dead, base.n)
                delta_ids, delta_digests, delta_groups = _delta_arrays(state, self.digest_size)
                cut_seq = state.next_seq
                self._journal = []
            try:
                new_base = _Base.build(
                    np.concatenate([base.ids[live], delta_ids]),
                    np.concatenate([base.digests[live], delta_digests]),
                    np.concatenate([base.groups[live], delta_groups]),
                )
            except BaseException:
                with self._lock:
                    self._journal = None
                raise
            with self._lock:
                journal, self._journal = self._journal or [], None
                current = self._require()
                new_state = _State(new_base, _bitmap.empty(new_base.n), 0)
                for removed in journal:
                    rows = new_base.rows_of(removed)
                    new_state.n_dead += _bitmap.set_rows(new_state.dead, rows[rows >= 0])
                # entries added while the new base was built are still in the current delta
                for entry_id, digest in current.delta_ids.items():
                    if current.delta_seq[entry_id] < cut_seq:
                        continue
                    _delta_put(new_state, entry_id, digest, current.delta[digest][entry_id])
                self._state = new_state


def _delta_put(state: _State, entry_id: int, digest: bytes, group: int) -> None:
    state.delta.setdefault(digest, {})[entry_id] = group
    state.delta_ids[entry_id] = digest
    state.delta_seq[entry_id] = state.next_seq
    state.next_seq += 1


def _delta_arrays(
    state: _State, digest_size: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8], npt.NDArray[np.uint16]]:
    items = [
        (entry_id, digest, state.delta[digest][entry_id]) for entry_id, digest in state.delta_ids.items()
    ]
    ids = np.array([i for i, _, _ in items], dtype=np.int64)
    digests = np.frombuffer(b"".join(d for _, d, _ in items), dtype=np.uint8).reshape(-1, digest_size)
    groups = np.array([g for _, _, g in items], dtype=np.uint16)
    return ids, digests, groups
