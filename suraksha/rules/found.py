"""What an extractor found, before its span is mapped back to the original text."""

from __future__ import annotations

from dataclasses import dataclass

from suraksha.rules.models import ChecksumStatus, EntityKind, EntityTag


@dataclass(frozen=True, slots=True)
class Found:
    kind: EntityKind
    value: str
    start: int
    """Span in the normalised view (``NormalisedText.normalised``)."""
    end: int
    checksum: ChecksumStatus = ChecksumStatus.NOT_APPLICABLE
    tags: tuple[EntityTag, ...] = ()
