"""Uploaded media bytes (base64 in the item's JSON) are decoded strictly: only the alphabet, correct
padding, nothing else accepted. The SIMD decoder agrees with the standard library's strict mode."""

from __future__ import annotations

import base64
import binascii

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from suraksha.intake.schemas import MediaIn

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="


def _strict(text: str) -> bytes | None:
    try:
        return binascii.a2b_base64(text, strict_mode=True)
    except binascii.Error:
        return None


@settings(max_examples=400, deadline=None)
@given(
    st.text(alphabet=_ALPHABET + " \n-_.:", max_size=40)
    | st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode())
)
def test_decoding_is_as_strict_as_binascii_strict_mode(text: str) -> None:
    """What we accept, binascii's strict mode accepts with the same bytes; what it refuses, we refuse
    (we also refuse padding beyond the last quantum, which it lets through)."""
    expected = _strict(text.strip())  # the schema strips surrounding whitespace from every string
    try:
        got = MediaIn(data=text).decoded()
    except ValidationError as exc:
        message = str(exc)
        got = None
    else:
        message = "not valid base64"
    assert "not valid base64" in message
    if got is not None:
        assert got == expected
    if expected is None:
        assert got is None


@given(st.binary(max_size=2000))
def test_any_bytes_encoded_decode_to_themselves(data: bytes) -> None:
    assert MediaIn(data=base64.b64encode(data).decode()).decoded() == data


def test_round_trip_of_a_large_file() -> None:
    data = bytes(range(256)) * 4096
    assert MediaIn(data=base64.b64encode(data).decode(), content_type="image/jpeg").decoded() == data
