"""Bounds on every decode: bytes, pixels, frames, duration and time.

The defaults are safe for a service that takes uploads from strangers; each one is a setting
(``SURAKSHA_MEDIA_*``, see settings.py).
"""

from __future__ import annotations

from dataclasses import dataclass


# No slots: settings.py reads the defaults as class attributes (MediaLimits.max_bytes), which slots
# would turn into member descriptors.
@dataclass(frozen=True)
class MediaLimits:
    max_bytes: int = 256 * 1024 * 1024
    """Largest file accepted, images and video alike."""
    max_pixels: int = 100_000_000
    """Largest image (width x height) decoded; Pillow's own bomb check is set from this."""
    max_frames: int = 20_000
    """Most video frames hashed from one file (after sampling)."""
    max_video_seconds: float = 4 * 3600.0
    """Longest video accepted, from its container's duration and from the frames actually decoded."""
    max_frame_pixels: int = 8192 * 8192
    """Largest video frame decoded."""
    decode_timeout_s: float = 60.0
    """Wall-clock limit for decoding one file (checked between frames; hard-enforced by the scan's
    worker processes, which are killed and replaced on a timeout)."""


DEFAULT_LIMITS = MediaLimits()
