"""The synchronous upload-time check: hash and match inline, for platforms that block before
publishing. Nothing is stored unless something matches; then the item is submitted as usual (its
evidence preserved, its decision and actions made by the pipeline), because an attempted upload of
known material is itself something to act on and report."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from suraksha.banks.models import BankKind
from suraksha.errors import InvalidInput
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.schemas import ItemIn
from suraksha.intake.services import submit_item
from suraksha.signals.file_signals import HashState, hash_bytes


class CheckVerdict(StrEnum):
    MATCH = "match"
    NO_MATCH = "no_match"
    NOT_CHECKED = "not_checked"
    """Some file could not be checked: the platform should hold the upload, not publish it."""


@dataclass
class CheckResult:
    verdict: CheckVerdict
    media: list[dict[str, object]] = field(default_factory=list)
    item_id: int | None = None
    """Set when a match made us record the item."""


def check_item(pipeline: Pipeline, item: ItemIn, *, max_media_bytes: int, record: bool = True) -> CheckResult:
    files = []
    for position, media in enumerate(item.media):
        data = media.decoded()
        if data is None:
            raise InvalidInput(
                f"media {position} is a URL: the synchronous check takes uploaded bytes only "
                "(send URLs to /api/v1/items)"
            )
        if len(data) > max_media_bytes:
            raise InvalidInput(f"media {position} is {len(data):,} bytes; the limit is {max_media_bytes:,}")
        files.append(data)
    verdict = CheckVerdict.NO_MATCH
    described: list[dict[str, object]] = []
    for data in files:
        signals = hash_bytes(data, pipeline.options)
        outcome = pipeline.index.match(signals, rotations=pipeline.rotations)
        hits = [h for h in outcome.hits if h.bank_kind == BankKind.BLOCK]
        if hits:
            verdict = CheckVerdict.MATCH
        elif signals.state != HashState.HASHED and verdict == CheckVerdict.NO_MATCH:
            verdict = CheckVerdict.NOT_CHECKED
        described.append(
            {
                "state": signals.state.value,
                "error": signals.error,
                "pdq": signals.pdq.hex if signals.pdq else None,
                "pdq_quality": signals.pdq.quality if signals.pdq else None,
                "md5": signals.md5,
                "sha256": signals.sha256,
                "matches": [h.as_dict() for h in hits],
                "suppressed": [h.as_dict() for h in outcome.suppressed],
            }
        )
    result = CheckResult(verdict, described)
    if verdict == CheckVerdict.MATCH and record:
        with pipeline.db.session() as session:
            result.item_id = submit_item(
                session, pipeline.store, item, max_media_bytes=max_media_bytes
            ).item_id
    return result
