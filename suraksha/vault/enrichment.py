"""Optional enrichment: after preserving an item's evidence, ask the host platform for what only it
knows (account e-mails, IP login history, linked accounts) and preserve its answer beside the rest.

The protocol (docs/vault.md): Suraksha POSTs a signed JSON envelope, event ``vault.enrich``, signed
exactly like a webhook delivery (``Suraksha-Signature``, docs/webhooks.md) with ``webhook_secrets``,
``data`` = ``{"item_id", "account_id", "decision_id", "preservation_id"}`` (platform ids for item and
account). The platform answers 200 with a JSON object (``EnrichmentAnswer``; unknown keys are kept),
at most ``vault_enrichment_max_bytes``. Any other answer is retried with backoff by the job queue.

``HttpEnrichment`` is the real client (address-pinned like webhooks: no SSRF, no DNS rebinding);
``LocalEnrichment`` answers from a dictionary for development and tests and warns that it is local.
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
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import select

from suraksha import audit
from suraksha.content.models import Account, Item
from suraksha.db.base import utcnow
from suraksha.db.engine import Database
from suraksha.errors import ExternalServiceError, NotFound
from suraksha.outbound.pinning import Resolver, system_resolver
from suraksha.outbound.targets import TargetRefused
from suraksha.outbound.webhooks import SignedClient, WebhookDelivery, WebhookEndpoint
from suraksha.vault.models import FileRole, Preservation, PreservationState, VaultAudit
from suraksha.vault.services import SYSTEM, EvidenceVault, PreparedFile, attach, seal_new

log = logging.getLogger(__name__)

EVENT = "vault.enrich"


class IpEvent(BaseModel):
    model_config = ConfigDict(extra="allow")

    ip: str = Field(max_length=45)
    port: int | None = Field(default=None, ge=0, le=65535)
    at: str | None = Field(default=None, max_length=40)
    event: str | None = Field(default=None, max_length=100)


class EnrichmentAnswer(BaseModel):
    """What the platform may add. Unknown keys are preserved as given (bounded by the body limit)."""

    model_config = ConfigDict(extra="allow")

    emails: list[str] = Field(default_factory=list, max_length=1000)
    phone_numbers: list[str] = Field(default_factory=list, max_length=1000)
    ip_events: list[IpEvent] = Field(default_factory=list, max_length=10_000)
    linked_accounts: list[str] = Field(default_factory=list, max_length=10_000)


@dataclass(frozen=True)
class EnrichmentRequest:
    platform_item_id: str
    platform_account_id: str
    decision_id: int
    preservation_id: int

    def data(self) -> dict[str, Any]:
        return {
            "item_id": self.platform_item_id,
            "account_id": self.platform_account_id,
            "decision_id": self.decision_id,
            "preservation_id": self.preservation_id,
        }


class EnrichmentSource(Protocol):
    def enrich(self, request: EnrichmentRequest) -> EnrichmentAnswer: ...


@dataclass
class LocalEnrichment:
    """For development and tests: answers from ``answers`` (keyed by platform item id), else empty."""

    answers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def enrich(self, request: EnrichmentRequest) -> EnrichmentAnswer:
        log.warning(
            "event=vault.enrich.local item=%s (local enrichment: not the platform)", request.platform_item_id
        )
        return EnrichmentAnswer.model_validate(dict(self.answers.get(request.platform_item_id, {})))


class HttpEnrichment:
    """The platform's enrichment endpoint over HTTPS, signed like webhooks, address-pinned."""

    def __init__(
        self,
        endpoint: WebhookEndpoint,
        *,
        max_bytes: int = 1024 * 1024,
        resolver: Resolver = system_resolver,
        ssl_context: ssl.SSLContext | None = None,
        allow_loopback_ports_for_testing: Collection[int] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.endpoint = endpoint
        self.max_bytes = max_bytes
        self._client = SignedClient(
            endpoint,
            resolver=resolver,
            ssl_context=ssl_context,
            allow_loopback_ports_for_testing=allow_loopback_ports_for_testing,
            clock=clock,
        )

    def enrich(self, request: EnrichmentRequest) -> EnrichmentAnswer:
        delivery = WebhookDelivery.create(
            EVENT, request.data(), delivery_id=f"enrich-{request.preservation_id}"
        )
        try:
            body = self._client.post(
                delivery,
                headers={"Accept": "application/json", "Accept-Encoding": "identity"},
                read=self._read,
            ).body
        except TargetRefused as refused:
            raise ExternalServiceError(
                f"enrichment endpoint refused: {refused.reason.value}: {refused.detail}"
            ) from None
        except httpx.HTTPError as exc:
            raise ExternalServiceError(f"enrichment request failed: {type(exc).__name__}: {exc}") from None
        try:
            return EnrichmentAnswer.model_validate(json.loads(body))
        except (ValueError, ValidationError) as exc:
            raise ExternalServiceError(
                f"the enrichment answer is not a valid JSON object: {str(exc)[:500]}"
            ) from None

    def _read(self, response: httpx.Response) -> bytes:
        if response.status_code != 200:
            raise ExternalServiceError(f"the enrichment endpoint answered HTTP {response.status_code}")
        chunks: list[bytes] = []
        received = 0
        for chunk in response.iter_raw():
            received += len(chunk)
            if received > self.max_bytes:
                raise ExternalServiceError(f"the enrichment answer is over {self.max_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)


def enrich(db: Database, vault: EvidenceVault, source: EnrichmentSource, preservation_id: int) -> bool:
    """Ask the platform and preserve its answer as ``enrichment.json`` (the ``vault.enrich`` job).
    Idempotent: a preservation already enriched is left alone (returns False)."""
    with db.reading() as session:
        preservation = session.get(Preservation, preservation_id)
        if preservation is None:
            raise NotFound(f"preservation {preservation_id} does not exist")
        if preservation.enriched_at is not None or preservation.state == PreservationState.PENDING:
            return False
        item = session.get(Item, preservation.item_id)
        account = session.get(Account, preservation.account_id)
        assert item is not None
        assert account is not None
        request = EnrichmentRequest(
            item.platform_item_id, account.platform_account_id, preservation.decision_id, preservation.id
        )
    answer = source.enrich(request)
    document = {
        "format": "suraksha-enrichment/1",
        "received_at": utcnow().isoformat(),
        "answer": answer.model_dump(),
    }
    data = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False).encode()
    files = [PreparedFile(FileRole.ENRICHMENT, "enrichment.json", None, data)]
    written: list[str] = []
    unused: list[str] = []
    committed = False
    try:
        sealed = seal_new(db, vault, files)  # outside the write transaction
        written = [name for _, name in sealed.values()]
        with db.session() as session:
            row = session.scalar(
                select(Preservation).where(Preservation.id == preservation_id).with_for_update()
            )
            assert row is not None
            if row.enriched_at is not None:
                return False
            unused = attach(session, preservation_id, files, sealed)
            row.enriched_at = utcnow()
            audit.record(
                session,
                SYSTEM,
                VaultAudit.ENRICH,
                f"preservation:{preservation_id}",
                {"sha256": files[0].sha256, "size": len(data)},
            )
        committed = True
    finally:
        for name in unused if committed else written:
            vault.storage.delete(name)
    return True
