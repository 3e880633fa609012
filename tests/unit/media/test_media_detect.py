"""Content decides the type: magic bytes, ftyp brands, EBML DocType, RIFF form type."""

from __future__ import annotations

import random
import struct

import pytest
from PIL import Image

from suraksha.media import MediaFormat, MediaKind, UnsupportedMedia, sniff

from ._craft import encode, scene, video


def ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\x00\x00\x02\x00" + b"".join(compatible)
    return struct.pack(">I", 8 + len(body)) + b"ftyp" + body + b"\x00\x00\x00\x08free"


@pytest.mark.parametrize(
    ("pillow_format", "expected"),
    [
        ("JPEG", MediaFormat.JPEG),
        ("PNG", MediaFormat.PNG),
        ("WEBP", MediaFormat.WEBP),
        ("GIF", MediaFormat.GIF),
        ("BMP", MediaFormat.BMP),
        ("TIFF", MediaFormat.TIFF),
    ],
)
def test_images_written_by_pillow(pillow_format: str, expected: MediaFormat) -> None:
    data = encode(Image.fromarray(scene(32, 24)), pillow_format)
    assert sniff(data[:4096]) is expected
    assert expected.kind is MediaKind.IMAGE


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (ftyp(b"isom", b"isom", b"iso2", b"avc1", b"mp41"), MediaFormat.MP4),
        (ftyp(b"mp42", b"mp42", b"isom"), MediaFormat.MP4),
        (ftyp(b"qt  ", b"qt  "), MediaFormat.MOV),
        (ftyp(b"heic", b"mif1", b"heic"), MediaFormat.HEIC),
        (ftyp(b"mif1", b"mif1", b"heic"), MediaFormat.HEIC),
        (ftyp(b"avif", b"avif", b"mif1", b"miaf"), MediaFormat.AVIF),
        (ftyp(b"mif1", b"avif", b"mif1", b"miaf"), MediaFormat.AVIF),  # generic major, AVIF compatible
        (ftyp(b"XXXX", b"isom"), MediaFormat.MP4),
        (b"\x00\x00\x00\x10moov\x00\x00\x00\x08mvhd", MediaFormat.MOV),
    ],
)
def test_iso_media_brands(head: bytes, expected: MediaFormat) -> None:
    assert sniff(head) is expected


def test_iso_media_audio_and_unknown_brands_are_unsupported() -> None:
    with pytest.raises(UnsupportedMedia, match="audio"):
        sniff(ftyp(b"M4A ", b"M4A ", b"isom"))
    with pytest.raises(UnsupportedMedia, match="'crx '"):
        sniff(ftyp(b"crx ", b"crx "))


@pytest.mark.parametrize(
    ("fmt", "codec", "expected"),
    [
        ("mp4", "libx264", MediaFormat.MP4),
        ("mov", "libx264", MediaFormat.MOV),
        ("webm", "libvpx-vp9", MediaFormat.WEBM),
        ("matroska", "libx264", MediaFormat.MKV),
        ("avi", "mpeg4", MediaFormat.AVI),
    ],
)
def test_videos_written_by_pyav(fmt: str, codec: str, expected: MediaFormat) -> None:
    data = video(fmt, codec, frames=2, size=(32, 32))
    assert sniff(data[:4096]) is expected
    assert expected.kind is MediaKind.VIDEO


def test_ebml_without_doctype_is_matroska_and_other_doctypes_are_refused() -> None:
    # EBML header holding only EBMLVersion = 1: DocType takes its default, "matroska".
    assert sniff(b"\x1a\x45\xdf\xa3\x84\x42\x86\x81\x01") is MediaFormat.MKV
    with pytest.raises(UnsupportedMedia, match="DocType"):
        sniff(b"\x1a\x45\xdf\xa3\x87\x42\x82\x84abcd")


def test_riff_that_is_neither_webp_nor_avi() -> None:
    with pytest.raises(UnsupportedMedia, match="'WAVE'"):
        sniff(b"RIFF\x24\x00\x00\x00WAVEfmt ")


def test_empty_input_says_it_is_empty() -> None:
    with pytest.raises(UnsupportedMedia, match="empty"):
        sniff(b"")


@pytest.mark.parametrize(
    ("head", "named"),
    [
        (b"PK\x03\x04\x14\x00\x00\x00", "ZIP"),
        (b"%PDF-1.7\n", "PDF"),
        (b"<!DOCTYPE html><html>", "HTML"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">', "SVG"),
        (b"ID3\x04\x00\x00\x00", "MP3"),
        (b"hello, world: plain text", "unrecognised"),
        (b"BMxxxxxxxxxxxxxxxxxxxx", "unrecognised"),  # "BM" without a real DIB header
    ],
)
def test_unsupported_content_is_named(head: bytes, named: str) -> None:
    with pytest.raises(UnsupportedMedia, match=named):
        sniff(head)


def test_random_bytes_are_unsupported_not_a_crash() -> None:
    rng = random.Random(1234)
    for _ in range(500):
        head = rng.randbytes(rng.randrange(1, 64))
        try:
            outcome: MediaFormat | str = sniff(head)
        except UnsupportedMedia as error:
            outcome = error.message
        assert outcome
