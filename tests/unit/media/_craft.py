"""Small media files built inside the tests: nothing large is committed."""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pdqhash
from PIL import Image, ImageCms


def scene(width: int = 256, height: int = 160) -> npt.NDArray[np.uint8]:
    """A deterministic picture with enough structure for a high-quality PDQ hash."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    red = 128 + 90 * np.sin(x / 17.0) * np.cos(y / 11.0)
    green = 128 + 90 * np.sin((x + y) / 23.0)
    blue = 128 + 90 * np.cos(np.hypot(x - width / 3, y - height / 2) / 9.0)
    rgb = np.stack([red, green, blue], axis=2)
    rgb[height // 4 : height // 2, width // 5 : width // 2] = (240, 30, 30)
    rgb[height // 2 : height - 10, width // 2 : width - 20] = (20, 20, 200)
    return np.ascontiguousarray(np.clip(rgb, 0, 255).astype(np.uint8))


def encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def pdq_bits(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.bool_]:
    bits, _quality = pdqhash.compute(np.ascontiguousarray(rgb))
    return np.asarray(bits, dtype=bool)


def pdq_distance(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> int:
    return int(np.count_nonzero(pdq_bits(a) != pdq_bits(b)))


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_header(width: int, height: int, bit_depth: int = 8, colour_type: int = 2) -> bytes:
    """A PNG signature and a valid IHDR (correct CRC) declaring ``width`` x ``height``."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)


def png_declaring(width: int, height: int) -> bytes:
    """A header declaring ``width`` x ``height`` followed by a token IDAT: the pixel data never arrives."""
    return png_header(width, height) + png_chunk(b"IDAT", zlib.compress(b"\x00")) + png_chunk(b"IEND", b"")


def zero_bomb_png(width: int, height: int) -> bytes:
    """A complete, valid 1-bit PNG of zeros: tens of kilobytes that inflate to width x height pixels."""
    compressor = zlib.compressobj(9)
    row = bytes(1 + (width + 7) // 8)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return png_header(width, height, 1, 0) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


def video(
    fmt: str = "mp4",
    codec: str = "libx264",
    frames: int = 12,
    size: tuple[int, int] = (64, 48),
    rate: int = 30,
    *,
    path: Path | None = None,
    options: dict[str, str] | None = None,
    pts: list[int] | None = None,
) -> bytes:
    """A small video made with PyAV; ``pts`` (in 1/rate units) makes it variable-frame-rate."""
    target: Path | io.BytesIO = path if path is not None else io.BytesIO()
    with av.open(target, "w", format=fmt, options=options or {}) as container:
        stream = container.add_stream(codec, rate=rate)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        if pts is not None:
            stream.codec_context.time_base = Fraction(1, rate)
        container.start_encoding()
        for index in range(frames):
            pixels = np.full((size[1], size[0], 3), (index * 20) % 256, dtype=np.uint8)
            pixels[:, : (index * 5) % size[0]] = 255
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            if pts is not None:
                frame.pts = pts[index]
                frame.time_base = Fraction(1, rate)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path.read_bytes() if path is not None else target.getvalue()  # type: ignore[union-attr]


def audio_only_mp4() -> bytes:
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        stream = container.add_stream("aac", rate=8000)
        assert isinstance(stream, av.AudioStream)
        samples = np.zeros((1, 1024), dtype=np.float32)
        for _ in range(4):
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = 8000
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def inverting_cmyk_profile() -> bytes:
    """An ICC v2 CMYK output profile whose A2B0 table maps each colour to its negative.

    A profile that agrees with the naive conversion could not show that it was applied; this one
    turns the picture into its negative, which no fallback would.
    """
    corners = np.array([[c, m, y, k] for c in (0, 1) for m in (0, 1) for y in (0, 1) for k in (0, 1)], float)
    naive = 255 * (1 - corners[:, :3]) * (1 - corners[:, 3:4])
    negative = (255 - naive).round().astype(np.uint8).reshape(1, 16, 3)
    srgb_to_lab = ImageCms.buildTransform(
        ImageCms.createProfile("sRGB"), ImageCms.createProfile("LAB"), "RGB", "LAB"
    )
    lab = ImageCms.applyTransform(Image.fromarray(negative, "RGB"), srgb_to_lab)
    assert lab is not None
    clut = np.asarray(lab).reshape(16, 3).astype(np.uint8).tobytes()
    ramp = bytes(range(256))
    identity = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    a2b0 = b"mft1" + bytes(4) + bytes([4, 3, 2, 0]) + identity + ramp * 4 + clut + ramp * 3
    text = b"inverting test profile\x00"
    desc = b"desc" + bytes(4) + struct.pack(">I", len(text)) + text + bytes(8) + bytes(3) + bytes(67)
    d50 = _s15(0.9642) + _s15(1.0) + _s15(0.8249)
    tags = [(b"desc", desc), (b"wtpt", b"XYZ " + bytes(4) + d50), (b"A2B0", a2b0)]
    start = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        body += bytes(-(start + len(body)) % 4)
        table += signature + struct.pack(">II", start + len(body), len(data))
        body += data
    header = (
        struct.pack(">I", start + len(body))
        + bytes(4)
        + b"\x02\x10\x00\x00prtrCMYKLab "
        + bytes(12)
        + b"acsp"
        + bytes(28)
        + d50
        + bytes(48)
    )
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body
