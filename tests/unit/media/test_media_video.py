"""Video frames: numbering and timestamps as vPDQ counts them, sampling, limits, broken files."""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from suraksha.media import (
    CorruptMedia,
    DecodeTimeout,
    MediaError,
    MediaFormat,
    MediaLimits,
    MediaTooLarge,
    UnsupportedMedia,
    iter_frames,
    probe_video,
)

from ._craft import audio_only_mp4, encode, pdq_bits, scene, video

REFERENCE_VIDEOS = [
    "chair-19-sd-bar",
    "chair-22-sd-sepia-bar",
    "doorknob-hd-no-bar",
    "pattern-hd-no-bar",
    "pattern-longer-no-bar",
    "test-padded-dimensions",
]


def reference_lines(testdata: Path, name: str) -> list[tuple[int, int, str, float]]:
    """``frame_number,quality,pdq_hex,timestamp_seconds`` per line."""
    lines = (testdata / "vpdq" / "hashes" / f"{name}.txt").read_text().split()
    return [(int(n), int(q), h, float(t)) for n, q, h, t in (line.split(",") for line in lines)]


def hex_bits(pdq_hex: str) -> np.ndarray:
    return np.unpackbits(np.frombuffer(bytes.fromhex(pdq_hex), dtype=np.uint8)).astype(bool)


# --- the vPDQ reference videos ---------------------------------------------------------------------


@pytest.mark.parametrize("name", REFERENCE_VIDEOS)
def test_sampled_frames_line_up_with_the_vpdq_reference(testdata: Path, name: str) -> None:
    path = testdata / "vpdq" / "videos" / f"{name}.mp4"
    reference = reference_lines(testdata, name)
    info = probe_video(path)
    assert info.format is MediaFormat.MP4
    assert info.codec == "h264"
    assert info.frame_count == len(reference)
    frames = list(iter_frames(path, fps=1.0))
    assert [frame.index for frame in frames] == list(range(0, len(reference), 30))
    for frame in frames:
        number, quality, pdq_hex, seconds = reference[frame.index]
        assert frame.index == number
        assert frame.timestamp == pytest.approx(seconds, abs=0.0005)
        assert frame.rgb.shape == (info.height, info.width, 3)
        assert frame.rgb.flags.c_contiguous
        bits = pdq_bits(frame.rgb)
        if quality >= 80:  # the decode, padding and colour conversion agree with vPDQ's own
            assert int(np.count_nonzero(bits != hex_bits(pdq_hex))) <= 10, (name, frame.index)


@pytest.mark.parametrize("name", ["doorknob-hd-no-bar"])
def test_every_frame_lines_up_with_the_vpdq_reference(testdata: Path, name: str) -> None:
    path = testdata / "vpdq" / "videos" / f"{name}.mp4"
    reference = reference_lines(testdata, name)
    frames = list(iter_frames(path.read_bytes(), fps=None))
    assert [frame.index for frame in frames] == [number for number, *_ in reference]
    assert [round(frame.timestamp, 3) for frame in frames] == [seconds for *_, seconds in reference]


def test_padded_dimensions_come_out_unpadded(testdata: Path) -> None:
    path = testdata / "vpdq" / "videos" / "test-padded-dimensions.mp4"
    first = next(iter(iter_frames(path)))
    assert first.rgb.shape == (1080, 1080, 3)
    _, quality, pdq_hex, _ = reference_lines(testdata, "test-padded-dimensions")[0]
    assert quality == 100
    assert int(np.count_nonzero(pdq_bits(first.rgb) != hex_bits(pdq_hex))) <= 4


# --- sampling --------------------------------------------------------------------------------------------


def test_every_frame_when_fps_is_none() -> None:
    frames = list(iter_frames(video(frames=12), fps=None))
    assert [frame.index for frame in frames] == list(range(12))
    assert [frame.timestamp for frame in frames] == pytest.approx([i / 30 for i in range(12)])
    assert all(frame.rgb.shape == (48, 64, 3) for frame in frames)


@pytest.mark.parametrize(("fps", "expected"), [(2.0, [0, 15, 30]), (1.0, [0, 30]), (0.5, [0]), (60.0, None)])
def test_first_frame_at_or_after_each_boundary(fps: float, expected: list[int] | None) -> None:
    frames = list(iter_frames(video(frames=45, size=(32, 32)), fps=fps))
    assert [frame.index for frame in frames] == (expected if expected is not None else list(range(45)))


def test_variable_frame_rate_sampling_never_duplicates() -> None:
    data = video("matroska", frames=6, size=(32, 32), pts=[0, 1, 2, 40, 41, 100])
    every = list(iter_frames(data, fps=None))
    expected = [0, 1 / 30, 2 / 30, 40 / 30, 41 / 30, 100 / 30]
    assert [frame.timestamp for frame in every] == pytest.approx(expected, abs=0.001)  # Matroska: 1 ms ticks
    sampled = list(iter_frames(data, fps=1.0))
    assert [frame.index for frame in sampled] == [0, 3, 5]  # 0 s, then 1.33 s (first past 1 s), 3.33 s


@pytest.mark.parametrize("fps", [0.0, -1.0, math.nan, math.inf])
def test_bad_fps_is_a_programming_error(fps: float) -> None:
    with pytest.raises(ValueError, match="fps"):
        iter_frames(b"", fps=fps)


@pytest.mark.parametrize(
    ("container", "codec", "expected"),
    [
        ("webm", "libvpx-vp9", MediaFormat.WEBM),
        ("matroska", "libx264", MediaFormat.MKV),
        ("avi", "mpeg4", MediaFormat.AVI),
        ("mov", "libx264", MediaFormat.MOV),
    ],
)
def test_other_containers(container: str, codec: str, expected: MediaFormat) -> None:
    data = video(container, codec, frames=8, size=(32, 32))
    assert probe_video(data).format is expected
    frames = list(iter_frames(data, fps=None))
    assert [frame.index for frame in frames] == list(range(8))


# --- limits ------------------------------------------------------------------------------------------------


def test_bytes_over_the_limit(tmp_path: Path) -> None:
    data = video(frames=4)
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    for source in (data, path):
        with pytest.raises(MediaTooLarge, match="bytes"):
            next(iter(iter_frames(source, MediaLimits(max_bytes=len(data) - 1))))


def test_duration_over_the_limit_is_refused_before_decoding() -> None:
    with pytest.raises(MediaTooLarge, match="lasts"):
        next(iter(iter_frames(video(frames=12), MediaLimits(max_video_seconds=0.2))))


def test_too_many_frames() -> None:
    data = video(frames=12)
    with pytest.raises(MediaTooLarge, match="frames"):
        list(iter_frames(data, MediaLimits(max_frames=3), fps=None))
    assert len(list(iter_frames(data, MediaLimits(max_frames=3), fps=1.0))) == 1


def test_frames_over_the_pixel_limit() -> None:
    with pytest.raises(MediaTooLarge, match="64x48"):
        next(iter(iter_frames(video(frames=2), MediaLimits(max_frame_pixels=64 * 48 - 1))))


def test_timeout_is_checked_between_frames() -> None:
    with pytest.raises(DecodeTimeout):
        list(iter_frames(video(frames=4), MediaLimits(decode_timeout_s=0.0)))


# --- broken and mislabelled input ------------------------------------------------------------------------


def test_mp4_with_no_frames_is_corrupt_not_empty() -> None:
    empty_mp4 = video(frames=0)
    assert empty_mp4[4:8] == b"ftyp"
    with pytest.raises(CorruptMedia, match="no video stream"):
        list(iter_frames(empty_mp4))


def test_webm_with_no_frames_is_corrupt_not_empty() -> None:
    with pytest.raises(CorruptMedia, match="no"):
        list(iter_frames(video("webm", "libvpx-vp9", frames=0, size=(32, 32))))


def test_truncated_mp4_with_index_at_the_end() -> None:
    data = video(frames=12)
    with pytest.raises(CorruptMedia):
        list(iter_frames(data[: len(data) // 2]))


def test_truncated_mp4_with_index_first(tmp_path: Path) -> None:
    data = video(frames=12, path=tmp_path / "fast.mp4", options={"movflags": "faststart"})
    assert data.index(b"moov") < data.index(b"mdat")
    assert len(list(iter_frames(data, fps=None))) == 12
    for cut in (len(data) - 1, len(data) * 2 // 3):
        with pytest.raises(CorruptMedia, match="truncated"):
            list(iter_frames(data[:cut]))


def test_truncated_webm() -> None:
    data = video("webm", "libvpx-vp9", frames=12, size=(32, 32))
    with pytest.raises(CorruptMedia, match="truncated"):
        list(iter_frames(data[: len(data) // 2]))


def test_trailing_bytes_after_a_video_are_allowed() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("payload.txt", "hidden")
    frames = list(iter_frames(video(frames=6) + archive.getvalue(), fps=None))
    assert len(frames) == 6


def test_an_image_handed_to_iter_frames_says_it_is_an_image() -> None:
    png = encode(Image.fromarray(scene(16, 16)), "PNG")
    with pytest.raises(UnsupportedMedia, match="image"):
        list(iter_frames(png))
    with pytest.raises(UnsupportedMedia, match="image"):
        probe_video(png)


def test_audio_only_is_unsupported() -> None:
    with pytest.raises(UnsupportedMedia, match="audio"):
        list(iter_frames(audio_only_mp4()))


def test_zero_and_random_bytes() -> None:
    with pytest.raises(UnsupportedMedia, match="empty"):
        list(iter_frames(b""))
    with pytest.raises(UnsupportedMedia):
        list(iter_frames(bytes(range(256)) * 4))


def test_a_missing_path_is_an_os_error_not_a_media_state(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(iter_frames(tmp_path / "missing.mp4"))


SEED_VIDEOS = {
    "mp4": video(frames=6, size=(32, 32)),
    "webm": video("webm", "libvpx-vp9", frames=6, size=(32, 32)),
    "avi": video("avi", "mpeg4", frames=6, size=(32, 32)),
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(sorted(SEED_VIDEOS)),
    edits=st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=8),
    cut=st.none() | st.integers(0, 1 << 20),
)
def test_mutated_videos_raise_only_media_errors(
    seed: str, edits: list[tuple[int, int]], cut: int | None
) -> None:
    data = bytearray(SEED_VIDEOS[seed])
    for where, value in edits:
        data[where % len(data)] = value
    if cut is not None:
        del data[cut % len(data) :]
    failure: MediaError | None = None
    try:
        frames = list(iter_frames(bytes(data), MediaLimits(max_frame_pixels=1 << 20), fps=None))
    except MediaError as error:
        failure, frames = error, []
    assert failure is None or failure.message
    assert all(frame.rgb.dtype == np.uint8 for frame in frames)
