"""The signal types we hash and match, named and shaped after python-threatexchange's ``SignalType``.

python-threatexchange (``threatexchange.signal_type.signal_base``) gives each signal type a name
(``get_name``), a validator that normalises a signal string (``validate_signal_str``) and a comparison
(``compare_hash``). We keep those names so that anyone who knows HMA finds their way, without importing
it at runtime. Every type also ships ``naive_compare``: the obviously-correct comparison, written for
clarity over speed, that the fast match indexes are tested against.

Normalised values: hex digests and PDQ as lowercase hex; vPDQ as the reference frame lines
(``frame_number,quality,pdq_hex,timestamp_seconds``) joined by newlines.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from enum import StrEnum
from typing import ClassVar, NamedTuple

from suraksha.signals.bits import hamming_distance, hex_to_bytes
from suraksha.signals.vpdq import (
    VPDQ_DISTANCE_THRESHOLD,
    VPDQ_QUALITY_THRESHOLD,
    VPDQ_QUERY_MATCH_PERCENT,
    VpdqFrame,
    format_vpdq,
    parse_vpdq,
)

__all__ = [
    "SIGNAL_TYPES",
    "Md5Signal",
    "PdqSignal",
    "Sha256Signal",
    "SignalComparison",
    "SignalKind",
    "SignalType",
    "VpdqSignal",
    "detect_kind",
    "possible_kinds",
    "signal_type",
    "validate_signal",
]

_HEX = re.compile(r"[0-9a-f]+")


class SignalKind(StrEnum):
    PDQ = "pdq"
    VPDQ = "vpdq"
    MD5 = "md5"
    SHA256 = "sha256"


class SignalComparison(NamedTuple):
    """python-threatexchange's ``SignalComparisonResult``: did it match, and at what distance.

    ``distance`` is None when the two do not match.
    """

    match: bool
    distance: int | None


class SignalType(ABC):
    kind: ClassVar[SignalKind]
    default_threshold: ClassVar[int]
    """The distance at or under which two signals of this type match, unless a bank says otherwise."""

    @classmethod
    def get_name(cls) -> str:
        return cls.kind.value

    @classmethod
    @abstractmethod
    def validate(cls, value: str) -> str:
        """The normalised signal string; ValueError with a message a person can act on otherwise."""

    @classmethod
    def validate_signal_str(cls, value: str) -> str:
        """python-threatexchange's name for ``validate``."""
        return cls.validate(value)

    @classmethod
    @abstractmethod
    def naive_compare(cls, a: str, b: str, threshold: int) -> int | None:
        """The distance between two valid signals if it is at most ``threshold``, else None."""

    @classmethod
    def compare_hash(cls, a: str, b: str, threshold: int | None = None) -> SignalComparison:
        distance = cls.naive_compare(a, b, cls.default_threshold if threshold is None else threshold)
        return SignalComparison(distance is not None, distance)


class _DigestSignal(SignalType):
    digits: ClassVar[int]
    label: ClassVar[str]
    default_threshold = 0

    @classmethod
    def validate(cls, value: str) -> str:
        normalised = value.strip().lower()
        if len(normalised) != cls.digits or not _HEX.fullmatch(normalised):
            raise ValueError(
                f"not {cls.label} digest: expected {cls.digits} hexadecimal digits, got {_describe(value)}"
            )
        return normalised

    @classmethod
    def naive_compare(cls, a: str, b: str, threshold: int = 0) -> int | None:
        """Digests match only when equal (distance 0); ``threshold`` is ignored."""
        return 0 if cls.validate(a) == cls.validate(b) else None


class Md5Signal(_DigestSignal):
    kind = SignalKind.MD5
    digits = 32
    label = "an MD5"


class Sha256Signal(_DigestSignal):
    kind = SignalKind.SHA256
    digits = 64
    label = "a SHA-256"


class PdqSignal(SignalType):
    kind = SignalKind.PDQ
    default_threshold = 31
    """PDQ's documented confident-match distance (python-threatexchange PDQ_CONFIDENT_MATCH_THRESHOLD)."""

    @classmethod
    def validate(cls, value: str) -> str:
        return hex_to_bytes(value, what="PDQ hash").hex()

    @classmethod
    def naive_compare(cls, a: str, b: str, threshold: int = 31) -> int | None:
        """Hamming distance between the two 256-bit hashes if <= threshold."""
        distance = hamming_distance(hex_to_bytes(a), hex_to_bytes(b))
        return distance if distance <= threshold else None


class VpdqSignal(SignalType):
    """vPDQ: a frame list. Its "distance" is the percent of query frames *not* found in the target,
    rounded up; the default threshold 20 is the reference's "query match >= 80 %" rule."""

    kind = SignalKind.VPDQ
    default_threshold = round(100 - VPDQ_QUERY_MATCH_PERCENT)

    @classmethod
    def validate(cls, value: str) -> str:
        return format_vpdq(parse_vpdq(value))

    @classmethod
    def naive_compare(cls, a: str, b: str, threshold: int = 20) -> int | None:
        """The reference algorithm, spelled out loop by loop (``vpdq.match_vpdq`` is the fast one).

        ``a`` is the query, ``b`` the target; frames are compared at the reference's defaults
        (distance < 31, quality >= 50).
        """
        query = _naive_usable(parse_vpdq(a))
        target = _naive_usable(parse_vpdq(b))
        if not query or not target:
            return None
        matched = 0
        for q in query:
            for t in target:
                if q.pdq.distance(t.pdq) < VPDQ_DISTANCE_THRESHOLD:
                    matched += 1
                    break
        distance = math.ceil(100.0 - 100.0 * matched / len(query))
        return distance if distance <= threshold else None


def _naive_usable(frames: list[VpdqFrame]) -> list[VpdqFrame]:
    unique: list[VpdqFrame] = []
    for frame in frames:
        if all(frame.pdq.value != seen.pdq.value for seen in unique):
            unique.append(frame)
    return [frame for frame in unique if frame.quality >= VPDQ_QUALITY_THRESHOLD]


SIGNAL_TYPES: dict[SignalKind, type[SignalType]] = {
    SignalKind.PDQ: PdqSignal,
    SignalKind.VPDQ: VpdqSignal,
    SignalKind.MD5: Md5Signal,
    SignalKind.SHA256: Sha256Signal,
}


def signal_type(kind: SignalKind | str) -> type[SignalType]:
    """The SignalType class for a kind (``"pdq"`` or ``SignalKind.PDQ``); ValueError if unknown."""
    try:
        return SIGNAL_TYPES[SignalKind(kind)]
    except ValueError:
        raise ValueError(
            f"unknown signal type {kind!r}: expected one of {', '.join(k.value for k in SignalKind)}"
        ) from None


def validate_signal(kind: SignalKind | str, value: str) -> str:
    """Normalise ``value`` as a signal of ``kind``; ValueError saying what was wrong otherwise."""
    return signal_type(kind).validate(value)


def possible_kinds(value: str) -> frozenset[SignalKind]:
    """Every kind ``value`` is valid as. 64 hex digits are both a PDQ hash and a SHA-256 digest."""
    kinds = set()
    for kind, cls in SIGNAL_TYPES.items():
        try:
            cls.validate(value)
        except ValueError:
            continue
        kinds.add(kind)
    return frozenset(kinds)


def detect_kind(value: str) -> SignalKind | None:
    """The one kind ``value`` can be, or None when it fits none or more than one.

    The rule: 32 hex digits are MD5; frame lines are vPDQ; 64 hex digits are ambiguous (PDQ or
    SHA-256 look alike) and give None, so the caller has to say which (a list's header, an API field,
    ``--signal-type``). Guessing would silently file a SHA-256 as a PDQ hash that matches nothing, or
    the other way round.
    """
    kinds = possible_kinds(value)
    return next(iter(kinds)) if len(kinds) == 1 else None


def _describe(value: str) -> str:
    shown = value if len(value) <= 80 else value[:80] + "..."
    return f"{len(value.strip())} characters ({shown!r})"
