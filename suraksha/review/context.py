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
from suraksha.errors import NotFound
from suraksha.review.models import ReviewCase, ReviewDecision
from suraksha.review.services import ReviewOptions, check_may_open, get_case

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
    platform_account_id: str = ""


@dataclass(frozen=True)
class RuleHitGroup:
    """One rule's hits on an item: a rule that matched in several fields, or is in several packs (or
    versions), is one row with the fields it hit, the packs, and the distinct texts it matched."""

    rule_id: str
    category: str
    fields: tuple[str, ...]
    packs: tuple[str, ...]
    """``pack version`` of each pack the rule hit in."""
    matched: tuple[str, ...]
    hits: int


def group_rule_hits(hits: list[ItemRuleHit]) -> list[RuleHitGroup]:
    """``hits`` grouped by rule (and category), in the order each rule first hit; fields, packs and
    matched texts each once, in the order found."""
    groups: dict[tuple[str, str], list[ItemRuleHit]] = {}
    for hit in hits:
        groups.setdefault((hit.rule_id, hit.category), []).append(hit)
    return [
        RuleHitGroup(
            rule_id=rule_id,
            category=category,
            fields=tuple(dict.fromkeys(h.field for h in group)),
            packs=tuple(dict.fromkeys(f"{h.pack} {h.pack_version}" for h in group)),
            matched=tuple(dict.fromkeys(h.matched for h in group)),
            hits=len(group),
        )
        for (rule_id, category), group in groups.items()
    ]


@dataclass(frozen=True)
class QueueEntry:
    """What a queue row shows beside the case, to pick the next one: whose item, what it says, and
    when it is due."""

    case: ReviewCase
    account_id: int
    handle: str
    platform_account_id: str
    snippet: str
    due_at: datetime


SNIPPET_CHARS = 90


def snippet(text: str | None, limit: int = SNIPPET_CHARS) -> str:
    """The item's text on one line, cut at a word near ``limit`` characters (with an ellipsis)."""
    flat = " ".join((text or "").split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return cut.rstrip(" ,.;:") + "…"


def queue_entries(session: Session, cases: list[ReviewCase], options: ReviewOptions) -> list[QueueEntry]:
    """The queue's rows: each case with its item's account and text snippet, and its due time
    (``ReviewOptions.due_at``), in one query for the page."""
    item_ids = [c.item_id for c in cases]
    rows = (
        {
            item_id: (account_id, handle, platform_id, text)
            for item_id, account_id, handle, platform_id, text in session.execute(
                select(Item.id, Account.id, Account.handle, Account.platform_account_id, Item.text)
                .join(Account, Account.id == Item.account_id)
                .where(Item.id.in_(item_ids))
            ).all()
        }
        if item_ids
        else {}
    )
    entries = []
    for case in cases:
        account_id, handle, platform_id, text = rows[case.item_id]
        entries.append(
            QueueEntry(
                case=case,
                account_id=account_id,
                handle=handle or platform_id,
                platform_account_id=platform_id,
                snippet=snippet(text),
                due_at=options.due_at(case.category, case.detected_at),
            )
        )
    return entries


@dataclass(frozen=True)
class CaseContext:
    case: ReviewCase
    item: Item
    account: Account
    media: list[ItemMedia]
    matches: list[ItemMatch]
    rule_hits: list[ItemRuleHit]
    rule_hit_groups: list[RuleHitGroup]
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
        rule_hit_groups=group_rule_hits(hits),
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
            select(Account.id, Account.handle, Account.platform_account_id)
            .join(Item, Item.account_id == Account.id)
            .join(ItemMedia, ItemMedia.item_id == Item.id)
            .where(ItemMedia.sha256.in_(sha256s[:CONTEXT_LIMIT]), Account.id != account_id)
            .distinct()
            .limit(CONTEXT_LIMIT)
        ).all()
        for other_id, handle, platform_id in rows:
            found.setdefault(other_id, LinkedAccount(other_id, handle, "media", platform_id))
    mine = select(AccountEntity.entity_id).where(AccountEntity.account_id == account_id)
    shared = session.execute(
        select(Account.id, Account.handle, Account.platform_account_id, Entity.kind)
        .join(AccountEntity, AccountEntity.account_id == Account.id)
        .join(Entity, Entity.id == AccountEntity.entity_id)
        .where(AccountEntity.entity_id.in_(mine), Account.id != account_id)
        .order_by(Account.id)
        .limit(CONTEXT_LIMIT)
    ).all()
    for other_id, handle, platform_id, kind in shared:
        found.setdefault(other_id, LinkedAccount(other_id, handle, f"entity:{kind}", platform_id))
    return list(found.values())[:CONTEXT_LIMIT]


@dataclass(frozen=True)
class AccountContext:
    """A platform account as a reviewer looks it up from a case: its facts, its items with their
    review cases, the decisions about them and the accounts linked to it. No text or media: those are
    read on a case's page, under the queue rules."""

    account: Account
    items: list[Item]
    cases: list[ReviewCase]
    decisions: list[Decision]
    linked_accounts: list[LinkedAccount]


def account_context(session: Session, account_id: int) -> AccountContext:
    """The account page (``AccountContext``); NotFound for an unknown account. Every list bounded by
    ``CONTEXT_LIMIT``, newest first."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"account {account_id} does not exist")
    items = list(
        session.scalars(
            select(Item)
            .where(Item.account_id == account.id)
            .order_by(Item.received_at.desc(), Item.id.desc())
            .limit(CONTEXT_LIMIT)
        )
    )
    cases = list(
        session.scalars(
            select(ReviewCase)
            .join(Item, Item.id == ReviewCase.item_id)
            .where(Item.account_id == account.id)
            .order_by(ReviewCase.id.desc())
            .limit(CONTEXT_LIMIT)
        )
    )
    decisions = list(
        session.scalars(
            select(Decision)
            .join(Item, Item.id == Decision.item_id)
            .where(Item.account_id == account.id)
            .order_by(Decision.created_at.desc(), Decision.id.desc())
            .limit(CONTEXT_LIMIT)
        )
    )
    sha256s = list(
        session.scalars(
            select(ItemMedia.sha256)
            .join(Item, Item.id == ItemMedia.item_id)
            .where(Item.account_id == account.id, ItemMedia.sha256.is_not(None))
            .distinct()
            .limit(CONTEXT_LIMIT)
        )
    )
    return AccountContext(
        account=account,
        items=items,
        cases=cases,
        decisions=decisions,
        linked_accounts=linked_accounts(session, account.id, [s for s in sha256s if s]),
    )
