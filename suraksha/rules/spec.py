"""The schema of a rule pack file, validated by pydantic before anything is compiled.

A pack is a YAML mapping::

    name: default                # [a-z0-9][a-z0-9_.-]*, unique among loaded packs
    version: "2025.1.0"          # a string: quote it, YAML reads 1.0 as a number
    description: ...
    rules:
      - id: dm-for-price
        description: Asks buyers to message for a price.
        kind: keyword            # keyword | regex
        patterns: ["dm for price", "price in dm"]
        category: sale_solicitation
        severity: medium         # low | medium | high | critical
        fields: [text, bio]      # default: every field
        view: normalised         # regex only: original | normalised (default) | skeleton
        case_sensitive: false    # regex only
        requires:                # optional: the rule fires only when these hold too
          scope: item            # item (any field, default) | field (the same field)
          all_of: [{rule: other-rule}, {entity: upi_id}]
          any_of: [...]
          none_of: [...]
        should_match: ["DM for price!"]
        should_not_match: ["the price is on the tag"]

Unknown keys are errors (a misspelt ``should_match`` must not silently skip the self-test).
"""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from suraksha.rules.models import (
    EntityKind,
    RequirementScope,
    RuleCategory,
    RuleKind,
    Severity,
    TextField,
    TextView,
)

MAX_RULES_PER_PACK = 2000
MAX_PATTERNS_PER_RULE = 500
MAX_PATTERN_CHARS = 2000
MAX_EXAMPLES_PER_RULE = 100
MAX_EXAMPLE_CHARS = 2000
MAX_CONDITIONS = 50

Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")]
Pattern = Annotated[str, StringConstraints(min_length=1, max_length=MAX_PATTERN_CHARS)]
Example = Annotated[str, StringConstraints(min_length=1, max_length=MAX_EXAMPLE_CHARS)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    """One requirement: another rule of the same pack fired, or an entity of a kind was found."""

    rule: Identifier | None = None
    entity: EntityKind | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.rule is None) == (self.entity is None):
            raise ValueError("a condition names exactly one of 'rule' or 'entity'")
        return self

    @property
    def label(self) -> str:
        return f"rule:{self.rule}" if self.rule is not None else f"entity:{self.entity}"


class Requirements(_Strict):
    scope: RequirementScope = RequirementScope.ITEM
    all_of: Annotated[list[Condition], Field(max_length=MAX_CONDITIONS)] = []
    any_of: Annotated[list[Condition], Field(max_length=MAX_CONDITIONS)] = []
    none_of: Annotated[list[Condition], Field(max_length=MAX_CONDITIONS)] = []

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        if not (self.all_of or self.any_of or self.none_of):
            raise ValueError("'requires' needs at least one of all_of, any_of, none_of")
        return self

    @property
    def conditions(self) -> list[Condition]:
        return [*self.all_of, *self.any_of, *self.none_of]


class RuleSpec(_Strict):
    id: Identifier
    description: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    kind: RuleKind
    patterns: Annotated[list[Pattern], Field(min_length=1, max_length=MAX_PATTERNS_PER_RULE)]
    category: RuleCategory
    severity: Severity
    fields: Annotated[list[TextField], Field(min_length=1)] = list(TextField)
    view: TextView | None = None
    case_sensitive: bool = False
    requires: Requirements | None = None
    should_match: Annotated[list[Example], Field(max_length=MAX_EXAMPLES_PER_RULE)] = []
    should_not_match: Annotated[list[Example], Field(max_length=MAX_EXAMPLES_PER_RULE)] = []

    @model_validator(mode="after")
    def _keyword_options(self) -> Self:
        if self.kind is RuleKind.KEYWORD and (self.view is not None or self.case_sensitive):
            raise ValueError("'view' and 'case_sensitive' apply to regex rules; keywords use the skeleton")
        if not self.should_match:
            raise ValueError("a rule needs at least one should_match example: it is the rule's own test")
        return self

    @property
    def match_view(self) -> TextView:
        if self.kind is RuleKind.KEYWORD:
            return TextView.SKELETON
        return self.view or TextView.NORMALISED


class PackSpec(_Strict):
    name: Identifier
    version: Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z.+_-]{0,63}$")]
    description: Annotated[str, StringConstraints(max_length=2000)] = ""
    rules: Annotated[list[RuleSpec], Field(min_length=1, max_length=MAX_RULES_PER_PACK)]
