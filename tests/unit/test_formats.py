"""Hash-list parsing, without a database."""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from suraksha.banks.formats import ListFormat, detect_format, looks_like_pdq_list, parse_list
from suraksha.errors import InvalidInput
from suraksha.signals.types import SignalKind
from suraksha.testing.hashes import pdq_like


def test_detect_format() -> None:
    assert detect_format("signal_type,signal\npdq,ab\n") is ListFormat.CSV
    assert detect_format("# comment\n\n" + "0," + "50," + "a" * 64 + ",0.0\n") is ListFormat.VPDQ
    assert detect_format("d41d8cd98f00b204e9800998ecf8427e\n") is ListFormat.PLAIN
    assert detect_format("path,reference_pdq\na.jpg,ff\n") is ListFormat.CSV
    with pytest.raises(InvalidInput, match="signal_type and signal"):
        parse_list("path,reference_pdq\na.jpg,ff\n")
    with pytest.raises(InvalidInput, match="empty"):
        detect_format("\n# nothing\n")


def test_pdq_list_heuristic() -> None:
    rng = random.Random(7)
    assert looks_like_pdq_list([pdq_like(rng) for _ in range(20)])
    shas = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(20)]
    assert not looks_like_pdq_list(shas)
    assert not looks_like_pdq_list([pdq_like(rng) for _ in range(3)])  # too few to tell


def test_csv_extra_columns_warned_and_quality_checked() -> None:
    text = "signal_type,signal,quality,colour\nmd5,D41D8CD98F00B204E9800998ECF8427E,101,red\n"
    parsed = parse_list(text)
    assert parsed.warnings == ["ignored columns: colour"]
    assert parsed.rejected[0].reason.startswith("quality 101")


def test_csv_values_normalised() -> None:
    parsed = parse_list("signal_type,signal\nMD5, D41D8CD98F00B204E9800998ECF8427E \n")
    [row] = parsed.rows
    assert row.signal_type is SignalKind.MD5 and row.value == "d41d8cd98f00b204e9800998ecf8427e"


def test_csv_takes_hma_video_md5() -> None:
    """HMA's CSV export names a video's MD5 ``video_md5``: imported as our ``md5``."""
    parsed = parse_list("signal_type,signal\nvideo_md5,d41d8cd98f00b204e9800998ecf8427e\n")
    [row] = parsed.rows
    assert row.signal_type is SignalKind.MD5 and not parsed.rejected


def test_vpdq_rejects_bad_frame_lines() -> None:
    good = "0,100," + "ab" * 32 + ",0.0"
    parsed = parse_list(f"{good}\n1,100,zz,0.5\n", ListFormat.VPDQ)
    assert parsed.rows == [] and parsed.rejected[0].line == 2


@example(text="a,\rb")  # a bare carriage return in the CSV header raised csv.Error
@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_arbitrary_text_never_crashes(text: str) -> None:
    try:
        parsed = parse_list(text)
    except InvalidInput:
        return
    for row in parsed.rows:
        assert row.signal_type in SignalKind
