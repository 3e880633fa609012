"""Enrichment: with an endpoint configured, preservation queues vault.enrich; the platform's signed
answer (bounded) is preserved as enrichment.json, once."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from suraksha.errors import ExternalServiceError
from suraksha.intake.pipeline import Pipeline
from suraksha.outbound.signatures import verify_signature
from suraksha.outbound.webhooks import WebhookEndpoint, endpoint_secrets
from suraksha.vault.enrichment import EnrichmentRequest, HttpEnrichment, LocalEnrichment, enrich
from suraksha.vault.services import ENRICH, EvidenceVault, preserve, read_preservation
from suraksha.worker.models import Job
from tests.integration.vault.support import legal_actor, matched_item

SECRET = "enrichment-test-secret"
ANSWER = {
    "emails": ["user@example.org"],
    "ip_events": [{"ip": "198.51.100.4", "event": "login"}],
    "note": "kept",
}


class Platform:
    def __init__(self, body: bytes) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        platform = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                request = self.rfile.read(int(self.headers["Content-Length"]))
                platform.requests.append((dict(self.headers.items()), request))
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def client(self, max_bytes: int = 1024 * 1024) -> HttpEnrichment:
        endpoint = WebhookEndpoint(f"http://127.0.0.1:{self.port}/enrich", endpoint_secrets([SECRET]))
        return HttpEnrichment(endpoint, max_bytes=max_bytes, allow_loopback_ports_for_testing=[self.port])


@pytest.fixture
def platform() -> Iterator[Platform]:
    server = Platform(json.dumps(ANSWER).encode())
    yield server
    server.server.shutdown()


def test_the_platform_answer_is_preserved_once(
    pipeline: Pipeline, vault: EvidenceVault, platform: Platform
) -> None:
    db = pipeline.db
    enriching = replace(vault, enrichment_enabled=True)
    _, decision_id = matched_item(pipeline)
    pid = preserve(db, enriching, decision_id)
    assert pid is not None
    with db.reading() as s:
        assert s.scalar(select(Job.dedupe_key).where(Job.kind == ENRICH)) == f"{ENRICH}:{pid}"
    assert enrich(db, enriching, platform.client(), pid)
    assert not enrich(db, enriching, platform.client(), pid)
    [(headers, body)] = platform.requests
    verify_signature([SECRET], headers, body)
    assert json.loads(body)["data"]["account_id"] == "acct-1"
    with db.session() as s:
        contents = read_preservation(s, vault, pid, actor=legal_actor(), reason="case")
    assert contents.enrichment is not None
    answer = contents.enrichment["answer"]
    assert answer["emails"] == ["user@example.org"] and answer["note"] == "kept"


def test_oversized_or_bad_answers_fail_for_a_retry(platform: Platform) -> None:
    request = EnrichmentRequest("p1", "a1", 1, 1)
    with pytest.raises(ExternalServiceError, match="over 10 bytes"):
        platform.client(max_bytes=10).enrich(request)
    bad = Platform(b"[1, 2]")
    try:
        with pytest.raises(ExternalServiceError, match="not a valid JSON object"):
            bad.client().enrich(request)
    finally:
        bad.server.shutdown()


def test_local_enrichment_answers_from_its_table() -> None:
    local = LocalEnrichment({"p1": {"linked_accounts": ["acct-9"]}})
    assert local.enrich(EnrichmentRequest("p1", "a", 1, 1)).linked_accounts == ["acct-9"]
    assert local.enrich(EnrichmentRequest("p2", "a", 1, 1)).emails == []
