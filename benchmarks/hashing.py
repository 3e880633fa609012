"""PDQ hashing throughput and fidelity: our exact and fast modes against HMA's path, on one core.

    .venv/bin/python benchmarks/hashing.py [--count 1000] [--rounds 1] [--json]

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


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--count", type=int, default=1000, help="corpus images to hash (default 1000)")
    parser.add_argument(
        "--rounds", type=int, default=1, help="time each path this many times, keep the fastest"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    args = parser.parse_args()
    result = run(args.count, args.rounds)
    if args.json:
        print(json.dumps(result, indent=2))
        return
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
