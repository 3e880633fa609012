"""A post wrongly removed by a text rule, for the demo and the tests of appeals: an ordinary user's
benign post, read by the real rule packs, decided by a strict policy that removes on a text rule
(``STRICT_RULES``: the built-in policy only sends rule hits to review)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from suraksha.content.models import Account, Item, ItemKind, ItemState
from suraksha.db.engine import Database
from suraksha.enforcement import services as enforcement
from suraksha.enforcement.follow_ups import DecisionFollowUps
from suraksha.enforcement.models import ActionKind, Verdict
from suraksha.enforcement.policy import ANY, BUILTIN, Findings, Outcome, RuleFinding, decide
from suraksha.errors import InvalidInput
from suraksha.review.cases import open_case_for_decision
from suraksha.rules import RuleEngine
from suraksha.vault.requests import request_preservation

STRICT_RULES = BUILTIN.model_copy(
    update={
        "version": "strict-rules-1",
        "rule_categories": {
            ANY: Outcome(verdict=Verdict.VIOLATION, actions=[ActionKind.REMOVE], priority=50, automated=True)
        },
    }
)
"""A policy that removes a post on any text rule hit, without a person: the kind of policy whose
mistakes appeals catch."""

FUNDRAISER = "Baking for the school library fundraiser! Cakes 300 each, pay via UPI asha@okbank"


@dataclass(frozen=True)
class RemovedPost:
    item_id: int
    account_id: int
    decision_id: int
    action_id: int
    platform_item_id: str


def wrongly_removed_post(
    db: Database, rules: RuleEngine, *, platform_item_id: str, account: str, text: str = FUNDRAISER
) -> RemovedPost:
    """Record ``text`` as a post of ``account`` and the strict policy's decision on it (a text rule
    removes it, automated)."""
    found = rules.evaluate({"text": text})
    hits = [h for f in found.fields for h in f.hits]
    if not hits:
        raise InvalidInput("no text rule matches the post: the strict policy would not remove it")
    findings = Findings(
        rules=[RuleFinding(h.pack, h.pack_version, h.rule_id, str(h.category), 50) for h in hits]
    )
    plan = decide(STRICT_RULES, findings)
    follow_ups = DecisionFollowUps(
        open_case=open_case_for_decision, request_preservation=request_preservation
    )
    with db.session() as session:
        owner = Account(platform_account_id=account, handle=account.lstrip("@"))
        session.add(owner)
        session.flush()
        item = Item(
            platform_item_id=platform_item_id,
            payload_digest=hashlib.sha256(text.encode()).hexdigest(),
            kind=ItemKind.POST,
            account_id=owner.id,
            text=text,
            state=ItemState.QUEUED,
        )
        session.add(item)
        session.flush()
        enforcement.claim_for_decision(session, item.id)
        decision = enforcement.record_decision(session, item, plan, follow_ups=follow_ups)
        (action,) = decision.actions
        return RemovedPost(item.id, owner.id, decision.id, action.id, platform_item_id)
