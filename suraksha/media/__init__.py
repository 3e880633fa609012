"""Safe media decoding: size, pixel, frame and time limits; mode and EXIF normalisation; frame sampling.

Nothing here imports database code: hashing workers (and Ray tasks) use it on their own.
"""

from suraksha.media.detect import MediaFormat, MediaKind, sniff
from suraksha.media.errors import (
    CorruptMedia,
    DecodeTimeout,
    MediaError,
    MediaErrorKind,
    MediaTooLarge,
    UnsupportedMedia,
)
from suraksha.media.image import DecodedImage, decode_image
from suraksha.media.limits import DEFAULT_LIMITS, MediaLimits
from suraksha.media.modes import luma_from_rgb, to_rgb
from suraksha.media.video import VideoFrame, VideoInfo, iter_frames, probe_video

__all__ = [
    "DEFAULT_LIMITS",
    "CorruptMedia",
    "DecodeTimeout",
    "DecodedImage",
    "MediaError",
    "MediaErrorKind",
    "MediaFormat",
    "MediaKind",
    "MediaLimits",
    "MediaTooLarge",
    "UnsupportedMedia",
    "VideoFrame",
    "VideoInfo",
    "decode_image",
    "iter_frames",
    "luma_from_rgb",
    "probe_video",
    "sniff",
    "to_rgb",
]
