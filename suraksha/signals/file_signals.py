"""From a file to its signals: digests of the bytes, then PDQ (images) or vPDQ (video).

Digests come first and always: a file we cannot decode can still match an MD5 or SHA-256 bank, and a
file that breaks a limit or fails to decode ends in its own state, never in "clean".
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from suraksha.media.detect import SNIFF_BYTES, MediaFormat, MediaKind, sniff
from suraksha.media.errors import MediaError, MediaTooLarge
from suraksha.media.image import decode_image
from suraksha.media.limits import DEFAULT_LIMITS, MediaLimits
from suraksha.media.video import iter_frames
from suraksha.signals.digests import digests_of_bytes, digests_of_file
from suraksha.signals.pdq import PdqHash, PdqMode, pdq_from_luma, pdq_from_rgb
from suraksha.signals.vpdq import VpdqFrame, hash_frames


class HashState(StrEnum):
    HASHED = "hashed"
    LOW_QUALITY = "low_quality"
    """Decoded, but the PDQ quality is under the floor: digests still match, PDQ does not."""
    UNSUPPORTED = "unsupported"
    CORRUPT = "corrupt"
    TOO_LARGE = "too_large"
    TIMED_OUT = "timed_out"


@dataclass
class FileSignals:
    path: str | None
    size: int
    md5: str | None = None
    sha256: str | None = None
    media_format: MediaFormat | None = None
    pdq: PdqHash | None = None
    vpdq: list[VpdqFrame] = field(default_factory=list)
    state: HashState = HashState.HASHED
    error: str | None = None
    seconds: float = 0.0

    @property
    def media_type(self) -> str | None:
        if self.media_format is None:
            return None
        return f"{self.media_format.kind.value}/{self.media_format.value}"

    def as_dict(self, *, frames: bool = False) -> dict[str, object]:
        out: dict[str, object] = {
            "path": self.path,
            "media_type": self.media_type,
            "size": self.size,
            "state": self.state.value,
            "md5": self.md5,
            "sha256": self.sha256,
            "pdq": self.pdq.hex if self.pdq else None,
            "pdq_quality": self.pdq.quality if self.pdq else None,
            "vpdq_frames": len(self.vpdq)
            if self.media_format and self.media_format.kind is MediaKind.VIDEO
            else None,
            "error": self.error,
        }
        if frames and self.vpdq:
            out["vpdq"] = [
                {
                    "frame": f.frame_number,
                    "quality": f.quality,
                    "pdq": f.pdq_hex,
                    "timestamp": round(f.timestamp, 6),
                }
                for f in self.vpdq
            ]
        return out


@dataclass(frozen=True)
class HashOptions:
    limits: MediaLimits = DEFAULT_LIMITS
    mode: PdqMode = PdqMode.EXACT
    video_fps: float | None = 1.0
    """Frames hashed per second of video; None hashes every frame."""
    quality_floor: int = 50


def hash_bytes(data: bytes, options: HashOptions = HashOptions(), *, path: str | None = None) -> FileSignals:
    started = time.perf_counter()
    digests = digests_of_bytes(data)
    signals = FileSignals(path=path, size=len(data), md5=digests.md5, sha256=digests.sha256)
    try:
        if len(data) > options.limits.max_bytes:
            raise MediaTooLarge(
                f"{len(data):,} bytes is over the limit of {options.limits.max_bytes:,} "
                "(setting media_max_bytes); digests were still taken"
            )
        signals.media_format = sniff(data[:SNIFF_BYTES])
        if signals.media_format.kind is MediaKind.VIDEO:
            _hash_video(signals, data, options)
        else:
            _hash_image(signals, data, options)
    except MediaError as exc:
        signals.state, signals.error = HashState(exc.kind.value), exc.message
    signals.seconds = time.perf_counter() - started
    return signals


def hash_path(path: Path, options: HashOptions = HashOptions()) -> FileSignals:
    """Hash a file. Images are read whole (bounded by max_bytes); videos stream from disk."""
    started = time.perf_counter()
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(SNIFF_BYTES)
    try:
        media_format: MediaFormat | None = sniff(head)
    except MediaError:
        media_format = None
    if size <= options.limits.max_bytes and (media_format is None or media_format.kind is MediaKind.IMAGE):
        return hash_bytes(path.read_bytes(), options, path=str(path))
    digests = digests_of_file(path)
    signals = FileSignals(
        path=str(path), size=digests.size, md5=digests.md5, sha256=digests.sha256, media_format=media_format
    )
    try:
        if size > options.limits.max_bytes:
            raise MediaTooLarge(
                f"{size:,} bytes is over the limit of {options.limits.max_bytes:,} "
                "(setting media_max_bytes); digests were still taken"
            )
        _hash_video(signals, path, options)
    except MediaError as exc:
        signals.state, signals.error = HashState(exc.kind.value), exc.message
    signals.seconds = time.perf_counter() - started
    return signals


def _hash_image(signals: FileSignals, data: bytes, options: HashOptions) -> None:
    if options.mode is PdqMode.FAST:
        decoded = decode_image(data, options.limits, luma_only=True)
        assert decoded.luma is not None
        signals.pdq = pdq_from_luma(decoded.luma)
    else:
        decoded = decode_image(data, options.limits)
        assert decoded.rgb is not None
        signals.pdq = pdq_from_rgb(decoded.rgb)
    if signals.pdq.quality < options.quality_floor:
        signals.state = HashState.LOW_QUALITY


def _hash_video(signals: FileSignals, source: bytes | Path, options: HashOptions) -> None:
    signals.vpdq = hash_frames(iter_frames(source, options.limits, fps=options.video_fps), options.mode)
    if not any(f.quality >= options.quality_floor for f in signals.vpdq):
        signals.state = HashState.LOW_QUALITY
