"""Benign synthetic images and videos, made from a seed: the same seed gives the same bytes.

Pictures are smooth random colour fields with random shapes on top: textured enough for a high PDQ
quality, unrelated to each other for different seeds, and obviously nothing but test patterns.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import cast

import numpy as np
from PIL import Image, ImageDraw


def synthetic_image(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    rng = np.random.default_rng(seed)
    field = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    image = Image.fromarray(field, "RGB").resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(6, 14))):
        x0, x1 = sorted(int(v) for v in rng.integers(0, width, size=2))
        y0, y1 = sorted(int(v) for v in rng.integers(0, height, size=2))
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1 + 4, y1 + 4), fill=colour)
        else:
            draw.ellipse((x0, y0, x1 + 4, y1 + 4), fill=colour)
    return image


def encode(image: Image.Image, fmt: str = "JPEG", **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def synthetic_jpeg(seed: int, width: int = 640, height: int = 480, quality: int = 90) -> bytes:
    return encode(synthetic_image(seed, width, height), "JPEG", quality=quality)


def write_synthetic_video(
    path: Path, seed: int, *, seconds: float = 3.0, fps: int = 10, width: int = 160, height: int = 120
) -> Path:
    """An MP4 (H.264 if available, else MPEG-4) of a slowly panning synthetic picture."""
    import av  # noqa: PLC0415 - only needed for video

    base = np.asarray(synthetic_image(seed, width * 2, height))
    with av.open(str(path), mode="w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = cast("av.VideoStream", container.add_stream(codec, rate=fps))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for index in range(int(seconds * fps)):
            offset = int(index * width / max(1, seconds * fps))
            frame = av.VideoFrame.from_ndarray(
                np.ascontiguousarray(base[:, offset : offset + width]), format="rgb24"
            )
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
