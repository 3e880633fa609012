"""vPDQ: a video as the PDQ hashes of its frames, and the reference's way of comparing two of them.

Reference: facebook/ThreatExchange ``vpdq/`` (``cpp/vpdq/cpp/hashing/matchTwoHash.cpp``,
``python/vpdq_matcher.py``). A video's hash is a list of frames, written one a line as
``frame_number,quality,pdq_hex,timestamp_seconds`` (the reference's ``.txt`` format, timestamps to
milliseconds). Decoding video is ``suraksha.media.video``'s job; this module hashes frames it is given.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from suraksha.signals.bits import HASH_BYTES, hamming_distances
from suraksha.signals.pdq import PdqHash, PdqMode, pdq_from_rgb

__all__ = [
    "VPDQ_DISTANCE_THRESHOLD",
    "VPDQ_QUALITY_THRESHOLD",
    "VPDQ_QUERY_MATCH_PERCENT",
    "VPDQ_TARGET_MATCH_PERCENT",
    "VpdqFrame",
    "VpdqMatch",
    "format_vpdq",
    "hash_frames",
    "is_match",
    "match_vpdq",
    "parse_vpdq",
]

# The reference library's defaults (vpdq and python-threatexchange's VPDQSignal).
VPDQ_DISTANCE_THRESHOLD = 31
VPDQ_QUALITY_THRESHOLD = 50
VPDQ_QUERY_MATCH_PERCENT = 80.0
VPDQ_TARGET_MATCH_PERCENT = 0.0

_SEPARATORS = re.compile(r"[\n;]")


@dataclass(frozen=True, slots=True)
class VpdqFrame:
    """One hashed frame: its number in decode order, PDQ quality, PDQ hash, and time in seconds."""

    frame_number: int
    quality: int
    pdq: PdqHash
    timestamp: float

    def __post_init__(self) -> None:
        if self.frame_number < 0:
            raise ValueError(f"frame number must be >= 0, got {self.frame_number}")
        if not 0 <= self.quality <= 100:
            raise ValueError(f"frame quality must be 0-100, got {self.quality}")
        if not (math.isfinite(self.timestamp) and self.timestamp >= 0):
            raise ValueError(f"frame timestamp must be a finite number of seconds >= 0, got {self.timestamp}")

    @property
    def pdq_hex(self) -> str:
        return self.pdq.hex

    @classmethod
    def from_line(cls, line: str) -> VpdqFrame:
        """Parse ``frame_number,quality,pdq_hex,timestamp_seconds``; ValueError says what is wrong."""
        parts = [part.strip() for part in line.strip().split(",")]
        if len(parts) != 4:
            raise ValueError(
                "not a vPDQ frame line: expected 4 comma-separated fields "
                f"(frame_number,quality,pdq_hex,timestamp_seconds), got {len(parts)} "
                f"in {line.strip()[:120]!r}"
            )
        number, quality, pdq_hex, timestamp = parts
        try:
            frame_number, frame_quality, seconds = int(number), int(quality), float(timestamp)
        except ValueError:
            raise ValueError(
                f"not a vPDQ frame line: frame number and quality must be whole numbers and the "
                f"timestamp a number of seconds, in {line.strip()[:120]!r}"
            ) from None
        return cls(frame_number, frame_quality, PdqHash.from_hex(pdq_hex, frame_quality), seconds)

    def to_line(self) -> str:
        return f"{self.frame_number},{self.quality},{self.pdq.hex},{self.timestamp:.3f}"


def parse_vpdq(text: str) -> list[VpdqFrame]:
    """Parse a frame list: lines in the reference format, separated by newlines or ``;``.

    Blank lines are skipped. Raises ValueError (naming the line) on the first bad line, or if there
    are no frames at all.
    """
    frames = []
    for number, line in enumerate(_SEPARATORS.split(text), start=1):
        if not line.strip():
            continue
        try:
            frames.append(VpdqFrame.from_line(line))
        except ValueError as exc:
            raise ValueError(f"vPDQ line {number}: {exc}") from None
    if not frames:
        raise ValueError("not a vPDQ hash: no frame lines (frame_number,quality,pdq_hex,timestamp_seconds)")
    return frames


def format_vpdq(frames: Iterable[VpdqFrame], separator: str = "\n") -> str:
    """The reference's text format, one frame a line (or joined by ``separator``, e.g. ``;``)."""
    return separator.join(frame.to_line() for frame in frames)


class VideoFrameLike(Protocol):
    """What ``suraksha.media.video.iter_frames`` yields."""

    @property
    def index(self) -> int: ...
    @property
    def timestamp(self) -> float: ...
    @property
    def rgb(self) -> npt.NDArray[np.uint8]: ...


def hash_frames(
    frames: Iterable[VideoFrameLike | tuple[int, float, npt.NDArray[np.uint8]]],
    mode: PdqMode = PdqMode.EXACT,
) -> list[VpdqFrame]:
    """Hash decoded frames: ``VideoFrame`` objects or ``(index, timestamp_seconds, rgb)`` tuples.

    Frames are consumed one at a time (a lazy decoder never holds more than one). Timestamps are
    kept as given; ``to_line`` rounds them to milliseconds as the reference does.
    """
    hashed = []
    for frame in frames:
        if isinstance(frame, tuple):
            index, timestamp, rgb = frame
        else:
            index, timestamp, rgb = frame.index, frame.timestamp, frame.rgb
        pdq = pdq_from_rgb(rgb, mode)
        hashed.append(VpdqFrame(int(index), pdq.quality, pdq, float(timestamp)))
    return hashed


@dataclass(frozen=True, slots=True)
class VpdqMatch:
    """Percent of the query's (de-duplicated, good-quality) frames found in the target, and vice versa."""

    query_match_percent: float
    target_match_percent: float

    def is_match(
        self,
        query_percent: float = VPDQ_QUERY_MATCH_PERCENT,
        target_percent: float = VPDQ_TARGET_MATCH_PERCENT,
    ) -> bool:
        return self.query_match_percent >= query_percent and self.target_match_percent >= target_percent


def match_vpdq(
    query: Sequence[VpdqFrame],
    target: Sequence[VpdqFrame],
    distance_threshold: int = VPDQ_DISTANCE_THRESHOLD,
    quality_threshold: int = VPDQ_QUALITY_THRESHOLD,
) -> VpdqMatch:
    """Compare two videos' frame lists the way the reference vpdq library does.

    1. On each side, drop repeated frame hashes (the first occurrence stays), then frames of quality
       under ``quality_threshold``.
    2. A frame matches when some frame on the other side is at Hamming distance *strictly less than*
       ``distance_threshold``: the reference's ``matchTwoHashBrute`` and ``match_VPDQ_in_another`` use
       ``<``. (python-threatexchange's ``vpdq_brute_matcher`` uses ``<=``, so at the default 31 it
       also counts frames at exactly 31.)
    3. query % = matched query frames / query frames left after step 1; target % likewise.
       If either side has no frames left, both are 0 (the C++ reference; the Python one divides by 0).
    """
    query_hashes = usable_frame_hashes(query, quality_threshold)
    target_hashes = usable_frame_hashes(target, quality_threshold)
    if len(query_hashes) == 0 or len(target_hashes) == 0:
        return VpdqMatch(0.0, 0.0)
    query_matched, target_matched = _matched(query_hashes, target_hashes, distance_threshold)
    return VpdqMatch(
        100.0 * float(query_matched.sum()) / len(query_hashes),
        100.0 * float(target_matched.sum()) / len(target_hashes),
    )


def is_match(
    query: Sequence[VpdqFrame],
    target: Sequence[VpdqFrame],
    *,
    query_percent: float = VPDQ_QUERY_MATCH_PERCENT,
    target_percent: float = VPDQ_TARGET_MATCH_PERCENT,
    distance_threshold: int = VPDQ_DISTANCE_THRESHOLD,
    quality_threshold: int = VPDQ_QUALITY_THRESHOLD,
) -> bool:
    """The reference's video-level decision: query % >= 80 and target % >= 0 by default."""
    result = match_vpdq(query, target, distance_threshold, quality_threshold)
    return result.is_match(query_percent, target_percent)


def usable_frame_hashes(frames: Sequence[VpdqFrame], quality_threshold: int) -> npt.NDArray[np.uint8]:
    """The frames' hash bytes, first occurrence of each hash only, then quality-filtered: (N, 32)."""
    seen: set[bytes] = set()
    kept = []
    for frame in frames:  # de-duplicate before the quality filter, in the reference's order
        if frame.pdq.value in seen:
            continue
        seen.add(frame.pdq.value)
        if frame.quality >= quality_threshold:
            kept.append(frame.pdq.value)
    return np.frombuffer(b"".join(kept), dtype=np.uint8).reshape(-1, HASH_BYTES)


def _matched(
    query: npt.NDArray[np.uint8], target: npt.NDArray[np.uint8], distance_threshold: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which query rows have a target row closer than the threshold, and which target rows have a
    query row: one vectorised pass over the target per query frame, O(N + M) memory."""
    query_matched = np.zeros(len(query), dtype=bool)
    target_matched = np.zeros(len(target), dtype=bool)
    words = np.ascontiguousarray(target).view(np.uint64)
    for i in range(len(query)):
        close = hamming_distances(query[i].tobytes(), words) < distance_threshold
        query_matched[i] = close.any()
        target_matched |= close
    return query_matched, target_matched
