"""Read models of items for the API: an item's state, signals, decision and actions in one answer."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.content.entities import Entity, ItemEntity
from suraksha.content.models import Account, Item, ItemMatch, ItemRuleHit
from suraksha.db.base import utcnow
from suraksha.enforcement.acknowledgements import is_overdue
from suraksha.enforcement.models import Action, Decision
from suraksha.enforcement.services import action_payload
from suraksha.intake.schemas import (
    ActionOut,
    DecisionOut,
    ItemOut,
    MatchOut,
    MediaOut,
    RuleHitOut,
)

DEFAULT_OVERDUE_S = 86400.0
"""The default of the setting ``action_ack_overdue_s``."""


def action_out(
    action: Action,
    platform_item_id: str,
    platform_account_id: str,
    *,
    overdue_after_s: float = DEFAULT_OVERDUE_S,
    now: datetime | None = None,
) -> ActionOut:
    return ActionOut.model_validate(
        {
            **action_payload(action, platform_item_id, platform_account_id),
            "state": action.state,
            "state_reason": action.state_reason,
            "created_at": action.created_at,
            "delivered_at": action.delivered_at,
            "acknowledged_at": action.acknowledged_at,
            "overdue": is_overdue(action, overdue_after_s, now or utcnow()),
        }
    )


def actions_out(
    session: Session, actions: list[Action], *, overdue_after_s: float = DEFAULT_OVERDUE_S
) -> list[ActionOut]:
    """Actions with the platform's own ids for the item and account (what the platform acts on)."""
    item_ids = {a.item_id for a in actions}
    rows = session.execute(
        select(Item.id, Item.platform_item_id, Account.platform_account_id)
        .join(Account, Account.id == Item.account_id)
        .where(Item.id.in_(item_ids))
    ).all()
    ids = {row.id: (row.platform_item_id, row.platform_account_id) for row in rows}
    now = utcnow()
    return [action_out(a, *ids[a.item_id], overdue_after_s=overdue_after_s, now=now) for a in actions]


def item_out(session: Session, item: Item, *, overdue_after_s: float = DEFAULT_OVERDUE_S) -> ItemOut:
    matches: dict[int, list[MatchOut]] = defaultdict(list)
    for m in session.scalars(select(ItemMatch).where(ItemMatch.item_id == item.id).order_by(ItemMatch.id)):
        matches[m.media_id].append(
            MatchOut(
                bank=m.bank_name,
                category=m.bank_category,
                entry_id=m.entry_id,
                signal_type=m.signal_type,
                distance=m.distance,
                rotation=m.rotation,
                suppressed=m.suppressed,
            )
        )
    media = [
        MediaOut(
            position=m.position,
            state=m.state,
            error=m.error,
            size=m.size,
            format=m.media_format,
            md5=m.md5,
            sha256=m.sha256,
            pdq=m.pdq,
            pdq_quality=m.pdq_quality,
            matches=matches.get(m.id, []),
        )
        for m in item.media
    ]
    hits = [
        RuleHitOut(
            pack=h.pack,
            version=h.pack_version,
            rule_id=h.rule_id,
            category=h.category,
            field=h.field,
            start=h.start,
            end=h.end,
            matched=h.matched,
        )
        for h in session.scalars(
            select(ItemRuleHit).where(ItemRuleHit.item_id == item.id).order_by(ItemRuleHit.id)
        )
    ]
    entities = [
        {"kind": kind, "value": value, "field": field}
        for kind, value, field in session.execute(
            select(Entity.kind, Entity.value, ItemEntity.field)
            .join(ItemEntity, ItemEntity.entity_id == Entity.id)
            .where(ItemEntity.item_id == item.id)
            .order_by(ItemEntity.id)
        )
    ]
    decisions = list(
        session.scalars(select(Decision).where(Decision.item_id == item.id).order_by(Decision.id))
    )
    actions = [a for d in decisions for a in d.actions]
    return ItemOut(
        id=item.id,
        platform_item_id=item.platform_item_id,
        state=item.state,
        error=item.error,
        received_at=item.received_at,
        media=media,
        rule_hits=hits,
        entities=entities,
        decisions=[
            DecisionOut(
                verdict=d.verdict,
                category=d.category,
                automated=d.automated,
                decided_by=d.decided_by_ref or d.decided_by,
                reason=d.reason,
                priority=d.priority,
                created_at=d.created_at,
            )
            for d in decisions
        ],
        actions=[
            action_out(
                a, item.platform_item_id, item.account.platform_account_id, overdue_after_s=overdue_after_s
            )
            for a in actions
        ],
    )
