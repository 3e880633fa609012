"""The decision policy: what a finding leads to, as configuration (per bank category and per rule
category), not code. The built-in policy is below; a deployment replaces it with a YAML file
(setting ``policy_file``) of the same shape.

Business rules applied by ``decide`` (in this order):
1. A hit in an enabled block bank, not suppressed by an allow list, decides by the bank's category
   (the most severe category wins when several banks hit). A hit on an entry that only exchanges of
   "review" trust vouch for, or that is under flood quarantine (``BankFinding.review_only``), never
   acts by itself: when no other hit does, the item goes to review.
2. Otherwise text-rule hits and classifier findings send the item to review, at the highest priority
   among them (classifiers never act by themselves).
3. Otherwise, if any media file could not be checked (fetch, decode, time limit), the verdict is
   ``not_checked`` and the item goes to review: unknown is never clean.
4. Otherwise a user or trusted-flagger report sends it to review.
5. Otherwise the item is clean.
Automated actions run only for verdicts the policy marks automated; with the kill switch
"pause automated enforcement" on, they are not created and the item goes to review instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from suraksha.enforcement.models import ActionKind, Verdict
from suraksha.errors import ConfigError
from suraksha.hookspecs import ClassifierFinding

ANY = "*"


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    verdict: Verdict
    actions: list[ActionKind] = Field(default_factory=list)
    priority: int = Field(default=50, ge=0, le=100)
    automated: bool = False
    countries: list[str] = Field(default_factory=list)
    """ISO 3166-1 alpha-2 codes, for a ``withhold`` action."""

    @field_validator("countries")
    @classmethod
    def _country_codes(cls, value: list[str]) -> list[str]:
        bad = [c for c in value if len(c) != 2 or not c.isalpha() or not c.isupper()]
        if bad:
            raise ValueError(f"countries are ISO 3166-1 alpha-2 codes (e.g. IN, US), not {bad}")
        return value


class Policy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: str
    bank_categories: dict[str, Outcome]
    rule_categories: dict[str, Outcome]
    not_checked: Outcome
    user_report: Outcome
    trusted_flagger: Outcome
    classifier: Outcome = Outcome(verdict=Verdict.REVIEW, priority=50)

    def for_bank(self, category: str) -> Outcome:
        return self.bank_categories.get(category) or self.bank_categories[ANY]

    def for_rule(self, category: str) -> Outcome:
        return self.rule_categories.get(category) or self.rule_categories[ANY]


BUILTIN = Policy(
    version="builtin-1",
    bank_categories={
        "csam": Outcome(
            verdict=Verdict.VIOLATION,
            actions=[ActionKind.REMOVE, ActionKind.SUSPEND, ActionKind.PRESERVE, ActionKind.REPORT],
            priority=100,
            automated=True,
        ),
        "ncii": Outcome(
            verdict=Verdict.VIOLATION,
            actions=[ActionKind.REMOVE, ActionKind.PRESERVE],
            priority=90,
            automated=True,
        ),
        ANY: Outcome(verdict=Verdict.REVIEW, priority=70),
    },
    rule_categories={ANY: Outcome(verdict=Verdict.REVIEW, priority=50)},
    not_checked=Outcome(verdict=Verdict.NOT_CHECKED, priority=40),
    user_report=Outcome(verdict=Verdict.REVIEW, priority=30),
    trusted_flagger=Outcome(verdict=Verdict.REVIEW, priority=60),
)


def load_policy(path: str | Path | None) -> Policy:
    """The policy in ``path`` (YAML), or the built-in one. A bad file is a ConfigError naming it."""
    if path is None:
        return BUILTIN
    try:
        raw: Any = yaml.safe_load(Path(path).read_text())
        policy = Policy.model_validate(raw)
    except (OSError, yaml.YAMLError, ValidationError) as exc:
        raise ConfigError(f"decision policy {path} is not usable: {exc}") from exc
    if ANY not in policy.bank_categories or ANY not in policy.rule_categories:
        raise ConfigError(f"decision policy {path} needs a '*' entry in bank_categories and rule_categories")
    return policy


@dataclass(frozen=True)
class BankFinding:
    bank: str
    category: str
    entry_id: int
    signal_type: str
    distance: int | None
    review_only: bool = False
    """The entry's matches go to review: it came from exchanges whose matches go to review
    (``suraksha.exchanges``: trust), or it is quarantined (``quarantined``)."""
    quarantined: bool = False
    """The entry is under flood quarantine (``suraksha.banks.flood``)."""


@dataclass(frozen=True)
class RuleFinding:
    pack: str
    version: str
    rule_id: str
    category: str
    priority: int


@dataclass(frozen=True)
class Findings:
    banks: list[BankFinding] = field(default_factory=list)
    rules: list[RuleFinding] = field(default_factory=list)
    classifiers: list[ClassifierFinding] = field(default_factory=list)
    not_checked: list[str] = field(default_factory=list)
    """Reasons, one per media file that could not be checked."""
    reporter_kind: str | None = None


@dataclass(frozen=True)
class Plan:
    verdict: Verdict
    category: str
    actions: tuple[ActionKind, ...]
    countries: tuple[str, ...]
    automated: bool
    priority: int
    basis: list[dict[str, Any]]
    reason: str
    policy_version: str


def needs_review(verdict: str, actions: Sequence[str]) -> bool:
    """A person looks at: every ``review`` and ``not_checked`` verdict (unknown is never clean), and
    every automated violation that calls for a clearinghouse report (a report needs a human
    confirmation and, for "viewed by the provider", a recorded human view)."""
    if verdict in (Verdict.REVIEW, Verdict.NOT_CHECKED):
        return True
    return verdict == Verdict.VIOLATION and ActionKind.REPORT in actions


def decide(policy: Policy, findings: Findings, *, automation_paused: bool = False) -> Plan:
    basis: list[dict[str, Any]]
    if findings.banks:
        # Entries only exchanges of "review" trust vouch for never act by themselves: the trusted hits
        # decide when there are any; with none, the plan goes to a person (``_plan``).
        trusted = [f for f in findings.banks if not f.review_only]
        ranked = sorted(trusted or findings.banks, key=lambda f: -policy.for_bank(f.category).priority)
        ranked += [f for f in findings.banks if f not in ranked]
        top = ranked[0]
        outcome = policy.for_bank(top.category)
        basis = [
            {
                "bank": f.bank,
                "category": f.category,
                "entry_id": f.entry_id,
                "signal": f.signal_type,
                "distance": f.distance,
                **({"review_only": True} if f.review_only else {}),
                **({"quarantined": True} if f.quarantined else {}),
            }
            for f in ranked
        ]
        reason = f"{top.signal_type} match in bank {top.bank} ({top.category})"
        why = (
            "the entry is quarantined: it matched far more than entries usually do"
            if top.quarantined
            else "the entry comes from an exchange whose matches go to review"
        )
        return _plan(
            policy, outcome, top.category, basis, reason, automation_paused, review_only=not trusted, why=why
        )
    if findings.rules or findings.classifiers:
        ranked_rules = sorted(findings.rules, key=lambda r: -r.priority)
        ranked_models = sorted(findings.classifiers, key=lambda c: -c.priority)
        basis = [
            {"pack": r.pack, "version": r.version, "rule": r.rule_id, "category": r.category}
            for r in ranked_rules
        ]
        basis += [
            {
                "classifier": c.classifier,
                "version": c.version,
                "category": c.category,
                "score": c.score,
                "where": c.where,
            }
            for c in ranked_models
        ]
        if ranked_rules and (not ranked_models or ranked_rules[0].priority >= ranked_models[0].priority):
            top_rule = ranked_rules[0]
            outcome = policy.for_rule(top_rule.category)
            priority, category = max(outcome.priority, top_rule.priority), top_rule.category
            reason = f"text rule {top_rule.rule_id} ({top_rule.category})"
        else:
            top_model = ranked_models[0]
            outcome = policy.classifier
            priority, category = max(outcome.priority, top_model.priority), top_model.category
            reason = f"classifier {top_model.classifier} ({top_model.category}, score {top_model.score:.2f})"
        outcome = outcome.model_copy(update={"priority": priority})
        return _plan(policy, outcome, category, basis, reason, automation_paused)
    if findings.not_checked:
        basis = [{"not_checked": r} for r in findings.not_checked]
        reason = "media could not be checked: " + "; ".join(findings.not_checked)
        return _plan(policy, policy.not_checked, "", basis, reason, automation_paused)
    if findings.reporter_kind is not None:
        outcome = (
            policy.trusted_flagger if findings.reporter_kind == "trusted_flagger" else policy.user_report
        )
        return _plan(policy, outcome, "", [{"report": findings.reporter_kind}], "reported", automation_paused)
    return Plan(Verdict.CLEAN, "", (), (), True, 0, [], "no finding", policy.version)


def _plan(
    policy: Policy,
    outcome: Outcome,
    category: str,
    basis: list[dict[str, Any]],
    reason: str,
    paused: bool,
    *,
    review_only: bool = False,
    why: str = "",
) -> Plan:
    automated = outcome.automated and bool(outcome.actions)
    if automated and (paused or review_only):
        why = "automated enforcement paused" if paused else why
        return Plan(
            Verdict.REVIEW,
            category,
            (),
            (),
            False,
            max(outcome.priority, 90),
            basis,
            reason + f" ({why}: a person decides)",
            policy.version,
        )
    return Plan(
        outcome.verdict,
        category,
        tuple(outcome.actions) if automated else (),
        tuple(outcome.countries),
        automated,
        outcome.priority,
        basis,
        reason,
        policy.version,
    )
