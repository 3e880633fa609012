"""On which ground a decision rests, the law or the platform's terms, and which tool detected what it
decided on: pure functions over a decision's fields, shared by the notices to users (here) and the
DSA statements of reasons (``suraksha.transparency.statements``, which sits above and reads them)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from suraksha.enforcement.models import DecidedBy, Decision, Verdict

ILLEGAL_GROUND = {
    "csam": "Directive 2011/93/EU, Article 5 (child sexual abuse material), and the national law "
    "implementing it",
}
"""Categories that are illegal in themselves, with the law that makes them so."""


class Tool:
    """What detected what the decision rests on (``tools_of``)."""

    HASH_BANK = "hash_bank"
    TEXT_RULE = "text_rule"
    CLASSIFIER = "classifier"
    REVIEWER = "reviewer"
    LEGAL_ORDER = "legal_order"
    REPORT = "report"


@dataclass(frozen=True)
class Ground:
    kind: str
    """``law`` or ``terms``."""
    reference: str
    """The law (or the authority's order) named, or the terms' ground."""


def ground_of(decision: Decision, terms_ground: str) -> Ground:
    """The law for an authority's order (naming it) and for categories illegal in themselves
    (``ILLEGAL_GROUND``); otherwise the platform's terms (``terms_ground``)."""
    if decision.decided_by == DecidedBy.LEGAL or decision.verdict == Verdict.LEGAL_ORDER:
        return Ground("law", f"an authority's order ({decision.decided_by_ref or 'on file'})")
    category = decision.category.strip().lower()
    if category in ILLEGAL_GROUND:
        return Ground("law", ILLEGAL_GROUND[category])
    return Ground("terms", terms_ground)


def basis_of(decision: Decision) -> list[dict[str, Any]]:
    try:
        basis = json.loads(decision.basis or "[]")
    except ValueError:
        return []
    return [b for b in basis if isinstance(b, dict)] if isinstance(basis, list) else []


def sources_of(decision: Decision) -> list[tuple[str, str]]:
    """``(tool, key)`` for each finding the decision rests on: ``(hash_bank, bank:NAME)``,
    ``(text_rule, rule:PACK/RULE)``, ``(classifier, classifier:NAME)``; a reviewer's, the legal
    desk's or a report's decision rests on ``(reviewer|legal_order|report, ...)``."""
    found: list[tuple[str, str]] = []
    for finding in basis_of(decision):
        if "bank" in finding:
            found.append((Tool.HASH_BANK, f"bank:{finding['bank']}"))
        elif "pack" in finding:
            found.append((Tool.TEXT_RULE, f"rule:{finding['pack']}/{finding.get('rule', '')}"))
        elif "classifier" in finding:
            found.append((Tool.CLASSIFIER, f"classifier:{finding['classifier']}"))
        elif "report" in finding:
            found.append((Tool.REPORT, f"report:{finding['report']}"))
    if decision.decided_by == DecidedBy.REVIEWER:
        found.append((Tool.REVIEWER, "reviewer"))
    elif decision.decided_by == DecidedBy.LEGAL:
        found.append((Tool.LEGAL_ORDER, decision.decided_by_ref or "legal"))
    return list(dict.fromkeys(found))


AUTOMATED_TOOLS = frozenset({Tool.HASH_BANK, Tool.TEXT_RULE, Tool.CLASSIFIER})
