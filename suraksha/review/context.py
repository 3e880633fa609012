"""What the item page shows beside the (blurred) media: why the item is here (bank matches with entry
and distance, rule hits with the matched text's place, extracted entities) and its context (the
account, its other items and decisions, accounts that share media or identifiers with it).

Reading context follows the queue rules (``services.check_may_open``: ``queue:view``, the reveal
permission of the case's category, the claim, the escalation level); it never includes media bytes
(those go through ``reveal``). Every list is bounded (``CONTEXT_LIMIT``), so a prolific account cannot
make the page unbounded. This is the one implementation: the console's case page shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.access.models import ConsoleUser
from suraksha.content.entities import AccountEntity, Entity, ItemEntity
from suraksha.content.models import Account, Item, ItemMatch, ItemMedia, ItemRuleHit
from suraksha.enforcement.models import Decision
from suraksha.review.models import ReviewCase, ReviewDecision
from suraksha.review.services import check_may_open, get_case

CONTEXT_LIMIT = 50


@dataclass(frozen=True)
class FoundEntity:
    kind: str
    value: str
    field: str
    start: int
    end: int


@dataclass(frozen=True)
class LinkedAccount:
    account_id: int
    handle: str
    via: str
    """``media`` (a file with the same SHA-256) or ``entity:<kind>`` (a shared identifier)."""


@dataclass(frozen=True)
class CaseContext:
    case: ReviewCase
    item: Item
    account: Account
    media: list[ItemMedia]
    matches: list[ItemMatch]
    rule_hits: list[ItemRuleHit]
    entities: list[FoundEntity]
    other_items: list[Item]
    account_decisions: list[Decision]
    review_decisions: list[ReviewDecision]
    linked_accounts: list[LinkedAccount]
    category: str
    """What opening the case counts as (``csam`` when its item matched a csam bank)."""


def case_context(
    session: Session, case_id: int, viewer: ConsoleUser, *, now: datetime | None = None
) -> CaseContext:
    """Everything the item page shows about a case except the media itself (module docstring);
    Forbidden when ``viewer`` may not open the case."""
    case = get_case(session, case_id)
    category = check_may_open(session, case, viewer, now=now)
    item = session.get(Item, case.item_id)
    assert item is not None
    account = session.get(Account, item.account_id)
    assert account is not None
    matches = list(
        session.scalars(select(ItemMatch).where(ItemMatch.item_id == item.id).order_by(ItemMatch.id))
    )
    hits = list(
        session.scalars(select(ItemRuleHit).where(ItemRuleHit.item_id == item.id).order_by(ItemRuleHit.id))
    )
    entities = [
        FoundEntity(entity.kind, entity.value, link.field, link.start, link.end)
        for link, entity in session.execute(
            select(ItemEntity, Entity)
            .join(Entity, Entity.id == ItemEntity.entity_id)
            .where(ItemEntity.item_id == item.id)
            .order_by(ItemEntity.field, ItemEntity.start)
            .limit(CONTEXT_LIMIT)
        ).all()
    ]
    other_items = list(
        session.scalars(
            select(Item)
            .where(Item.account_id == account.id, Item.id != item.id)
            .order_by(Item.received_at.desc())
            .limit(CONTEXT_LIMIT)
        )
    )
    account_decisions = list(
        session.scalars(
            select(Decision)
            .join(Item, Item.id == Decision.item_id)
            .where(Item.account_id == account.id)
            .order_by(Decision.created_at.desc())
            .limit(CONTEXT_LIMIT)
        )
    )
    review_decisions = list(
        session.scalars(
            select(ReviewDecision).where(ReviewDecision.item_id == item.id).order_by(ReviewDecision.id)
        )
    )
    return CaseContext(
        case=case,
        item=item,
        account=account,
        media=list(item.media),
        matches=matches,
        rule_hits=hits,
        entities=entities,
        other_items=other_items,
        account_decisions=account_decisions,
        review_decisions=review_decisions,
        linked_accounts=linked_accounts(session, account.id, [m.sha256 for m in item.media if m.sha256]),
        category=category,
    )


def linked_accounts(session: Session, account_id: int, sha256s: list[str]) -> list[LinkedAccount]:
    """Other accounts that posted a file with one of ``sha256s``, then accounts sharing an identifier
    (payment handle, phone, link, wallet) with ``account_id``; each account once, at most
    ``CONTEXT_LIMIT``."""
    found: dict[int, LinkedAccount] = {}
    if sha256s:
        rows = session.execute(
            select(Account.id, Account.handle)
            .join(Item, Item.account_id == Account.id)
            .join(ItemMedia, ItemMedia.item_id == Item.id)
            .where(ItemMedia.sha256.in_(sha256s[:CONTEXT_LIMIT]), Account.id != account_id)
            .distinct()
            .limit(CONTEXT_LIMIT)
        ).all()
        for other_id, handle in rows:
            found.setdefault(other_id, LinkedAccount(other_id, handle, "media"))
    mine = select(AccountEntity.entity_id).where(AccountEntity.account_id == account_id)
    shared = session.execute(
        select(Account.id, Account.handle, Entity.kind)
        .join(AccountEntity, AccountEntity.account_id == Account.id)
        .join(Entity, Entity.id == AccountEntity.entity_id)
        .where(AccountEntity.entity_id.in_(mine), Account.id != account_id)
        .order_by(Account.id)
        .limit(CONTEXT_LIMIT)
    ).all()
    for other_id, handle, kind in shared:
        found.setdefault(other_id, LinkedAccount(other_id, handle, f"entity:{kind}"))
    return list(found.values())[:CONTEXT_LIMIT]
