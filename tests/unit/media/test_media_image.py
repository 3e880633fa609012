"""Image decoding: every mode to the same RGB, EXIF orientation, the JPEG fast path, luma."""

from __future__ import annotations

import colorsys
import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, ImageOps, features

from suraksha.media import (
    DecodedImage,
    MediaFormat,
    UnsupportedMedia,
    decode_image,
    luma_from_rgb,
    to_rgb,
)
from suraksha.media.image import apply_orientation

from ._craft import encode, inverting_cmyk_profile, pdq_bits, pdq_distance, scene

MODES_DIR = "pdq/misc-images/modes"


def pillow_reference(data: bytes) -> np.ndarray:
    """How the PDQ reference hashes were made: Pillow decode, EXIF transpose, convert("RGB")."""
    with Image.open(io.BytesIO(data)) as image:
        return np.asarray(ImageOps.exif_transpose(image).convert("RGB"))


def check_contract(decoded: DecodedImage) -> None:
    assert decoded.rgb is not None
    assert decoded.rgb.dtype == np.uint8
    assert decoded.rgb.shape == (decoded.height, decoded.width, 3)
    assert decoded.rgb.flags.c_contiguous
    assert decoded.luma is None


# --- acceptance on the reference vectors ----------------------------------------------------------


def test_every_mode_file_hashes_like_the_original(testdata: Path) -> None:
    folder = testdata / MODES_DIR
    original = decode_image((folder / "original.jpg").read_bytes())
    assert original.rgb is not None
    reference = pdq_bits(original.rgb)
    files = sorted(folder.iterdir())
    assert len(files) >= 14
    distances = {}
    for path in files:
        decoded = decode_image(path.read_bytes())
        check_contract(decoded)
        assert decoded.rgb is not None
        distances[path.name] = int(np.count_nonzero(pdq_bits(decoded.rgb) != reference))
    assert max(distances.values()) <= 10, distances


def test_reference_hashes_come_out_exactly(testdata: Path) -> None:
    """The decode reproduces the bytes the reference hashes were computed from (README rule 1)."""
    with (testdata / "pdq" / "expected.csv").open() as table:
        rows = list(csv.DictReader(table))
    assert rows
    for row in rows:
        decoded = decode_image((testdata / "pdq" / row["path"]).read_bytes())
        assert decoded.rgb is not None
        expected = np.unpackbits(np.frombuffer(bytes.fromhex(row["reference_pdq"]), dtype=np.uint8))
        assert np.array_equal(pdq_bits(decoded.rgb), expected.astype(bool)), row["path"]


def test_rgb_jpegs_are_byte_identical_to_pillow(testdata: Path) -> None:
    jpegs = sorted((testdata / "pdq").rglob("*.jpg"))
    checked = 0
    for path in jpegs:
        data = path.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            if image.mode not in ("RGB", "L"):
                continue
        decoded = decode_image(data)
        assert decoded.rgb is not None
        assert np.array_equal(decoded.rgb, pillow_reference(data)), path.name
        checked += 1
    assert checked >= 20


# --- every Pillow mode -----------------------------------------------------------------------------


def scene_image() -> Image.Image:
    return Image.fromarray(scene(), "RGB")


def lab_image(rgb: Image.Image) -> Image.Image:
    to_lab = ImageCms.buildTransform(
        ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB"
    )
    lab = ImageCms.applyTransform(rgb, to_lab)
    assert lab is not None
    return lab


def in_mode(mode: str) -> Image.Image:
    rgb = scene_image()
    gray = rgb.convert("L")
    gray16 = np.asarray(gray).astype(np.uint16) * 257
    makers = {
        "1": lambda: gray.convert("1"),
        "L": lambda: gray,
        "LA": lambda: Image.merge("LA", [gray, Image.new("L", gray.size, 255)]),
        "La": lambda: Image.merge("LA", [gray, Image.new("L", gray.size, 255)]).convert("La"),
        "P": lambda: rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=256),
        "PA": lambda: rgb.convert("P", palette=Image.Palette.ADAPTIVE).convert("PA"),
        "RGB": lambda: rgb,
        "RGBA": lambda: rgb.convert("RGBA"),
        "RGBa": lambda: rgb.convert("RGBA").convert("RGBa"),
        "RGBX": lambda: rgb.convert("RGBX"),
        "CMYK": lambda: rgb.convert("CMYK"),
        "YCbCr": lambda: rgb.convert("YCbCr"),
        "LAB": lambda: lab_image(rgb),
        "HSV": lambda: rgb.convert("HSV"),
        "I": lambda: gray.convert("I"),
        "I;16": lambda: Image.fromarray(gray16),
        "I;16B": lambda: Image.frombytes("I;16B", gray.size, gray16.astype(">u2").tobytes()),
        "F": lambda: gray.convert("F"),
    }
    return makers[mode]()


ALL_MODES = ["1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"]
ALL_MODES += ["I", "I;16", "I;16B", "F"]


@pytest.mark.parametrize("mode", ALL_MODES)
def test_every_pillow_mode_normalises_to_the_same_picture(mode: str) -> None:
    image = in_mode(mode)
    assert image.mode == mode
    rgb = to_rgb(image)
    assert rgb.dtype == np.uint8
    assert rgb.shape == (image.height, image.width, 3)
    assert rgb.flags.c_contiguous
    if mode in {"1", "P", "PA"}:
        # Dithering and palette quantisation change this small picture too much to compare hashes with
        # the original (the full-size modes files check that); these are opaque, so Pillow's plain
        # conversion is the right answer pixel for pixel.
        assert np.array_equal(rgb, np.asarray(image.convert("RGB")))
        return
    # Greyscale copies are compared with the greyscale picture, colour ones with the colour one.
    single_channel = mode in {"L", "LA", "La", "I", "I;16", "I;16B", "F"}
    reference = np.asarray(scene_image().convert("L").convert("RGB")) if single_channel else scene()
    assert pdq_distance(rgb, reference) <= 4


@pytest.mark.parametrize(
    ("mode", "file_format"),
    [
        *[("I;16", "PNG"), ("I;16", "TIFF"), ("I;16B", "TIFF"), ("I", "TIFF"), ("F", "TIFF")],
        *[("LAB", "TIFF"), ("CMYK", "TIFF"), ("CMYK", "JPEG"), ("P", "GIF"), ("LA", "PNG")],
        *[("1", "BMP"), ("RGBA", "WEBP")],
    ],
)
def test_modes_survive_a_trip_through_a_file(mode: str, file_format: str) -> None:
    image = in_mode(mode)
    data = encode(image, file_format, **({"lossless": True} if file_format == "WEBP" else {}))
    decoded = decode_image(data)
    assert decoded.rgb is not None
    reference = to_rgb(image)
    assert pdq_distance(decoded.rgb, reference) <= 4
    assert abs(float(decoded.rgb.mean()) - float(reference.mean())) < 3


def test_sixteen_bit_png_is_scaled_not_clipped() -> None:
    ramp = (np.arange(256 * 64, dtype=np.uint32).reshape(64, 256) * 4).astype(np.uint16)  # 0 .. 65532
    decoded = decode_image(encode(Image.fromarray(ramp), "PNG"))
    assert decoded.source_mode == "I;16"
    assert decoded.rgb is not None
    expected = np.rint(ramp / 257.0).astype(np.uint8)
    assert np.array_equal(decoded.rgb[:, :, 0], expected)
    assert 100 < decoded.rgb.mean() < 155  # clipping would make nearly every pixel 255


def test_wide_integer_and_float_ranges_are_stretched() -> None:
    values = np.linspace(-1e6, 3e6, 64 * 64).reshape(64, 64)
    as_int = to_rgb(Image.fromarray(values.astype(np.int32), "I"))
    as_float = to_rgb(Image.fromarray(values.astype(np.float32), "F"))
    for rgb in (as_int, as_float):
        assert rgb[0, 0, 0] == 0
        assert rgb[-1, -1, 0] == 255
    unit = to_rgb(Image.fromarray(np.full((4, 4), 0.5, np.float32), "F"))
    assert unit[0, 0, 0] == 128
    nan = to_rgb(Image.fromarray(np.full((4, 4), np.nan, np.float32), "F"))
    assert not nan.any()


def test_hsv_matches_colorsys() -> None:
    rng = np.random.default_rng(7)
    hsv = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
    rgb = to_rgb(Image.fromarray(hsv, "HSV"))
    expected = np.array([[colorsys.hsv_to_rgb(*(pixel / 255.0)) for pixel in row] for row in hsv]) * 255
    assert np.abs(rgb - expected).max() <= 1


def test_lab_converts_through_littlecms() -> None:
    rgb = to_rgb(lab_image(scene_image()))
    error = np.abs(rgb.astype(int) - scene())
    assert error.mean() < 2.0  # 8-bit Lab cannot round-trip every saturated sRGB colour exactly
    assert pdq_distance(rgb, scene()) <= 2


# --- transparency -----------------------------------------------------------------------------------


def test_alpha_is_composited_onto_white() -> None:
    rgba = np.zeros((4, 4, 4), dtype=np.uint8)
    rgba[..., 0] = 200
    rgba[0, :, 3] = 0  # transparent: white
    rgba[1, :, 3] = 255  # opaque: the colour
    rgba[2, :, 3] = 128  # half: in between
    decoded = decode_image(encode(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert decoded.rgb is not None
    assert (decoded.rgb[0] == 255).all()
    assert (decoded.rgb[1] == (200, 0, 0)).all()
    assert (decoded.rgb[2] == (227, 127, 127)).all()  # 200 * 128/255 + 255 * 127/255, rounded


def test_palette_transparency_is_composited_onto_white() -> None:
    palette_image = Image.new("P", (4, 4), 0)
    palette_image.putpalette([0, 0, 0, 10, 20, 30] + [0] * 762)
    palette_image.paste(1, (0, 0, 4, 2))
    for file_format in ("PNG", "GIF"):
        decoded = decode_image(encode(palette_image, file_format, transparency=0))
        assert decoded.rgb is not None
        assert (decoded.rgb[:2] == (10, 20, 30)).all(), file_format
        assert (decoded.rgb[2:] == 255).all(), file_format  # index 0 is transparent, not black


# --- CMYK -------------------------------------------------------------------------------------------


def test_cmyk_jpeg_written_the_adobe_way_decodes_to_the_original_colours() -> None:
    data = encode(scene_image().convert("CMYK"), "JPEG", quality=95)
    assert b"Adobe" in data  # Pillow writes inverted CMYK with an APP14 Adobe marker
    decoded = decode_image(data)
    assert decoded.rgb is not None
    assert np.abs(decoded.rgb.astype(int) - scene()).mean() < 3
    assert pdq_distance(decoded.rgb, scene()) <= 4


def test_cmyk_uses_its_embedded_icc_profile() -> None:
    cmyk = scene_image().convert("CMYK")
    with_profile = decode_image(encode(cmyk, "JPEG", quality=95, icc_profile=inverting_cmyk_profile()))
    assert with_profile.rgb is not None
    luma = luma_from_rgb(with_profile.rgb).astype(float).ravel()
    original = luma_from_rgb(scene()).astype(float).ravel()
    assert np.corrcoef(luma, original)[0, 1] < -0.8  # the profile (a negative) was applied


def test_cmyk_with_a_broken_profile_falls_back_to_the_plain_conversion() -> None:
    broken = b"\x00\x00\x00\x80" + b"not an icc profile" * 8
    decoded = decode_image(encode(scene_image().convert("CMYK"), "JPEG", quality=95, icc_profile=broken))
    assert decoded.rgb is not None
    assert pdq_distance(decoded.rgb, scene()) <= 4


# --- EXIF orientation ---------------------------------------------------------------------------------


def with_orientation(image: Image.Image, file_format: str, orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    quality = {"quality": 90} if file_format == "JPEG" else {}
    return encode(image, file_format, exif=exif.tobytes(), **quality)


def test_jpeg_orientation_6_is_rotated_clockwise() -> None:
    image = scene_image()
    upright = decode_image(encode(image, "JPEG", quality=90))
    rotated = decode_image(with_orientation(image, "JPEG", 6))
    assert upright.rgb is not None
    assert rotated.rgb is not None
    assert (rotated.width, rotated.height) == (upright.height, upright.width)
    assert np.array_equal(rotated.rgb, np.rot90(upright.rgb, k=-1))
    assert rotated.rgb.flags.c_contiguous


@pytest.mark.parametrize("file_format", ["JPEG", "PNG", "WEBP", "TIFF"])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_follows_exif_transpose(file_format: str, orientation: int) -> None:
    data = with_orientation(Image.fromarray(scene(48, 32)), file_format, orientation)
    decoded = decode_image(data)
    assert decoded.rgb is not None
    assert np.array_equal(decoded.rgb, pillow_reference(data))
    luma = decode_image(data, luma_only=True).luma
    assert luma is not None
    assert luma.shape == decoded.rgb.shape[:2]


def test_apply_orientation_matches_pillow_transposes() -> None:
    pixels = np.random.default_rng(3).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    methods = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE"}
    methods |= {6: "ROTATE_270", 7: "TRANSVERSE", 8: "ROTATE_90"}
    for orientation, name in methods.items():
        expected = np.asarray(Image.fromarray(pixels).transpose(Image.Transpose[name]))
        assert np.array_equal(apply_orientation(pixels, orientation), expected), name
    assert np.array_equal(apply_orientation(pixels, 1), pixels)
    assert np.array_equal(apply_orientation(pixels, 0), pixels)  # invalid values mean "as stored"


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data:UserWarning")
def test_malformed_exif_does_not_cost_the_image() -> None:
    data = encode(scene_image(), "JPEG", exif=b"Exif\x00\x00MM\x00*\xff\xff\xff\xff")
    decoded = decode_image(data)
    assert (decoded.width, decoded.height) == (256, 160)


# --- JPEG fast path and luma ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"quality": 90},
        {"quality": 75, "subsampling": 0},
        {"quality": 75, "subsampling": 1},
        {"quality": 85, "progressive": True},
        {"quality": 60, "optimize": True},
    ],
)
def test_jpeg_fast_path_is_byte_identical_to_pillow(params: dict[str, object]) -> None:
    for image in (scene_image(), scene_image().convert("L"), Image.fromarray(scene(33, 17))):
        data = encode(image, "JPEG", **params)
        decoded = decode_image(data)
        assert decoded.rgb is not None
        assert np.array_equal(decoded.rgb, pillow_reference(data))


def test_jpeg_luma_is_the_decoders_y_plane() -> None:
    data = with_orientation(scene_image(), "JPEG", 8)
    decoded = decode_image(data, luma_only=True)
    assert decoded.rgb is None
    assert decoded.luma is not None
    assert decoded.luma.flags.c_contiguous
    with Image.open(io.BytesIO(data)) as image:
        image.draft("L", image.size)
        assert image.mode == "L"
        expected = np.asarray(ImageOps.exif_transpose(image))
    assert np.array_equal(decoded.luma, expected)
    assert (decoded.width, decoded.height) == (160, 256)


def test_luma_for_other_formats_is_computed_from_the_rgb() -> None:
    data = encode(Image.fromarray(scene()), "PNG")
    luma = decode_image(data, luma_only=True).luma
    assert luma is not None
    rgb = scene().astype(np.float64)
    exact = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
    assert np.abs(luma - exact).max() <= 0.5 + 1e-9  # rounded to the nearest integer


def test_cmyk_jpeg_luma_goes_through_rgb() -> None:
    data = encode(scene_image().convert("CMYK"), "JPEG", quality=95)
    decoded = decode_image(data)
    luma = decode_image(data, luma_only=True).luma
    assert decoded.rgb is not None
    assert luma is not None
    assert np.array_equal(luma, luma_from_rgb(decoded.rgb))


# --- formats ------------------------------------------------------------------------------------------


def test_animated_images_give_their_first_frame() -> None:
    first = Image.fromarray(scene(64, 40)).quantize(64).convert("RGB")  # survives GIF's palette as is
    second = Image.new("RGB", (64, 40), (0, 255, 0))
    for file_format in ("GIF", "WEBP"):
        params: dict[str, object] = {"save_all": True, "append_images": [second], "duration": 100}
        if file_format == "WEBP":
            params["lossless"] = True
        decoded = decode_image(encode(first, file_format, **params))
        assert decoded.rgb is not None
        assert np.array_equal(decoded.rgb, np.asarray(first)), file_format


@pytest.mark.skipif(not features.check("avif"), reason="this Pillow has no AVIF codec")
def test_avif_decodes_through_pillow() -> None:
    decoded = decode_image(encode(scene_image(), "AVIF", quality=90))
    assert decoded.format is MediaFormat.AVIF
    assert decoded.rgb is not None
    assert pdq_distance(decoded.rgb, scene()) <= 10


def test_heic_without_pillow_heif_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    import suraksha.media.image as image_module

    monkeypatch.setitem(sys.modules, "pillow_heif", None)  # makes the import fail
    monkeypatch.setattr(image_module, "_heif_registered", False)
    heic_head = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)
    with pytest.raises(UnsupportedMedia, match=r"suraksha\[heif\]"):
        decode_image(heic_head)


def test_pillows_truncation_setting_is_left_alone() -> None:
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
