"""Text rules and entity extraction: a pure domain package (no database, no web).

Build a ``RuleEngine`` once (``RuleEngine.from_packs()`` or ``RuleEngine.from_settings(settings)``)
and call ``evaluate({"text": ..., "bio": ...})`` per item or account; the ``RuleResult`` holds hits and
entities per field with spans in the original text, and the packs (name, version, digest) used.
"""

from suraksha.rules.engine import RuleEngine
from suraksha.rules.entities import extract_entities
from suraksha.rules.models import (
    ChecksumStatus,
    Entity,
    EntityKind,
    EntityTag,
    FieldResult,
    PackRef,
    RequirementScope,
    RuleCategory,
    RuleHit,
    RuleKind,
    RuleResult,
    Severity,
    TextField,
    TextView,
)
from suraksha.rules.normalise import NormalisedText, TextTooLong, normalise
from suraksha.rules.packs import RulePack, RulePackError, load_pack, parse_pack

__all__ = [
    "ChecksumStatus",
    "Entity",
    "EntityKind",
    "EntityTag",
    "FieldResult",
    "NormalisedText",
    "PackRef",
    "RequirementScope",
    "RuleCategory",
    "RuleEngine",
    "RuleHit",
    "RuleKind",
    "RulePack",
    "RulePackError",
    "RuleResult",
    "Severity",
    "TextField",
    "TextTooLong",
    "TextView",
    "extract_entities",
    "load_pack",
    "normalise",
    "parse_pack",
]
