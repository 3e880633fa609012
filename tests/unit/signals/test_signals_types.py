"""The signal-type vocabulary: validation, detection, naive comparisons."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suraksha.signals.types import (
    SIGNAL_TYPES,
    Md5Signal,
    PdqSignal,
    Sha256Signal,
    SignalComparison,
    SignalKind,
    VpdqSignal,
    detect_kind,
    possible_kinds,
    signal_type,
    validate_signal,
)

MD5 = "D41D8CD98F00B204E9800998ECF8427E"
WIDE = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
FRAME = "0,100," + WIDE + ",0.000"


def test_kinds_and_names() -> None:
    assert [k.value for k in SignalKind] == ["pdq", "vpdq", "md5", "sha256"]
    for kind, cls in SIGNAL_TYPES.items():
        assert cls.get_name() == kind.value
        assert signal_type(kind) is cls
        assert signal_type(kind.value) is cls
    with pytest.raises(ValueError, match="unknown signal type 'tmk'"):
        signal_type("tmk")


@pytest.mark.parametrize(
    ("kind", "raw", "normalised"),
    [
        (SignalKind.MD5, f" {MD5}\n", MD5.lower()),
        (SignalKind.SHA256, WIDE.upper(), WIDE),
        (SignalKind.PDQ, f"\t{WIDE.upper()} ", WIDE),
        (SignalKind.VPDQ, f"{FRAME.upper()};1,90,{WIDE},0.0333\n\n", f"{FRAME}\n1,90,{WIDE},0.033"),
    ],
)
def test_validate_normalises(kind: SignalKind, raw: str, normalised: str) -> None:
    assert validate_signal(kind, raw) == normalised
    assert SIGNAL_TYPES[kind].validate_signal_str(raw) == normalised  # python-threatexchange's name
    assert validate_signal(kind, normalised) == normalised


@pytest.mark.parametrize(
    ("kind", "raw", "message"),
    [
        (SignalKind.MD5, WIDE, "not an MD5 digest: expected 32 hexadecimal digits, got 64 characters"),
        (SignalKind.SHA256, MD5, "not a SHA-256 digest: expected 64"),
        (SignalKind.SHA256, "g" * 64, "not a SHA-256 digest"),
        (SignalKind.PDQ, WIDE[:-1], "not a PDQ hash: expected 64 hexadecimal digits, got 63"),
        (SignalKind.PDQ, WIDE[:-1] + "x", "other than 0-9 and a-f"),
        (SignalKind.VPDQ, WIDE, "vPDQ line 1"),
        (SignalKind.VPDQ, "", "no frame lines"),
    ],
)
def test_validate_explains_what_is_wrong(kind: SignalKind, raw: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_signal(kind, raw)


def test_detect_kind_refuses_to_guess_between_pdq_and_sha256() -> None:
    assert detect_kind(MD5) is SignalKind.MD5
    assert detect_kind(FRAME) is SignalKind.VPDQ
    assert detect_kind(WIDE) is None
    assert possible_kinds(WIDE) == {SignalKind.PDQ, SignalKind.SHA256}
    assert detect_kind("hello") is None
    assert possible_kinds("hello") == frozenset()


def test_digest_comparison_is_equality() -> None:
    assert Md5Signal.naive_compare(MD5, MD5.lower(), 0) == 0
    assert Md5Signal.naive_compare(MD5, "0" * 32, 5) is None
    assert Sha256Signal.compare_hash(WIDE, WIDE) == SignalComparison(True, 0)


@given(st.integers(0, 2**256 - 1), st.integers(0, 2**256 - 1), st.integers(0, 256))
def test_pdq_comparison(a: int, b: int, threshold: int) -> None:
    distance = bin(a ^ b).count("1")
    result = PdqSignal.naive_compare(f"{a:064x}", f"{b:064x}", threshold)
    assert result == (distance if distance <= threshold else None)


def test_pdq_default_threshold_is_31() -> None:
    a = int(WIDE, 16)
    assert PdqSignal.compare_hash(WIDE, f"{a ^ (2**31 - 1):064x}") == SignalComparison(True, 31)
    assert PdqSignal.compare_hash(WIDE, f"{a ^ (2**32 - 1):064x}") == SignalComparison(False, None)


def test_vpdq_comparison_distance_is_percent_of_query_unmatched() -> None:
    other = f"{int(WIDE, 16) ^ (2**200 - 1):064x}"
    query = f"0,100,{WIDE},0.0\n1,100,{other},0.033\n2,100,{'0' * 64},0.067"
    target = f"0,100,{WIDE},0.0"
    assert VpdqSignal.naive_compare(query, target, 100) == 67  # 1 of 3 found: 66.67 % unmatched, up
    assert VpdqSignal.naive_compare(target, query, 0) == 0
    assert VpdqSignal.compare_hash(query, target) == SignalComparison(False, None)  # needs >= 80 %
    assert VpdqSignal.compare_hash(target, query) == SignalComparison(True, 0)
    assert VpdqSignal.naive_compare(f"0,10,{WIDE},0.0", target, 100) is None  # no usable frames
