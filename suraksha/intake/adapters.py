"""The pipeline's two outside parts, adapted: text rules (``suraksha.rules``) and the SSRF-safe media
fetcher (``suraksha.outbound.fetch``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping

from suraksha.intake.pipeline import FetchFailed, TextEntity, TextFindings, TextHit
from suraksha.outbound.fetch import FetchFailure, MediaFetcher
from suraksha.rules import ChecksumStatus, RuleEngine, Severity, TextTooLong

log = logging.getLogger(__name__)

SEVERITY_PRIORITY = {Severity.LOW: 20, Severity.MEDIUM: 40, Severity.HIGH: 60, Severity.CRITICAL: 80}


class EngineRules:
    """A RuleEngine as the pipeline's TextRules: hits with pack versions and spans, entities."""

    def __init__(self, engine: RuleEngine) -> None:
        self.engine = engine

    def evaluate_fields(self, fields: Mapping[str, str]) -> TextFindings:
        try:
            result = self.engine.evaluate({k: v for k, v in fields.items() if v})
        except TextTooLong as exc:
            return TextFindings(not_evaluated=[f"text rules not run: {exc}"])
        return TextFindings(
            hits=[
                TextHit(
                    pack=h.pack,
                    version=h.pack_version,
                    rule_id=h.rule_id,
                    category=h.category.value,
                    priority=SEVERITY_PRIORITY.get(h.severity, 40),
                    field=h.field.value,
                    start=h.start,
                    end=h.end,
                    matched=h.text,
                )
                for h in result.hits
            ],
            entities=[
                TextEntity(kind=e.kind.value, value=e.value, field=e.field.value, start=e.start, end=e.end)
                for e in result.entities
                if e.checksum != ChecksumStatus.FAILED  # a mistyped wallet must not link two accounts
            ],
        )


class Fetch:
    """A MediaFetcher as the pipeline's fetch function: bytes, or FetchFailed with the typed reason."""

    def __init__(self, fetcher: MediaFetcher) -> None:
        self.fetcher = fetcher

    def __call__(self, url: str) -> bytes:
        outcome = self.fetcher.fetch(url)
        if isinstance(outcome, FetchFailure):
            # The reason only: it reaches the platform (GET /api/v1/items/{id}), and the detail can
            # name the addresses an internal host name resolves to. The detail goes to the log.
            log.info(
                "event=fetch.failed_detail reason=%s detail=%r", outcome.reason.value, outcome.detail[:300]
            )
            raise FetchFailed(outcome.reason.value)
        return outcome.content
