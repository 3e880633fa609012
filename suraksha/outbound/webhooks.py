"""Deliver signed webhooks to the host platform, and say whether to try again.

One call is one attempt. The integrator keeps the delivery rows and retries through the job queue:
``deliver`` classifies the attempt (delivered, retryable, failed for good) and ``retry_delay`` says when
to try again. The delivery id is chosen once, when the delivery is created, and sent with every attempt
so the platform can drop duplicates; the timestamp and signature are fresh on each attempt.

Webhook URLs pass the same checks as fetched media URLs (``suraksha.outbound.targets``): a private
address is refused unless the endpoint was explicitly marked ``allow_private_network`` (platforms often
receive webhooks inside their own network); loopback, link-local and cloud metadata addresses are
refused always. Redirects are not followed: a webhook that answers 3xx has failed.
"""

from __future__ import annotations

import dataclasses
import email.utils
import functools
import json
import logging
import random
import re
import ssl
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import httpx

from suraksha.errors import InvalidInput
from suraksha.outbound.addresses import AddressPolicy
from suraksha.outbound.pinning import PinnedBackend, PinnedTransport, Resolver, system_resolver
from suraksha.outbound.signatures import EVENT_HEADER, signature_headers
from suraksha.outbound.targets import (
    SSRF_REFUSALS,
    Refusal,
    TargetPolicy,
    TargetRefused,
    loggable_url,
    parse_target,
    resolve_target,
)
from suraksha.settings import Secret

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
MAX_ANSWER_BYTES = 4096
"""A receiver may answer a delivery with a short JSON body (an action's outcome, docs/webhooks.md);
a longer answer is not read."""
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # header-safe, and fits the deliveries table
USER_AGENT = "Suraksha-Webhooks/0.1"


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"  # 2xx
    RETRYABLE = "retryable"  # timeout, connection error, name lookup failure, 5xx, 429
    FAILED = "failed"  # other 4xx, 3xx, refused address or URL: retrying cannot help


@dataclass(frozen=True)
class WebhookEndpoint:
    """Where one platform receives webhooks. ``secrets`` sign every delivery (several while rotating);
    ``allow_private_network`` opts this endpoint in to RFC 1918 / unique-local addresses."""

    url: str
    secrets: tuple[Secret, ...]
    allow_private_network: bool = False
    timeout_s: float = 10.0

    def __post_init__(self) -> None:
        if not self.secrets:
            raise InvalidInput(f"webhook endpoint {loggable_url(self.url)} needs at least one secret")
        if self.timeout_s <= 0:
            raise InvalidInput("webhook timeout must be positive")

    def target_policy(self, loopback_ports_for_testing: frozenset[int] = frozenset()) -> TargetPolicy:
        """The address checks for this endpoint: any port, private networks only if opted in."""
        return TargetPolicy(
            allowed_ports=None,
            addresses=AddressPolicy(
                allow_private_network=self.allow_private_network,
                loopback_ports_for_testing=loopback_ports_for_testing,
            ),
        )


@dataclass(frozen=True)
class WebhookDelivery:
    delivery_id: str
    event: str
    body: bytes

    @classmethod
    def create(
        cls, event: str, data: Mapping[str, Any], *, delivery_id: str | None = None
    ) -> WebhookDelivery:
        """A new delivery: ``{"delivery_id", "event", "created_at", "data"}`` as compact JSON.

        Store the result (id and body) and send the same bytes on every attempt.
        """
        delivery_id = delivery_id or uuid.uuid4().hex
        if not _TOKEN.fullmatch(delivery_id) or not _TOKEN.fullmatch(event):
            raise InvalidInput(
                f"webhook event {event[:100]!r} and delivery id {delivery_id[:100]!r} must be 1-64 "
                "letters, digits or . _ : -"
            )
        envelope = {
            "delivery_id": delivery_id,
            "event": event,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "data": data,
        }
        body = json.dumps(envelope, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()
        if len(body) > MAX_BODY_BYTES:
            raise InvalidInput(f"webhook body of {len(body)} bytes is over {MAX_BODY_BYTES}")
        return cls(delivery_id=delivery_id, event=event, body=body)


@dataclass(frozen=True)
class DeliveryResult:
    delivery_id: str
    outcome: DeliveryOutcome
    detail: str
    status: int | None = None
    retry_after_s: float | None = None
    """What the platform asked for (``Retry-After`` on 429 or 503), in seconds."""
    address: str | None = None
    refusal: Refusal | None = None
    """Why the URL or its address was refused before anything was sent."""
    elapsed_s: float = 0.0
    attempted_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    answer: bytes = b""
    """The receiver's 2xx answer, up to ``MAX_ANSWER_BYTES`` (empty when longer, or not 2xx)."""


class WebhookSender:
    """Sends deliveries. ``allow_loopback_ports_for_testing`` lets tests and the local demo deliver
    to their own loopback receiver on those ports; a constructor argument only, never a setting."""

    def __init__(
        self,
        *,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        user_agent: str = USER_AGENT,
        allow_loopback_ports_for_testing: Collection[int] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._resolver = resolver
        self._ssl_context = ssl_context or httpx.create_ssl_context()
        self._user_agent = user_agent
        self._loopback_ports = frozenset(allow_loopback_ports_for_testing)
        self._clock = clock

    def deliver(self, endpoint: WebhookEndpoint, delivery: WebhookDelivery) -> DeliveryResult:
        started = time.monotonic()
        result = self._attempt(endpoint, delivery, started)
        result = dataclasses.replace(result, elapsed_s=time.monotonic() - started)
        _log(endpoint, result)
        return result

    def _attempt(
        self, endpoint: WebhookEndpoint, delivery: WebhookDelivery, started: float
    ) -> DeliveryResult:
        result = functools.partial(DeliveryResult, delivery.delivery_id)
        try:
            posted = post_signed(
                endpoint,
                delivery,
                event=delivery.event,
                headers={"User-Agent": self._user_agent},
                deadline=started + endpoint.timeout_s,
                resolver=self._resolver,
                ssl_context=self._ssl_context,
                loopback_ports=self._loopback_ports,
                clock=self._clock,
                read=_short_answer,
            )
            return _classify(result, posted.response, posted.address, posted.body)
        except TargetRefused as refused:
            retry = refused.reason in {Refusal.DNS_FAILURE, Refusal.TIMED_OUT}
            return result(
                DeliveryOutcome.RETRYABLE if retry else DeliveryOutcome.FAILED,
                f"{refused.reason.value}: {refused.detail}",
                address=refused.address,
                refusal=refused.reason,
            )
        except httpx.HTTPError as exc:  # timeouts, refused connections, TLS and protocol errors
            return result(DeliveryOutcome.RETRYABLE, f"{type(exc).__name__}: {exc}")


@dataclass(frozen=True)
class SignedPost:
    response: httpx.Response
    """Closed; its status and headers remain."""
    body: bytes
    """What ``read`` took from the answer (nothing without it)."""
    address: str | None
    """The address the connection went to."""


def post_signed(
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    *,
    event: str,
    headers: Mapping[str, str],
    deadline: float,
    resolver: Resolver,
    ssl_context: ssl.SSLContext,
    loopback_ports: Collection[int],
    clock: Callable[[], float],
    read: Callable[[httpx.Response], bytes] | None = None,
) -> SignedPost:
    """POST ``delivery``'s body to ``endpoint``, signed with its secrets, over a connection pinned to
    the address its name resolved to once that address passed the endpoint's policy (no DNS
    rebinding, no redirects followed). Raises ``TargetRefused`` for a refused target and
    ``httpx.HTTPError`` for the transport; both webhook deliveries and vault enrichment go this way."""
    policy = endpoint.target_policy(frozenset(loopback_ports))
    backend = PinnedBackend(deadline=deadline)
    target = parse_target(endpoint.url, policy)
    backend.pin(target.host, resolve_target(target, policy, resolver, backend.deadline))
    signed_headers = {
        "Content-Type": "application/json",
        EVENT_HEADER: event,
        **headers,
        **signature_headers(
            endpoint.secrets, delivery.body, delivery_id=delivery.delivery_id, timestamp=int(clock())
        ),
    }
    request = httpx.Request(
        "POST",
        target.url,
        headers=signed_headers,
        content=delivery.body,
        extensions={"timeout": httpx.Timeout(endpoint.timeout_s).as_dict()},
    )
    with PinnedTransport(backend, ssl_context) as transport:
        response = transport.handle_request(request)
        try:
            body = read(response) if read is not None else b""
        finally:
            response.close()
    return SignedPost(response, body, backend.connected.get(target.host))


class SignedClient:
    """An endpoint Suraksha asks or tells something (vault enrichment, the legal desk's clock warnings):
    every request signed with the endpoint's secrets, address-pinned and bounded by its timeout
    (``post_signed``). Webhook deliveries have their own sender (retries, replay)."""

    def __init__(
        self,
        endpoint: WebhookEndpoint,
        *,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        allow_loopback_ports_for_testing: Collection[int] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint = endpoint
        self._resolver = resolver
        self._ssl_context = ssl_context or httpx.create_ssl_context()
        self._loopback_ports = frozenset(allow_loopback_ports_for_testing)
        self._clock = clock

    def post(
        self,
        delivery: WebhookDelivery,
        *,
        headers: Mapping[str, str],
        read: Callable[[httpx.Response], bytes] | None = None,
    ) -> SignedPost:
        """POST ``delivery``; raises ``TargetRefused`` or ``httpx.HTTPError`` as ``post_signed`` does."""
        return post_signed(
            self.endpoint,
            delivery,
            event=delivery.event,
            headers=headers,
            deadline=time.monotonic() + self.endpoint.timeout_s,
            resolver=self._resolver,
            ssl_context=self._ssl_context,
            loopback_ports=self._loopback_ports,
            clock=self._clock,
            read=read,
        )


def _short_answer(response: httpx.Response) -> bytes:
    """A 2xx answer's body when it is short (what an outcome fits in); otherwise nothing."""
    if not 200 <= response.status_code < 300:
        return b""
    chunks: list[bytes] = []
    received = 0
    for chunk in response.iter_raw():
        received += len(chunk)
        if received > MAX_ANSWER_BYTES:
            return b""
        chunks.append(chunk)
    return b"".join(chunks)


def _classify(
    result: Callable[..., DeliveryResult], response: httpx.Response, address: str | None, answer: bytes = b""
) -> DeliveryResult:
    status = response.status_code
    if 200 <= status < 300:
        return result(
            DeliveryOutcome.DELIVERED, f"HTTP {status}", status=status, address=address, answer=answer
        )
    if status == 429 or status >= 500:
        return result(
            DeliveryOutcome.RETRYABLE,
            f"HTTP {status}",
            status=status,
            address=address,
            retry_after_s=parse_retry_after(response.headers.get("Retry-After")),
        )
    detail = f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    return result(DeliveryOutcome.FAILED, detail, status=status, address=address)


def _log(endpoint: WebhookEndpoint, result: DeliveryResult) -> None:
    url = loggable_url(endpoint.url)
    if result.refusal in SSRF_REFUSALS:
        log.warning(
            "event=webhook.blocked url=%s delivery_id=%s address=%s detail=%r",
            url,
            result.delivery_id,
            result.address or "-",
            result.detail[:300],
        )
        return
    log.info(
        "event=webhook.%s url=%s delivery_id=%s status=%s elapsed_s=%.3f",
        result.outcome.value,
        url,
        result.delivery_id,
        result.status or "-",
        result.elapsed_s,
    )


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None if absent or
    unreadable. Never negative."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(min(int(text[:10]), 10**9))
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(
    attempt: int,
    *,
    base_s: float = 5.0,
    cap_s: float = 3600.0,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before retry number ``attempt`` (1 = the first retry): ``base_s`` doubled per
    attempt, capped at ``cap_s``, with "equal jitter" (a random point in the upper half) so endpoints
    that failed together do not retry together, yet the wait never collapses to zero."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt - 1, 64))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def retry_delay(
    result: DeliveryResult,
    attempt: int,
    *,
    base_s: float = 5.0,
    cap_s: float = 3600.0,
    rng: random.Random | None = None,
) -> float | None:
    """When to try a delivery again: None when it must not be retried; the platform's ``Retry-After``
    when it gave one (capped at ``cap_s``); otherwise ``backoff_delay``."""
    if result.outcome is not DeliveryOutcome.RETRYABLE:
        return None
    if result.retry_after_s is not None:
        return min(result.retry_after_s, cap_s)
    return backoff_delay(attempt, base_s=base_s, cap_s=cap_s, rng=rng)


def deliver(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, *, sender: WebhookSender | None = None
) -> DeliveryResult:
    """One attempt of ``delivery`` to ``endpoint`` with the system resolver and trust store."""
    return (sender or WebhookSender()).deliver(endpoint, delivery)


def endpoint_secrets(values: Sequence[str]) -> tuple[Secret, ...]:
    """Wrap stored secret strings so they never print."""
    return tuple(v if isinstance(v, Secret) else Secret(v) for v in values)
