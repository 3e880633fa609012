"""Known decision, action and report records for the statistics pages' tests (functional, browser and
screenshots), written straight to the tables the statistics count. Benign: posts and accounts are
made up, and nothing holds media.

``seed_quarter``: the first quarter of 2021, with every measure known (tests check them cell by cell):

- 2021-01-10 12:00, post A, matched in a csam bank: decided automatically 10 s after receipt, removed
  and its account suspended at once, reported to the CyberTipline 2 h later (one file).
- 2021-01-20 09:00, post B, a text rule hit: queued for review automatically 5 s after receipt, found
  a violation by a reviewer 1 h after receipt, removed a minute later.
- February: nothing at all.
- 2021-03-05 08:00, post C: decided clean automatically 5 s after receipt.

``seed_history``: a year of made-up activity (for the screenshots), different every month.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from suraksha.banks import services as banks
from suraksha.banks.models import BankCategory
from suraksha.content.models import Account, Item, ItemMatch, ItemMedia, ItemRuleHit
from suraksha.db import Database
from suraksha.enforcement.models import Action, Decision
from suraksha.reporting.models import CyberTiplineReport, CyberTiplineReportFile, ReportState
from suraksha.signals.types import SignalKind

A_AT = datetime(2021, 1, 10, 12, 0, tzinfo=UTC)
B_AT = datetime(2021, 1, 20, 9, 0, tzinfo=UTC)
C_AT = datetime(2021, 3, 5, 8, 0, tzinfo=UTC)


class Writer:
    """Records for one made-up account."""

    def __init__(self, session: Session, tag: str) -> None:
        self.session = session
        self.tag = tag
        self.account = Account(platform_account_id=f"acct-{tag}", handle=f"@{tag}")
        session.add(self.account)
        session.flush()
        self.count = 0

    def item(self, received: datetime) -> Item:
        self.count += 1
        item = Item(
            platform_item_id=f"post-{self.tag}-{self.count}",
            payload_digest="0" * 64,
            kind="post",
            account_id=self.account.id,
            received_at=received,
        )
        self.session.add(item)
        self.session.flush()
        return item

    def matched(self, item: Item, bank: str, category: str) -> ItemMedia:
        media = ItemMedia(item_id=item.id, position=0, sha256=f"{item.id:064x}", md5="0" * 32)
        self.session.add(media)
        self.session.flush()
        self.session.add(
            ItemMatch(
                item_id=item.id,
                media_id=media.id,
                bank_name=bank,
                bank_category=category,
                entry_id=1,
                signal_type="md5",
            )
        )
        return media

    def rule_hit(self, item: Item) -> None:
        self.session.add(
            ItemRuleHit(
                item_id=item.id,
                field="text",
                start=0,
                end=4,
                matched="sale",
                pack="default",
                pack_version="1",
                rule_id="sale",
                category="solicitation",
            )
        )

    def decide(
        self, item: Item, verdict: str, at: datetime, *, automated: bool, by: str = "policy"
    ) -> Decision:
        decision = Decision(
            item_id=item.id, verdict=verdict, automated=automated, decided_by=by, created_at=at
        )
        self.session.add(decision)
        self.session.flush()
        return decision

    def act(self, decision: Decision, kind: str, at: datetime, target: str = "item") -> None:
        self.session.add(
            Action(
                decision_id=decision.id,
                item_id=decision.item_id,
                account_id=self.account.id,
                kind=kind,
                target=target,
                automated=decision.automated,
                created_at=at,
            )
        )

    def report(self, decision: Decision, media: ItemMedia, finished: datetime, number: int) -> None:
        report = CyberTiplineReport(
            account_id=self.account.id,
            state=ReportState.FINISHED,
            ncmec_report_id=number,
            finished_at=finished,
        )
        self.session.add(report)
        self.session.flush()
        self.session.add(
            CyberTiplineReportFile(
                report_id=report.id,
                item_id=decision.item_id,
                media_id=media.id,
                decision_id=decision.id,
                sha256=media.sha256 or "",
            )
        )


def seed_quarter(db: Database, tag: str = "q1") -> None:
    """The first quarter of 2021 (the module docstring)."""
    with db.session() as session:
        bank = banks.create_bank(session, f"known-{tag}", category=BankCategory.CSAM)
        banks.add_entry(session, bank, SignalKind.MD5, "0" * 32)
        w = Writer(session, tag)
        a = w.item(A_AT)
        media = w.matched(a, f"known-{tag}", "csam")
        decided = w.decide(a, "violation", A_AT + timedelta(seconds=10), automated=True)
        w.act(decided, "remove", A_AT + timedelta(seconds=10))
        w.act(decided, "suspend", A_AT + timedelta(seconds=10), target="account")
        w.report(decided, media, A_AT + timedelta(hours=2, seconds=10), 4242)
        b = w.item(B_AT)
        w.rule_hit(b)
        w.decide(b, "review", B_AT + timedelta(seconds=5), automated=True)
        found = w.decide(b, "violation", B_AT + timedelta(hours=1), automated=False, by="reviewer")
        w.act(found, "remove", B_AT + timedelta(hours=1, minutes=1))
        c = w.item(C_AT)
        w.decide(c, "clean", C_AT + timedelta(seconds=5), automated=True)


def seed_history(db: Database, first_month: datetime, months: int = 12, tag: str = "history") -> None:
    """``months`` of made-up activity from ``first_month``: each month some posts matched in a list
    (removed at once, most reported within hours), some flagged by a rule (a reviewer decides within
    hours), and many clean ones; the share decided by people and the times vary month to month."""
    rng = random.Random(15)
    with db.session() as session:
        bank = banks.create_bank(session, f"known-{tag}", category=BankCategory.CSAM)
        banks.add_entry(session, bank, SignalKind.MD5, "0" * 32)
        w = Writer(session, tag)
        number = 9000
        for m in range(months):
            month = first_month.month - 1 + m
            start = first_month.replace(year=first_month.year + month // 12, month=month % 12 + 1, day=1)
            for _ in range(rng.randint(4, 14)):  # matched in a list
                at = start + timedelta(days=rng.randint(0, 26), hours=rng.randint(0, 23))
                item = w.item(at)
                media = w.matched(item, f"known-{tag}", "csam")
                decided = w.decide(
                    item, "violation", at + timedelta(seconds=rng.randint(2, 40)), automated=True
                )
                w.act(decided, "remove", decided.created_at + timedelta(seconds=rng.randint(0, 20)))
                if rng.random() < 0.8:
                    number += 1
                    w.report(decided, media, decided.created_at + timedelta(hours=rng.uniform(1, 30)), number)
            for _ in range(rng.randint(2, 9)):  # a rule hit, decided by a reviewer
                at = start + timedelta(days=rng.randint(0, 26), hours=rng.randint(0, 23))
                item = w.item(at)
                w.rule_hit(item)
                w.decide(item, "review", at + timedelta(seconds=3), automated=True)
                decided_at = at + timedelta(hours=rng.uniform(0.5, 10 + m))
                found = w.decide(item, "violation", decided_at, automated=False, by="reviewer")
                w.act(found, "remove", decided_at + timedelta(minutes=rng.randint(1, 90)))
                if rng.random() < 0.5:
                    w.act(found, "suspend", decided_at + timedelta(minutes=5), target="account")
            for _ in range(rng.randint(10, 30)):  # clean
                at = start + timedelta(days=rng.randint(0, 26), hours=rng.randint(0, 23))
                w.decide(w.item(at), "clean", at + timedelta(seconds=2), automated=True)
