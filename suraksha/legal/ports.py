"""Where the legal desk's clock warnings go: the legal team's own endpoint (on-call paging, a chat
bridge, a mail gateway), signed like webhooks, or, with none configured, the log (a local stand-in
that says it is one)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from suraksha.errors import ExternalServiceError
from suraksha.outbound.targets import TargetRefused
from suraksha.outbound.webhooks import SignedClient, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

EVENT = "legal.clock"


@dataclass(frozen=True)
class ClockAlert:
    request_id: int
    kind: str
    jurisdiction: str
    reference: str
    step: str
    level: str
    """``warn:0.5`` (that share of the time is gone) or ``overdue``."""
    due_at: str
    remaining_s: int
    source: str

    def data(self) -> dict[str, object]:
        return {
            "request_id": self.request_id,
            "kind": self.kind,
            "jurisdiction": self.jurisdiction,
            "reference": self.reference,
            "step": self.step,
            "level": self.level,
            "due_at": self.due_at,
            "remaining_s": self.remaining_s,
            "source": self.source,
        }


def _token(level: str) -> str:
    return level.replace(":", "-").replace(".", "_")


class ClockAlerts(Protocol):
    def send(self, alert: ClockAlert) -> None:
        """Deliver one warning; raise ``ExternalServiceError`` when it could not be (it is retried)."""


class LogAlerts:
    """No endpoint configured: warnings go to the log only (set legal_alert_url for a person to see them)."""

    def send(self, alert: ClockAlert) -> None:
        log.warning(
            "event=legal.clock level=%s request=%d step=%s due_at=%s (no legal_alert_url: logged only)",
            alert.level,
            alert.request_id,
            alert.step,
            alert.due_at,
        )


class HttpAlerts:
    """The legal team's endpoint over HTTPS, signed like webhooks (webhook_secrets), address-pinned."""

    def __init__(self, endpoint: WebhookEndpoint, **client: Any) -> None:
        """``client``: the ``SignedClient`` options (a resolver, TLS context, loopback ports in tests)."""
        self._client = SignedClient(endpoint, **client)

    def send(self, alert: ClockAlert) -> None:
        delivery = WebhookDelivery.create(
            EVENT,
            alert.data(),
            delivery_id=f"legal-{alert.request_id}-{alert.step}-{_token(alert.level)}",
        )
        try:
            self._client.post(delivery, headers={"Accept-Encoding": "identity"}, read=self._read)
        except TargetRefused as refused:
            raise ExternalServiceError(f"legal alert endpoint refused: {refused.reason.value}") from None
        except httpx.HTTPError as exc:
            raise ExternalServiceError(f"legal alert failed: {type(exc).__name__}") from None

    def _read(self, response: httpx.Response) -> bytes:
        if not 200 <= response.status_code < 300:
            raise ExternalServiceError(f"the legal alert endpoint answered HTTP {response.status_code}")
        return b""
