"""Media type detection from content, never from the file name.

Uploads lie about their type (a PNG named ``.jpg``, a video named ``.gif``), so the first bytes decide.
``sniff`` recognises exactly the formats we decode and raises :class:`UnsupportedMedia` for anything
else, naming what it saw so the person reading the error knows what the file really is.
"""

from __future__ import annotations

import struct
from enum import StrEnum

from suraksha.media.errors import UnsupportedMedia

SNIFF_BYTES = 4096
"""How many leading bytes ``sniff`` needs to decide (an ISO-BMFF ``ftyp`` box or an EBML header fits)."""


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class MediaFormat(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    GIF = "gif"
    BMP = "bmp"
    TIFF = "tiff"
    HEIC = "heic"
    AVIF = "avif"
    MP4 = "mp4"
    MOV = "mov"
    WEBM = "webm"
    MKV = "mkv"
    AVI = "avi"

    @property
    def kind(self) -> MediaKind:
        return MediaKind.VIDEO if self in _VIDEO_FORMATS else MediaKind.IMAGE


_VIDEO_FORMATS = frozenset(
    {MediaFormat.MP4, MediaFormat.MOV, MediaFormat.WEBM, MediaFormat.MKV, MediaFormat.AVI}
)

# ISO base media file format (ISO/IEC 14496-12) brands, from the ftyp box. HEIF's generic brands
# (mif1, msf1) also appear in AVIF files, so AVIF brands are looked for first.
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"})
_HEIF_GENERIC_BRANDS = frozenset({b"mif1", b"msf1"})
_MOV_BRANDS = frozenset({b"qt  "})
_MP4_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso3", b"iso4", b"iso5", b"iso6", b"iso7", b"iso8", b"iso9", b"mp41", b"mp42"}
    | {b"mp71", b"avc1", b"dash", b"msnv", b"ndas", b"ndsc", b"ndsh", b"ndsm", b"ndsp", b"ndss"}
    | {b"ndxc", b"ndxh", b"ndxm", b"ndxp", b"ndxs", b"M4V ", b"M4VH", b"M4VP", b"mmp4", b"f4v "}
    | {b"3gp4", b"3gp5", b"3gp6", b"3gp7", b"3gp8", b"3gp9", b"3g2a", b"3g2b", b"3g2c", b"3ge6"}
    | {b"3ge7", b"3gg6", b"kddi", b"XAVC", b"MSNV", b"cmfc", b"cmf2"}
)
_AUDIO_BRANDS = frozenset({b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "})
# Classic QuickTime files may start with one of these atoms instead of ftyp.
_QUICKTIME_ATOMS = frozenset({b"moov", b"mdat", b"wide", b"pnot", b"free", b"skip"})

# DIB header sizes a real BMP can have (BITMAPCOREHEADER .. BITMAPV5HEADER); "BM" alone is too weak.
_BMP_DIB_SIZES = frozenset({12, 16, 40, 52, 56, 64, 108, 124})

_EBML_MAGIC = b"\x1a\x45\xdf\xa3"
_EBML_DOCTYPE_ID = 0x4282

# Things people upload that are not media, named so that the error says what the file is.
_NOT_MEDIA: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (or a ZIP-based document)"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x7fELF", "an ELF executable"),
    (b"MZ", "a Windows executable"),
    (b"ID3", "an MP3 audio file"),
    (b"fLaC", "a FLAC audio file"),
    (b"OggS", "an Ogg file (audio or Theora video, not decoded)"),
    (b"8BPS", "a Photoshop document"),
    (b"\x00\x00\x01\x00", "a Windows icon"),
    (b"\x00\x00\x00\x0cjP  ", "a JPEG 2000 image"),
    (b"\xff\x4f\xff\x51", "a JPEG 2000 codestream"),
    (b"\xff\x0a", "a JPEG XL image"),
    (b"\x00\x00\x00\x0cJXL ", "a JPEG XL image"),
)


def sniff(head: bytes) -> MediaFormat:
    """The format of a file from its first bytes (pass at least ``SNIFF_BYTES`` when you have them).

    Raises ``UnsupportedMedia`` for empty input and for anything that is not one of ``MediaFormat``,
    with a message that names what was seen.
    """
    if not head:
        raise UnsupportedMedia("the file is empty (0 bytes): there is nothing to decode")
    if head.startswith(b"\xff\xd8\xff"):
        return MediaFormat.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaFormat.PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return MediaFormat.GIF
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return MediaFormat.TIFF
    if head.startswith(b"RIFF") and len(head) >= 12:
        riff_type = head[8:12]
        if riff_type == b"WEBP":
            return MediaFormat.WEBP
        if riff_type == b"AVI ":
            return MediaFormat.AVI
        raise UnsupportedMedia(f"a RIFF file of type {_show(riff_type)} is neither WebP nor AVI")
    if head.startswith(b"BM") and len(head) >= 18:
        (dib_size,) = struct.unpack_from("<I", head, 14)
        if dib_size in _BMP_DIB_SIZES:
            return MediaFormat.BMP
    if head.startswith(_EBML_MAGIC):
        return _sniff_ebml(head)
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return _sniff_ftyp(head)
    if len(head) >= 8 and head[4:8] in _QUICKTIME_ATOMS:
        (atom_size,) = struct.unpack_from(">I", head)
        if atom_size not in range(2, 8):  # 0: to the end of the file, 1: a 64-bit size follows
            return MediaFormat.MOV
    raise UnsupportedMedia(f"{_describe_unknown(head)}; supported: {', '.join(f.value for f in MediaFormat)}")


def _sniff_ftyp(head: bytes) -> MediaFormat:
    (box_size,) = struct.unpack_from(">I", head)
    end = min(len(head), box_size if box_size >= 16 else 16)
    major = head[8:12]
    compatible = {head[i : i + 4] for i in range(16, end - 3, 4)}
    for brands, fmt in (
        (_AVIF_BRANDS, MediaFormat.AVIF),
        (_HEIC_BRANDS, MediaFormat.HEIC),
        (_MOV_BRANDS, MediaFormat.MOV),
        (_MP4_BRANDS, MediaFormat.MP4),
    ):
        if major in brands:
            return fmt
    if major in _AUDIO_BRANDS:
        raise UnsupportedMedia(f"an MPEG-4 audio file (brand {_show(major)}): audio is not scanned")
    for brands, fmt in (
        (_AVIF_BRANDS, MediaFormat.AVIF),
        (_HEIC_BRANDS | _HEIF_GENERIC_BRANDS, MediaFormat.HEIC),
        (_MOV_BRANDS, MediaFormat.MOV),
        (_MP4_BRANDS, MediaFormat.MP4),
    ):
        if compatible & brands:
            return fmt
    raise UnsupportedMedia(
        f"an ISO media file with brand {_show(major)} (compatible: "
        f"{', '.join(sorted(_show(b) for b in compatible)) or 'none'}), which is not a video or image "
        "format we decode"
    )


def _sniff_ebml(head: bytes) -> MediaFormat:
    """Matroska and WebM share the EBML container; the header's DocType element tells them apart."""
    doctype = _ebml_doctype(head)
    if doctype == b"webm":
        return MediaFormat.WEBM
    if doctype == b"matroska":
        return MediaFormat.MKV
    raise UnsupportedMedia(f"an EBML file with DocType {_show(doctype or b'')}, neither WebM nor Matroska")


def _read_vint(buf: bytes, pos: int, *, keep_marker: bool) -> tuple[int, int]:
    """An EBML variable-length integer at ``pos``: (value, position after it)."""
    if pos >= len(buf):
        raise IndexError(pos)
    first = buf[pos]
    length = 8 - first.bit_length() + 1
    if first == 0 or pos + length > len(buf):
        raise IndexError(pos)
    value = first if keep_marker else first & ((1 << (8 - length)) - 1)
    for byte in buf[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, pos + length


def _ebml_doctype(head: bytes) -> bytes | None:
    try:
        _, pos = _read_vint(head, 0, keep_marker=True)
        size, pos = _read_vint(head, pos, keep_marker=False)
        end = min(len(head), pos + size)
        while pos < end:
            element_id, pos = _read_vint(head, pos, keep_marker=True)
            element_size, pos = _read_vint(head, pos, keep_marker=False)
            if element_id == _EBML_DOCTYPE_ID:
                return head[pos : pos + element_size].rstrip(b"\x00")
            pos += element_size
    except IndexError:
        return None
    return b"matroska"  # DocType's default value in the EBML specification (RFC 8794)


def _show(raw: bytes) -> str:
    return repr(raw.decode("latin-1"))


def _describe_unknown(head: bytes) -> str:
    for magic, what in _NOT_MEDIA:
        if head.startswith(magic):
            return f"the content is {what}, not an image or video"
    stripped = head.lstrip()[:256].lower()
    if stripped.startswith((b"<svg", b"<?xml")) and b"<svg" in stripped:
        return "the content is an SVG drawing (vector images are not decoded)"
    if stripped.startswith((b"<!doctype html", b"<html", b"<head", b"<body")):
        return "the content is an HTML page, not an image or video (was a URL fetched instead of its media?)"
    first = head[:16]
    return (
        f"unrecognised content ({len(head)} bytes seen, starting {first.hex(' ')} "
        f"{_show(first)}): not an image or video we decode"
    )
