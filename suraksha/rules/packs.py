"""Rule packs: versioned YAML files, validated, compiled and self-tested before they are used.

Loading a pack is all-or-nothing. It is refused, with an error naming the file, the rule and the
problem, when: the file is too large, not UTF-8, not YAML, or uses YAML aliases (a few lines of
aliases expand to billions of nodes); the schema is broken (``spec``: unknown keys, wrong types);
two rules share an id; ``requires`` names a rule the pack does not have, or rules require each other in
a circle; a keyword or regex does not compile (``matchers``); or a rule contradicts its own examples:
every ``should_match`` must fire the rule and no ``should_not_match`` may. Examples are evaluated as the
first field the rule applies to, with the entities found in them, exactly as a pipeline would (phone
numbers in the engine's region: a pack meant for several regions writes them with their country code).

Parsing uses ``yaml.safe_load`` (no Python objects from YAML), after ``yaml.parse`` has walked the
events to refuse aliases and count nodes.
"""

from __future__ import annotations

import graphlib
import hashlib
import logging
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from suraksha.errors import InvalidInput
from suraksha.rules.entities import DEFAULT_PHONE_REGION
from suraksha.rules.evaluate import CompiledRule, evaluate_rules, prepare_field
from suraksha.rules.matchers import PatternError, keyword_matcher, regex_matcher
from suraksha.rules.models import PackRef, RuleKind
from suraksha.rules.normalise import DEFAULT_MAX_TEXT_CHARS
from suraksha.rules.spec import PackSpec, RuleSpec

log = logging.getLogger(__name__)

MAX_PACK_BYTES = 2 * 1024 * 1024
MAX_PACK_NODES = 200_000
DEFAULT_PACK = "default.yaml"


class RulePackError(InvalidInput):
    """A rule pack that cannot be used; nothing of it was loaded."""


@dataclass(frozen=True)
class RulePack:
    name: str
    version: str
    sha256: str
    source: str
    description: str
    rules: tuple[CompiledRule, ...]
    """In dependency order: every rule after the rules its ``requires`` names."""

    @property
    def ref(self) -> PackRef:
        return PackRef(self.name, self.version, self.sha256)


def default_pack_path() -> Path:
    """The pack shipped with Suraksha (package data)."""
    return Path(str(resources.files("suraksha.rules").joinpath("packs", DEFAULT_PACK)))


def load_pack(path: Path | str, *, phone_region: str = DEFAULT_PHONE_REGION) -> RulePack:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_PACK_BYTES:
            raise RulePackError(
                f"rule pack {path}: {size:,} bytes is over the {MAX_PACK_BYTES:,}-byte limit; split it"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise RulePackError(f"rule pack {path} cannot be read: {exc.strerror or exc}") from None
    return parse_pack(data, source=str(path), phone_region=phone_region)


def parse_pack(data: bytes, *, source: str, phone_region: str = DEFAULT_PHONE_REGION) -> RulePack:
    """A pack from the bytes of its file; ``source`` names it in errors."""
    if len(data) > MAX_PACK_BYTES:
        raise RulePackError(f"rule pack {source}: over the {MAX_PACK_BYTES:,}-byte limit; split it")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulePackError(
            f"rule pack {source} is not UTF-8 text (byte {exc.start}); save it as UTF-8"
        ) from None
    raw = _safe_yaml(text, source)
    if not isinstance(raw, dict):
        raise RulePackError(
            f"rule pack {source}: the file must be a YAML mapping with name, version and rules "
            f"(found {type(raw).__name__})"
        )
    try:
        spec = PackSpec.model_validate(raw)
    except ValidationError as exc:
        raise RulePackError(f"rule pack {source} is not valid:\n{_describe(exc, raw)}") from None
    pack = RulePack(
        name=spec.name,
        version=spec.version,
        sha256=hashlib.sha256(data).hexdigest(),
        source=source,
        description=spec.description,
        rules=_compile(spec, source),
    )
    _self_test(pack, source, phone_region)
    log.info(
        "event=rules.pack_loaded pack=%s version=%s rules=%d sha256=%s",
        pack.name,
        pack.version,
        len(pack.rules),
        pack.sha256[:12],
    )
    return pack


def _safe_yaml(text: str, source: str) -> Any:
    try:
        for nodes, event in enumerate(yaml.parse(text), start=1):
            if isinstance(event, yaml.AliasEvent):
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise RulePackError(
                    f"rule pack {source}, line {line}: YAML aliases (*name) are not allowed in rule packs; "
                    "write the value out"
                )
            if nodes > MAX_PACK_NODES:
                raise RulePackError(f"rule pack {source}: more than {MAX_PACK_NODES:,} YAML nodes; split it")
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RulePackError(f"rule pack {source} is not valid YAML: {exc}") from None


def _describe(error: ValidationError, raw: dict[str, Any]) -> str:
    lines = []
    rules = raw.get("rules")
    for problem in error.errors(include_url=False):
        location = list(problem["loc"])
        where = ".".join(str(part) for part in location) or "(top level)"
        if len(location) >= 2 and location[0] == "rules" and isinstance(location[1], int):
            index = location[1]
            rule_id = None
            if isinstance(rules, list) and index < len(rules) and isinstance(rules[index], dict):
                rule_id = rules[index].get("id")
            rest = ".".join(str(part) for part in location[2:]) or "(the rule)"
            where = f"rule {rule_id!r} (rules[{index}]): {rest}" if rule_id else f"rules[{index}]: {rest}"
        lines.append(f"  - {where}: {problem['msg']}")
    return "\n".join(lines)


def _compile(spec: PackSpec, source: str) -> tuple[CompiledRule, ...]:
    by_id: dict[str, RuleSpec] = {}
    for rule in spec.rules:
        if rule.id in by_id:
            raise RulePackError(f"rule pack {source}: rule id {rule.id!r} is used twice; ids must be unique")
        by_id[rule.id] = rule
    order = graphlib.TopologicalSorter[str]()
    for rule in spec.rules:
        needed = [c.rule for c in rule.requires.conditions if c.rule] if rule.requires else []
        for other in needed:
            if other not in by_id:
                raise RulePackError(
                    f"rule pack {source}: rule {rule.id!r} requires rule {other!r}, which this pack does "
                    f"not have (rules: {', '.join(sorted(by_id))})"
                )
        order.add(rule.id, *needed)
    try:
        ordered = list(order.static_order())
    except graphlib.CycleError as exc:
        circle = " -> ".join(exc.args[1])
        raise RulePackError(f"rule pack {source}: rules require each other in a circle: {circle}") from None
    compiled = []
    for rule_id in ordered:
        rule = by_id[rule_id]
        try:
            if rule.kind is RuleKind.KEYWORD:
                matcher = keyword_matcher(rule.patterns)
            else:
                matcher = regex_matcher(rule.patterns, rule.match_view, case_sensitive=rule.case_sensitive)
        except PatternError as exc:
            raise RulePackError(f"rule pack {source}: rule {rule.id!r}: {exc}") from None
        compiled.append(CompiledRule(rule, matcher, frozenset(rule.fields)))
    return tuple(compiled)


def _self_test(pack: RulePack, source: str, phone_region: str) -> None:
    for rule in pack.rules:
        field = rule.spec.fields[0]
        cases = [(example, True) for example in rule.spec.should_match]
        cases += [(example, False) for example in rule.spec.should_not_match]
        for example, expected in cases:
            prepared = prepare_field(
                field, example, max_chars=DEFAULT_MAX_TEXT_CHARS, phone_region=phone_region
            )
            outcome = evaluate_rules(pack.name, pack.version, pack.rules, [prepared])
            fired = any(hit.rule_id == rule.spec.id for hit in outcome.hits)
            if fired != expected:
                wanted = "should match but did not" if expected else "should not match but did"
                hint = ""
                if expected and rule.spec.requires is not None:
                    hint = " (check its 'requires': the example must satisfy them on its own)"
                raise RulePackError(
                    f"rule pack {source}: rule {rule.spec.id!r} contradicts its own example: "
                    f"{example!r} {wanted}{hint}"
                )
