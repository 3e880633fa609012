"""What the indexes return: flat arrays for batches, small records for one query."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class PdqMatch:
    entry_id: int
    distance: int
    group: int
    variant: int | None = None
    """Which of the query's hash variants (e.g. dihedral rotations) was closest, when variants were given."""


@dataclass(frozen=True)
class PdqMatches:
    """Matches of a batch of queries, sorted by (query_index, distance, entry_id).

    One row per (query, entry): with variants, the entry's best distance and the variant that gave it.
    """

    query_index: npt.NDArray[np.int64]
    entry_id: npt.NDArray[np.int64]
    distance: npt.NDArray[np.int64]
    group: npt.NDArray[np.uint16]
    variant: npt.NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.query_index.shape[0])

    def for_query(self, query_index: int) -> list[PdqMatch]:
        lo, hi = np.searchsorted(self.query_index, [query_index, query_index + 1])
        return [self._record(i) for i in range(int(lo), int(hi))]

    def records(self) -> list[tuple[int, PdqMatch]]:
        return [(int(self.query_index[i]), self._record(i)) for i in range(len(self))]

    def _record(self, i: int) -> PdqMatch:
        variant = None if self.variant is None else int(self.variant[i])
        return PdqMatch(int(self.entry_id[i]), int(self.distance[i]), int(self.group[i]), variant)


@dataclass(frozen=True)
class DigestMatch:
    entry_id: int
    group: int


@dataclass(frozen=True)
class DigestMatches:
    """Exact digest matches of a batch of queries, sorted by (query_index, entry_id)."""

    query_index: npt.NDArray[np.int64]
    entry_id: npt.NDArray[np.int64]
    group: npt.NDArray[np.uint16]

    def __len__(self) -> int:
        return int(self.query_index.shape[0])

    def for_query(self, query_index: int) -> list[DigestMatch]:
        lo, hi = np.searchsorted(self.query_index, [query_index, query_index + 1])
        return [DigestMatch(int(self.entry_id[i]), int(self.group[i])) for i in range(int(lo), int(hi))]
