"""Review over real parts: a real database (SQLite, and PostgreSQL when configured), items decided by
the real policy and ``record_decision`` (which opens the cases), console users with roles.

``ReviewWorld.item`` seeds an account, an item with benign media rows and a bank entry, and records
the policy's decision for the given findings."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from suraksha.access.models import ConsoleUser
from suraksha.app import DECISION_FOLLOW_UPS
from suraksha.banks import services as banks
from suraksha.banks.models import BankCategory
from suraksha.content.models import Account, Item, ItemKind, ItemMatch, ItemMedia, ItemState, MediaState
from suraksha.db import Database
from suraksha.enforcement import services as enforcement
from suraksha.enforcement.policy import BUILTIN, BankFinding, Findings, RuleFinding, decide
from suraksha.errors import NotFound
from suraksha.review.services import ReviewOptions
from suraksha.signals.types import SignalKind

COUNTER = itertools.count(1)


@dataclass
class Seeded:
    item_id: int
    media_ids: list[int]
    decision_id: int
    entry_id: int | None = None


@dataclass
class ReviewWorld:
    db: Database
    users: dict[str, ConsoleUser] = field(default_factory=dict)

    def user(self, name: str, *roles: str) -> ConsoleUser:
        with self.db.session() as session:
            user = ConsoleUser(
                email=f"{name}@example.org",
                pseudonym=f"r-{name[:14]}",
                roles=" ".join(roles),
                password_hash="not-a-password-hash (these tests never sign in)",
                failed_logins=0,
            )
            session.add(user)
        self.users[name] = user
        return user

    def item(
        self,
        *,
        bank_category: str | None = None,
        rule_category: str | None = None,
        reporter_kind: str | None = None,
        received_at: datetime | None = None,
    ) -> Seeded:
        n = next(COUNTER)
        data = f"benign review test picture {n}".encode()
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
        with self.db.session() as session:
            account = Account(platform_account_id=f"acct-{n}", handle=f"user{n}")
            session.add(account)
            session.flush()
            item = Item(
                platform_item_id=f"item-{n}",
                payload_digest="0" * 64,
                kind=ItemKind.POST,
                account_id=account.id,
                text="benign words",
                state=ItemState.QUEUED,
                reporter_kind=reporter_kind,
                received_at=received_at or datetime.now(UTC),
            )
            session.add(item)
            session.flush()
            media = ItemMedia(
                item_id=item.id,
                position=0,
                state=MediaState.HASHED,
                size=len(data),
                media_format="JPEG",
                md5=md5,
                sha256=hashlib.sha256(data).hexdigest(),
            )
            session.add(media)
            session.flush()
            findings = Findings(reporter_kind=reporter_kind)
            entry_id = None
            if bank_category is not None:
                name = f"bank-{bank_category}"
                try:
                    bank = banks.get_bank(session, name)
                except NotFound:
                    bank = banks.create_bank(session, name, category=BankCategory(bank_category))
                entry, _ = banks.add_entry(session, bank, SignalKind.MD5, md5)
                entry_id = entry.id
                session.add(
                    ItemMatch(
                        item_id=item.id,
                        media_id=media.id,
                        bank_name=name,
                        bank_category=bank_category,
                        entry_id=entry.id,
                        signal_type="md5",
                        distance=0,
                    )
                )
                findings = Findings(banks=[BankFinding(name, bank_category, entry.id, "md5", 0)])
            elif rule_category is not None:
                findings = Findings(rules=[RuleFinding("default", "1", "r1", rule_category, 55)])
            plan = decide(BUILTIN, findings)
            assert enforcement.claim_for_decision(session, item.id)
            decision = enforcement.record_decision(session, item, plan, follow_ups=DECISION_FOLLOW_UPS)
            return Seeded(item.id, [media.id], decision.id, entry_id)


@pytest.fixture
def world(db: Database) -> ReviewWorld:
    return ReviewWorld(db)


@pytest.fixture
def options() -> ReviewOptions:
    return ReviewOptions(claim_minutes=15, exposure_budget={"csam": 3, "*": 5})
