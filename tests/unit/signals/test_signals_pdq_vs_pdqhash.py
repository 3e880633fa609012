"""Our PDQ against the C++ reference (the ``pdqhash`` package) on generated images of every shape."""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from suraksha.signals.pdq import (
    MIN_HASHABLE_DIM,
    PdqHash,
    PdqMode,
    pdq_dihedral,
    pdq_from_luma,
    pdq_from_rgb,
)

pdqhash = pytest.importorskip("pdqhash")

KINDS = ("noise", "photo", "flat", "blocks", "gradient", "stripes")
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def reference(rgb: npt.NDArray[np.uint8]) -> PdqHash:
    vector, quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return PdqHash(int("".join(map(str, vector)), 2).to_bytes(32, "big"), quality)


def reference_dihedral(rgb: npt.NDArray[np.uint8]) -> list[str]:
    vectors, _ = pdqhash.compute_dihedral(np.ascontiguousarray(rgb))
    return [f"{int(''.join(map(str, v)), 2):064x}" for v in vectors]


@cache
def _photos() -> tuple[npt.NDArray[np.uint8], ...]:
    import skimage.data

    grey = skimage.data.camera()
    return (skimage.data.astronaut(), skimage.data.coffee(), np.stack([grey] * 3, axis=-1))


def make_image(kind: str, height: int, width: int, seed: int) -> npt.NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    if kind == "noise":
        return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    if kind == "photo":
        source = _photos()[seed % 3]
        return np.asarray(Image.fromarray(source).resize((width, height), Image.Resampling.BILINEAR))
    if kind == "flat":
        return np.full((height, width, 3), rng.integers(0, 256, 3), dtype=np.uint8)
    if kind == "blocks":  # few colours, many exactly equal DCT coefficients: a tie-breaking torture test
        image = np.zeros((height, width, 3), np.uint8)
        image[: height // 2] = rng.integers(0, 256, 3)
        image[:, : width // 3, 1] = rng.integers(0, 256)
        return image
    y, x = np.mgrid[0:height, 0:width]
    if kind == "gradient":
        channels = (x * 255 // max(width - 1, 1), y * 255 // max(height - 1, 1), (x + y) % 256)
    else:
        channels = ((x // 7) % 2 * 255, (y // 5) % 2 * 200, (x * 3 + y) % 251)
    return np.stack(channels, axis=-1).astype(np.uint8)


sizes = st.one_of(
    st.integers(1, 12),  # under and around the minimum hashable size
    st.integers(13, 140),  # around 64 and the one-pixel box window
    st.integers(141, 700),
)


@PROPERTY
@given(kind=st.sampled_from(KINDS), height=sizes, width=sizes, seed=st.integers(0, 2**16))
def test_exact_mode_equals_reference_on_any_shape(kind: str, height: int, width: int, seed: int) -> None:
    rgb = make_image(kind, height, width, seed)
    ours, theirs = pdq_from_rgb(rgb), reference(rgb)
    assert ours.hex == theirs.hex
    assert ours.quality == theirs.quality


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(KINDS),
    shape=st.sampled_from([(2, 3000), (3000, 5), (7, 2400), (1100, 1500), (900, 64), (64, 64), (1300, 997)]),
    seed=st.integers(0, 2**16),
)
def test_exact_mode_equals_reference_on_wide_and_large_images(
    kind: str, shape: tuple[int, int], seed: int
) -> None:
    rgb = make_image(kind, *shape, seed)
    ours, theirs = pdq_from_rgb(rgb), reference(rgb)
    assert (ours.hex, ours.quality) == (theirs.hex, theirs.quality)


@pytest.mark.parametrize("shape", [(1, 1), (4, 4), (4, 100), (100, 4), (0, 10), (MIN_HASHABLE_DIM - 1, 500)])
def test_images_under_the_minimum_size_have_quality_zero(shape: tuple[int, int]) -> None:
    rgb = np.full((*shape, 3), 128, np.uint8)
    for mode in PdqMode:
        result = pdq_from_rgb(rgb, mode)
        assert result.quality == 0
        assert result.value == bytes(32)
    if 0 not in shape:
        assert reference(rgb).quality == 0


@settings(max_examples=20, deadline=None)
@given(kind=st.sampled_from(KINDS), height=sizes, width=sizes, seed=st.integers(0, 2**16))
def test_dihedral_equals_reference(kind: str, height: int, width: int, seed: int) -> None:
    rgb = make_image(kind, height, width, seed)
    assert [h.hex for h in pdq_dihedral(rgb)] == reference_dihedral(rgb)


@settings(max_examples=20, deadline=None)
@given(height=st.integers(5, 900), width=st.integers(5, 900), seed=st.integers(0, 2**16))
def test_float_luma_input_is_the_references_input(height: int, width: int, seed: int) -> None:
    """pdq_from_luma on the binding's own float32 luma gives the binding's hash."""
    rgb = make_image("photo", height, width, seed)
    luma = (rgb[:, :, 0] * 0.299 + rgb[:, :, 1] * 0.587 + rgb[:, :, 2] * 0.114).astype(np.float32)
    assert pdq_from_luma(luma, PdqMode.EXACT) == reference(rgb)
    grey = rgb[:, :, 1].copy()  # a grey image: uint8 luma, or the same grey as RGB
    assert pdq_from_luma(grey, PdqMode.EXACT) == reference(np.stack([grey] * 3, axis=-1))


@settings(max_examples=30, deadline=None)
@given(height=st.integers(40, 1500), width=st.integers(40, 1500), seed=st.integers(0, 2**16))
def test_fast_mode_stays_close_on_photos(height: int, width: int, seed: int) -> None:
    rgb = make_image("photo", height, width, seed)
    expected = reference(rgb)
    for result in (pdq_from_rgb(rgb, PdqMode.FAST), pdq_from_luma(_y_plane(rgb), PdqMode.FAST)):
        if expected.quality >= 80:
            assert result.distance(expected) <= 10
        assert abs(result.quality - expected.quality) <= 2


def test_non_contiguous_and_view_inputs() -> None:
    rgb = make_image("photo", 301, 411, 3)
    flipped = rgb[::-1, ::2]
    assert pdq_from_rgb(flipped) == reference(np.ascontiguousarray(flipped))


@pytest.mark.parametrize(
    "bad",
    [
        np.zeros((10, 10), np.uint8),
        np.zeros((10, 10, 4), np.uint8),
        np.zeros((10, 10, 3), np.float32),
        [[1, 2, 3]],
    ],
)
def test_rgb_input_is_checked(bad: object) -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        pdq_from_rgb(bad)  # type: ignore[arg-type]


def test_luma_input_is_checked() -> None:
    with pytest.raises(ValueError, match="uint8 or float32"):
        pdq_from_luma(np.zeros((10, 10), np.float64))  # type: ignore[arg-type]


def _y_plane(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A decoder's Y plane: BT.601 luma rounded to an integer (what JPEG stores)."""
    weighted = rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    return np.clip(np.rint(weighted), 0, 255).astype(np.uint8)
