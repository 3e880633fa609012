"""PDQ, Meta's 256-bit perceptual image hash: our own implementation, bit-compatible with the reference.

Reference: facebook/ThreatExchange ``pdq/cpp/hashing/pdqhashing.cpp`` and
``pdq/cpp/downscaling/downscaling.cpp`` (the code the ``pdqhash`` package wraps). The algorithm:
luma; two passes of a Jarosz box filter (along rows, then along columns; window
``(dim + 127) // 128``); decimation to 64x64 at ``(i + 0.5) * dim / 64``; a quality score from the
64x64's gradients; the 16x16 low-frequency block of its DCT; bit k = i*16 + j set where coefficient
(i, j) is above the median.

Why it is fast: only 64x64 filtered samples are ever used, and the filter is linear, so each sample is a
fixed weighted sum of the pixels in a small window. ``_axis_weights`` builds those weights once per
image dimension; the kernels then read only the pixels inside the windows, about one multiply-add per
pixel (``_pdq_kernels.gather64_*``), instead of four full-image float32 passes.

Two modes (``PdqMode``):

- ``exact``: from the same RGB array, the same hash and quality as the reference, bit for bit. The
  weighted sums are accumulated in float64; the reference's float32 running sums differ from them by
  at most about 0.01 (see the error bounds below), which can only matter when the 128th and 129th
  largest DCT coefficients are closer than that (or a quality gradient term sits on a truncation step).
  Exact mode checks for exactly that and then (about one photo in eight, and every image of up to
  ``REFERENCE_MAX_PIXELS``) recomputes with the reference's own float32 arithmetic
  (``_pdq_kernels.reference_*``, 3-4 ms per megapixel).
- ``fast``: float32 sums, no check; meant for a luminance plane taken straight from the decoder (the
  JPEG Y channel), which skips colour conversion in the decoder entirely. Within a few bits of the
  reference (see docs/performance.md for measured distances).

Hashes of images under 5 pixels on a side are all zeros with quality 0, as in the reference.

The kernels release the GIL; hashing from several threads is safe (the reference path's work buffers
are per thread).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache, lru_cache
from types import ModuleType
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from suraksha.signals.bits import (
    HASH_BYTES,
    bytes_to_hex,
    hamming_distance,
    hamming_distances,
    hex_to_bytes,
)

__all__ = [
    "MIN_HASHABLE_DIM",
    "QUALITY_UNKNOWN",
    "PdqDihedral",
    "PdqHash",
    "PdqMode",
    "hamming_distances",
    "pdq_dihedral",
    "pdq_from_luma",
    "pdq_from_rgb",
]

MIN_HASHABLE_DIM = 5
"""The reference's smallest hashable height and width; smaller images get quality 0."""

QUALITY_UNKNOWN = -1
"""Quality of a hash that was parsed rather than computed (a bank entry, an API query)."""

REFERENCE_MAX_PIXELS = 256 * 256
"""Exact mode runs the reference arithmetic outright up to this many pixels (about 0.3 ms there)."""

# Exact mode's error model: how far the float64 weighted downsample can be from the reference's float32
# running sums, as absolute bounds on the 64x64 samples and on the 16x16 DCT coefficients. Measured
# (tests and benchmarks/hashing.py) on photos, noise, flat, striped and gradient synthetic images from
# 5 px to 64 MP: at most 0.0021 on samples and 0.0091 on coefficients, and the worst cases are smooth
# synthetic gradients under REFERENCE_MAX_PIXELS, which take the reference path anyway; above it, at
# most 0.0066 (on the benchmark's photos). The errors do not grow with image size. Set too high, a
# bound only costs speed (more images take the reference path); set too low, a hash could differ from
# the reference's, which the property tests against ``pdqhash`` exist to catch.
_SAMPLE_ERROR_BOUND = 0.004
_DCT_ERROR_BOUND = 0.015


class PdqMode(StrEnum):
    EXACT = "exact"
    FAST = "fast"


@dataclass(frozen=True, slots=True)
class PdqHash:
    """A PDQ hash: 32 bytes (the reference's 64-digit hex string, as bytes) and its quality (0-100).

    Equality and hashing look at ``value`` only. A hash computed here also carries the 16x16 DCT it
    was taken from (``dct``), so that ``pdq_dihedral`` can derive the rotated and flipped hashes
    exactly, without decoding the image again.
    """

    value: bytes
    quality: int = field(compare=False)
    dct: npt.NDArray[np.float32] | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.value, bytes) or len(self.value) != HASH_BYTES:
            raise ValueError(f"a PDQ hash is {HASH_BYTES} bytes, got {self.value!r:.80}")
        if not (self.quality == QUALITY_UNKNOWN or 0 <= self.quality <= 100):
            raise ValueError(
                f"PDQ quality must be 0-100 (or {QUALITY_UNKNOWN} if unknown), got {self.quality}"
            )

    @property
    def hex(self) -> str:
        """64 lowercase hex digits, as python-threatexchange, the ``pdqhash`` package and HMA write it."""
        return bytes_to_hex(self.value)

    @classmethod
    def from_hex(cls, value: str, quality: int = QUALITY_UNKNOWN) -> PdqHash:
        """Parse 64 hex digits (either case). Raises ValueError saying what was wrong."""
        return cls(hex_to_bytes(value), quality)

    def distance(self, other: PdqHash) -> int:
        """Hamming distance (0-256)."""
        return hamming_distance(self.value, other.value)

    def __str__(self) -> str:
        return self.hex


class PdqDihedral(NamedTuple):
    """The hashes of the 8 rotations and flips of one image, in the reference's order."""

    original: PdqHash
    rotate90: PdqHash
    rotate180: PdqHash
    rotate270: PdqHash
    flip_x: PdqHash
    flip_y: PdqHash
    flip_plus1: PdqHash
    flip_minus1: PdqHash


def pdq_from_rgb(rgb: npt.NDArray[np.uint8], mode: PdqMode = PdqMode.EXACT) -> PdqHash:
    """PDQ of an (H, W, 3) uint8 RGB image; luma is 0.299 R + 0.587 G + 0.114 B as in the reference."""
    return _hash(_as_rgb(rgb), PdqMode(mode), all_variants=False)


def pdq_from_luma(
    luma: npt.NDArray[np.uint8] | npt.NDArray[np.float32], mode: PdqMode = PdqMode.FAST
) -> PdqHash:
    """PDQ of an (H, W) luminance plane: uint8 (a decoder's Y channel) or float32.

    This is the fast pipeline's entry (``decode_image(..., luma_only=True)`` then this), so its default
    mode is ``fast``. With ``mode=exact`` the result is bit for bit the reference's
    ``pdqHash256FromFloatLuma`` of the plane as float32.
    """
    return _hash(_as_luma(luma), PdqMode(mode), all_variants=False)


def pdq_dihedral(
    source: PdqHash | npt.NDArray[np.uint8] | npt.NDArray[np.float32], mode: PdqMode = PdqMode.EXACT
) -> PdqDihedral:
    """The hashes of the image rotated by 90/180/270 degrees and flipped four ways.

    ``source`` is an image ((H, W, 3) RGB or (H, W) luma) or a ``PdqHash``. From an image, or from a
    hash computed here (which carries its DCT), the variants are derived from the 16x16 DCT by sign
    flips and transposes, as the reference's ``pdqDihedralHash256esFromFloatLuma`` does. From an image
    in exact mode every variant is bit-identical to the reference's (each variant's median gap is
    checked). From a computed hash, only the original's was checked when it was made, so a variant
    can, rarely, be a bit or two off the reference's. A hash parsed from hex has no DCT: its variants
    are then approximated from the bits (transposes are exact; a coefficient whose sign flips is taken
    to cross the median, which fails only for coefficients near it): usually within a few bits (14 on
    the reference's bridge photo), well inside a match threshold of 31.
    """
    if isinstance(source, PdqHash):
        if source.dct is not None:
            return _dihedral_from_dct(source.dct, source.quality)
        return _dihedral_from_bits(source)
    pixels = _as_rgb(source) if source.ndim == 3 else _as_luma(source)
    original = _hash(pixels, PdqMode(mode), all_variants=True)
    if original.dct is None:  # under the minimum size: every variant is the empty hash
        return PdqDihedral(*([original] * 8))
    return _dihedral_from_dct(original.dct, original.quality)


# ---------------------------------------------------------------------------------------------------
# The pipeline


@cache
def _kernels() -> ModuleType:
    """The numba kernels, imported on the first hash rather than on import: parsing, comparing and
    validating hashes (banks, the CLI) should not pay for loading numba."""
    from suraksha.signals import _pdq_kernels  # noqa: PLC0415

    return _pdq_kernels


def _hash(pixels: npt.NDArray[np.generic], mode: PdqMode, *, all_variants: bool) -> PdqHash:
    height, width = pixels.shape[:2]
    if height < MIN_HASHABLE_DIM or width < MIN_HASHABLE_DIM:
        return PdqHash(bytes(HASH_BYTES), 0)
    if mode is PdqMode.EXACT and height * width <= REFERENCE_MAX_PIXELS:
        dct, quality = _reference_dct(pixels)
    else:
        dct, quality, samples, gradient_sum = _weighted_dct(pixels, mode)
        if mode is PdqMode.EXACT and _needs_reference(dct, samples, gradient_sum, all_variants):
            dct, quality = _reference_dct(pixels)
    dct.flags.writeable = False
    return PdqHash(_bits(dct), quality, dct)


def _weighted_dct(
    pixels: npt.NDArray[np.generic], mode: PdqMode
) -> tuple[npt.NDArray[np.float32], int, npt.NDArray[np.float32], int]:
    dtype = np.float64 if mode is PdqMode.EXACT else np.float32
    rows = _axis_weights(pixels.shape[0], dtype)
    cols = _axis_weights(pixels.shape[1], dtype)
    samples = np.empty((64, 64), np.float32)
    if pixels.ndim == 3:
        _kernels().gather64_rgb(pixels, *rows, *_whole_weights(pixels.shape[0]), *cols, samples)
    else:
        _kernels().gather64_luma(pixels, *rows, *cols, samples)
    dct, gradient_sum = _kernels().dct_and_quality(samples, _DCT_MATRIX)
    return dct, min(int(gradient_sum) // 90, 100), samples, int(gradient_sum)


def _reference_dct(pixels: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.float32], int]:
    height, width = pixels.shape[:2]
    buffer, scratch = _scratch_buffers(height, width)
    if pixels.ndim == 3:
        _kernels().reference_luma_into(pixels, buffer)
    else:
        buffer[:, :] = pixels
    samples = _kernels().reference_downsample(buffer, scratch)
    dct, gradient_sum = _kernels().dct_and_quality(samples, _DCT_MATRIX)
    return dct, min(int(gradient_sum) // 90, 100)


_SCRATCH = threading.local()
_SCRATCH_KEEP_PIXELS = 24_000_000
"""The reference path's two float32 work buffers are kept between calls (per thread), grown by half
again when too small, up to this size: allocating them afresh costs a page fault per 4 KiB, about as
much as a filter pass."""


def _scratch_buffers(height: int, width: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    size = height * width
    held: npt.NDArray[np.float32] | None = getattr(_SCRATCH, "buffer", None)
    if held is None or held.size < 2 * size:
        grown = max(size, 0 if held is None else held.size * 3 // 4)
        if grown <= _SCRATCH_KEEP_PIXELS:
            held = np.empty(2 * grown, np.float32)
            _SCRATCH.buffer = held
        else:
            held = np.empty(2 * size, np.float32)
    return held[:size].reshape(height, width), held[size : 2 * size].reshape(height, width)


def _needs_reference(
    dct: npt.NDArray[np.float32],
    samples: npt.NDArray[np.float32],
    gradient_sum: int,
    all_variants: bool,
) -> bool:
    """Could the reference's float32 rounding give a different hash or quality than ``dct``/``samples``?

    Bits: the reference sets the 128 coefficients above its median. If every coefficient is within
    ``err`` of the reference's, that set is the same whenever the gap between the 128th and 129th
    smallest coefficients exceeds ``2 * err``. For dihedral variants the sign flips change the
    ordering, so each variant's gap is checked.
    Quality: each of the 8,064 gradient terms is truncated to an integer; only terms within the
    sample error of a step can move, and the score moves only if that many could cross a multiple of 90.
    """
    for variant in _dct_variants(dct) if all_variants else (dct,):
        ordered = np.sort(variant, axis=None)
        if ordered[128] - ordered[127] <= 2 * _DCT_ERROR_BOUND:
            return True
    if gradient_sum - 8064 >= 9000:  # quality is 100 however every term rounds
        return False
    tolerance = 2 * _SAMPLE_ERROR_BOUND * 100 / 255
    fragile = int(_kernels().quality_fragility(samples, tolerance))
    low = min((gradient_sum - fragile) // 90, 100)
    high = min((gradient_sum + fragile) // 90, 100)
    return low != high


def _bits(dct: npt.NDArray[np.float32]) -> bytes:
    out = np.empty(HASH_BYTES, np.uint8)
    _kernels().bits_from_dct(np.ascontiguousarray(dct), out)
    return out.tobytes()


# ---------------------------------------------------------------------------------------------------
# Filter weights


@lru_cache(maxsize=256)
def _axis_weights(
    n: int, dtype: type[np.floating] = np.float64
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.floating]]:
    """For one image dimension n: (starts, lengths, weights) of the 64 kept samples.

    Sample i is ``sum(weights[i, k] * x[starts[i] + k] for k < lengths[i])``: the composite of two of
    the reference's box filters (``box1DFloat``: window ``w = (n + 127) // 128``, output o averaging
    inputs ``max(0, o - w + half) .. min(n - 1, o + half - 1)`` with ``half = (w + 2) // 2``, so the
    windows shrink and renormalise at the edges) evaluated at the decimation index
    ``int((i + 0.5) * n / 64)``. Cached: photos come in a few dozen sizes.
    """
    window = (n + 127) // 128
    starts = np.empty(64, np.int64)
    lengths = np.empty(64, np.int64)
    weights = np.zeros((64, 2 * window), np.float64)
    _kernels().axis_weights(n, starts, lengths, weights)
    result = (starts, lengths, weights.astype(dtype))
    for array in result:
        array.flags.writeable = False
    return result


@lru_cache(maxsize=256)
def _whole_weights(n: int) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float64]]:
    """``_axis_weights(n)``'s weights as whole numbers times a scale, where they are: (counts, scale).

    Away from the image edges both box windows are ``w = (n + 127) // 128`` wide, so each weight is a
    whole count divided by ``w * w``. Row i gets ``counts[i] = weights[i] * w * w`` and
    ``scale[i] = 1 / (w * w)`` when every count is a whole number and 255 times their sum is under
    2**24 (so a float32 sum of counts times pixel values is exact); otherwise (the edge rows, where
    windows shrink) ``scale[i] = 0`` and the kernel uses the float64 weights.
    """
    _, _, weights = _axis_weights(n)
    window = (n + 127) // 128
    scaled = weights * float(window * window)
    counts = np.rint(scaled)
    whole = (np.abs(scaled - counts) <= 1e-6).all(axis=1) & (255 * counts.sum(axis=1) < 2**24)
    scale = np.where(whole, 1.0 / (window * window), 0.0)
    result = (np.where(whole[:, None], counts, 0.0).astype(np.float32), scale)
    for array in result:
        array.flags.writeable = False
    return result


def _dct_matrix() -> npt.NDArray[np.float32]:
    """The reference's 16x64 DCT-II rows 1..16, built with its float/double mix."""
    scale = float(np.float32(math.sqrt(2.0 / 64.0)))
    matrix = np.empty((16, 64), np.float32)
    for i in range(16):
        for j in range(64):
            matrix[i, j] = np.float32(scale * math.cos((math.pi / 2.0 / 64.0) * (i + 1) * (2 * j + 1)))
    return matrix


_DCT_MATRIX = _dct_matrix()


# ---------------------------------------------------------------------------------------------------
# Dihedral variants (dct16OriginalToRotate90 etc. in pdqhashing.cpp)

_ODD = (np.arange(16) & 1).astype(bool)
_ROW_SIGN = np.where(_ODD, 1.0, -1.0).astype(np.float32)[:, None]  # + on odd rows
_COL_SIGN = np.where(_ODD, 1.0, -1.0).astype(np.float32)[None, :]  # + on odd columns
_CHECKER = np.where((np.arange(16)[:, None] + np.arange(16)[None, :]) & 1, -1.0, 1.0).astype(np.float32)


def _dct_variants(dct: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], ...]:
    """The 16x16 DCTs of the 8 variants, in ``PdqDihedral`` order."""
    return (
        dct,
        (dct * _COL_SIGN).T,  # rotate 90: B[j][i] = A[i][j], negated on even j
        dct * _CHECKER,  # rotate 180: negated where i + j is odd
        (dct * _ROW_SIGN).T,  # rotate 270: B[j][i] = A[i][j], negated on even i
        dct * _ROW_SIGN,  # flip x: negated on even i
        dct * _COL_SIGN,  # flip y: negated on even j
        dct.T,  # flip about the main diagonal
        (dct * _CHECKER).T,  # flip about the anti-diagonal
    )


def _dihedral_from_dct(dct: npt.NDArray[np.float32], quality: int) -> PdqDihedral:
    hashes = []
    for variant in _dct_variants(dct):
        contiguous = np.array(variant, order="C")
        contiguous.flags.writeable = False
        hashes.append(PdqHash(_bits(contiguous), quality, contiguous))
    return PdqDihedral(*hashes)


def _dihedral_from_bits(source: PdqHash) -> PdqDihedral:
    number = int.from_bytes(source.value, "big")
    bits = np.array([(number >> k) & 1 for k in range(256)], dtype=np.float32).reshape(16, 16)
    signed = np.where(bits > 0, 1.0, -1.0).astype(np.float32)  # above / below the median
    hashes = []
    for variant in _dct_variants(signed):
        flat = np.ascontiguousarray(variant).ravel()
        value = sum(1 << k for k in range(256) if flat[k] > 0)
        hashes.append(PdqHash(value.to_bytes(HASH_BYTES, "big"), source.quality))
    return PdqDihedral(*hashes)


# ---------------------------------------------------------------------------------------------------
# Input checks


def _as_rgb(rgb: npt.NDArray[Any]) -> npt.NDArray[np.uint8]:
    if not isinstance(rgb, np.ndarray) or rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an (H, W, 3) uint8 RGB array, got {_describe(rgb)}")
    return np.ascontiguousarray(rgb)


def _as_luma(luma: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if not isinstance(luma, np.ndarray) or luma.ndim != 2 or luma.dtype not in (np.uint8, np.float32):
        raise ValueError(f"expected an (H, W) uint8 or float32 luminance array, got {_describe(luma)}")
    return np.ascontiguousarray(luma)


def _describe(value: object) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    return f"a {type(value).__name__}"
