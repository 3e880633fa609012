"""Every Pillow image mode to 8-bit pixels, the same way each time.

Hashes are only comparable when every copy of a picture becomes the same pixels, whatever mode the file
was saved in. python-threatexchange hashes CMYK and palette images wrongly (254 and 38 bits off on the
reference bridge photo); these rules are tested against that photo saved in every mode.

The rules:

- Transparency (an alpha band, or a palette's transparent entries) is composited onto white: a
  transparent pixel is "no ink", as it looks on a white page or a light-themed feed. Dropping alpha
  instead would expose whatever colour the encoder left under transparent pixels, which is often black
  and differs between encoders.
- 16-bit integers are scaled to 8 bits over their full range (v / 257, rounded). Mode ``I`` (32-bit
  signed, no declared bit depth) is read as 8-bit if every value fits 0-255, as 16-bit if every value
  fits 0-65535, and otherwise stretched from its minimum to its maximum. Mode ``F`` (float) is read as
  0-1 if every value fits there, as 0-255 if every value fits there, and otherwise stretched; NaN and
  infinities become 0.
- CMYK goes through the embedded ICC profile when there is one (to sRGB, perceptual intent); without a
  profile, or with a profile LittleCMS rejects, Pillow's naive conversion is used. Adobe-style
  inverted CMYK JPEGs are un-inverted by Pillow's JPEG reader before they get here.
- LAB goes through LittleCMS (CIE L*a*b* D50 to sRGB); HSV and YCbCr through Pillow's own converters
  (Pillow's HSV to RGB agrees with ``colorsys`` to within rounding: tested).
- No other ICC profile is applied: RGB and greyscale pixels are taken as they are stored, which is what
  the PDQ reference hashes were computed from.
"""

from __future__ import annotations

import io

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageCms

from suraksha.media.errors import UnsupportedMedia

Gray = npt.NDArray[np.uint8]  # (H, W)
Rgb = npt.NDArray[np.uint8]  # (H, W, 3)

_ALPHA_MODES = frozenset({"LA", "La", "PA", "RGBA", "RGBa"})
_SIXTEEN_BIT_MODES = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})


def to_rgb(image: Image.Image) -> Rgb:
    """The image as an (H, W, 3) uint8 C-contiguous array, by the rules in this module's docstring."""
    pixels = to_pixels(image)
    if pixels.ndim == 2:
        return np.ascontiguousarray(np.repeat(pixels[:, :, np.newaxis], 3, axis=2))
    return pixels


def to_pixels(image: Image.Image) -> Gray | Rgb:
    """Like ``to_rgb``, but single-channel images stay (H, W): the luma path need not triple them."""
    mode = image.mode
    if mode == "RGB":
        return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    if mode == "L":
        return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
    if mode == "1":
        return np.asarray(image, dtype=np.uint8) * np.uint8(255)
    if mode in _SIXTEEN_BIT_MODES:
        return _scale_sixteen_bit(np.asarray(image))
    if mode == "I":
        return _scale_int32(np.asarray(image))
    if mode == "F":
        return _scale_float(np.asarray(image))
    if mode in ("LA", "La"):
        gray_alpha = np.asarray(image.convert("LA") if mode == "La" else image, dtype=np.uint8)
        return _onto_white(gray_alpha[:, :, 0], gray_alpha[:, :, 1])
    if mode in _ALPHA_MODES or (mode == "P" and _palette_has_transparency(image)):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.uint8)
        return _onto_white(rgba[:, :, :3], rgba[:, :, 3:4])
    if mode == "CMYK":
        return _cmyk_to_rgb(image)
    if mode == "LAB":
        lab_to_srgb = ImageCms.buildTransform(
            ImageCms.createProfile("LAB"), ImageCms.createProfile("sRGB"), "LAB", "RGB"
        )
        return np.asarray(ImageCms.applyTransform(image, lab_to_srgb), dtype=np.uint8)
    try:
        converted = image.convert("RGB")  # P (opaque), YCbCr, HSV, RGBX
    except ValueError as exc:
        raise UnsupportedMedia(f"image mode {mode!r} cannot be converted to RGB") from exc
    return np.ascontiguousarray(np.asarray(converted, dtype=np.uint8))


def luma_from_rgb(rgb: Rgb) -> Gray:
    """round(0.299 R + 0.587 G + 0.114 B) (ITU-R BT.601 luma), exactly, in integers (in place: fast)."""
    weighted = rgb[:, :, 0].astype(np.uint32)
    weighted *= 299
    channel = rgb[:, :, 1].astype(np.uint32)
    channel *= 587
    weighted += channel
    channel = rgb[:, :, 2].astype(np.uint32)
    channel *= 114
    weighted += channel
    weighted += 500
    weighted //= 1000
    return weighted.astype(np.uint8)


def _palette_has_transparency(image: Image.Image) -> bool:
    palette = image.palette
    return "transparency" in image.info or (palette is not None and palette.mode == "RGBA")


def _onto_white(colour: npt.NDArray[np.uint8], alpha: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """colour * a + 255 * (1 - a), rounded; fits uint16 since the sum is 65025 - a * (255 - colour)."""
    c = colour.astype(np.uint16)
    a = alpha.astype(np.uint16)
    blended = (c * a + np.uint16(255) * (np.uint16(255) - a) + np.uint16(127)) // np.uint16(255)
    return np.ascontiguousarray(blended.astype(np.uint8))


def _scale_sixteen_bit(values: npt.NDArray[np.generic]) -> Gray:
    wide = values.astype(np.uint32)
    return ((wide * 255 + 32767) // 65535).astype(np.uint8)


def _scale_int32(values: npt.NDArray[np.generic]) -> Gray:
    wide = values.astype(np.int64)
    low, high = (int(wide.min()), int(wide.max())) if wide.size else (0, 0)
    if low >= 0 and high <= 255:
        return wide.astype(np.uint8)
    if low >= 0 and high <= 65535:
        return ((wide * 255 + 32767) // 65535).astype(np.uint8)
    return _stretch(wide.astype(np.float64), float(low), float(high))


def _scale_float(values: npt.NDArray[np.generic]) -> Gray:
    floats = values.astype(np.float64)
    finite = np.isfinite(floats)
    floats = np.where(finite, floats, 0.0)
    low, high = (float(floats.min()), float(floats.max())) if floats.size else (0.0, 0.0)
    if low >= 0.0 and high <= 1.0:
        return np.rint(floats * 255.0).astype(np.uint8)
    if low >= 0.0 and high <= 255.0:
        return np.rint(floats).astype(np.uint8)
    return _stretch(floats, low, high)


def _stretch(values: npt.NDArray[np.float64], low: float, high: float) -> Gray:
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    return np.rint((values - low) * (255.0 / (high - low))).astype(np.uint8)


def _cmyk_to_rgb(image: Image.Image) -> Rgb:
    icc = image.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            converted = None  # a broken or non-CMYK profile: fall back to the naive conversion
        if converted is not None:
            return np.ascontiguousarray(np.asarray(converted, dtype=np.uint8))
    return np.ascontiguousarray(np.asarray(image.convert("RGB"), dtype=np.uint8))
