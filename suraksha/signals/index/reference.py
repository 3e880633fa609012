"""The obviously-correct PDQ matcher that the fast index is tested against.

Every query is compared with every entry (numpy XOR + popcount), then the same rules as `PdqIndex`
are applied: per-group thresholds, best variant per entry, results sorted by (query, distance, id).
Linear in the number of entries: for tests and small banks only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from suraksha.signals.index.hashes import as_group_array, as_hash_array, as_id_array
from suraksha.signals.index.pdq_index import DEFAULT_THRESHOLD, Thresholds
from suraksha.signals.index.results import PdqMatches


class ReferencePdqIndex:
    def __init__(self) -> None:
        self._entries: dict[int, tuple[bytes, int]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def add(self, ids: Any, hashes: Any, groups: Any = 0) -> None:
        id_array = as_id_array(ids)
        hash_array = as_hash_array(hashes)
        group_array = as_group_array(groups, id_array.shape[0])
        for entry_id, value, group in zip(id_array.tolist(), hash_array, group_array.tolist(), strict=True):
            self._entries[entry_id] = (value.tobytes(), group)

    def remove(self, ids: Any) -> int:
        return sum(self._entries.pop(i, None) is not None for i in as_id_array(ids).tolist())

    def query(self, hashes: Any, *, threshold: Thresholds = DEFAULT_THRESHOLD) -> PdqMatches:
        batch = as_hash_array(hashes, max_dims=3)
        variants = batch if batch.ndim == 3 else batch[:, None, :]
        ids = np.array(list(self._entries), dtype=np.int64)
        values = np.frombuffer(b"".join(v for v, _ in self._entries.values()), dtype=np.uint8).reshape(-1, 32)
        groups = np.array([g for _, g in self._entries.values()], dtype=np.uint16)
        if isinstance(threshold, int):
            limits = np.full(ids.shape[0], threshold, dtype=np.int64)
        else:
            limits = np.array([threshold.get(int(g), -1) for g in groups], dtype=np.int64)
        rows: list[tuple[int, int, int, int, int]] = []
        for q in range(variants.shape[0]):
            # (variants, entries) distances; the best variant is the first with the smallest distance
            distances = np.bitwise_count(variants[q][:, None, :] ^ values[None, :, :]).sum(axis=2)
            best = distances.argmin(axis=0) if ids.shape[0] else np.zeros(0, np.int64)
            best_distance = distances[best, np.arange(ids.shape[0])] if ids.shape[0] else best
            for e in np.flatnonzero(best_distance <= limits):
                rows.append((q, int(best_distance[e]), int(ids[e]), int(groups[e]), int(best[e])))
        rows.sort()
        table = np.array(rows, dtype=np.int64).reshape(-1, 5)
        return PdqMatches(
            query_index=table[:, 0].copy(),
            entry_id=table[:, 2].copy(),
            distance=table[:, 1].copy(),
            group=table[:, 3].astype(np.uint16),
            variant=table[:, 4].copy() if batch.ndim == 3 else None,
        )
