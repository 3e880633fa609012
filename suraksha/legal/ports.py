"""Where the legal desk's clock warnings go: the legal team's own endpoint (on-call paging, a chat
bridge), signed like webhooks; mail to the team's list (standard library ``smtplib``, STARTTLS); both
(``EveryAlerts``); or, with none configured, the log (a local stand-in that says it is one)."""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
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


@dataclass(frozen=True)
class MailServer:
    """A mail server to submit warnings to; ``password`` comes from the environment only
    (``SURAKSHA_LEGAL_ALERT_SMTP_PASSWORD``) and is never logged."""

    host: str
    port: int = 587
    starttls: bool = True
    user: str = ""
    password: str = ""
    timeout_s: float = 10.0

    def __repr__(self) -> str:  # never the password, in a traceback or a log line
        return (
            f"MailServer(host={self.host!r}, port={self.port}, starttls={self.starttls}, user={self.user!r})"
        )


UNFOLDED = policy.default.clone(max_line_length=998)
"""Headers kept on one line (RFC 5322's limit): folding a subject at 78 characters can start it with a
space in some readers."""


class MailAlerts:
    """Warnings by mail to the legal team's list: one message per warning, its subject saying which
    request and clock and how late, its body the same facts with the rule's source. STARTTLS (the
    server's certificate checked against ``tls``) before anything else is said when ``starttls``; a user
    name and password are only sent over it."""

    def __init__(
        self,
        server: MailServer,
        *,
        sender: str,
        to: Sequence[str],
        tls: ssl.SSLContext | None = None,
        desk_url: str = "",
    ) -> None:
        if server.user and not server.starttls:
            raise ValueError("a mail password is only sent over STARTTLS")
        self._server = server
        self._sender = sender
        self._to = list(to)
        self._tls = tls
        self._desk_url = desk_url.rstrip("/")

    def message(self, alert: ClockAlert) -> EmailMessage:
        late = alert.level == "overdue"
        share = alert.level.partition(":")[2]
        when = "OVERDUE" if late else f"{float(share or 0):.0%} of its time gone"
        msg = EmailMessage(policy=UNFOLDED)
        msg["From"] = self._sender
        msg["To"] = ", ".join(self._to)
        msg["Subject"] = (
            f"[legal desk] {when}: request #{alert.request_id} {alert.reference or alert.kind}, "
            f"{alert.step} due {alert.due_at}"
        )
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg["Message-ID"] = make_msgid(f"legal-{alert.request_id}-{alert.step}-{_token(alert.level)}")
        left = alert.remaining_s
        span = f"{abs(left) // 3600} h {abs(left) % 3600 // 60} min"
        remaining = f"overdue by {span}" if left < 0 else f"{span} left"
        what = f"Legal request #{alert.request_id} ({alert.kind}, {alert.jurisdiction}) {alert.reference}"
        lines = [
            what.rstrip(),
            f"Clock: {alert.step}, due {alert.due_at} ({remaining}).",
            f"Rule: {alert.source}",
        ]
        if self._desk_url:
            lines.append(f"Open it: {self._desk_url}/console/legal/{alert.request_id}")
        msg.set_content("\n".join(lines) + "\n")
        return msg

    def send(self, alert: ClockAlert) -> None:
        server = self._server
        try:
            with smtplib.SMTP(server.host, server.port, timeout=server.timeout_s) as smtp:
                if server.starttls:
                    smtp.starttls(context=self._tls or ssl.create_default_context())
                if server.user:
                    smtp.login(server.user, server.password)
                smtp.send_message(self.message(alert))
        except (smtplib.SMTPException, OSError) as exc:
            # The class and the server's code only: never the message, which may echo credentials.
            code = getattr(exc, "smtp_code", "")
            raise ExternalServiceError(
                f"legal alert mail failed: {type(exc).__name__} {code}".rstrip()
            ) from None
        log.info(
            "event=legal.clock_mailed level=%s request=%d step=%s to=%d",
            alert.level,
            alert.request_id,
            alert.step,
            len(self._to),
        )


class EveryAlerts:
    """Both the endpoint and mail: each is tried; if any failed the warning is tried again later (so a
    retry may repeat it where it went: a warning twice rather than none)."""

    def __init__(self, ports: Sequence[ClockAlerts]) -> None:
        self._ports = list(ports)

    def send(self, alert: ClockAlert) -> None:
        failed: list[str] = []
        for port in self._ports:
            try:
                port.send(alert)
            except ExternalServiceError as exc:
                failed.append(str(exc))
        if failed:
            raise ExternalServiceError("; ".join(failed))
