"""Match indexes: exact PDQ (Hamming distance) and exact digest (MD5, SHA-256) lookups.

Pure numpy/numba: no database code. The bank layer owns which entries go in and their groups
(banks) and thresholds; these indexes answer "which entries match" exactly, take incremental
changes, persist as memory-mappable snapshots, and are shared between processes through
`IndexDirectory`. An index that is not loaded raises `IndexNotReady`, never "no match".
"""

from __future__ import annotations

from suraksha.signals.index.digest_index import DigestIndex
from suraksha.signals.index.errors import IndexNotReady, InvalidHash, SnapshotError, SnapshotVersionError
from suraksha.signals.index.pdq_index import DEFAULT_THRESHOLD, PdqIndex, PdqIndexStats
from suraksha.signals.index.reference import ReferencePdqIndex
from suraksha.signals.index.results import DigestMatch, DigestMatches, PdqMatch, PdqMatches
from suraksha.signals.index.shared import IndexDirectory, IndexFollower, LogPosition
from suraksha.signals.index.snapshot import SnapshotInfo

__all__ = [
    "DEFAULT_THRESHOLD",
    "DigestIndex",
    "DigestMatch",
    "DigestMatches",
    "IndexDirectory",
    "IndexFollower",
    "IndexNotReady",
    "InvalidHash",
    "LogPosition",
    "PdqIndex",
    "PdqIndexStats",
    "PdqMatch",
    "PdqMatches",
    "ReferencePdqIndex",
    "SnapshotError",
    "SnapshotInfo",
    "SnapshotVersionError",
]
