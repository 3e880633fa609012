"""The rules' vocabularies and results: what a pipeline stores per item and per account.

Results are plain frozen dataclasses (cheap to build hundreds of times a second); ``as_dict`` gives the
JSON form to store. Every span is a half-open ``[start, end)`` range of code points in the ORIGINAL
field text, so the review console can highlight exactly what matched, whatever normalisation found it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class TextField(StrEnum):
    """The fields of an item or account that rules read. Order here is the order of results."""

    TEXT = "text"
    BIO = "bio"
    DISPLAY_NAME = "display_name"
    HANDLE = "handle"


class TextView(StrEnum):
    """Which form of a field a pattern is matched against (see ``normalise``)."""

    ORIGINAL = "original"
    NORMALISED = "normalised"
    SKELETON = "skeleton"


class RuleKind(StrEnum):
    KEYWORD = "keyword"
    REGEX = "regex"


class RequirementScope(StrEnum):
    """Where a rule's ``requires`` conditions are looked for."""

    ITEM = "item"  # any field of the item or account evaluated together
    FIELD = "field"  # the field the rule matched in


class RuleCategory(StrEnum):
    """What a rule is evidence of; transparency statistics count by it."""

    SALE_SOLICITATION = "sale_solicitation"
    CONTACT_OFFSITE = "contact_offsite"
    PAYMENT_REQUEST = "payment_request"
    SPAM = "spam"
    IMPERSONATION = "impersonation"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CRITICAL: 4}


class EntityKind(StrEnum):
    UPI_ID = "upi_id"
    PHONE = "phone"
    EMAIL = "email"
    URL = "url"
    TELEGRAM = "telegram"
    WHATSAPP = "whatsapp"
    SIGNAL = "signal"
    BITCOIN_ADDRESS = "bitcoin_address"
    ETHEREUM_ADDRESS = "ethereum_address"
    TRON_ADDRESS = "tron_address"


class EntityTag(StrEnum):
    """Facts about one entity that a reviewer or a rule may want without re-parsing it."""

    OBFUSCATED = "obfuscated"  # written to dodge extraction: "name [at] okaxis", spaced digits
    SHORTENER = "shortener"  # a link shortener hides where the link goes
    LINK_AGGREGATOR = "link_aggregator"  # a "link in bio" page listing other links
    INVITE_LINK = "invite_link"  # a group or channel invitation
    P2PKH = "p2pkh"
    P2SH = "p2sh"
    SEGWIT = "segwit"  # witness version 0 (bech32)
    TAPROOT = "taproot"  # witness version 1 and later (bech32m)


class ChecksumStatus(StrEnum):
    """Whether an entity's own checksum vouches for it. Only VERIFIED values are safe join keys."""

    VERIFIED = "verified"
    FAILED = "failed"  # the shape is right and the checksum is wrong: a typo, or a decoy
    UNCHECKSUMMED = "unchecksummed"  # the format allows no checksum here (an all-lower-case ETH address)
    NOT_APPLICABLE = "not_applicable"  # the kind has no checksum (phone, email, URL...)


@dataclass(frozen=True, slots=True)
class PackRef:
    """Which rule pack, at which version and content digest, produced a result."""

    name: str
    version: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Entity:
    kind: EntityKind
    value: str
    """Canonical form, the key for joining accounts: lower-case UPI ID and e-mail, E.164 phone,
    canonical URL, ``t.me/<name>``, lower-case ETH address..."""
    field: TextField
    start: int
    end: int
    text: str
    """The original text the entity was read from (``original[start:end]``)."""
    checksum: ChecksumStatus = ChecksumStatus.NOT_APPLICABLE
    tags: tuple[EntityTag, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class RuleHit:
    pack: str
    pack_version: str
    rule_id: str
    category: RuleCategory
    severity: Severity
    field: TextField
    start: int
    end: int
    text: str
    """The original text that matched (``original[start:end]``), for the reviewer's highlight."""
    evidence: tuple[str, ...] = ()
    """The ``requires`` conditions that held, as ``rule:<id>`` / ``entity:<kind>``."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class FieldResult:
    field: TextField
    hits: tuple[RuleHit, ...]
    entities: tuple[Entity, ...]
    capped: bool = False
    """True when more hits or entities were found than are kept (``MAX_HITS_PER_RULE``,
    ``MAX_ENTITIES_PER_FIELD``): the field is not clean, it is crowded."""


@dataclass(frozen=True, slots=True)
class RuleResult:
    fields: tuple[FieldResult, ...]
    packs: tuple[PackRef, ...]

    @property
    def hits(self) -> tuple[RuleHit, ...]:
        return tuple(hit for f in self.fields for hit in f.hits)

    @property
    def entities(self) -> tuple[Entity, ...]:
        return tuple(entity for f in self.fields for entity in f.entities)

    @property
    def fired_rules(self) -> tuple[tuple[str, str], ...]:
        """``(pack, rule_id)`` of every rule that fired, each once, sorted."""
        return tuple(sorted({(hit.pack, hit.rule_id) for hit in self.hits}))

    @property
    def categories(self) -> tuple[RuleCategory, ...]:
        return tuple(sorted({hit.category for hit in self.hits}))

    @property
    def max_severity(self) -> Severity | None:
        return max((hit.severity for hit in self.hits), key=lambda s: s.rank, default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "packs": [asdict(p) for p in self.packs],
            "fields": [
                {
                    "field": f.field,
                    "capped": f.capped,
                    "hits": [h.as_dict() for h in f.hits],
                    "entities": [e.as_dict() for e in f.entities],
                }
                for f in self.fields
            ],
        }
