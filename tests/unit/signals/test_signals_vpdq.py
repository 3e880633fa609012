"""vPDQ: the reference's frame-line format, matching rules, and hashes of the reference videos."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from suraksha.signals.pdq import PdqHash
from suraksha.signals.types import VpdqSignal
from suraksha.signals.vpdq import (
    VpdqFrame,
    VpdqMatch,
    format_vpdq,
    hash_frames,
    is_match,
    match_vpdq,
    parse_vpdq,
)

VIDEOS = (
    "chair-19-sd-bar",
    "chair-22-sd-sepia-bar",
    "doorknob-hd-no-bar",
    "pattern-hd-no-bar",
    "pattern-longer-no-bar",
    "test-padded-dimensions",
)


def reference_hashes(vpdq_dir: Path, name: str) -> list[VpdqFrame]:
    return parse_vpdq((vpdq_dir / "hashes" / f"{name}.txt").read_text())


def decoded_frames(path: Path) -> Iterator[tuple[int, float, npt.NDArray[np.uint8]]]:
    """Every frame as RGB: through the media module, or PyAV directly if that is not there yet."""
    try:
        from suraksha.media.video import iter_frames
    except ImportError:
        import av

        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for index, frame in enumerate(container.decode(stream)):
                yield index, float(frame.time or 0.0), frame.to_ndarray(format="rgb24")
        return
    for frame in iter_frames(path, fps=None):
        yield frame.index, frame.timestamp, frame.rgb


@cache
def hashed_video(path: Path) -> tuple[VpdqFrame, ...]:
    return tuple(hash_frames(decoded_frames(path)))


# ---------------------------------------------------------------------------------------------------
# Format


def test_reference_files_round_trip(vpdq_dir: Path) -> None:
    for path in sorted((vpdq_dir / "hashes").glob("*.txt")):
        text = path.read_text()
        frames = parse_vpdq(text)
        assert format_vpdq(frames) == text.strip()
        assert parse_vpdq(format_vpdq(frames, ";")) == frames


def test_frame_line() -> None:
    frame = VpdqFrame.from_line(" 7, 99 ," + "AB" * 32 + ",0.2333333 ")
    assert (frame.frame_number, frame.quality, frame.pdq_hex, frame.timestamp) == (
        7,
        99,
        "ab" * 32,
        0.2333333,
    )
    assert frame.pdq.quality == 99
    assert frame.to_line() == "7,99," + "ab" * 32 + ",0.233"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1,100," + "a" * 64, "4 comma-separated fields"),
        ("x,100," + "a" * 64 + ",0.0", "whole numbers"),
        ("1,100," + "a" * 63 + ",0.0", "64 hexadecimal digits"),
        ("1,101," + "a" * 64 + ",0.0", "quality must be 0-100"),
        ("-1,100," + "a" * 64 + ",0.0", "frame number"),
        ("1,100," + "a" * 64 + ",nan", "timestamp"),
    ],
)
def test_bad_frame_lines_are_explained(line: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        VpdqFrame.from_line(line)


def test_parse_names_the_bad_line_and_refuses_nothing() -> None:
    good = "0,100," + "a" * 64 + ",0.000"
    with pytest.raises(ValueError, match="line 3"):
        parse_vpdq(f"{good}\n\nnot a frame\n")
    with pytest.raises(ValueError, match="no frame lines"):
        parse_vpdq(" \n;\n")


# ---------------------------------------------------------------------------------------------------
# Matching


def test_expected_outcomes_on_the_reference_hashes(vpdq_dir: Path) -> None:
    chair19, chair22 = (reference_hashes(vpdq_dir, n) for n in ("chair-19-sd-bar", "chair-22-sd-sepia-bar"))
    short, longer = (reference_hashes(vpdq_dir, n) for n in ("pattern-hd-no-bar", "pattern-longer-no-bar"))
    both_ways = match_vpdq(chair19, chair22)
    assert both_ways.query_match_percent >= 80
    assert both_ways.target_match_percent >= 80
    assert is_match(chair19, chair22)
    assert is_match(chair22, chair19)
    contained = match_vpdq(short, longer)
    assert contained.query_match_percent == 100.0  # the longer one contains the shorter
    assert is_match(short, longer)
    for chair in (chair19, chair22):
        for pattern in (short, longer):
            assert match_vpdq(chair, pattern) == VpdqMatch(0.0, 0.0)
            assert not is_match(pattern, chair)


def frame(number: int, value: int, quality: int = 100) -> VpdqFrame:
    return VpdqFrame(number, quality, PdqHash(value.to_bytes(32, "big"), quality), number / 30)


def test_distance_must_be_strictly_under_the_threshold() -> None:
    """The reference vpdq library counts a frame at distance < 31 (not <= 31) as matched."""
    base = (1 << 200) - 1
    at_30 = base ^ ((1 << 30) - 1)
    at_31 = base ^ ((1 << 31) - 1)
    assert match_vpdq([frame(0, base)], [frame(0, at_30)]).query_match_percent == 100.0
    assert match_vpdq([frame(0, base)], [frame(0, at_31)]).query_match_percent == 0.0
    assert match_vpdq([frame(0, base)], [frame(0, at_31)], distance_threshold=32).query_match_percent == 100.0


def test_duplicates_and_low_quality_frames_do_not_count() -> None:
    query = [frame(0, 1), frame(1, 1), frame(2, 1), frame(3, 2**256 - 1, quality=49)]
    target = [frame(0, 1), frame(1, 2**200 - 1)]
    result = match_vpdq(query, target)
    assert result.query_match_percent == 100.0  # one unique good frame, matched
    assert result.target_match_percent == 50.0
    assert match_vpdq(query, target, quality_threshold=0).query_match_percent == 50.0
    assert match_vpdq([frame(0, 1, quality=10)], target) == VpdqMatch(0.0, 0.0)  # nothing left to match
    assert match_vpdq([], target) == VpdqMatch(0.0, 0.0)


def test_is_match_thresholds() -> None:
    result = VpdqMatch(80.0, 10.0)
    assert result.is_match()
    assert not result.is_match(query_percent=80.1)
    assert not result.is_match(target_percent=10.5)


def random_frames(rng: random.Random, count: int, centres: list[int]) -> list[VpdqFrame]:
    """Frames near a few centre hashes (so that some match), with some repeats and low qualities."""
    frames = []
    for number in range(count):
        value = rng.choice(centres)
        for _ in range(rng.choice((0, 5, 14, 15, 16, 30, 40))):
            value ^= 1 << rng.randrange(256)
        frames.append(frame(number, value, quality=rng.choice((100, 100, 90, 50, 49, 0))))
        if rng.random() < 0.2:
            frames.append(frame(number, value, quality=frames[-1].quality))
    return frames


def naive_percentages(query: list[VpdqFrame], target: list[VpdqFrame]) -> tuple[float, float] | None:
    """The reference's python matcher, loop for loop (dedupe, then the quality filter, then < 31)."""

    def usable(frames: list[VpdqFrame]) -> list[VpdqFrame]:
        unique: list[VpdqFrame] = []
        for f in frames:
            if f.pdq_hex not in [u.pdq_hex for u in unique]:
                unique.append(f)
        return [f for f in unique if f.quality >= 50]

    q, t = usable(query), usable(target)
    if not q or not t:
        return None
    q_hits = sum(any(a.pdq.distance(b.pdq) < 31 for b in t) for a in q)
    t_hits = sum(any(b.pdq.distance(a.pdq) < 31 for a in q) for b in t)
    return 100.0 * q_hits / len(q), 100.0 * t_hits / len(t)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), sizes=st.tuples(st.integers(0, 40), st.integers(0, 40)))
def test_fast_match_equals_the_naive_one(seed: int, sizes: tuple[int, int]) -> None:
    rng = random.Random(seed)
    centres = [rng.getrandbits(256) for _ in range(4)]
    query, target = random_frames(rng, sizes[0], centres), random_frames(rng, sizes[1], centres[1:])
    result = match_vpdq(query, target)
    naive = naive_percentages(query, target)
    if naive is None:
        assert result == VpdqMatch(0.0, 0.0)
    else:
        assert (result.query_match_percent, result.target_match_percent) == naive
    if query and target:
        signal_distance = VpdqSignal.naive_compare(format_vpdq(query), format_vpdq(target), 100)
        if naive is None:
            assert signal_distance is None
        else:
            assert signal_distance == math.ceil(100.0 - naive[0])


# ---------------------------------------------------------------------------------------------------
# Hashing the reference videos


@pytest.mark.parametrize("name", VIDEOS)
def test_reference_videos_hash_like_the_reference(vpdq_dir: Path, name: str) -> None:
    """The vpdq package's own regression rule: the same frame numbers, and PDQ distance < 31 on every
    frame where both qualities are >= 50."""
    ours = hashed_video(vpdq_dir / "videos" / f"{name}.mp4")
    expected = reference_hashes(vpdq_dir, name)
    assert [f.frame_number for f in ours] == [f.frame_number for f in expected]
    for mine, theirs in zip(ours, expected, strict=True):
        if mine.quality >= 50 and theirs.quality >= 50:
            assert mine.pdq.distance(theirs.pdq) < 31, (name, mine.frame_number)
        assert abs(mine.timestamp - theirs.timestamp) < 0.01


def test_decoded_videos_match_end_to_end(vpdq_dir: Path) -> None:
    chair19 = list(hashed_video(vpdq_dir / "videos" / "chair-19-sd-bar.mp4"))
    chair22 = list(hashed_video(vpdq_dir / "videos" / "chair-22-sd-sepia-bar.mp4"))
    pattern = list(hashed_video(vpdq_dir / "videos" / "pattern-hd-no-bar.mp4"))
    assert is_match(chair19, chair22)
    assert is_match(chair19, reference_hashes(vpdq_dir, "chair-22-sd-sepia-bar"))  # ours against theirs
    assert not is_match(chair19, pattern)
    assert match_vpdq(pattern, chair22) == VpdqMatch(0.0, 0.0)


def test_hash_frames_takes_video_frames_or_tuples() -> None:
    class Frame:
        def __init__(self, index: int, timestamp: float, rgb: npt.NDArray[np.uint8]) -> None:
            self.index, self.timestamp, self.rgb = index, timestamp, rgb

    rgb = np.random.default_rng(1).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    from_objects = hash_frames([Frame(0, 0.0, rgb), Frame(5, 0.5, rgb[::-1])])
    from_tuples = hash_frames([(0, 0.0, rgb), (5, 0.5, rgb[::-1])])
    assert from_objects == from_tuples
    assert [f.frame_number for f in from_tuples] == [0, 5]
    assert from_tuples[1].timestamp == 0.5
