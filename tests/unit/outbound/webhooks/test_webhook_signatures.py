"""Signing and verifying webhooks, as the platform would."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from suraksha.errors import InvalidInput
from suraksha.outbound.signatures import (
    DELIVERY_ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    SignatureProblem,
    WebhookSignatureError,
    compute_signature,
    signature_headers,
    verify_signature,
)
from suraksha.settings import Secret

NOW = 1_780_000_000
BODY = b'{"event":"action.remove","data":{"item":"benign-1"}}'
OLD, NEW = Secret("whsec_old_benign"), Secret("whsec_new_benign")


def signed(*secrets: str, body: bytes = BODY, timestamp: int = NOW) -> dict[str, str]:
    return signature_headers(list(secrets), body, delivery_id="d-1", timestamp=timestamp)


def problem(secrets: str | list[str], headers: dict[str, str], body: bytes = BODY, **kw: float) -> str:
    with pytest.raises(WebhookSignatureError) as caught:
        verify_signature(secrets, headers, body, now=kw.get("now", NOW), tolerance_s=kw.get("tol", 300))
    return caught.value.problem


def test_round_trip() -> None:
    headers = signed(NEW)
    assert headers[TIMESTAMP_HEADER] == str(NOW)
    assert headers[DELIVERY_ID_HEADER] == "d-1"
    assert headers[SIGNATURE_HEADER] == f"v1={compute_signature(NEW, NOW, BODY)}"
    assert verify_signature(NEW, headers, BODY, now=NOW) == NOW


def test_known_vector() -> None:
    # The example in docs/webhooks.md; the value is from `printf '1700000000.{}' | openssl dgst -sha256
    # -hmac secret`, an implementation independent of ours.
    assert compute_signature("secret", 1_700_000_000, b"{}") == (
        "b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
    )


def test_header_names_are_case_insensitive() -> None:
    headers = {k.lower(): v for k, v in signed(NEW).items()}
    assert verify_signature(NEW, headers, BODY, now=NOW) == NOW


def test_tampered_body() -> None:
    assert problem(NEW, signed(NEW), BODY.replace(b"benign-1", b"benign-2")) is SignatureProblem.NO_MATCH


def test_tampered_timestamp() -> None:
    headers = signed(NEW)
    headers[TIMESTAMP_HEADER] = str(NOW + 1)
    assert problem(NEW, headers) is SignatureProblem.NO_MATCH


def test_stale_and_future_timestamps() -> None:
    assert problem(NEW, signed(NEW, timestamp=NOW - 301)) is SignatureProblem.STALE_TIMESTAMP
    assert problem(NEW, signed(NEW, timestamp=NOW + 301)) is SignatureProblem.STALE_TIMESTAMP
    assert verify_signature(NEW, signed(NEW, timestamp=NOW - 299), BODY, now=NOW) == NOW - 299
    assert problem(NEW, signed(NEW, timestamp=NOW - 20), tol=10) is SignatureProblem.STALE_TIMESTAMP


def test_wrong_secret() -> None:
    assert problem("whsec_other", signed(NEW)) is SignatureProblem.NO_MATCH


def test_rotation_either_side() -> None:
    both = signed(NEW, OLD)
    assert both[SIGNATURE_HEADER].count("v1=") == 2
    # A platform still on the old secret, one already on the new, and one holding both, all accept.
    for platform_secrets in ([OLD], [NEW], [OLD, NEW]):
        assert verify_signature(platform_secrets, both, BODY, now=NOW) == NOW
    # We sign with the new secret only; a platform holding both (mid-rotation) accepts.
    assert verify_signature([OLD, NEW], signed(NEW), BODY, now=NOW) == NOW
    assert problem([OLD], signed(NEW)) is SignatureProblem.NO_MATCH


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, SignatureProblem.MISSING_HEADER),
        ({TIMESTAMP_HEADER: str(NOW)}, SignatureProblem.MISSING_HEADER),
        ({TIMESTAMP_HEADER: "soon", SIGNATURE_HEADER: "v1=ab"}, SignatureProblem.MALFORMED_HEADER),
        ({TIMESTAMP_HEADER: "-5", SIGNATURE_HEADER: "v1=ab"}, SignatureProblem.MALFORMED_HEADER),
        ({TIMESTAMP_HEADER: "١٧٨٠٠٠٠٠٠٠", SIGNATURE_HEADER: "v1=ab"}, SignatureProblem.MALFORMED_HEADER),
        ({TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: "v0=ab, sha1=cd"}, SignatureProblem.MALFORMED_HEADER),
        (
            {TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: "v1=" + "a" * 5000},
            SignatureProblem.MALFORMED_HEADER,
        ),
        ({TIMESTAMP_HEADER: str(NOW), SIGNATURE_HEADER: "v1=zz"}, SignatureProblem.NO_MATCH),
    ],
)
def test_malformed_headers(headers: dict[str, str], expected: SignatureProblem) -> None:
    assert problem(NEW, headers) is expected


def test_no_secrets_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no secrets"):
        verify_signature([], signed(NEW), BODY, now=NOW)
    with pytest.raises(InvalidInput, match="at least one"):
        signature_headers([], BODY, delivery_id="d", timestamp=NOW)


def test_signature_error_is_invalid_input() -> None:
    assert issubclass(WebhookSignatureError, InvalidInput)


@given(
    st.dictionaries(
        st.sampled_from([TIMESTAMP_HEADER, SIGNATURE_HEADER, "Other"]), st.text(max_size=300), max_size=3
    ),
    st.binary(max_size=100),
)
def test_arbitrary_headers_only_ever_fail_cleanly(headers: dict[str, str], body: bytes) -> None:
    with contextlib.suppress(WebhookSignatureError):
        verify_signature(NEW, headers, body, now=NOW)


def test_documented_python_example_verifies_our_deliveries() -> None:
    """The verification code in docs/webhooks.md is what platforms copy: it must agree with us."""
    doc = (Path(__file__).parents[4] / "docs" / "webhooks.md").read_text(encoding="utf-8")
    code = doc.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(compile(code, "docs/webhooks.md", "exec"), namespace)
    verify = namespace["verify_suraksha_webhook"]
    now = int(time.time())
    headers = signature_headers([NEW, OLD], BODY, delivery_id="d-1", timestamp=now)
    assert verify([OLD], headers, BODY) is True  # type: ignore[operator]
    assert verify([NEW], headers, BODY + b" ") is False  # type: ignore[operator]
    assert verify(["whsec_other"], headers, BODY) is False  # type: ignore[operator]
    stale = signature_headers([NEW], BODY, delivery_id="d-1", timestamp=now - 301)
    assert verify([NEW], stale, BODY) is False  # type: ignore[operator]
