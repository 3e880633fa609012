"""Safe video decoding through PyAV (FFmpeg): bounded, content-typed, frame-numbered RGB frames.

Frame numbers and timestamps follow the vPDQ reference (facebook/ThreatExchange ``vpdq``): every frame
the decoder outputs is numbered from 0 in presentation order, sampled or not. Timestamps are the
frame's presentation time minus the stream's start time, so they are right for variable-frame-rate
video too; for constant-rate video they equal vPDQ's ``frame_number / avg_frame_rate`` (tested on the
reference videos). Rotation metadata (a display matrix) is not applied, as vPDQ does not apply it.

Bounds: ``max_bytes`` before anything is parsed; the container must not be truncated (its own length
fields, see ``container``); the container's duration and every decoded timestamp against
``max_video_seconds``; each frame's size against ``max_frame_pixels``; frames returned against
``max_frames``; elapsed wall-clock time against ``decode_timeout_s`` between frames.
"""

from __future__ import annotations

import io
import math
import pathlib
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, BinaryIO

import av
import numpy as np
import numpy.typing as npt
from av.video.reformatter import VideoReformatter

from suraksha.media.container import check_not_truncated
from suraksha.media.detect import SNIFF_BYTES, MediaFormat, MediaKind, sniff
from suraksha.media.errors import CorruptMedia, DecodeTimeout, MediaTooLarge, UnsupportedMedia
from suraksha.media.limits import DEFAULT_LIMITS, MediaLimits

# FFmpeg demuxer per sniffed format: forcing it means FFmpeg never probes the content as something else
# (playlists, concat scripts and image sequences can make it open other files or URLs).
_DEMUXER = {
    MediaFormat.MP4: "mov",
    MediaFormat.MOV: "mov",
    MediaFormat.WEBM: "matroska",
    MediaFormat.MKV: "matroska",
    MediaFormat.AVI: "avi",
}

_DECODER_ERRORS = (av.FFmpegError, OSError, ValueError, EOFError, IndexError, KeyError, TypeError)


@dataclass(frozen=True, slots=True)
class VideoFrame:
    index: int
    """The decoded frame number: every frame the decoder outputs counts, from 0, sampled or not."""
    timestamp: float
    """Presentation time in seconds from the start of the stream."""
    rgb: npt.NDArray[np.uint8]
    """(H, W, 3) uint8, C-contiguous."""


@dataclass(frozen=True, slots=True)
class VideoInfo:
    format: MediaFormat
    codec: str
    width: int
    height: int
    duration_s: float | None
    """From the container (or the video stream); None when neither declares one."""
    frame_count: int | None
    """The container's frame count, or duration x average frame rate: an estimate either way."""
    fps: float | None
    """Average frame rate, when known."""


def iter_frames(
    source: bytes | pathlib.Path, limits: MediaLimits = DEFAULT_LIMITS, *, fps: float | None = 1.0
) -> Iterator[VideoFrame]:
    """Decode a video's frames as RGB, lazily; ``fps`` samples them.

    ``fps=None`` returns every frame. ``fps=N`` returns the first frame whose timestamp is at or after
    each boundary k/N seconds (k = 0, 1, 2...) and skips the rest until the next boundary, so gaps in
    variable-rate video never produce duplicates and the first frame is always returned. Every frame
    is still decoded (frame numbers count them all), but only returned frames are converted to RGB.

    Raises ``MediaError`` subclasses for bad input (a video with no decodable frames is ``CorruptMedia``:
    it must never look like a video with no matches) and ``ValueError`` for a bad ``fps``. Errors
    reading ``source`` from disk (a missing path) are ``OSError``, not media states.
    """
    if fps is not None and not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number or None, not {fps!r}")
    return _frames(source, limits, fps)


def probe_video(source: bytes | pathlib.Path, limits: MediaLimits = DEFAULT_LIMITS) -> VideoInfo:
    """What the container says about its video stream, without decoding a frame.

    Applies the byte limit and the truncation check, not the duration or frame limits: a probe reports.
    """
    with _open_video(source, limits) as (fmt, container, stream):
        codec = stream.codec_context
        duration = _duration_s(container, stream)
        rate = stream.average_rate or stream.guessed_rate
        frame_count: int | None = int(stream.frames) or None
        if frame_count is None and duration is not None and rate:
            frame_count = round(duration * float(rate))
        return VideoInfo(
            format=fmt,
            codec=str(codec.name),
            width=int(codec.width),
            height=int(codec.height),
            duration_s=duration,
            frame_count=frame_count,
            fps=float(rate) if rate else None,
        )


def _frames(source: bytes | pathlib.Path, limits: MediaLimits, fps: float | None) -> Iterator[VideoFrame]:
    started = time.monotonic()
    with _open_video(source, limits) as (fmt, container, stream):
        duration = _duration_s(container, stream)
        if duration is not None and duration > limits.max_video_seconds:
            raise MediaTooLarge(
                f"the {fmt.value} video lasts {duration:,.1f} s, over the limit of "
                f"{limits.max_video_seconds:,.0f} s (SURAKSHA_MEDIA_MAX_VIDEO_SECONDS)"
            )
        _check_frame_size(fmt, int(stream.codec_context.width), int(stream.codec_context.height), limits)
        per_second = Fraction(fps) if fps is not None else None
        start_pts: int | None = stream.start_time
        rate = stream.average_rate or stream.guessed_rate
        next_boundary: int | None = None
        returned = 0
        index = -1
        # A converter of this video's own, made in this process: PyAV's default one is kept per thread
        # and its FFmpeg slice threads do not survive a fork. A scan worker forked after its parent had
        # converted a frame waited forever on threads that were not there (the demo's video "timed out").
        reformatter = VideoReformatter()
        for index, frame in enumerate(_decoded(fmt, container, stream)):
            elapsed = time.monotonic() - started
            if elapsed > limits.decode_timeout_s:
                raise DecodeTimeout(
                    f"decoding the {fmt.value} video passed {limits.decode_timeout_s:g} s at frame {index} "
                    "(SURAKSHA_MEDIA_DECODE_TIMEOUT_S)"
                )
            if start_pts is None:
                start_pts = frame.pts
            seconds = _timestamp(frame, start_pts, index, rate)
            if seconds > limits.max_video_seconds:
                raise MediaTooLarge(
                    f"the {fmt.value} video runs past {limits.max_video_seconds:,.0f} s "
                    f"(frame {index} is at {float(seconds):,.1f} s; SURAKSHA_MEDIA_MAX_VIDEO_SECONDS)"
                )
            _check_frame_size(fmt, int(frame.width), int(frame.height), limits)
            if per_second is not None:
                position = seconds * per_second
                if next_boundary is not None and position < next_boundary:
                    continue
                next_boundary = math.floor(position) + 1
            returned += 1
            if returned > limits.max_frames:
                raise MediaTooLarge(
                    f"the {fmt.value} video gives more than {limits.max_frames:,} frames to hash "
                    "(SURAKSHA_MEDIA_MAX_FRAMES); sample fewer frames per second or raise the limit"
                )
            yield VideoFrame(index, float(seconds), _to_rgb(fmt, reformatter, frame, index))
        if index < 0:
            raise CorruptMedia(
                f"the {fmt.value} file has a video stream but no decodable frames: it is empty or damaged"
            )


@contextmanager
def _open_video(source: bytes | pathlib.Path, limits: MediaLimits) -> Iterator[tuple[MediaFormat, Any, Any]]:
    with ExitStack() as stack:
        reader: BinaryIO
        if isinstance(source, bytes | bytearray | memoryview):
            size = len(source)
            _check_bytes(size, limits)
            reader = io.BytesIO(source)
        else:
            size = source.stat().st_size
            _check_bytes(size, limits)
            reader = stack.enter_context(source.open("rb"))
        fmt = sniff(reader.read(SNIFF_BYTES))
        if fmt.kind is not MediaKind.VIDEO:
            raise UnsupportedMedia(
                f"the content is an image ({fmt.value}), not a video: decode it with decode_image"
            )
        check_not_truncated(fmt, reader, size)
        reader.seek(0)
        try:
            container = stack.enter_context(av.open(reader, mode="r", format=_DEMUXER[fmt]))
        except MemoryError as exc:
            raise MediaTooLarge(f"the {fmt.value} container needs more memory than is available") from exc
        except _DECODER_ERRORS as exc:
            raise CorruptMedia(
                f"the {fmt.value} container could not be opened ({type(exc).__name__}: {exc}); "
                f"the file is damaged, truncated or not really a {fmt.value}"
            ) from exc
        if not container.streams.video:
            if container.streams.audio:
                raise UnsupportedMedia(f"the {fmt.value} file holds only audio: there are no frames to scan")
            raise CorruptMedia(f"the {fmt.value} file has no video stream (no frames were ever written)")
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise UnsupportedMedia(
                f"the {fmt.value} file's video codec is unknown to this FFmpeg build (or its codec "
                "header is damaged): it cannot be decoded"
            )
        yield fmt, container, stream


def _decoded(fmt: MediaFormat, container: Any, stream: Any) -> Iterator[Any]:
    """The decoder's frames, with FFmpeg's failures turned into ``CorruptMedia``."""
    try:
        yield from container.decode(stream)
    except MemoryError as exc:
        raise MediaTooLarge(f"a {fmt.value} frame needs more memory than is available") from exc
    except _DECODER_ERRORS as exc:
        raise CorruptMedia(
            f"the {fmt.value} video could not be decoded ({type(exc).__name__}: {exc}); "
            "the file is damaged or truncated: re-upload the complete file"
        ) from exc


def _to_rgb(fmt: MediaFormat, reformatter: VideoReformatter, frame: Any, index: int) -> npt.NDArray[np.uint8]:
    try:
        rgb = reformatter.reformat(frame, format="rgb24").to_ndarray()  # strips the decoder's line padding
    except _DECODER_ERRORS as exc:
        raise CorruptMedia(
            f"frame {index} of the {fmt.value} video could not be converted to RGB: {exc}"
        ) from exc
    return np.ascontiguousarray(rgb, dtype=np.uint8)


def _timestamp(frame: Any, start_pts: int | None, index: int, rate: Fraction | None) -> Fraction:
    """Exact presentation time in seconds; from the frame number and the average rate if pts is missing."""
    if frame.pts is not None and frame.time_base is not None:
        ticks = Fraction(int(frame.pts) - (start_pts or 0))
        return max(Fraction(0), ticks * Fraction(frame.time_base))
    return Fraction(index) / Fraction(rate) if rate else Fraction(0)


def _duration_s(container: Any, stream: Any) -> float | None:
    if container.duration is not None and container.duration > 0:
        return float(container.duration) / av.time_base
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return float(stream.duration * stream.time_base)
    return None


def _check_bytes(size: int, limits: MediaLimits) -> None:
    if size > limits.max_bytes:
        raise MediaTooLarge(
            f"the file is {size:,} bytes, over the limit of {limits.max_bytes:,} bytes "
            "(raise SURAKSHA_MEDIA_MAX_BYTES to accept it)"
        )


def _check_frame_size(fmt: MediaFormat, width: int, height: int, limits: MediaLimits) -> None:
    if width * height > limits.max_frame_pixels:
        raise MediaTooLarge(
            f"the {fmt.value} video's frames are {width}x{height} = {width * height:,} pixels, over the "
            f"limit of {limits.max_frame_pixels:,} (SURAKSHA_MEDIA_MAX_FRAME_PIXELS)"
        )
