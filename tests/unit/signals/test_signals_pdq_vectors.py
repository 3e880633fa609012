"""Our PDQ on the reference repository's test images (shared/testdata/pdq, see its README)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from suraksha.signals.digests import digests_of_file
from suraksha.signals.pdq import PdqHash, PdqMode, pdq_dihedral, pdq_from_luma, pdq_from_rgb

Decode = Callable[[Path], npt.NDArray[np.uint8]]

DIHEDRAL_FILES = (
    "bridge-1-original.jpg",
    "bridge-2-rotate-90.jpg",
    "bridge-3-rotate-180.jpg",
    "bridge-4-rotate-270.jpg",
    "bridge-5-flipx.jpg",
    "bridge-6-flipy.jpg",
    "bridge-7-flip-plus-1.jpg",
    "bridge-8-flip-minus-1.jpg",
)


def test_exact_mode_is_the_reference_hash(reference_vector: Any, decode_like_reference: Decode) -> None:
    """The PDQ maintainers' rule 1: given the same RGB array, exactly the reference hash."""
    rgb = decode_like_reference(reference_vector.file)
    result = pdq_from_rgb(rgb)
    assert result.hex == reference_vector.reference_pdq
    assert result.quality == reference_vector.reference_quality


def test_fast_mode_within_10_bits_where_quality_is_80_or_more(reference_vector: Any) -> None:
    """Rule 2, from the file: luma straight from the decoder, within distance 10 where quality >= 80."""
    luma = _decoder_luma(reference_vector.file)
    result = pdq_from_luma(luma, PdqMode.FAST)
    if reference_vector.reference_quality >= 80:
        assert result.distance(PdqHash.from_hex(reference_vector.reference_pdq)) <= 10
        assert result.quality >= 80


def test_file_digest_matches_the_listed_md5(reference_vector: Any) -> None:
    assert digests_of_file(reference_vector.file).md5 == reference_vector.md5


@pytest.mark.parametrize(
    ("path", "below"),
    [
        ("misc-images/small.jpg", 1),  # quality 0
        ("reg-test-input/labelme-subset/q0003.jpg", 50),
        ("reg-test-input/labelme-subset/q0004.jpg", 50),
    ],
)
def test_low_quality_images_report_low_quality(
    pdq_dir: Path, decode_like_reference: Decode, path: str, below: int
) -> None:
    for result in (
        pdq_from_rgb(decode_like_reference(pdq_dir / path)),
        pdq_from_luma(_decoder_luma(pdq_dir / path), PdqMode.FAST),
    ):
        assert result.quality < below


def test_bridge_edits_all_match_the_original(pdq_dir: Path, decode_like_reference: Decode) -> None:
    original = pdq_from_rgb(decode_like_reference(pdq_dir / "bridge-mods" / "aaa-orig.jpg"))
    for path in sorted((pdq_dir / "bridge-mods").glob("*.jpg")):
        assert pdq_from_rgb(decode_like_reference(path)).distance(original) <= 31, path.name


def test_dihedral_variants_find_each_rotated_and_flipped_file(
    pdq_dir: Path, decode_like_reference: Decode
) -> None:
    folder = pdq_dir / "reg-test-input" / "dih"
    variants = pdq_dihedral(decode_like_reference(folder / DIHEDRAL_FILES[0]))
    assert variants.original == pdq_from_rgb(decode_like_reference(folder / DIHEDRAL_FILES[0]))
    for index, name in enumerate(DIHEDRAL_FILES):
        file_hash = pdq_from_rgb(decode_like_reference(folder / name))
        distances = [file_hash.distance(variant) for variant in variants]
        assert distances[index] <= 31, (name, distances)
        assert distances[index] == min(distances), (name, distances)
        others = distances[:index] + distances[index + 1 :]
        assert min(others) > 64, (name, distances)  # and nothing else comes close


def test_dihedral_from_a_stored_hash_needs_no_pixels(pdq_dir: Path, decode_like_reference: Decode) -> None:
    rgb = decode_like_reference(pdq_dir / "reg-test-input" / "dih" / DIHEDRAL_FILES[0])
    from_pixels = pdq_dihedral(rgb)
    assert pdq_dihedral(pdq_from_rgb(rgb)) == from_pixels  # the hash carries its DCT
    approximate = pdq_dihedral(PdqHash.from_hex(from_pixels.original.hex))  # a bank entry: bits only
    assert approximate.original == from_pixels.original
    assert approximate.flip_plus1 == from_pixels.flip_plus1  # a pure transpose is exact
    for exact, guess in zip(from_pixels, approximate, strict=True):
        assert exact.distance(guess) <= 31


def _decoder_luma(path: Path) -> npt.NDArray[np.uint8]:
    """The fast path's input: the decoder's own luminance plane (JPEG Y), via the media module."""
    from suraksha.media.image import decode_image

    decoded = decode_image(path.read_bytes(), luma_only=True)
    assert decoded.luma is not None
    return decoded.luma


def test_every_pixel_mode_hashes_like_the_original_end_to_end(pdq_dir: Path) -> None:
    """The bridge photo saved in 14 Pillow modes, decoded by our media module: both modes within 10."""
    from suraksha.media.image import decode_image

    folder = pdq_dir / "misc-images" / "modes"
    original = pdq_from_rgb(decode_image((folder / "original.jpg").read_bytes()).rgb)  # type: ignore[arg-type]
    for path in sorted(folder.iterdir()):
        rgb = decode_image(path.read_bytes()).rgb
        assert rgb is not None
        assert pdq_from_rgb(rgb).distance(original) <= 10, path.name
        assert pdq_from_luma(_decoder_luma(path), PdqMode.FAST).distance(original) <= 10, path.name
