"""Typed entities from a field: payment handles, phone numbers, e-mails, links, messengers, wallets.

Extraction reads the normalised view (invisible characters gone, look-alikes and other scripts' digits
folded, case kept), so ``ravi\u200b@okаxis`` with a zero-width space and a Cyrillic ``а`` is still the
UPI ID ``ravi@okaxis``; its span is mapped back to the original text. An entity whose original text
holds invisible or look-alike characters is tagged ``obfuscated``: hiding a handle is itself a signal.

Results are deduplicated on (kind, value, span) and sorted by span, then kind, then value, so the same
text always gives the same list.
"""

from __future__ import annotations

import unicodedata

from suraksha.rules.found import Found
from suraksha.rules.identifiers import find_emails, find_upi_ids
from suraksha.rules.links import find_links
from suraksha.rules.models import Entity, EntityTag, TextField
from suraksha.rules.normalise import NormalisedText, normalise
from suraksha.rules.phones import find_phones
from suraksha.rules.wallets import find_wallets

DEFAULT_PHONE_REGION = "IN"
MAX_ENTITIES_PER_FIELD = 500


def extract_entities(
    text: NormalisedText | str,
    field: TextField = TextField.TEXT,
    *,
    phone_region: str = DEFAULT_PHONE_REGION,
    limit: int = MAX_ENTITIES_PER_FIELD,
) -> tuple[list[Entity], bool]:
    """The entities of one field, and whether more than ``limit`` were found (the rest are dropped)."""
    normalised = normalise(text, what=str(field)) if isinstance(text, str) else text
    view = normalised.normalised
    found: list[Found] = [
        *find_upi_ids(view.text),
        *find_emails(view.text),
        *find_links(view.text),
        *find_phones(view.text, phone_region),
        *find_wallets(view.text),
    ]
    entities: dict[tuple[object, ...], Entity] = {}
    for item in found:
        start, end = view.to_original(item.start, item.end)
        original = normalised.original[start:end]
        tags = item.tags
        if EntityTag.OBFUSCATED not in tags and _disguised(original):
            tags = (*tags, EntityTag.OBFUSCATED)
        entity = Entity(
            kind=item.kind,
            value=item.value,
            field=field,
            start=start,
            end=end,
            text=original,
            checksum=item.checksum,
            tags=tuple(sorted(set(tags))),
        )
        entities.setdefault((entity.kind, entity.value, start, end), entity)
    ordered = sorted(entities.values(), key=lambda e: (e.start, e.end, e.kind, e.value))
    return ordered[:limit], len(ordered) > limit


def _disguised(original: str) -> bool:
    """Invisible characters, or non-ASCII characters that are not digits of some script."""
    for char in original:
        if char.isascii():
            continue
        if unicodedata.category(char) in ("Cf", "Mn", "Me") or unicodedata.decimal(char, None) is None:
            return True
    return False
