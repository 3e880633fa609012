"""Match a file's signals against banks.

This is the brute-force matcher: obviously correct, linear in bank size. The match-index work replaces
its PDQ scan with an index; this class stays as the oracle that index is tested against.

Allow-list rule: a hit in an allow bank on signal type T suppresses every block hit of type T for that
file (a benign image that a list mis-hashed by PDQ is still blocked by an exact MD5 match). Suppressed
hits are returned, never dropped, so the reason a file was not flagged can be shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from suraksha.banks.models import Bank, BankEntry, BankKind
from suraksha.signals.bits import hamming_distances
from suraksha.signals.file_signals import FileSignals
from suraksha.signals.pdq import PdqDihedral, PdqHash, pdq_dihedral
from suraksha.signals.types import SignalKind
from suraksha.signals.vpdq import VpdqFrame, match_vpdq, parse_vpdq


@dataclass(frozen=True)
class BankRef:
    id: int
    name: str
    category: str
    kind: str
    pdq_threshold: int
    vpdq_query_percent: float
    vpdq_target_percent: float
    enabled: bool = True

    @classmethod
    def of(cls, bank: Bank) -> BankRef:
        return cls(
            bank.id,
            bank.name,
            bank.category,
            bank.kind,
            bank.pdq_threshold,
            bank.vpdq_query_percent,
            bank.vpdq_target_percent,
            bank.enabled,
        )


@dataclass(frozen=True)
class MatchHit:
    bank: str
    bank_kind: str
    category: str
    entry_id: int
    signal_type: str
    distance: int | None = None
    """PDQ Hamming distance (0 for exact digests)."""
    rotation: str | None = None
    """Which dihedral variant of the query matched, when rotation-aware."""
    query_match_percent: float | None = None
    target_match_percent: float | None = None

    def as_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass
class MatchOutcome:
    hits: list[MatchHit] = field(default_factory=list)
    suppressed: list[MatchHit] = field(default_factory=list)
    allowed_by: list[MatchHit] = field(default_factory=list)


ROTATION_NAMES = PdqDihedral._fields


class BruteForceMatcher:
    def __init__(self, entries: Sequence[tuple[Bank, BankEntry]], *, quality_floor: int = 50) -> None:
        self.quality_floor = quality_floor
        self._digests: dict[tuple[str, str], list[tuple[BankRef, int]]] = defaultdict(list)
        pdq_values: list[bytes] = []
        self._pdq_refs: list[tuple[BankRef, int]] = []
        self._vpdq: list[tuple[BankRef, int, list[VpdqFrame]]] = []
        refs: dict[int, BankRef] = {}
        for bank, entry in entries:
            ref = refs.setdefault(bank.id, BankRef.of(bank))
            if entry.signal_type in (SignalKind.MD5, SignalKind.SHA256):
                self._digests[(entry.signal_type, entry.value)].append((ref, entry.id))
            elif entry.signal_type == SignalKind.PDQ:
                pdq_values.append(bytes.fromhex(entry.value))
                self._pdq_refs.append((ref, entry.id))
            elif entry.signal_type == SignalKind.VPDQ:
                self._vpdq.append((ref, entry.id, parse_vpdq(entry.value)))
        self._pdq = (
            np.frombuffer(b"".join(pdq_values), dtype=np.uint8).reshape(-1, 32)
            if pdq_values
            else np.zeros((0, 32), dtype=np.uint8)
        )
        self._pdq_thresholds: npt.NDArray[np.int64] = np.array(
            [ref.pdq_threshold for ref, _ in self._pdq_refs], dtype=np.int64
        )
        self.entry_count = len(entries)

    def match(self, signals: FileSignals, *, rotations: bool = False) -> MatchOutcome:
        raw: list[MatchHit] = []
        for kind, value in ((SignalKind.MD5, signals.md5), (SignalKind.SHA256, signals.sha256)):
            if value is not None:
                for ref, entry_id in self._digests.get((kind.value, value), []):
                    raw.append(MatchHit(ref.name, ref.kind, ref.category, entry_id, kind.value, distance=0))
        if signals.pdq is not None and signals.pdq.quality >= self.quality_floor:
            raw.extend(self._match_pdq(signals.pdq, rotations))
        if signals.vpdq:
            raw.extend(self._match_vpdq(signals.vpdq))
        return apply_allow_lists(raw)

    def _match_pdq(self, query: PdqHash, rotations: bool) -> list[MatchHit]:
        if len(self._pdq) == 0:
            return []
        variants = pdq_dihedral(query) if rotations else [query]
        best = np.full(len(self._pdq), 257, dtype=np.int64)
        which = np.zeros(len(self._pdq), dtype=np.int64)
        for index, variant in enumerate(variants):
            distances = hamming_distances(variant.value, self._pdq).astype(np.int64)
            better = distances < best
            best[better] = distances[better]
            which[better] = index
        hits = []
        for i in np.flatnonzero(best <= self._pdq_thresholds):
            ref, entry_id = self._pdq_refs[int(i)]
            hits.append(
                MatchHit(
                    ref.name,
                    ref.kind,
                    ref.category,
                    entry_id,
                    SignalKind.PDQ.value,
                    distance=int(best[i]),
                    rotation=ROTATION_NAMES[int(which[i])] if rotations else None,
                )
            )
        return hits

    def _match_vpdq(self, frames: Sequence[VpdqFrame]) -> list[MatchHit]:
        hits = []
        for ref, entry_id, target in self._vpdq:
            result = match_vpdq(frames, target, quality_threshold=self.quality_floor)
            if (
                result.query_match_percent >= ref.vpdq_query_percent
                and result.target_match_percent >= ref.vpdq_target_percent
            ):
                hits.append(
                    MatchHit(
                        ref.name,
                        ref.kind,
                        ref.category,
                        entry_id,
                        SignalKind.VPDQ.value,
                        query_match_percent=round(result.query_match_percent, 2),
                        target_match_percent=round(result.target_match_percent, 2),
                    )
                )
        return hits


def apply_allow_lists(raw: list[MatchHit]) -> MatchOutcome:
    allowed_by = [h for h in raw if h.bank_kind == BankKind.ALLOW]
    allowed_types = {h.signal_type for h in allowed_by}
    outcome = MatchOutcome(allowed_by=allowed_by)
    for hit in raw:
        if hit.bank_kind == BankKind.ALLOW:
            continue
        (outcome.suppressed if hit.signal_type in allowed_types else outcome.hits).append(hit)
    return outcome
