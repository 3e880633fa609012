"""One pack's rules over the prepared fields of one item: matching, then ``requires``.

Rules run in dependency order (a rule after the rules its ``requires`` names, ``packs`` sorts them), so
when a rule's conditions are checked, every rule they name has already fired or not. A condition holds
in the rule's own field (scope ``field``) or in any field evaluated with it (scope ``item``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from suraksha.rules.entities import extract_entities
from suraksha.rules.matchers import Matcher
from suraksha.rules.models import Entity, EntityKind, RequirementScope, RuleHit, TextField
from suraksha.rules.normalise import NormalisedText, normalise
from suraksha.rules.spec import Condition, Requirements, RuleSpec

MAX_HITS_PER_RULE = 50


@dataclass(frozen=True)
class CompiledRule:
    spec: RuleSpec
    matcher: Matcher
    fields: frozenset[TextField]


@dataclass(frozen=True)
class PreparedField:
    """A field normalised and its entities extracted once, shared by every pack evaluated on it."""

    field: TextField
    text: NormalisedText
    entities: tuple[Entity, ...]
    entities_capped: bool
    entity_kinds: frozenset[EntityKind]


def prepare_field(field_name: TextField, text: str, *, max_chars: int, phone_region: str) -> PreparedField:
    normalised = normalise(text, max_chars=max_chars, what=f"field {field_name!s}")
    entities, capped = extract_entities(normalised, field_name, phone_region=phone_region)
    kinds = frozenset(e.kind for e in entities)
    return PreparedField(field_name, normalised, tuple(entities), capped, kinds)


@dataclass
class PackOutcome:
    hits: list[RuleHit] = field(default_factory=list)
    capped: set[TextField] = field(default_factory=set)


def evaluate_rules(
    pack_name: str,
    pack_version: str,
    rules: Sequence[CompiledRule],
    prepared: Sequence[PreparedField],
    *,
    hit_limit: int = MAX_HITS_PER_RULE,
) -> PackOutcome:
    outcome = PackOutcome()
    fired: dict[str, set[TextField]] = {}
    for rule in rules:
        spec = rule.spec
        for item in prepared:
            if item.field not in rule.fields:
                continue
            spans = rule.matcher.find(item.text, hit_limit + 1)
            if not spans:
                continue
            evidence: tuple[str, ...] = ()
            if spec.requires is not None:
                held = _requirements(spec.requires, item.field, fired, prepared)
                if held is None:
                    continue
                evidence = held
            if len(spans) > hit_limit:
                spans = spans[:hit_limit]
                outcome.capped.add(item.field)
            fired.setdefault(spec.id, set()).add(item.field)
            for orig_start, orig_end in spans:
                outcome.hits.append(
                    RuleHit(
                        pack=pack_name,
                        pack_version=pack_version,
                        rule_id=spec.id,
                        category=spec.category,
                        severity=spec.severity,
                        field=item.field,
                        start=orig_start,
                        end=orig_end,
                        text=item.text.original[orig_start:orig_end],
                        evidence=evidence,
                    )
                )
    return outcome


def _requirements(
    requires: Requirements,
    field_name: TextField,
    fired: Mapping[str, set[TextField]],
    prepared: Sequence[PreparedField],
) -> tuple[str, ...] | None:
    """The conditions that held, as evidence, or None when the requirements are not met."""
    scope = {field_name} if requires.scope is RequirementScope.FIELD else {p.field for p in prepared}

    def holds(condition: Condition) -> bool:
        if condition.rule is not None:
            return bool(fired.get(condition.rule, set()) & scope)
        return any(condition.entity in p.entity_kinds for p in prepared if p.field in scope)

    if not all(holds(c) for c in requires.all_of):
        return None
    any_held = [c for c in requires.any_of if holds(c)]
    if requires.any_of and not any_held:
        return None
    if any(holds(c) for c in requires.none_of):
        return None
    return tuple(c.label for c in (*requires.all_of, *any_held))
