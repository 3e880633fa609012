"""Hostile and broken images: every one ends as a typed MediaError, never a crash or a silent pass."""

from __future__ import annotations

import io
import random
import time
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from suraksha.media import (
    DEFAULT_LIMITS,
    CorruptMedia,
    DecodedImage,
    DecodeTimeout,
    MediaError,
    MediaErrorKind,
    MediaFormat,
    MediaLimits,
    MediaTooLarge,
    UnsupportedMedia,
    decode_image,
)

from ._craft import encode, png_declaring, png_header, scene, video, zero_bomb_png


def decode_or_error(
    data: bytes, limits: MediaLimits = DEFAULT_LIMITS, *, luma_only: bool = False
) -> DecodedImage | MediaError:
    try:
        return decode_image(data, limits, luma_only=luma_only)
    except MediaError as error:
        return error


JPEG = encode(Image.fromarray(scene(96, 64)), "JPEG", quality=85)
PNG = encode(Image.fromarray(scene(48, 32)), "PNG")


def test_truncated_jpeg_is_corrupt_not_grey_padded() -> None:
    import simplejpeg

    for cut in (len(JPEG) // 2, len(JPEG) - 2, len(JPEG) - 40):
        truncated = JPEG[:cut]
        # libjpeg-turbo on its own "recovers": it pads the missing rows with grey and only warns.
        padded = simplejpeg.decode_jpeg(truncated, strict=False)
        assert padded.shape == (64, 96, 3)
        for luma_only in (False, True):
            with pytest.raises(CorruptMedia, match="truncated"):
                decode_image(truncated, luma_only=luma_only)


@pytest.mark.parametrize("file_format", ["PNG", "GIF", "WEBP", "BMP", "TIFF"])
def test_truncated_images_of_every_format_are_corrupt(file_format: str) -> None:
    data = encode(Image.fromarray(scene(48, 32)), file_format)
    with pytest.raises(CorruptMedia) as caught:
        decode_image(data[: len(data) * 2 // 3])
    assert file_format.lower() in caught.value.message
    assert caught.value.kind is MediaErrorKind.CORRUPT


def test_huge_png_header_is_refused_without_allocating() -> None:
    header_only = png_declaring(50_000, 50_000)  # 2.5 gigapixels declared in 66 bytes
    tracemalloc.start()
    try:
        started = time.perf_counter()
        with pytest.raises(MediaTooLarge) as caught:
            decode_image(header_only)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.kind is MediaErrorKind.TOO_LARGE
    assert "SURAKSHA_MEDIA_MAX_PIXELS" in caught.value.message
    assert peak < 5_000_000
    assert elapsed < 1.0


def test_pixel_limit_is_ours_not_pillows_default() -> None:
    just_over = png_declaring(10_001, 10_000)  # 100,010,000 > 100,000,000, under twice Pillow's default
    with pytest.raises(MediaTooLarge):
        decode_image(just_over)
    small_limit = MediaLimits(max_pixels=48 * 32 - 1)
    with pytest.raises(MediaTooLarge, match="48x32"):
        decode_image(PNG, small_limit)
    assert decode_image(PNG, MediaLimits(max_pixels=48 * 32)).width == 48


def test_zip_bomb_png_is_refused_by_the_pixel_limit() -> None:
    bomb = zero_bomb_png(20_000, 20_000)  # a real, complete PNG: 400 megapixels of zeros
    assert len(bomb) < 100_000
    with pytest.raises(MediaTooLarge):
        decode_image(bomb)


def test_file_over_max_bytes_is_refused_before_decoding() -> None:
    limits = MediaLimits(max_bytes=len(JPEG) - 1)
    with pytest.raises(MediaTooLarge, match="bytes"):
        decode_image(JPEG, limits)
    with pytest.raises(MediaTooLarge):
        decode_image(b"\x00" * 100, MediaLimits(max_bytes=10))  # before even looking at the content


def test_slow_decode_raises_decode_timeout() -> None:
    with pytest.raises(DecodeTimeout) as caught:
        decode_image(JPEG, MediaLimits(decode_timeout_s=0.0))
    assert caught.value.kind is MediaErrorKind.TIMED_OUT


def test_zero_bytes_and_random_bytes_are_unsupported() -> None:
    with pytest.raises(UnsupportedMedia, match="empty"):
        decode_image(b"")
    rng = random.Random(99)
    for _ in range(50):
        with pytest.raises(UnsupportedMedia):
            decode_image(b"\x00" + rng.randbytes(200))


@pytest.mark.filterwarnings("ignore::UserWarning:PIL")
def test_random_bytes_behind_real_magic_are_corrupt() -> None:
    rng = random.Random(5)
    for magic in (
        b"\xff\xd8\xff\xe0",
        b"\x89PNG\r\n\x1a\n",
        b"GIF89a",
        b"II*\x00",
        b"RIFF\x00\x01\x00\x00WEBP",
    ):
        with pytest.raises(MediaError):
            decode_image(magic + rng.randbytes(300))


def test_wrong_extension_content_decides(tmp_path: object) -> None:
    decoded = decode_image(PNG)  # whatever an upload called it ("photo.jpg"), the bytes say PNG
    assert decoded.format is MediaFormat.PNG
    gif_named_png = encode(Image.fromarray(scene(16, 16)), "GIF")
    assert decode_image(gif_named_png).format is MediaFormat.GIF


def test_a_video_handed_to_decode_image_says_it_is_a_video() -> None:
    with pytest.raises(UnsupportedMedia, match="video"):
        decode_image(video(frames=2, size=(32, 32)))


def test_jpeg_with_a_zip_appended_decodes_as_the_jpeg() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.txt", "hidden")
    polyglot = JPEG + archive.getvalue()
    assert zipfile.is_zipfile(io.BytesIO(polyglot))
    plain, combined = decode_image(JPEG), decode_image(polyglot)
    assert combined.format is MediaFormat.JPEG
    assert plain.rgb is not None
    assert combined.rgb is not None
    assert np.array_equal(plain.rgb, combined.rgb)


def test_gif_javascript_polyglot_decodes_as_a_gif() -> None:
    gif = encode(Image.fromarray(scene(32, 20)).quantize(32), "GIF")
    # "GIF89a/*" opens a JavaScript comment; the screen width bytes become "/*", the tail closes it.
    polyglot = b"GIF89a/*" + gif[8:] + b"*/=1;console.log('polyglot');"
    outcome = decode_or_error(polyglot)
    if isinstance(outcome, MediaError):
        assert outcome.kind in (MediaErrorKind.CORRUPT, MediaErrorKind.TOO_LARGE)
    else:
        assert outcome.format is MediaFormat.GIF
        assert outcome.width == int.from_bytes(b"/*", "little")


def test_empty_image_dimensions_are_corrupt() -> None:
    with pytest.raises(MediaError):
        decode_image(png_header(0, 10))


# --- fuzzing --------------------------------------------------------------------------------------------

SEEDS = {
    "jpeg": JPEG,
    "progressive jpeg": encode(Image.fromarray(scene(40, 24)), "JPEG", progressive=True),
    "cmyk jpeg": encode(Image.fromarray(scene(24, 16)).convert("CMYK"), "JPEG"),
    "png": PNG,
    "palette png": encode(Image.fromarray(scene(24, 16)).quantize(16), "PNG", transparency=0),
    "gif": encode(Image.fromarray(scene(24, 16)).quantize(16), "GIF"),
    "webp": encode(Image.fromarray(scene(24, 16)), "WEBP"),
    "bmp": encode(Image.fromarray(scene(24, 16)), "BMP"),
    "tiff": encode(Image.fromarray(scene(24, 16)), "TIFF", compression="tiff_lzw"),
}

mutation = st.tuples(
    st.sampled_from(["flip", "set", "cut", "insert", "delete"]),
    st.integers(min_value=0, max_value=1 << 20),
    st.integers(min_value=0, max_value=255),
)


def mutate(data: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    buffer = bytearray(data)
    for kind, where, value in edits:
        if not buffer:
            break
        position = where % len(buffer)
        if kind == "flip":
            buffer[position] ^= 1 << (value % 8)
        elif kind == "set":
            buffer[position] = value
        elif kind == "cut":
            del buffer[position:]
        elif kind == "insert":
            buffer[position:position] = bytes([value]) * (1 + value % 7)
        else:
            del buffer[position : position + 1 + value % 16]
    return bytes(buffer)


@pytest.mark.filterwarnings("ignore::UserWarning:PIL")
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(sorted(SEEDS)), edits=st.lists(mutation, min_size=1, max_size=6), luma=st.booleans()
)
def test_mutated_images_raise_only_media_errors(
    seed: str, edits: list[tuple[str, int, int]], luma: bool
) -> None:
    data = mutate(SEEDS[seed], edits)
    outcome = decode_or_error(data, MediaLimits(max_pixels=4_000_000), luma_only=luma)
    if isinstance(outcome, MediaError):
        assert outcome.message
        return
    pixels = outcome.luma if luma else outcome.rgb
    assert pixels is not None
    assert pixels.dtype == np.uint8
    assert pixels.shape[:2] == (outcome.height, outcome.width)
