"""Typed media errors.

Every file that cannot be hashed ends in exactly one of these states. None of them is ever reported as
"no match": a batch records the state next to the file and moves on.
"""

from __future__ import annotations

from enum import StrEnum


class MediaErrorKind(StrEnum):
    UNSUPPORTED = "unsupported"  # a format we do not decode (or not media at all)
    CORRUPT = "corrupt"  # the decoder failed: truncated, malformed, mislabelled
    TOO_LARGE = "too_large"  # a size, pixel, frame or duration limit was broken
    TIMED_OUT = "timed_out"  # decoding ran past the time limit


class MediaError(Exception):
    """A file could not be decoded. ``kind`` says which state it ends in; the message says why."""

    kind: MediaErrorKind = MediaErrorKind.CORRUPT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedMedia(MediaError):
    kind = MediaErrorKind.UNSUPPORTED


class CorruptMedia(MediaError):
    kind = MediaErrorKind.CORRUPT


class MediaTooLarge(MediaError):
    kind = MediaErrorKind.TOO_LARGE


class DecodeTimeout(MediaError):
    kind = MediaErrorKind.TIMED_OUT
