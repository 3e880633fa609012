"""Webhook signatures: the platform can tell a delivery came from us, unchanged and recently.

Scheme ``v1`` (documented for platforms in docs/webhooks.md): HMAC-SHA256, keyed with the endpoint's
secret, over ``<timestamp>.<body>`` where the timestamp is the Unix time in seconds sent in
``Suraksha-Timestamp``. ``Suraksha-Signature`` carries ``v1=<hex>`` once per active secret, comma-
separated, so a secret can be rotated without a window where deliveries fail: sign with old and new,
switch the platform over, then drop the old one. The timestamp is signed so an attacker who captured a
delivery cannot replay it after the tolerance (five minutes by default).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from enum import StrEnum

from suraksha.errors import InvalidInput

TIMESTAMP_HEADER = "Suraksha-Timestamp"
SIGNATURE_HEADER = "Suraksha-Signature"
DELIVERY_ID_HEADER = "Suraksha-Delivery-Id"
EVENT_HEADER = "Suraksha-Event"
SCHEME = "v1"
DEFAULT_TOLERANCE_S = 300.0

_MAX_SIGNATURE_HEADER = 4096
_MAX_SIGNATURES = 16


class SignatureProblem(StrEnum):
    MISSING_HEADER = "missing_header"
    MALFORMED_HEADER = "malformed_header"
    STALE_TIMESTAMP = "stale_timestamp"
    NO_MATCH = "no_match"


class WebhookSignatureError(InvalidInput):
    """A delivery whose signature does not verify; ``problem`` says which check failed."""

    def __init__(self, problem: SignatureProblem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


def compute_signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``<timestamp>.<body>`` keyed with ``secret`` (a Secret or a plain str)."""
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_headers(
    secrets: Sequence[str], body: bytes, *, delivery_id: str, timestamp: int
) -> dict[str, str]:
    """The headers that sign one attempt of one delivery: a ``v1=`` value per secret."""
    if not secrets:
        raise InvalidInput("a webhook endpoint needs at least one signing secret")
    signatures = ", ".join(f"{SCHEME}={compute_signature(s, timestamp, body)}" for s in secrets)
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signatures,
        DELIVERY_ID_HEADER: delivery_id,
    }


def verify_signature(
    secrets: str | Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> int:
    """Check a delivery as a platform would; return its timestamp, or raise ``WebhookSignatureError``.

    Passes when any ``v1`` value matches any of ``secrets`` (so either side can rotate) and the
    timestamp is within ``tolerance_s`` of ``now`` (either way: clocks drift). Comparisons are constant
    time. Header names are matched case-insensitively; values of unknown schemes are ignored.
    """
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys:
        raise ValueError("no secrets to verify with")
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_timestamp = lowered.get(TIMESTAMP_HEADER.lower())
    raw_signatures = lowered.get(SIGNATURE_HEADER.lower())
    if raw_timestamp is None or raw_signatures is None:
        raise WebhookSignatureError(
            SignatureProblem.MISSING_HEADER, f"{TIMESTAMP_HEADER} and {SIGNATURE_HEADER} are required"
        )
    timestamp_text = raw_timestamp.strip()
    if not (timestamp_text.isascii() and timestamp_text.isdigit() and len(timestamp_text) <= 12):
        raise WebhookSignatureError(
            SignatureProblem.MALFORMED_HEADER, f"{TIMESTAMP_HEADER} must be Unix seconds"
        )
    timestamp = int(timestamp_text)
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_s:
        raise WebhookSignatureError(
            SignatureProblem.STALE_TIMESTAMP,
            f"timestamp {timestamp} is more than {tolerance_s:.0f}s from now ({current:.0f})",
        )
    candidates = _candidates(raw_signatures)
    if not candidates:
        raise WebhookSignatureError(
            SignatureProblem.MALFORMED_HEADER, f"{SIGNATURE_HEADER} has no {SCHEME}= value"
        )
    matched = False
    for key in keys:
        expected = compute_signature(key, timestamp, body).encode("ascii")
        for candidate in candidates:
            # No early exit: the time taken says nothing about which value or how much of it matched.
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookSignatureError(SignatureProblem.NO_MATCH, "no signature matches the body and timestamp")
    return timestamp


def _candidates(header: str) -> list[bytes]:
    if len(header) > _MAX_SIGNATURE_HEADER:
        raise WebhookSignatureError(SignatureProblem.MALFORMED_HEADER, f"{SIGNATURE_HEADER} is too long")
    values = []
    for part in header.split(",")[:_MAX_SIGNATURES]:
        scheme, _, value = part.strip().partition("=")
        if scheme == SCHEME and value.isascii():
            values.append(value.strip().lower().encode("ascii"))
    return values
