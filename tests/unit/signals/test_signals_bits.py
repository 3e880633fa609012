"""Hex, Hamming distance and one-against-many distances; PdqHash's value semantics."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from suraksha.signals.bits import (
    bytes_to_hex,
    hamming_distance,
    hamming_distances,
    hex_to_bytes,
    pack_hashes,
)
from suraksha.signals.pdq import QUALITY_UNKNOWN, PdqHash

hash_bytes = st.binary(min_size=32, max_size=32)


def naive_distance(a: bytes, b: bytes) -> int:
    return sum(bin(x ^ y).count("1") for x, y in zip(a, b, strict=True))


@given(hash_bytes)
def test_hex_round_trip(value: bytes) -> None:
    text = bytes_to_hex(value)
    assert len(text) == 64
    assert text == text.lower()
    assert hex_to_bytes(text) == value
    assert hex_to_bytes(f"  {text.upper()}\n") == value
    assert PdqHash.from_hex(text).value == value
    assert PdqHash(value, 100).hex == text


def test_hex_is_the_reference_bit_order() -> None:
    """Bit k of the hash (coefficient k = row*16 + column) is 2**k of the 256-bit number the hex spells."""
    assert PdqHash((1).to_bytes(32, "big"), 0).hex == "0" * 63 + "1"
    assert PdqHash((1 << 255).to_bytes(32, "big"), 0).hex == "8" + "0" * 63


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ab" * 31, "expected 64 hexadecimal digits, got 62"),
        ("ab" * 33, "got 66"),
        ("zz" * 32, "characters other than 0-9 and a-f"),
        ("ab " * 21 + "a", "characters other than"),
        ("", "got 0"),
    ],
)
def test_bad_hex_is_explained(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        hex_to_bytes(text)
    with pytest.raises(ValueError, match="PDQ hash"):
        PdqHash.from_hex(text)


@given(hash_bytes, hash_bytes)
def test_hamming_distance_is_the_naive_one(a: bytes, b: bytes) -> None:
    assert hamming_distance(a, b) == naive_distance(a, b) == PdqHash(a, 0).distance(PdqHash(b, 0))


def test_hamming_distance_refuses_different_lengths() -> None:
    with pytest.raises(ValueError, match="32 and 31 bytes"):
        hamming_distance(bytes(32), bytes(31))


@given(hash_bytes, st.lists(hash_bytes, max_size=40))
def test_one_against_many_in_both_layouts(query: bytes, values: list[bytes]) -> None:
    expected = [naive_distance(query, v) for v in values]
    as_bytes = np.frombuffer(b"".join(values), dtype=np.uint8).reshape(-1, 32)
    for layout in (as_bytes, pack_hashes(values), np.asfortranarray(as_bytes)):
        distances = hamming_distances(query, layout)
        assert distances.dtype == np.int32
        assert distances.tolist() == expected


def test_one_against_many_checks_its_input() -> None:
    with pytest.raises(ValueError, match="query must be 32 bytes"):
        hamming_distances(bytes(31), np.zeros((1, 32), np.uint8))
    with pytest.raises(ValueError, match=r"\(N, 32\) uint8 or \(N, 4\) uint64"):
        hamming_distances(bytes(32), np.zeros((1, 16), np.uint8))
    with pytest.raises(ValueError, match="2-D"):
        hamming_distances(bytes(32), np.zeros(32, np.uint8))
    with pytest.raises(ValueError, match="32 bytes"):
        pack_hashes([bytes(31)])


def test_pdq_hash_equality_is_by_value() -> None:
    value = bytes(range(32))
    computed = PdqHash(value, 87)
    parsed = PdqHash.from_hex(value.hex())
    assert parsed.quality == QUALITY_UNKNOWN
    assert computed == parsed
    assert hash(computed) == hash(parsed)
    assert str(computed) == computed.hex
    assert len({computed, parsed, PdqHash(bytes(32), 87)}) == 2


@pytest.mark.parametrize(
    ("value", "quality"), [(bytes(31), 50), (b"x" * 33, 50), (bytes(32), 101), (bytes(32), -2)]
)
def test_pdq_hash_checks_its_fields(value: bytes, quality: int) -> None:
    with pytest.raises(ValueError, match="PDQ"):
        PdqHash(value, quality)
