"""The one entry point: ``RuleEngine.from_packs(...)`` once, then ``engine.evaluate(fields)`` per item.

An engine is immutable after loading and shares nothing mutable between calls, so one engine serves
every thread of a worker. ``evaluate`` takes the fields of one item or account (``text``, ``bio``,
``display_name``, ``handle``), normalises each once, extracts its entities once, runs every pack over
them, and returns hits and entities per field, sorted, with the packs (name, version, digest) that
produced them: a stored result says exactly which rules decided.

Bounds: each field is at most ``max_text_chars`` characters (refused, never cut: ``TextTooLong``);
every pattern is RE2 (linear time); at most ``MAX_HITS_PER_RULE`` hits per rule and field and
``MAX_ENTITIES_PER_FIELD`` entities per field are kept, and a field that had more says ``capped``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import phonenumbers

from suraksha.errors import ConfigError, InvalidInput
from suraksha.rules.entities import DEFAULT_PHONE_REGION
from suraksha.rules.evaluate import evaluate_rules, prepare_field
from suraksha.rules.models import FieldResult, PackRef, RuleHit, RuleResult, TextField
from suraksha.rules.normalise import DEFAULT_MAX_TEXT_CHARS
from suraksha.rules.packs import RulePack, RulePackError, default_pack_path, load_pack

if TYPE_CHECKING:
    from suraksha.settings import Settings

_FIELD_ORDER = {f: i for i, f in enumerate(TextField)}
_PACK_SUFFIXES = (".yaml", ".yml")


class RuleEngine:
    def __init__(
        self,
        packs: Iterable[RulePack],
        *,
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
        phone_region: str = DEFAULT_PHONE_REGION,
    ) -> None:
        self._packs = tuple(packs)
        names = [p.name for p in self._packs]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise RulePackError(
                f"rule pack name(s) loaded twice: {', '.join(duplicated)}; names must be unique"
            )
        if max_text_chars <= 0:
            raise ConfigError(f"max_text_chars must be positive (got {max_text_chars})")
        self._max_text_chars = max_text_chars
        self._phone_region = _checked_region(phone_region)

    @classmethod
    def from_packs(
        cls,
        paths: Iterable[Path | str] = (),
        *,
        include_default: bool = True,
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
        phone_region: str = DEFAULT_PHONE_REGION,
    ) -> RuleEngine:
        """The shipped default pack (unless ``include_default`` is false), then each path in order:
        a pack file, or a folder whose ``*.yaml`` / ``*.yml`` files load in name order."""
        region = _checked_region(phone_region)
        files = [default_pack_path()] if include_default else []
        for path in map(Path, paths):
            if path.is_dir():
                files.extend(sorted(p for p in path.iterdir() if p.suffix in _PACK_SUFFIXES and p.is_file()))
            else:
                files.append(path)
        packs = [load_pack(f, phone_region=region) for f in files]
        return cls(packs, max_text_chars=max_text_chars, phone_region=region)

    @classmethod
    def from_settings(cls, settings: Settings) -> RuleEngine:
        raw = settings.rules_pack_paths or ""
        paths = [p for p in raw.split(os.pathsep) if p.strip()]
        return cls.from_packs(
            paths,
            include_default=settings.rules_default_pack,
            max_text_chars=settings.rules_max_text_chars,
            phone_region=settings.rules_phone_region,
        )

    @property
    def packs(self) -> tuple[PackRef, ...]:
        return tuple(p.ref for p in self._packs)

    def evaluate(self, fields: Mapping[str, str]) -> RuleResult:
        """Hits and entities of one item's fields. Unknown field names and non-text values are refused."""
        prepared = []
        for name, value in fields.items():
            try:
                field = TextField(name)
            except ValueError:
                known = ", ".join(f.value for f in TextField)
                raise InvalidInput(f"unknown field {name!r}; the rules read: {known}") from None
            if not isinstance(value, str):
                raise InvalidInput(f"field {name!r} must be text, got {type(value).__name__}")
            prepared.append(
                prepare_field(field, value, max_chars=self._max_text_chars, phone_region=self._phone_region)
            )
        prepared.sort(key=lambda p: _FIELD_ORDER[p.field])
        hits: list[RuleHit] = []
        capped = {p.field for p in prepared if p.entities_capped}
        for pack in self._packs:
            outcome = evaluate_rules(pack.name, pack.version, pack.rules, prepared)
            hits.extend(outcome.hits)
            capped |= outcome.capped
        hits.sort(key=lambda h: (_FIELD_ORDER[h.field], h.start, h.end, h.pack, h.rule_id))
        results = tuple(
            FieldResult(
                field=p.field,
                hits=tuple(h for h in hits if h.field is p.field),
                entities=p.entities,
                capped=p.field in capped,
            )
            for p in prepared
        )
        return RuleResult(fields=results, packs=self.packs)


def _checked_region(region: str) -> str:
    upper = region.strip().upper()
    if upper not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(
            f"phone region {region!r} is not a region libphonenumber knows; use a two-letter ISO 3166 "
            "code such as IN or US (SURAKSHA_RULES_PHONE_REGION)"
        )
    return upper
