"""PDQ hashing throughput and fidelity: our exact and fast modes against HMA's path, on one core.

    .venv/bin/python benchmarks/hashing.py [--corpus current|camera|both] [--count 1000] [--rounds 1] [--json]

The corpus is >= 1,000 benign JPEG photos of 0.3-3 MP made from scikit-image's bundled sample images
(crops, resizes, collages, flips, colour and noise changes, JPEG quality 70-95), built once into
``.bench-cache/hashing-corpus-v1/`` (gitignored) and reused. Every path runs on the same bytes, one
image at a time, in this process, pinned to one core where the OS allows:

- ``hma``: what HMA / python-threatexchange does: Pillow open + ``.convert("RGB")`` + ``np.asarray`` +
  ``pdqhash.compute`` (the C++ reference);
- ``exact``: our RGB decode + ``pdq_from_rgb(mode=exact)``;
- ``fast``: our luminance-only decode (the JPEG Y plane) + ``pdq_from_luma(mode=fast)``;
- ``decode_rgb`` / ``decode_luma``: the two decodes alone, for scale.

Fidelity: each mode's hash is compared with ``pdqhash.compute`` on the Pillow-decoded RGB of the same
file (the reference of ``shared/testdata/pdq/expected.csv``): identical %, p99 and max distance.

``--corpus camera`` (``run_camera``) is the harder case: 600 camera-like JPEGs (0.3-3 MP, mean ~1.18
MP, made mostly by downscaling native-resolution scikit-image and scikit-learn sample photos, with
sensor grain, quality 70-95) cached in ``.bench-cache/hashing-corpus-camera-v1/``, hashed through the
product's whole per-file path (``signals.file_signals.hash_bytes``: sniff, bounded decode, MD5 +
SHA-256, PDQ) in both modes beside HMA's ``pdq_from_bytes`` and libjpeg-turbo's decode alone, timed
in CPU time per file and reported by image-size band, with a per-stage breakdown.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageEnhance, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
CORPUS_DIR = ROOT / ".bench-cache" / "hashing-corpus-v1"
CORPUS_SEED = 20240611

# scikit-image sample images that ship inside the wheel (no download needed).
COLOUR_SOURCES = (
    "astronaut",
    "coffee",
    "chelsea",
    "rocket",
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
)
GREY_SOURCES = ("camera", "brick", "grass", "gravel", "moon", "clock", "coins")
ASPECTS = (4 / 3, 3 / 2, 16 / 9, 1.0, 3 / 4, 2 / 3, 9 / 16)


def _sources() -> list[npt.NDArray[np.uint8]]:
    import skimage.data

    images = []
    for name in COLOUR_SOURCES + GREY_SOURCES:
        try:
            pixels = np.asarray(getattr(skimage.data, name)())
        except Exception:  # a sample missing from this scikit-image build is skipped
            continue
        if pixels.ndim == 2:
            pixels = np.stack([pixels] * 3, axis=-1)
        images.append(np.ascontiguousarray(pixels[:, :, :3].astype(np.uint8)))
    if not images:
        raise SystemExit("scikit-image ships none of the sample images this benchmark uses")
    return images


def _photo(rng: np.random.Generator, sources: list[npt.NDArray[np.uint8]]) -> Image.Image:
    """One synthetic 'photo' of 0.3-3 MP: a crop (or a 2x2 collage of crops), resized and retouched."""
    megapixels = rng.uniform(0.3, 3.0)
    aspect = ASPECTS[int(rng.integers(len(ASPECTS)))]
    width = round((megapixels * 1e6 * aspect) ** 0.5)
    height = round(width / aspect)

    def crop(size: tuple[int, int]) -> Image.Image:
        source = sources[int(rng.integers(len(sources)))]
        h, w = source.shape[:2]
        ch, cw = int(h * rng.uniform(0.5, 1.0)), int(w * rng.uniform(0.5, 1.0))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        piece = Image.fromarray(source[y : y + ch, x : x + cw])
        if rng.random() < 0.5:
            piece = piece.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return piece.resize(
            size, Image.Resampling.LANCZOS if rng.random() < 0.5 else Image.Resampling.BILINEAR
        )

    if rng.random() < 0.3:
        image = Image.new("RGB", (width, height))
        half_w, half_h = width // 2, height // 2
        for x, y, w, h in (
            (0, 0, half_w, half_h),
            (half_w, 0, width - half_w, half_h),
            (0, half_h, half_w, height - half_h),
            (half_w, half_h, width - half_w, height - half_h),
        ):
            image.paste(crop((w, h)), (x, y))
    else:
        image = crop((width, height))
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.8, 1.2))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.8, 1.3))
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.6, 1.4))
    if rng.random() < 0.2:
        image = image.filter(ImageFilter.SHARPEN)
    sigma = rng.uniform(0.0, 6.0)  # sensor-like noise, so upscaled sources have photo-like detail
    if sigma > 0.5:
        noise = rng.normal(0.0, sigma, (height, width, 1)).astype(np.float32)
        noisy = np.asarray(image, dtype=np.float32) + noise
        image = Image.fromarray(np.clip(noisy + 0.5, 0, 255).astype(np.uint8))
    return image


def build_corpus(count: int) -> list[Path]:
    """The first ``count`` corpus files, building the missing ones (deterministic per index)."""
    CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    paths = [CORPUS_DIR / f"{index:05d}.jpg" for index in range(count)]
    missing = [(i, p) for i, p in enumerate(paths) if not p.exists()]
    if missing:
        sources = _sources()
        print(f"building {len(missing)} corpus images in {CORPUS_DIR} ...", file=sys.stderr)
        for index, path in missing:
            rng = np.random.default_rng([CORPUS_SEED, index])
            image = _photo(rng, sources)
            buffer = io.BytesIO()
            subsampling = 0 if rng.random() < 0.15 else 2  # mostly 4:2:0, as cameras and phones write
            image.save(buffer, "JPEG", quality=int(rng.integers(70, 96)), subsampling=subsampling)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(buffer.getvalue())
            tmp.replace(path)
    return paths


# ---------------------------------------------------------------------------------------------------
# The camera-like corpus: what a platform's uploads look like, rather than what decodes quickly

CAMERA_CORPUS_DIR = ROOT / ".bench-cache" / "hashing-corpus-camera-v1"
CAMERA_SEED = 20261207
CAMERA_COUNT = 600
CAMERA_ASPECTS = (4 / 3, 4 / 3, 4 / 3, 3 / 2, 16 / 9, 1.0, 3 / 4, 3 / 4, 2 / 3, 9 / 16)
TILE_MAX = (512, 400)  # (width, height) of a mosaic tile: most sources hold one at native resolution


def _camera_sources() -> list[npt.NDArray[np.uint8]]:
    """scikit-image's sample images plus scikit-learn's two sample photos (china, flower)."""
    from sklearn.datasets import load_sample_images  # type: ignore[import-untyped]

    return _sources() + [np.ascontiguousarray(p[:, :, :3]) for p in load_sample_images().images]


def _native_crop(
    rng: np.random.Generator, sources: list[npt.NDArray[np.uint8]], width: int, height: int
) -> npt.NDArray[np.uint8] | None:
    """A width x height crop at the source's own resolution from a random source big enough, if any."""
    fitting = [s for s in sources if s.shape[0] >= height and s.shape[1] >= width]
    if not fitting:
        return None
    source = fitting[int(rng.integers(len(fitting)))]
    y = int(rng.integers(0, source.shape[0] - height + 1))
    x = int(rng.integers(0, source.shape[1] - width + 1))
    piece = source[y : y + height, x : x + width]
    return piece[:, ::-1] if rng.random() < 0.5 else piece


def _scene(
    rng: np.random.Generator, sources: list[npt.NDArray[np.uint8]], width: int, height: int
) -> npt.NDArray[np.uint8]:
    """A width x height scene of native-resolution pixels: one crop where a source is big enough (half
    the time), else a mosaic of native crops; never upscaled, so the detail is the sources' own."""
    if rng.random() < 0.5 and (single := _native_crop(rng, sources, width, height)) is not None:
        return single
    cols, rows = math.ceil(width / TILE_MAX[0]), math.ceil(height / TILE_MAX[1])
    xs = np.linspace(0, width, cols + 1).astype(int)
    ys = np.linspace(0, height, rows + 1).astype(int)
    canvas = np.empty((height, width, 3), np.uint8)
    for r in range(rows):
        for c in range(cols):
            tile = _native_crop(rng, sources, int(xs[c + 1] - xs[c]), int(ys[r + 1] - ys[r]))
            assert tile is not None  # TILE_MAX fits several sources
            canvas[ys[r] : ys[r + 1], xs[c] : xs[c + 1]] = tile
    return canvas


def _camera_photo(rng: np.random.Generator, sources: list[npt.NDArray[np.uint8]]) -> Image.Image:
    """One camera-like photo: 0.3-3 MP (log-normal, mean ~1.19 MP), made by downscaling a larger scene
    (85 %; the rest up to 1.4x upscaled), mild tone changes, then sensor grain at the final size:
    per-pixel Gaussian luma noise (sigma 1.5-6) plus weaker independent noise per channel (chroma)."""
    while not 0.3 <= (megapixels := float(rng.lognormal(0.08, 0.55))) <= 3.0:
        pass
    aspect = CAMERA_ASPECTS[int(rng.integers(len(CAMERA_ASPECTS)))]
    width = round((megapixels * 1e6 * aspect) ** 0.5)
    height = round(width / aspect)
    scale = rng.uniform(1.05, 2.0) if rng.random() < 0.85 else rng.uniform(0.7, 1.0)  # scene px per px
    scene = _scene(rng, sources, round(width * scale), round(height * scale))
    resample = (Image.Resampling.LANCZOS, Image.Resampling.BICUBIC, Image.Resampling.BILINEAR)
    image = Image.fromarray(scene).resize((width, height), resample[int(rng.integers(3))])
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.85, 1.15))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.9, 1.2))
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.8, 1.3))
    noise = rng.normal(0.0, rng.uniform(1.5, 6.0), (height, width, 1)).astype(np.float32)
    noise = noise + rng.normal(0.0, rng.uniform(0.5, 2.0), (height, width, 3)).astype(np.float32)
    noisy = np.asarray(image, dtype=np.float32) + noise
    return Image.fromarray(np.clip(noisy + 0.5, 0, 255).astype(np.uint8))


def build_camera_corpus(count: int = CAMERA_COUNT) -> list[tuple[Path, int]]:
    """(path, JPEG quality) of the first ``count`` camera-corpus files, building the missing ones."""
    CAMERA_CORPUS_DIR.mkdir(parents=True, exist_ok=True)
    found = {int(p.name[:5]): p for p in CAMERA_CORPUS_DIR.glob("*-q*.jpg")}
    missing = [index for index in range(count) if index not in found]
    if missing:
        sources = _camera_sources()
        print(f"building {len(missing)} camera-like images in {CAMERA_CORPUS_DIR} ...", file=sys.stderr)
        for index in missing:
            rng = np.random.default_rng([CAMERA_SEED, index])
            image = _camera_photo(rng, sources)
            quality = int(rng.integers(70, 96))
            subsampling = 2 if rng.random() < 0.85 else (0 if rng.random() < 0.7 else 1)
            exif = Image.Exif()
            if rng.random() < 0.7:  # most camera files carry EXIF (orientation 1: no rotation)
                exif[0x010F], exif[0x0110], exif[0x0112] = "Benchcam", "BC-1", 1
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=quality, subsampling=subsampling, exif=exif)
            path = CAMERA_CORPUS_DIR / f"{index:05d}-q{quality}.jpg"
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(buffer.getvalue())
            tmp.replace(path)
            found[index] = path
    return [(found[i], int(found[i].stem.split("-q")[1])) for i in range(count)]


# ---------------------------------------------------------------------------------------------------
# The paths under test


def _hma_path() -> Callable[[bytes], str]:
    """HMA's own code path: python-threatexchange's ``pdq_from_bytes`` (Pillow + numpy + pdqhash)."""
    try:
        from threatexchange.signal_type.pdq.pdq_hasher import pdq_from_bytes
    except ImportError:  # the same steps, spelled out
        import pdqhash

        def hma(data: bytes) -> str:
            rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
            vector, _ = pdqhash.compute(rgb)
            return f"{int(''.join(map(str, vector)), 2):064x}"

        return hma
    return lambda data: pdq_from_bytes(data)[0]


Decoder = Callable[[bytes], npt.NDArray[np.uint8]]


def _decoders() -> tuple[Decoder, Decoder, str]:
    """(decode RGB, decode luma, which decoder): the media module's, or simplejpeg directly."""
    try:
        from suraksha.media.image import decode_image
        from suraksha.media.limits import DEFAULT_LIMITS
    except ImportError:
        import simplejpeg

        def rgb(data: bytes) -> npt.NDArray[np.uint8]:
            return simplejpeg.decode_jpeg(data, colorspace="RGB")  # type: ignore[no-any-return]

        def luma(data: bytes) -> npt.NDArray[np.uint8]:
            return simplejpeg.decode_jpeg(data, colorspace="GRAY")[:, :, 0]  # type: ignore[no-any-return]

        return rgb, luma, "simplejpeg.decode_jpeg (suraksha.media.image not importable)"

    def rgb_media(data: bytes) -> npt.NDArray[np.uint8]:
        decoded = decode_image(data, DEFAULT_LIMITS)
        assert decoded.rgb is not None
        return decoded.rgb

    def luma_media(data: bytes) -> npt.NDArray[np.uint8]:
        decoded = decode_image(data, DEFAULT_LIMITS, luma_only=True)
        assert decoded.luma is not None
        return decoded.luma

    return rgb_media, luma_media, "suraksha.media.image.decode_image"


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def _pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        cpu = sorted(os.sched_getaffinity(0))[-1]
        os.sched_setaffinity(0, {cpu})
        return f"pinned to CPU {cpu}"
    return "not pinned (no sched_setaffinity on this OS)"


def exact_rate(count: int, rounds: int = 1) -> float:
    """Images/s of exact mode alone (decode + PDQ, one core) on the corpus: what ``run`` reports as
    ``exact``, for other benchmarks to compare against (run it in a process of its own: it pins)."""
    from suraksha.signals import pdq

    blobs = [p.read_bytes() for p in build_corpus(count)]
    _pin_to_one_core()
    decode_rgb, _decode_luma, _decoder = _decoders()
    pdq.pdq_from_rgb(decode_rgb(blobs[0]), pdq.PdqMode.EXACT)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for blob in blobs:
            pdq.pdq_from_rgb(decode_rgb(blob), pdq.PdqMode.EXACT)
        best = min(best, time.perf_counter() - started)
    return len(blobs) / best


def run(count: int, rounds: int = 1) -> dict[str, object]:
    from suraksha.signals import pdq

    paths = build_corpus(count)
    blobs = [p.read_bytes() for p in paths]
    pinned = _pin_to_one_core()
    decode_rgb, decode_luma, decoder = _decoders()
    hma = _hma_path()

    fallbacks = 0
    reference_dct = pdq._reference_dct

    def counting_reference(pixels: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.float32], int]:
        nonlocal fallbacks
        fallbacks += 1
        return reference_dct(pixels)

    def exact(data: bytes) -> str:
        return pdq.pdq_from_rgb(decode_rgb(data), pdq.PdqMode.EXACT).hex

    def fast(data: bytes) -> str:
        return pdq.pdq_from_luma(decode_luma(data), pdq.PdqMode.FAST).hex

    paths_under_test: dict[str, Callable[[bytes], object]] = {  # results kept small: holding every
        "decode_rgb": lambda data: decode_rgb(data).shape,  # decoded image would time page faults
        "decode_luma": lambda data: decode_luma(data).shape,
        "hma": hma,
        "exact": exact,
        "fast": fast,
    }
    for function in paths_under_test.values():  # JIT load / first-call costs stay out of the timings
        function(blobs[0])
    seconds: dict[str, float] = {}
    outputs: dict[str, list[object]] = {}
    pdq._reference_dct = counting_reference  # count exact mode's fallbacks to the reference arithmetic
    try:
        for name, function in paths_under_test.items():
            for _ in range(rounds):  # the fastest round counts: other load on the machine only slows
                fallbacks = 0
                started = time.perf_counter()
                outputs[name] = [function(blob) for blob in blobs]
                elapsed = time.perf_counter() - started
                seconds[name] = min(elapsed, seconds.get(name, elapsed))
            if name == "exact":
                exact_fallbacks = fallbacks
    finally:
        pdq._reference_dct = reference_dct

    reference = [str(h) for h in outputs["hma"]]
    fidelity = {}
    for mode in ("exact", "fast"):
        distances = np.array([_distance(str(h), r) for h, r in zip(outputs[mode], reference, strict=True)])
        fidelity[mode] = {
            "identical_percent": round(100.0 * float(np.mean(distances == 0)), 2),
            "p99": float(np.percentile(distances, 99)),
            "max": int(distances.max()),
            "histogram": {int(d): int(n) for d, n in enumerate(np.bincount(distances)) if n},
        }
    megapixels = [math.prod(shape) / 1e6 for shape in outputs["decode_luma"]]  # type: ignore[call-overload]
    rates = {name: len(blobs) / s for name, s in seconds.items()}
    return {
        "images": len(blobs),
        "megapixels_mean": round(float(np.mean(megapixels)), 2),
        "megapixels_range": [round(min(megapixels), 2), round(max(megapixels), 2)],
        "bytes_mean": round(float(np.mean([len(b) for b in blobs]))),
        "cpu": pinned,
        "rounds": rounds,
        "decoder": decoder,
        "images_per_second": {name: round(rate, 1) for name, rate in rates.items()},
        "ms_per_image": {name: round(1000 / rate, 2) for name, rate in rates.items()},
        "ratio_vs_hma": {name: round(rate / rates["hma"], 2) for name, rate in rates.items()},
        "exact_reference_fallback_percent": round(100.0 * exact_fallbacks / len(blobs), 1),
        "distance_to_reference": fidelity,
    }


SIZE_BANDS = (
    (0.0, 0.5, "< 0.5 MP"),
    (0.5, 1.5, "0.5-1.5 MP"),
    (1.5, 3.0, "1.5-3 MP"),
    (3.0, math.inf, "> 3 MP"),
)


def _fidelity(distances: npt.NDArray[np.int64]) -> dict[str, object]:
    if not len(distances):
        return {"images": 0}
    return {
        "images": len(distances),
        "identical": int(np.sum(distances == 0)),
        "p99": float(np.percentile(distances, 99)),
        "max": int(distances.max()),
        "histogram": {int(d): int(n) for d, n in enumerate(np.bincount(distances)) if n},
    }


def _camera_stages(blobs: list[bytes]) -> dict[str, object]:
    """Where ``hash_bytes``'s time goes, per stage, in CPU ms per image (one pass, each stage timed
    alone on the same file in turn): the digests, the Pillow header parse with the EXIF orientation
    (``decode_image`` reads it before libjpeg-turbo decodes), each decode, and PDQ on the decoded
    pixels; plus how often exact mode fell back to the reference's float32 arithmetic."""
    import simplejpeg

    from suraksha.media.detect import MediaFormat
    from suraksha.media.image import _open_header, _orientation
    from suraksha.media.limits import DEFAULT_LIMITS
    from suraksha.signals import pdq
    from suraksha.signals.digests import digests_of_bytes

    def header(data: bytes) -> int:
        with _open_header(data, MediaFormat.JPEG, DEFAULT_LIMITS) as image:
            return _orientation(image)

    totals = dict.fromkeys(
        ("digests", "header_and_orientation", "decode_rgb", "pdq_exact", "decode_luma", "pdq_fast"), 0.0
    )
    fallbacks = 0
    reference_dct = pdq._reference_dct

    def counting_reference(pixels: npt.NDArray[np.generic]) -> tuple[npt.NDArray[np.float32], int]:
        nonlocal fallbacks
        fallbacks += 1
        return reference_dct(pixels)

    def timed(stage: str, function: Callable[..., Any], *args: object) -> Any:
        started = time.thread_time()
        result = function(*args)
        totals[stage] += time.thread_time() - started
        return result

    def luma_of(data: bytes) -> npt.NDArray[np.uint8]:
        return simplejpeg.decode_jpeg(data, colorspace="GRAY")[:, :, 0]  # type: ignore[no-any-return]

    pdq._reference_dct = counting_reference
    try:
        for blob in blobs:
            timed("digests", digests_of_bytes, blob)
            timed("header_and_orientation", header, blob)
            rgb = timed("decode_rgb", simplejpeg.decode_jpeg, blob)
            timed("pdq_exact", pdq.pdq_from_rgb, rgb, pdq.PdqMode.EXACT)
            del rgb
            luma = timed("decode_luma", luma_of, blob)
            timed("pdq_fast", pdq.pdq_from_luma, luma, pdq.PdqMode.FAST)
            del luma
    finally:
        pdq._reference_dct = reference_dct
    return {
        "cpu_ms_per_image": {stage: round(1000 * total / len(blobs), 3) for stage, total in totals.items()},
        "exact_reference_fallback_percent": round(100.0 * fallbacks / len(blobs), 1),
    }


def run_camera(count: int = CAMERA_COUNT, rounds: int = 1) -> dict[str, object]:
    """The camera-like corpus through the product's whole per-file path, ``hash_bytes`` (sniff, bounded
    decode, MD5 + SHA-256, PDQ), beside HMA's ``pdq_from_bytes`` and libjpeg-turbo's decode alone
    (``simplejpeg``, RGB and luma: the floor under any JPEG path), overall and by image-size band.

    Each round times every path once, one file at a time; per path the faster round counts."""
    import simplejpeg

    from suraksha.signals import pdq
    from suraksha.signals.file_signals import HashOptions, hash_bytes
    from suraksha.signals.pdq import PdqMode

    corpus = build_camera_corpus(count)
    blobs = [path.read_bytes() for path, _ in corpus]
    qualities = np.array([quality for _, quality in corpus])
    pinned = _pin_to_one_core()
    hma = _hma_path()
    options = {mode: HashOptions(mode=mode) for mode in PdqMode}

    def ours(mode: PdqMode) -> Callable[[bytes], object]:
        def hash_file(data: bytes) -> str:
            signals = hash_bytes(data, options[mode])
            assert signals.pdq is not None, signals.error
            return signals.pdq.hex

        return hash_file

    paths_under_test: dict[str, Callable[[bytes], object]] = {
        "decode_rgb": lambda data: simplejpeg.decode_jpeg(data, colorspace="RGB").shape,
        "decode_luma": lambda data: simplejpeg.decode_jpeg(data, colorspace="GRAY").shape,
        "hma": hma,
        "exact": ours(PdqMode.EXACT),
        "fast": ours(PdqMode.FAST),
    }
    for function in paths_under_test.values():  # JIT load / first-call costs stay out of the timings,
        function(blobs[0])  # the reference arithmetic's too (exact mode falls back to it now and then)
    pdq._reference_dct(simplejpeg.decode_jpeg(blobs[0], colorspace="RGB"))
    # Per file, both the thread's CPU time and the wall clock: on a core shared with other work the
    # wall clock also counts the time other processes held the core, so CPU time is the main figure.
    cpu: dict[str, npt.NDArray[np.float64]] = {}
    wall: dict[str, float] = {}
    outputs: dict[str, list[object]] = {}
    for _ in range(rounds):  # round after round, so a burst of other load hits every path alike
        for name, function in paths_under_test.items():
            elapsed = np.empty(len(blobs))
            results = []
            round_started = time.perf_counter()
            for index, blob in enumerate(blobs):
                started = time.thread_time()
                results.append(function(blob))
                elapsed[index] = time.thread_time() - started
            round_wall = time.perf_counter() - round_started
            if name not in cpu or elapsed.sum() < cpu[name].sum():
                cpu[name], outputs[name] = elapsed, results
            wall[name] = min(round_wall, wall.get(name, round_wall))

    shapes = [cast("tuple[int, ...]", shape) for shape in outputs["decode_luma"]]
    megapixels = np.array([math.prod(shape[:2]) / 1e6 for shape in shapes])
    bands: dict[str, dict[str, object]] = {}
    for low, high, label in (*SIZE_BANDS, (0.0, math.inf, "all")):
        chosen = (megapixels >= low) & (megapixels < high)
        n = int(chosen.sum())
        if not n:
            bands[label] = {"images": 0}
            continue
        rates = {name: n / float(t[chosen].sum()) for name, t in cpu.items()}
        bands[label] = {
            "images": n,
            "megapixels_mean": round(float(megapixels[chosen].mean()), 2),
            "images_per_cpu_second": {name: round(rate, 1) for name, rate in rates.items()},
            "cpu_ms_per_image": {name: round(1000 / rate, 2) for name, rate in rates.items()},
            "ratio_vs_hma": {name: round(rate / rates["hma"], 2) for name, rate in rates.items()},
            "cpu_ms_above_decode": {
                "exact": round(1000 / rates["exact"] - 1000 / rates["decode_rgb"], 2),
                "fast": round(1000 / rates["fast"] - 1000 / rates["decode_luma"], 2),
            },
        }
    wall_rates = {name: len(blobs) / seconds for name, seconds in wall.items()}
    reference = [str(h) for h in outputs["hma"]]
    distances = {
        mode: np.array([_distance(str(h), r) for h, r in zip(outputs[mode], reference, strict=True)])
        for mode in ("exact", "fast")
    }
    return {
        "corpus": "camera",
        "images": len(blobs),
        "megapixels_mean": round(float(megapixels.mean()), 2),
        "megapixels_range": [round(float(megapixels.min()), 2), round(float(megapixels.max()), 2)],
        "bytes_mean": round(float(np.mean([len(b) for b in blobs]))),
        "cpu": pinned,
        "rounds": rounds,
        "bands": bands,
        "stages": _camera_stages(blobs),
        "wall_clock": {
            "images_per_second": {name: round(rate, 1) for name, rate in wall_rates.items()},
            "ratio_vs_hma": {name: round(rate / wall_rates["hma"], 2) for name, rate in wall_rates.items()},
        },
        "distance_to_reference": {
            "exact": _fidelity(distances["exact"]),
            "fast": _fidelity(distances["fast"]),
            "fast_quality_80_up": _fidelity(distances["fast"][qualities >= 80]),
        },
    }


def _print_camera(result: dict[str, object]) -> None:
    print(
        f"camera corpus: {result['images']} JPEGs, {result['megapixels_mean']} MP mean "
        f"{result['megapixels_range']}, {result['bytes_mean']:,} bytes mean; {result['cpu']}"
    )
    bands = result["bands"]
    assert isinstance(bands, dict)
    shown = [label for label, band in bands.items() if band["images"]]
    print("images per CPU-second (x HMA), by image size:")
    print(f"{'path':<18}" + "".join(f"{label:>20}" for label in shown))
    print(f"{'images':<18}" + "".join(f"{bands[label]['images']:>20}" for label in shown))
    for name in bands["all"]["images_per_cpu_second"]:
        cells = [
            f"{bands[label]['images_per_cpu_second'][name]:.1f} ({bands[label]['ratio_vs_hma'][name]:.2f}x)"
            for label in shown
        ]
        print(f"{name:<18}" + "".join(f"{cell:>20}" for cell in cells))
    for mode in ("exact", "fast"):
        cells = [f"{bands[label]['cpu_ms_above_decode'][mode]:.2f}" for label in shown]
        print(f"{mode + ' ms > decode':<18}" + "".join(f"{cell:>20}" for cell in cells))
    wall_clock = result["wall_clock"]
    assert isinstance(wall_clock, dict)
    print(
        "wall clock, faster round (counts other processes' time on the core): "
        + ", ".join(
            f"{name} {rate:.1f}/s ({wall_clock['ratio_vs_hma'][name]:.2f}x)"
            for name, rate in wall_clock["images_per_second"].items()
        )
    )
    stages = result["stages"]
    assert isinstance(stages, dict)
    print(
        "stages, CPU ms/image: "
        + ", ".join(f"{stage} {ms:.3f}" for stage, ms in stages["cpu_ms_per_image"].items())
        + f"; exact mode's reference fallbacks: {stages['exact_reference_fallback_percent']}% of images"
    )
    empty = [label for label, band in bands.items() if not band["images"]]
    if empty:
        print(f"no images in: {', '.join(empty)}")
    fidelity = result["distance_to_reference"]
    assert isinstance(fidelity, dict)
    for name, stats in fidelity.items():
        print(
            f"{name}: {stats['identical']}/{stats['images']} identical to pdqhash, p99 {stats['p99']:.0f}, "
            f"max {stats['max']} bits; distances {stats['histogram']}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--corpus",
        choices=("current", "camera", "both"),
        default="current",
        help="current: the upscaled sample-photo corpus; camera: the camera-like one (default current)",
    )
    parser.add_argument(
        "--count", type=int, default=1000, help="current-corpus images to hash (default 1000)"
    )
    parser.add_argument(
        "--camera-count",
        type=int,
        default=CAMERA_COUNT,
        help=f"camera-corpus images (default {CAMERA_COUNT})",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="time each path this many times, keep the fastest"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    results: dict[str, dict[str, object]] = {}
    if args.corpus in ("current", "both"):
        results["current"] = run(args.count, args.rounds)
    if args.corpus in ("camera", "both"):
        results["camera"] = run_camera(args.camera_count, args.rounds)
    if args.json:
        print(json.dumps(results if len(results) > 1 else next(iter(results.values())), indent=2))
        return
    if "current" in results:
        _print_current(results["current"])
    if "camera" in results:
        _print_camera(results["camera"])


def _print_current(result: dict[str, object]) -> None:
    print(
        f"{result['images']} JPEGs, {result['megapixels_mean']} MP mean {result['megapixels_range']}, "
        f"{result['bytes_mean']:,} bytes mean; {result['cpu']}; decoder: {result['decoder']}"
    )
    rates = result["images_per_second"]
    ms = result["ms_per_image"]
    ratios = result["ratio_vs_hma"]
    assert isinstance(rates, dict)
    assert isinstance(ms, dict)
    assert isinstance(ratios, dict)
    print(f"{'path':<12} {'images/s':>9} {'ms/image':>9} {'x HMA':>7}")
    for name in rates:
        print(f"{name:<12} {rates[name]:>9.1f} {ms[name]:>9.2f} {ratios[name]:>7.2f}")
    fallbacks = result["exact_reference_fallback_percent"]
    print(f"exact mode fell back to the reference arithmetic on {fallbacks}% of images")
    fidelity = result["distance_to_reference"]
    assert isinstance(fidelity, dict)
    for mode, stats in fidelity.items():
        print(
            f"{mode}: identical to the reference {stats['identical_percent']}%, p99 {stats['p99']:.0f}, "
            f"max {stats['max']} bits; distances {stats['histogram']}"
        )


if __name__ == "__main__":
    main()
