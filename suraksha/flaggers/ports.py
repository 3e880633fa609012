"""Asking the host platform for an item a flagger names that Suraksha does not hold yet.

The protocol (docs/flaggers.md): Suraksha POSTs a signed JSON envelope, event ``item.fetch``, signed
exactly like a webhook delivery (``Suraksha-Signature``, docs/webhooks.md) with ``webhook_secrets``,
``data`` = ``{"item_id": <platform id>, "notice_target": <id>}``. The platform answers 200 with the
item in the shape it submits items in (``POST /api/v1/items``: ``ItemIn``), or 404 when it has no such
item (deleted, never existed). Anything else is retried with backoff by the job queue.

``HttpPlatformItems`` is the real client (address-pinned like webhooks: no SSRF, no DNS rebinding);
``LocalPlatformItems`` answers from a dictionary, for development, tests and the demo, and warns that
it is not the platform.
"""

from __future__ import annotations

import json
import logging
import ssl
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from pydantic import ValidationError

from suraksha.errors import ExternalServiceError
from suraksha.intake.schemas import ItemIn
from suraksha.outbound.pinning import Resolver, system_resolver
from suraksha.outbound.targets import TargetRefused
from suraksha.outbound.webhooks import SignedClient, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

EVENT = "item.fetch"
MAX_ANSWER_BYTES = 32 * 1024 * 1024
"""An item with its media inline (base64) can be large; bounded all the same."""


class PlatformItems(Protocol):
    def fetch(self, platform_item_id: str, *, target_id: int) -> ItemIn | None:
        """The item as the platform would submit it, or None when the platform has no such item;
        ``ExternalServiceError`` when it could not be asked (retried)."""
        ...


@dataclass
class LocalPlatformItems:
    """A stand-in for development, tests and the demo: answers from ``items`` (keyed by platform item
    id, each in the ``ItemIn`` shape), else "no such item". It is not the platform, and says so."""

    items: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def fetch(self, platform_item_id: str, *, target_id: int) -> ItemIn | None:
        log.warning(
            "event=flaggers.fetch.local item=%s (local stand-in: not the platform; set "
            "platform_item_fetch_url)",
            platform_item_id[:200],
        )
        found = self.items.get(platform_item_id)
        return ItemIn.model_validate(dict(found)) if found is not None else None


class HttpPlatformItems:
    """The platform's item endpoint over HTTPS, signed like webhooks, address-pinned."""

    def __init__(
        self,
        endpoint: WebhookEndpoint,
        *,
        max_bytes: int = MAX_ANSWER_BYTES,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        allow_loopback_ports_for_testing: Collection[int] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_bytes = max_bytes
        self._client = SignedClient(
            endpoint,
            resolver=resolver,
            ssl_context=ssl_context,
            allow_loopback_ports_for_testing=allow_loopback_ports_for_testing,
            clock=clock,
        )

    def fetch(self, platform_item_id: str, *, target_id: int) -> ItemIn | None:
        delivery = WebhookDelivery.create(
            EVENT, {"item_id": platform_item_id, "notice_target": target_id}, delivery_id=f"fetch-{target_id}"
        )
        try:
            posted = self._client.post(
                delivery,
                headers={"Accept": "application/json", "Accept-Encoding": "identity"},
                read=self._read,
            )
        except TargetRefused as refused:
            raise ExternalServiceError(
                f"the platform's item endpoint was refused: {refused.reason.value}: {refused.detail}"
            ) from None
        except httpx.HTTPError as exc:
            raise ExternalServiceError(
                f"asking the platform for an item failed: {type(exc).__name__}"
            ) from None
        if posted.response.status_code == 404:
            return None
        try:
            return ItemIn.model_validate(json.loads(posted.body))
        except (ValueError, ValidationError) as exc:
            raise ExternalServiceError(
                f"the platform's answer is not an item (the POST /api/v1/items shape): {str(exc)[:500]}"
            ) from None

    def _read(self, response: httpx.Response) -> bytes:
        if response.status_code == 404:
            return b""
        if response.status_code != 200:
            raise ExternalServiceError(f"the platform's item endpoint answered HTTP {response.status_code}")
        chunks: list[bytes] = []
        received = 0
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > self.max_bytes:
                raise ExternalServiceError(f"the platform's item is over {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
