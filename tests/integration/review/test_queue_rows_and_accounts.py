"""What the console's queue rows, case page and account page read from review: each case's account,
text snippet and due time; rule hits grouped per rule; an account's cases, decisions and links."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from suraksha.content.entities import AccountEntity, Entity
from suraksha.content.models import Item, ItemRuleHit
from suraksha.errors import NotFound
from suraksha.review.context import account_context, group_rule_hits, queue_entries, snippet
from suraksha.review.models import ReviewCase
from suraksha.review.services import ReviewOptions

from .conftest import ReviewWorld


def test_queue_entries_name_the_account_and_the_due_time(world: ReviewWorld) -> None:
    seeded = world.item(rule_category="sale")
    options = ReviewOptions(sla_hours={"sale": 4, "*": 24})
    with world.db.session() as s:
        item = s.get(Item, seeded.item_id)
        assert item is not None
        item.text = "  a long\n\ntext " + "word " * 40
        case = s.scalars(select(ReviewCase).where(ReviewCase.item_id == seeded.item_id)).one()
        handle, platform_id = item.account.handle, item.account.platform_account_id
    with world.db.reading() as s:
        case = s.get(ReviewCase, case.id)
        assert case is not None
        [entry] = queue_entries(s, [case], options)
    assert (entry.handle, entry.platform_account_id) == (handle, platform_id)
    assert entry.snippet.startswith("a long text word") and entry.snippet.endswith("…")
    assert entry.due_at == case.detected_at + timedelta(hours=4)
    assert ReviewOptions().due_at("x", case.detected_at) == case.detected_at + timedelta(hours=24)
    assert snippet("short") == "short" and snippet(None) == ""


def test_rule_hits_are_grouped_per_rule(world: ReviewWorld) -> None:
    seeded = world.item(rule_category="sale")
    with world.db.session() as s:
        for field_name, pack, matched in (
            ("text", "default", "UPI a@b"),
            ("bio", "default", "UPI a@b"),
            ("text", "extra", "UPI a@b"),
            ("text", "default", "DM for price"),
        ):
            rule = "price" if matched.startswith("DM") else "upi"
            s.add(
                ItemRuleHit(
                    item_id=seeded.item_id,
                    pack=pack,
                    pack_version="1",
                    rule_id=rule,
                    category="sale",
                    field=field_name,
                    start=0,
                    end=len(matched),
                    matched=matched,
                )
            )
    with world.db.reading() as s:
        hits = list(s.scalars(select(ItemRuleHit).where(ItemRuleHit.item_id == seeded.item_id)))
    groups = group_rule_hits(hits)
    assert [(g.rule_id, g.fields, g.packs, g.matched, g.hits) for g in groups] == [
        ("upi", ("text", "bio"), ("default 1", "extra 1"), ("UPI a@b",), 3),
        ("price", ("text",), ("default 1",), ("DM for price",), 1),
    ]


def test_account_context_lists_cases_decisions_and_linked_accounts(world: ReviewWorld) -> None:
    first = world.item(bank_category="csam")
    second = world.item(rule_category="sale")
    with world.db.session() as s:
        item1, item2 = s.get(Item, first.item_id), s.get(Item, second.item_id)
        assert item1 is not None and item2 is not None
        entity = Entity(kind="upi", value="shared@bank")
        s.add(entity)
        s.flush()
        s.add_all(
            [AccountEntity(account_id=a, entity_id=entity.id) for a in (item1.account_id, item2.account_id)]
        )
        account1, account2 = item1.account_id, item2.account_id
        platform2 = item2.account.platform_account_id
    with world.db.reading() as s:
        found = account_context(s, account1)
        assert [i.id for i in found.items] == [first.item_id]
        assert [c.item_id for c in found.cases] == [first.item_id]
        assert [d.id for d in found.decisions] == [first.decision_id]
        assert [(a.account_id, a.via, a.platform_account_id) for a in found.linked_accounts] == [
            (account2, "entity:upi", platform2)
        ]
        with pytest.raises(NotFound, match="account 999999"):
            account_context(s, 999_999)
