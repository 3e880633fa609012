"""Sending feedback through python-threatexchange's clients (``suraksha.exchanges.feedback``), loaded
only by the worker's feedback job.

python-threatexchange 1.2.17's ``SignalExchangeAPI`` has ``report_opinion`` only (``report_seen`` is
commented out, there is no ``report_true_positive``/``report_false_positive``), and neither the NCMEC
nor the StopNCII ``SignalExchangeAPI`` implements it; their clients do take feedback, so we call them:

- NCMEC: ``NCMECHashAPI.submit_feedback`` (``PUT /v2/entries/{member}/{id}/{PDQ|MD5}/feedback``, an
  ``affirmative`` or ``negative`` vote; a negative one names a reason, which the client looks up with
  ``GET /v2/feedback/{type}/reasons`` and takes when there is exactly one, else the exchange's
  ``negative_reason`` setting).
- StopNCII: ``StopNCIIAPI.submit_feedback`` (``POST /SubmitFeedback`` with the feedback function key:
  ``PendingReview`` for "seen", ``Blocked`` or ``NotBlocked``).
- ThreatExchange: ``ThreatExchangeAPI.react_to_threat_descriptor`` on each descriptor the record was
  fetched with (``SAW_THIS_TOO``, ``HELPFUL``, ``NOT_HELPFUL``; ``suraksha.exchanges.threatexchange``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from threatexchange.exchanges.clients.ncmec import hash_api

from suraksha.errors import ExternalServiceError
from suraksha.exchanges.clients import _environment, _HashSharingClient
from suraksha.exchanges.credentials import Credentials
from suraksha.exchanges.feedback import FeedbackVerdict
from suraksha.exchanges.models import Exchange, ExchangeApi, ExchangeEntry
from suraksha.exchanges.ports import check_base_url
from suraksha.worker.handlers import PermanentFailure

NCMEC_FINGERPRINT = {"pdq": hash_api.FingerprintType.pdq, "md5": hash_api.FingerprintType.md5}
"""Our signal types -> NCMEC's fingerprint types (the feedback path names one)."""


def _ncmec(
    settings: Mapping[str, Any],
    record: ExchangeEntry,
    verdict: FeedbackVerdict,
    credentials: Credentials,
    timeout_s: float,
) -> None:
    member, sep, entry_id = record.upstream_key.partition("-")
    fingerprint = NCMEC_FINGERPRINT.get(record.signal_type)
    if not sep or not member.isdigit() or fingerprint is None:
        raise PermanentFailure(
            f"record {record.upstream_key!r} ({record.signal_type}) is not an NCMEC entry we can rate"
        )
    url = settings.get("url")
    client = _HashSharingClient(
        credentials.user,
        credentials.password.reveal(),
        _environment(str(settings.get("environment") or "Industry")),
        base_url=check_base_url(str(url)) if url else None,
        timeout_s=timeout_s,
        deadline=time.monotonic() + 4 * timeout_s,
    )
    vote = (
        hash_api.FeedbackType.upvote
        if verdict == FeedbackVerdict.TRUE_POSITIVE
        else hash_api.FeedbackType.downvote
    )
    reason = settings.get("negative_reason") or None
    try:
        client.submit_feedback(int(member), entry_id, fingerprint, vote, reason)
    except ExternalServiceError:
        raise
    except Exception as exc:  # the client's own errors (HTTP, no reason to pick); never the credentials
        raise ExternalServiceError(
            f"NCMEC hash sharing refused the feedback ({type(exc).__name__})"
        ) from None


def send_feedback(
    exchange: Exchange,
    settings: Mapping[str, Any],
    record: ExchangeEntry,
    verdict: FeedbackVerdict,
    credentials: Credentials,
    *,
    timeout_s: float,
) -> None:
    api = ExchangeApi(exchange.api)
    if api == ExchangeApi.NCMEC:
        if verdict == FeedbackVerdict.SEEN:
            raise PermanentFailure("NCMEC hash sharing takes votes, not 'seen'")
        _ncmec(settings, record, verdict, credentials, timeout_s)
    elif api == ExchangeApi.THREATEXCHANGE:
        from suraksha.exchanges.threatexchange import send_threatexchange_feedback  # noqa: PLC0415

        try:
            descriptors = [int(d) for d in json.loads(record.detail or "{}").get("descriptors", [])]
        except (ValueError, TypeError, AttributeError):
            descriptors = []
        if not descriptors:
            raise PermanentFailure(
                f"record {record.upstream_key!r} names no ThreatExchange descriptor to react to "
                "(fetched before descriptors were kept: the next change upstream brings them)"
            )
        send_threatexchange_feedback(settings, descriptors, verdict.value, credentials, timeout_s=timeout_s)
    elif api == ExchangeApi.STOPNCII:
        from suraksha.exchanges.stopncii import send_stopncii_feedback  # noqa: PLC0415

        send_stopncii_feedback(settings, record, verdict, credentials, timeout_s=timeout_s)
    else:
        raise PermanentFailure(f"the {api.value} exchange takes no feedback")
