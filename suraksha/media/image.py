"""Safe image decoding: bounded, content-typed, orientation-corrected 8-bit pixels.

``decode_image`` is the one door through which uploaded image bytes become pixels. In order:

1. more than ``max_bytes`` -> ``MediaTooLarge``, before anything is parsed;
2. the magic bytes decide the format (``detect.sniff``); a video -> ``UnsupportedMedia``;
3. the header is parsed (Pillow's ``Image.open`` is lazy, restricted to the sniffed format) and
   width x height is checked against ``max_pixels`` before a single pixel is allocated;
4. the pixels are decoded: baseline RGB/greyscale JPEGs by libjpeg-turbo through ``simplejpeg``
   (byte-identical to Pillow's decode, and faster: tested), everything else by Pillow. Truncated
   files are errors, never grey-padded pictures;
5. every mode becomes 8-bit RGB by the rules in ``modes``; the EXIF orientation is applied
   (``ImageOps.exif_transpose`` semantics, XMP ``tiff:Orientation`` included);
6. if it all took longer than ``decode_timeout_s``, ``DecodeTimeout`` (killing a decoder stuck inside
   C code is the scanning worker's job).

Any failure ends as a ``MediaError`` whose message says what was wrong with the input.
"""

from __future__ import annotations

import io
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import simplejpeg
from PIL import Image, ImageFile, UnidentifiedImageError, features

from suraksha.media.detect import SNIFF_BYTES, MediaFormat, MediaKind, sniff
from suraksha.media.errors import CorruptMedia, DecodeTimeout, MediaError, MediaTooLarge, UnsupportedMedia
from suraksha.media.limits import DEFAULT_LIMITS, MediaLimits
from suraksha.media.modes import Gray, Rgb, luma_from_rgb, to_pixels

_PILLOW_FORMAT = {
    MediaFormat.JPEG: "JPEG",
    MediaFormat.PNG: "PNG",
    MediaFormat.WEBP: "WEBP",
    MediaFormat.GIF: "GIF",
    MediaFormat.BMP: "BMP",
    MediaFormat.TIFF: "TIFF",
    MediaFormat.HEIC: "HEIF",
    MediaFormat.AVIF: "AVIF",
}

_EXIF_ORIENTATION = 0x0112

# Pillow's bomb limit and the warnings filter are process-wide; the lock keeps two threads with
# different limits from crossing over while a header is parsed (decoding itself runs outside it).
_OPEN_LOCK = threading.Lock()
_HEIF_LOCK = threading.Lock()
_heif_registered = False


@dataclass(frozen=True, slots=True)
class DecodedImage:
    """A decoded image after orientation: ``width`` x ``height`` as displayed.

    ``rgb`` is (H, W, 3) uint8 C-contiguous, or None when decoded with ``luma_only``; ``luma`` is
    (H, W) uint8, or None unless decoded with ``luma_only``.
    """

    format: MediaFormat
    width: int
    height: int
    rgb: npt.NDArray[np.uint8] | None
    luma: npt.NDArray[np.uint8] | None = None
    source_mode: str = ""
    """The Pillow mode the file was stored in (``CMYK``, ``P``, ``I;16``...), for logs and statistics."""


def decode_image(
    data: bytes, limits: MediaLimits = DEFAULT_LIMITS, *, luma_only: bool = False
) -> DecodedImage:
    """Decode an image file's bytes into oriented 8-bit pixels (see the module docstring).

    ``luma_only`` is the fast path for hashers that only need luminance: JPEGs return the decoder's own
    Y plane (no colour conversion), other formats ``modes.luma_from_rgb`` of the normalised RGB.
    """
    started = time.monotonic()
    if len(data) > limits.max_bytes:
        raise MediaTooLarge(
            f"the file is {len(data):,} bytes, over the limit of {limits.max_bytes:,} bytes "
            "(raise SURAKSHA_MEDIA_MAX_BYTES to accept it)"
        )
    fmt = sniff(data[:SNIFF_BYTES])
    if fmt.kind is MediaKind.VIDEO:
        raise UnsupportedMedia(
            f"the content is a video ({fmt.value}), not an image: decode it with iter_frames"
        )
    if fmt in (MediaFormat.HEIC, MediaFormat.AVIF):
        _ensure_heif_support(fmt)
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # a process-wide switch some libraries flip on import
        raise RuntimeError(
            "PIL.ImageFile.LOAD_TRUNCATED_IMAGES has been set to True in this process: truncated uploads "
            "would be hashed as grey-padded pictures. Find what sets it and leave it False."
        )
    try:
        decoded = _decode(data, fmt, limits, luma_only=luma_only)
    except MediaError:
        raise
    except MemoryError as exc:
        raise MediaTooLarge(f"the {fmt.value} image needs more memory than is available to decode") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaTooLarge(f"the {fmt.value} image is a decompression bomb: {exc}") from exc
    except Exception as exc:
        # Pillow's plugins raise a zoo of exceptions on hostile input (OSError, SyntaxError, ValueError,
        # struct.error, EOFError, IndexError, KeyError, ZeroDivisionError...): the fuzz test feeds them.
        raise CorruptMedia(
            f"the {fmt.value} image could not be decoded ({type(exc).__name__}: {exc}); "
            f"the file is damaged, truncated or not really a {fmt.value}: re-upload or re-export it"
        ) from exc
    elapsed = time.monotonic() - started
    if elapsed > limits.decode_timeout_s:
        raise DecodeTimeout(
            f"decoding the {fmt.value} image took {elapsed:.1f} s, over the limit of "
            f"{limits.decode_timeout_s:g} s (SURAKSHA_MEDIA_DECODE_TIMEOUT_S)"
        )
    return decoded


def _decode(data: bytes, fmt: MediaFormat, limits: MediaLimits, *, luma_only: bool) -> DecodedImage:
    with _open_header(data, fmt, limits) as image:
        source_mode = image.mode
        if fmt is MediaFormat.JPEG and image.mode in ("RGB", "L"):
            pixels = _decode_jpeg_turbo(data, image.size, luma_only=luma_only)
            if pixels is not None:
                return _finish(fmt, source_mode, pixels, _orientation(image), luma_only=luma_only)
            if luma_only and image.mode == "RGB":
                full_size = image.size
                image.draft("L", full_size)  # the Y plane at full size; never a reduced-size draft
                if image.size != full_size or image.mode != "L":
                    raise CorruptMedia("the JPEG decoder would not decode the luma plane at full size")
        image.load()  # decodes the first frame only (animated GIF/WebP, multi-page TIFF)
        return _finish(fmt, source_mode, to_pixels(image), _orientation(image), luma_only=luma_only)


@contextmanager
def _open_header(data: bytes, fmt: MediaFormat, limits: MediaLimits) -> Iterator[Image.Image]:
    """``Image.open`` restricted to one format, with the pixel limit checked before decoding."""
    with _OPEN_LOCK, warnings.catch_warnings():
        # Pillow's own check, set to our limit: it raises past twice the limit (its message gives the
        # size); below that it only warns, and the check just after this block refuses the image.
        Image.MAX_IMAGE_PIXELS = limits.max_pixels
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data), formats=[_PILLOW_FORMAT[fmt]])
        except Image.DecompressionBombError as exc:
            raise MediaTooLarge(
                f"the {fmt.value} image is over the limit of {limits.max_pixels:,} pixels ({exc}); "
                "it was not decoded (SURAKSHA_MEDIA_MAX_PIXELS)"
            ) from exc
        except UnidentifiedImageError as exc:
            raise CorruptMedia(
                f"the content starts like a {fmt.value} image but its header cannot be read: the file is "
                "damaged or truncated, or only pretends to be an image"
            ) from exc
    with image:
        width, height = image.size
        if width <= 0 or height <= 0:
            raise CorruptMedia(f"the {fmt.value} header declares an empty image ({width}x{height})")
        if width * height > limits.max_pixels:
            raise MediaTooLarge(
                f"the {fmt.value} image is {width}x{height} = {width * height:,} pixels, over the limit of "
                f"{limits.max_pixels:,} (SURAKSHA_MEDIA_MAX_PIXELS); it was not decoded"
            )
        yield image


def _decode_jpeg_turbo(data: bytes, size: tuple[int, int], *, luma_only: bool) -> Gray | Rgb | None:
    """libjpeg-turbo's decode, or None to let Pillow decide (it also reports truncation precisely).

    ``strict=True`` turns libjpeg's recoverable warnings ("Premature end of JPEG file", after which it
    pads with grey) into errors; Pillow then re-decodes, and raises for truncation but accepts the
    harmless warnings (extraneous bytes before a marker) that Pillow's reference decode accepts too.
    """
    try:
        pixels = simplejpeg.decode_jpeg(data, colorspace="GRAY" if luma_only else "RGB", strict=True)
    except ValueError:
        return None
    width, height = size
    if pixels.shape[:2] != (height, width):
        return None
    result: Gray | Rgb = pixels[:, :, 0] if luma_only else pixels
    return np.ascontiguousarray(result)


def _finish(
    fmt: MediaFormat,
    source_mode: str,
    pixels: Gray | Rgb,
    orientation: int,
    *,
    luma_only: bool,
) -> DecodedImage:
    pixels = np.ascontiguousarray(apply_orientation(pixels, orientation))
    height, width = pixels.shape[:2]
    if luma_only:
        luma = pixels if pixels.ndim == 2 else luma_from_rgb(pixels)
        return DecodedImage(fmt, width, height, None, np.ascontiguousarray(luma), source_mode)
    if pixels.ndim == 2:
        pixels = np.ascontiguousarray(np.repeat(pixels[:, :, np.newaxis], 3, axis=2))
    return DecodedImage(fmt, width, height, pixels, None, source_mode)


def _orientation(image: Image.Image) -> int:
    """EXIF (or XMP) orientation 1-8; 1 when absent, invalid or unreadable (the pixels are still good)."""
    try:
        value = image.getexif().get(_EXIF_ORIENTATION, 1)
    except Exception:  # a malformed EXIF block must not cost us an otherwise good image
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


_ORIENT: dict[int, Callable[[npt.NDArray[np.uint8]], npt.NDArray[np.uint8]]] = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],  # FLIP_LEFT_RIGHT
    3: lambda a: a[::-1, ::-1],  # ROTATE_180
    4: lambda a: a[::-1],  # FLIP_TOP_BOTTOM
    5: lambda a: np.swapaxes(a, 0, 1),  # TRANSPOSE
    6: lambda a: np.swapaxes(a, 0, 1)[:, ::-1],  # ROTATE_270 (90 degrees clockwise)
    7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],  # TRANSVERSE
    8: lambda a: np.swapaxes(a, 0, 1)[::-1],  # ROTATE_90 (90 degrees counter-clockwise)
}


def apply_orientation(pixels: npt.NDArray[np.uint8], orientation: int) -> npt.NDArray[np.uint8]:
    """Pixels as displayed, for an EXIF orientation 1-8 (the transposes ``ImageOps.exif_transpose`` uses).

    Returns a view; callers make it contiguous once at the end.
    """
    return _ORIENT.get(orientation, _ORIENT[1])(pixels)


def _ensure_heif_support(fmt: MediaFormat) -> None:
    """HEIC needs pillow-heif (the ``suraksha[heif]`` extra); AVIF uses Pillow's own plugin when built in."""
    global _heif_registered  # noqa: PLW0603 - registration with Pillow is process-wide by nature
    if fmt is MediaFormat.AVIF and features.check("avif"):
        return
    with _HEIF_LOCK:
        if _heif_registered:
            return
        try:
            import pillow_heif  # noqa: PLC0415 - optional dependency, imported on first use
        except ImportError as exc:
            raise UnsupportedMedia(
                f"{fmt.value.upper()} images need the optional HEIF decoder: install it with "
                "pip install 'suraksha[heif]'"
            ) from exc
        pillow_heif.register_heif_opener()
        register_avif = getattr(pillow_heif, "register_avif_opener", None)
        if register_avif is not None and not features.check("avif"):
            register_avif()
        _heif_registered = True
