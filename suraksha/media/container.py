"""Container-level truncation checks, read from a few box headers without decoding anything.

FFmpeg's demuxers stop quietly at the end of the data: a WebM cut in half decodes to its first half
with no error, and an MP4 whose ``moov`` comes first loses its last frames. Every one of these
containers declares its own length up front, so a file shorter than it says it is was truncated (in
transit, or by an upload limit) and must be reported as corrupt, not hashed as if it were whole.
Trailing bytes after the declared end (polyglots, padding) are allowed.
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from suraksha.media.detect import MediaFormat
from suraksha.media.errors import CorruptMedia

_MAX_TOP_LEVEL_BOXES = 10_000  # a real file has a handful; bounds the walk on hostile input
_EBML_SEGMENT_ID = 0x18538067


def check_not_truncated(fmt: MediaFormat, stream: BinaryIO, size: int) -> None:
    """Raise ``CorruptMedia`` if the container's own length fields say it is longer than ``size`` bytes."""
    if fmt in (MediaFormat.MP4, MediaFormat.MOV):
        declared = _iso_bmff_end(stream, size)
    elif fmt in (MediaFormat.WEBM, MediaFormat.MKV):
        declared = _ebml_end(stream, size)
    elif fmt is MediaFormat.AVI:
        stream.seek(4)
        (riff_size,) = struct.unpack("<I", _read_exactly(stream, 4, "RIFF header"))
        declared = 8 + riff_size
    else:
        return
    if declared is not None and declared > size:
        raise CorruptMedia(
            f"the {fmt.value} file is truncated: its container declares {declared:,} bytes but only "
            f"{size:,} are present; upload the complete file"
        )


def _read_exactly(stream: BinaryIO, count: int, what: str) -> bytes:
    chunk = stream.read(count)
    if len(chunk) != count:
        raise CorruptMedia(f"the file ends inside its {what}: it is truncated or not a real container")
    return chunk


def _iso_bmff_end(stream: BinaryIO, size: int) -> int | None:
    """End of the last top-level box (ISO/IEC 14496-12 section 4.2), or None if one runs to EOF."""
    position = 0
    for _ in range(_MAX_TOP_LEVEL_BOXES):
        if position >= size:
            return position
        if size - position < 8:
            return None  # a few stray trailing bytes: tolerated
        stream.seek(position)
        box_size, box_type = struct.unpack(">I4s", _read_exactly(stream, 8, "box header"))
        if position > 0 and not _is_box_type(box_type):
            return position  # not a box: bytes appended after the last one (a polyglot's tail)
        if box_size == 1:
            (box_size,) = struct.unpack(">Q", _read_exactly(stream, 8, f"{box_type!r} box header"))
        elif box_size == 0:
            return None  # "extends to the end of the file"
        if box_size < 8:
            raise CorruptMedia(f"the file has a malformed {box_type!r} box of {box_size} bytes")
        position += int(box_size)
        if position > size:
            return position
    return None


def _is_box_type(box_type: bytes) -> bool:
    """Top-level box types are four printable ASCII characters (``ftyp``, ``moov``, ``mdat``...)."""
    return all(0x20 <= byte <= 0x7E for byte in box_type)


def _read_vint(stream: BinaryIO, *, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer: (value, bytes read); value -1 for the reserved "unknown size"."""
    first = _read_exactly(stream, 1, "EBML element header")[0]
    if first == 0:
        raise CorruptMedia("the file has a malformed EBML element header")
    length = 9 - first.bit_length()
    rest = _read_exactly(stream, length - 1, "EBML element header")
    marker_mask = (1 << (8 - length)) - 1
    value = first if keep_marker else first & marker_mask
    all_ones = value == marker_mask
    for byte in rest:
        value = (value << 8) | byte
        all_ones = all_ones and byte == 0xFF
    return (-1 if all_ones and not keep_marker else value), length


def _ebml_end(stream: BinaryIO, size: int) -> int | None:
    """End of the Segment element (RFC 8794 / Matroska), or None if its size is "unknown" (live)."""
    stream.seek(0)
    position = 0
    for _ in range(8):  # the EBML header, perhaps Void elements, then the Segment
        element_id, id_length = _read_vint(stream, keep_marker=True)
        element_size, size_length = _read_vint(stream, keep_marker=False)
        position += id_length + size_length
        if element_size < 0:
            return None
        if element_id == _EBML_SEGMENT_ID:
            return position + element_size
        position += element_size
        if position > size:
            return position
        stream.seek(position)
    return None
